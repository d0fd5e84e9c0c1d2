"""One client connection of the SMPP server: framing, the bind state, and each PDU's answer.

What a bind may do: a transmitter submits, a receiver is given deliver_sm, a transceiver
both. Before a bind only a bind (and enquire_link) is answered; anything else gets
ESME_RINVBNDSTS. A PDU we cannot read gets generic_nack; a frame we cannot even delimit
ends the connection (nothing after it can be trusted to start a PDU).

Submits are answered as they complete, not in order (SMPP allows it): each runs in a task of
its own, at most `window` of them per bind; one more is refused with ESME_RMSGQFUL at once.
"""

from __future__ import annotations

import asyncio
import enum
import itertools
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

import structlog

from tidings.channels.smpp import pdu, pdu_smsc
from tidings.domain.accounts import Account
from tidings.domain.door_binds import DoorBind
from tidings.doors.smpp.submit import Submitted
from tidings.ops.metrics import record_smpp_pdu, record_smpp_window

if TYPE_CHECKING:
    from tidings.doors.smpp.server import SmppServer

log = structlog.get_logger("tidings.smpp_server")
# How long a close waits for the connection to be gone.
CLOSE_WAIT_S = 2.0


class BindMode(enum.Enum):
    TRANSMITTER = "transmitter"
    RECEIVER = "receiver"
    TRANSCEIVER = "transceiver"

    @property
    def submits(self) -> bool:
        return self is not BindMode.RECEIVER

    @property
    def receives(self) -> bool:
        return self is not BindMode.TRANSMITTER


BIND_MODES = {
    pdu.BIND_TRANSMITTER: BindMode.TRANSMITTER,
    pdu.BIND_RECEIVER: BindMode.RECEIVER,
    pdu.BIND_TRANSCEIVER: BindMode.TRANSCEIVER,
}
COMMAND_NAMES = {
    pdu.BIND_TRANSMITTER: "bind_transmitter",
    pdu.BIND_RECEIVER: "bind_receiver",
    pdu.BIND_TRANSCEIVER: "bind_transceiver",
    pdu.SUBMIT_SM: "submit_sm",
    pdu.SUBMIT_MULTI: "submit_multi",
    pdu.DELIVER_SM_RESP: "deliver_sm_resp",
    pdu.ENQUIRE_LINK: "enquire_link",
    pdu.ENQUIRE_LINK_RESP: "enquire_link_resp",
    pdu.UNBIND: "unbind",
    pdu.UNBIND_RESP: "unbind_resp",
    pdu.GENERIC_NACK: "generic_nack",
}


