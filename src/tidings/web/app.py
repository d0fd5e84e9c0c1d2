"""The web cabinet: server-rendered pages at `/` of the API's own server."""

from __future__ import annotations

import secrets
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from tidings.api.context import Services
from tidings.domain.profile import ProfileService
from tidings.store.profile import ProfileStore
from tidings.store.reports import ReportStore
from tidings.web.cabinet import Cabinet
from tidings.web.pages import PAGES
from tidings.web.templating import build_templates

STATIC_DIR = Path(__file__).parent / "static"
SESSION_COOKIE = "tidings_session"


def build_cabinet(services: Services) -> Cabinet:
    return Cabinet(
        services=services,
        templates=build_templates(),
        profile=ProfileService(ProfileStore(services.store)),
        reports=ReportStore(services.store.db),
    )


def build_web_app(services: Services) -> Starlette:
    cabinet = build_cabinet(services)
    routes: list[BaseRoute] = [Mount("/static", app=StaticFiles(directory=STATIC_DIR))]
    for page in PAGES:
        cabinet.nav += page.nav
        routes += page.routes(cabinet)
    web = services.settings.web
    middleware = [
        Middleware(
            SessionMiddleware,
            secret_key=web.session_secret or secrets.token_urlsafe(32),
            session_cookie=SESSION_COOKIE,
            max_age=web.session_max_age_s,
            same_site="lax",
            https_only=web.cookie_secure,
        )
    ]
    return Starlette(routes=routes, middleware=middleware)
