"""Shared fixtures: real databases (SQLite file, PostgreSQL on 127.0.0.1:5432) and a real
HTTP server (uvicorn on a free loopback port) built by the production composition root."""

from __future__ import annotations

import os
import random
import secrets
import shutil
import socket
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg_pool.base as psycopg_pool_base
import pytest
import uvicorn

from tidings.api.server import server_config
from tidings.app import build_application, configure_logging
from tidings.config import Settings
from tidings.domain.accounts import Account, hash_password
from tidings.domain.clock import FakeClock
from tidings.domain.money import to_minor
from tidings.store.repository import Store

PG_ADMIN_URL = os.environ.get("TIDINGS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
# CI sets this so that a missing PostgreSQL fails the run instead of skipping.
REQUIRE_PG = os.environ.get("TIDINGS_REQUIRE_PG") == "1"
BACKENDS = ["sqlite", "postgresql"]
configure_logging("warning")
# The CLI's tables (rich) are as wide as COLUMNS says when its consoles are made, at import;
# pytest-xdist's workers start with the terminal's width. Tests read whole rows.
os.environ["COLUMNS"] = "200"
# The CLI speaks the language LANGUAGE/LC_ALL/LC_MESSAGES/LANG ask for (cli/i18n.py), its help
# texts chosen at import: the tests read its English on any machine, unless they set the
# variables themselves (tests/integration/test_cli_language.py).
os.environ["LANGUAGE"] = "en"
# psycopg_pool draws each new connection's lifetime jitter from the global `random`, in its
# worker threads. The session's servers (`server`, `live`) keep their pools working while
# later modules in the same process run, and Hypothesis takes any change of the global
# random state while it generates for a strategy drawing from it (its deprecation warning,
# an error here): tests/unit/test_sms.py failed so under pytest-xdist. A generator of the
# pool's own: the same jitter, the global state left to the tests.
psycopg_pool_base.random = random.Random().random


def _pg_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return None
    except Exception as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}"


_PG_PROBLEM = _pg_available()


def need_postgres() -> None:
    """Skip the test, saying why, when PostgreSQL is not answering (fail it under CI)."""
    if _PG_PROBLEM:
        if REQUIRE_PG:
            pytest.fail(_PG_PROBLEM)
        pytest.skip(_PG_PROBLEM)


def fresh_database_url(backend: str, tmp_dir: Path, *, migrated: bool = True) -> str:
    """A new database of the given kind, at the newest migration — a copy of one migrated
    once per test process: a migration run takes half a second, and the suite makes some
    five hundred databases — or, `migrated=False`, an empty one."""
    if backend == "sqlite":
        path = tmp_dir / f"tidings-{secrets.token_hex(4)}.db"
        if migrated:
            _copy_sqlite(_template("sqlite"), path)
        return f"sqlite:///{path}"
    need_postgres()
    import psycopg

    name = f"tidings_test_{os.getpid()}_{secrets.token_hex(4)}"
    template = f' TEMPLATE "{_template("postgresql")}"' if migrated else ""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{template}')
    return _pg_url(name)


def _pg_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


# backend → this process's migrated template: a SQLite file, or a PostgreSQL database name
# (its own per process: CREATE DATABASE … TEMPLATE needs the template to have no sessions).
_TEMPLATES: dict[str, str] = {}


def _template(backend: str) -> str:
    if backend not in _TEMPLATES:
        from tidings.store import migrate

        if backend == "sqlite":
            folder = Path(tempfile.mkdtemp(prefix="tidings-template-"))
            _TEMPLATES[backend] = str(folder / "template.db")
            migrate.upgrade(f"sqlite:///{_TEMPLATES[backend]}")
        else:
            empty = fresh_database_url(backend, Path(), migrated=False)
            migrate.upgrade(empty)  # its connections are not pooled: none is left open
            _TEMPLATES[backend] = empty.rsplit("/", 1)[1]
    return _TEMPLATES[backend]


def _copy_sqlite(source: str, target: Path) -> None:
    """SQLite's online backup: a whole, consistent copy whatever its journal holds."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Drop this process's templates."""
    for backend, template in _TEMPLATES.items():
        if backend == "sqlite":
            shutil.rmtree(Path(template).parent, ignore_errors=True)
        else:
            drop_database(_pg_url(template))


def drop_database(url: str) -> None:
    if not url.startswith("postgresql://"):
        return
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# A fixed start keeps golden dates exact: 15.01.2026 15:00:00 in Moscow.
CLOCK_START = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)


