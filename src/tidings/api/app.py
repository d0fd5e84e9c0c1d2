"""The HTTP edge of the SMS Center API: every /sys script goes through `handle`.

Order of work per request (jobs.md §2, §5): blocked IP → body size → parameters →
credentials → allowlist → concurrency slot → the script (a body that does not arrive in one
piece takes the slot before the rest is awaited, if the query's credentials authenticate:
api/intake.py). Every outcome is HTTP 200 with a body in the requested `fmt`; an unexpected
failure is logged and answered as an error, never a 500.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import structlog
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from tidings.api import intake
from tidings.api import params as request_params
from tidings.api.context import Call, Deferred, ScriptHandler
from tidings.api.endpoints.answers import handle_receive_phones
from tidings.api.endpoints.balance import handle_balance
from tidings.api.endpoints.callback import handle_callback
from tidings.api.endpoints.get import handle_get
from tidings.api.endpoints.jobs import handle_jobs
from tidings.api.endpoints.not_provided import UNKNOWN, not_provided
from tidings.api.endpoints.phones import handle_phones
from tidings.api.endpoints.send import handle_send
from tidings.api.endpoints.senders import handle_senders
from tidings.api.endpoints.status import handle_status
from tidings.api.endpoints.templates import handle_templates
from tidings.api.errors import error_code
from tidings.api.formats import renderer_for
from tidings.api.guards.edge import EdgeGuards
from tidings.api.guards.identity import request_identity
from tidings.api.responses import api_response
from tidings.api.rest import REST, SYS, Variant
from tidings.config import HttpSettings
from tidings.domain.accounts import Account
from tidings.domain.send_request import echoed_id
from tidings.domain.sends import PreparedSend, Sent
from tidings.domain.services import Services
from tidings.errors import AccountDisabled, DomainError, InvalidParameter, IpBlocked
from tidings.group_commit import GroupCommit
from tidings.ops.metrics import record_request
from tidings.waiting import on_loop_first

log = structlog.get_logger("tidings.api")
T = TypeVar("T")

SCRIPTS: dict[str, ScriptHandler] = {
    "jobs": handle_jobs,
    "send": handle_send,
    "status": handle_status,
    "balance": handle_balance,
    "phones": handle_phones,
    "senders": handle_senders,
    "get": handle_get,
    "templates": handle_templates,
    "callback": handle_callback,
    "receive_phones": handle_receive_phones,
}
# Bodies up to this are parsed on the event loop first (SQLite; tidings.waiting); a larger one
# costs milliseconds per 100 KB there, time every other request would wait.
INLINE_BODY_MAX = 256 * 1024
# Requests that change state are refused when repeated within a minute (error 9).
# phones.php is not here: it allows three identical requests a minute (api/limits.py).
_STATE_CHANGING = {
    "jobs": ("add", "del", "cancel"),
    "senders": ("add", "del"),
    "templates": ("add", "chg", "del"),
    "callback": ("set", "del"),
}


def _reference(script: str, params: request_params.Params | None) -> str | None:
    """send.php echoes the client's id in every error (`ERROR = N (…), ID - <id>`)."""
    if script != "send" or params is None:
        return None
    return echoed_id(params.get("id"))


def _sends(script: str, params: request_params.Params) -> bool:
    """A send.php request that sends (not a cost query) is refused when repeated."""
    return script == "send" and params.text("cost").strip() != "1"


def parse_fmt(value: str | None) -> int:
    text = (value or "").strip()
    if text in ("", "0", "1", "2", "3"):
        return int(text or 0)
    raise InvalidParameter("fmt must be 0, 1, 2 or 3")


@dataclass(frozen=True)
class Edge:
    """What every request of this app shares."""

    services: Services
    guards: EdgeGuards
    threads: StoreThreads
    max_body_bytes: int
    # send.php's sends in flight, stored together (group_commit.py).
    sends: GroupCommit[PreparedSend, Sent]


class Outcome:
    """What one request ended as (for the response, the log and the abuse guard)."""

    def __init__(self, fmt: int, codec: str = "cp1251", label: str = "windows-1251") -> None:
        self.fmt = fmt
        self.codec = codec
        self.label = label
        self.code = 0
        self.body = ""
        self.login = ""
        self.deferred: Deferred | None = None


