"""Apply Alembic migrations programmatically (on start, and by `tidings db upgrade`).

python -m tidings.store.migrate     (the URL in TIDINGS_MIGRATE_URL; see migrate_apart)
"""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def sqlalchemy_url(database_url: str) -> str:
    """Our URLs name the database; SQLAlchemy also wants the driver (psycopg 3 for PostgreSQL)."""
    for prefix in ("postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url[len(prefix) :]
    return database_url


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # '%' must be doubled for configparser interpolation (passwords in URLs may hold it).
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(database_url).replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


if __name__ == "__main__":
    upgrade(os.environ["TIDINGS_MIGRATE_URL"])
