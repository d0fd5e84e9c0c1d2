"""Signing in and out, through the sign-in service (domain/sign_in.py): failed sign-ins count
against the client's IP exactly as failed API logins do (the same AbuseGuard), so a blocked
IP can neither call the API nor sign in; every attempt is in the audit log."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from tidings.errors import AccountDisabled, DomainError, IpBlocked, IpNotAllowed
from tidings.web import session
from tidings.web.cabinet import Cabinet, NavItem, PageModule, Visit, client_ip
from tidings.web.i18n import N_

NAV: tuple[NavItem, ...] = ()
# Where a signed-in account lands.
HOME = "/dashboard"
# Translated when shown: the sign-in page speaks the browser's language (or the default).
WRONG = N_("Wrong login or password.")
BLOCKED = N_("Too many failed attempts from your address. Try again later.")
NOT_ALLOWED = N_("Signing in from your address is not allowed for this account.")
DISABLED = N_("This account is disabled. Ask the operator.")


def routes(cabinet: Cabinet) -> list[BaseRoute]:
    async def sign_in_form(request: Request) -> Response:
        if session.account_id(request) is not None:
            return RedirectResponse(HOME, status_code=303)
        return cabinet.render(request, "signin.html", error="", login="")

    def sign_in(request: Request, form: FormData) -> Response:
        login = str(form.get("login") or "").strip()
        password = str(form.get("password") or "")
        services = cabinet.services
        try:
            done = services.sign_in.sign_in(
                login, password, client_ip(request), services.clock.now()
            )
        except IpBlocked:
            return _refused(cabinet, request, login, BLOCKED, 429)
        except IpNotAllowed:
            return _refused(cabinet, request, login, NOT_ALLOWED, 403)
        except AccountDisabled:
            return _refused(cabinet, request, login, DISABLED, 403)
        except DomainError:
            return _refused(cabinet, request, login, WRONG, 401)
        session.sign_in(request, done.account.id, done.token)
        return RedirectResponse(HOME, status_code=303)

    def sign_out(visit: Visit) -> Response:
        # Ended on the server too: a copy of the cookie opens nothing after this.
        visit.services.sessions.end(session.token(visit.request))
        session.sign_out(visit.request)
        return RedirectResponse("/signin", status_code=303)

    async def home(request: Request) -> Response:
        target = HOME if session.account_id(request) is not None else "/signin"
        return RedirectResponse(target, status_code=303)

    return [
        Route("/", home),
        Route("/signin", sign_in_form, methods=["GET"]),
        Route("/signin", cabinet.public_action(sign_in), methods=["POST"]),
        Route("/signout", cabinet.action(sign_out), methods=["POST"]),
    ]


def _refused(
    cabinet: Cabinet, request: Request, login: str, error: str, status_code: int
) -> Response:
    text = cabinet.language(request, None).gettext(error)
    return cabinet.render(request, "signin.html", status_code=status_code, error=text, login=login)


PAGE = PageModule(NAV, routes)
