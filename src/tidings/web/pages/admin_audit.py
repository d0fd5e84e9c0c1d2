"""The audit log for the operator: every entry, the newest first, paged, or one account's
(`?login=`). Part of the admin section (operators only; 404 for everyone else)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tidings.domain.audit import AuditAction
from tidings.errors import NotFound
from tidings.web.cabinet import Cabinet, PageModule, Visit
from tidings.web.i18n import N_
from tidings.web.pages.admin import operator_only

# What each action is called on the page (in English its code with spaces).
ACTIONS: dict[str, str] = {
    AuditAction.SIGN_IN: N_("sign in"),
    AuditAction.SIGN_IN_FAILED: N_("sign in failed"),
    AuditAction.CREDIT: N_("credit"),
    AuditAction.DEBIT: N_("debit"),
    AuditAction.ACCOUNT_CREATED: N_("account created"),
    AuditAction.TEST_MODE: N_("test mode"),
    AuditAction.OPERATOR_FLAG: N_("operator flag"),
    AuditAction.ACCOUNT_DISABLED: N_("account disabled"),
    AuditAction.ACCOUNT_ENABLED: N_("account enabled"),
    AuditAction.PASSWORD_RESET: N_("password reset"),
    AuditAction.ACCOUNT_TARIFF: N_("account tariff"),
    AuditAction.TARIFF_CREATED: N_("tariff created"),
    AuditAction.TARIFF_CHANGED: N_("tariff changed"),
    AuditAction.COUNTRY_PRICE: N_("country price"),
    AuditAction.COUNTRY_PRICE_REMOVED: N_("country price removed"),
    AuditAction.SENDER_APPROVED: N_("sender approved"),
    AuditAction.SENDER_PENDING: N_("sender pending"),
    AuditAction.SENDER_REJECTED: N_("sender rejected"),
    AuditAction.IP_UNBLOCKED: N_("ip unblocked"),
    AuditAction.NUMBER_ASSIGNED: N_("number assigned"),
    AuditAction.NUMBER_RELEASED: N_("number released"),
}


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
        actions={code: visit.gettext(name) for code, name in ACTIONS.items()},
    )


PAGE = PageModule((), routes)
