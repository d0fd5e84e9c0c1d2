"""Single and bulk one-off sends (send.php): priced, checked and queued for the engine.

A send becomes ordinary messages (no mailing list), so the dispatcher hands them over,
charges them and tracks their receipts exactly as it does for mailing lists.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from tidings.domain import templates
from tidings.domain.accounts import Account
from tidings.domain.door_receipts import ReceiptRequest
from tidings.domain.jobs import MessageFormat, message_parts
from tidings.domain.pricing import Tariff
from tidings.domain.schedule import HourWindow, portion_index, portion_offsets
from tidings.domain.sms import segment_count, split_comment, transliterate
from tidings.domain.templates import Template
from tidings.errors import (
    DomainError,
    InsufficientFunds,
    InvalidNumber,
    MessageDenied,
    Undeliverable,
)

# Why a number of a send got no message (send.php `op=1`/`err=1`): the send.php error codes.
REFUSED_INVALID = 7  # not a number (or address) we can read
REFUSED_STOP_LISTED = 8  # on the account's stop list for single messages


@dataclass(frozen=True)
class NewSend:
    """A validated send.php request."""

    addresses: Sequence[str]
    # Per-recipient texts from `list`, aligned with `addresses`; None: all get `message`.
    texts: Sequence[str] | None
    groups: Sequence[int]
    message: str
    fmt: MessageFormat
    due: datetime
    # `time=h1-h2`: handed over only within these hours of the recipient's day.
    window: HourWindow | None = None
    # `tpl`: the stored template whose text (format, sender) the send uses.
    template_id: int | None = None
    client_id: str | None = None
    sender: str = ""
    translit: int = 0
    subject: str = ""
    period: str = "0"
    freq: int = 0
    validity_min: int = 0
    maxsms: int = 0
    rejected: Sequence[str] = ()


@dataclass(frozen=True)
class Recipient:
    address: str
    text: str  # as sent: comment removed, transliterated, cut to maxsms
    parts: int
    cost: int
    due: datetime


@dataclass(frozen=True)
class Refused:
    """A recipient as given that gets no message, and why (a send.php error code)."""

    address: str
    error: int


@dataclass(frozen=True)
class Quote:
    recipients: list[Recipient]
    refused: list[Refused] = field(default_factory=list)

    @property
    def parts(self) -> int:
        return sum(r.parts for r in self.recipients)

    @property
    def cost(self) -> int:
        return sum(r.cost for r in self.recipients)


@dataclass(frozen=True)
class Sent:
    send_id: str
    parts: int
    cost: int
    balance: int
    # Who got what (send.php `op=1`, `err=1`); the service fills it in.
    quote: Quote | None = None


@dataclass(frozen=True)
class PreparedSend:
    """A send checked and ready to be signed, priced and stored: alone, or together with
    the sends of other requests (the API's group commit), where the accounts' signatures
    and stop lists are read once for all of them (SendService.store)."""

    account: Account
    # Its template applied and its groups resolved; not yet signed.
    send: NewSend
    validity_s: int
    now: datetime
    # A door (the SMPP server) that wants each message's final status back for its client.
    receipts: ReceiptRequest | None = None


@dataclass(frozen=True)
class PricedSend:
    """A prepared send signed and priced: what the store writes."""

    account: Account
    send: NewSend
    quote: Quote
    validity_s: int
    now: datetime
    receipts: ReceiptRequest | None = None


@dataclass(frozen=True)
class _Context:
    """What the sends of one batch read from the store once, for all of them."""

    signatures: dict[int, Template]
    stop_listed: dict[int, set[str]]
    # By the accounts' tariff id (None: the default tariff).
    tariffs: dict[int | None, Tariff]


class SendStore(Protocol):
    def approved_senders(self, account_id: int) -> list[str]: ...

    def template(self, account_id: int, template_id: int) -> Template | None: ...

    def signature_templates(self, account_ids: Collection[int]) -> dict[int, Template]:
        """The auto-signature of each of these accounts that has one."""

    def tariff_for(self, account: Account) -> Tariff: ...

    def group_addresses(self, account_id: int, groups: Sequence[int], mail: bool) -> list[str]:
        """Every contact address of these groups now."""

    def stop_listed_among(self, wanted: Mapping[int, Collection[str]]) -> dict[int, set[str]]:
        """Per account, those of its addresses on its stop list for single messages."""

    def queue_sends(self, sends: Sequence[PricedSend]) -> list[Sent | InsufficientFunds]:
        """Store, in one transaction, the messages of every send whose account's balance
        covers its cost; each other send gets InsufficientFunds in its place."""


class SendService:
    def __init__(self, store: SendStore, default_validity_min: int) -> None:
        self._store = store
        self._default_validity_min = default_validity_min

    def quote(self, account: Account, send: NewSend) -> Quote:
        """Who gets what, and at what price (template and signature applied, groups
        resolved, stop list removed)."""
        send = self._grouped(account, self._templated(account, send))
        context = self._context([(account, send)])
        return self._quote(account, _signed(send, context.signatures.get(account.id)), context)

    def send(self, account: Account, send: NewSend, now: datetime) -> Sent:
        result = self.store([self.prepare(account, send, now)])[0]
        if isinstance(result, DomainError):
            raise result
        return result

    def prepare(
        self,
        account: Account,
        send: NewSend,
        now: datetime,
        receipts: ReceiptRequest | None = None,
    ) -> PreparedSend:
        """Everything of a send that is its own: its template, its groups, its sender."""
        send = self._templated(account, send)
        self._check_sender(account, send.sender)
        send = self._grouped(account, send)
        validity = (send.validity_min or self._default_validity_min) * 60
        return PreparedSend(account, send, validity, now, receipts)

    def store(self, sends: Sequence[PreparedSend]) -> list[Sent | DomainError]:
        """Prepared sends signed, priced and stored together (one transaction): each one's
        Sent, or the refusal of it alone (every number stop-listed, the balance short).
        The signatures and stop lists of all of them are read in one query each: a send
        alone pays two reads, a batch of a hundred pays the same two."""
        context = self._context([(p.account, p.send) for p in sends])
        results: list[Sent | DomainError | None] = []
        priced: list[PricedSend] = []
        for p in sends:
            send = _signed(p.send, context.signatures.get(p.account.id))
            try:
                quote = self._quote(p.account, send, context)
            except DomainError as refusal:
                results.append(refusal)
                continue
            results.append(None)
            priced.append(PricedSend(p.account, send, quote, p.validity_s, p.now, p.receipts))
        stored = iter(zip(priced, self._store.queue_sends(priced), strict=True))
        return [result if result is not None else _with_quote(*next(stored)) for result in results]

    def _templated(self, account: Account, send: NewSend) -> NewSend:
        """The template's text, format and sender (`tpl`)."""
        if send.template_id is None:
            return send
        found = self._store.template(account.id, send.template_id)
        used = templates.resolve(found, send.fmt, send.sender)
        return replace(send, message=used.text, fmt=used.fmt, sender=used.sender)

    def _grouped(self, account: Account, send: NewSend) -> NewSend:
        """The groups' members added (`phones=<group>`); a send to nobody is refused."""
        send = self._with_groups(account, send)
        if not send.addresses:
            raise InvalidNumber("invalid number")
        return send

    def _context(self, sends: Sequence[tuple[Account, NewSend]]) -> _Context:
        wanted: dict[int, set[str]] = {}
        tariffs: dict[int | None, Tariff] = {}
        for account, send in sends:
            wanted.setdefault(account.id, set()).update(send.addresses)
            if account.tariff_id not in tariffs:
                tariffs[account.tariff_id] = self._store.tariff_for(account)
        return _Context(
            self._store.signature_templates(wanted),
            self._store.stop_listed_among(wanted),
            tariffs,
        )

    def _quote(self, account: Account, send: NewSend, context: _Context) -> Quote:
        blocked = context.stop_listed.get(account.id, set())
        tariff = context.tariffs[account.tariff_id]
        recipients = [
            self._recipient(send, tariff, index, address, text)
            for index, (address, text) in enumerate(_pairs(send))
            if address not in blocked
        ]
        if not recipients:
            raise Undeliverable("can't to deliver")
        refused = [Refused(a, REFUSED_INVALID) for a in send.rejected] + [
            Refused(a, REFUSED_STOP_LISTED) for a in send.addresses if a in blocked
        ]
        return Quote(recipients, refused)

    def _with_groups(self, account: Account, send: NewSend) -> NewSend:
        if not send.groups:
            return send
        members = self._store.group_addresses(
            account.id, send.groups, send.fmt is MessageFormat.MAIL
        )
        known = set(send.addresses)
        extra = [a for a in dict.fromkeys(members) if a not in known]
        texts = None if send.texts is None else [*send.texts, *([send.message] * len(extra))]
        return replace(send, addresses=[*send.addresses, *extra], texts=texts)

    def _recipient(
        self, send: NewSend, tariff: Tariff, index: int, address: str, text: str
    ) -> Recipient:
        body = _as_sent(text, send)
        if send.fmt is MessageFormat.MAIL:
            parts, cost = 1, tariff.email_cost()
        else:
            parts = message_parts(body, send.fmt, 0)
            cost = tariff.sms_cost(address, parts)
        return Recipient(address, body, parts, cost, send.due + _offset(send, index))

    def _check_sender(self, account: Account, sender: str) -> None:
        """Test-mode accounts may use any sender (clients default to names like SMSC.ru)."""
        if account.test_mode or not sender:
            return
        approved = self._store.approved_senders(account.id)
        if approved and sender not in approved:
            raise MessageDenied("message is denied")


def _signed(send: NewSend, signature: Template | None) -> NewSend:
    """The text as it will be sent: the account's auto-signature after it."""
    if signature is None:
        return send
    return replace(
        send,
        message=templates.signed(send.message, signature, send.fmt),
        texts=templates.signed_texts(send.texts, signature, send.fmt),
    )


def _with_quote(priced: PricedSend, result: Sent | InsufficientFunds) -> Sent | DomainError:
    return replace(result, quote=priced.quote) if isinstance(result, Sent) else result


def _pairs(send: NewSend) -> list[tuple[str, str]]:
    if send.texts is None:
        return [(a, send.message) for a in send.addresses]
    return list(zip(send.addresses, send.texts, strict=True))


def _as_sent(text: str, send: NewSend) -> str:
    body, _comment = split_comment(text)
    if send.fmt in (MessageFormat.BIN, MessageFormat.BIN_HEX, MessageFormat.MAIL):
        return body
    body = transliterate(body, send.translit)
    if send.maxsms:
        body = _cut_to_parts(body, send.maxsms)
    return body


def _cut_to_parts(text: str, maxsms: int) -> str:
    """`maxsms`: a longer text is cut to fit that many parts."""
    while text and segment_count(text).parts > maxsms:
        text = text[:-1]
    return text


def _offset(send: NewSend, index: int) -> timedelta:
    if not send.freq:
        return timedelta(0)
    portions = len(portion_offsets(send.period, send.freq))
    total = max(len(send.addresses), 1)
    return timedelta(minutes=send.freq * portion_index(index, total, portions))
