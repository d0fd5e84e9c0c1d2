"""Inbound messages (two-way messaging): whose an incoming SMS is, STOP keywords, reading them.

Whose it is, in order (issue 14, docs/api.md "Inbound messages"):
1. the destination is an inbound number the operator assigned to an account → that account;
2. else it answers the newest message an account sent to that phone from that sender (the
   destination) within `inbound.reply_window_h` → that account, linked to that message and
   its mailing list;
3. else it is kept unassigned, for the operator.

A message of an account whose text is one of the account's stop keywords (case and blanks
ignored) puts the sender's number on the account's stop list for mailing lists.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from tidings.domain.accounts import Account
from tidings.domain.numbers import optional_uint
from tidings.errors import InvalidParameter, NotFound

DEFAULT_STOP_KEYWORDS: tuple[str, ...] = ("STOP", "СТОП", "ОТПИСКА", "UNSUBSCRIBE")
# Shown where a part of a long message never came (after `inbound.part_timeout_s`).
MISSING_PART = "[…]"
MAX_NUMBER_LEN = 20


class Route(enum.IntEnum):
    """How an inbound message found its account (stored; never renumber)."""

    NUMBER = 1
    REPLY = 2
    UNASSIGNED = 3


ROUTE_NAMES: dict[Route, str] = {
    Route.NUMBER: "number",
    Route.REPLY: "reply",
    Route.UNASSIGNED: "unassigned",
}


@dataclass(frozen=True)
class ReplyTarget:
    """The outbound message an inbound one answers."""

    account_id: int
    message_id: int
    job_pk: int | None


@dataclass(frozen=True)
class Ownership:
    account_id: int | None
    route: Route
    reply_to: ReplyTarget | None = None


def decide_owner(number_owner: int | None, reply: ReplyTarget | None) -> Ownership:
    """The precedence of the module docstring: an assigned number, a reply, or nobody."""
    if number_owner is not None:
        return Ownership(number_owner, Route.NUMBER)
    if reply is not None:
        return Ownership(reply.account_id, Route.REPLY, reply)
    return Ownership(None, Route.UNASSIGNED)


def normalise_keyword(text: str) -> str:
    """Case and blanks do not matter: " стоп " is "СТОП"."""
    return " ".join(text.split()).casefold()


def parse_keywords(raw: str | None, default: Sequence[str] = DEFAULT_STOP_KEYWORDS) -> list[str]:
    """An account's keywords as stored (comma-separated; NULL = the defaults), normalised."""
    items = default if raw is None else raw.split(",")
    return [k for k in (normalise_keyword(i) for i in items) if k]


def is_stop(text: str, keywords: Sequence[str]) -> bool:
    return normalise_keyword(text) in keywords


# An account's own keywords (the cabinet): at most this many, each at most this long.
MAX_KEYWORDS = 20
MAX_KEYWORD_LEN = 40


def account_keywords(raw: str) -> str | None:
    """Keywords as a person types them (one a line, or separated by commas) → as stored:
    normalised, joined by commas; None (the settings' defaults) when none is given."""
    items = [normalise_keyword(k) for k in raw.replace("\n", ",").split(",")]
    keywords = list(dict.fromkeys(k for k in items if k))
    if not keywords:
        return None
    if len(keywords) > MAX_KEYWORDS:
        raise InvalidParameter("%(field)s: at most %(n)s", field="stop keywords", n=MAX_KEYWORDS)
    if any(len(k) > MAX_KEYWORD_LEN for k in keywords):
        raise InvalidParameter(
            "%(field)s: at most %(n)s characters each", field="stop keywords", n=MAX_KEYWORD_LEN
        )
    return ",".join(keywords)


# The confirmation reply to a stop keyword (off by default): a message like any other,
# charged when handed over; at most this long (as send.php's `mes`).
MAX_STOP_REPLY = 1000


