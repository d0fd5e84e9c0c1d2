"""The e-mail channel: hands messages to an SMTP relay over a small pool of aiosmtplib connections.

Building a MIME message is the expensive part of sending mail (~0.7k EmailMessage/s against
~2.6M header substitutions/s measured here), so the MIME of a mailing list is rendered once and
only the per-recipient headers (Date, To, Message-ID) are put in front of it for each message.

Status mapping (what `submit` returns):

* 2xx after DATA: accepted, final status DELIVERED (accepted by the relay is the end for us;
  e-mail has no receipts). `upstream_ids` is the Message-ID we generated.
* 4xx at MAIL/RCPT/DATA (and any other non-5xx refusal): retry, `err` = the SMTP code.
* 5xx: final, `err` = the SMTP code. The status comes from the enhanced code (RFC 3463) when
  the relay gives one, else from the reply code and the stage:
  - X.7.X (policy: spam, relaying denied) or any 5xx to MAIL FROM: PROHIBITED;
  - X.1.X (bad mailbox/domain/syntax), or 550/551/553 to RCPT without an enhanced code:
    BAD_NUMBER (the address is wrong);
  - anything else (mailbox full, message too big, ...): UNDELIVERABLE.
* An address we cannot put on the wire (no '@', CR/LF, bad IDN): BAD_NUMBER, `err` 0.
* Connection refused, TLS/AUTH failure, connection lost or timeout: retry, `err` 0. The detail
  says "may have been delivered" only when the connection went away during DATA; before DATA
  the relay cannot have the message.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path
from time import time
from typing import Literal

import aiosmtplib
import dkim  # type: ignore[import-untyped]

from tidings.channels.base import (
    OutboundMessage,
    ReceiptHandler,
    SubmitResult,
    accepted,
    refused,
    retry_later,
)
from tidings.config import SmtpUpstream
from tidings.domain.lifecycle import MessageStatus

# cte_type=7bit makes set_content pick quoted-printable or base64 for non-ASCII text, so the
# message passes any relay, including ones without 8BITMIME.
_MIME_POLICY = SMTP_POLICY.clone(cte_type="7bit")
# Signed on top of the brief's From/To/Subject/Date/Message-ID: the MIME headers decide how the
# signed body is read, so leaving them unsigned would let a relay change its meaning.
_DKIM_HEADERS = (
    b"from to subject date message-id mime-version content-type content-transfer-encoding"
).split()
_ENHANCED_CODE = re.compile(r"\s*[245]\.(\d{1,3})\.\d{1,3}\b")
_Stage = Literal["MAIL", "RCPT", "DATA"]


@dataclass(frozen=True)
class MimeTemplate:
    """The rendered, recipient-independent part of one mailing list's message."""

    envelope_from: str
    # Right-hand side of our Message-IDs: the sender's domain.
    id_domain: str
    # From, Subject, MIME-Version, Content-Type, Content-Transfer-Encoding; CRLF-terminated.
    head: bytes
    # The blank line and the encoded body.
    body: bytes


def is_html(text: str) -> bool:
    """The simple HTML test of the SMS Center API: starts with '<' and has a closing tag."""
    return text.lstrip().startswith("<") and "</" in text


