"""`tidings serve` as a user runs it: a real process, the printed demo curl, then get_all."""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

TIDINGS = Path(sys.executable).with_name("tidings")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _read_until_ready(proc: subprocess.Popen[str], port: int) -> str:
    """Collect what the server printed until it answers on its port."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).text == "ok":
                break
        except httpx.TransportError:
            time.sleep(0.1)
        assert proc.poll() is None, "tidings serve exited"
    else:
        raise AssertionError("tidings serve did not answer")
    proc.send_signal(signal.SIGINT)
    out, _err = proc.communicate(timeout=15)
    return out


def test_serve_prints_a_demo_curl_that_creates_a_listable_mailing_list(tmp_path: Path) -> None:
    port = _free_port()
    db = f"sqlite:///{tmp_path / 'tidings.db'}"
    env = {**os.environ, "COLUMNS": "300"}
    proc = subprocess.Popen(
        [str(TIDINGS), "serve", "--db", db, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    printed = _read_until_ready(proc, port)
    assert "login:    demo" in printed
    curls = re.findall(r"curl '([^']+)'", printed)
    assert len(curls) == 2 and "add=1" in curls[0] and "get_all=1" in curls[1]

    # Start it again on the same store (the demo account must not be created twice).
    proc = subprocess.Popen(
        [str(TIDINGS), "serve", "--db", db, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        created = subprocess.run(
            ["curl", "-s", curls[0]], capture_output=True, text=True, check=True
        ).stdout
        assert created == '{"id": 1}'
        listed = subprocess.run(
            shlex.split(f"curl -s '{curls[1]}'"), capture_output=True, text=True, check=True
        ).stdout
        assert '"id": 1, "name": "Hello"' in listed
        assert '"phones_cnt": 2' in listed
        # The demo account is in test mode: its list runs on the virtual upstream to the end.
        deadline = time.monotonic() + 20
        while '"status": 1,' not in listed:
            assert time.monotonic() < deadline, listed
            time.sleep(0.2)
            listed = httpx.get(curls[1], timeout=5).text
        assert '"sms_sent": 2, "sms_ok": 2' in listed
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=15)
    assert "Demo account created" not in out
    # …but it still says where it is and how to sign in.
    assert f"listening on http://127.0.0.1:{port}" in out
    assert "Demo account: login demo, the password printed at the first start" in out


def test_serve_says_in_russian_where_it_is_and_how_to_sign_in(tmp_path: Path) -> None:
    """LANG=ru_RU.UTF-8: the first start's demo account and the later start's reminder in
    Russian; the curl lines, a program's to copy, as they are."""
    port = _free_port()
    db = f"sqlite:///{tmp_path / 'tidings.db'}"
    locale = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
    env = {k: v for k, v in os.environ.items() if k not in locale}
    env |= {"LANG": "ru_RU.UTF-8", "PYTHONIOENCODING": "utf-8", "COLUMNS": "300"}
    command = [str(TIDINGS), "serve", "--db", db, "--port", str(port), "--processes", "1"]
    for start in ("first", "later"):
        proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
        )
        printed = _read_until_ready(proc, port)
        assert f"слушает http://127.0.0.1:{port}" in printed, printed
        assert f"кабинет: http://127.0.0.1:{port}/" in printed, printed
        if start == "first":
            assert "Создан демо-аккаунт (тестовый режим" in printed, printed
            assert "логин:  demo" in printed and "пароль: " in printed, printed
            assert "Создайте рассылку" in printed, printed
            assert len(re.findall(r"curl 'http://[^']+/sys/jobs\.php\?login=demo", printed)) == 2
        else:
            assert "Демо-аккаунт: логин demo, пароль был выведен при первом запуске" in printed
