"""The operator's tools (the cabinet's admin pages and the command line): accounts, money,
test mode, tariffs, upstream state.

In the cabinet only accounts with `is_operator` reach these (the web edge answers 404 to the
others); the command line is the operator's own. Values arrive raw; the rules here clean
them and raise InvalidParameter naming the field, so both edges refuse alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tidings.domain.accounts import (
    Account,
    PasswordHashes,
    check_new_password,
    hash_password,
    require_account,
    require_account_by_login,
    validate_login,
)
from tidings.domain.audit import Actor, AuditAction, AuditLog
from tidings.domain.money import format_money, to_minor
from tidings.domain.operations import UpstreamState
from tidings.domain.pricing import Tariff, TariffRecord, country_code, price, tariff_name
from tidings.domain.routing import Routes
from tidings.errors import InvalidParameter

MAX_MEMO = 200
DEFAULT_TIMEZONE = "Europe/Moscow"
# [choice] One manual credit or debit moves at most this much (minor units): a typo of a few
# extra zeros is refused rather than booked.
MAX_MOVE_MINOR = 100_000_000_00


@dataclass(frozen=True)
class AccountLine:
    account: Account
    balance_minor: int


@dataclass(frozen=True)
class ConfiguredUpstream:
    """An upstream as the settings describe it."""

    name: str
    kind: str  # "virtual", "smpp", "smtp"
    address: str
    window: int
    binds: int


@dataclass(frozen=True)
class UpstreamLine:
    """One configured upstream and what each dispatcher last reported about it
    (`states` empty: no dispatcher has reported it, its state is unknown)."""

    upstream: ConfiguredUpstream
    states: tuple[UpstreamState, ...]
    now: datetime

    @property
    def known(self) -> bool:
        return bool(self.states)


class AdminStore(Protocol):
    def list_accounts(self) -> list[tuple[Account, int]]: ...

    def count_accounts(self) -> int: ...

    def account(self, account_id: int) -> Account | None: ...

    def account_by_login(self, login: str) -> Account | None: ...

    def create_account(
        self,
        login: str,
        hashes: PasswordHashes,
        now: datetime,
        *,
        timezone: str = ...,
        region: str = ...,
        currency: str = ...,
        test_mode: bool = ...,
        is_operator: bool = ...,
    ) -> Account: ...

    def add_ledger_entry(
        self, account_id: int, amount_minor: int, kind: str, memo: str, now: datetime
    ) -> int: ...

    def set_test_mode(self, account_id: int, on: bool) -> None: ...

    @property
    def default_tariff(self) -> Tariff: ...

    def tariffs(self) -> list[TariffRecord]: ...

    def create_tariff(self, name: str, tariff: Tariff) -> int: ...

    def change_tariff(
        self, tariff_id: int, *, default_price_minor: int, email_price_minor: int
    ) -> None: ...

    def set_country_price(self, tariff_id: int, country: str, price_minor: int | None) -> None: ...

    def set_account_tariff(self, account_id: int, tariff_id: int | None) -> None: ...


class AdminService:
    """Every change here writes its audit entry in the change's own transaction."""

    def __init__(self, store: AdminStore, audit: AuditLog) -> None:
        self._store = store
        self._audit = audit

    # ---- accounts -------------------------------------------------------------------------

    def accounts(self) -> list[AccountLine]:
        return [AccountLine(a, balance) for a, balance in self._store.list_accounts()]

    def account(self, account_id: int) -> Account:
        return require_account(self._store, account_id)

    def account_by_login(self, login: str) -> Account:
        return require_account_by_login(self._store, login)

    def count_accounts(self) -> int:
        return self._store.count_accounts()

    def create_account(
        self,
        login: str,
        password: str,
        opening_balance: str,
        now: datetime,
        actor: Actor,
        *,
        test_mode: bool,
        is_operator: bool = False,
        timezone: str = DEFAULT_TIMEZONE,
    ) -> Account:
        """A new account; a non-zero opening balance is its first ledger entry."""
        clean = validate_login(login.strip())
        check_new_password(password)
        balance = amount(opening_balance or "0", "balance", allow_zero=True)
        zone = time_zone(timezone)
        hashes = hash_password(password)
        details = (
            f"balance {format_money(balance)}, time zone {zone}"
            + (", test mode" if test_mode else "")
            + (", operator" if is_operator else "")
        )
        with self._audit.recorded(
            actor, AuditAction.ACCOUNT_CREATED, now, target=clean, details=details
        ) as note:
            account = self._store.create_account(
                clean, hashes, now, timezone=zone, test_mode=test_mode, is_operator=is_operator
            )
            note.account_id = account.id
            if balance:
                self._store.add_ledger_entry(account.id, balance, "credit", "opening balance", now)
        return account

    def move_money(
        self,
        account_id: int,
        raw_amount: str,
        direction: str,
        memo: str,
        now: datetime,
        actor: Actor,
    ) -> int:
        """Credit (`direction` "credit") or debit ("debit") the account through the ledger;
        return the new balance."""
        if direction not in ("credit", "debit"):
            raise InvalidParameter("direction: credit or debit")
        minor = amount(raw_amount, "amount")
        text = memo.strip()
        if len(text) > MAX_MEMO:
            raise InvalidParameter("%(field)s: at most %(n)s characters", field="memo", n=MAX_MEMO)
        account = self.account(account_id)
        signed = minor if direction == "credit" else -minor
        memo_text = text or f"{direction} by an operator"
        action = AuditAction.CREDIT if direction == "credit" else AuditAction.DEBIT
        with self._audit.recorded(
            actor, action, now, account_id=account_id, target=account.login
        ) as note:
            balance = self._store.add_ledger_entry(account_id, signed, direction, memo_text, now)
            note.details = (
                f"{format_money(minor)} {account.currency}, balance {format_money(balance)}"
                f" ({memo_text})"
            )
        return balance

    def set_test_mode(self, account_id: int, on: bool, now: datetime, actor: Actor) -> None:
        account = self.account(account_id)
        with self._audit.recorded(
            actor,
            AuditAction.TEST_MODE,
            now,
            account_id=account_id,
            target=account.login,
            details="on" if on else "off",
        ):
            self._store.set_test_mode(account_id, on)

    def set_account_tariff(
        self, account_id: int, raw_tariff: str, now: datetime, actor: Actor
    ) -> None:
        """`raw_tariff` "" puts the account back on the default tariff."""
        text = raw_tariff.strip()
        if text and not (text.isascii() and text.isdigit()):
            raise InvalidParameter("tariff: a tariff id")
        account = self.account(account_id)
        with self._audit.recorded(
            actor,
            AuditAction.ACCOUNT_TARIFF,
            now,
            account_id=account_id,
            target=account.login,
            details=f"tariff {text}" if text else "default tariff",
        ):
            self._store.set_account_tariff(account_id, int(text) if text else None)

    # ---- tariffs --------------------------------------------------------------------------

    @property
    def default_tariff(self) -> Tariff:
        return self._store.default_tariff

    def tariffs(self) -> list[TariffRecord]:
        return self._store.tariffs()

    def create_tariff(
        self, raw_name: str, raw_default: str, raw_email: str, now: datetime, actor: Actor
    ) -> int:
        """A new tariff in the default tariff's currency, starting with its country prices."""
        base = self._store.default_tariff
        name = tariff_name(raw_name)
        sms, mail = price(raw_default, "default_price"), price(raw_email, "email_price")
        details = f"SMS part {format_money(sms)}, e-mail {format_money(mail)}"
        with self._audit.recorded(
            actor, AuditAction.TARIFF_CREATED, now, target=name, details=details
        ) as note:
            tariff_id = self._store.create_tariff(
                name,
                Tariff(
                    currency=base.currency,
                    default_price_minor=sms,
                    email_price_minor=mail,
                    country_prices=dict(base.country_prices),
                ),
            )
            note.target = f"tariff {tariff_id} {name}"
        return tariff_id

    def change_tariff(
        self, tariff_id: int, raw_default: str, raw_email: str, now: datetime, actor: Actor
    ) -> None:
        sms, mail = price(raw_default, "default_price"), price(raw_email, "email_price")
        details = f"SMS part {format_money(sms)}, e-mail {format_money(mail)}"
        with self._audit.recorded(
            actor, AuditAction.TARIFF_CHANGED, now, target=f"tariff {tariff_id}", details=details
        ):
            self._store.change_tariff(tariff_id, default_price_minor=sms, email_price_minor=mail)

    def set_country_price(
        self, tariff_id: int, raw_country: str, raw_price: str, now: datetime, actor: Actor
    ) -> None:
        country, minor = country_code(raw_country), price(raw_price, "price")
        with self._audit.recorded(
            actor,
            AuditAction.COUNTRY_PRICE,
            now,
            target=f"tariff {tariff_id}",
            details=f"{country} {format_money(minor)}",
        ):
            self._store.set_country_price(tariff_id, country, minor)

    def remove_country_price(
        self, tariff_id: int, raw_country: str, now: datetime, actor: Actor
    ) -> None:
        country = country_code(raw_country)
        with self._audit.recorded(
            actor,
            AuditAction.COUNTRY_PRICE_REMOVED,
            now,
            target=f"tariff {tariff_id}",
            details=country,
        ):
            self._store.set_country_price(tariff_id, country, None)


