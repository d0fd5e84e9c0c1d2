"""The HTTP server under the API and the cabinet: uvicorn, with deadlines and a connection cap.

uvicorn bounds only the idle time between two requests of a keep-alive connection. A client
that sends its request head or its body slowly, or connects and sends nothing, holds its
connection — one open file — for as long as it likes, and a thousand of them exhaust the
process's open-files limit: `accept` then fails and nobody else is answered. Here:

* the request head must be complete `header_timeout_s` after the connection's first byte
  (or after the previous answer, for a keep-alive connection), and the body `body_timeout_s`
  after the head; a connection that misses a deadline is closed;
* at most `max_connections` connections are open (never more than the open-files limit less
  `reserved_files`). A connection beyond the cap closes the one that has waited longest on its
  client — an unfinished head or body, an idle keep-alive — or, if every one is being
  answered, itself. Slow clients are the oldest by their nature; a prompt client's request
  is answered before it could become the oldest.

The deadlines cost nothing for a request that arrives in one piece: a timer is set only when
a read ends with the head or the body still unfinished.

An answer goes out in one write: uvicorn writes the status line and headers, then the body,
each a system call and a TCP segment of its own (the client woken twice). The application's
writes are gathered (`OneWrite`) and written when the answer is complete, or at the end of
the event loop's turn for an answer streamed in parts.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import resource
import time
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from tidings.config import HttpSettings, Settings

log = logging.getLogger("tidings.api.server")
_WARN_EVERY_S = 60.0


class Phase(enum.Enum):
    """What a connection is waiting for. Only BUSY connections are never closed to make room."""

    IDLE = "idle"  # nothing yet, or the next request of a keep-alive connection
    HEAD = "head"  # the rest of the request head
    BODY = "body"  # the rest of the body
    BUSY = "busy"  # the request has arrived: the application is answering it


def connection_cap(limits: HttpSettings) -> int:
    """`max_connections`, but never so many that accept() runs out of descriptors."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return limits.max_connections
    return max(1, min(limits.max_connections, soft - limits.reserved_files))


class EdgeConfig(uvicorn.Config):
    """uvicorn's Config with the limits the protocol below reads (it is pickled whole to the
    worker processes of `tidings api --workers N`)."""

    def __init__(self, app: Any, *, limits: HttpSettings, **kwargs: Any) -> None:
        self.limits = limits
        self.connection_cap = connection_cap(limits)
        trusted = list(limits.trusted_proxies)
        super().__init__(
            app,
            http=GuardedHttpProtocol,
            # X-Forwarded-For is read only from the proxies named in the settings (uvicorn
            # trusts 127.0.0.1 by default: any local client could name itself any address).
            proxy_headers=bool(trusted),
            forwarded_allow_ips=trusted,
            **kwargs,
        )


def server_config(app: Any, settings: Settings, host: str, port: int, **kwargs: Any) -> EdgeConfig:
    """The server every command runs (`serve`, `api`, `api --workers N`) and the tests use."""
    values: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "warning",
        "access_log": False,
        "lifespan": "off",
        **kwargs,
    }
    return EdgeConfig(app, limits=settings.http, **values)


class OneWrite:
    """The transport as a request's answer sees it: its writes gathered, and written
    together when the answer is complete (`flush`), or at the end of the loop's turn."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(data)

    def flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():  # the client left: nobody to write to
                self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the deadlines and the cap of this module."""

    _last_warning = 0.0

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        limits = getattr(config, "limits", None) or HttpSettings()
        self._cap: int = getattr(config, "connection_cap", None) or connection_cap(limits)
        self._timeouts = {
            Phase.IDLE: limits.header_timeout_s,
            Phase.HEAD: limits.header_timeout_s,
            Phase.BODY: limits.body_timeout_s,
        }
        self.phase = Phase.IDLE
        self.since = time.monotonic()
        self._deadline: asyncio.TimerHandle | None = None
        self._answer: OneWrite | None = None

    # ---- the deadlines ------------------------------------------------------------------

    def _enter(self, phase: Phase) -> None:
        if phase is not self.phase:
            self._cancel_deadline()
            self.phase = phase
            self.since = time.monotonic()

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _arm_deadline(self) -> None:
        timeout = self._timeouts.get(self.phase)
        if timeout is not None and self._deadline is None:
            remaining = self.since + timeout - time.monotonic()
            self._deadline = self.loop.call_later(max(remaining, 0.0), self._expired)

    def _expired(self) -> None:
        self._deadline = None
        # Debug only: a flood of slow clients would otherwise flood the log as well.
        log.debug("closing a connection: its request did not arrive in time (%s)", self.phase.value)
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.since = time.monotonic()
        # A connection that never sends a byte has the head's deadline too.
        self._arm_deadline()
        if len(self.connections) > self._cap:
            self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.phase in (Phase.HEAD, Phase.BODY) and not self.transport.is_closing():
            self._arm_deadline()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self.phase is Phase.IDLE and self._deadline is not None:
            # The first request's head: its deadline counts from the connection.
            self.phase = Phase.HEAD
        else:
            self._enter(Phase.HEAD)

    def on_headers_complete(self) -> None:
        self._enter(Phase.BODY)
        super().on_headers_complete()
        if self.cycle is not None:
            self._answer = OneWrite(self.transport, self.loop)
            self.cycle.transport = self._answer  # type: ignore[assignment]

    def on_message_complete(self) -> None:
        if self.cycle is not None and self.cycle.response_complete:
            # The rest of a body refused early has been dropped: the connection waits for its
            # next request, and uvicorn's keep-alive timer (set at the answer) is gone.
            self._enter(Phase.IDLE)
            self._arm_deadline()
        else:
            self._enter(Phase.BUSY)
        super().on_message_complete()

    def on_response_complete(self) -> None:
        # The answer goes out before the next pipelined request's can.
        if self._answer is not None:
            self._answer.flush()
            self._answer = None
        # A response sent before the body arrived (a refusal) leaves the body's deadline on.
        if self.phase is Phase.BUSY:
            self._enter(Phase.IDLE)
        super().on_response_complete()

    # ---- the cap --------------------------------------------------------------------------

    def _make_room(self) -> None:
        """Close the connection that has waited longest on its client (or this new one)."""
        victim: GuardedHttpProtocol | None = None
        for other in self.connections:
            if other is self or not isinstance(other, GuardedHttpProtocol):
                continue
            if other.phase is Phase.BUSY or other.transport.is_closing():
                continue
            if victim is None or other.since < victim.since:
                victim = other
        now = time.monotonic()
        if now - GuardedHttpProtocol._last_warning >= _WARN_EVERY_S:
            GuardedHttpProtocol._last_warning = now
            log.warning(
                "connection cap reached (%d): closing the connection waiting longest",
                self._cap,
            )
        (victim or self).transport.close()
