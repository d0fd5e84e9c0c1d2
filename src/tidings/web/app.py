"""The web cabinet: server-rendered pages at `/` of the API's own server."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import structlog
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tidings.config import WebSettings
from tidings.domain.services import Services
from tidings.web.cabinet import FAILED, NOT_FOUND, Cabinet
from tidings.web.pages import PAGES
from tidings.web.templating import build_all_templates

log = structlog.get_logger("tidings.web")

STATIC_DIR = Path(__file__).parent / "static"
SESSION_COOKIE = "tidings_session"
# Defence in depth behind autoescaping: scripts and styles only from this server, no
# framing, forms post only here. Inline style attributes draw the progress bars; no inline
# script runs (a form asks before submitting with <form data-confirm="…">, cabinet.js).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every cabinet response (pure ASGI: streaming stays streamed)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


# Set by `tidings api --workers N` for its workers, so that without web.session_secret the
# processes behind one port still sign cookies alike (random per supervisor run).
SHARED_SECRET_ENV = "TIDINGS_WEB_PROCESS_SECRET"


def session_secret(settings: WebSettings) -> str:
    """The configured secret, else the one shared by this run's processes, else random."""
    return settings.session_secret or os.environ.get(SHARED_SECRET_ENV) or secrets.token_urlsafe(32)


def build_web_app(services: Services, web: WebSettings) -> Starlette:
    """The cabinet over the domain services (built by tidings.app.build_services)."""
    cabinet = Cabinet(
        services=services, templates=build_all_templates(), default_language=web.default_language
    )
    routes: list[BaseRoute] = [Mount("/static", app=StaticFiles(directory=STATIC_DIR))]
    for page in PAGES:
        cabinet.nav += page.nav
        routes += page.routes(cabinet)
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(
            SessionMiddleware,
            secret_key=session_secret(web),
            session_cookie=SESSION_COOKIE,
            max_age=web.session_max_age_s,
            same_site="lax",
            https_only=web.cookie_secure,
        ),
    ]

    async def not_found(request: Request, _error: Exception) -> Response:
        # A page of the cabinet's own, not Starlette's bare "Not Found".
        return cabinet.error_page(request, None, 404, NOT_FOUND)

    async def failed(request: Request, error: Exception) -> Response:
        log.error("cabinet page failed", path=request.url.path, error=repr(error))
        return cabinet.error_page(request, None, 500, FAILED)

    handlers = {404: not_found, 500: failed}
    return Starlette(routes=routes, middleware=middleware, exception_handlers=handlers)
