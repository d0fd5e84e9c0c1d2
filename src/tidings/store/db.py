"""A thin layer over the raw drivers (sqlite3, psycopg 3): one SQL text for both databases.

SQL is written with `?` placeholders; for PostgreSQL they become `%s`. Hot paths use the
database's own bulk tools (executemany in one transaction on SQLite, COPY on PostgreSQL).
"""

from __future__ import annotations

import fcntl
import os
import re
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from functools import lru_cache
from typing import Any, Literal, Protocol, TypeVar

from tidings import waiting

Row = tuple[Any, ...]
Dialect = Literal["sqlite", "postgresql"]


class Tx(Protocol):
    """One transaction. Statements use `?` placeholders."""

    dialect: Dialect

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; return the number of rows it changed."""

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    def insert_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Bulk insert, streamed: rows may be a generator of any length."""

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """One statement for many parameter rows, in one round trip where the driver can."""


class Database(Protocol):
    dialect: Dialect

    def tx(self, *, write: bool = True, snapshot: bool = True) -> AbstractContextManager[Tx]:
        """A transaction: commits on success, rolls back on error. `write=False` is for
        reads only: on PostgreSQL its statements run without BEGIN/COMMIT (each has its own
        snapshot, as under READ COMMITTED inside a transaction); on SQLite it is a deferred
        transaction, one snapshot for all its statements — unless `snapshot=False`, for
        reads that need none shared between their statements (one statement, say): then
        each runs bare, in a transaction of its own, as on PostgreSQL.

        Inside a write transaction of the same thread, `tx()` joins it: the statements are
        the outer transaction's and commit or roll back with it (how an audit entry is
        written with the action it records, store/audit.py)."""

    def read_snapshot(self) -> AbstractContextManager[None]:
        """Reads that must agree with each other (a list's row, its messages' counts and
        its recipients, shown side by side): one snapshot for every `tx()` inside it, which
        joins it — REPEATABLE READ, READ ONLY on PostgreSQL, a deferred transaction on
        SQLite. Only reads belong in it."""

    def close(self) -> None: ...


_BATCH = 5000
_LOCK_FLAGS = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)


class SqliteTx:
    dialect: Dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._conn.execute(sql, params).rowcount

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row: Row | None = self._conn.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._conn.execute(sql, params).fetchall()

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._conn.executemany(sql, rows)

    def insert_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        count = 0
        for batch in _batches(rows, _BATCH):
            self._conn.executemany(sql, batch)
            count += len(batch)
        return count


