"""Benchmark: jobs.php `add` of one 100,000-phone list, and `get_all` over 10,000 lists.

Runs a real server (uvicorn, loopback) on SQLite and on PostgreSQL (if reachable) and prints
the figures. Targets (issue 2): add ≤ 3 s, get_all ≤ 0.5 s.

    .venv/bin/python bench/jobs_add.py [--pg postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import secrets
import socket
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
import uvicorn

from tidings.app import build_application, configure_logging
from tidings.config import Settings
from tidings.domain.accounts import hash_password
from tidings.domain.jobs import MessageFormat, NewJob
from tidings.store.repository import Store

PHONES = 100_000
LISTS = 10_000


def serve(database_url: str) -> tuple[uvicorn.Server, str, Store]:
    app = build_application(Settings(database_url=database_url))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app.http, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    return server, f"http://127.0.0.1:{port}", app.store


def bench(label: str, database_url: str) -> None:
    server, url, store = serve(database_url)
    now = datetime.now(UTC)
    store.create_account("bench", hash_password("bench"), now)
    auth = {"login": "bench", "psw": "bench"}
    phones = ",".join(f"7916{n:07d}" for n in range(PHONES))
    with httpx.Client(base_url=url, timeout=120) as client:
        client.post("/sys/jobs.php", data={**auth, "get_all": "1"})  # warm the credential cache
        add_times = []
        for run in range(3):
            data = {**auth, "add": "1", "name": f"big{run}", "mes": "Hello", "phones": phones}
            started = time.perf_counter()
            answer = client.post("/sys/jobs.php", data=data).text
            add_times.append(time.perf_counter() - started)
            assert answer.startswith("OK, ID"), answer
        other = store.create_account("lists", hash_password("lists"), now)
        job = NewJob(
            name="List",
            phones_text="79161234567",
            addresses=["79161234567"],
            texts=None,
            groups=[],
            message="Hello",
            fmt=MessageFormat.SMS,
            first_run=now,
            zone="Europe/Moscow",
        )
        for _ in range(LISTS):
            store.insert_job(other.id, job, now)
        list_auth = {"login": "lists", "psw": "lists", "get_all": "1", "fmt": "3"}
        client.get("/sys/jobs.php", params=list_auth)
        all_times = []
        for _ in range(5):
            started = time.perf_counter()
            body = client.get("/sys/jobs.php", params=list_auth).content
            all_times.append(time.perf_counter() - started)
        assert body.count(b'"id"') == LISTS
    server.should_exit = True
    store.close()
    print(
        f"{label:11} add {PHONES:,} phones: median {statistics.median(add_times):.2f} s "
        f"(best {min(add_times):.2f} s) | get_all over {LISTS:,} lists: median "
        f"{statistics.median(all_times) * 1000:.0f} ms ({len(body) / 1e6:.1f} MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    configure_logging("warning")
    with tempfile.TemporaryDirectory() as tmp:
        bench("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}")
    name = f"tidings_bench_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(args.pg, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL   skipped: {exc}")
        return
    try:
        bench("PostgreSQL", args.pg.rsplit("/", 1)[0] + "/" + name)
    finally:
        with psycopg.connect(args.pg, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
