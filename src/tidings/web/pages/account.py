"""The account's own settings: API keys, allowed IPs, callback URL, balance and ledger,
sender names, the password."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tidings.errors import DomainError
from tidings.web import session
from tidings.web.cabinet import Cabinet, NavItem, PageModule, Visit
from tidings.web.i18n import N_

NAV = (
    NavItem(N_("Balance"), "/account/balance"),
    NavItem(N_("Senders"), "/account/senders"),
    NavItem(N_("API keys"), "/account/keys"),
    NavItem(N_("Allowed IPs"), "/account/ips"),
    NavItem(N_("Callback"), "/account/callback"),
    NavItem(N_("Password"), "/account/password"),
)
LEDGER_PAGE = 50
LEDGER_KINDS = {"credit": N_("top-up"), "charge": N_("charge"), "refund": N_("refund")}


def routes(cabinet: Cabinet) -> list[BaseRoute]:
    return [
        Route("/account/balance", cabinet.page(balance), methods=["GET"]),
        Route("/account/senders", cabinet.page(senders), methods=["GET"]),
        Route("/account/senders", cabinet.action(add_sender), methods=["POST"]),
        Route(
            "/account/senders/{sender_id}/delete", cabinet.action(delete_sender), methods=["POST"]
        ),
        Route("/account/keys", cabinet.page(keys), methods=["GET"]),
        Route("/account/keys", cabinet.action(create_key), methods=["POST"]),
        Route("/account/keys/{key_id}/revoke", cabinet.action(revoke_key), methods=["POST"]),
        Route("/account/ips", cabinet.page(ips), methods=["GET"]),
        Route("/account/ips", cabinet.action(allow_ip), methods=["POST"]),
        Route("/account/ips/delete", cabinet.action(deny_ip), methods=["POST"]),
        Route("/account/callback", cabinet.page(callback), methods=["GET"]),
        Route("/account/callback", cabinet.action(set_callback), methods=["POST"]),
        Route("/account/callback/inbound", cabinet.action(set_forwarding), methods=["POST"]),
        Route("/account/password", cabinet.page(password_form), methods=["GET"]),
        Route("/account/password", cabinet.action(change_password), methods=["POST"]),
    ]


# ---- balance and ledger -------------------------------------------------------------------


def balance(visit: Visit) -> Response:
    raw = visit.query.get("offset", "")
    offset = min(int(raw), 10_000_000) if raw.isdigit() else 0
    balances = visit.services.balances
    rows = balances.ledger(visit.account, offset, LEDGER_PAGE + 1)
    return visit.render(
        "account/balance.html",
        balance=balances.balance(visit.account),
        rows=rows[:LEDGER_PAGE],
        has_next=len(rows) > LEDGER_PAGE,
        offset=offset,
        limit=LEDGER_PAGE,
        kinds={kind: visit.gettext(title) for kind, title in LEDGER_KINDS.items()},
    )


# ---- senders ------------------------------------------------------------------------------


def _senders_page(visit: Visit, **context: Any) -> Response:
    names = visit.services.senders.names(visit.account, approved_only=False)
    context.setdefault("error", "")
    return visit.render("account/senders.html", senders=names, **context)


def senders(visit: Visit) -> Response:
    return _senders_page(visit)


def add_sender(visit: Visit) -> Response:
    raw = visit.field("sender")
    try:
        # The rule senders.php and jobs.php apply to a sender name.
        added = visit.services.senders.request(visit.account, raw, visit.now, mail="@" in raw)
    except DomainError as error:
        return _senders_page(visit, error=visit.refusal(error), value=raw)
    done = visit.gettext("Sender %(name)s added; it waits for approval.", name=added.name)
    return visit.redirect("/account/senders", done)


def delete_sender(visit: Visit) -> Response:
    visit.services.senders.delete(visit.account, visit.path_int("sender_id"))
    return visit.redirect("/account/senders", visit.gettext("Sender deleted."))


# ---- API keys -----------------------------------------------------------------------------


def keys(visit: Visit) -> Response:
    return visit.render(
        "account/keys.html", keys=visit.services.profile.api_keys(visit.account), new_key=""
    )


def create_key(visit: Visit) -> Response:
    """The key is shown in this response only: just its hash is stored."""
    key = visit.services.profile.issue_api_key(visit.account, visit.now)
    return visit.render(
        "account/keys.html", keys=visit.services.profile.api_keys(visit.account), new_key=key
    )


def revoke_key(visit: Visit) -> Response:
    visit.services.profile.revoke_api_key(visit.account, visit.path_int("key_id"), visit.now)
    return visit.redirect("/account/keys", visit.gettext("API key revoked."))


# ---- allowed IPs --------------------------------------------------------------------------


def _ips_page(visit: Visit, **context: Any) -> Response:
    context.setdefault("error", "")
    context.setdefault("value", "")
    return visit.render(
        "account/ips.html", cidrs=visit.services.profile.allowed_ips(visit.account), **context
    )


def ips(visit: Visit) -> Response:
    return _ips_page(visit)


def allow_ip(visit: Visit) -> Response:
    try:
        cidr = visit.services.profile.allow_ip(visit.account, visit.field("cidr"))
    except DomainError as error:
        return _ips_page(visit, error=visit.refusal(error), value=visit.field("cidr"))
    return visit.redirect("/account/ips", visit.gettext("%(cidr)s allowed.", cidr=cidr))


def deny_ip(visit: Visit) -> Response:
    cidr = visit.field("cidr")
    visit.services.profile.deny_ip(visit.account, cidr)
    return visit.redirect("/account/ips", visit.gettext("%(cidr)s removed.", cidr=cidr))


# ---- callback URL -------------------------------------------------------------------------


def _callback_page(visit: Visit, **context: Any) -> Response:
    context.setdefault("error", "")
    context.setdefault("secret", "")
    url = visit.services.profile.callback_url(visit.account)
    context.setdefault("value", url)
    forwards = visit.services.profile.forwards_inbound(visit.account)
    return visit.render("account/callback.html", url=url, forwards=forwards, **context)


def callback(visit: Visit) -> Response:
    return _callback_page(visit)


def set_callback(visit: Visit) -> Response:
    """The signing secret is shown in this response only."""
    url = visit.field("url")
    try:
        secret = visit.services.profile.set_callback(visit.account, url)
    except DomainError as error:
        return _callback_page(visit, error=visit.refusal(error), value=url)
    return _callback_page(visit, secret=secret)


def set_forwarding(visit: Visit) -> Response:
    """Incoming SMS forwarded to the callback URL too (SMS Center's fl[11])."""
    on = visit.field("forward") == "1"
    visit.services.profile.set_forward_inbound(visit.account, on)
    done = N_("Incoming SMS are forwarded.") if on else N_("Incoming SMS are not forwarded.")
    return visit.redirect("/account/callback", visit.gettext(done))


# ---- password -----------------------------------------------------------------------------


def password_form(visit: Visit) -> Response:
    return visit.render("account/password.html", error="")


def change_password(visit: Visit) -> Response:
    try:
        visit.services.sessions.change_password(
            visit.account,
            visit.field("current"),
            visit.field("new"),
            visit.field("repeated"),
            session.token(visit.request),
        )
    except DomainError as error:
        return visit.render("account/password.html", status_code=400, error=visit.refusal(error))
    # This browser stays signed in; every other session of the account has ended.
    done = visit.gettext("Password changed. Other sessions ended.")
    return visit.redirect("/account/password", done)


PAGE = PageModule(NAV, routes)
