"""Kannel (the Debian package) as an ESME whose SMSC is Tidings' SMPP server, `tidings serve`
as a real process with the SMPP door and an upstream, and a sink for Kannel's DLR URLs.
Used by tests/e2e/test_kannel_smpp_door.py and bench/smpp_door.py. Every process is started
in a session of its own and stopped by its id."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

TIDINGS = Path(sys.executable).with_name("tidings")
ROOT = Path(__file__).resolve().parents[2]
LOGIN, PASSWORD, SMPP_PASSWORD = "kannel", "kannel-pass-1", "kannel01"
DLR_MASK = 31  # delivered, failed, buffered, SMSC accepted, SMSC rejected

KANNEL_CONF = """\
group = core
admin-port = {admin_port}
admin-interface = 127.0.0.1
admin-password = testadmin
status-password = teststatus
admin-allow-ip = "127.0.0.1"
smsbox-port = {box_port}
smsbox-interface = 127.0.0.1
box-deny-ip = "*.*.*.*"
box-allow-ip = "127.0.0.1"
log-file = "{work}/bearerbox.log"
log-level = 1
store-type = spool
store-location = "{work}/spool"
dlr-storage = internal

group = smsc
smsc = smpp
smsc-id = {smsc_id}
host = 127.0.0.1
port = {smpp_port}
receive-port = 0
transceiver-mode = true
smsc-username = {login}
smsc-password = {password}
system-type = ""
source-addr-ton = 5
source-addr-npi = 0
dest-addr-ton = 1
dest-addr-npi = 1
enquire-link-interval = 30
max-pending-submits = {window}
msg-id-type = 0x00
reconnect-delay = 2

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {box_port}
sendsms-port = {sendsms_port}
sendsms-interface = 127.0.0.1
log-file = "{work}/smsbox.log"
log-level = 1

group = sendsms-user
username = test
password = testpw12
max-messages = 1
concatenation = true

group = sms-service
keyword = default
text = "No service"
catch-all = true
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"{proc.args} exited with {proc.returncode}") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on {port}") from None
            time.sleep(0.1)