def amount(raw: str, param: str, *, allow_zero: bool = False) -> int:
    """A positive sum of money in minor units from a decimal string ("10", "10.50", "10,5")."""
    if not raw.strip():
        raise InvalidParameter("%(field)s: required", field=param)
    try:
        minor = to_minor(raw)
    except InvalidParameter as exc:
        raise InvalidParameter("%(field)s: not an amount", field=param) from exc
    if minor < 0 or (minor == 0 and not allow_zero):
        raise InvalidParameter("%(field)s: a positive amount", field=param)
    if minor > MAX_MOVE_MINOR:
        raise InvalidParameter("%(field)s: at most %(n)s", field=param, n=MAX_MOVE_MINOR // 100)
    return minor


def time_zone(raw: str) -> str:
    """An IANA time zone name (the zone of the account's dates and schedules)."""
    name = raw.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidParameter("timezone: no time zone %(name)r", name=name) from exc
    return name


def upstream_lines(
    configured: Sequence[ConfiguredUpstream], states: Sequence[UpstreamState], now: datetime
) -> list[UpstreamLine]:
    """Each configured upstream with the live reports about it, then any upstream reported
    by a dispatcher but absent from these settings (another process's configuration)."""
    by_name: dict[str, list[UpstreamState]] = {}
    for state in states:
        by_name.setdefault(state.upstream, []).append(state)
    lines = [UpstreamLine(u, tuple(by_name.pop(u.name, ())), now) for u in configured]
    for name, reported in sorted(by_name.items()):
        first = reported[0]
        lines.append(
            UpstreamLine(
                ConfiguredUpstream(name, first.kind, "—", first.window, first.binds_total),
                tuple(reported),
                now,
            )
        )
    return lines


class UpstreamStateStore(Protocol):
    def upstream_states(self) -> list[UpstreamState]:
        """What every dispatcher last reported about each of its upstreams."""


class UnroutedCounter(Protocol):
    def unrouted_waiting(self) -> dict[bool, int]:
        """Waiting messages no configured upstream takes, by kind (True = e-mail)."""

    def live_accounts(self) -> int: ...


class UpstreamMonitor:
    """The configured upstreams with their live state (the admin page, `tidings upstreams`),
    and what no upstream takes."""

    def __init__(
        self,
        store: UpstreamStateStore,
        configured: Sequence[ConfiguredUpstream],
        routes: Routes | None = None,
        unrouted: UnroutedCounter | None = None,
    ) -> None:
        self._store = store
        self._configured = tuple(configured)
        self._routes = routes or Routes()
        self._unrouted = unrouted

    def gaps(self) -> list[str]:
        """What live accounts cannot send for want of an upstream, said for the operator."""
        return routing_gaps(self._routes, self._unrouted)

    def states(self) -> list[UpstreamState]:
        return self._store.upstream_states()

    def lines(self, now: datetime) -> list[UpstreamLine]:
        return upstream_lines(self._configured, self._store.upstream_states(), now)


def routing_gaps(routes: Routes, unrouted: UnroutedCounter | None) -> list[str]:
    """One line per kind of message live accounts send that no upstream takes: SMS without
    an [[smpp]] upstream, e-mail without an [[smtp]] one (when such messages wait or live
    accounts exist)."""
    waiting = unrouted.unrouted_waiting() if unrouted is not None else {}
    live = unrouted.live_accounts() if unrouted is not None else 0
    lines = []
    for mail, kind, section in ((False, "SMS", "[[smpp]]"), (True, "e-mail", "[[smtp]]")):
        count = waiting.get(mail, 0)
        if routes.takes(mail=mail) or not (count or (live and not mail)):
            continue
        lines.append(
            f"no {section} upstream is configured: live accounts' {kind} wait, uncharged"
            f" ({count} waiting); test-mode accounts use the virtual upstream"
        )
    return lines
