"""How every cabinet page is served: who is signed in, the CSRF check on each POST, rendering.

A page module writes plain functions `(Visit) -> Response` and registers them with
`cabinet.page(...)` (GET, signed in) or `cabinet.action(...)` (POST: CSRF token checked
first, then signed in). The functions run in a worker thread: the store is synchronous.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from jinja2 import Environment
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute

from tidings.domain.accounts import Account
from tidings.domain.audit import Actor
from tidings.domain.services import Services
from tidings.errors import DomainError, NotFound
from tidings.web import i18n, session
from tidings.web.i18n import N_, Language
from tidings.web.refusals import refusal_text

Handler = Callable[["Visit"], Response]
Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class NavItem:
    # English, marked with N_(): base.html shows it in the visit's language.
    title: str
    path: str
    operator_only: bool = False


@dataclass(frozen=True)
class PageModule:
    """What one page module adds: menu entries and its routes."""

    nav: tuple[NavItem, ...]
    routes: Callable[[Cabinet], list[BaseRoute]]


@dataclass
class Cabinet:
    """What the pages share: the domain services and the templates (one environment per
    language)."""

    services: Services
    templates: Mapping[str, Environment]
    nav: list[NavItem] = field(default_factory=list)
    # web.default_language: when neither the account nor the browser names a language.
    default_language: str = "ru"

    def language(self, request: Request, account: Account | None) -> Language:
        """The visit's language: the account's choice, the browser's, else the setting."""
        code = i18n.choose(
            account.language if account else None,
            request.headers.get("accept-language", ""),
            self.default_language,
        )
        return i18n.language(code)

    def page(self, handler: Handler) -> Endpoint:
        """A GET page for a signed-in account; others are sent to the sign-in page."""

        async def endpoint(request: Request) -> Response:
            account = await run_in_threadpool(self._signed_in, request)
            if account is None:
                return _to_sign_in(request)
            visit = Visit(self, request, account, FormData(), self.services.clock.now())
            return await run_in_threadpool(_guarded, handler, visit)

        return endpoint

    def action(self, handler: Handler) -> Endpoint:
        """A form POST: without the session's CSRF token nothing runs (403)."""

        async def endpoint(request: Request) -> Response:
            form = await request.form()
            if not session.csrf_valid(request, form):
                return self.forbidden(request)
            account = await run_in_threadpool(self._signed_in, request)
            if account is None:
                return _to_sign_in(request)
            visit = Visit(self, request, account, form, self.services.clock.now())
            return await run_in_threadpool(_guarded, handler, visit)

        return endpoint

    def public_action(self, handler: Callable[[Request, FormData], Response]) -> Endpoint:
        """A form POST that needs no account (sign-in), CSRF-checked all the same."""

        async def endpoint(request: Request) -> Response:
            form = await request.form()
            if not session.csrf_valid(request, form):
                return self.forbidden(request)
            return await run_in_threadpool(handler, request, form)

        return endpoint

    def render(
        self,
        request: Request,
        template: str,
        account: Account | None = None,
        status_code: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        nav = [n for n in self.nav if account and (account.is_operator or not n.operator_only)]
        env = self.templates[self.language(request, account).code]
        body = env.get_template(template).render(
            request=request,
            path=request.url.path,
            account=account,
            nav=nav,
            csrf=session.csrf_token(request),
            # A one-shot message is shown by the next full page, never by an htmx fragment.
            flash="" if request.headers.get("hx-request") else session.take_flash(request),
            **context,
        )
        # The same address answers in another language for another Accept-Language.
        return HTMLResponse(body, status_code=status_code, headers={"Vary": "Accept-Language"})

    def forbidden(self, request: Request) -> HTMLResponse:
        return self.error_page(request, None, 403, FORBIDDEN)

    def error_page(
        self,
        request: Request,
        account: Account | None,
        status_code: int,
        texts: tuple[str, str],
        message: str | None = None,
    ) -> HTMLResponse:
        """error.html in the visit's language: a (title, message) pair such as NOT_FOUND,
        or its title with a message already said (a domain refusal)."""
        lang = self.language(request, account)
        title, text = texts
        return self.render(
            request,
            "error.html",
            account,
            status_code=status_code,
            title=lang.gettext(title),
            message=lang.gettext(text) if message is None else message,
        )

    def _signed_in(self, request: Request) -> Account | None:
        account_id = session.account_id(request)
        if account_id is None:
            return None
        services = self.services
        # The cookie alone is not enough: its session must still live on the server.
        live = services.sessions.account_for(session.token(request), services.clock.now())
        account = services.auth.signed_in(account_id) if live == account_id else None
        if account is None:
            session.sign_out(request)
        return account


# The error pages' titles and messages, translated when shown.
FORBIDDEN = (
    N_("Forbidden"),
    N_("The form has expired or did not come from this site. Reload the page and try again."),
)
NOT_FOUND = (N_("Not found"), N_("There is no such page."))
CANNOT = (N_("Cannot do that"), "")
FAILED = (N_("Something went wrong"), N_("The page could not be shown. Try again in a moment."))


@dataclass(frozen=True)
class Visit:
    """One request of a signed-in account."""

    cabinet: Cabinet
    request: Request
    account: Account
    form: FormData
    now: datetime

    @property
    def services(self) -> Services:
        return self.cabinet.services

    @property
    def query(self) -> Mapping[str, str]:
        return self.request.query_params

    @property
    def client_ip(self) -> str:
        return client_ip(self.request)

    @property
    def actor(self) -> Actor:
        """Who acts, for the audit log: this account from this IP."""
        return Actor(self.account.login, self.client_ip, self.account.id)

    @cached_property
    def language(self) -> Language:
        return self.cabinet.language(self.request, self.account)

    def gettext(self, message: str, **variables: Any) -> str:
        """A text of the page in the visit's language (`%(name)s` filled from variables)."""
        return self.language.gettext(message, **variables)

    def ngettext(self, singular: str, plural: str, n: int, **variables: Any) -> str:
        return self.language.ngettext(singular, plural, n, **variables)

    def refusal(self, error: DomainError) -> str:
        """A domain error as the visit's language says it (web/refusals.py)."""
        return refusal_text(self.language, error)

    @property
    def is_htmx(self) -> bool:
        return self.request.headers.get("hx-request") == "true"

    def field(self, name: str) -> str:
        value = self.form.get(name)
        return value if isinstance(value, str) else ""

    def path_int(self, name: str) -> int:
        """An integer path parameter; anything else is a page that does not exist."""
        raw = str(self.request.path_params.get(name, ""))
        if not raw.isdigit() or len(raw) > 12:
            raise NotFound("page not found")
        return int(raw)

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return self.cabinet.render(
            self.request, template, self.account, status_code=status_code, **context
        )

    def redirect(self, path: str, flash: str = "") -> Response:
        """After a POST: back to a page (htmx follows HX-Redirect; a plain form the 303)."""
        if flash:
            session.flash(self.request, flash)
        if self.is_htmx:
            return Response(status_code=204, headers={"HX-Redirect": path})
        return RedirectResponse(path, status_code=303)


def _guarded(handler: Handler, visit: Visit) -> Response:
    """Domain errors a page did not handle itself: not found → 404, the rest → 400."""
    cabinet, request, account = visit.cabinet, visit.request, visit.account
    try:
        return handler(visit)
    except NotFound:
        return cabinet.error_page(request, account, 404, NOT_FOUND)
    except DomainError as error:
        return cabinet.error_page(request, account, 400, CANNOT, visit.refusal(error))


def client_ip(request: Request) -> str:
    """The client's address (a trusted proxy's X-Forwarded-For applied by the server)."""
    return request.client.host if request.client else "0.0.0.0"


def _to_sign_in(request: Request) -> Response:
    if request.headers.get("hx-request") == "true":
        return Response(status_code=401, headers={"HX-Redirect": "/signin"})
    if request.method == "GET":
        return RedirectResponse("/signin", status_code=303)
    return Response("sign in first", status_code=401)
