"""The serving processes read the expected schema revision without Alembic: it must agree
with Alembic's own reading of the same scripts."""

from __future__ import annotations

import subprocess
import sys

from alembic.script import ScriptDirectory

from tidings.store.migrate import MIGRATIONS_DIR
from tidings.store.revisions import head_revision


def test_head_revision_agrees_with_alembic() -> None:
    assert head_revision() == ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def test_the_application_does_not_load_alembic_or_sqlalchemy() -> None:
    code = (
        "import sys, tidings.app, tidings.cli.workers; "
        "print(sorted(m for m in ('alembic', 'sqlalchemy', 'psycopg') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
