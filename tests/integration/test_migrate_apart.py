"""A server migrates its database in a child process (Alembic never loads into it)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from tidings.store.revisions import head_revision

RUN = (
    "import sys; from tidings.store import migrate_apart; "
    "migrate_apart.upgrade(sys.argv[1]); "
    "print(sorted(m for m in ('alembic', 'sqlalchemy') if m in sys.modules))"
)


def test_a_new_database_is_migrated_to_the_head_by_a_child(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    out = subprocess.run(
        [sys.executable, "-c", RUN, f"sqlite:///{path}"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"  # done, and not in this process
    with sqlite3.connect(path) as conn:
        (revision,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert revision == head_revision()


def test_a_failed_migration_is_reported_with_its_reason(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}"
    out = subprocess.run([sys.executable, "-c", RUN, url], capture_output=True, text=True)
    assert out.returncode != 0
    assert "schema migration failed" in out.stderr
    assert "unable to open database file" in out.stderr
