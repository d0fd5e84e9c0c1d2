"""What happens when a dispatcher takes messages: expiry, h1-h2 windows, price and charge.

All in the caller's transaction, so a message is charged exactly when it is claimed for
handing over, and a message that cannot be paid for is finished with status 24, unsent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from tidings.channels.base import OutboundMessage
from tidings.domain.clock import to_ts
from tidings.domain.jobs import MessageFormat
from tidings.domain.lifecycle import Change
from tidings.domain.phones import timezone_of
from tidings.domain.pricing import Tariff
from tidings.domain.schedule import HourWindow
from tidings.domain.sms import split_comment, transliterate
from tidings.store import ledger, outcomes, queue
from tidings.store.db import Tx
from tidings.store.sql import chunks, marks

TariffLookup = Callable[[int | None], Tariff]


@dataclass(frozen=True)
class Claimed:
    row: queue.ClaimRow
    outbound: OutboundMessage


@dataclass(frozen=True)
class ClaimOutcome:
    claimed: list[Claimed]
    finals: list[outcomes.Finalised]


def claim(
    tx: Tx, channel: str, owner: str, now: datetime, limit: int, lease_s: int, tariffs: TariffLookup
) -> ClaimOutcome:
    ts = to_ts(now)
    rows = queue.claimable(tx, channel, ts, limit)
    if not rows:
        return ClaimOutcome([], [])
    rows = _with_send_options(tx, rows)
    expired = [r.id for r in rows if r.valid_until is not None and r.valid_until < ts]
    finals = outcomes.apply_change(tx, Change.EXPIRED_UNSENT, expired, ts)
    held, ready = _hold_for_windows([r for r in rows if r.id not in set(expired)], now)
    queue.postpone(tx, held)
    paid, unpaid = _charge(tx, ready, ts, tariffs)
    finals += outcomes.apply_change(tx, Change.NO_MONEY, unpaid, ts)
    queue.lease(tx, [r.id for r in paid], owner, ts + lease_s)
    outcomes.count_finals(tx, finals)
    return ClaimOutcome([Claimed(r, outbound(r)) for r in paid], finals)


def _with_send_options(tx: Tx, rows: list[queue.ClaimRow]) -> list[queue.ClaimRow]:
    """A send.php message has no list to take its e-mail subject and h1-h2 window from: they
    are its own columns, read here for the claimed messages without a list (one indexed
    read per claim that has any)."""
    own = [r.id for r in rows if r.job_pk is None]
    if not own:
        return rows
    options: dict[int, tuple[str | None, int | None, int | None]] = {}
    for chunk in chunks(own, 500):
        found = tx.all(
            "SELECT id, subject, window_start, window_end FROM messages "
            f"WHERE id IN ({marks(chunk)}) "
            "AND (subject IS NOT NULL OR window_start IS NOT NULL)",
            tuple(chunk),
        )
        options.update((int(r[0]), (r[1], r[2], r[3])) for r in found)
    if not options:
        return rows
    return [_with_options(r, options[r.id]) if r.id in options else r for r in rows]


def _with_options(
    row: queue.ClaimRow, option: tuple[str | None, int | None, int | None]
) -> queue.ClaimRow:
    subject, start, end = option
    return replace(row, subject=subject or row.subject, window_start=start, window_end=end)


def _hold_for_windows(
    rows: Sequence[queue.ClaimRow], now: datetime
) -> tuple[list[tuple[int, int]], list[queue.ClaimRow]]:
    """h1-h2 lists go out only within those hours of the recipient's local day."""
    held: list[tuple[int, int]] = []
    ready: list[queue.ClaimRow] = []
    for row in rows:
        if row.window_start is None or row.window_end is None:
            ready.append(row)
            continue
        window = HourWindow(row.window_start, row.window_end)
        zone = ZoneInfo(timezone_of(row.address) if "@" not in row.address else "Europe/Moscow")
        local = now.astimezone(zone)
        if window.contains(local):
            ready.append(row)
        else:
            held.append((row.id, to_ts(window.next_open(local))))
    return held, ready


def _charge(
    tx: Tx, rows: Sequence[queue.ClaimRow], ts: int, tariffs: TariffLookup
) -> tuple[list[queue.ClaimRow], list[int]]:
    """Price first attempts and charge them while the balance (plus credit) allows."""
    accounts = ledger.lock_accounts(tx, (r.account_id for r in rows))
    paid: list[queue.ClaimRow] = []
    unpaid: list[int] = []
    charges: list[tuple[int, int, int, int | None]] = []
    priced_only: list[tuple[int, int]] = []
    for row in rows:
        if row.attempts > 0:  # charged on its first claim already
            paid.append(row)
            continue
        money = accounts[row.account_id]
        cost = _price(row, tariffs(money.tariff_id))
        if money.test_mode:
            priced_only.append((row.id, cost))
        elif money.balance - cost < -money.credit_limit:
            unpaid.append(row.id)
            continue
        else:
            money.balance -= cost
            charges.append((row.account_id, cost, row.id, row.job_pk))
        paid.append(row)
    ledger.charge(tx, charges, ts)
    ledger.set_costs(tx, priced_only)
    ledger.add_job_cost(tx, _per_job(rows, priced_only))
    return paid, unpaid


def _per_job(rows: Sequence[queue.ClaimRow], costs: Sequence[tuple[int, int]]) -> dict[int, int]:
    job_of = {r.id: r.job_pk for r in rows}
    per_job: dict[int, int] = {}
    for message_id, cost in costs:
        job_pk = job_of.get(message_id)
        if job_pk is not None:
            per_job[job_pk] = per_job.get(job_pk, 0) + cost
    return per_job


def _price(row: queue.ClaimRow, tariff: Tariff) -> int:
    if row.fmt == MessageFormat.MAIL:
        return tariff.email_cost()
    return tariff.sms_cost(row.address, row.parts)


def outbound(row: queue.ClaimRow) -> OutboundMessage:
    """The message as the upstream gets it: comment removed, transliterated."""
    text, _comment = split_comment(row.text)
    if row.fmt not in (MessageFormat.BIN, MessageFormat.BIN_HEX, MessageFormat.MAIL):
        text = transliterate(text, row.translit)
    return OutboundMessage(
        message_id=row.id,
        address=row.address,
        text=text,
        sender=row.sender,
        fmt=row.fmt,
        validity_min=row.validity_min,
        parts=row.parts,
        subject=row.subject,
        template_key=f"job{row.job_pk}" if row.job_pk is not None else "",
    )
