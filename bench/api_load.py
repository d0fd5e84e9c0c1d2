"""Driver of bench/api_load.sh: prepares the store, runs `tidings serve`, runs wrk."""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tidings.app import default_tariff
from tidings.config import Settings
from tidings.domain.accounts import hash_password
from tidings.store import migrate
from tidings.store.db import open_database
from tidings.store.repository import Store

TIDINGS = str(Path(sys.executable).with_name("tidings"))
PG = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS = "redis://127.0.0.1:6379"
# Every request a different number and id — across wrk's threads and runs too, each numbering
# its own range — so none is refused as a duplicate (error 9); the requests spread over 4 logins
# (one login may have 14 requests in flight). Every answer is counted: OK or an error.
COUNT_ANSWERS_LUA = """
local threads = {}
local next_id = 0
function setup(thread)
  next_id = next_id + 1
  thread:set("tid", next_id)
  table.insert(threads, thread)
end
function init(args) ok = 0; bad = 0; first_error = "" end
function response(status, headers, body)
  if string.find(body, "ERROR", 1, true) or string.find(body, '"error"', 1, true) then
    bad = bad + 1
    if first_error == "" then first_error = body end
  else ok = ok + 1 end
end
function done(summary, latency, requests)
  local o, b, e = 0, 0, ""
  for _, t in ipairs(threads) do
    o = o + t:get("ok"); b = b + t:get("bad")
    if e == "" then e = t:get("first_error") end
  end
  io.write(string.format("answers: %d ok, %d errors\\n", o, b))
  if e ~= "" then io.write("first error: " .. e .. "\\n") end
end
"""
SEND_LUA = (
    COUNT_ANSWERS_LUA
    + """
counter = 0
request = function()
  counter = counter + 1
  -- RUN_BASE: each wrk run against one server numbers its requests apart from the last.
  local n = tonumber(os.getenv("RUN_BASE") or "0") + tid * 10000000 + counter
  local path = string.format(
    "/sys/send.php?login=load%d&psw=load&phones=7916%07d&mes=Load+test&id=%d",
    n % 4, n % 10000000, n)
  return wrk.format("GET", path)
end
"""
)
STATUS_LUA = (
    COUNT_ANSWERS_LUA
    + """
math.randomseed(42)
request = function()
  local n = math.random(1, {count})
  return wrk.format("GET", string.format(
    "/sys/status.php?login=load&psw=load&fmt=3&id=%d&phone=7916%07d", n, n % 10000000))
end
"""
)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(url: str, messages: int) -> None:
    migrate.upgrade(url)
    store = Store(open_database(url), default_tariff(Settings()))
    now = datetime.now(UTC)
    acc = store.create_account("load", hash_password("load"), now, test_mode=True)
    for n in range(4):
        store.create_account(f"load{n}", hash_password("load"), now, test_mode=True)
    if messages:
        ts = int(now.timestamp())
        rows = (
            (acc.id, f"7916{n % 10_000_000:07d}", "Load", 1, ts, str(n), ts)
            for n in range(1, messages + 1)
        )
        with store.db.tx() as tx:
            tx.insert_rows(
                "messages",
                ("account_id", "address", "text", "status", "due_at", "client_id", "created_at"),
                rows,
            )
            if tx.dialect == "postgresql":
                tx.execute("ANALYZE messages")
    store.close()


_runs = 0


def _wrk(port: int, script: str, connections: int, seconds: int = 10) -> str:
    global _runs
    _runs += 1
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            f.name,
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "RUN_BASE": str(_runs * 100_000_000)},
    ).stdout
    # wrk counts answers that are not HTTP 2xx; every API answer is 200, errors included,
    # so the script's done() below reports how many bodies were errors.
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"50%\s+([\d.]+\w+)", out)
    p99 = re.search(r"99%\s+([\d.]+\w+)", out)
    answers = re.search(r"answers: (\d+) ok, (\d+) errors", out)
    first_error = re.search(r"first error: (.*)", out)
    counted = (
        f" — {int(answers.group(1)) / seconds:,.0f} ok/s ({answers.group(2)} errors"
        + (f", first: {first_error.group(1)[:60]}" if first_error else "")
        + ")"
        if answers
        else ""
    )
    return (
        f"{float(rps.group(1)) if rps else 0:,.0f} req/s{counted}, p50 "
        f"{p50.group(1) if p50 else '?'}, p99 {p99.group(1) if p99 else '?'}"
    )


