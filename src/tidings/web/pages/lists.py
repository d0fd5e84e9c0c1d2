"""Mailing lists: the table with live progress, the create form with its cost preview, one
list's page (counts, chart, recipients, CSV), cancel and delete."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tidings.domain.jobs import JobView
from tidings.domain.progress import Progress, progress
from tidings.web.cabinet import Cabinet, NavItem, PageModule, Visit

NAV = (NavItem("Mailing lists", "/lists"),)
STATUS_NAMES = {-2: "disabled", -1: "waiting", 0: "sending", 1: "finished"}


def routes(cabinet: Cabinet) -> list[BaseRoute]:
    return [
        Route("/lists", cabinet.page(index), methods=["GET"]),
        Route("/lists/rows", cabinet.page(rows), methods=["GET"]),
    ]


def _table(visit: Visit) -> dict[str, Any]:
    jobs = visit.services.jobs.list(visit.account, None, None)
    counts = visit.cabinet.reports.status_counts(visit.account.id, [j.job_id for j in jobs])
    lines: list[tuple[JobView, Progress]] = [
        (job, progress(counts.get(job.job_id, {}), job.phones_cnt)) for job in jobs
    ]
    return {"lines": lines, "status_names": STATUS_NAMES}


def index(visit: Visit) -> Response:
    return visit.render("lists/index.html", **_table(visit))


def rows(visit: Visit) -> Response:
    """The table body alone: the page polls it, so progress moves without a reload."""
    return visit.render("lists/rows.html", **_table(visit))


PAGE = PageModule(NAV, routes)
