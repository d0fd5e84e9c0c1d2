"""Readiness: the store answers and its schema is at the newest migration."""

from __future__ import annotations

import asyncio
import os
from functools import lru_cache

from tidings.store.db import Database
from tidings.store.operations import schema_revision

READY_TIMEOUT_S = 3.0


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest migration this code ships (read once from the migration scripts)."""
    from alembic.script import ScriptDirectory

    from tidings.store.migrate import MIGRATIONS_DIR

    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert head is not None
    return head


def not_ready_reason(db: Database, database_url: str) -> str | None:
    """Why the node cannot serve (None: it can). Blocking; see `readiness`."""
    if database_url.startswith("sqlite:///"):
        path = database_url[len("sqlite:///") :]
        # An open connection keeps reading a deleted file: look for the file itself.
        if path and path != ":memory:" and not os.path.exists(path):
            return f"database file {path} is missing"
    try:
        revision = schema_revision(db)
    except Exception as exc:
        return f"store unreachable: {type(exc).__name__}: {str(exc).strip()[:200]}"
    if revision != head_revision():
        return f"schema at {revision or 'no revision'}, code expects {head_revision()}"
    return None


async def readiness(db: Database, database_url: str) -> str | None:
    """`not_ready_reason` in a worker thread, bounded in time (a pool waiting for a dropped
    database would otherwise hold the probe for its whole connect timeout)."""
    try:
        return await asyncio.wait_for(
            asyncio.to_thread(not_ready_reason, db, database_url), READY_TIMEOUT_S
        )
    except TimeoutError:
        return f"store did not answer within {READY_TIMEOUT_S:g} s"
