"""Start-up that explains itself: the real `tidings` command given bad settings says what and
where in a line or two (no traceback); a good start says where it listens; a second server
on a taken port fails on the port before its dispatcher touches the first one's work."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import drop_database, fresh_database_url, need_postgres

TIDINGS = Path(sys.executable).with_name("tidings")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TIDINGS_")}
    return subprocess.run(
        [str(TIDINGS), *args],
        cwd=cwd,
        env={**clean, "COLUMNS": "200", **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _refused(result: subprocess.CompletedProcess[str], *words: str) -> str:
    """Exit code 2, one or two lines on stderr holding every word, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    message = result.stderr.strip()
    assert "Traceback" not in result.stderr + result.stdout
    assert 1 <= len(message.splitlines()) <= 2, message
    for word in words:
        assert word in message, (word, message)
    return message


def test_a_bad_toml_line_names_the_file_and_the_line(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text('port = 8080\nhost = "0.0.0.0\n')
    _refused(_run("serve", "--config", "bad.toml", cwd=tmp_path), "bad.toml", "line 2")


def test_an_unknown_key_is_named(tmp_path: Path) -> None:
    (tmp_path / "t.toml").write_text("[guards]\nauth_failures_maxx = 3\n")
    _refused(
        _run("serve", "--config", "t.toml", cwd=tmp_path), "t.toml", "auth_failures_maxx", "unknown"
    )


def test_a_bad_environment_value_names_the_variable(tmp_path: Path) -> None:
    result = _run("serve", cwd=tmp_path, env={"TIDINGS_PORT": "abc"})
    _refused(result, "TIDINGS_PORT", "integer", "'abc'")


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("mysql://shop:hunter2@db.example/shop", "'mysql://db.example/shop' is not a database URL"),
        ("./tidings.db", "is not a database URL"),
        ("sqlite:///no/such/folder/t.db", "'no/such/folder' of 'sqlite:///no/such/folder/t.db'"),
    ],
)
def test_a_bad_database_url_says_what_would_be_accepted(
    tmp_path: Path, url: str, said: str
) -> None:
    message = _refused(_run("serve", "--db", url, cwd=tmp_path), "--db", said)
    if "postgresql://" not in url and "does not exist" not in message:
        assert "sqlite:///" in message and "postgresql://" in message
    assert "hunter2" not in message
    assert not list(tmp_path.iterdir()), "nothing was created"


def test_a_missing_settings_file_is_named(tmp_path: Path) -> None:
    _refused(_run("serve", "--config", "nowhere.toml", cwd=tmp_path), "nowhere.toml", "No such")


def test_doctor_with_a_wrong_postgresql_role_says_so_within_seconds(tmp_path: Path) -> None:
    need_postgres()
    started = time.monotonic()
    result = _run(
        "doctor", "--db", "postgresql://no_such_role@127.0.0.1:5432/postgres", cwd=tmp_path
    )
    assert time.monotonic() - started < 15
    assert result.returncode == 1
    assert 'role "no_such_role" does not exist' in " ".join(result.stdout.split())
    started = time.monotonic()
    serve = _run("serve", "--db", "postgresql://no_such_role@127.0.0.1:5432/postgres", cwd=tmp_path)
    assert time.monotonic() - started < 15
    _refused(serve, "no_such_role")


def test_version_and_a_commented_sample_that_reads_as_the_defaults(tmp_path: Path) -> None:
    version = _run("--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("tidings ")
    written = _run("config", "init", cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    sample = (tmp_path / "tidings.toml").read_text()
    assert "# port = 8080" in sample and "[[smpp]]" in sample
    again = _run("config", "init", cwd=tmp_path)
    assert again.returncode == 1 and "exists" in again.stdout
    assert (tmp_path / "tidings.toml").read_text() == sample
    doctor = _run("doctor", cwd=tmp_path)
    assert "config │ OK" in doctor.stdout


def test_the_settings_file_in_the_working_folder_is_read_by_default(tmp_path: Path) -> None:
    (tmp_path / "tidings.toml").write_text("[dispatch]\nlease_s = 'soon'\n")
    _refused(_run("serve", cwd=tmp_path), "tidings.toml", "dispatch.lease_s", "'soon'")


def _start_serve(
    cwd: Path, db: str, port: int, extra: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TIDINGS_")}
    return subprocess.Popen(
        [str(TIDINGS), "serve", "--db", db, "--port", str(port)],
        cwd=cwd,
        env={**clean, "COLUMNS": "300", **(extra or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_answering(proc: subprocess.Popen[str], port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).text == "ok":
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("tidings serve did not answer")


def test_serve_says_where_it_listens_and_a_second_one_fails_on_the_port_untouching(
    tmp_path: Path,
) -> None:
    """With a list in flight on a slow virtual upstream, a second `serve` in the same folder
    on the same port exits on the port and leaves the first one's messages alone."""
    port = _free_port()
    db = f"sqlite:///{tmp_path / 'tidings.db'}"
    slow = {"TIDINGS_VIRTUAL__DELAY_MS": "3000"}
    first = _start_serve(tmp_path, db, port, slow)
    try:
        _wait_answering(first, port)
        _run(
            "accounts",
            "create",
            "shop",
            "--password",
            "password-1",
            "--balance",
            "100",
            "--test-mode",
            "--db",
            db,
            cwd=tmp_path,
        )
        base = f"http://127.0.0.1:{port}/sys/jobs.php"
        auth = {"login": "shop", "psw": "password-1", "fmt": "3"}
        phones = ",".join(f"7916{n:07d}" for n in range(300))
        created = httpx.post(
            base, data={**auth, "add": "1", "name": "a", "phones": phones, "mes": "hi"}, timeout=30
        ).json()
        assert created.get("id") == 1, created

        second = _start_serve(tmp_path, db, port, slow)
        out, err = second.communicate(timeout=60)
        assert second.returncode == 2
        assert f"cannot listen on 127.0.0.1:{port}" in err and "Traceback" not in err
        assert "in flight at a crash" not in out + err

        deadline = time.monotonic() + 60
        while True:
            (job,) = httpx.get(base, params={**auth, "get": "1", "id": "1"}, timeout=10).json()
            if job["status"] == 1:
                break
            assert time.monotonic() < deadline, job
            time.sleep(0.5)
        assert job["sms_ok"] == 300, job
    finally:
        first.send_signal(signal.SIGINT)
        printed, _ = first.communicate(timeout=30)
    assert f"listening on http://127.0.0.1:{port}" in printed
    assert f"cabinet: http://127.0.0.1:{port}/" in printed


def test_two_postgresql_serves_on_one_port(tmp_path: Path) -> None:
    url = fresh_database_url("postgresql", tmp_path)
    try:
        port = _free_port()
        first = _start_serve(tmp_path, url, port)
        try:
            _wait_answering(first, port)
            second = _start_serve(tmp_path, url, port)
            _out, err = second.communicate(timeout=60)
            assert second.returncode == 2 and "cannot listen" in err
        finally:
            first.send_signal(signal.SIGINT)
            first.communicate(timeout=30)
    finally:
        drop_database(url)


def test_serve_warns_when_live_accounts_have_no_upstream(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'tidings.db'}"
    made = _run("accounts", "create", "shop", "--password", "password-1", "--db", db, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    port = _free_port()
    proc = _start_serve(tmp_path, db, port)
    try:
        _wait_answering(proc, port)
    finally:
        proc.send_signal(signal.SIGINT)
        printed, _ = proc.communicate(timeout=30)
    assert "warning: no [[smpp]] upstream is configured: live accounts' SMS wait" in " ".join(
        printed.split()
    )
