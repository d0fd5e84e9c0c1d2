"""The operator's inbound SMS: numbers assigned to accounts (assign, release) and the
inbound messages no account owns. Part of the admin section (operators only; 404 for
everyone else), through the operator service the CLI (`tidings inbound`) uses."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tidings.errors import DomainError
from tidings.web.cabinet import Cabinet, PageModule, Visit
from tidings.web.pages.admin import operator_only

UNASSIGNED_SHOWN = 50


def routes(cabinet: Cabinet) -> list[BaseRoute]:
    page, action = cabinet.page, cabinet.action
    return [
        Route("/admin/inbound", page(operator_only(_page)), methods=["GET"]),
        Route("/admin/inbound/numbers", action(operator_only(_assign)), methods=["POST"]),
        Route("/admin/inbound/numbers/release", action(operator_only(_release)), methods=["POST"]),
    ]


def _render(visit: Visit, error: str = "", **values: str) -> Response:
    inbound = visit.services.inbound
    return visit.render(
        "admin_inbound/index.html",
        status_code=400 if error else 200,
        numbers=inbound.numbers(None),
        unassigned=inbound.unassigned(None, UNASSIGNED_SHOWN),
        error=error,
        values={"login": "", "number": "", **values},
    )


def _page(visit: Visit) -> Response:
    return _render(visit)


def _assign(visit: Visit) -> Response:
    login, raw = visit.field("login").strip(), visit.field("number")
    try:
        number = visit.services.operator.assign_number(raw, login, visit.now, visit.actor)
    except DomainError as error:
        return _render(visit, visit.refusal(error), login=login, number=raw)
    said = visit.gettext(
        "Inbound number %(number)s assigned to %(login)s", number=number, login=login
    )
    return visit.redirect("/admin/inbound", said)


def _release(visit: Visit) -> Response:
    try:
        number = visit.services.operator.release_number(
            visit.field("number"), visit.now, visit.actor
        )
    except DomainError as error:
        return _render(visit, visit.refusal(error))
    said = visit.gettext("Inbound number %(number)s released", number=number)
    return visit.redirect("/admin/inbound", said)


PAGE = PageModule((), routes)
