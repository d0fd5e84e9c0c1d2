"""The schema revision this code expects, read from the migration scripts as text.

The serving processes check it for readiness without importing Alembic and SQLAlchemy
(≈ 40 MB of RSS they would otherwise keep for their whole life)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

VERSIONS_DIR = Path(__file__).with_name("migrations") / "versions"
_REVISION = re.compile(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN = re.compile(r"^down_revision\s*=\s*(?:['\"]([^'\"]+)['\"]|None)", re.MULTILINE)


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The revision no other revision builds on (the migrations form one line)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in VERSIONS_DIR.glob("*.py"):
        text = script.read_text(encoding="utf-8")
        revision = _REVISION.search(text)
        if revision is None:
            continue
        revisions.add(revision.group(1))
        down = _DOWN.search(text)
        if down is not None and down.group(1):
            parents.add(down.group(1))
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"the migrations should have one head, found {sorted(heads)}")
    return heads.pop()
