"""The cabinet's language for the account: Russian, English, or whatever the browser asks
for (then web.default_language). Saved through the profile service, like the account's
other settings."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tidings.domain.profile import LANGUAGES
from tidings.web.cabinet import Cabinet, NavItem, PageModule, Visit
from tidings.web.i18n import LANGUAGE_NAMES, N_, language

NAV = (NavItem(N_("Language"), "/account/language"),)
# The form's value for "no choice: follow the browser".
BROWSER = "browser"


def routes(cabinet: Cabinet) -> list[BaseRoute]:
    return [
        Route("/account/language", cabinet.page(language_form), methods=["GET"]),
        Route("/account/language", cabinet.action(set_language), methods=["POST"]),
    ]


def language_form(visit: Visit) -> Response:
    return visit.render(
        "language/index.html",
        choices=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        chosen=visit.account.language or BROWSER,
        browser=BROWSER,
    )


def set_language(visit: Visit) -> Response:
    raw = visit.field("language")
    chosen = None if raw == BROWSER else raw
    visit.services.profile.set_language(visit.account, chosen)
    # Said in the language chosen: the page it lands on speaks it already.
    lang = language(chosen) if chosen in LANGUAGES else visit.cabinet.language(visit.request, None)
    return visit.redirect("/account/language", lang.gettext("Language saved."))


PAGE = PageModule(NAV, routes)
