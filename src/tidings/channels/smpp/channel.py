"""SmppChannel: the Channel port over one upstream SMSC, with several binds.

Policy (the session only reports; this module decides):
* Binds are used least-loaded first (ties round-robin). A dropped bind reconnects on its own
  with exponential backoff; meanwhile submits wait for any live bind, up to the response
  timeout, and then return RETRY.
* ESME_RTHROTTLED / ESME_RMSGQFUL: the bind that said it pauses for a short pause that doubles
  while the SMSC keeps saying it (reset by the next accepted submit), and the same part is
  tried again inside the channel, on any bind, up to `throttle_retries` times. Retrying inside
  matters for long messages: returning `retry` after part 2 of 3 was accepted would make the
  dispatcher resend part 1 too. Only when the SMSC keeps refusing is the outcome RETRY
  (err = the status), and the dispatcher resubmits later.
* A submit whose PDU was written but not answered (response timeout, connection lost) is
  AMBIGUOUS, for the dispatcher's `on_ambiguous` policy. A submit that never reached the
  socket is simply tried again.
* Any other non-zero status is final (see `final_status_for`), err = the SMPP status.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from dataclasses import dataclass, field, replace
from datetime import tzinfo
from zoneinfo import ZoneInfo

import structlog

from tidings.channels.base import (
    OutboundMessage,
    Receipt,
    ReceiptHandler,
    accepted,
    ambiguous,
    refused,
    retry_later,
)
from tidings.channels.base import SubmitResult as Result
from tidings.channels.smpp import pdu as P
from tidings.channels.smpp.encoding import EncodingError, EncodingOptions, encode_message
from tidings.channels.smpp.errors import SmppDisconnected, SmppError, SmppStatusError, SmppTimeout
from tidings.channels.smpp.mo import inbound_part
from tidings.channels.smpp.pacing import Backoff
from tidings.channels.smpp.receipts import (
    ReceiptError,
    normalise_id,
    parse_receipt,
)
from tidings.channels.smpp.session import DeliverAck, SessionConfig, SmppSession
from tidings.config import SmppUpstream
from tidings.domain.lifecycle import MessageStatus

log = structlog.get_logger("tidings.smpp")

THROTTLING = frozenset({P.ESME_RTHROTTLED, P.ESME_RMSGQFUL})
# Statuses that say "not now" rather than "never": the message is resubmitted later.
TRANSIENT = THROTTLING | {P.ESME_RX_T_APPN, P.ESME_RINVBNDSTS}
BAD_NUMBER = frozenset({P.ESME_RINVDSTADR, P.ESME_RINVDSTTON, P.ESME_RINVDSTNPI})
PROHIBITED = frozenset(
    {
        P.ESME_RINVSRCADR,
        P.ESME_RINVSRCTON,
        P.ESME_RINVSRCNPI,
        P.ESME_RINVSERTYP,
        P.ESME_RX_R_APPN,
    }
)


def session_config(upstream: SmppUpstream) -> SessionConfig:
    """One bind's session settings for this upstream."""
    return SessionConfig(
        host=upstream.host,
        port=upstream.port,
        system_id=upstream.system_id,
        password=upstream.password,
        system_type=upstream.system_type,
        window=upstream.window,
        response_timeout_s=upstream.response_timeout_s,
        bind_timeout_s=upstream.bind_timeout_s,
        enquire_link_s=upstream.enquire_link_s,
        throughput=upstream.throughput_per_bind,
    )


def encoding_options(upstream: SmppUpstream) -> EncodingOptions:
    return EncodingOptions(
        long_mode=upstream.long_mode,
        source_ton=upstream.source_ton,
        source_npi=upstream.source_npi,
        dest_ton=upstream.dest_ton,
        dest_npi=upstream.dest_npi,
        service_type=upstream.service_type,
    )


def final_status_for(status: int) -> MessageStatus:
    if status in BAD_NUMBER:
        return MessageStatus.BAD_NUMBER
    if status in PROHIBITED:
        return MessageStatus.PROHIBITED
    return MessageStatus.UNDELIVERABLE


class NoLiveBind(SmppError):
    """No bind could take the submit before the deadline."""


@dataclass
class _Bind:
    index: int
    # Growing pause after throttling answers; reset by an accepted submit.
    pause: Backoff
    session: SmppSession | None = None
    paused_until: float = 0.0
    last_error: str = ""
    attempted: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    def usable(self, now: float) -> SmppSession | None:
        session = self.session
        if session is None or not session.bound or self.paused_until > now:
            return None
        return session


