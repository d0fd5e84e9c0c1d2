"""Migrating a serving process's database without loading Alembic into it."""

from __future__ import annotations

import os
import subprocess
import sys


def upgrade(database_url: str) -> None:
    """Bring the schema to the newest revision. In a child process, unless Alembic is loaded
    here already (the CLI's `db upgrade`, the tests): a server would otherwise keep Alembic and
    SQLAlchemy (≈ 40 MB of RSS) loaded for nothing."""
    if "alembic" in sys.modules:
        from tidings.store import migrate

        migrate.upgrade(database_url)
        return
    # The URL goes in the environment, not argv: it may hold a password, and argv is public.
    env = {**os.environ, "TIDINGS_MIGRATE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "-m", "tidings.store.migrate"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"schema migration failed: {_reason(done.stderr)}")


def _reason(stderr: str) -> str:
    """The traceback's exception line (SQLAlchemy adds a link line after it)."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if not line[0].isspace() and not line.startswith("(")]
    return (errors or lines or ["no output"])[-1][:300]