@dataclass
class Server:
    url: str
    settings: Settings
    store: Store
    clock: FakeClock
    client: httpx.Client

    def jobs(self, ip: str | None = None, **params: str | int) -> str:
        """GET /sys/jobs.php and return the body as text (the response charset applied)."""
        return self.call("jobs", ip=ip, **params)

    def call(self, script: str, ip: str | None = None, **params: str | int) -> str:
        headers = {"X-Forwarded-For": ip} if ip else {}
        response = self.client.get(f"/sys/{script}.php", params=params, headers=headers)
        assert response.status_code == 200
        return response.text

    def account(
        self, *, balance: str = "100", test_mode: bool = True, timezone: str = "Europe/Moscow"
    ) -> tuple[Account, str]:
        """A new account with a random login; returns it and its password."""
        password = secrets.token_urlsafe(8)
        login = f"u{secrets.token_hex(5)}"
        acc = self.store.create_account(
            login, hash_password(password), self.clock.now(), test_mode=test_mode, timezone=timezone
        )
        self.store.add_ledger_entry(acc.id, to_minor(balance), "credit", "test", self.clock.now())
        return acc, password


# The tests name their client IPs in X-Forwarded-For (the `ip` fixture), as a local reverse
# proxy would: the test servers trust loopback, which production settings never do unasked.
TRUST_LOOPBACK = {"http": {"trusted_proxies": ["127.0.0.1"]}}
# The suite reads the cabinet in English (production's default is Russian): a test of the
# Russian cabinet sends Accept-Language or sets the account's language.
ENGLISH_CABINET = {"web": {"default_language": "en"}}


def start_server(
    database_url: str, clock: FakeClock, **settings_overrides: object
) -> tuple[uvicorn.Server, threading.Thread, Server]:
    values = {
        "database_url": database_url,
        **TRUST_LOOPBACK,
        **ENGLISH_CABINET,
        **settings_overrides,
    }
    settings = Settings.model_validate(values)
    application = build_application(settings, clock=clock)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # The production server (deadlines, connection cap, trusted proxies), on a free port.
    server = uvicorn.Server(server_config(application.http, settings, "127.0.0.1", port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    url = f"http://127.0.0.1:{port}"
    client = httpx.Client(base_url=url, timeout=30)
    return server, thread, Server(url, settings, application.store, clock, client)


@contextmanager
def served(database_url: str, clock: FakeClock, **settings_overrides: object) -> Iterator[Server]:
    """A running server on a fresh database for the duration; the database is dropped after."""
    uv, thread, srv = start_server(database_url, clock, **settings_overrides)
    try:
        yield srv
    finally:
        srv.client.close()
        uv.should_exit = True
        thread.join(10)
        srv.store.close()
        drop_database(database_url)


@pytest.fixture(scope="session")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One running server per backend, shared by the API tests (each test makes its own
    accounts and uses its own client IP, so tests do not see each other)."""
    url = fresh_database_url(backend, tmp_path_factory.mktemp(backend))
    with served(url, FakeClock(CLOCK_START)) as srv:
        yield srv


@pytest.fixture
def ip() -> str:
    """A client IP of its own for each test, sent as X-Forwarded-For from loopback (only a
    header value: the documentation prefix 2001:db8::/32 is never contacted)."""
    return f"2001:db8::{secrets.token_hex(2)}:{secrets.token_hex(2)}"


def start_live(
    database_url: str, **settings_overrides: object
) -> tuple[uvicorn.Server, threading.Thread, Server]:
    """The API and the dispatcher (virtual upstream, short delays) in one thread, as
    `tidings serve` runs them."""
    import asyncio

    from tidings.app import build_dispatcher, serve_with_dispatcher
    from tidings.domain.clock import SystemClock

    values = {
        "database_url": database_url,
        "dispatch": {"tick_s": 0.02},
        # Live (charged) accounts too go through the virtual upstream here: these tests
        # follow a live account's money without an SMSC.
        "virtual": {"delay_ms": 20, "serves_live_accounts": True},
        **TRUST_LOOPBACK,
        **ENGLISH_CABINET,
        **settings_overrides,
    }
    settings = Settings.model_validate(values)
    application = build_application(settings)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = settings.model_copy(update={"port": port})
    dispatcher = build_dispatcher(settings, application.store, SystemClock(), worker_id="live")
    holder: dict[str, uvicorn.Server] = {}

    def run() -> None:
        asyncio.run(
            serve_with_dispatcher(
                application.http,
                dispatcher,
                "127.0.0.1",
                port,
                on_server=lambda s: holder.setdefault("server", s),
                settings=settings,
            )
        )

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while "server" not in holder or not holder["server"].started:
        if time.monotonic() > deadline:
            raise RuntimeError("live server did not start")
        time.sleep(0.01)
    url = f"http://127.0.0.1:{port}"
    client = httpx.Client(base_url=url, timeout=30)
    clock = FakeClock(datetime.now(UTC))  # only used to stamp test accounts
    return (
        holder["server"],
        thread,
        Server(url, settings, application.store, clock, client),
    )


@pytest.fixture(scope="session")
def live(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A running `tidings serve` equivalent: API and dispatcher on the virtual upstream."""
    url = fresh_database_url(backend, tmp_path_factory.mktemp(f"live-{backend}"))
    uv, thread, srv = start_live(url)
    yield srv
    srv.client.close()
    uv.should_exit = True
    thread.join(30)
    srv.store.close()
    drop_database(url)
