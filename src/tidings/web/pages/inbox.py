"""The account's incoming SMS: the inbox (newest first, paged, searchable by phone or text)
and its stop keywords. A mailing list's replies and opt-outs are on the list's own page
(pages/lists.py). Everything goes through the inbound service, scoped to the signed-in
account: another account's messages never show."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tidings.errors import DomainError
from tidings.web.cabinet import Cabinet, NavItem, PageModule, Visit
from tidings.web.i18n import N_

NAV = (NavItem(N_("Inbox"), "/inbox"), NavItem(N_("Stop keywords"), "/account/stop-keywords"))
PAGE_SIZE = 50


def routes(cabinet: Cabinet) -> list[BaseRoute]:
    return [
        Route("/inbox", cabinet.page(index), methods=["GET"]),
        Route("/account/stop-keywords", cabinet.page(keywords), methods=["GET"]),
        Route("/account/stop-keywords", cabinet.action(set_keywords), methods=["POST"]),
        Route("/account/stop-reply", cabinet.action(set_reply), methods=["POST"]),
    ]


def _before(raw: str) -> int | None:
    text = raw.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


def index(visit: Visit) -> Response:
    search = visit.query.get("q", "").strip()[:64]
    before = _before(visit.query.get("before", ""))
    found = visit.services.inbound.inbox(visit.account, search, before, PAGE_SIZE + 1)
    shown = found[:PAGE_SIZE]
    return visit.render(
        "inbox/index.html",
        messages=shown,
        q=search,
        before=before,
        next_before=shown[-1].id if len(found) > PAGE_SIZE else None,
    )


def _keywords_page(
    visit: Visit,
    error: str = "",
    value: str | None = None,
    reply_error: str = "",
    reply: str | None = None,
) -> Response:
    inbound = visit.services.inbound
    current = inbound.stop_keywords(visit.account)
    return visit.render(
        "inbox/keywords.html",
        status_code=400 if error or reply_error else 200,
        current=current,
        value="\n".join(current.keywords) if value is None else value,
        error=error,
        reply=inbound.stop_reply(visit.account) if reply is None else reply,
        reply_error=reply_error,
    )


def keywords(visit: Visit) -> Response:
    return _keywords_page(visit)


def set_keywords(visit: Visit) -> Response:
    raw = visit.field("keywords")
    try:
        saved = visit.services.inbound.set_stop_keywords(visit.account, raw)
    except DomainError as error:
        return _keywords_page(visit, visit.refusal(error), raw)
    done = (
        N_("Stop keywords reset to the defaults.") if saved.default else N_("Stop keywords saved.")
    )
    return visit.redirect("/account/stop-keywords", visit.gettext(done))


def set_reply(visit: Visit) -> Response:
    """The confirmation sent to a number a stop keyword opted out (empty: none)."""
    raw = visit.field("reply")
    try:
        saved = visit.services.inbound.set_stop_reply(visit.account, raw)
    except DomainError as error:
        return _keywords_page(visit, reply_error=visit.refusal(error), reply=raw)
    done = N_("Confirmation saved.") if saved else N_("No confirmation is sent.")
    return visit.redirect("/account/stop-keywords", visit.gettext(done))


PAGE = PageModule(NAV, routes)
