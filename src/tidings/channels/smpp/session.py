"""One SMPP 3.4 bind (transceiver) over asyncio streams.

Requests are matched to responses by sequence number (`seq → Future`), so up to `window`
submit_sm can be outstanding at once: throughput is window / RTT instead of 1 / RTT.
The session never retries anything itself; it reports precisely what happened (see errors.py)
and leaves policy to the channel.

PDUs written in one turn of the event loop leave in one write (one segment under
TCP_NODELAY, one syscall on each side): a refill arms several submits at once, and a read
brings several receipts whose responses go back together.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import partial
from typing import Any

import structlog

from tidings.channels.smpp import pdu as P
from tidings.channels.smpp.errors import (
    SmppBindError,
    SmppDisconnected,
    SmppError,
    SmppStatusError,
    SmppTimeout,
)
from tidings.channels.smpp.pacing import TokenBucket

log = structlog.get_logger("tidings.smpp")

# Called on the reader's turn, so it must not block: a receipt is handed on with its `ack`,
# which answers the deliver_sm (with a command status, ESME_ROK by default) once the receipt
# is recorded. Until then the SMSC still holds it, and sends it again on a new bind if we die.
# An exception refuses the deliver_sm temporarily (ESME_RX_T_APPN): the SMSC sends it again.
DeliverAck = Callable[..., None]
DeliverHandler = Callable[[P.ShortMessage, DeliverAck], None]
_MAX_SEQUENCE = 0x7FFFFFFF
_READ_CHUNK = 64 * 1024


@dataclass(frozen=True)
class SessionConfig:
    host: str
    port: int
    system_id: str
    password: str
    system_type: str = ""
    # Outstanding submit_sm at most; further submits wait for a slot.
    window: int = 50
    response_timeout_s: float = 10.0
    bind_timeout_s: float = 10.0
    enquire_link_s: float = 30.0
    # submit_sm per second on this bind; 0 = unlimited.
    throughput: float = 0.0


class SmppSession:
    """Lifecycle: `await open()` (connect + bind), `submit()` concurrently, `close()`.
    A session is used once; after it closes, make a new one to reconnect."""

    def __init__(self, config: SessionConfig, on_deliver: DeliverHandler | None = None) -> None:
        self.config = config
        self._on_deliver = on_deliver
        self._window = asyncio.Semaphore(config.window)
        self._bucket = TokenBucket(config.throughput) if config.throughput else None
        self._pending: dict[int, asyncio.Future[P.Pdu]] = {}
        self._sequence = 0
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._reader_task: asyncio.Task[None] | None = None
        self._closed = asyncio.Event()
        self._bound = False
        self._closing = False
        self._load = 0
        self._submits_out = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._outbox: list[bytes] = []
        self.close_reason = ""
        # Submits written and unanswered when the connection ended: each is ambiguous.
        self.lost_submits = 0

    # --- state ------------------------------------------------------------------------------

    @property
    def bound(self) -> bool:
        """True while submits are accepted: bound and neither closing nor closed."""
        writer = self._writer
        return (
            self._bound
            and not self._closing
            and not self._closed.is_set()
            and writer is not None
            and not writer.is_closing()
        )

    @property
    def load(self) -> int:
        """Submits in this session now: outstanding plus waiting for a window slot."""
        return self._load

    async def wait_closed(self) -> None:
        await self._closed.wait()

    # --- open / bind ------------------------------------------------------------------------

    async def open(self) -> None:
        """Connect and bind_transceiver. A refusal raises SmppBindError as soon as it arrives."""
        cfg = self.config
        # Encoded before connecting: bad credentials' lengths fail without touching the network.
        bind_body = P.Bind(cfg.system_id, cfg.password, cfg.system_type).encode_body()
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(cfg.host, cfg.port), cfg.bind_timeout_s
            )
        except TimeoutError as exc:
            self._closed.set()
            raise SmppTimeout(f"connect to {cfg.host}:{cfg.port} timed out") from exc
        except OSError:
            self._closed.set()
            raise
        self._reader, self._writer = reader, writer
        # Without TCP_NODELAY, Nagle + delayed ACK stall small PDUs ~40 ms each (measured).
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._reader_task = asyncio.create_task(self._read_loop(), name="smpp-reader")
        await self._bind(bind_body)

    async def _bind(self, body: bytes) -> None:
        cfg = self.config
        try:
            resp = await self._request(
                lambda seq: P.encode_pdu(P.BIND_TRANSCEIVER, seq, body), cfg.bind_timeout_s
            )
        except SmppError:
            await self.close(drain=False)
            raise
        if resp.status != P.ESME_ROK:
            await self.close(drain=False)
            raise SmppBindError(resp.status)
        self._bound = True
        if cfg.enquire_link_s > 0:
            self._spawn(self._enquire_link_loop(), "smpp-enquire-link")
        log.info("smpp.bound", host=cfg.host, port=cfg.port, system_id=cfg.system_id)

    # --- requests ---------------------------------------------------------------------------

    def _next_sequence(self) -> int:
        self._sequence = self._sequence % _MAX_SEQUENCE + 1
        return self._sequence

    async def _request(self, build: Callable[[int], bytes], timeout: float) -> P.Pdu:
        """Write one request and wait for its response (or generic_nack)."""
        writer = self._writer
        if writer is None or self._closed.is_set() or writer.is_closing():
            raise SmppDisconnected("not connected", sent=False)
        sequence = self._next_sequence()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[P.Pdu] = loop.create_future()
        self._pending[sequence] = future
        # A timer, not wait_for: wait_for costs a task's worth of work per submit. No drain
        # either: the window bounds what can be unanswered, so the buffer cannot grow unbounded;
        # a broken pipe ends the read loop, which fails the future.
        timer = loop.call_later(timeout, _expire, future)
        try:
            self._send(build(sequence))
            return await future
        except TimeoutError as exc:
            raise SmppTimeout(f"no response to sequence {sequence} within {timeout:g} s") from exc
        finally:
            timer.cancel()
            self._pending.pop(sequence, None)

    async def submit(self, message: P.ShortMessage) -> str:
        """submit_sm → the SMSC's message_id. Raises SmppStatusError, SmppTimeout,
        SmppDisconnected (sent=False if nothing was written), PduError for bad fields."""
        body = message.encode_body()  # before taking a slot: bad fields fail without waiting
        self._load += 1
        try:
            async with self._window:
                return await self._submit_in_window(body)
        finally:
            self._load -= 1

    async def _submit_in_window(self, body: bytes) -> str:
        if self._bucket is not None:
            await self._bucket.acquire()
        if not self.bound:
            raise SmppDisconnected(f"session not bound ({self.close_reason})", sent=False)
        self._submits_out += 1
        self._idle.clear()
        try:
            resp = await self._request(
                lambda seq: P.encode_pdu(P.SUBMIT_SM, seq, body), self.config.response_timeout_s
            )
        finally:
            self._submits_out -= 1
            if not self._submits_out:
                self._idle.set()
        if resp.status != P.ESME_ROK:
            raise SmppStatusError(resp.status)
        return P.decode_message_id(resp.body)

    # --- incoming ---------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        assert self._reader is not None
        framer = P.FrameReader()
        reason = "closed by the SMSC"
        try:
            while data := await self._reader.read(_READ_CHUNK):
                for pdu in framer.feed(data):
                    self._dispatch(pdu)
        except (OSError, P.PduError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
        except Exception as exc:
            # A bug of ours must still end the session cleanly (and be seen), not leave the
            # pending submits waiting for their timeouts.
            log.exception("smpp.reader_failed")
            reason = f"{type(exc).__name__}: {exc}"
        finally:
            self._connection_lost(reason)

    def _dispatch(self, pdu: P.Pdu) -> None:
        if pdu.is_response:
            future = self._pending.get(pdu.sequence)
            if future is not None and not future.done():
                future.set_result(pdu)
            elif pdu.command_id == P.GENERIC_NACK:
                log.warning("smpp.generic_nack", status=P.status_name(pdu.status))
        elif pdu.command_id == P.ENQUIRE_LINK:
            self._send(P.encode_enquire_link_resp(pdu.sequence))
        elif pdu.command_id in (P.DELIVER_SM, P.DATA_SM):
            self._handle_deliver(pdu)
        elif pdu.command_id == P.UNBIND:
            self._send(P.encode_unbind_resp(pdu.sequence))
            self._flush()
            self._closing = True
            self.close_reason = self.close_reason or "unbound by the SMSC"
            if self._writer is not None:
                self._writer.close()  # not abort(): the unbind_resp must still go out
        else:
            self._send(P.encode_generic_nack(pdu.sequence, P.ESME_RINVCMDID))

    def _handle_deliver(self, pdu: P.Pdu) -> None:
        """deliver_sm and data_sm alike: a receipt or an inbound message, answered with the
        matching response once the handler's `ack` says it is recorded."""
        data_sm = pdu.command_id == P.DATA_SM
        try:
            if data_sm:
                message = P.decode_data_sm(pdu.body)
            else:
                message = P.ShortMessage.decode_body(pdu.body)
        except P.PduError as exc:
            log.warning("smpp.deliver_sm_malformed", error=str(exc), data_sm=data_sm)
            self._ack_deliver(pdu.sequence, P.ESME_RX_P_APPN, data_sm=data_sm)
            return
        ack = partial(self._ack_deliver, pdu.sequence, data_sm=data_sm)
        if self._on_deliver is None:
            ack()
            return
        try:
            self._on_deliver(message, ack)
        except Exception:
            # Not acknowledged: a temporary error makes the SMSC deliver it again later,
            # so a receipt is not lost when our side could not record it just now.
            log.exception("smpp.deliver_handler_failed")
            ack(P.ESME_RX_T_APPN)

    def _ack_deliver(
        self, sequence: int, status: int = P.ESME_ROK, *, data_sm: bool = False
    ) -> None:
        """Answer a deliver_sm (or data_sm), if this connection still lives (else the SMSC
        resends it)."""
        if not self._closed.is_set():
            encode = P.encode_data_sm_resp if data_sm else P.encode_deliver_sm_resp
            self._send(encode(sequence, status))

    def _send(self, data: bytes) -> None:
        if not self._outbox:
            asyncio.get_running_loop().call_soon(self._flush)
        self._outbox.append(data)

    def _flush(self) -> None:
        if not self._outbox:
            return
        data = b"".join(self._outbox)
        self._outbox.clear()
        writer = self._writer
        if writer is not None and not writer.is_closing():
            writer.write(data)

    # --- keep-alive -------------------------------------------------------------------------

    async def _enquire_link_loop(self) -> None:
        cfg = self.config
        while not self._closed.is_set():
            await asyncio.sleep(cfg.enquire_link_s)
            try:
                await self._request(P.encode_enquire_link, cfg.response_timeout_s)
            except SmppTimeout:
                # The peer is gone without a FIN (NAT, dead host): drop it so we reconnect.
                self._abort("enquire_link unanswered")
                return
            except SmppDisconnected:
                return

    # --- close ------------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _abort(self, reason: str) -> None:
        self.close_reason = self.close_reason or reason
        if self._writer is not None:
            self._writer.transport.abort()

    def _connection_lost(self, reason: str) -> None:
        self.close_reason = self.close_reason or reason
        if not self._closed.is_set():
            self.lost_submits = self._submits_out
        for future in self._pending.values():
            if not future.done():
                future.set_exception(SmppDisconnected(self.close_reason, sent=True))
        if self._writer is not None:
            self._writer.transport.abort()
        if not self._closed.is_set() and self._bound and not self._closing:
            log.info("smpp.connection_lost", host=self.config.host, reason=self.close_reason)
        self._closed.set()
        for task in list(self._tasks):
            if task.get_name() == "smpp-enquire-link":
                task.cancel()

    async def close(self, *, drain: bool = True) -> None:
        """Unbind and disconnect. With `drain`, submits already written get their answers
        first (each is bounded by the response timeout); submits still waiting for a window
        slot fail at once with SmppDisconnected(sent=False). Without it, written submits
        fail with SmppDisconnected(sent=True)."""
        self._closing = True
        self.close_reason = self.close_reason or "closed by us"
        if drain and not self._closed.is_set():
            await self._drain()
        if self._bound and not self._closed.is_set():
            with contextlib.suppress(SmppError):
                await self._request(P.encode_unbind, min(self.config.response_timeout_s, 5.0))
        self._abort(self.close_reason)
        await self._finish_tasks()

    async def _drain(self) -> None:
        limit = self.config.response_timeout_s + 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), limit)

    async def _finish_tasks(self) -> None:
        if self._reader_task is not None:
            await asyncio.gather(self._reader_task, return_exceptions=True)
        self._closed.set()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _expire(future: asyncio.Future[P.Pdu]) -> None:
    if not future.done():
        future.set_exception(TimeoutError())