def stop_reply_text(raw: str) -> str | None:
    """The confirmation an account sends to a number its stop keyword opted out; None (no
    confirmation) when empty."""
    text = raw.strip()
    if not text:
        return None
    if len(text) > MAX_STOP_REPLY:
        raise InvalidParameter(
            "%(field)s: at most %(n)s characters", field="stop reply", n=MAX_STOP_REPLY
        )
    return text


def matches_search(needle: str, phone: str, text: str) -> bool:
    """The inbox's search: a substring of the sender's phone (a leading `+` ignored) or of
    the text, ignoring case in every alphabet (the same on SQLite and PostgreSQL)."""
    folded = needle.casefold()
    digits = folded.lstrip("+")
    return (bool(digits) and digits in phone) or folded in text.casefold()


def inbound_address(raw: str) -> str:
    """An SMSC address as Tidings keeps numbers: digits without '+'; anything else (a short
    code with letters, an alphanumeric name) as given, trimmed."""
    token = raw.strip()
    digits = token.removeprefix("+")
    return digits if digits.isdigit() and digits.isascii() else token


def join_parts(parts: Mapping[int, str], total: int) -> tuple[str, int]:
    """A long message from its parts by sequence number: (text, parts missing)."""
    texts = [parts.get(seq, MISSING_PART) for seq in range(1, total + 1)]
    return "".join(texts), sum(1 for seq in range(1, total + 1) if seq not in parts)


def assigned_number(raw: str) -> str:
    """An inbound number as the operator gives it (digits, '+' allowed)."""
    number = inbound_address(raw)
    if not number.isdigit() or not 3 <= len(number) <= MAX_NUMBER_LEN:
        raise InvalidParameter(
            "%(field)s: 3 to %(n)s digits", field="inbound number", n=MAX_NUMBER_LEN
        )
    return number


# ---- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboundView:
    id: int
    account_id: int | None
    upstream: str
    phone: str
    to_phone: str
    text: str
    received_at: int
    route: Route
    stop: bool
    # The outbound message it answers and that message's list (client-facing id), if any.
    reply_to: int | None = None
    job_id: int | None = None
    reply_sent_at: int | None = None
    parts: int = 1
    missing: int = 0


@dataclass(frozen=True)
class InboundQuery:
    """get_answers and the cabinet's inbox: an account's messages, newest first."""

    account_id: int
    since_ts: int | None = None
    after_id: int = 0
    before_id: int | None = None
    to_phone: str = ""
    # A substring of the phone or the text, by `matches_search` (the store scans and
    # matches in Python, so case folds in every alphabet, alike on SQLite and PostgreSQL).
    search: str = ""
    # Only the replies to this mailing list (the account's list number).
    job_id: int | None = None
    # Only stop keywords (a list's opt-outs).
    stops_only: bool = False
    limit: int = 100
    # get_answers reads in id order, so that `after_id` = the last id seen pages forward.
    oldest_first: bool = False


# get.php get_answers (smsc-api.md §5.5): `hour` 1..24 [choice] default 1; at most this many
# messages per answer [choice], in id order: ask again with after_id = the last id shown.
ANSWERS_MAX_HOURS = 24
ANSWERS_DEFAULT_HOURS = 1
ANSWERS_LIMIT = 1000


def answers_query(
    account_id: int, now: datetime, hour: str | None, after_id: str | None, to_phone: str | None
) -> InboundQuery:
    """get_answers' parameters as given (strings, or None when absent) → the query."""
    hours = optional_uint(hour, "hour")
    if hours is None:
        hours = ANSWERS_DEFAULT_HOURS
    if not 1 <= hours <= ANSWERS_MAX_HOURS:
        raise InvalidParameter("hour: 1..%(n)s", n=ANSWERS_MAX_HOURS)
    return InboundQuery(
        account_id=account_id,
        since_ts=int(now.timestamp()) - hours * 3600,
        after_id=optional_uint(after_id, "after_id") or 0,
        to_phone=inbound_address(to_phone or ""),
        limit=ANSWERS_LIMIT,
        oldest_first=True,
    )


INBOX_SEARCH_MAX = 64


