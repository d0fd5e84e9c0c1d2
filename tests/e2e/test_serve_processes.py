"""`tidings serve` on two cores: the HTTP API in the process started, its dispatcher in a child
that never outlives it, and one that stops the server when it ends on its own."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

TIDINGS = Path(sys.executable).with_name("tidings")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_answering(proc: subprocess.Popen[str], port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).text == "ok":
                return
        except httpx.TransportError:
            time.sleep(0.1)
        assert proc.poll() is None, "tidings serve exited"
    raise AssertionError("tidings serve did not answer")


def _dispatchers_of(proc: subprocess.Popen[str]) -> list[int]:
    """The pids of the `tidings dispatcher` processes serve started."""
    listed = subprocess.run(
        ["ps", "-o", "pid=,args=", "--ppid", str(proc.pid)], capture_output=True, text=True
    ).stdout
    return [int(line.split()[0]) for line in listed.splitlines() if " dispatcher " in line]


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's exit is reaped by init, whenever init does)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _gone(pids: list[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        alive = [pid for pid in pids if _running(pid)]
        if not alive:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


@contextmanager
def _serving(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], int, str]]:
    port = _free_port()
    db = f"sqlite:///{tmp_path / 'tidings.db'}"
    proc = subprocess.Popen(
        [str(TIDINGS), "serve", "--db", db, "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "300", **(env or {})},
    )
    try:
        _wait_answering(proc, port)
        yield proc, port, db
    except BaseException as error:
        if proc.poll() is None:
            proc.kill()
        error.add_note(f"tidings serve printed:\n{proc.communicate(timeout=30)[0]}")
        raise
    if proc.poll() is None:
        proc.kill()
    proc.communicate(timeout=30)


def _demo_password(tmp_path: Path, db: str) -> str:
    """A fresh password for the demo account `serve` created (its printed one is in a pipe)."""
    out = subprocess.run(
        [str(TIDINGS), "accounts", "password", "demo", "--password", "password-1", "--db", db],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return "password-1"


def test_serve_sends_through_a_dispatcher_child_and_stops_it_on_sigterm(tmp_path: Path) -> None:
    with _serving(tmp_path) as (proc, port, db):
        children = _dispatchers_of(proc)
        assert len(children) == 1, "serve runs its dispatcher in a process of its own"
        psw = _demo_password(tmp_path, db)
        url = f"http://127.0.0.1:{port}"
        sent = httpx.get(
            f"{url}/sys/send.php",
            params={"login": "demo", "psw": psw, "phones": "79161234567", "mes": "hi", "fmt": 3},
        ).json()
        assert sent["cnt"] == 1
        deadline = time.monotonic() + 20
        while True:  # the demo account is in test mode: the virtual upstream delivers it
            status = httpx.get(
                f"{url}/sys/status.php",
                params={
                    "login": "demo",
                    "psw": psw,
                    "phone": "79161234567",
                    "id": sent["id"],
                    "fmt": 3,
                },
            ).json()
            if status["status"] == 1:
                break
            assert time.monotonic() < deadline, status
            time.sleep(0.2)
        # The child's counters reach the server's /metrics.
        metrics = httpx.get(f"{url}/metrics").text
        assert re.search(r'^tidings_submits_total\{result="accepted".*\} 1\.0$', metrics, re.M)

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal it caught
        assert _gone(children, 10), "the dispatcher outlived serve"


def test_a_killed_serve_takes_its_dispatcher_with_it(tmp_path: Path) -> None:
    with _serving(tmp_path) as (proc, _port, _db):
        children = _dispatchers_of(proc)
        assert children
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert _gone(children, 2), "a dispatcher left behind would meet the next serve's"


# A start as slow as on a busy machine: running the CLI's module takes two seconds more (in
# its loader, not its finder: finders run under the interpreter's global import lock).
SLOW_CLI_IMPORT = """
import importlib.util, sys, time


class SlowCli:
    def find_spec(self, name, path=None, target=None):
        if name != "tidings.cli.main":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        run = spec.loader.exec_module

        def slowly(module):
            time.sleep(2)
            run(module)

        spec.loader.exec_module = slowly
        return spec


sys.meta_path.insert(0, SlowCli())
"""


def test_serve_killed_while_its_dispatcher_starts_takes_it_along_at_once(tmp_path: Path) -> None:
    """The child is tied to serve before the CLI's imports: serve killed the moment the
    child exists leaves nothing running. Tied only after them, the child outlived serve by
    as long as they took (0.6 s idle, seconds on a busy machine; two more here)."""
    (tmp_path / "sitecustomize.py").write_text(SLOW_CLI_IMPORT, encoding="utf-8")
    path = os.pathsep.join(p for p in (str(tmp_path), os.environ.get("PYTHONPATH")) if p)
    port = str(_free_port())
    proc = subprocess.Popen(
        [str(TIDINGS), "serve", "--db", f"sqlite:///{tmp_path / 't.db'}", "--port", port],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": path},
    )
    try:
        deadline = time.monotonic() + 60
        while not (children := _dispatchers_of(proc)):
            assert proc.poll() is None and time.monotonic() < deadline, "no dispatcher child"
            time.sleep(0.01)
    finally:
        proc.kill()
        proc.wait(10)
    assert _gone(children, 1.0), "the dispatcher outlived serve"


def test_serve_stops_when_its_dispatcher_ends_on_its_own(tmp_path: Path) -> None:
    with _serving(tmp_path) as (proc, _port, _db):
        [child] = _dispatchers_of(proc)
        os.kill(child, signal.SIGKILL)
        code = proc.wait(30)
        out = proc.stdout.read() if proc.stdout else ""
    assert code != 0
    assert "the dispatcher stopped, so serve stops too" in out


@pytest.mark.parametrize("how", ["flag", "setting"])
def test_one_process_when_asked(tmp_path: Path, how: str) -> None:
    args, env = (
        (["--processes", "1"], {}) if how == "flag" else ([], {"TIDINGS_SERVE_PROCESSES": "1"})
    )
    with _serving(tmp_path, *args, env=env) as (proc, _port, _db):
        assert _dispatchers_of(proc) == []
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal it caught
