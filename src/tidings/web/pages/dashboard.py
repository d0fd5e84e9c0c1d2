"""The landing page after sign-in: today's and this month's messages, delivered share and
spend (counted by the store, in the account's calendar), and the lists sending now."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tidings.web.cabinet import Cabinet, NavItem, PageModule, Visit
from tidings.web.i18n import N_

NAV = (NavItem(N_("Dashboard"), "/dashboard"),)


def routes(cabinet: Cabinet) -> list[BaseRoute]:
    return [Route("/dashboard", cabinet.page(index), methods=["GET"])]


def index(visit: Visit) -> Response:
    board = visit.services.reports.dashboard(visit.account, visit.now)
    return visit.render("dashboard/index.html", board=board)


PAGE = PageModule(NAV, routes)
