"""The operator's section: accounts (balance, credit/debit through the ledger, test mode,
tariff, disabled, operator flag, password reset), tariffs with their per-country prices,
upstreams and their live state. Sender names, IP blocks and the audit log have their own
modules (admin_senders, admin_blocks, admin_audit).

Only accounts with `is_operator` see it; for every other account each of these URLs is a page
that does not exist (404), so the section does not reveal itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tidings.domain.admin import AdminService, UpstreamMonitor
from tidings.errors import DomainError, InvalidParameter, NotFound
from tidings.web.cabinet import Cabinet, Handler, NavItem, PageModule, Visit
from tidings.web.i18n import N_

NAV = (NavItem(N_("Admin"), "/admin", operator_only=True),)


def routes(cabinet: Cabinet) -> list[BaseRoute]:
    admin = Admin(cabinet.services.admin, cabinet.services.upstreams)
    page, action = cabinet.page, cabinet.action
    account_actions = [
        Route(
            f"/admin/accounts/{{account_id}}/{name}",
            action(operator_only(handler)),
            methods=["POST"],
        )
        for name, handler in (
            ("disabled", admin.disabled),
            ("operator", admin.operator_flag),
            ("password", admin.reset_password),
        )
    ]
    return [
        *account_actions,
        Route("/admin", page(operator_only(admin.accounts)), methods=["GET"]),
        Route("/admin/accounts", action(operator_only(admin.create_account)), methods=["POST"]),
        Route(
            "/admin/accounts/{account_id}/money",
            action(operator_only(admin.move_money)),
            methods=["POST"],
        ),
        Route(
            "/admin/accounts/{account_id}/test-mode",
            action(operator_only(admin.test_mode)),
            methods=["POST"],
        ),
        Route(
            "/admin/accounts/{account_id}/tariff",
            action(operator_only(admin.account_tariff)),
            methods=["POST"],
        ),
        Route("/admin/tariffs", page(operator_only(admin.tariffs)), methods=["GET"]),
        Route("/admin/tariffs", action(operator_only(admin.create_tariff)), methods=["POST"]),
        Route(
            "/admin/tariffs/{tariff_id}",
            action(operator_only(admin.change_tariff)),
            methods=["POST"],
        ),
        Route(
            "/admin/tariffs/{tariff_id}/countries",
            action(operator_only(admin.set_country)),
            methods=["POST"],
        ),
        Route(
            "/admin/tariffs/{tariff_id}/countries/delete",
            action(operator_only(admin.remove_country)),
            methods=["POST"],
        ),
        Route("/admin/upstreams", page(operator_only(admin.upstreams)), methods=["GET"]),
        Route("/admin/upstreams/rows", page(operator_only(admin.upstream_rows)), methods=["GET"]),
    ]


def operator_only(handler: Handler) -> Handler:
    """A page of the admin section: for anyone but an operator, a page that does not exist."""

    def guarded(visit: Visit) -> Response:
        if not visit.account.is_operator:
            raise NotFound("page not found")
        return handler(visit)

    return guarded


class Admin:
    def __init__(self, service: AdminService, upstreams: UpstreamMonitor) -> None:
        self._service = service
        self._upstreams = upstreams

    # ---- accounts -------------------------------------------------------------------------

    def _accounts(self, visit: Visit, error: str = "", **values: str) -> Response:
        tariffs = self._service.tariffs()
        return visit.render(
            "admin/accounts.html",
            status_code=400 if error else 200,
            lines=self._service.accounts(),
            tariffs=tariffs,
            tariff_names={t.id: t.name for t in tariffs},
            error=error,
            values={"login": "", "balance": "", **values},
        )

    def accounts(self, visit: Visit) -> Response:
        return self._accounts(visit)

    def create_account(self, visit: Visit) -> Response:
        login = visit.field("login")
        try:
            account = self._service.create_account(
                login,
                visit.field("password"),
                visit.field("balance"),
                visit.now,
                visit.actor,
                test_mode=bool(visit.field("test_mode")),
                is_operator=bool(visit.field("is_operator")),
            )
        except DomainError as error:
            return self._accounts(
                visit, visit.refusal(error), login=login, balance=visit.field("balance")
            )
        return visit.redirect(
            "/admin", visit.gettext("Account %(login)s created", login=account.login)
        )

    def _guarded(self, visit: Visit, change: Callable[[int], str]) -> Response:
        """Run a change to one account; a bad form value is shown on the accounts page."""
        account_id = visit.path_int("account_id")
        try:
            message = change(account_id)
        except NotFound:
            raise
        except DomainError as error:
            return self._accounts(visit, visit.refusal(error))
        return visit.redirect("/admin", message)

    def move_money(self, visit: Visit) -> Response:
        direction = visit.field("direction")

        def change(account_id: int) -> str:
            login = self._service.account(account_id).login
            balance = self._service.move_money(
                account_id,
                visit.field("amount"),
                direction,
                visit.field("memo"),
                visit.now,
                visit.actor,
            )
            booked = N_("%(login)s: credit booked, balance %(balance)s")
            if direction != "credit":
                booked = N_("%(login)s: debit booked, balance %(balance)s")
            return visit.gettext(booked, login=login, balance=visit.language.money(balance))

        return self._guarded(visit, change)

    def test_mode(self, visit: Visit) -> Response:
        def change(account_id: int) -> str:
            on = _switch(visit)
            self._service.set_test_mode(account_id, on, visit.now, visit.actor)
            return visit.gettext(N_("Test mode on") if on else N_("Test mode off"))

        return self._guarded(visit, change)

    def account_tariff(self, visit: Visit) -> Response:
        def change(account_id: int) -> str:
            self._service.set_account_tariff(
                account_id, visit.field("tariff"), visit.now, visit.actor
            )
            return visit.gettext("Tariff changed")

        return self._guarded(visit, change)

    def disabled(self, visit: Visit) -> Response:
        def change(account_id: int) -> str:
            off = _switch(visit)
            done = visit.services.operator.set_disabled(account_id, off, visit.now, visit.actor)
            said = N_("%(login)s disabled") if off else N_("%(login)s enabled again")
            return visit.gettext(said, login=done.login)

        return self._guarded(visit, change)

    def operator_flag(self, visit: Visit) -> Response:
        def change(account_id: int) -> str:
            on = _switch(visit)
            done = visit.services.operator.set_operator(account_id, on, visit.now, visit.actor)
            said = (
                N_("%(login)s is an operator now")
                if on
                else N_("%(login)s is no longer an operator")
            )
            return visit.gettext(said, login=done.login)

        return self._guarded(visit, change)

    def reset_password(self, visit: Visit) -> Response:
        """A generated password is shown on this answer only (never kept, never put in the
        flash cookie); one the operator typed is not shown again."""
        account_id = visit.path_int("account_id")
        try:
            done = visit.services.operator.reset_password(
                account_id, visit.field("password"), visit.now, visit.actor
            )
        except NotFound:
            raise
        except DomainError as error:
            return self._accounts(visit, visit.refusal(error))
        if not done.generated:
            said = visit.gettext("%(login)s: password set, its sessions ended", login=done.login)
            return visit.redirect("/admin", said)
        shown = visit.render("admin/password.html", login=done.login, password=done.password)
        shown.headers["Cache-Control"] = "no-store"
        return shown

    # ---- tariffs --------------------------------------------------------------------------

    def _tariffs(self, visit: Visit, error: str = "", **values: str) -> Response:
        return visit.render(
            "admin/tariffs.html",
            status_code=400 if error else 200,
            default=self._service.default_tariff,
            tariffs=self._service.tariffs(),
            error=error,
            values={"name": "", "default_price": "", "email_price": "", **values},
        )

    def tariffs(self, visit: Visit) -> Response:
        return self._tariffs(visit)

    def _tariff_change(self, visit: Visit, change: Callable[[int], Any], done: str) -> Response:
        tariff_id = visit.path_int("tariff_id")
        try:
            change(tariff_id)
        except NotFound:
            raise
        except DomainError as error:
            return self._tariffs(visit, visit.refusal(error))
        return visit.redirect("/admin/tariffs", visit.gettext(done))

    def create_tariff(self, visit: Visit) -> Response:
        values = {n: visit.field(n) for n in ("name", "default_price", "email_price")}
        try:
            self._service.create_tariff(
                values["name"],
                values["default_price"],
                values["email_price"],
                visit.now,
                visit.actor,
            )
        except DomainError as error:
            return self._tariffs(visit, visit.refusal(error), **values)
        return visit.redirect("/admin/tariffs", visit.gettext("Tariff created"))

    def change_tariff(self, visit: Visit) -> Response:
        return self._tariff_change(
            visit,
            lambda t: self._service.change_tariff(
                t, visit.field("default_price"), visit.field("email_price"), visit.now, visit.actor
            ),
            N_("Tariff saved"),
        )

    def set_country(self, visit: Visit) -> Response:
        return self._tariff_change(
            visit,
            lambda t: self._service.set_country_price(
                t, visit.field("country"), visit.field("price"), visit.now, visit.actor
            ),
            N_("Country price saved"),
        )

    def remove_country(self, visit: Visit) -> Response:
        return self._tariff_change(
            visit,
            lambda t: self._service.remove_country_price(
                t, visit.field("country"), visit.now, visit.actor
            ),
            N_("Country price removed"),
        )

    # ---- upstreams ------------------------------------------------------------------------

    def _lines(self, visit: Visit) -> dict[str, Any]:
        return {"lines": self._upstreams.lines(visit.now)}

    def upstreams(self, visit: Visit) -> Response:
        return visit.render(
            "admin/upstreams.html", gaps=self._upstreams.gaps(), **self._lines(visit)
        )

    def upstream_rows(self, visit: Visit) -> Response:
        """The table body alone, polled every 2 s by the page."""
        return visit.render("admin/upstream_rows.html", **self._lines(visit))


def _switch(visit: Visit) -> bool:
    """A form's on/off switch: "1" or "0", nothing else."""
    value = visit.field("on")
    if value not in ("0", "1"):
        raise InvalidParameter("on: 0 or 1")
    return value == "1"


PAGE = PageModule(NAV, routes)