def build_app(
    services: Services,
    guards: EdgeGuards,
    *,
    threads: int,
    inline_first: bool,
    max_body_bytes: int = HttpSettings().max_body_bytes,
    extra_routes: Sequence[BaseRoute] = (),
) -> ApiApp:
    """The /sys scripts and health check, then `extra_routes` (metrics, OpenAPI, the web
    cabinet mounted at `/` last, so it never shadows an API path). The store is called from
    `threads` threads; with `inline_first` (SQLite) a request runs on the event loop first."""
    store_threads = StoreThreads(threads, inline=inline_first)
    sends = GroupCommit(services.sends.store, store_threads.run)
    edge = Edge(services, guards, store_threads, max_body_bytes, sends)

    async def script_response(request: Request, script: str) -> Response:
        handler = SCRIPTS.get(script)
        if handler is None:
            return await _serve(request, UNKNOWN, not_provided(f"{script}.php"), edge)
        return await _serve(request, script, handler, edge)

    async def sys_script(request: Request) -> Response:
        return await script_response(request, request.path_params["script"])

    async def sys_other(request: Request) -> Response:
        # Anything else under /sys/ is not a script either: an error envelope, never a 404.
        path = request.path_params["path"]
        return await _serve(request, UNKNOWN, not_provided(f"/sys/{path}"), edge)

    async def rest(request: Request) -> Response:
        name = request.path_params["path"].strip("/")
        if name == "send":
            return await _serve(request, "send", handle_send, edge, REST)
        label = f"/rest/{name}/" if name else "/rest/"
        return await _serve(request, UNKNOWN, not_provided(label), edge, REST)

    async def healthz(_request: Request) -> Response:
        return PlainTextResponse("ok")

    routes = [
        Route("/sys/{script}.php", sys_script, methods=["GET", "POST"]),
        Route("/sys/{path:path}", sys_other, methods=["GET", "POST"]),
        Route("/rest/{path:path}", rest, methods=["GET", "POST"]),
        Route("/healthz", healthz),
        *extra_routes,
    ]
    return ApiApp(Starlette(routes=routes), script_response)


# What Route("/sys/{script}.php") matches: `{script}` is one path segment.
_SYS_SCRIPT = re.compile(r"/sys/([^/]+)\.php")
_SYS_METHODS = ("GET", "POST")


class ApiApp:
    """The app every request enters: /sys/<script>.php — send.php, jobs.php… — straight to
    its script, everything else through Starlette's routing and middleware. Starlette's
    layers (its two exception middlewares, the router trying each route, the request/response
    wrapper) cost a send.php request about as much as its parameters' parsing, for nothing:
    a script never raises to them (`_serve` answers every error itself)."""

    def __init__(
        self, app: Starlette, script: Callable[[Request, str], Awaitable[Response]]
    ) -> None:
        self.starlette = app
        self._script = script

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in _SYS_METHODS
            and not scope.get("root_path")
        ):
            match = _SYS_SCRIPT.fullmatch(scope["path"])
            if match is not None:
                response = await self._script(Request(scope, receive), match.group(1))
                await response(scope, receive, send)
                return
        await self.starlette(scope, receive, send)


