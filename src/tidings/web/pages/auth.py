"""Signing in and out. Failed sign-ins count against the client's IP exactly as failed API
logins do (the same AbuseGuard), so a blocked IP can neither call the API nor sign in."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from tidings.domain.accounts import Account
from tidings.errors import AuthenticationFailed, DomainError, IpBlocked, IpNotAllowed
from tidings.web import session
from tidings.web.cabinet import Cabinet, NavItem, PageModule, Visit

NAV: tuple[NavItem, ...] = ()
WRONG = "Wrong login or password."
BLOCKED = "Too many failed attempts from your address. Try again later."
NOT_ALLOWED = "Signing in from your address is not allowed for this account."


def routes(cabinet: Cabinet) -> list[BaseRoute]:
    async def sign_in_form(request: Request) -> Response:
        if session.account_id(request) is not None:
            return RedirectResponse("/lists", status_code=303)
        return cabinet.render(request, "signin.html", error="", login="")

    def sign_in(request: Request, form: FormData) -> Response:
        login = str(form.get("login") or "").strip()
        password = str(form.get("password") or "")
        try:
            account = _authenticate(cabinet, request, login, password)
        except IpBlocked:
            return _refused(cabinet, request, login, BLOCKED, 429)
        except IpNotAllowed:
            return _refused(cabinet, request, login, NOT_ALLOWED, 403)
        except DomainError:
            return _refused(cabinet, request, login, WRONG, 401)
        token = cabinet.services.sessions.start(account.id, cabinet.services.clock.now())
        session.sign_in(request, account.id, token)
        return RedirectResponse("/lists", status_code=303)

    def sign_out(visit: Visit) -> Response:
        # Ended on the server too: a copy of the cookie opens nothing after this.
        visit.services.sessions.end(session.token(visit.request))
        session.sign_out(visit.request)
        return RedirectResponse("/signin", status_code=303)

    async def home(request: Request) -> Response:
        target = "/lists" if session.account_id(request) is not None else "/signin"
        return RedirectResponse(target, status_code=303)

    return [
        Route("/", home),
        Route("/signin", sign_in_form, methods=["GET"]),
        Route("/signin", cabinet.public_action(sign_in), methods=["POST"]),
        Route("/signout", cabinet.action(sign_out), methods=["POST"]),
    ]


def _authenticate(cabinet: Cabinet, request: Request, login: str, password: str) -> Account:
    """The API's order (api/app.py `_call`): blocked IP, credentials (a failure counts
    against the IP unless the IP is on the account's allowlist), then the allowlist."""
    services = cabinet.services
    ip = request.client.host if request.client else "0.0.0.0"
    services.abuse.check(ip)
    try:
        if not login or not password:
            raise AuthenticationFailed("authorise error")
        account = services.auth.authenticate(login, password, "")
    except DomainError:
        if not services.auth.is_allowlisted(login, ip):
            services.abuse.auth_failed(ip)
        raise
    services.auth.check_ip(account, ip)
    return account


def _refused(
    cabinet: Cabinet, request: Request, login: str, error: str, status_code: int
) -> Response:
    return cabinet.render(request, "signin.html", status_code=status_code, error=error, login=login)


PAGE = PageModule(NAV, routes)