class Session:
    def __init__(
        self,
        server: SmppServer,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self._server = server
        self._reader = reader
        self._writer = writer
        self._frames = pdu.FrameReader()
        self._sequence = itertools.count(1)
        self.peer: str = (writer.get_extra_info("peername") or ("0.0.0.0", 0))[0]
        self.mode: BindMode | None = None
        self.account: Account | None = None
        self.submits_in_flight = 0
        self.submits = 0  # answered ROK since the bind
        self.number = 0  # set by the server at the bind
        self.bound_at = 0
        self.closed = False
        self._heard_at = time.monotonic()

    # --- the connection ---------------------------------------------------------------

    async def run(self) -> None:
        settings = self._server.settings
        try:
            while not self.closed:
                silent = time.monotonic() - self._heard_at
                if silent >= settings.idle_s:
                    log.info("smpp client idle: disconnected", ip=self.peer, login=self.login)
                    break
                wait = min(settings.idle_s - silent, settings.enquire_link_s)
                try:
                    data = await asyncio.wait_for(self._reader.read(65536), wait)
                except TimeoutError:
                    if self.mode is not None and time.monotonic() - self._heard_at >= wait:
                        self.write(pdu.encode_enquire_link(self.next_sequence()))
                    continue
                if not data:
                    break
                self._heard_at = time.monotonic()
                if not await self._feed(data):
                    break
        except (ConnectionError, OSError):
            pass
        finally:
            await self.close()

    async def _feed(self, data: bytes) -> bool:
        try:
            frames = self._frames.feed(data)
        except pdu.PduError:
            self.write(pdu.encode_generic_nack(0, pdu.ESME_RINVCMDLEN))
            return False
        for frame in frames:
            await self._handle(frame)
            if self.closed:
                return False
        return True

    def write(self, data: bytes) -> None:
        if not self.closed and not self._writer.is_closing():
            self._writer.write(data)

    def next_sequence(self) -> int:
        return next(self._sequence)

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._server.session_ended(self)
        # Submits still being stored are not cancelled: what was received is finished (and
        # charged, and sent) even though its answer has nowhere to go — as when an answer is
        # lost on the wire, the client resolves it by its own rules.
        self._writer.close()
        # A TLS close waits for the peer's close_notify, which a client may never send:
        # after a moment the connection is dropped.
        try:
            await asyncio.wait_for(self._writer.wait_closed(), CLOSE_WAIT_S)
        except TimeoutError:
            self._writer.transport.abort()
        except (ConnectionError, OSError):
            pass

    @property
    def login(self) -> str:
        return self.account.login if self.account is not None else ""

    # --- PDUs -------------------------------------------------------------------------

    async def _handle(self, frame: pdu.Pdu) -> None:
        command = frame.command_id
        name = COMMAND_NAMES.get(command, f"0x{command:08x}")
        record_smpp_pdu(name, pdu.status_name(frame.status) if frame.is_response else "request")
        if command in BIND_MODES:
            await self._bind(frame, BIND_MODES[command])
        elif command == pdu.ENQUIRE_LINK:
            self.write(pdu.encode_enquire_link_resp(frame.sequence))
        elif command == pdu.UNBIND:
            self.write(pdu.encode_unbind_resp(frame.sequence))
            await self.close()
        elif frame.is_response:
            self._response(frame)
        elif self.mode is None:
            self._nack(frame, pdu.ESME_RINVBNDSTS)
        elif command in (pdu.SUBMIT_SM, pdu.SUBMIT_MULTI):
            self._submit(frame)
        else:
            # query_sm, data_sm, replace_sm, cancel_sm: not provided.
            self._nack(frame, pdu.ESME_RINVCMDID)

    def _response(self, frame: pdu.Pdu) -> None:
        if frame.command_id == pdu.DELIVER_SM_RESP:
            self._server.deliveries.answered(self, frame.sequence, frame.status)
        elif frame.command_id == pdu.UNBIND_RESP:
            self.closed = True
        # enquire_link_resp and generic_nack: being heard is all they tell.

    def _nack(self, frame: pdu.Pdu, status: int) -> None:
        self.write(pdu.encode_generic_nack(frame.sequence, status))

    async def _bind(self, frame: pdu.Pdu, mode: BindMode) -> None:
        system_id = self._server.settings.system_id
        if self.mode is not None:
            self.write(
                pdu_smsc.encode_bind_resp(
                    frame.command_id, frame.sequence, system_id, pdu.ESME_RALYBND
                )
            )
            return
        try:
            bind = pdu.Bind.decode_body(frame.body)
        except pdu.PduError:
            self._nack(frame, pdu.ESME_RINVCMDLEN)
            return
        account, status = await self._server.authenticate(bind, self.peer)
        self.write(pdu_smsc.encode_bind_resp(frame.command_id, frame.sequence, system_id, status))
        if account is None:
            log.info("smpp bind refused", ip=self.peer, login=bind.system_id, status=status)
            return
        self.account, self.mode = account, mode
        await self._server.session_bound(self)

    def _submit(self, frame: pdu.Pdu) -> None:
        """submit_sm or submit_multi: refused at once, or stored in a task of its own."""
        multi = frame.command_id == pdu.SUBMIT_MULTI
        if self.mode is None or not self.mode.submits or self.account is None:
            self._answer(frame.sequence, multi, Submitted("", pdu.ESME_RINVBNDSTS))
            return
        try:
            if multi:
                message, destinations = pdu_smsc.decode_submit_multi(frame.body)
            else:
                message, destinations = pdu.ShortMessage.decode_body(frame.body), ()
        except pdu.PduError:
            self._nack(frame, pdu.ESME_RINVCMDLEN)
            return
        refusal = self._refusal(multi, destinations)
        if refusal:
            self._answer(frame.sequence, multi, Submitted("", refusal))
            return
        self.submits_in_flight += 1
        record_smpp_window(1)
        self._spawn(self._submitted(frame.sequence, multi, self.account, message, destinations))

    def _refusal(self, multi: bool, destinations: tuple[pdu_smsc.MultiDestination, ...]) -> int:
        """The status refusing a submit before any work (0: none)."""
        assert self.account is not None
        if multi and not destinations:
            return pdu.ESME_RINVNUMDESTS
        if self.submits_in_flight >= self._server.settings.window:
            return pdu.ESME_RMSGQFUL
        if not self._server.throughput_allows(self.account.id):
            return pdu.ESME_RTHROTTLED
        return 0

    async def _submitted(
        self,
        sequence: int,
        multi: bool,
        account: Account,
        message: pdu.ShortMessage,
        destinations: tuple[pdu_smsc.MultiDestination, ...],
    ) -> None:
        try:
            outcome = await self._server.submit(account, message, destinations)
        finally:
            self.submits_in_flight -= 1
            record_smpp_window(-1)
        self._answer(sequence, multi, outcome)

    def _answer(self, sequence: int, multi: bool, outcome: Submitted) -> None:
        if outcome.status == pdu.ESME_ROK:
            self.submits += 1
        if multi:
            record_smpp_pdu("submit_multi_resp", pdu.status_name(outcome.status))
            self.write(
                pdu_smsc.encode_submit_multi_resp(
                    sequence, outcome.message_id, outcome.refused, outcome.status
                )
            )
            return
        record_smpp_pdu("submit_sm_resp", pdu.status_name(outcome.status))
        self.write(pdu_smsc.encode_submit_sm_resp(sequence, outcome.message_id, outcome.status))

    def as_bind(self, window: int) -> DoorBind:
        """What the operator sees of this bind (domain/door_binds.py)."""
        assert self.account is not None and self.mode is not None
        return DoorBind(
            session=self.number,
            account_id=self.account.id,
            login=self.login,
            mode=self.mode.value,
            peer=self.peer,
            bound_at=self.bound_at,
            window_in_use=self.submits_in_flight,
            window_size=window,
            submits=self.submits,
        )

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        self._server.track(asyncio.create_task(work))