async def _serve(
    request: Request, script: str, handler: ScriptHandler, edge: Edge, variant: Variant = SYS
) -> Response:
    services, guards, threads = edge.services, edge.guards, edge.threads
    started = time.perf_counter()
    client_ip = request.client.host if request.client else "0.0.0.0"
    query = request_params.query_pairs(request.scope.get("query_string", b""))
    query += variant.settings
    out = Outcome(_fmt_hint(dict(query).get("fmt")))
    taken = Slot(guards)
    try:
        if not services.abuse.check_cached(client_ip):
            await threads.run(services.abuse.check, client_ip)
        intake.check_declared_length(request, edge.max_body_bytes)
        early: list[intake.Probe] = []

        async def check_credentials_early() -> None:
            # A body still arriving keeps the request in flight: its slot is taken now, for
            # an authenticated caller only (intake.py).
            credentials = intake.query_credentials(query)
            if credentials is not None:
                found = await threads.run_or_inline(intake.probe, services, credentials, client_ip)
                early.append(found)
                if found.account is not None:
                    taken.enter(found.account.login)

        body = await intake.read_body(request, edge.max_body_bytes, check_credentials_early)
        probe = early[0] if early else None
        headers = request.headers
        args = (edge, script, handler, variant, query, headers, body, client_ip, probe, taken)
        # A large body is parsed in a thread: on the event loop it would stall every request.
        run = threads.run if len(body) > INLINE_BODY_MAX else threads.run_or_inline
        out = await run(_process, *args)
        if out.deferred is not None:
            await _store_deferred(edge, out, client_ip)
    except DomainError as error:
        if isinstance(error, intake.BodyTooLarge):
            content_type = request.headers.get("content-type", "")
            _read_hints(out, [*query, *error.hints(content_type), *variant.settings])
        out.code = error_code(error)
        out.body = renderer_for(out.fmt).error(out.code, error.description, error.reference)
    except ClientDisconnect:
        # The client left (or missed the body's deadline) before its request arrived:
        # nothing was done, nobody to answer.
        log.info("client disconnected", script=script, ip=client_ip)
        return Response(status_code=400)
    except Exception:
        log.exception("request failed", script=script)
        out.code = 3
        out.body = renderer_for(out.fmt).error(3, "internal error, try again")
    finally:
        taken.leave()
    record_request(script, out.code, started)
    log.info(
        "request",
        script=script,
        ip=client_ip,
        login=out.login,
        code=out.code,
        ms=round((time.perf_counter() - started) * 1000, 2),
    )
    return api_response(out.body, out.codec, out.label, renderer_for(out.fmt).media_type)


class Slot:
    """The concurrency slot one request holds (error 9 beyond 14 per login), if any."""

    def __init__(self, guards: EdgeGuards) -> None:
        self._guards = guards
        self.login = ""

    def enter(self, login: str) -> None:
        """Take a slot for `login` unless one is held for it already. Only a slot actually
        taken is given back: a refused one is not ours."""
        if login == self.login:
            return
        self.leave()
        self._guards.concurrency.enter(login)
        self.login = login

    def leave(self) -> None:
        if self.login:
            login, self.login = self.login, ""
            self._guards.concurrency.leave(login)


def _authenticate(
    services: Services, credentials: intake.Credentials, early: intake.Probe | None
) -> Account:
    """The caller's account; credentials already checked before the body are not again."""
    if early is not None and early.answers(credentials):
        if early.error is not None:
            raise early.error
        if early.account is not None:
            return early.account
    return services.auth.authenticate(credentials.login, credentials.psw, credentials.apikey)


class StoreThreads:
    """The store is synchronous: each request makes one hop to these threads. A plain
    executor costs a fraction of anyio's thread hop (a third of the event loop's time under
    load), and a small one beats a large one: threads contending for the GIL cost more than
    they overlap."""

    def __init__(self, threads: int, *, inline: bool = False) -> None:
        self._threads = threads
        self._inline = inline
        self._executor: ThreadPoolExecutor | None = None

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self._threads, thread_name_prefix="store")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def run_or_inline(self, fn: Callable[..., T], *args: Any) -> T:
        """On SQLite, first on the event loop itself, where a request costs half the CPU of
        a thread hop; whatever would wait there (tidings.waiting) is refused before anything
        is written, and the request runs again in a thread."""
        if self._inline:
            return await on_loop_first(partial(fn, *args), self.run)
        return await self.run(fn, *args)


def _fmt_hint(raw: bytes | None) -> int:
    try:
        return parse_fmt(raw.decode("latin-1") if raw else None)
    except InvalidParameter:
        return 0


def _read_hints(out: Outcome, pairs: request_params.RawPairs) -> None:
    """`fmt` and `charset` are ASCII in every charset: read them before anything can fail, so
    that an error in the body or its text is answered in the fmt and charset asked for."""
    values = dict(pairs)
    out.fmt = _fmt_hint(values.get("fmt"))
    out.codec, out.label = request_params.answer_charset(values.get("charset"))