class Process:
    """A child in a session of its own, its output in a file; stopped by its id."""

    def __init__(self, argv: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self._out = log.open("ab")
        self.proc: subprocess.Popen[bytes] = subprocess.Popen(
            argv, stdout=self._out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )

    def stop(self, grace: float = 20) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self._out.close()


class _Server(ThreadingHTTPServer):
    request_queue_size = 1024
    daemon_threads = True


class DlrSink:
    """Counts the DLR URL calls Kannel makes (`type` = Kannel's DLR type, `n` = our number)."""

    def __init__(self) -> None:
        self.types: Counter[int] = Counter()
        self.delivered: set[str] = set()
        self.first_at: float | None = None
        self.last_at: float | None = None
        self._lock = threading.Condition()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            # Kept alive: smsbox fetches many URLs at once, and a connection per fetch
            # overflowed the listen queue (connections reset, DLR fetches lost).
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                sink.got(int(query.get("type", ["0"])[0]), query.get("n", [""])[0])
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def got(self, kind: int, number: str) -> None:
        with self._lock:
            self.types[kind] += 1
            if kind == 1:
                self.delivered.add(number)
                self.first_at = self.first_at or time.monotonic()
                self.last_at = time.monotonic()
            self._lock.notify_all()

    def wait_delivered(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.delivered) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(min(left, 1))
        return True

    def url(self, number: int) -> str:
        return f"http://127.0.0.1:{self.port}/dlr?type=%d&n={number}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class Kannel:
    """bearerbox + smsbox bound to an SMSC at 127.0.0.1:`smpp_port` as a transceiver
    (Tidings' SMPP server by default; the simulator in the bench's Kannel-only scenario)."""

    def __init__(
        self,
        work: Path,
        smpp_port: int,
        *,
        window: int = 10,
        login: str = LOGIN,
        password: str = SMPP_PASSWORD,
        smsc_id: str = "TIDINGS",
    ) -> None:
        work.mkdir(parents=True, exist_ok=True)
        (work / "spool").mkdir(exist_ok=True)
        self.work = work
        self.admin_port, self.sendsms_port = free_port(), free_port()
        box_port = free_port()
        conf = KANNEL_CONF.format(
            admin_port=self.admin_port,
            box_port=box_port,
            sendsms_port=self.sendsms_port,
            work=work,
            smpp_port=smpp_port,
            login=login,
            password=password,
            window=window,
            smsc_id=smsc_id,
        )
        (work / "kannel.conf").write_text(conf)
        self.procs: list[Process] = []
        bearerbox = Process(["bearerbox", str(work / "kannel.conf")], work / "bearerbox.out")
        self.procs.append(bearerbox)
        wait_port(box_port, bearerbox.proc)
        smsbox = Process(["smsbox", str(work / "kannel.conf")], work / "smsbox.out")
        self.procs.append(smsbox)
        wait_port(self.sendsms_port, smsbox.proc)

    def wait_online(self, smsc_id: str = "TIDINGS", timeout: float = 60) -> None:
        url = f"http://127.0.0.1:{self.admin_port}/status.txt?password=teststatus"
        deadline = time.monotonic() + timeout
        status = ""
        while time.monotonic() < deadline:
            try:
                status = urllib.request.urlopen(url, timeout=5).read().decode()
            except OSError:
                status = ""
            if smsc_id in status and "(online" in status:
                return
            time.sleep(0.3)
        raise RuntimeError(f"Kannel's link to Tidings did not come online:\n{status}")

    def send(self, to: str, text: str, dlr_url: str) -> str:
        query = urllib.parse.urlencode(
            {
                "username": "test",
                "password": "testpw12",
                "from": "Kannel",
                "to": to,
                "text": text,
                "dlr-mask": DLR_MASK,
                "dlr-url": dlr_url,
            }
        )
        url = f"http://127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms?{query}"
        return urllib.request.urlopen(url, timeout=30).read().decode()

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()


class TidingsServe:
    """`tidings serve` with the SMPP door and one [[smpp]] upstream (the simulator), on a
    SQLite store (or `database_url`); a live account that binds with SMPP_PASSWORD."""

    def __init__(
        self, work: Path, sim_port: int, database_url: str = "", *, window: int = 100
    ) -> None:
        work.mkdir(parents=True, exist_ok=True)
        self.http_port, self.smpp_port = free_port(), free_port()
        (work / "tidings.toml").write_text(
            "[guards]\n"
            "error_streak_max = 1000000\n"
            "[smpp_server]\n"
            "enabled = true\n"
            f"port = {self.smpp_port}\n"
            f"window = {window}\n"
            "receipt_poll_s = 0.1\n"
            "[[smpp]]\n"
            'name = "sim"\n'
            'host = "127.0.0.1"\n'
            f"port = {sim_port}\n"
            'system_id = "tidings"\n'
            'password = "secret"\n'
        )
        db = database_url or f"sqlite:///{work / 'tidings.db'}"
        self.env = dict(os.environ, TIDINGS_CONFIG=str(work / "tidings.toml"))
        self.env["TIDINGS_DATABASE_URL"] = db
        self.env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH")) if p
        )
        for args in (
            ["db", "upgrade"],
            ["accounts", "create", LOGIN, "--password", PASSWORD, "--balance", "100000"],
            ["accounts", "smpp-password", LOGIN, "--password", SMPP_PASSWORD],
        ):
            subprocess.run([str(TIDINGS), *args], env=self.env, check=True, capture_output=True)
        self.proc = Process(
            [str(TIDINGS), "serve", "--port", str(self.http_port)], work / "serve.out", self.env
        )
        wait_port(self.http_port, self.proc.proc, 60)
        wait_port(self.smpp_port, self.proc.proc, 10)

    def stop(self) -> None:
        self.proc.stop()
