"""The operator's view of the SMPP server: who is bound, how, from where, with how much of
the window in use and at what rate — as every SMPP server process (inside `serve` or a
`tidings smpp-server` of its own) last reported it. Operators only (404 for everyone else)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tidings.domain.clock import to_ts
from tidings.web.cabinet import Cabinet, PageModule, Visit
from tidings.web.pages.admin import operator_only


def routes(cabinet: Cabinet) -> list[BaseRoute]:
    return [Route("/admin/smpp", cabinet.page(operator_only(_page)), methods=["GET"])]


def _page(visit: Visit) -> Response:
    now = to_ts(visit.now)
    binds = [
        {"server": server, "bind": bind, "rate": bind.rate(now)}
        for server, bind in visit.services.door_binds.bound(now)
    ]
    return visit.render("admin_smpp/index.html", binds=binds)


PAGE = PageModule((), routes)
