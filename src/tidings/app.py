"""Composition root: settings → store → services → the edges (HTTP API, cabinet, CLI).

The only module that knows every layer: it opens the store, puts the domain services over
the store's ports (`build_services`) and hands that bag to the edges.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import socket
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import structlog
import uvicorn
from starlette.routing import BaseRoute, Mount

from tidings.api.app import ApiApp, build_app
from tidings.api.guards.edge import edge_guards
from tidings.api.openapi import openapi_routes
from tidings.api.server import server_config
from tidings.channels.base import Channel
from tidings.channels.factory import upstream_channels
from tidings.channels.virtual import VirtualChannel
from tidings.config import GuardSettings, Settings, routes_for, safe_database_url
from tidings.dispatch.liveness import generated_worker_id
from tidings.dispatch.scheduler import Scheduler
from tidings.dispatch.sender import Dispatcher
from tidings.domain.accounts import CredentialCache
from tidings.domain.address_book import ContactService
from tidings.domain.admin import AdminService, ConfiguredUpstream, UpstreamMonitor
from tidings.domain.audit import AuditLog
from tidings.domain.auth import Authenticator
from tidings.domain.balance import BalanceService
from tidings.domain.callback_urls import CallbackPolicy
from tidings.domain.clock import Clock, SystemClock
from tidings.domain.door_binds import DoorBindService
from tidings.domain.door_inbound import DoorInboundService
from tidings.domain.door_receipts import DoorReceiptService
from tidings.domain.guards import AbuseGuard, GuardLimits
from tidings.domain.inbound import InboundService
from tidings.domain.jobs import JobService
from tidings.domain.message_rules import RequestLimits
from tidings.domain.messages import MessageService
from tidings.domain.money import to_minor
from tidings.domain.operator import OperatorService
from tidings.domain.pricing import Tariff
from tidings.domain.profile import ProfileService
from tidings.domain.reports import ReportService
from tidings.domain.senders import SenderService
from tidings.domain.sends import SendService
from tidings.domain.services import Services
from tidings.domain.sessions import SessionService
from tidings.domain.sign_in import SignInService
from tidings.domain.stop_list import StopListService
from tidings.domain.templates import TemplateService
from tidings.doors.smpp.server import SmppServer
from tidings.doors.smtp.server import SmtpServer
from tidings.errors import StartupError
from tidings.log_output import BatchedLoggerFactory
from tidings.log_privacy import masking_processor
from tidings.ops.routes import ops_routes
from tidings.store import migrate_apart
from tidings.store.audit import AuditQueries
from tidings.store.contacts import ContactStore
from tidings.store.db import DatabaseUnavailable, open_database
from tidings.store.door_binds import DoorBindQueries
from tidings.store.door_inbound import DoorInboundQueries
from tidings.store.door_receipts import DoorReceiptQueries
from tidings.store.inbound_reads import InboundQueries
from tidings.store.messages import MessageStore
from tidings.store.profile import ProfileStore
from tidings.store.reports import ReportStore
from tidings.store.repository import Store
from tidings.store.sessions import SessionStore
from tidings.store.unrouted import UnroutedStore
from tidings.waiting import refuse_to_wait
from tidings.web.app import build_web_app


def default_tariff(settings: Settings) -> Tariff:
    t = settings.tariff
    return Tariff(
        currency=t.currency,
        default_price_minor=to_minor(t.default_price),
        email_price_minor=to_minor(t.email_price),
        country_prices={c.upper(): to_minor(p) for c, p in t.country_prices.items()},
    )


T = TypeVar("T")

log = structlog.get_logger("tidings")


def upgrade_database(database_url: str, *, here: bool = False) -> None:
    """Migrate the database to the newest schema: in a child process (servers keep Alembic
    out of their memory), or `here` (the CLI's `db upgrade`)."""
    if here:
        from tidings.store import migrate

        migrate.upgrade(database_url)
    else:
        migrate_apart.upgrade(database_url)


def open_store(settings: Settings, *, upgrade: bool = True) -> Store:
    """Open the database named in the settings, migrating it to the newest schema first."""
    where = f"database {safe_database_url(settings.database_url)}"
    try:
        # Opened first: an unreachable server or a wrong role fails in seconds with the
        # server's reason, before the migration's child process would.
        db = open_database(settings.database_url)
    except DatabaseUnavailable as error:
        raise StartupError(f"{where}: {error}") from None
    if upgrade:
        try:
            upgrade_database(settings.database_url)
        except RuntimeError as error:
            db.close()
            raise StartupError(f"{where}: {error}") from None
    return Store(db, default_tariff(settings))


@dataclass
class Application:
    settings: Settings
    store: Store
    services: Services
    http: ApiApp

    def close(self) -> None:
        self.store.close()


def build_services(settings: Settings, store: Store, clock: Clock | None = None) -> Services:
    """Every domain service over the store's ports."""
    clock = clock or SystemClock()
    g = settings.guards
    messages = MessageStore(store, routes_for(settings))
    contacts = ContactStore(store.db)
    reports = ReportStore(store.db)
    credentials = CredentialCache(g.credential_cache_ttl_s)
    auth = Authenticator(store, credentials, refuse_to_wait)
    abuse = AbuseGuard(store, guard_limits(g), clock)
    senders = SenderService(contacts)
    sessions = SessionService(SessionStore(store.db), settings.web.session_max_age_s, credentials)
    inbound = InboundService(InboundQueries(store.db), settings.inbound.stop_keywords)
    audit = AuditLog(AuditQueries(store.db))
    return Services(
        clock=clock,
        auth=auth,
        abuse=abuse,
        jobs=JobService(store),
        sends=SendService(messages, settings.dispatch.default_validity_min),
        messages=MessageService(messages),
        balances=BalanceService(store, reports),
        contacts=ContactService(contacts),
        stop_list=StopListService(contacts),
        senders=senders,
        templates=TemplateService(store),
        reports=ReportService(reports),
        profile=ProfileService(
            ProfileStore(store),
            CallbackPolicy.allowing(settings.dispatch.callbacks.allow_networks),
            credentials=credentials,
        ),
        sessions=sessions,
        admin=AdminService(store, audit),
        upstreams=UpstreamMonitor(
            store, configured_upstreams(settings), routes_for(settings), UnroutedStore(store.db)
        ),
        operator=OperatorService(
            store,
            audit,
            senders=senders,
            sessions=sessions,
            abuse=abuse,
            inbound=inbound,
            forget=auth.forget,
        ),
        audit=audit,
        sign_in=SignInService(auth, abuse, sessions, audit, store),
        inbound=inbound,
        door_binds=DoorBindService(DoorBindQueries(store.db)),
        door_receipts=DoorReceiptService(
            DoorReceiptQueries(store.db), settings.smpp_server.receipt_keep_min * 60
        ),
        door_inbound=DoorInboundService(
            DoorInboundQueries(store.db), settings.smpp_server.receipt_keep_min * 60
        ),
        limits=RequestLimits(max_recipients=settings.max_recipients),
    )


@contextmanager
def opened_services(settings: Settings, *, upgrade: bool = True) -> Iterator[Services]:
    """The services over a store opened for the duration (a CLI command)."""
    store = open_store(settings, upgrade=upgrade)
    try:
        yield build_services(settings, store)
    finally:
        store.close()


def guard_limits(g: GuardSettings) -> GuardLimits:
    return GuardLimits(
        auth_failures_max=g.auth_failures_max,
        auth_failures_window_s=g.auth_failures_window_s,
        auth_block_s=g.auth_block_s,
        error_streak_max=g.error_streak_max,
        error_streak_window_s=g.error_streak_window_s,
        error_block_s=g.error_block_s,
    )


def configured_upstreams(settings: Settings) -> list[ConfiguredUpstream]:
    """The upstreams these settings define, the virtual one (test mode) first."""
    found = [ConfiguredUpstream("virtual", "virtual", "—", settings.virtual.window, 1)]
    found += [
        ConfiguredUpstream(u.name, "smpp", f"{u.host}:{u.port}", u.window, u.binds)
        for u in settings.smpp
    ]
    found += [
        ConfiguredUpstream(m.name, "smtp", f"{m.host}:{m.port}", m.pool_size, m.pool_size)
        for m in settings.smtp
    ]
    return found


def build_channels(settings: Settings) -> list[tuple[Channel, int]]:
    """Every upstream in the settings as (channel, window), the virtual one first."""
    v = settings.virtual
    lanes: list[tuple[Channel, int]] = [
        (VirtualChannel(v.delay_ms, v.failures, reply_text=v.reply_text), v.window)
    ]
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
    routes = routes_for(settings)
    # Messages that waited for want of an upstream go to the one configured since.
    moved = UnroutedStore(store.db).reroute(routes)
    if moved:
        log.info("waiting messages given an upstream", count=moved)
    if not routes.takes(mail=False):
        log.warning("no [[smpp]] upstream: live accounts' SMS wait, uncharged (err 1002)")
    scheduler = Scheduler(store.db, routes, settings.dispatch, clock)
    # One identity per process unless the operator names it (dispatch/liveness.py).
    worker = worker_id or settings.dispatch.worker_id or generated_worker_id()
    return Dispatcher(
        store.db,
        scheduler,
        lanes if lanes is not None else build_channels(settings),
        settings.dispatch,
        clock,
        worker,
        store.tariff_by_id,
        settings.inbound,
        routes,
    )


def build_application(
    settings: Settings, clock: Clock | None = None, *, upgrade: bool = True
) -> Application:
    store = open_store(settings, upgrade=upgrade)
    services = build_services(settings, store, clock)
    http = build_app(
        services,
        # Error 9 counters: in Redis when guards.redis_url is set, else in memory.
        edge_guards(settings.guards, services.clock),
        threads=settings.api_threads,
        # SQLite: a request runs on the event loop first (tidings.waiting).
        inline_first=store.db.dialect == "sqlite",
        max_body_bytes=settings.http.max_body_bytes,
        extra_routes=extra_routes(settings, store, services),
    )
    return Application(settings=settings, store=store, services=services, http=http)


def extra_routes(settings: Settings, store: Store, services: Services) -> list[BaseRoute]:
    """Everything served beside the /sys API. Order matters: the cabinet is mounted at `/`
    and must come last."""
    routes: list[BaseRoute] = []
    routes += ops_routes(store, settings.database_url, settings.metrics_token)  # /metrics, /readyz
    routes += openapi_routes()  # /openapi.yaml and /docs
    routes.append(Mount("/", app=build_web_app(services, settings.web)))  # keep it last
    return routes


def configure_logging(level: str = "info", *, unmasked: bool = False) -> None:
    """Structured logs on stderr, one JSON object a line; numbers, addresses and texts
    masked unless `unmasked` (the `log_unmasked` setting). Info lines go out in batches,
    at most 0.1 s late; warnings and errors at once (tidings/log_output.py)."""
    numeric = getattr(logging, level.upper(), logging.INFO)
    logging.basicConfig(level=numeric, stream=sys.stderr, format="%(message)s")
    privacy = [] if unmasked else [masking_processor]
    structlog.configure(
        processors=[
            *privacy,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=BatchedLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )


def settle_heap() -> None:
    """Once a process has started (modules, settings, the app, the catalogue built), take
    what it made out of the garbage collector's full passes: it lives as long as the
    process. A full pass walks every object (150,000 and more once started) and stalls
    every request in flight meanwhile: under the bench's send.php load `serve`'s HTTP
    process made one of ≈ 120 ms every ten seconds; frozen, the same pass takes ≈ 1 ms.
    Frozen objects are still freed when nothing refers to them; only cycles among them
    are left to the process's end."""
    gc.collect()
    gc.freeze()


def run_event_loop(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` on uvloop when it is installed (uvicorn[standard] brings it, and
    `tidings api` runs on it through uvicorn already): its transports and scheduling cost
    about half the CPU of asyncio's own loop per request and per SMPP PDU. This is the
    process's main loop: what it has built so far is settled first (settle_heap)."""
    settle_heap()
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


class Door(Protocol):
    """A listener SMS Center clients come in by besides HTTP (the SMPP and SMTP servers)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    @property
    def address(self) -> str: ...


def build_doors(
    settings: Settings, services: Services, *, kinds: Sequence[str] | None = None
) -> list[Door]:
    """The doors the settings enable, or those of `kinds` ("smpp", "smtp": a door's own
    command), enabled or not."""
    doors: list[Door] = []
    if "smpp" in kinds if kinds is not None else settings.smpp_server.enabled:
        doors.append(SmppServer(settings.smpp_server, services))
    if "smtp" in kinds if kinds is not None else settings.smtp_server.enabled:
        doors.append(SmtpServer(settings.smtp_server, services))
    return doors


async def start_doors(doors: Sequence[Door]) -> None:
    """Start each door; one that cannot listen stops the start (StartupError)."""
    for door in doors:
        try:
            await door.start()
        except OSError as error:
            reason = os.strerror(error.errno) if error.errno else str(error)
            raise StartupError(f"{type(door).__name__} cannot listen: {reason}") from None


@asynccontextmanager
async def doors_open(
    doors: Sequence[Door], listener: socket.socket | None = None
) -> AsyncIterator[None]:
    """The doors started for the block and stopped after it, whatever ends it. If they
    cannot start, `listener` (the HTTP port already bound) is closed with the error."""
    try:
        await start_doors(doors)
    except BaseException:
        if listener is not None:
            listener.close()
        raise
    try:
        yield
    finally:
        for door in doors:
            await door.stop()


async def serve_doors(doors: Sequence[Door], on_listening: Callable[[str], None]) -> None:
    """Only the doors (`tidings smpp-server`), until SIGTERM or SIGINT."""
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with doors_open(doors):
        for door in doors:
            on_listening(door.address)
        await stop.wait()


async def serve_with_dispatcher(
    http: ApiApp,
    dispatcher: Dispatcher,
    host: str,
    port: int,
    on_server: Callable[[uvicorn.Server], None] | None = None,
    settings: Settings | None = None,
    on_listening: Callable[[str], None] | None = None,
    doors: Sequence[Door] = (),
) -> None:
    """The HTTP API and the dispatcher in one event loop (what `tidings serve` runs). The
    port is bound first: a second `serve` in the same folder fails on it before its
    dispatcher has touched anything. The server stops on SIGINT/SIGTERM; then the
    dispatcher drains what is in flight."""
    listener = listening_socket(host, port)
    server = uvicorn.Server(server_config(http, settings or Settings(), host, port))
    if on_server is not None:
        on_server(server)
    stop = asyncio.Event()
    dispatching: asyncio.Task[None] | None = None
    try:
        # The doors stop first (their submits in flight stored), then the dispatcher.
        async with doors_open(doors, listener):
            if on_listening is not None:
                on_listening(base_url(host, listener.getsockname()[1]))
            dispatching = asyncio.create_task(dispatcher.run(stop))

            def dispatcher_ended(task: asyncio.Task[None]) -> None:
                # A dispatcher that refused its worker id (or lost it) ends the server too:
                # a `serve` that answers but never sends would hide it. Its error is
                # raised below.
                if not task.cancelled() and task.exception() is not None:
                    server.should_exit = True

            dispatching.add_done_callback(dispatcher_ended)
            await server.serve(sockets=[listener])
    finally:
        stop.set()
        if dispatching is not None:
            await dispatching
        listener.close()


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound, listening TCP socket, or StartupError saying the address is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, not 0: asyncio switches Nagle's algorithm off (TCP_NODELAY) only on
    # sockets whose protocol says TCP, and accepted sockets inherit it. With proto 0 every
    # answer waited for the client's delayed ACK: 44 ms a request under `serve`.
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(2048)
    except OSError as error:
        listener.close()
        reason = os.strerror(error.errno) if error.errno else str(error)
        raise StartupError(f"cannot listen on {host}:{port}: {reason}") from None
    listener.set_inheritable(True)
    return listener


def base_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"
