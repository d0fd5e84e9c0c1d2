"""The operator's sender names: the names accounts asked for (approve or reject) and the
approved ones (withdraw the approval). Part of the admin section (operators only; 404 for
everyone else), through the operator service the CLI (`tidings senders …`) uses."""

from __future__ import annotations

from collections.abc import Callable

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tidings.errors import DomainError
from tidings.web.cabinet import Cabinet, PageModule, Visit
from tidings.web.i18n import N_
from tidings.web.pages.admin import operator_only

PATH = "/admin/senders"


def routes(cabinet: Cabinet) -> list[BaseRoute]:
    page, action = cabinet.page, cabinet.action
    return [
        Route(PATH, page(operator_only(_page)), methods=["GET"]),
        Route(f"{PATH}/approve", action(operator_only(_approve)), methods=["POST"]),
        Route(f"{PATH}/reject", action(operator_only(_reject)), methods=["POST"]),
        Route(f"{PATH}/withdraw", action(operator_only(_withdraw)), methods=["POST"]),
    ]


def _render(visit: Visit, error: str = "") -> Response:
    operator = visit.services.operator
    return visit.render(
        "admin_senders/index.html",
        status_code=400 if error else 200,
        pending=operator.sender_requests(approved=False),
        approved=operator.sender_requests(approved=True),
        error=error,
    )


def _page(visit: Visit) -> Response:
    return _render(visit)


def _decide(visit: Visit, decide: Callable[[int, str], str], done: str) -> Response:
    raw = visit.field("account_id").strip()
    try:
        account_id = int(raw) if raw.isdigit() and len(raw) <= 12 else 0
        name = decide(account_id, visit.field("sender"))
    except DomainError as error:
        return _render(visit, visit.refusal(error))
    return visit.redirect(PATH, visit.gettext(done, name=name))


def _approve(visit: Visit) -> Response:
    operator = visit.services.operator
    return _decide(
        visit,
        lambda a, n: operator.approve_sender(a, n, visit.now, visit.actor),
        N_("%(name)s: approved"),
    )


def _reject(visit: Visit) -> Response:
    operator = visit.services.operator
    return _decide(
        visit,
        lambda a, n: operator.reject_sender(a, n, visit.now, visit.actor),
        N_("%(name)s: rejected"),
    )


def _withdraw(visit: Visit) -> Response:
    operator = visit.services.operator
    return _decide(
        visit,
        lambda a, n: operator.approve_sender(a, n, visit.now, visit.actor, approved=False),
        N_("%(name)s: approval withdrawn, pending again"),
    )


PAGE = PageModule((), routes)