def _serve(
    url: str,
    script: str,
    label: str,
    connections: int | Sequence[int] = 32,
    workers: int = 0,
    dispatcher: bool = True,
    api_only: bool = False,
) -> None:
    """`tidings serve` (workers=0: API and dispatcher in one process), or `tidings api
    --workers N` beside a `tidings dispatcher` process with the guards in Redis."""
    port = _port()
    db = 9  # a Redis database of the bench's own
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "t.toml"
        config.write_text(
            'log_level = "warning"\n'
            + (f'[guards]\nredis_url = "{REDIS}/{db}"\n' if workers else ""),
            encoding="utf-8",
        )
        if workers:
            import redis

            redis.Redis.from_url(REDIS + f"/{db}").flushdb()  # no hits left from an earlier run
        common = ["--db", url, "--config", str(config)]
        commands = [[TIDINGS, "serve", *common, "--port", str(port)]]
        if api_only and not workers:
            commands = [[TIDINGS, "api", *common, "--port", str(port)]]
        elif workers:
            commands = [
                [TIDINGS, "api", *common, "--port", str(port), "--workers", str(workers)],
                [TIDINGS, "dispatcher", *common],
            ][: 2 if dispatcher else 1]
        # The servers' log (warnings and errors only): an answer counted as an error above
        # says what failed here, e.g. a PostgreSQL deadlock behind "internal error".
        server_log = open(Path(tmp) / "server.log", "w+", encoding="utf-8")  # noqa: SIM115
        procs = [subprocess.Popen(c, stdout=server_log, stderr=server_log) for c in commands]
        try:
            for _ in range(900):
                try:
                    httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            httpx.get(f"http://127.0.0.1:{port}/sys/balance.php?login=load&psw=load")
            for conns in [connections] if isinstance(connections, int) else connections:
                print(f"{label} ({conns} connections): {_wrk(port, script, conns)}", flush=True)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(30)
            server_log.seek(0)
            _report_server_errors(server_log.read())
            server_log.close()


def _report_server_errors(log: str) -> None:
    """How many errors the servers logged, and the last line of the first one's reason."""
    errors = [line for line in log.splitlines() if '"level": "error"' in line]
    if not errors:
        return
    first = json.loads(errors[0]) if errors[0].startswith("{") else {"event": errors[0]}
    text = str(first.get("exception", first.get("event", ""))).strip().splitlines()
    # The exception's own line ("psycopg.errors.DeadlockDetected: …"), not its DETAIL or CONTEXT.
    raised = [line for line in text if re.match(r"[A-Za-z_][\w.]*: ", line)]
    raised = [line for line in raised if not line.startswith(("DETAIL:", "HINT:", "CONTEXT:"))]
    reason = raised[-1] if raised else text[-1]
    print(f"  the servers logged {len(errors)} errors; the first: {reason[:160]}", flush=True)


def _pg_database() -> str:
    name = f"tidings_load_{secrets.token_hex(4)}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG.rsplit("/", 1)[0] + "/" + name


def _drop(url: str) -> None:
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--messages", type=int, default=10_000_000, help="for status.php; 0 = skip that part"
    )
    args = parser.parse_args()
    sqlite_runs: list[tuple[str, tuple[int, ...], dict[str, Any]]] = [
        ("send.php, SQLite, tidings serve              ", (16, 32), {}),
        ("send.php, SQLite, api --workers 2 + dispatcher", (16, 32), {"workers": 2}),
        # The intake alone: messages queue for a dispatcher started later (or elsewhere).
        ("send.php, SQLite, api alone", (8, 16, 32), {"api_only": True}),
        (
            "send.php, SQLite, api --workers 2 alone",
            (16, 32),
            {"workers": 2, "dispatcher": False},
        ),
    ]
    for label, connections, options in sqlite_runs:
        with tempfile.TemporaryDirectory() as tmp:  # a store of its own for each
            url = f"sqlite:///{Path(tmp) / 'load.db'}"
            _prepare(url, 0)
            _serve(url, SEND_LUA, label, connections, **options)
    url = _pg_database()
    try:
        _prepare(url, 0)
        _serve(url, SEND_LUA, "send.php, PostgreSQL, tidings serve              ")
        _serve(url, SEND_LUA, "send.php, PostgreSQL, api --workers 2 + dispatcher", workers=2)
    finally:
        _drop(url)
    if not args.messages:
        return
    url = _pg_database()
    try:
        started = time.perf_counter()
        _prepare(url, args.messages)
        print(
            f"{args.messages:,} messages loaded into PostgreSQL in "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
        _serve(
            url,
            STATUS_LUA.replace("{count}", str(args.messages)),
            f"status.php over {args.messages:,} messages, PostgreSQL",
            connections=4,
        )
    finally:
        _drop(url)


if __name__ == "__main__":
    main()
