"""What a dispatcher tells the operator about each upstream ("lane"): Prometheus series
updated as results come back, and a row in `upstream_states` written every couple of seconds
(so every process, on any machine, sees every dispatcher's upstreams)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from tidings.channels.base import Channel, SubmitResult
from tidings.ops.metrics import IN_FLIGHT, SUBMITS, WINDOW
from tidings.store.operations import StateReport

REPORT_EVERY_S = 2.0


class _BindCount(Protocol):
    binds: int


@runtime_checkable
class ReportsBinds(Protocol):
    """A channel with persistent binds (SMPP)."""

    upstream: _BindCount

    @property
    def live_binds(self) -> int: ...

    @property
    def last_errors(self) -> list[str]: ...


def channel_kind(channel: Channel) -> str:
    """The kind of channel ("smpp", "smtp", "virtual"): its class name without "Channel"."""
    return type(channel).__name__.removesuffix("Channel").lower()


class LaneStats:
    def __init__(self, upstream: str, channel: Channel, window: int) -> None:
        self.upstream = upstream
        self.channel = channel
        self.kind = channel_kind(channel)
        self.window = window
        self.submitted = 0
        self.last_error = ""
        self.last_error_at: int | None = None
        self._accepted = SUBMITS.labels(upstream, "accepted")
        self._failed = SUBMITS.labels(upstream, "failed")
        self._retried = SUBMITS.labels(upstream, "retry")
        self._in_flight = IN_FLIGHT.labels(upstream)
        self._window = WINDOW.labels(upstream)
        self._window.set(window)
        self._reported_count = 0
        self._reported_at = time.monotonic()
        self._bind_error_seen = ""
        self.stopped = False

    def results(self, batch: Sequence[tuple[object, SubmitResult]], in_flight: int) -> None:
        """Count a batch of results as it is recorded; set the window in use."""
        accepted = failed = retried = 0
        for _item, result in batch:
            if result.accepted:
                accepted += 1
            elif result.retry:
                retried += 1
            else:
                failed += 1
            if not result.accepted:
                self.last_error = result.detail or "refused"
                self.last_error_at = int(time.time())
        self.submitted += accepted
        if accepted:
            self._accepted.inc(accepted)
        if failed:
            self._failed.inc(failed)
        if retried:
            self._retried.inc(retried)
        self._in_flight.set(in_flight)

    def finished(self) -> None:
        self.stopped = True
        self._in_flight.set(0)
        self._window.set(0)

    def report(self, worker_id: str, in_flight: int) -> StateReport:
        now = time.monotonic()
        elapsed = now - self._reported_at
        rate = (self.submitted - self._reported_count) / elapsed if elapsed > 0 else 0.0
        self._reported_count, self._reported_at = self.submitted, now
        bound, live, total = not self.stopped, 0, 0
        if isinstance(self.channel, ReportsBinds):
            live, total = self.channel.live_binds, self.channel.upstream.binds
            bound = live > 0
            errors = self.channel.last_errors
            if errors and errors[-1] != self._bind_error_seen:
                self._bind_error_seen = errors[-1]
                self.last_error, self.last_error_at = errors[-1], int(time.time())
        return StateReport(
            upstream=self.upstream,
            worker_id=worker_id,
            kind=self.kind,
            bound=bound,
            binds_live=live,
            binds_total=total,
            in_flight=in_flight,
            window=0 if self.stopped else self.window,
            rate=round(rate, 2),
            submitted=self.submitted,
            last_error=self.last_error,
            last_error_at=self.last_error_at,
            updated_at=int(time.time()),
        )
