"""Inbound messages as the dispatcher records them, in its own transactions: parts kept and
joined, duplicates recognised, the owner looked up, the message stored, STOP applied, the
handler's callback queued. The rules (whose it is, what a stop keyword is) are
tidings.domain.inbound's; this module only reads and writes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tidings.domain.contacts import BlacklistType
from tidings.domain.inbound import Ownership, ReplyTarget
from tidings.domain.jobs import MessageFormat
from tidings.domain.lifecycle import MessageStatus
from tidings.store.db import Tx
from tidings.store.runs import insert_messages

PartKey = tuple[str, str, str, int, int]  # upstream, source, destination, ref, total


@dataclass(frozen=True)
class NewInbound:
    upstream: str
    phone: str
    to_phone: str
    text: str
    fingerprint: str
    parts: int = 1
    missing: int = 0


@dataclass(frozen=True)
class StoredPart:
    key: PartKey
    seq: int
    text: str
    fingerprint: str


@dataclass(frozen=True)
class AccountInbound:
    """What the recording needs of an account: its stop keywords (NULL = the settings') and
    whether inbound messages go to its handler."""

    stop_keywords: str | None
    forwards: bool
    # The confirmation to send a number a stop keyword newly opted out (None: none).
    stop_reply: str | None = None
    test_mode: bool = False
    # A receiver of the account has bound to the SMPP server: its messages are queued there.
    smpp_receivers: bool = False


@dataclass(frozen=True)
class StopReply:
    """The confirmation message, as the dispatcher will send and charge it."""

    account_id: int
    phone: str
    sender: str
    text: str
    channel: str
    parts: int
    valid_until: int


def seen_recently(tx: Tx, upstream: str, fingerprint: str, since: int) -> bool:
    row = tx.one(
        "SELECT 1 FROM inbound_messages WHERE upstream = ? AND fingerprint = ? "
        "AND received_at >= ? LIMIT 1",
        (upstream, fingerprint, since),
    )
    return row is not None


def number_owner(tx: Tx, number: str) -> int | None:
    row = tx.one("SELECT account_id FROM inbound_numbers WHERE number = ?", (number,))
    return None if row is None else int(row[0])


def reply_target(tx: Tx, phone: str, sender: str, since: int) -> ReplyTarget | None:
    """The newest message handed over to `phone` from `sender` since `since`."""
    row = tx.one(
        "SELECT account_id, id, job_pk FROM messages WHERE address = ? AND sender IN (?, ?) "
        "AND sent_at >= ? ORDER BY id DESC LIMIT 1",
        (phone, sender, "+" + sender, since),
    )
    if row is None:
        return None
    return ReplyTarget(int(row[0]), int(row[1]), None if row[2] is None else int(row[2]))


def account_inbound(tx: Tx, account_id: int) -> AccountInbound:
    row = tx.one(
        "SELECT stop_keywords, forward_inbound, callback_url, stop_reply, test_mode, "
        "smpp_receiver_at FROM accounts WHERE id = ?",
        (account_id,),
    )
    if row is None:
        return AccountInbound(None, False)
    return AccountInbound(
        row[0], bool(row[1]) and bool(row[2]), row[3] or None, bool(row[4]), row[5] is not None
    )


def insert_inbound(tx: Tx, message: NewInbound, owner: Ownership, stop: bool, now: int) -> int:
    reply = owner.reply_to
    row = tx.one(
        "INSERT INTO inbound_messages (account_id, upstream, phone, to_phone, text, "
        "received_at, route, stop, message_id, job_pk, parts, missing, fingerprint) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            owner.account_id,
            message.upstream,
            message.phone,
            message.to_phone,
            message.text,
            now,
            int(owner.route),
            stop,
            None if reply is None else reply.message_id,
            None if reply is None else reply.job_pk,
            message.parts,
            message.missing,
            message.fingerprint,
        ),
    )
    assert row is not None
    return int(row[0])


def stop_list_phone(tx: Tx, account_id: int, phone: str, now: int) -> bool:
    """On the account's stop list for mailing lists. An entry that already stops lists stays
    as it is; one for single messages only now stops everything. True: the number was not
    kept out of mailing lists before."""
    changed = tx.execute(
        "INSERT INTO blacklist (account_id, address, type, created_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (account_id, address) DO UPDATE SET type = ? "
        "WHERE blacklist.type = ?",
        (
            account_id,
            phone,
            int(BlacklistType.MAILINGS),
            now,
            int(BlacklistType.ALL),
            int(BlacklistType.SINGLE),
        ),
    )
    return changed > 0


def queue_stop_reply(tx: Tx, reply: StopReply, now: int) -> None:
    """A single message, waiting: the dispatcher charges it when it hands it over."""
    insert_messages(
        tx,
        [
            (
                reply.account_id,
                None,
                None,
                reply.phone,
                reply.text,
                reply.sender,
                reply.channel,
                int(MessageFormat.SMS),
                reply.parts,
                int(MessageStatus.WAITING),
                now,
                reply.valid_until,
                now,
            )
        ],
    )


def enqueue_inbound_callback(tx: Tx, account_id: int, inbound_id: int, now: int) -> None:
    """Queued like a status callback (message_id 0): the same sender, deadline and retries."""
    tx.execute(
        "INSERT INTO callbacks (account_id, message_id, status, err, at, next_at, inbound_id) "
        "VALUES (?, 0, 0, 0, ?, ?, ?)",
        (account_id, now, now, inbound_id),
    )


# ---- parts of long messages -----------------------------------------------------------------


def store_parts(tx: Tx, parts: Sequence[StoredPart], now: int) -> None:
    """A part delivered again (its answer was lost) is kept once: the first copy wins."""
    tx.execute_many(
        "INSERT INTO inbound_parts (upstream, source, destination, ref, total, seq, text, "
        "fingerprint, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (upstream, source, destination, ref, total, seq) DO NOTHING",
        [(*p.key, p.seq, p.text, p.fingerprint, now) for p in parts],
    )


def open_parts(tx: Tx, key: PartKey) -> list[StoredPart]:
    """The parts of one long message not joined yet, by sequence number."""
    rows = tx.all(
        "SELECT seq, text, fingerprint FROM inbound_parts WHERE upstream = ? AND source = ? "
        "AND destination = ? AND ref = ? AND total = ? AND inbound_id IS NULL ORDER BY seq",
        key,
    )
    return [StoredPart(key, int(r[0]), r[1], r[2]) for r in rows]


def overdue_sets(tx: Tx, before: int, limit: int) -> list[PartKey]:
    """Long messages with a part older than `before` still not joined (a part never came)."""
    rows = tx.all(
        "SELECT upstream, source, destination, ref, total FROM inbound_parts "
        "WHERE inbound_id IS NULL GROUP BY upstream, source, destination, ref, total "
        "HAVING MIN(received_at) < ? LIMIT ?",
        (before, limit),
    )
    return [(r[0], r[1], r[2], int(r[3]), int(r[4])) for r in rows]


def mark_joined(tx: Tx, key: PartKey, inbound_id: int) -> None:
    tx.execute(
        "UPDATE inbound_parts SET inbound_id = ? WHERE upstream = ? AND source = ? "
        "AND destination = ? AND ref = ? AND total = ? AND inbound_id IS NULL",
        (inbound_id, *key),
    )


def forget_joined_parts(tx: Tx, before: int) -> int:
    """Joined parts past the dedup window: a copy delivered now would be a new message."""
    return tx.execute(
        "DELETE FROM inbound_parts WHERE inbound_id IS NOT NULL AND received_at < ?", (before,)
    )


def joined_parts_before(tx: Tx, before: int) -> bool:
    row = tx.one(
        "SELECT 1 FROM inbound_parts WHERE inbound_id IS NOT NULL AND received_at < ? LIMIT 1",
        (before,),
    )
    return row is not None