def wire_address(address: str) -> tuple[str, bool]:
    """The address as sent (IDN domain in punycode) and whether it needs SMTPUTF8.

    Raises ValueError for what cannot go into a header or an envelope safely."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain or any(c in address for c in '\r\n<>,;"\\ \t'):
        raise ValueError(f"bad e-mail address {address!r}")
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError(f"bad e-mail domain {domain!r}") from exc
    return f"{local}@{ascii_domain}", not local.isascii()


def _from_header(sender: str, default_from: str) -> tuple[str, str]:
    """(display name, address): the sender if it is an address, else a display name for
    default_from (an SMS-style sender name like "Shop" still shows up in the mail client)."""
    default_name, default_addr = parseaddr(default_from)
    name, addr = parseaddr(sender)
    if "@" in addr:
        return name, addr
    # parseaddr rejects an unquoted comma, yet people write "Shop, Inc <shop@example.com>".
    name, bracket, addr = sender.rpartition("<")
    if bracket and addr.endswith(">") and "@" in addr:
        return name.strip().strip('"'), addr[:-1].strip()
    return sender.strip() or default_name, default_addr


def _header_text(value: str, header_name: str) -> str:
    # The legacy Header class, not EmailMessage: email's folder drops the space between two
    # encoded words of a long Cyrillic subject (seen on 3.11); Header keeps it inside the words.
    charset = "us-ascii" if value.isascii() else "utf-8"
    encoded: str = Header(value, charset, header_name=header_name).encode(linesep="\r\n")
    return encoded


def _from_text(display_name: str, address: str) -> str:
    if display_name.isascii():
        return formataddr((display_name, address))  # quotes "Shop, Inc" when needed
    return f"{_header_text(display_name, 'From')} <{address}>"


def build_template(sender: str, subject: str, text: str, default_from: str) -> MimeTemplate:
    # A CR or LF in a header value would let a list's text forge headers: flatten them.
    subject = " ".join(subject.splitlines()).strip()
    display_name, address = _from_header(" ".join(sender.splitlines()), default_from)
    envelope_from, _ = wire_address(address)
    head = [f"From: {_from_text(display_name, envelope_from)}\r\n"]
    if subject:
        head.append(f"Subject: {_header_text(subject, 'Subject')}\r\n")
    msg = EmailMessage(policy=_MIME_POLICY)
    msg.set_content(text, subtype="html" if is_html(text) else "plain", charset="utf-8")
    mime_head, _, body = msg.as_bytes().partition(b"\r\n\r\n")
    return MimeTemplate(
        envelope_from,
        envelope_from.rpartition("@")[2],
        "".join(head).encode("ascii") + mime_head + b"\r\n",
        b"\r\n" + body,
    )


class MimeTemplates:
    """An LRU cache of templates keyed by the list and everything the template is made of, so a
    list whose messages differ (personalised texts) still gets each message right."""

    def __init__(self, default_from: str, max_size: int) -> None:
        self._default_from = default_from
        self._max_size = max_size
        self._cache: OrderedDict[tuple[str, str, str, str], MimeTemplate] = OrderedDict()
        self.built = 0
        self._date_second = -1
        self._date = b""

    def __len__(self) -> int:
        return len(self._cache)

    def template(self, message: OutboundMessage) -> MimeTemplate:
        key = (message.template_key, message.sender, message.subject, message.text)
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
            return found
        made = build_template(message.sender, message.subject, message.text, self._default_from)
        self.built += 1
        self._cache[key] = made
        if len(self._cache) > self._max_size:
            self._cache.popitem(last=False)
        return made

    def render(self, template: MimeTemplate, to: str, message_id: str) -> bytes:
        per_recipient = b"To: %b\r\nDate: %b\r\nMessage-ID: %b\r\n" % (
            to.encode(),
            self._date_now(),
            message_id.encode(),
        )
        return b"".join((template.head, per_recipient, template.body))

    def _date_now(self) -> bytes:
        # Date is per message, not per template: a list may take hours and a cached template
        # outlive it. Formatting once a second keeps it off the hot path.
        now = int(time())
        if now != self._date_second:
            self._date_second = now
            self._date = format_datetime(datetime.fromtimestamp(now, UTC)).encode()
        return self._date


def message_id_for(message: OutboundMessage, domain: str) -> str:
    """Stable across retries of the same message, so a receiver can drop the duplicate when a
    retry follows a connection lost during DATA."""
    salt = f"{message.template_key}\0{message.address}".encode()
    return f"<{message.message_id}.{hashlib.blake2b(salt, digest_size=6).hexdigest()}@{domain}>"


def refusal_result(stage: _Stage, code: int, reply: str) -> SubmitResult:
    """Map a refused MAIL/RCPT/DATA to a result (see the module docstring)."""
    detail = f"{stage} refused: {code} {reply}".strip()
    if not 500 <= code < 600:
        return retry_later(detail, code)
    enhanced = _ENHANCED_CODE.match(reply)
    subject = enhanced.group(1) if enhanced else None
    if stage == "MAIL" or subject == "7":
        status = MessageStatus.PROHIBITED
    elif subject == "1" or (subject is None and stage == "RCPT" and code in (550, 551, 553)):
        status = MessageStatus.BAD_NUMBER
    else:
        status = MessageStatus.UNDELIVERABLE
    return refused(status, detail, code)


def _final(status: MessageStatus, detail: str) -> SubmitResult:
    return refused(status, detail)


def _connection_lost(stage: _Stage, exc: BaseException) -> SubmitResult:
    if stage == "DATA":
        detail = f"connection lost during DATA, the relay may have accepted the message: {exc!r}"
    else:
        detail = f"connection lost at {stage}, the message was not sent: {exc!r}"
    # Even after DATA a resend is safe, not ambiguous: the Message-ID is the same on every
    # attempt, so the relay (or the mailbox) drops the copy.
    return retry_later(detail)


async def _greet(client: aiosmtplib.SMTP) -> None:
    """EHLO now, not lazily at the first MAIL, so the relay's extensions (SMTPUTF8) are known."""
    if client.is_ehlo_or_helo_needed:
        try:
            await client.ehlo()
        except aiosmtplib.SMTPHeloError:
            await client.helo()  # a relay that predates ESMTP


