"""The operator's IP blocks: the client addresses blocked after failed sign-ins or a streak of
failed requests (error 4), and lifting one. Part of the admin section (operators only),
through the operator service the CLI (`tidings unblock`) uses."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tidings.errors import DomainError
from tidings.web.cabinet import Cabinet, PageModule, Visit
from tidings.web.pages.admin import operator_only

PATH = "/admin/blocks"


def routes(cabinet: Cabinet) -> list[BaseRoute]:
    page, action = cabinet.page, cabinet.action
    return [
        Route(PATH, page(operator_only(_page)), methods=["GET"]),
        Route(f"{PATH}/lift", action(operator_only(_lift)), methods=["POST"]),
    ]


def _render(visit: Visit, error: str = "", ip: str = "") -> Response:
    return visit.render(
        "admin_blocks/index.html",
        status_code=400 if error else 200,
        blocks=visit.services.operator.ip_blocks(),
        error=error,
        ip=ip,
    )


def _page(visit: Visit) -> Response:
    return _render(visit)


def _lift(visit: Visit) -> Response:
    raw = visit.field("ip")
    try:
        ip = visit.services.operator.lift_block(raw, visit.now, visit.actor)
    except DomainError as error:
        return _render(visit, visit.refusal(error), raw)
    return visit.redirect(PATH, visit.gettext("Block of %(ip)s lifted", ip=ip))


PAGE = PageModule((), routes)
