"""Readiness: the store answers and its schema is at the newest migration."""

from __future__ import annotations

import asyncio
import os

from tidings.store.db import Database
from tidings.store.operations import schema_revision
from tidings.store.revisions import head_revision

READY_TIMEOUT_S = 3.0


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