class _Slot:
    """One pool place: a connection opened on first use, replaced when broken or worn out."""

    def __init__(self) -> None:
        self.client: aiosmtplib.SMTP | None = None
        self.sent = 0

    def drop(self) -> None:
        if self.client is not None:
            _abort(self.client)
        self.client = None

    async def quit(self, timeout_s: float) -> None:
        if self.client is not None and self.client.is_connected:
            # Not client.quit(): that closes TLS gracefully, see _abort. The relay may have hung
            # up first; there is nothing to tell anyone then.
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await self.client.execute_command(b"QUIT", timeout=timeout_s)
        self.drop()


def _abort(client: aiosmtplib.SMTP) -> None:
    """Close at once. A graceful TLS close waits for the relay's close_notify, which a relay
    that has answered QUIT (or failed us) may never send; the socket then outlives the loop."""
    if isinstance(client.transport, asyncio.Transport):
        client.transport.abort()
    client.close()


@dataclass(frozen=True)
class _Envelope:
    sender: str
    to: str
    needs_utf8: bool
    data: bytes
    message_id: str


# What _attempt returns when a reused connection died before MAIL FROM got an answer.
_STALE = retry_later("stale pooled connection, not sent")


class SmtpChannel:
    """A Channel over one SMTP relay; `submit` may be called concurrently, it waits for a free
    pooled connection."""

    def __init__(self, upstream: SmtpUpstream) -> None:
        self.name = upstream.name
        self.upstream = upstream
        self.templates = MimeTemplates(upstream.default_from, upstream.template_cache_size)
        self._slots = [_Slot() for _ in range(upstream.pool_size)]
        # LIFO: at low concurrency the same warm connection is reused instead of opening all.
        self._idle: asyncio.LifoQueue[_Slot] = asyncio.LifoQueue()
        for slot in self._slots:
            self._idle.put_nowait(slot)
        self._in_flight = 0
        self._drained = asyncio.Event()
        self._drained.set()
        self._accepting = False  # new submits
        self._closed = False  # submits already waiting for a connection
        self._dkim: tuple[bytes, bytes, bytes] | None = None  # selector, domain, key

    async def start(self, on_receipt: ReceiptHandler) -> None:
        # E-mail has no delivery receipts: on_receipt is never called.
        up = self.upstream
        if up.dkim_selector and up.dkim_domain:
            key = up.dkim_private_key
            if key is None and up.dkim_private_key_path is not None:
                key = await asyncio.to_thread(Path(up.dkim_private_key_path).read_bytes)
            assert key is not None  # SmtpUpstream checks that a key comes with the selector
            self._dkim = (up.dkim_selector.encode(), up.dkim_domain.encode(), key)
            # Fail at start on a bad key rather than on the first message of a list.
            self._sign(b"From: a@b.example\r\n\r\ncheck\r\n")
        self._accepting, self._closed = True, False

    async def submit(self, message: OutboundMessage) -> SubmitResult:
        if not self._accepting:
            return retry_later("channel is not running")
        self._in_flight += 1
        self._drained.clear()
        try:
            return await self._submit(message)
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._drained.set()

    async def stop(self, *, drain: bool = True) -> None:
        self._accepting = False
        if drain:
            await self._drained.wait()
            self._closed = True
            for slot in self._slots:
                await slot.quit(self.upstream.timeout_s)
        else:
            # Closing under in-flight submits makes them return retry results.
            self._closed = True
            for slot in self._slots:
                slot.drop()

    async def _submit(self, message: OutboundMessage) -> SubmitResult:
        try:
            to, needs_utf8 = wire_address(message.address)
        except ValueError as exc:
            return _final(MessageStatus.BAD_NUMBER, str(exc))
        try:
            template = self.templates.template(message)
        except ValueError as exc:
            return _final(MessageStatus.PROHIBITED, f"bad sender: {exc}")
        message_id = message_id_for(message, template.id_domain)
        data = self.templates.render(template, to, message_id)
        if self._dkim is not None:
            # ~8 ms per message with a 2048-bit key: dkimpy's RSA is pure Python.
            data = self._sign(data) + data
        envelope = _Envelope(template.envelope_from, to, needs_utf8, data, message_id)
        slot = await self._idle.get()
        try:
            if self._closed:
                return retry_later("channel stopped")
            return await self._send(slot, envelope)
        finally:
            self._idle.put_nowait(slot)

    def _sign(self, data: bytes) -> bytes:
        assert self._dkim is not None
        relaxed = (b"relaxed", b"relaxed")  # survives relays that re-fold headers
        signature: bytes = dkim.sign(
            data, *self._dkim, include_headers=_DKIM_HEADERS, canonicalize=relaxed
        )
        return signature

    async def _send(self, slot: _Slot, envelope: _Envelope) -> SubmitResult:
        # A pooled connection the relay dropped while idle fails at MAIL, before anything of this
        # message was sent: try once more on a fresh connection before reporting.
        result = await self._attempt(slot, envelope, may_be_stale=slot.client is not None)
        if result is _STALE:
            result = await self._attempt(slot, envelope, may_be_stale=False)
        return result

    async def _attempt(self, slot: _Slot, env: _Envelope, *, may_be_stale: bool) -> SubmitResult:
        try:
            client = await self._connected(slot)
        except (aiosmtplib.SMTPException, OSError) as exc:
            up = self.upstream
            detail = f"cannot connect to {up.host}:{up.port}, not sent: {exc!r}"
            return retry_later(detail)
        if env.needs_utf8 and not client.supports_extension("smtputf8"):
            detail = f"{env.to}: the relay does not offer SMTPUTF8, needed for this address"
            return _final(MessageStatus.UNDELIVERABLE, detail)
        stage: _Stage = "MAIL"
        options, encoding = (["SMTPUTF8"], "utf-8") if env.needs_utf8 else ([], "ascii")
        try:
            await client.mail(env.sender, options=options, encoding=encoding)
            stage = "RCPT"
            await client.rcpt(env.to, encoding=encoding)
            stage = "DATA"
            reply = await client.data(env.data)
        except aiosmtplib.SMTPResponseException as exc:
            await self._reset(slot)
            return refusal_result(stage, exc.code, exc.message)
        except (aiosmtplib.SMTPException, OSError) as exc:
            slot.drop()
            if stage == "MAIL" and may_be_stale:
                return _STALE
            return _connection_lost(stage, exc)
        except BaseException:
            slot.drop()  # cancelled mid-dialogue: the connection state is unknown
            raise
        slot.sent += 1
        return accepted(
            (env.message_id,), MessageStatus.DELIVERED, detail=f"{reply.code} {reply.message}"
        )

    async def _connected(self, slot: _Slot) -> aiosmtplib.SMTP:
        up = self.upstream
        if slot.client is not None and (
            not slot.client.is_connected or slot.sent >= up.max_messages_per_connection
        ):
            await slot.quit(up.timeout_s)
        if slot.client is not None:
            return slot.client
        client = aiosmtplib.SMTP(
            hostname=up.host,
            port=up.port,
            local_hostname=up.helo_name,
            timeout=up.timeout_s,
            use_tls=up.security == "tls",
            start_tls=False,
            cert_bundle=up.ca_file,
        )
        try:
            await client.connect()
            # STARTTLS and AUTH here rather than inside connect(), which on failure closes TLS
            # gracefully and so can leave the socket open (see _abort).
            if up.security == "starttls":
                await client.starttls()
            if up.username is not None and up.password is not None:
                await client.login(up.username, up.password)
            await _greet(client)
        except BaseException:
            _abort(client)
            raise
        slot.client, slot.sent = client, 0
        return client

    async def _reset(self, slot: _Slot) -> None:
        """RSET after a refusal so the next message starts a clean transaction."""
        client = slot.client
        if client is None or not client.is_connected:
            slot.drop()
            return
        try:
            await client.rset()
        except (aiosmtplib.SMTPException, OSError):
            slot.drop()