class SmppChannel:
    """The Channel port for one upstream (see the module docstring for the policy)."""

    def __init__(self, upstream: SmppUpstream) -> None:
        self.name = upstream.name
        self.upstream = upstream
        self._encoding = encoding_options(upstream)
        self._tz: tzinfo = ZoneInfo(upstream.receipt_tz)
        self._binds = [
            _Bind(i, Backoff(upstream.throttle_pause_min_s, upstream.throttle_pause_max_s))
            for i in range(upstream.binds)
        ]
        self._turn = itertools.count()
        self._changed = asyncio.Event()
        self._stopping = asyncio.Event()
        self._drain_on_stop = True
        self._on_receipt: ReceiptHandler | None = None

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self, on_receipt: ReceiptHandler) -> None:
        """Start every bind and wait (up to the bind timeout) for each one's first attempt.
        Failures do not raise: binds keep retrying in the background, and submits wait."""
        self._on_receipt = on_receipt
        for bind in self._binds:
            bind.task = asyncio.create_task(self._run_bind(bind), name=f"smpp-bind-{self.name}")
        attempts = [asyncio.create_task(b.attempted.wait()) for b in self._binds]
        _, not_yet = await asyncio.wait(attempts, timeout=self.upstream.bind_timeout_s + 1)
        for task in not_yet:
            task.cancel()
        await asyncio.gather(*not_yet, return_exceptions=True)

    async def stop(self, *, drain: bool = True) -> None:
        """Each bind closes its own session (unbind, after in-flight answers with `drain`)."""
        self._drain_on_stop = drain
        self._stopping.set()
        self._notify()
        tasks = [b.task for b in self._binds if b.task is not None]
        await asyncio.gather(*tasks, return_exceptions=True)

    @property
    def live_binds(self) -> int:
        return sum(1 for b in self._binds if b.session is not None and b.session.bound)

    @property
    def last_errors(self) -> list[str]:
        return [b.last_error for b in self._binds if b.last_error]

    async def _run_bind(self, bind: _Bind) -> None:
        backoff = Backoff(self.upstream.reconnect_min_s, self.upstream.reconnect_max_s)
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            session = SmppSession(session_config(self.upstream), self._on_deliver)
            try:
                await session.open()
            except (SmppError, OSError, P.PduError) as exc:
                bind.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("smpp.bind_failed", upstream=self.name, error=bind.last_error)
                bind.attempted.set()
                await self._pause(backoff.next())
                continue
            bound_at = loop.time()
            bind.session, bind.last_error = session, ""
            bind.attempted.set()
            self._notify()
            await self._until_closed_or_stopping(session)
            bind.session = None
            bind.last_error = session.close_reason
            if session.lost_submits:
                # The window's worth whose fate is unknown: the dispatcher's `on_ambiguous`
                # decides each, and the operator sees how many a drop cost.
                log.warning(
                    "smpp.bind_dropped_with_submits_in_flight",
                    upstream=self.name,
                    bind=bind.index,
                    ambiguous=session.lost_submits,
                    reason=session.close_reason,
                )
            self._notify()
            # A bind that drops right after binding backs off further; a long-lived one that
            # drops reconnects after the minimum.
            if loop.time() - bound_at >= self.upstream.reconnect_max_s:
                backoff.reset()
            await self._pause(backoff.next())

    async def _until_closed_or_stopping(self, session: SmppSession) -> None:
        closed = asyncio.create_task(session.wait_closed())
        stopping = asyncio.create_task(self._stopping.wait())
        await asyncio.wait((closed, stopping), return_when=asyncio.FIRST_COMPLETED)
        for task in (closed, stopping):
            task.cancel()
        await asyncio.gather(closed, stopping, return_exceptions=True)
        if self._stopping.is_set():
            await session.close(drain=self._drain_on_stop)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    def _notify(self) -> None:
        """Wake submits waiting for a bind (one was bound, dropped, or the channel stops)."""
        self._changed.set()
        self._changed = asyncio.Event()

    # --- choosing a bind --------------------------------------------------------------------

    def _pick(self, now: float) -> tuple[_Bind, SmppSession] | None:
        start = next(self._turn) % len(self._binds)
        best: tuple[_Bind, SmppSession] | None = None
        for i in range(len(self._binds)):
            bind = self._binds[(start + i) % len(self._binds)]
            session = bind.usable(now)
            if session is not None and (best is None or session.load < best[1].load):
                best = (bind, session)
        return best

    async def _acquire(self, deadline: float) -> tuple[_Bind, SmppSession]:
        loop = asyncio.get_running_loop()
        while True:
            if self._stopping.is_set():
                raise NoLiveBind("channel stopping")
            now = loop.time()
            picked = self._pick(now)
            if picked is not None:
                return picked
            if now >= deadline:
                errors = "; ".join(self.last_errors) or "binds paused or connecting"
                raise NoLiveBind(f"no live bind within the response timeout ({errors})")
            wake = min([deadline] + [b.paused_until for b in self._binds if b.paused_until > now])
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), wake - now)

    # --- submit -----------------------------------------------------------------------------

    async def submit(self, message: OutboundMessage) -> Result:
        if not self.upstream.request_receipts:
            message = replace(message, registered_delivery=False)
        try:
            parts = encode_message(message, self._encoding)
        except (EncodingError, P.PduError) as exc:
            return refused(MessageStatus.UNDELIVERABLE, str(exc))
        ids: list[str] = []
        for part in parts:
            try:
                raw_id = await self._submit_part(part)
            except (SmppError, P.PduError) as exc:
                return self._failure(exc, ids, len(parts))
            ids.append(normalise_id(raw_id, self.upstream.resp_id_format))
        return accepted(tuple(ids))

    async def _submit_part(self, part: P.ShortMessage) -> str:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.upstream.response_timeout_s
        throttled = 0
        while True:
            bind, session = await self._acquire(deadline)
            try:
                message_id = await session.submit(part)
            except SmppDisconnected as exc:
                if exc.sent:
                    raise
                # Never written: safe to try on another (or the reconnected) bind. Yield first,
                # so the reader can notice the dead connection before we pick again.
                await asyncio.sleep(0)
                continue
            except SmppStatusError as exc:
                if exc.status not in THROTTLING:
                    raise
                self._throttled(bind, loop.time())
                throttled += 1
                if throttled > self.upstream.throttle_retries:
                    raise
                deadline = max(deadline, bind.paused_until + self.upstream.response_timeout_s)
                continue
            bind.pause.reset()
            return message_id

    def _throttled(self, bind: _Bind, now: float) -> None:
        pause = bind.pause.next()
        bind.paused_until = max(bind.paused_until, now + pause)
        log.info("smpp.throttled", upstream=self.name, bind=bind.index, pause_s=pause)

    def _failure(self, exc: Exception, ids: list[str], total: int) -> Result:
        done = tuple(ids)
        partial = f"; {len(ids)} of {total} parts already accepted" if ids else ""
        if isinstance(exc, SmppStatusError):
            status = exc.status
            if status in TRANSIENT:
                return retry_later(f"{exc}{partial}", status, done)
            return refused(final_status_for(status), f"{exc}{partial}", status, done)
        if isinstance(exc, SmppTimeout | SmppDisconnected):
            return ambiguous(f"{exc}{partial}", done)
        if isinstance(exc, NoLiveBind):
            return retry_later(f"{exc}{partial}", done=done)
        return refused(MessageStatus.UNDELIVERABLE, f"{exc}{partial}", done=done)

    # --- receipts ---------------------------------------------------------------------------

    def _on_deliver(self, message: P.ShortMessage, ack: DeliverAck) -> None:
        try:
            parsed = parse_receipt(message, self._tz)
        except ReceiptError as exc:
            log.warning("smpp.receipt_malformed", upstream=self.name, error=str(exc))
            ack()  # acknowledged anyway: the SMSC resending it would not make it readable
            return
        if parsed is None:
            self._on_mo(message, ack)
            return
        if parsed.status is None or self._on_receipt is None:
            ack()  # an intermediate state: nothing to record
            return
        fmt = (
            self.upstream.resp_id_format if parsed.id_from_tlv else self.upstream.receipt_id_format
        )
        receipt = Receipt(
            upstream=self.name,
            upstream_id=normalise_id(parsed.message_id, fmt),
            status=parsed.status,
            err=parsed.err,
            done_at=parsed.done_at,
            extra={"stat": parsed.stat},
            ack=ack,
        )
        # Acknowledged by the dispatcher once recorded. An exception here propagates: the
        # session then refuses the deliver_sm temporarily and the SMSC delivers it again.
        self._on_receipt(receipt)

    def _on_mo(self, message: P.ShortMessage, ack: DeliverAck) -> None:
        """An inbound message: handed on like a receipt, acknowledged only once stored. With
        nobody to store it (no handler), refused for now, so the SMSC keeps it."""
        if self._on_receipt is None:
            ack(P.ESME_RX_T_APPN)
            return
        self._on_receipt(replace(inbound_part(message, self.name), ack=ack))
