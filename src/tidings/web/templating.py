"""The cabinet's Jinja2 environment: autoescaped templates from this package, and filters
that show the domain's values the way a person reads them."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined

from tidings.domain.money import format_money
from tidings.domain.schedule import format_local


def local_time(value: datetime | None, zone: str) -> str:
    return format_local(value, ZoneInfo(zone)) if value is not None else "—"


def local_ts(value: int | None, zone: str) -> str:
    """A stored time (unix seconds) in the account's zone."""
    return local_time(None if value is None else datetime.fromtimestamp(value, UTC), zone)


def build_templates() -> Environment:
    env = Environment(
        loader=PackageLoader("tidings.web", "templates"),
        # Everything shown is escaped: names, texts and numbers come from users.
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = format_money
    env.filters["local"] = local_time
    env.filters["local_ts"] = local_ts
    install_translations(env)
    return env


def install_translations(env: Environment) -> None:
    """`{{ _("Text") }}` in templates (newstyle gettext). Null translations for now: the
    texts show as written; real catalogues replace this function."""
    env.add_extension("jinja2.ext.i18n")
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
