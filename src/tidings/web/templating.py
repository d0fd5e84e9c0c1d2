"""The cabinet's Jinja2 environments, one per language: autoescaped templates from this
package, gettext from the language's catalogue, and filters that show the domain's values
the way a person reading that language writes them."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined

from tidings.domain.money import format_money
from tidings.domain.profile import LANGUAGES
from tidings.web.i18n import Language, language


def build_templates(code: str = "en") -> Environment:
    env = Environment(
        loader=PackageLoader("tidings.web", "templates"),
        # Everything shown is escaped: names, texts and numbers come from users.
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    install_language(env, language(code))
    return env


def build_all_templates() -> dict[str, Environment]:
    """An environment per language the cabinet speaks (a visit renders with its own)."""
    return {code: build_templates(code) for code in LANGUAGES}


def install_language(env: Environment, lang: Language) -> None:
    """Everything about the language in one place: `_()`/`gettext()`/`ngettext()` in
    templates (newstyle: `{{ _("%(n)s sent", n=x) }}`, escaped like any value),
    `<html lang>`, and the locale-aware filters `money`, `number`, `local` and `local_ts`
    (`money_input` keeps the one format form fields read back).

    One environment per language, not one whose gettext reads the visit from the context:
    macros imported without context (`{% from "macros.html" import … %}`) see only the
    environment's globals, and they translate too.
    """
    env.install_gettext_translations(lang.translations, newstyle=True)  # type: ignore[attr-defined]
    env.globals["lang"] = lang.code
    env.filters["money"] = lang.money
    # An amount in a form field stays as the forms read it back ("1234.50"), in any language.
    env.filters["money_input"] = format_money
    env.filters["number"] = lang.number
    env.filters["local"] = lang.time
    env.filters["local_ts"] = lang.timestamp