def _process(
    edge: Edge,
    script: str,
    handler: ScriptHandler,
    variant: Variant,
    query: request_params.RawPairs,
    headers: Mapping[str, str],
    body: bytes,
    client_ip: str,
    early: intake.Probe | None,
    slot: Slot,
) -> Outcome:
    """Everything after the body has arrived; runs in a worker thread (the store is sync)."""
    services = edge.services
    fmt_hint = _fmt_hint(dict(query).get("fmt"))
    out = Outcome(fmt_hint)
    params: request_params.Params | None = None
    try:
        _read_hints(out, query)
        try:
            pairs = variant.read_body(headers.get("content-type", ""), body)
            pairs += variant.settings
        except InvalidParameter:
            hints = request_params.settings_in_unreadable_body(body)
            _read_hints(out, [*query, *hints, *variant.settings])
            raise
        _read_hints(out, [*query, *pairs])
        params = request_params.decode(query, pairs)
        request_params.refuse_nul(params)
        del pairs  # its raw bytes (a million numbers: 11 MB) are not kept while they are parsed
        out.codec, out.label = params.codec, params.charset_label
        out.fmt = _fmt_hint(params.text("fmt").encode("latin-1", "replace"))
        answer = _call(edge, script, handler, params, client_ip, out, early, slot)
        if isinstance(answer, Deferred):
            out.deferred = answer  # answered once stored: _store_deferred
            return out
        out.body = answer
        services.abuse.request_succeeded(client_ip)
    except DomainError as error:
        out.code = error_code(error)
        reference = error.reference or _reference(script, params)
        out.body = renderer_for(out.fmt).error(out.code, error.description, reference)
        if not isinstance(error, IpBlocked):
            services.abuse.request_failed(client_ip)
    return out


def _call(
    edge: Edge,
    script: str,
    handler: ScriptHandler,
    params: request_params.Params,
    client_ip: str,
    out: Outcome,
    early: intake.Probe | None,
    slot: Slot,
) -> str | Deferred:
    services = edge.services
    fmt = parse_fmt(params.get("fmt"))
    credentials = intake.Credentials.of(params.values)
    login = credentials.login
    out.login = login
    try:
        account = _authenticate(services, credentials, early)
    except AccountDisabled:
        raise  # the right credentials: not a failure to count against the IP
    except DomainError:
        if not services.auth.is_allowlisted(login, client_ip):
            services.abuse.auth_failed(client_ip)
        raise
    services.auth.check_ip(account, client_ip)
    # Requests in flight are counted per authenticated login (error 9 beyond the limit).
    slot.enter(account.login)
    call = Call(
        script=script,
        params=params,
        fmt=fmt,
        renderer=renderer_for(fmt),
        account=account,
        client_ip=client_ip,
        now=services.clock.now(),
        services=services,
        guards=edge.guards,
    )
    guard: Any = nullcontext()
    actions = _STATE_CHANGING.get(script, ())
    if any(params.flag(action) for action in actions) or _sends(script, params):
        guard = edge.guards.duplicates.hit(request_identity(account.id, script, params.values))
    with ExitStack() as stack:
        stack.enter_context(guard)
        answer = handler(call)
        if isinstance(answer, Deferred):
            # The repeat guard's hit is undone if the store refuses the send.
            answer.on_refusal = stack.pop_all()
        return answer


async def _store_deferred(edge: Edge, out: Outcome, client_ip: str) -> None:
    """A send prepared by its handler, stored with the others in flight; then answered."""
    deferred, out.deferred = out.deferred, None
    assert deferred is not None
    try:
        sent = await edge.sends.submit(deferred.prepared)
    except Exception as error:
        deferred.on_refusal.__exit__(type(error), error, error.__traceback__)
        if not isinstance(error, DomainError):
            raise
        out.code = error_code(error)
        reference = error.reference or deferred.reference
        out.body = renderer_for(out.fmt).error(out.code, error.description, reference)
        edge.services.abuse.request_failed(client_ip)
        return
    deferred.on_refusal.close()
    out.body = deferred.render(sent)
    edge.services.abuse.request_succeeded(client_ip)
