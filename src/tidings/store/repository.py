"""The store: every query the domain services need, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tidings.domain.accounts import Account, PasswordHashes
from tidings.domain.clock import from_ts, to_ts
from tidings.domain.jobs import MAX_JOB_ID, JobView, NewJob
from tidings.domain.lifecycle import JobStatus
from tidings.domain.operations import JobProgress, UpstreamState
from tidings.domain.pricing import Tariff, TariffRecord
from tidings.errors import NotFound, RecordError
from tidings.store import engine, operations
from tidings.store.db import Database, Row, Tx

_ACCOUNT_COLUMNS = (
    "id, login, timezone, region, currency, credit_limit_minor, test_mode, is_operator, "
    "tariff_id, default_sender"
)
_JOB_VIEW_COLUMNS = (
    "j.job_id, j.name, j.subject, j.rpt, j.rptn, j.created_at, j.changed_at, j.need_date, "
    "j.last_sent, p.phones_text, j.message, j.format, j.validity_min, j.period, j.freq, "
    "j.status, j.sender, j.phones_cnt, j.cost_minor, j.sms_sent, j.sms_ok, j.is_mail"
)
_JOB_VIEW_FROM = "FROM jobs j JOIN job_phones p ON p.job_pk = j.id"
# Statuses of messages that were never handed to an upstream (and so never charged).
_MSG_WAITING = -1
_MSG_STOPPED = -2


class Store:
    def __init__(self, db: Database, default_tariff: Tariff) -> None:
        self.db = db
        self._default_tariff = default_tariff

    def close(self) -> None:
        self.db.close()

    # ---- operations -----------------------------------------------------------------------

    def upstream_states(self) -> list[UpstreamState]:
        """Live state of every upstream as each dispatcher last reported it (every ~2 s)."""
        return operations.upstream_states(self.db)

    def job_progress(self, account_id: int, limit: int = 1000) -> list[JobProgress]:
        """The account's lists, newest first, with waiting/sent/delivered/failed counts."""
        return operations.job_progress(self.db, account_id, limit)

    # ---- accounts -------------------------------------------------------------------------

    def create_account(
        self,
        login: str,
        hashes: PasswordHashes,
        now: datetime,
        *,
        timezone: str = "Europe/Moscow",
        region: str = "RU",
        currency: str = "RUB",
        test_mode: bool = False,
        is_operator: bool = False,
    ) -> Account:
        with self.db.tx() as tx:
            if tx.one("SELECT 1 FROM accounts WHERE login = ?", (login,)):
                raise RecordError(f"account {login!r} exists")
            row = tx.one(
                "INSERT INTO accounts (login, password_hash, password_md5_hash, "
                "password_sha1_hash, timezone, region, currency, test_mode, is_operator, "
                f"created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_ACCOUNT_COLUMNS}",
                (
                    login,
                    hashes.plain,
                    hashes.md5,
                    hashes.sha1,
                    timezone,
                    region,
                    currency,
                    test_mode,
                    is_operator,
                    to_ts(now),
                ),
            )
        assert row is not None
        return _account(row)

    def count_accounts(self) -> int:
        with self.db.tx(write=False) as tx:
            row = tx.one("SELECT COUNT(*) FROM accounts")
        return int(row[0]) if row else 0

    def account(self, account_id: int) -> Account | None:
        with self.db.tx(write=False) as tx:
            row = tx.one(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE id = ?", (account_id,))
        return _account(row) if row else None

    def account_by_login(self, login: str) -> Account | None:
        with self.db.tx(write=False) as tx:
            row = tx.one(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE login = ?", (login,))
        return _account(row) if row else None

    def password_hashes(self, login: str) -> tuple[int, PasswordHashes] | None:
        with self.db.tx(write=False) as tx:
            row = tx.one(
                "SELECT id, password_hash, password_md5_hash, password_sha1_hash "
                "FROM accounts WHERE login = ?",
                (login,),
            )
        if row is None:
            return None
        return int(row[0]), PasswordHashes(row[1], row[2], row[3])

    def account_id_by_key_hash(self, key_hash: str) -> int | None:
        with self.db.tx(write=False) as tx:
            row = tx.one(
                "SELECT account_id FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL",
                (key_hash,),
            )
        return int(row[0]) if row else None

    def list_accounts(self) -> list[tuple[Account, int]]:
        """Every account with its balance (sum of its ledger)."""
        with self.db.tx(write=False) as tx:
            rows = tx.all(f"SELECT {_ACCOUNT_COLUMNS}, balance_minor FROM accounts ORDER BY login")
        return [(_account(r[:10]), int(r[10])) for r in rows]

    def add_api_key(self, account_id: int, key_hash: str, prefix: str, now: datetime) -> None:
        with self.db.tx() as tx:
            tx.execute(
                "INSERT INTO api_keys (account_id, key_hash, key_prefix, created_at) "
                "VALUES (?, ?, ?, ?)",
                (account_id, key_hash, prefix, to_ts(now)),
            )

    def allowed_ips(self, account_id: int) -> list[str]:
        with self.db.tx(write=False) as tx:
            rows = tx.all(
                "SELECT cidr FROM account_ips WHERE account_id = ? ORDER BY cidr", (account_id,)
            )
        return [r[0] for r in rows]

    def allow_ip(self, account_id: int, cidr: str) -> bool:
        with self.db.tx() as tx:
            if tx.one(
                "SELECT 1 FROM account_ips WHERE account_id = ? AND cidr = ?", (account_id, cidr)
            ):
                return False
            tx.execute(
                "INSERT INTO account_ips (account_id, cidr) VALUES (?, ?)", (account_id, cidr)
            )
        return True

    def deny_ip(self, account_id: int, cidr: str) -> bool:
        with self.db.tx() as tx:
            changed = tx.execute(
                "DELETE FROM account_ips WHERE account_id = ? AND cidr = ?", (account_id, cidr)
            )
        return changed > 0

    def set_callback(self, account_id: int, url: str, secret: str) -> None:
        with self.db.tx() as tx:
            tx.execute(
                "UPDATE accounts SET callback_url = ?, callback_secret = ? WHERE id = ?",
                (url, secret, account_id),
            )

    def set_test_mode(self, account_id: int, on: bool) -> None:
        """Test mode: the account's messages go to the virtual upstream only."""
        with self.db.tx() as tx:
            changed = tx.execute("UPDATE accounts SET test_mode = ? WHERE id = ?", (on, account_id))
        if changed == 0:
            raise NotFound("account not found")

    # ---- money ----------------------------------------------------------------------------

    def add_ledger_entry(
        self, account_id: int, amount_minor: int, kind: str, memo: str, now: datetime
    ) -> int:
        """Append one entry; return the new balance."""
        with self.db.tx() as tx:
            return ledger_entry(tx, account_id, amount_minor, kind, memo, to_ts(now))

    def balance(self, account_id: int) -> int:
        with self.db.tx(write=False) as tx:
            row = tx.one("SELECT balance_minor FROM accounts WHERE id = ?", (account_id,))
        return int(row[0]) if row else 0

    def ledger_sum(self, account_id: int) -> int:
        """The balance recomputed from the ledger (it must equal `balance`)."""
        with self.db.tx(write=False) as tx:
            row = tx.one(
                "SELECT COALESCE(SUM(amount_minor), 0) FROM ledger WHERE account_id = ?",
                (account_id,),
            )
        return int(row[0]) if row else 0

    def tariff_for(self, account: Account) -> Tariff:
        return self.tariff_by_id(account.tariff_id)

    def tariff_by_id(self, tariff_id: int | None) -> Tariff:
        """An account's tariff (None: the default tariff from the settings)."""
        if tariff_id is None:
            return self._default_tariff
        with self.db.tx(write=False) as tx:
            head = tx.one(
                "SELECT currency, default_price_minor, email_price_minor FROM tariffs WHERE id = ?",
                (tariff_id,),
            )
            prices = tx.all(
                "SELECT country, prefix, price_minor FROM tariff_prices WHERE tariff_id = ?",
                (tariff_id,),
            )
        if head is None:
            return self._default_tariff
        return Tariff(
            currency=head[0],
            default_price_minor=int(head[1]),
            email_price_minor=int(head[2]),
            country_prices={c: int(p) for c, prefix, p in prices if not prefix},
            prefix_prices={prefix: int(p) for _c, prefix, p in prices if prefix},
        )

    @property
    def default_tariff(self) -> Tariff:
        """The tariff of accounts without one of their own (the settings' `[tariff]`)."""
        return self._default_tariff

    def tariffs(self) -> list[TariffRecord]:
        """Every stored tariff with its country prices, by name."""
        with self.db.tx(write=False) as tx:
            heads = tx.all(
                "SELECT t.id, t.name, t.currency, t.default_price_minor, t.email_price_minor, "
                "(SELECT COUNT(*) FROM accounts a WHERE a.tariff_id = t.id) "
                "FROM tariffs t ORDER BY t.name"
            )
            prices = tx.all(
                "SELECT tariff_id, country, prefix, price_minor FROM tariff_prices "
                "ORDER BY country, prefix"
            )
        countries: dict[int, dict[str, int]] = {}
        prefixes: dict[int, dict[str, int]] = {}
        for tariff_id, country, prefix, price_minor in prices:
            into = prefixes if prefix else countries
            into.setdefault(int(tariff_id), {})[prefix or country] = int(price_minor)
        return [
            TariffRecord(
                id=int(h[0]),
                name=h[1],
                tariff=Tariff(
                    currency=h[2],
                    default_price_minor=int(h[3]),
                    email_price_minor=int(h[4]),
                    country_prices=countries.get(int(h[0]), {}),
                    prefix_prices=prefixes.get(int(h[0]), {}),
                ),
                accounts=int(h[5]),
            )
            for h in heads
        ]

    def create_tariff(self, name: str, tariff: Tariff) -> int:
        with self.db.tx() as tx:
            if tx.one("SELECT 1 FROM tariffs WHERE name = ?", (name,)):
                raise RecordError(f"tariff {name!r} exists")
            row = tx.one(
                "INSERT INTO tariffs (name, currency, default_price_minor, email_price_minor) "
                "VALUES (?, ?, ?, ?) RETURNING id",
                (name, tariff.currency, tariff.default_price_minor, tariff.email_price_minor),
            )
            assert row is not None
            tx.execute_many(
                "INSERT INTO tariff_prices (tariff_id, country, prefix, price_minor) "
                "VALUES (?, ?, ?, ?)",
                [(row[0], c, "", p) for c, p in tariff.country_prices.items()],
            )
        return int(row[0])

    def change_tariff(
        self, tariff_id: int, *, default_price_minor: int, email_price_minor: int
    ) -> None:
        with self.db.tx() as tx:
            changed = tx.execute(
                "UPDATE tariffs SET default_price_minor = ?, email_price_minor = ? WHERE id = ?",
                (default_price_minor, email_price_minor, tariff_id),
            )
        if changed == 0:
            raise NotFound("tariff not found")

    def set_country_price(self, tariff_id: int, country: str, price_minor: int | None) -> None:
        """Price one country under the tariff; None removes the country's own price."""
        with self.db.tx() as tx:
            if not tx.one("SELECT 1 FROM tariffs WHERE id = ?", (tariff_id,)):
                raise NotFound("tariff not found")
            if price_minor is None:
                tx.execute(
                    "DELETE FROM tariff_prices WHERE tariff_id = ? AND country = ? AND prefix = ''",
                    (tariff_id, country),
                )
            else:
                tx.execute(
                    "INSERT INTO tariff_prices (tariff_id, country, prefix, price_minor) "
                    "VALUES (?, ?, '', ?) ON CONFLICT (tariff_id, country, prefix) "
                    "DO UPDATE SET price_minor = excluded.price_minor",
                    (tariff_id, country, price_minor),
                )

    def set_account_tariff(self, account_id: int, tariff_id: int | None) -> None:
        """The account pays by the tariff from now on (None: the default tariff)."""
        with self.db.tx() as tx:
            if tariff_id is not None and not tx.one(
                "SELECT 1 FROM tariffs WHERE id = ?", (tariff_id,)
            ):
                raise NotFound("tariff not found")
            changed = tx.execute(
                "UPDATE accounts SET tariff_id = ? WHERE id = ?", (tariff_id, account_id)
            )
        if changed == 0:
            raise NotFound("account not found")

    # ---- abuse guards ---------------------------------------------------------------------

    def ip_blocked_until(self, ip: str) -> int | None:
        with self.db.tx(write=False) as tx:
            row = tx.one("SELECT until FROM ip_blocks WHERE ip = ?", (ip,))
        return int(row[0]) if row else None

    def record_auth_failure(self, ip: str, at: int, window_start: int) -> int:
        with self.db.tx() as tx:
            tx.execute("DELETE FROM auth_failures WHERE ip = ? AND at < ?", (ip, window_start))
            tx.execute("INSERT INTO auth_failures (ip, at) VALUES (?, ?)", (ip, at))
            row = tx.one("SELECT COUNT(*) FROM auth_failures WHERE ip = ?", (ip,))
        return int(row[0]) if row else 0

    def block_ip(self, ip: str, until: int, reason: str) -> None:
        with self.db.tx() as tx:
            tx.execute(
                "INSERT INTO ip_blocks (ip, until, reason) VALUES (?, ?, ?) "
                "ON CONFLICT (ip) DO UPDATE SET until = excluded.until, reason = excluded.reason",
                (ip, until, reason),
            )
            tx.execute("DELETE FROM auth_failures WHERE ip = ?", (ip,))

    # ---- senders and templates ------------------------------------------------------------

    def approved_senders(self, account_id: int) -> list[str]:
        with self.db.tx(write=False) as tx:
            rows = tx.all(
                "SELECT name FROM senders WHERE account_id = ? AND approved = ?",
                (account_id, True),
            )
        return [r[0] for r in rows]

    def add_sender(self, account_id: int, name: str, approved: bool, now: datetime) -> None:
        with self.db.tx() as tx:
            tx.execute(
                "INSERT INTO senders (account_id, name, approved, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (account_id, name) DO UPDATE SET approved = excluded.approved",
                (account_id, name, approved, to_ts(now)),
            )

    def template_text(self, account_id: int, template_id: int) -> str | None:
        with self.db.tx(write=False) as tx:
            row = tx.one(
                "SELECT text FROM templates WHERE id = ? AND account_id = ?",
                (template_id, account_id),
            )
        return str(row[0]) if row else None

    # ---- mailing lists --------------------------------------------------------------------

    def insert_job(self, account_id: int, job: NewJob, now: datetime) -> int:
        with self.db.tx() as tx:
            job_id = self._claim_job_id(tx, account_id, job.job_id)
            row = tx.one(
                "INSERT INTO jobs (account_id, job_id, name, message, subject, "
                "sender, sender2, is_mail, format, rpt, rptn, zone, window_start, window_end, "
                "period, freq, validity_min, translit, resend, extra, status, created_at, "
                "changed_at, need_date, phones_cnt) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "RETURNING id",
                _job_row(account_id, job_id, job, now),
            )
            assert row is not None
            tx.execute(
                "INSERT INTO job_phones (job_pk, phones_text) VALUES (?, ?)",
                (row[0], job.phones_text),
            )
            tx.insert_rows(
                "job_recipients",
                ("job_pk", "seq", "address", "group_num", "text"),
                _recipient_rows(int(row[0]), job),
            )
        return job_id

    def _claim_job_id(self, tx: Tx, account_id: int, wanted: int | None) -> int:
        if wanted is not None:
            taken = tx.one(
                "SELECT 1 FROM jobs WHERE account_id = ? AND job_id = ? AND deleted_at IS NULL",
                (account_id, wanted),
            )
            if taken:
                raise RecordError("mailing list id is taken")
            return wanted
        # Server-assigned ids follow the account's highest id (deleted lists included, so an
        # id is never handed out twice). The insert holds the write lock, so this is race-free
        # on SQLite; on PostgreSQL the unique index turns a race into a clean error.
        row = tx.one("SELECT MAX(job_id) FROM jobs WHERE account_id = ?", (account_id,))
        next_id = int(row[0]) + 1 if row and row[0] is not None else 1
        if next_id > MAX_JOB_ID:
            raise RecordError("no free mailing list id")
        return next_id

    def get_job(self, account_id: int, job_id: int) -> JobView | None:
        with self.db.tx(write=False) as tx:
            row = tx.one(
                f"SELECT {_JOB_VIEW_COLUMNS} {_JOB_VIEW_FROM} "
                "WHERE j.account_id = ? AND j.job_id = ? AND j.deleted_at IS NULL",
                (account_id, job_id),
            )
        return _job_view(row) if row else None

    def list_jobs(
        self, account_id: int, start: date | None, end: date | None, zone: str
    ) -> list[JobView]:
        sql = (
            f"SELECT {_JOB_VIEW_COLUMNS} {_JOB_VIEW_FROM} "
            "WHERE j.account_id = ? AND j.deleted_at IS NULL"
        )
        params: list[Any] = [account_id]
        tz = ZoneInfo(zone)
        if start is not None:
            sql += " AND j.created_at >= ?"
            params.append(to_ts(datetime.combine(start, datetime.min.time(), tz)))
        if end is not None:
            sql += " AND j.created_at < ?"
            params.append(to_ts(datetime.combine(end + timedelta(days=1), datetime.min.time(), tz)))
        sql += " ORDER BY j.created_at DESC, j.job_id DESC"
        with self.db.tx(write=False) as tx:
            rows = tx.all(sql, params)
        return [_job_view(r) for r in rows]

    def cancel_job(self, account_id: int, job_id: int, now: datetime) -> JobStatus | None:
        with self.db.tx() as tx:
            row = tx.one(
                "SELECT id, status FROM jobs "
                "WHERE account_id = ? AND job_id = ? AND deleted_at IS NULL",
                (account_id, job_id),
            )
            if row is None:
                return None
            before = JobStatus(int(row[1]))
            if before in (JobStatus.WAITING, JobStatus.SENDING):
                _disable(tx, int(row[0]), now)
        return before

    def delete_job(self, account_id: int, job_id: int, now: datetime) -> bool:
        with self.db.tx() as tx:
            row = tx.one(
                "SELECT id, status FROM jobs "
                "WHERE account_id = ? AND job_id = ? AND deleted_at IS NULL",
                (account_id, job_id),
            )
            if row is None:
                return False
            if JobStatus(int(row[1])) in (JobStatus.WAITING, JobStatus.SENDING):
                _disable(tx, int(row[0]), now)
            tx.execute("UPDATE jobs SET deleted_at = ? WHERE id = ?", (to_ts(now), row[0]))
        return True

    def job_recipients(
        self, account_id: int, job_id: int
    ) -> list[tuple[str | None, int | None, str | None]]:
        """The stored recipients of a live list, in order (address, group, per-recipient text)."""
        with self.db.tx(write=False) as tx:
            rows = tx.all(
                "SELECT r.address, r.group_num, r.text FROM job_recipients r "
                "JOIN jobs j ON j.id = r.job_pk "
                "WHERE j.account_id = ? AND j.job_id = ? AND j.deleted_at IS NULL ORDER BY r.seq",
                (account_id, job_id),
            )
        return [(r[0], r[1], r[2]) for r in rows]


def _disable(tx: Tx, job_pk: int, now: datetime) -> None:
    """Disable a list: messages not yet handed over are stopped, and so never charged.

    Messages a dispatcher holds a live lease on are being handed over right now; they finish
    normally (the upstream already has them or is about to). So do armed ones of a dispatcher
    that died: they may have been written, and its `on_ambiguous` policy decides them.
    """
    ts = to_ts(now)
    tx.execute(
        "UPDATE jobs SET status = ?, changed_at = ? WHERE id = ?",
        (int(JobStatus.DISABLED), ts, job_pk),
    )
    # Never leased, released, or HELD by a dead dispatcher (never written).
    unleased = "(m.lease_until IS NULL OR (m.lease_until < ? AND m.upstream = ?))"
    stoppable = f"m.job_pk = ? AND m.status = ? AND {unleased}"
    tx.execute(
        "INSERT INTO callbacks (account_id, message_id, status, err, at, next_at) "
        "SELECT m.account_id, m.id, ?, 0, ?, ? FROM messages m "
        f"JOIN accounts a ON a.id = m.account_id WHERE a.callback_url <> '' AND {stoppable}",
        (_MSG_STOPPED, ts, ts, job_pk, _MSG_WAITING, ts, engine.HELD),
    )
    # A message charged when claimed and released again (a restart, a retry) keeps its one
    # charge for when it goes out; stopped instead, it never will: give that charge back.
    charged = tx.all(
        "SELECT m.id, m.account_id, m.job_pk, m.run_id, m.cost_minor FROM messages m "
        f"JOIN accounts a ON a.id = m.account_id WHERE {stoppable} AND m.cost_minor > 0 "
        "AND a.test_mode = ?",
        (job_pk, _MSG_WAITING, ts, engine.HELD, False),
    )
    engine.refund(
        tx,
        [
            engine.Finalised(int(r[0]), int(r[1]), r[2], r[3], int(r[4]), _MSG_STOPPED)
            for r in charged
        ],
        ts,
    )
    # Stopped messages are final: count them towards their runs before stopping them.
    tx.execute(
        "UPDATE runs SET final_cnt = final_cnt + (SELECT COUNT(*) FROM messages m "
        f"WHERE m.run_id = runs.id AND {stoppable}) WHERE job_pk = ? AND status = 0",
        (job_pk, _MSG_WAITING, ts, engine.HELD, job_pk),
    )
    tx.execute(
        f"UPDATE messages AS m SET status = ?, done_at = ? WHERE {stoppable}",
        (_MSG_STOPPED, ts, job_pk, _MSG_WAITING, ts, engine.HELD),
    )


def ledger_entry(
    tx: Tx,
    account_id: int,
    amount_minor: int,
    kind: str,
    memo: str,
    ts: int,
    *,
    message_id: int | None = None,
    job_pk: int | None = None,
) -> int:
    """Append to the ledger and move the account's balance with it, in the caller's
    transaction; return the new balance."""
    tx.execute(
        "INSERT INTO ledger (account_id, amount_minor, kind, memo, created_at, message_id, "
        "job_pk) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (account_id, amount_minor, kind, memo, ts, message_id, job_pk),
    )
    row = tx.one(
        "UPDATE accounts SET balance_minor = balance_minor + ? WHERE id = ? "
        "RETURNING balance_minor",
        (amount_minor, account_id),
    )
    return int(row[0]) if row else 0


def _account(row: Row) -> Account:
    return Account(
        id=int(row[0]),
        login=row[1],
        timezone=row[2],
        region=row[3],
        currency=row[4],
        credit_limit_minor=int(row[5]),
        test_mode=bool(row[6]),
        is_operator=bool(row[7]),
        tariff_id=None if row[8] is None else int(row[8]),
        default_sender=row[9],
    )


def _job_row(account_id: int, job_id: int, job: NewJob, now: datetime) -> tuple[Any, ...]:
    ts = to_ts(now)
    window = job.window
    return (
        account_id,
        job_id,
        job.name,
        job.message,
        job.subject,
        job.sender,
        job.sender2,
        job.is_mail,
        int(job.fmt),
        job.rpt,
        job.rptn,
        job.zone,
        window.start_hour if window else None,
        window.end_hour if window else None,
        job.period,
        job.freq,
        job.validity_min,
        job.translit,
        job.resend,
        json.dumps(job.extra, ensure_ascii=False),
        int(JobStatus.WAITING),
        ts,
        ts,
        to_ts(job.first_run),
        len(job.addresses),
    )


def _recipient_rows(job_pk: int, job: NewJob) -> Iterator[Sequence[Any]]:
    texts = job.texts
    seq = 0
    for seq, address in enumerate(job.addresses):
        yield (job_pk, seq, address, None, texts[seq] if texts is not None else None)
    start = seq + 1 if job.addresses else 0
    for offset, group in enumerate(job.groups):
        yield (job_pk, start + offset, None, group, None)


def _job_view(row: Row) -> JobView:
    created = from_ts(row[5])
    changed = from_ts(row[6])
    assert created is not None and changed is not None
    return JobView(
        job_id=int(row[0]),
        name=row[1],
        subject=row[2],
        rpt=int(row[3]),
        rptn=int(row[4]),
        created_at=created,
        changed_at=changed,
        need_date=from_ts(row[7]),
        last_sent=from_ts(row[8]),
        phones_text=row[9],
        message=row[10],
        fmt=int(row[11]),
        validity_min=int(row[12]),
        period=row[13],
        freq=int(row[14]),
        status=int(row[15]),
        sender=row[16],
        phones_cnt=int(row[17]),
        cost_minor=int(row[18]),
        sms_sent=int(row[19]),
        sms_ok=int(row[20]),
        is_mail=bool(row[21]),
    )
