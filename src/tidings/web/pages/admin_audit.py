"""The audit log for the operator: every entry, the newest first, paged, or one account's
(`?login=`). Part of the admin section (operators only; 404 for everyone else)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tidings.errors import NotFound
from tidings.i18n import AUDIT_ACTIONS
from tidings.web.cabinet import Cabinet, PageModule, Visit
from tidings.web.pages.admin import operator_only


def routes(cabinet: Cabinet) -> list[BaseRoute]:
    return [Route("/admin/audit", cabinet.page(operator_only(_page)), methods=["GET"])]


def _page(visit: Visit) -> Response:
    login = visit.query.get("login", "").strip()
    raw = visit.query.get("offset", "")
    offset = int(raw) if raw.isdigit() and len(raw) <= 9 else 0
    error, account_id = "", None
    if login:
        try:
            account_id = visit.services.operator.account_by_login(login).id
        except NotFound as missing:
            error = visit.refusal(missing)
    found = visit.services.audit.page(account_id, offset)
    return visit.render(
        "admin_audit/index.html",
        status_code=400 if error else 200,
        entries=[] if error else found.entries,
        offset=found.offset,
        limit=found.limit,
        has_next=found.has_next and not error,
        login=login,
        error=error,
        actions={code: visit.gettext(name) for code, name in AUDIT_ACTIONS.items()},
    )


PAGE = PageModule((), routes)
