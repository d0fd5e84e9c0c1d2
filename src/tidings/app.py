"""Composition root: settings → store → services → HTTP app."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass

import structlog
from starlette.applications import Starlette

from tidings.api.app import build_app
from tidings.api.context import Services
from tidings.api.guards import ConcurrencyGuard, DuplicateGuard
from tidings.config import Settings
from tidings.domain.accounts import CredentialCache
from tidings.domain.auth import Authenticator
from tidings.domain.clock import Clock, SystemClock
from tidings.domain.guards import AbuseGuard, GuardLimits
from tidings.domain.jobs import JobService
from tidings.domain.money import to_minor
from tidings.domain.pricing import Tariff
from tidings.store import migrate
from tidings.store.db import open_database
from tidings.store.repository import Store


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
        migrate.upgrade(settings.database_url)
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
    return Services(
        settings=settings,
        store=store,
        clock=clock,
        auth=Authenticator(store, CredentialCache(g.credential_cache_ttl_s)),
        abuse=AbuseGuard(store, limits, clock),
        duplicates=DuplicateGuard(g.duplicate_window_s, clock),
        concurrency=ConcurrencyGuard(g.max_concurrent_per_login),
        jobs=JobService(store),
    )


def build_application(settings: Settings, clock: Clock | None = None) -> Application:
    store = open_store(settings)
    services = build_services(settings, store, clock)
    return Application(services=services, http=build_app(services))


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
