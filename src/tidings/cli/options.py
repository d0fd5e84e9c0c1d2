"""Options shared by every command."""

from __future__ import annotations

from typing import Annotated

import typer

from tidings.cli.i18n import _

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help=_(
            "Database URL (sqlite:///… or postgresql://…); "
            "default TIDINGS_DATABASE_URL or sqlite:///./tidings.db"
        ),
    ),
]
ConfigOption = Annotated[str | None, typer.Option("--config", help=_("Settings file (TOML)."))]