@dataclass(frozen=True)
class StopKeywords:
    keywords: list[str]
    # True: the account has none of its own, the settings' apply.
    default: bool


@dataclass(frozen=True)
class InboundNumber:
    number: str
    account_id: int
    login: str
    created_at: int


class InboundStore(Protocol):
    def inbound_page(self, query: InboundQuery) -> list[InboundView]: ...

    def unassigned_page(self, before_id: int | None, limit: int) -> list[InboundView]: ...

    def inbound_numbers(self, account_id: int | None) -> list[InboundNumber]:
        """An account's numbers, or every account's (None)."""

    def assign_number(self, number: str, account_id: int, now: int) -> None:
        """InvalidParameter when another account has it."""

    def release_number(self, number: str) -> bool: ...

    def stop_keywords(self, account_id: int) -> str | None: ...

    def set_stop_keywords(self, account_id: int, stored: str | None) -> None: ...

    def stop_reply(self, account_id: int) -> str | None: ...

    def set_stop_reply(self, account_id: int, text: str | None) -> None: ...


class InboundService:
    def __init__(
        self, store: InboundStore, default_keywords: Sequence[str] = DEFAULT_STOP_KEYWORDS
    ) -> None:
        self._store = store
        self._default_keywords = list(default_keywords)

    def page(self, query: InboundQuery) -> list[InboundView]:
        return self._store.inbound_page(query)

    def answers(
        self,
        account: Account,
        now: datetime,
        hour: str | None = None,
        after_id: str | None = None,
        to_phone: str | None = None,
    ) -> list[InboundView]:
        """get.php get_answers: the account's messages of the last `hour` hours, in id order."""
        return self._store.inbound_page(answers_query(account.id, now, hour, after_id, to_phone))

    def inbox(
        self, account: Account, search: str, before_id: int | None, limit: int
    ) -> list[InboundView]:
        """The cabinet's inbox: newest first, `search` in the phone or the text."""
        query = InboundQuery(
            account_id=account.id,
            before_id=before_id,
            search=search.strip()[:INBOX_SEARCH_MAX],
            limit=limit,
        )
        return self._store.inbound_page(query)

    def list_replies(
        self, account: Account, job_id: int, limit: int, *, stops_only: bool = False
    ) -> list[InboundView]:
        """The replies to one of the account's mailing lists (or only its opt-outs)."""
        query = InboundQuery(
            account_id=account.id, job_id=job_id, stops_only=stops_only, limit=limit
        )
        return self._store.inbound_page(query)

    def stop_keywords(self, account: Account) -> StopKeywords:
        stored = self._store.stop_keywords(account.id)
        if stored is None:
            return StopKeywords(parse_keywords(None, self._default_keywords), True)
        return StopKeywords(parse_keywords(stored), False)

    def set_stop_keywords(self, account: Account, raw: str) -> StopKeywords:
        """An empty text goes back to the settings' defaults."""
        self._store.set_stop_keywords(account.id, account_keywords(raw))
        return self.stop_keywords(account)

    def stop_reply(self, account: Account) -> str:
        """The confirmation sent back to a number a stop keyword opted out ("": none)."""
        return self._store.stop_reply(account.id) or ""

    def set_stop_reply(self, account: Account, raw: str) -> str:
        text = stop_reply_text(raw)
        self._store.set_stop_reply(account.id, text)
        return text or ""

    def unassigned(self, before_id: int | None, limit: int) -> list[InboundView]:
        return self._store.unassigned_page(before_id, limit)

    def numbers(self, account: Account | None) -> list[InboundNumber]:
        return self._store.inbound_numbers(None if account is None else account.id)

    def assign(self, raw_number: str, account: Account, now: datetime) -> str:
        number = assigned_number(raw_number)
        self._store.assign_number(number, account.id, int(now.timestamp()))
        return number

    def release(self, raw_number: str) -> str:
        number = assigned_number(raw_number)
        if not self._store.release_number(number):
            raise NotFound("no such inbound number")
        return number
