"""The one schema, over 500 lines: every table in one place, as Alembic compares it whole.

SQLite and PostgreSQL alike (SQLAlchemy Core); the Alembic migrations follow it.

Money is stored as integer minor units (kopecks, cents): exact, and summed by the database.
Times are stored as integer unix seconds (UTC): the same on both databases, cheap to index.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from tidings.domain.lifecycle import RunStatus

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# BigInteger primary keys become INTEGER on SQLite so they alias the rowid (autoincrement).
BigId = BigInteger().with_variant(Integer(), "sqlite")

tariffs = Table(
    "tariffs",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("currency", String(3), nullable=False),
    Column("default_price_minor", BigInteger, nullable=False),
    Column("email_price_minor", BigInteger, nullable=False),
)

tariff_prices = Table(
    "tariff_prices",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("tariff_id", BigInteger, ForeignKey("tariffs.id", ondelete="CASCADE"), nullable=False),
    Column("country", String(2), nullable=False),
    # Operator prefix (digits after the country code); "" prices the whole country.
    Column("prefix", String(16), nullable=False, server_default=""),
    Column("price_minor", BigInteger, nullable=False),
    UniqueConstraint("tariff_id", "country", "prefix"),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("login", String(64), nullable=False, unique=True),
    # argon2 hashes of the password and of its MD5 and SHA-1 hex forms (jobs.md §1 takes all three).
    Column("password_hash", String(255), nullable=False),
    Column("password_md5_hash", String(255), nullable=False),
    Column("password_sha1_hash", String(255), nullable=False),
    # The SMPP password (argon2), at most 8 characters: SMPP binds take it or the password.
    Column("smpp_password_hash", String(255), nullable=True),
    # When a receiver of the account last bound to the SMPP server: from then on its inbound
    # messages are queued for its receivers too (door_inbound).
    Column("smpp_receiver_at", BigInteger, nullable=True),
    Column("timezone", String(64), nullable=False, server_default="Europe/Moscow"),
    Column("region", String(2), nullable=False, server_default="RU"),
    Column("currency", String(3), nullable=False, server_default="RUB"),
    Column("credit_limit_minor", BigInteger, nullable=False, server_default="0"),
    Column("test_mode", Boolean, nullable=False, server_default=text("false")),
    Column("is_operator", Boolean, nullable=False, server_default=text("false")),
    # Disabled by an operator: no sign-in, no API, no SMPP bind (domain/operator.py).
    Column("disabled", Boolean, nullable=False, server_default=text("false")),
    Column("tariff_id", BigInteger, ForeignKey("tariffs.id"), nullable=True),
    Column("default_sender", String(64), nullable=False, server_default=""),
    # The cabinet's language the account chose ("ru", "en"); NULL: the browser's, else
    # web.default_language.
    Column("language", String(8), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    # Kept equal to SUM(ledger.amount_minor) in the same transaction as every ledger insert,
    # so a charge checks the balance without summing the whole ledger.
    Column("balance_minor", BigInteger, nullable=False, server_default="0"),
    # Status changes are POSTed here when set, signed with HMAC-SHA256 under the secret.
    Column("callback_url", String(500), nullable=False, server_default=""),
    Column("callback_secret", String(64), nullable=False, server_default=""),
    # Inbound messages are POSTed to callback_url too (smsc.ru's fl[11]).
    Column("forward_inbound", Boolean, nullable=False, server_default=text("false")),
    # Comma-separated stop keywords; NULL = `inbound.stop_keywords` of the settings.
    Column("stop_keywords", Text, nullable=True),
    # Sent back (a message, charged) to a number that a stop keyword newly opted out; NULL:
    # no confirmation (the default).
    Column("stop_reply", Text, nullable=True),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    # SHA-256 of the key: keys are long random strings, so a fast hash is safe and indexable.
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("key_prefix", String(12), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
)

account_ips = Table(
    "account_ips",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("cidr", String(64), nullable=False),
    UniqueConstraint("account_id", "cidr"),
)

senders = Table(
    "senders",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(320), nullable=False),
    Column("approved", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("account_id", "name"),
)

templates = Table(
    "templates",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("text", Text, nullable=False),
    # templates.php `format` as given: "" (any), sms, flash, bin, mail.
    Column("format", String(8), nullable=False, server_default=""),
    Column("sender", String(320), nullable=False, server_default=""),
    # `fl[1]=1`: appended to the account's text messages (at most one per account).
    Column("signature", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", BigInteger, nullable=False),
    Column("changed_at", BigInteger, nullable=True),
    Index("ix_templates_account_id", "account_id"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    # The id the client sees (given by it or assigned); unique per account among live lists.
    Column("job_id", BigInteger, nullable=False),
    Column("name", String(100), nullable=False),
    Column("message", Text, nullable=False),
    Column("subject", String(255), nullable=False, server_default=""),
    Column("sender", String(320), nullable=False, server_default=""),
    Column("sender2", String(320), nullable=False, server_default=""),
    Column("is_mail", Boolean, nullable=False, server_default=text("false")),
    Column("format", Integer, nullable=False, server_default="0"),
    Column("rpt", Integer, nullable=False, server_default="0"),
    Column("rptn", Integer, nullable=False, server_default="0"),
    # The zone of `time`/`tz`: an IANA name or a fixed offset "+HH:MM".
    Column("zone", String(64), nullable=False),
    Column("window_start", Integer, nullable=True),
    Column("window_end", Integer, nullable=True),
    Column("period", String(16), nullable=False, server_default="0"),
    Column("freq", Integer, nullable=False, server_default="0"),
    Column("validity_min", Integer, nullable=False, server_default="0"),
    Column("translit", Integer, nullable=False, server_default="0"),
    Column("resend", Boolean, nullable=False, server_default=text("false")),
    # Accepted-and-stored parameters with no effect yet (tinyurl, fileurl, mes2, voice, param).
    Column("extra", Text, nullable=False, server_default="{}"),
    Column("status", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("changed_at", BigInteger, nullable=False),
    Column("need_date", BigInteger, nullable=True),
    Column("last_sent", BigInteger, nullable=True),
    Column("deleted_at", BigInteger, nullable=True),
    Column("runs_done", Integer, nullable=False, server_default="0"),
    Column("phones_cnt", Integer, nullable=False, server_default="0"),
    Column("sms_sent", BigInteger, nullable=False, server_default="0"),
    Column("sms_ok", BigInteger, nullable=False, server_default="0"),
    Column("cost_minor", BigInteger, nullable=False, server_default="0"),
    Index(
        "uq_jobs_account_live_job_id",
        "account_id",
        "job_id",
        unique=True,
        sqlite_where=text("deleted_at IS NULL"),
        postgresql_where=text("deleted_at IS NULL"),
    ),
    Index("ix_jobs_account_created", "account_id", "created_at"),
    Index("ix_jobs_due", "status", "need_date"),
)

# The recipients as given (can be megabytes): kept apart from the list's row, whose counters
# change with every batch sent, so SQLite never rewrites them.
job_phones = Table(
    "job_phones",
    metadata,
    Column("job_pk", BigInteger, ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("phones_text", Text, nullable=False),
)

job_recipients = Table(
    "job_recipients",
    metadata,
    Column("job_pk", BigInteger, ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    # A normalised phone (digits, E.164 without '+') or e-mail; NULL for a group code.
    Column("address", String(320), nullable=True),
    # `G<n>`: resolved to the group's contacts at each run.
    Column("group_num", Integer, nullable=True),
    # Per-recipient text from `list` (NULL: the list's message).
    Column("text", Text, nullable=True),
)

runs = Table(
    "runs",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("job_pk", BigInteger, ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    Column("run_no", Integer, nullable=False),
    Column("scheduled_at", BigInteger, nullable=False),
    Column("started_at", BigInteger, nullable=True),
    Column("finished_at", BigInteger, nullable=True),
    Column("recipients_cnt", Integer, nullable=False, server_default="0"),
    # Messages of this run in a final status; the run is over when it reaches recipients_cnt.
    Column("final_cnt", Integer, nullable=False, server_default="0"),
    Column("status", Integer, nullable=False, server_default=str(int(RunStatus.OPEN))),
    UniqueConstraint("job_pk", "run_no"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("job_pk", BigInteger, ForeignKey("jobs.id", ondelete="SET NULL"), nullable=True),
    Column("run_id", BigInteger, ForeignKey("runs.id", ondelete="SET NULL"), nullable=True),
    # The client's id for a single send (send.php `id`, may be a string such as a UUID).
    Column("client_id", String(64), nullable=True),
    Column("address", String(320), nullable=False),
    # NULL: the text of the message's mailing list (so a million recipients share one copy).
    Column("text", Text, nullable=True),
    Column("sender", String(320), nullable=False, server_default=""),
    # The upstream the message goes through ("virtual", an SMPP or SMTP upstream name).
    Column("channel", String(64), nullable=False, server_default="virtual"),
    Column("format", Integer, nullable=False, server_default="0"),
    Column("encoding", String(8), nullable=False, server_default="gsm7"),
    Column("parts", Integer, nullable=False, server_default="1"),
    Column("status", Integer, nullable=False),
    Column("err", Integer, nullable=False, server_default="0"),
    Column("cost_minor", BigInteger, nullable=False, server_default="0"),
    Column("due_at", BigInteger, nullable=False),
    Column("valid_until", BigInteger, nullable=True),
    Column("lease_until", BigInteger, nullable=True),
    Column("lease_owner", String(64), nullable=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("upstream", String(64), nullable=True),
    Column("upstream_msg_id", String(64), nullable=True),
    # Parts confirmed delivered; a long message is delivered when all its parts are.
    Column("parts_done", Integer, nullable=False, server_default="0"),
    # A send.php message's own e-mail subject and h1-h2 window (NULL: a mailing list's
    # message takes them from its list, or it has none).
    Column("subject", String(255), nullable=True),
    Column("window_start", Integer, nullable=True),
    Column("window_end", Integer, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("sent_at", BigInteger, nullable=True),
    Column("done_at", BigInteger, nullable=True),
    Index("ix_messages_claim", "channel", "status", "due_at"),
    # The sweeper's scans: messages running out of time, and leases left by a dead dispatcher
    # (few rows hold a lease at any moment, so that index stays small).
    Index("ix_messages_expiry", "status", "valid_until"),
    Index(
        "ix_messages_leased",
        "lease_until",
        sqlite_where=text("lease_until IS NOT NULL"),
        postgresql_where=text("lease_until IS NOT NULL"),
    ),
    Index("ix_messages_account", "account_id", "id"),
    Index("ix_messages_job", "job_pk", "status"),
    Index("ix_messages_upstream", "upstream", "upstream_msg_id"),
    # status.php: the newest message with a client's id.
    Index("ix_messages_client_id", "account_id", "client_id", "id"),
    # Inbound routing: the newest message to a phone (is an incoming SMS a reply to it?).
    Index("ix_messages_address", "address", "id"),
    # The ledger, upstream ids and callbacks name messages by id (no foreign key: they outlive
    # a deleted message), so SQLite must never give a deleted message's id to a new one.
    sqlite_autoincrement=True,
)

ledger = Table(
    "ledger",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    # Signed: credits are positive, charges negative. Balance = SUM(amount_minor).
    Column("amount_minor", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("message_id", BigInteger, nullable=True),
    Column("job_pk", BigInteger, nullable=True),
    Column("memo", String(255), nullable=False, server_default=""),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_ledger_account", "account_id"),
    Index(
        "uq_ledger_charge_message",
        "message_id",
        "kind",
        unique=True,
        sqlite_where=text("message_id IS NOT NULL"),
        postgresql_where=text("message_id IS NOT NULL"),
    ),
)

auth_failures = Table(
    "auth_failures",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("ip", String(64), nullable=False),
    Column("at", BigInteger, nullable=False),
    Index("ix_auth_failures_ip_at", "ip", "at"),
)

ip_blocks = Table(
    "ip_blocks",
    metadata,
    Column("ip", String(64), primary_key=True),
    Column("until", BigInteger, nullable=False),
    Column("reason", String(64), nullable=False),
)

# One row per part handed to an upstream: how a delivery receipt finds its message.
upstream_ids = Table(
    "upstream_ids",
    metadata,
    Column("upstream", String(64), primary_key=True),
    Column("upstream_msg_id", String(64), primary_key=True),
    Column("message_id", BigInteger, nullable=False),
    Column("part_no", Integer, nullable=False, server_default="1"),
    # Its DELIVERED receipt was counted (parts of a long message): a resent one is not again.
    Column("receipted", Boolean, nullable=False, server_default=text("false")),
    Index("ix_upstream_ids_message", "message_id"),
)

# A receipt whose upstream id is not recorded yet (it overtook its submit's result, or came
# on another dispatcher's bind): stored in the transaction that decides to acknowledge it, so
# the SMSC may forget it, and matched when the id is recorded or by a periodic retry;
# dropped (and counted in the log) after `dispatch.unmatched_receipt_keep_min`.
unmatched_receipts = Table(
    "unmatched_receipts",
    metadata,
    Column("upstream", String(64), primary_key=True),
    Column("upstream_msg_id", String(64), primary_key=True),
    Column("status", Integer, nullable=False),
    Column("err", Integer, nullable=False, server_default="0"),
    Column("done_at", BigInteger, nullable=True),
    Column("received_at", BigInteger, nullable=False),
    Index("ix_unmatched_receipts_received_at", "received_at"),
)

contact_groups = Table(
    "contact_groups",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    # The group number for mailings: the <n> of G<n> in `phones`.
    Column("num", Integer, nullable=False),
    Column("name", String(100), nullable=False),
    # 0 phone group, 1 e-mail group.
    Column("type", Integer, nullable=False, server_default="0"),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("account_id", "num"),
)

contacts = Table(
    "contacts",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("phone", String(32), nullable=True),
    Column("email", String(320), nullable=True),
    Column("name", String(255), nullable=False, server_default=""),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_contacts_account_phone", "account_id", "phone"),
)

group_members = Table(
    "group_members",
    metadata,
    Column(
        "group_id",
        BigInteger,
        ForeignKey("contact_groups.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "contact_id", BigInteger, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    ),
)

blacklist = Table(
    "blacklist",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("address", String(320), nullable=False),
    # 0 every message, 1 mailing lists only, 2 single messages only.
    Column("type", Integer, nullable=False, server_default="0"),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("account_id", "address"),
)

# Status changes waiting to be POSTed to the account's callback URL (retried with backoff).
callbacks = Table(
    "callbacks",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("message_id", BigInteger, nullable=False),
    Column("status", Integer, nullable=False),
    Column("err", Integer, nullable=False, server_default="0"),
    Column("at", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_at", BigInteger, nullable=False),
    Column("lease_until", BigInteger, nullable=True),
    Column("done_at", BigInteger, nullable=True),
    Column("last_error", String(255), nullable=False, server_default=""),
    # Set for an inbound message forwarded to the handler (message_id is 0 then).
    Column("inbound_id", BigInteger, nullable=True),
    Index("ix_callbacks_due", "done_at", "next_at"),
    # One account's pending callbacks in id order: a claim's top-up (dispatch/callbacks.py).
    Index("ix_callbacks_account", "account_id", "done_at", "id"),
)

# Numbers the operator assigned to accounts: an SMS to one belongs to its account.
inbound_numbers = Table(
    "inbound_numbers",
    metadata,
    Column("number", String(20), primary_key=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_inbound_numbers_account_id", "account_id"),
)

# Incoming SMS (domain/inbound.py): stored before the SMSC is answered. account_id NULL =
# unassigned (the operator's). The ids are get_answers' `after_id`: never reused.
inbound_messages = Table(
    "inbound_messages",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=True),
    Column("upstream", String(64), nullable=False),
    Column("phone", String(32), nullable=False),
    Column("to_phone", String(32), nullable=False),
    Column("text", Text, nullable=False),
    Column("received_at", BigInteger, nullable=False),
    # domain.inbound.Route: by an assigned number, as a reply, unassigned.
    Column("route", Integer, nullable=False),
    # The text was a stop keyword: the phone went on the account's stop list.
    Column("stop", Boolean, nullable=False, server_default=text("false")),
    # The outbound message it answers and that message's list (no foreign keys: kept apart).
    Column("message_id", BigInteger, nullable=True),
    Column("job_pk", BigInteger, nullable=True),
    Column("parts", Integer, nullable=False, server_default="1"),
    Column("missing", Integer, nullable=False, server_default="0"),
    # Digest of the octets received: a message delivered again is recognised (dedup window).
    Column("fingerprint", String(64), nullable=False),
    Index("ix_inbound_messages_account_id", "account_id", "id"),
    Index("ix_inbound_messages_job_pk", "job_pk", "id"),
    Index("ix_inbound_messages_upstream", "upstream", "fingerprint"),
    sqlite_autoincrement=True,
)

# Parts of long inbound messages, stored (and answered) as they come; joined into
# inbound_messages when all are in, or after `inbound.part_timeout_s` with what came. Kept
# (inbound_id set) for the dedup window, so a part delivered again is not a new message.
inbound_parts = Table(
    "inbound_parts",
    metadata,
    Column("upstream", String(64), primary_key=True),
    Column("source", String(32), primary_key=True),
    Column("destination", String(32), primary_key=True),
    Column("ref", Integer, primary_key=True),
    Column("total", Integer, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("text", Text, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("received_at", BigInteger, nullable=False),
    Column("inbound_id", BigInteger, nullable=True),
    Index("ix_inbound_parts_received_at", "received_at"),
)

# Live state of each dispatcher's upstreams ("lanes"), one row per (upstream, worker), upserted
# every ~2 s by the dispatcher; read by `tidings upstreams`, /metrics and the admin page.
upstream_states = Table(
    "upstream_states",
    metadata,
    Column("upstream", String(64), primary_key=True),
    Column("worker_id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False, server_default=""),
    Column("bound", Boolean, nullable=False, server_default=text("false")),
    Column("binds_live", Integer, nullable=False, server_default="0"),
    Column("binds_total", Integer, nullable=False, server_default="0"),
    Column("in_flight", Integer, nullable=False, server_default="0"),
    Column("window_size", Integer, nullable=False, server_default="0"),
    # Messages handed over per second over the last reporting interval.
    Column("rate", Float, nullable=False, server_default="0"),
    Column("submitted", BigInteger, nullable=False, server_default="0"),
    Column("last_error", String(500), nullable=False, server_default=""),
    Column("last_error_at", BigInteger, nullable=True),
    Column("updated_at", BigInteger, nullable=False),
)

# One row per dispatcher process: its identity and heartbeat (dispatch/liveness.py). A lease
# whose owner has no row here with a recent heartbeat belongs to a dead dispatcher and is
# recovered; a live owner's leases are never touched.
dispatchers = Table(
    "dispatchers",
    metadata,
    Column("worker_id", String(64), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    # The kernel and pid namespace `pid` belongs to ("" elsewhere than Linux): a dispatcher
    # on the same one sees at once that a killed dispatcher's process is gone.
    Column("node", String(64), nullable=False, server_default=""),
    Column("started_at", BigInteger, nullable=False),
    Column("heartbeat_at", BigInteger, nullable=False),
    # Set by a graceful stop: dead at once for recovery, kept a while for the live state.
    Column("stopped_at", BigInteger, nullable=True),
)

# Cabinet sign-ins. The cookie carries a random token; only its SHA-256 is kept here, and a
# session is valid only while its row exists: signing out deletes it, a password change
# deletes the account's others (web/session.py).
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_web_sessions_account_id", "account_id"),
    Index("ix_web_sessions_expires_at", "expires_at"),
)

# Final statuses owed to a door's client (domain/door_receipts.py): one row per message an
# SMPP client submitted asking for a receipt, written with the message; status stays NULL
# until the message is final, then the row is due (next_at) until the client acknowledges it.
door_receipts = Table(
    "door_receipts",
    metadata,
    Column("message_id", BigInteger, primary_key=True, autoincrement=False),
    Column("account_id", BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("door", String(16), nullable=False),
    # The id the client was answered with (a submit_multi's messages share one).
    Column("reference", String(64), nullable=False, server_default=""),
    Column("source", String(64), nullable=False, server_default=""),
    Column("failures_only", Boolean, nullable=False, server_default=text("false")),
    Column("status", Integer, nullable=True),
    Column("err", Integer, nullable=False, server_default="0"),
    Column("done_at", BigInteger, nullable=True),
    Column("next_at", BigInteger, nullable=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Index("ix_door_receipts_due", "door", "account_id", "next_at"),
    Index("ix_door_receipts_done", "door", "done_at"),
)

# Inbound messages owed to a door's clients (domain/door_inbound.py): queued with the message
# for an account that has had a receiver bound, leased to a door, deleted when acknowledged.
door_inbound = Table(
    "door_inbound",
    metadata,
    Column("inbound_id", BigInteger, primary_key=True, autoincrement=False),
    Column("door", String(16), primary_key=True),
    Column("account_id", BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("received_at", BigInteger, nullable=False),
    Column("next_at", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Index("ix_door_inbound_due", "door", "account_id", "next_at"),
    Index("ix_door_inbound_received", "door", "received_at"),
)

# The SMPP server's bound clients (domain/door_binds.py): each server process replaces its own
# rows every few seconds; rows not refreshed for a while are of a server that is gone.
door_binds = Table(
    "door_binds",
    metadata,
    Column("server_id", String(64), primary_key=True),
    Column("session", Integer, primary_key=True, autoincrement=False),
    Column("account_id", BigInteger, nullable=False),
    Column("login", String(64), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("peer", String(64), nullable=False),
    Column("bound_at", BigInteger, nullable=False),
    Column("window_in_use", Integer, nullable=False),
    Column("window_size", Integer, nullable=False),
    Column("submits", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

# Who did what, when, from where (domain/audit.py): cabinet sign-ins, money moved by hand and
# every operator action, each written in the transaction of the action it records. No foreign
# key: the trail outlives what it names. Never a secret or a message's text.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("at", BigInteger, nullable=False),
    # The operator's or the account's login, or "cli".
    Column("actor", String(64), nullable=False),
    Column("ip", String(64), nullable=False, server_default=""),
    Column("action", String(32), nullable=False),
    # The account the action concerns, when it concerns one (the page's filter).
    Column("account_id", BigInteger, nullable=True),
    Column("target", String(255), nullable=False, server_default=""),
    Column("details", String(500), nullable=False, server_default=""),
    Index("ix_audit_log_account_id", "account_id", "id"),
    sqlite_autoincrement=True,
)
