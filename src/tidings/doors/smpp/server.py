"""The SMPP server: listens, keeps the binds, and does for each what the domain says.

A bind is checked as an API login is (domain/auth.py, domain/guards.py): a blocked IP is
refused, a failed password counts towards the IP's block unless the IP is on the account's
allowlist, then the allowlist applies. A submit becomes the send.php request it amounts to
(doors/smpp/submit.py) and goes through send.php's service — the same checks, price, stop
list, test mode and routing — and is stored together with the other submits in flight (the
API's group commit); it is answered with the message id only once that transaction has
committed. The store is synchronous: its calls run in a small thread pool of this server's.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import secrets
import socket
import ssl
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

import structlog

from tidings.channels.smpp import pdu, pdu_smsc
from tidings.config import SmppServerSettings
from tidings.domain.accounts import Account
from tidings.domain.clock import to_ts
from tidings.domain.door_binds import REPORT_S
from tidings.domain.door_receipts import ReceiptRequest
from tidings.domain.send_request import new_send
from tidings.domain.sends import PreparedSend, Sent
from tidings.domain.services import Services
from tidings.doors.listen import listening
from tidings.doors.smpp.deliveries import DOOR, DeliveryPump
from tidings.doors.smpp.long import LongMessages, PartsMissing
from tidings.doors.smpp.session import Session
from tidings.doors.smpp.statuses import bind_status, submit_status
from tidings.doors.smpp.submit import (
    BadValidity,
    SubmitPart,
    Submitted,
    read_submit,
    send_values,
    unsuccessful,
)
from tidings.doors.smpp.times import BadTime
from tidings.errors import AccountDisabled, DomainError
from tidings.group_commit import GroupCommit
from tidings.ops.metrics import record_smpp_binds

log = structlog.get_logger("tidings.smpp_server")
T = TypeVar("T")
STORE_THREADS = 2
# A stop waits this long for the submits being stored.
STOP_WAIT_S = 30.0


class TokenBucket:
    """`rate` a second, up to a second's worth at once."""

    def __init__(self, rate: float) -> None:
        self._rate = rate
        self._tokens = max(rate, 1.0)
        self._at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(max(self._rate, 1.0), self._tokens + (now - self._at) * self._rate)
        self._at = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True


