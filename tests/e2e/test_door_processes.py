"""`tidings smpp-server` and `tidings smtp-server` as an operator runs them: real processes
on a SQLite store, a real client each (smpplib, smtplib), and SIGTERM ending them cleanly."""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import time
from pathlib import Path

import smpplib.client
import smpplib.consts

from tests.e2e.kannel_door import TIDINGS, free_port, wait_port


def _cli(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(TIDINGS), *args], env=env, check=True, capture_output=True)


def _start(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(TIDINGS), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def _stop(proc: subprocess.Popen[bytes]) -> str:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, out.decode()
    return out.decode()


def test_the_smpp_and_smtp_servers_run_alone_and_stop_on_sigterm(tmp_path: Path) -> None:
    env = {**os.environ, "TIDINGS_DATABASE_URL": f"sqlite:///{tmp_path / 'tidings.db'}"}
    env["TIDINGS_CONFIG"] = str(tmp_path / "none.toml")  # no settings file: the defaults
    (tmp_path / "none.toml").write_text("")
    _cli(env, "accounts", "create", "door", "--password", "door-pass-1", "--balance", "10")
    _cli(env, "accounts", "smpp-password", "door", "--password", "doorpw12")
    smpp_port, smtp_port = free_port(), free_port()
    smpp = _start(env, "smpp-server", "--port", str(smpp_port))
    smtp = _start(env, "smtp-server", "--port", str(smtp_port))
    try:
        wait_port(smpp_port, smpp, 30)  # type: ignore[arg-type]
        wait_port(smtp_port, smtp, 30)  # type: ignore[arg-type]
        client = smpplib.client.Client(
            "127.0.0.1", smpp_port, timeout=10, allow_unknown_opt_params=True
        )
        client.connect()
        client.bind_transmitter(system_id="door", password="doorpw12")
        with smtplib.SMTP("127.0.0.1", smtp_port, local_hostname="client.test") as mail:
            mail.ehlo()
            mail.mail("a@example.org")
            mail.rcpt("send@send.localhost")
            body = b"Subject: price\r\n\r\ndoor:door-pass-1:::0,0,,1:79161234567:How much?\r\n"
            code, reply = mail.data(body)
            assert (code, reply) == (250, b"1.80 (1 SMS)")
        started = time.monotonic()
        out = _stop(smpp)
        assert time.monotonic() - started < 10
        # The bound client was told: an unbind came before the connection closed.
        assert client.read_pdu().command == "unbind"
        client.state = smpplib.consts.SMPP_CLIENT_STATE_OPEN
        client.disconnect()
        assert f"SMPP server listening on smpp://127.0.0.1:{smpp_port}" in out
        assert f"SMTP server listening on smtp://127.0.0.1:{smtp_port}" in _stop(smtp)
    finally:
        for proc in (smpp, smtp):
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
