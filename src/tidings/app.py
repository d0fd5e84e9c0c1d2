"""Composition root: settings → store → services → HTTP app."""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass

import structlog
import uvicorn
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount

from tidings.api.app import build_app
from tidings.api.context import Services
from tidings.api.guards.edge import edge_guards
from tidings.api.openapi import openapi_routes
from tidings.channels.base import Channel
from tidings.channels.factory import upstream_channels
from tidings.channels.virtual import VirtualChannel
from tidings.config import Settings
from tidings.dispatch.routing import Routes
from tidings.dispatch.scheduler import Scheduler
from tidings.dispatch.sender import Dispatcher
from tidings.domain.accounts import CredentialCache
from tidings.domain.auth import Authenticator
from tidings.domain.clock import Clock, SystemClock
from tidings.domain.guards import AbuseGuard, GuardLimits
from tidings.domain.jobs import JobService
from tidings.domain.money import to_minor
from tidings.domain.pricing import Tariff
from tidings.domain.sends import SendService
from tidings.ops.routes import ops_routes
from tidings.store import migrate_apart
from tidings.store.contacts import ContactStore
from tidings.store.db import open_database
from tidings.store.messages import MessageStore
from tidings.store.repository import Store
from tidings.web.app import build_web_app


def default_tariff(settings: Settings) -> Tariff:
    t = settings.tariff
    return Tariff(
        currency=t.currency,
        default_price_minor=to_minor(t.default_price),
        email_price_minor=to_minor(t.email_price),
        country_prices={c.upper(): to_minor(p) for c, p in t.country_prices.items()},
    )


def open_store(settings: Settings, *, upgrade: bool = True) -> Store:
    """Open the database named in the settings, migrating it to the newest schema first."""
    if upgrade:
        migrate_apart.upgrade(settings.database_url)
    return Store(open_database(settings.database_url), default_tariff(settings))


@dataclass
class Application:
    services: Services
    http: Starlette

    def close(self) -> None:
        self.services.store.close()


def build_services(settings: Settings, store: Store, clock: Clock | None = None) -> Services:
    clock = clock or SystemClock()
    g = settings.guards
    limits = GuardLimits(
        auth_failures_max=g.auth_failures_max,
        auth_failures_window_s=g.auth_failures_window_s,
        auth_block_s=g.auth_block_s,
        error_streak_max=g.error_streak_max,
        error_streak_window_s=g.error_streak_window_s,
        error_block_s=g.error_block_s,
    )
    messages = MessageStore(store, routes_for(settings))
    guards = edge_guards(g, clock)  # in Redis when g.redis_url is set, else in memory
    return Services(
        settings=settings,
        store=store,
        clock=clock,
        auth=Authenticator(store, CredentialCache(g.credential_cache_ttl_s)),
        abuse=AbuseGuard(store, limits, clock),
        duplicates=guards.duplicates,
        phone_repeats=guards.phone_repeats,
        balance_requests=guards.balance_requests,
        concurrency=guards.concurrency,
        jobs=JobService(store),
        sends=SendService(messages, settings.dispatch.default_validity_min),
        messages=messages,
        contacts=ContactStore(store.db),
    )


def routes_for(settings: Settings) -> Routes:
    return Routes(
        smpp=[(u.name, tuple(u.prefixes)) for u in settings.smpp],
        smtp=[u.name for u in settings.smtp],
    )


def build_channels(settings: Settings) -> list[tuple[Channel, int]]:
    """Every upstream in the settings as (channel, window), the virtual one first."""
    v = settings.virtual
    lanes: list[tuple[Channel, int]] = [(VirtualChannel(v.delay_ms, v.failures), v.window)]
    lanes += upstream_channels(settings)
    return lanes


def build_dispatcher(
    settings: Settings,
    store: Store,
    clock: Clock | None = None,
    lanes: list[tuple[Channel, int]] | None = None,
    worker_id: str | None = None,
) -> Dispatcher:
    clock = clock or SystemClock()
    scheduler = Scheduler(store.db, routes_for(settings), settings.dispatch, clock)
    worker = worker_id or settings.dispatch.worker_id or socket.gethostname()
    return Dispatcher(
        store.db,
        scheduler,
        lanes if lanes is not None else build_channels(settings),
        settings.dispatch,
        clock,
        worker,
        store.tariff_by_id,
    )


def build_application(
    settings: Settings, clock: Clock | None = None, *, upgrade: bool = True
) -> Application:
    store = open_store(settings, upgrade=upgrade)
    services = build_services(settings, store, clock)
    return Application(services=services, http=build_app(services, extra_routes(services)))


def extra_routes(services: Services) -> list[BaseRoute]:
    """Everything served beside the /sys API. Order matters: the cabinet is mounted at `/`
    and must come last."""
    routes: list[BaseRoute] = []
    routes += ops_routes(services.store, services.settings.database_url)  # /metrics, /readyz
    routes += openapi_routes()  # /openapi.yaml and /docs
    routes.append(Mount("/", app=build_web_app(services)))  # the web cabinet: keep it last
    return routes


def configure_logging(level: str = "info") -> None:
    """Structured logs on stderr, one JSON object a line."""
    numeric = getattr(logging, level.upper(), logging.INFO)
    logging.basicConfig(level=numeric, stream=sys.stderr, format="%(message)s")
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )


async def serve_with_dispatcher(
    http: Starlette,
    dispatcher: Dispatcher,
    host: str,
    port: int,
    on_server: Callable[[uvicorn.Server], None] | None = None,
) -> None:
    """The HTTP API and the dispatcher in one event loop (what `tidings serve` runs). The
    server stops on SIGINT/SIGTERM; then the dispatcher drains what is in flight."""
    server = uvicorn.Server(
        uvicorn.Config(
            http, host=host, port=port, log_level="warning", access_log=False, lifespan="off"
        )
    )
    if on_server is not None:
        on_server(server)
    stop = asyncio.Event()
    dispatching = asyncio.create_task(dispatcher.run(stop))
    try:
        await server.serve()
    finally:
        stop.set()
        await dispatching