class SmppServer:
    def __init__(self, settings: SmppServerSettings, services: Services) -> None:
        self.settings = settings
        self._services = services
        self._executor = ThreadPoolExecutor(STORE_THREADS, thread_name_prefix="smpp-store")
        self._sends: GroupCommit[PreparedSend, Sent] = GroupCommit(services.sends.store, self.run)
        self._long = LongMessages(settings.long_message_timeout_s)
        self._sessions: set[Session] = set()
        self._buckets: dict[int, TokenBucket] = {}
        self.deliveries = DeliveryPump(
            services.door_receipts,
            services.door_inbound,
            services.clock,
            self.run,
            self.receivers,
            window=settings.deliver_window,
            retry_s=settings.receipt_retry_s,
            poll_s=settings.receipt_poll_s,
        )
        self._listener: asyncio.Server | None = None
        self._tls_listener: asyncio.Server | None = None
        self._pump: asyncio.Task[None] | None = None
        self._reporter: asyncio.Task[None] | None = None
        # Names this process's rows of bound clients (door_binds).
        self.server_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._bind_numbers = itertools.count(1)
        # Submits being stored, over every bind: a stop waits for them.
        self._submits: set[asyncio.Task[None]] = set()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    # --- lifetime ---------------------------------------------------------------------

    async def start(self, listener: socket.socket | None = None) -> None:
        """Listen (on `listener` when given, else on the settings' address), and with TLS
        on `tls_port` too."""
        s = self.settings
        if listener is None:
            listener = listening(s.host, s.port)
        self._listener = await asyncio.start_server(self._connected, sock=listener)
        if s.tls_port:
            tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.load_cert_chain(s.tls_cert_file, s.tls_key_file)
            secure = listening(s.host, s.tls_port)
            self._tls_listener = await asyncio.start_server(self._connected, sock=secure, ssl=tls)
        self._pump = asyncio.create_task(self.deliveries.run())
        self._reporter = asyncio.create_task(self._report_binds())
        log.info("smpp server listening", address=self.address)

    @property
    def address(self) -> str:
        assert self._listener is not None
        host, port = self._listener.sockets[0].getsockname()[:2]
        if self._tls_listener is not None:
            return f"{host}:{port} (TLS on {self._tls_listener.sockets[0].getsockname()[1]})"
        return f"{host}:{port}"

    async def stop(self) -> None:
        """Stop listening, unbind every client, keep what they acknowledged."""
        for server in (self._listener, self._tls_listener):
            if server is not None:
                server.close()
        for session in list(self._sessions):
            session.write(pdu.encode_unbind(session.next_sequence()))
            await session.close()
        if self._submits:
            await asyncio.wait(self._submits, timeout=STOP_WAIT_S)
        for task in (self._pump, self._reporter):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        await self.deliveries.flush()
        with contextlib.suppress(Exception):  # its rows go stale and unshown anyway
            await self.run(self._services.door_binds.stopped, self.server_id)
        self._executor.shutdown(wait=True)

    async def _report_binds(self) -> None:
        """Every REPORT_S, this server's binds into the store, for the admin page (which
        may be another process's)."""
        while True:
            binds = [s.as_bind(self.settings.window) for s in self.bound()]
            now = to_ts(self._services.clock.now())
            try:
                await self.run(self._services.door_binds.report, self.server_id, binds, now)
            except Exception:
                log.exception("reporting the smpp binds failed; will retry")
            await asyncio.sleep(REPORT_S)

    def track(self, submit: asyncio.Task[None]) -> None:
        self._submits.add(submit)
        submit.add_done_callback(self._submits.discard)

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = Session(self, reader, writer)
        self._sessions.add(session)
        await session.run()

    async def session_bound(self, session: Session) -> None:
        session.number = next(self._bind_numbers)
        session.bound_at = to_ts(self._services.clock.now())
        log.info("smpp client bound", ip=session.peer, login=session.login, mode=session.mode)
        self._count_binds()
        if session.mode is not None and session.mode.receives and session.account is not None:
            # From now on the account's inbound messages are queued for its receivers too.
            await self.run(
                self._services.door_inbound.receiver_bound, session.account.id, session.bound_at
            )
            self.deliveries.wake()

    def session_ended(self, session: Session) -> None:
        self._sessions.discard(session)
        self.deliveries.forget(session)
        if session.mode is not None:
            log.info("smpp client gone", ip=session.peer, login=session.login)
            self._count_binds()

    def _count_binds(self) -> None:
        counts: dict[tuple[str, str], int] = {}
        for s in self._sessions:
            if s.mode is not None and not s.closed:
                key = (s.login, s.mode.value)
                counts[key] = counts.get(key, 0) + 1
        record_smpp_binds(counts)

    def bound(self) -> list[Session]:
        return [s for s in self._sessions if s.mode is not None and not s.closed]

    def receivers(self) -> dict[int, list[Session]]:
        """The binds that take deliver_sm, by account."""
        found: dict[int, list[Session]] = {}
        for s in self.bound():
            if s.mode is not None and s.mode.receives and s.account is not None:
                found.setdefault(s.account.id, []).append(s)
        return found

    # --- binds ------------------------------------------------------------------------

    async def authenticate(self, bind: pdu.Bind, ip: str) -> tuple[Account | None, int]:
        try:
            account = await self.run(self._check_bind, bind.system_id, bind.password, ip)
        except DomainError as error:
            return None, bind_status(error)
        except Exception:
            log.exception("smpp bind failed", ip=ip)
            return None, pdu.ESME_RSYSERR
        return account, pdu.ESME_ROK

    def _check_bind(self, login: str, password: str, ip: str) -> Account:
        services = self._services
        services.abuse.check(ip)
        try:
            account = services.auth.authenticate_smpp(login, password)
        except AccountDisabled:
            raise  # the right credentials: not a failure to count against the IP
        except DomainError:
            if not services.auth.is_allowlisted(login, ip):
                services.abuse.auth_failed(ip)
            raise
        services.auth.check_ip(account, ip)
        return account

    def throughput_allows(self, account_id: int) -> bool:
        rate = self.settings.throughput_per_account
        if rate <= 0:
            return True
        bucket = self._buckets.get(account_id)
        if bucket is None:
            bucket = self._buckets[account_id] = TokenBucket(rate)
        return bucket.take()

    # --- submits ----------------------------------------------------------------------

    async def submit(
        self,
        account: Account,
        message: pdu.ShortMessage,
        destinations: tuple[pdu_smsc.MultiDestination, ...] = (),
    ) -> Submitted:
        """The message id once stored (and, for a submit_multi, the destinations refused),
        or the refusal's command_status."""
        try:
            if destinations:
                numbers = ",".join(d.address for d in destinations if d.address)
                message = replace(message, destination_addr=numbers)
            part = read_submit(message)
            limit = max(len(destinations), 1)
            if part.concat is None:
                sent = await self._send(account, [part], limit)
            else:
                done, complete = self._long.add(account.id, part)
                if complete:
                    await self._complete(done, account, complete, limit)
                sent = await asyncio.shield(done)
            return Submitted(sent.send_id, pdu.ESME_ROK, unsuccessful(sent, destinations))
        except DomainError as error:
            return Submitted("", submit_status(error))
        except PartsMissing:
            return Submitted("", pdu.ESME_RSUBMITFAIL)
        except BadValidity:
            return Submitted("", pdu.ESME_RINVEXPIRY)
        except BadTime:
            return Submitted("", pdu.ESME_RINVSCHED)
        except Exception:
            log.exception("smpp submit failed", login=account.login)
            return Submitted("", pdu.ESME_RSYSERR)

    async def _complete(
        self, done: asyncio.Future[Sent], account: Account, parts: list[SubmitPart], limit: int
    ) -> None:
        """Send a long message whose last part came; every part is answered by `done`."""
        try:
            done.set_result(await self._send(account, parts, limit))
        except asyncio.CancelledError:
            done.set_exception(PartsMissing("the bind went away"))
            raise
        except Exception as error:
            done.set_exception(error)

    async def _send(self, account: Account, parts: list[SubmitPart], limit: int) -> Sent:
        now = self._services.clock.now()
        values = send_values(parts, now)
        wanted = parts[0].registered_delivery
        receipts = (
            ReceiptRequest(DOOR, parts[0].source, failures_only=wanted == 2)
            if wanted in (1, 2)
            else None
        )
        prepared = await self.run(self._prepare, account, values, now, receipts, limit)
        return await self._sends.submit(prepared)

    def _prepare(
        self,
        account: Account,
        values: dict[str, str],
        now: datetime,
        receipts: ReceiptRequest | None,
        limit: int,
    ) -> PreparedSend:
        """send.php's rules, price and checks (a store thread: templates, stop list). The
        account is read afresh (cached a few seconds): one disabled since its bind is refused."""
        account = self._services.auth.usable(account.id)
        send = new_send(values, account, now, None, max_recipients=limit)
        return self._services.sends.prepare(account, send, now, receipts)