class SqliteDatabase:
    """SQLite in WAL mode; one connection per thread; writers serialised by BEGIN IMMEDIATE."""

    dialect: Dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self._path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        # Writers of this process queue here, in turn, instead of polling SQLite's lock with
        # growing sleeps (which left some requests waiting a second under load).
        self._writer = threading.Lock()
        # ...and writers of every process (API workers, dispatchers) on an flock beside the
        # database: a blocked flock wakes the moment it is released, where SQLite's own
        # busy handler sleeps up to 100 ms between tries.
        self._writer_file = (
            None if path == ":memory:" else os.open(f"{path}-writer.lock", _LOCK_FLAGS)
        )

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=10000")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def tx(self, *, write: bool = True, snapshot: bool = True) -> Iterator[SqliteTx]:
        joined: SqliteTx | None = getattr(self._local, "tx", None)
        if joined is not None:
            yield joined
            return
        if not write and not snapshot:
            # BEGIN and COMMIT are two statements more than a one-statement read needs
            # (send.php makes two such reads: a third of its SQLite calls).
            yield SqliteTx(self._connection())
            return
        if not write:
            with self._transaction("BEGIN") as tx:
                yield tx
            return
        # IMMEDIATE takes the write lock up front, so a transaction never fails half-way on
        # a lock upgrade; readers use a deferred transaction and never block writers.
        if not waiting.may_wait():
            with self._write_without_waiting() as tx:
                yield tx
            return
        with self._writer, self._other_processes_wait(), self._transaction("BEGIN IMMEDIATE") as tx:
            yield tx

    @contextmanager
    def read_snapshot(self) -> Iterator[None]:
        if getattr(self._local, "tx", None) is not None:
            yield
            return
        with self._transaction("BEGIN") as tx:
            self._local.tx = tx
            try:
                yield
            finally:
                self._local.tx = None

    @contextmanager
    def _write_without_waiting(self) -> Iterator[SqliteTx]:
        """The first write of a request on the event loop: taken at once or refused."""
        if not self._writer.acquire(blocking=False):
            raise waiting.WouldWait
        try:
            if self._writer_file is not None:
                try:
                    fcntl.flock(self._writer_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise waiting.WouldWait from None
            try:
                waiting.stop_refusing()
                with self._transaction("BEGIN IMMEDIATE") as tx:
                    yield tx
            finally:
                if self._writer_file is not None:
                    fcntl.flock(self._writer_file, fcntl.LOCK_UN)
        finally:
            self._writer.release()

    @contextmanager
    def _other_processes_wait(self) -> Iterator[None]:
        if self._writer_file is None:
            yield
            return
        fcntl.flock(self._writer_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._writer_file, fcntl.LOCK_UN)

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[SqliteTx]:
        conn = self._connection()
        conn.execute(begin)
        tx = SqliteTx(conn)
        joinable = begin != "BEGIN"
        if joinable:
            self._local.tx = tx
        try:
            yield tx
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            if joinable:
                self._local.tx = None
        conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
            if self._writer_file is not None:
                os.close(self._writer_file)
                self._writer_file = None
        self._local = threading.local()


class PostgresTx:
    dialect: Dialect = "postgresql"

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cur = self._conn.execute(_pg_sql(sql), params)
        return int(cur.rowcount)

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row: Row | None = self._conn.execute(_pg_sql(sql), params).fetchone()
        return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        rows: list[Row] = self._conn.execute(_pg_sql(sql), params).fetchall()
        return rows

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            with self._conn.cursor() as cur:
                cur.executemany(_pg_sql(sql), rows)

    def insert_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        count = 0
        with (
            self._conn.cursor() as cur,
            cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
                count += 1
        return count


class PostgresDatabase:
    """PostgreSQL through a psycopg 3 connection pool."""

    dialect: Dialect = "postgresql"

    def __init__(self, url: str, *, max_size: int = 10, connect_timeout_s: int = 5) -> None:
        import psycopg
        from psycopg_pool import ConnectionPool

        # One direct connection first: a wrong role, password or host fails here within
        # seconds with the server's own reason, where the pool would retry quietly for 30 s
        # and then say only "couldn't get a connection".
        try:
            psycopg.connect(url, connect_timeout=connect_timeout_s).close()
        except psycopg.OperationalError as error:
            raise DatabaseUnavailable(_first_line(error)) from None
        # Autocommit connections: a write still runs in BEGIN … COMMIT (`conn.transaction()`
        # sends them), a read runs its statements bare. Under READ COMMITTED, PostgreSQL's
        # default and ours, every statement takes its own snapshot inside a transaction too,
        # so BEGIN and COMMIT around reads bought nothing but two round trips each: on
        # send.php, two read transactions of one statement, they were most of its store time.
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_size,
            open=True,
            kwargs={"connect_timeout": connect_timeout_s, "autocommit": True},
        )
        self._local = threading.local()

    @contextmanager
    def tx(self, *, write: bool = True, snapshot: bool = True) -> Iterator[PostgresTx]:
        joined: PostgresTx | None = getattr(self._local, "tx", None)
        if joined is not None:
            yield joined
            return
        if not write:
            with self._pool.connection() as conn:
                yield PostgresTx(conn)
            return
        with self._pool.connection() as conn, conn.transaction():
            tx = self._local.tx = PostgresTx(conn)
            try:
                yield tx
            finally:
                self._local.tx = None

    @contextmanager
    def read_snapshot(self) -> Iterator[None]:
        if getattr(self._local, "tx", None) is not None:
            yield
            return
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            self._local.tx = PostgresTx(conn)
            try:
                yield
            finally:
                self._local.tx = None

    def close(self) -> None:
        self._pool.close()


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or refuses us; the message is the server's reason."""


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def open_database(database_url: str) -> SqliteDatabase | PostgresDatabase:
    if database_url.startswith(("postgresql://", "postgres://")):
        return PostgresDatabase(database_url)
    if database_url.startswith("sqlite:///"):
        return SqliteDatabase(database_url[len("sqlite:///") :] or ":memory:")
    raise ValueError(f"unsupported database URL: {database_url.split(':', 1)[0]}:…")


_PLACEHOLDER = re.compile(r"\?")


@lru_cache(maxsize=512)
def _pg_sql(sql: str) -> str:
    # Our statements never hold a literal '?' or '%', so a plain substitution is exact.
    return _PLACEHOLDER.sub("%s", sql)


def _batches(rows: Iterable[Sequence[Any]], size: int) -> Iterator[list[Sequence[Any]]]:
    batch: list[Sequence[Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


T = TypeVar("T")


def retrying(fn: Callable[[], T], attempts: int = 5) -> T:
    """Run a transaction function again when PostgreSQL aborted it as a deadlock victim or a
    serialisation failure: the work was rolled back whole, so running it again is safe."""
    if "psycopg" not in sys.modules:  # no PostgreSQL connection was ever made here
        return fn()
    from psycopg import errors

    for attempt in range(attempts):
        try:
            return fn()
        except (errors.DeadlockDetected, errors.SerializationFailure):
            if attempt == attempts - 1:
                raise
            time.sleep(0.01 * (attempt + 1))
    raise AssertionError("unreachable")
