"""One typed settings object, over 500 lines: every part's settings in one place (DESIGN §4).

Defaults, then a TOML file, then TIDINGS_* environment variables. Each part's settings are
one small class; they are kept in one module so that every key and its default is found in
one place.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from tidings.domain.routing import Routes

DEFAULT_DATABASE_URL = "sqlite:///./tidings.db"
# Read when neither --config nor TIDINGS_CONFIG names a file, the first one present.
DEFAULT_CONFIG_PATHS = (Path("tidings.toml"), Path("/etc/tidings/tidings.toml"))
ENV_PREFIX = "TIDINGS_"
DATABASE_URL_FORMS = "sqlite:///PATH (a file in an existing folder) or postgresql://USER@HOST/DB"


# A misspelt key is refused, not ignored: the operator would otherwise run on a default
# while believing the file set it.
STRICT = ConfigDict(extra="forbid")


class Section(BaseModel):
    """A `[table]` of the settings file."""

    model_config = STRICT


class SettingsError(ValueError):
    """Settings that cannot be used, said in a line or two naming the file, key or URL and
    what would be accepted — for a person starting the service, not a traceback."""


# How a long SMS goes out: UDH concatenation or SAR TLVs (channels/smpp/encoding.py).
LongMode = Literal["udh", "sar"]
# How an SMSC writes message ids (channels/smpp/receipts.py explains the canonical form).
IdFormat = Literal["str", "hex", "dec"]
SmtpSecurity = Literal["none", "starttls", "tls"]


class GuardSettings(Section):
    """Abuse protection (jobs.md §2 and §5). Every limit is configurable."""

    auth_failures_max: int = 5
    auth_failures_window_s: int = 30 * 60
    auth_block_s: int = 30 * 60
    error_streak_max: int = 100
    error_streak_window_s: int = 10 * 60
    error_block_s: int = 10 * 60
    duplicate_window_s: int = 60
    # Within that window: phones.php allows 3 identical requests, balance.php 10 requests.
    phones_identical_max: int = 3
    balance_requests_max: int = 10
    # "fifteen or more simultaneous requests under one login" are refused: 14 may run at once.
    max_concurrent_per_login: int = 14
    credential_cache_ttl_s: int = 60
    # Error-9 counters shared by several API processes, e.g. "redis://127.0.0.1:6379/0";
    # empty = in memory, per process. A Redis that does not answer is bypassed (fail open).
    redis_url: str = ""


class HttpSettings(Section):
    """The HTTP server's limits (docs/operations.md, Limits): what one request or one
    connection may cost before it is refused or closed."""

    # A body over this is refused (error 1) by its Content-Length before it is read, or as
    # soon as a streamed (chunked) one passes it.
    max_body_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    # From a connection's first byte (or its previous answer) to the end of the request head.
    header_timeout_s: float = Field(default=10.0, gt=0)
    # From the end of the head to the end of the body; then the connection is closed.
    body_timeout_s: float = Field(default=60.0, gt=0)
    # Open connections per process. Beyond it a new connection closes the one that has been
    # waiting longest for its client (a slow head or body, an idle keep-alive), so a flood of
    # slow clients cannot crowd out prompt ones. Never more than the open-files limit minus
    # `reserved_files` (database, Redis, upstreams and logs need descriptors too).
    max_connections: int = Field(default=4096, ge=1)
    reserved_files: int = Field(default=128, ge=0)
    # Peers whose X-Forwarded-For names the client (IPs or CIDRs, e.g. ["127.0.0.1"] for a
    # local reverse proxy). Empty: the client is always the socket's peer.
    trusted_proxies: list[str] = Field(default_factory=list)


class TariffSettings(Section):
    """The default tariff, used by accounts without one of their own. Prices per SMS part."""

    currency: str = "RUB"
    default_price: Decimal = Decimal("2.00")
    email_price: Decimal = Decimal("0.10")
    country_prices: dict[str, Decimal] = Field(
        default_factory=lambda: {
            "RU": Decimal("1.80"),
            "KZ": Decimal("3.50"),
            "BY": Decimal("4.00"),
        }
    )


class CallbackSettings(Section):
    """How status callbacks are delivered (dispatch/callbacks.py); docs/operations.md."""

    # One delivery, from connecting to the last byte read of the answer: an endpoint that
    # answers slowly (a byte every few seconds) is cut off here, whatever it sends.
    deadline_s: float = Field(default=10.0, gt=0, le=300)
    # At most this much of the answer is read (only its status code counts).
    max_answer_bytes: int = Field(default=64 * 1024, ge=0)
    # Deliveries in flight per dispatcher, and per account among them: a slow endpoint
    # holds at most its own account's share.
    concurrency: int = Field(default=16, ge=1, le=1024)
    per_account: int = Field(default=2, ge=1, le=1024)
    # Ranges a callback may reach although they are not public (loopback, private,
    # link-local, unique-local, metadata): none by default. E.g. ["10.20.0.0/16"].
    allow_networks: list[str] = Field(default_factory=list)

    @field_validator("allow_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for cidr in value:
            ipaddress.ip_network(cidr.strip(), strict=False)  # ValueError names the bad one
        return value


class DispatchSettings(Section):
    """The dispatcher: scheduler, claims, leases, crash recovery."""

    # Names this dispatcher's leases. Default "": an id of its own per process
    # (host:pid:random). A configured id is one live process's at a time: another refuses
    # to start with it while that one lives, and takes its leases back at once when it is
    # dead (dispatch/liveness.py).
    worker_id: str = ""
    # Liveness: each dispatcher renews a heartbeat row this often; one not renewed for
    # `dead_after_s` (or stopped, or whose process is gone, seen from the same host) is
    # dead, and only a dead dispatcher's leases are recovered by the others.
    heartbeat_s: float = Field(default=3.0, gt=0, le=60)
    dead_after_s: float = Field(default=15.0, gt=0)
    lease_s: int = 120
    tick_s: float = 0.2
    # Messages that may have reached the upstream when a dispatcher died: "skip" marks them
    # failed (err 1001) without sending again, "resend" sends them again.
    on_ambiguous: Literal["skip", "resend"] = "skip"
    default_validity_min: int = 24 * 60
    # A handed-over message with no receipt this long after its validity ends → expired (3).
    receipt_grace_min: int = 60
    # A receipt whose message is not known (yet) is stored, acknowledged, and matched when
    # its submit's result is recorded; one still unmatched after this long is dropped and
    # counted in the log ("receipts for unknown messages dropped").
    unmatched_receipt_keep_min: int = Field(default=24 * 60, ge=1)
    retry_min_s: int = 5
    retry_max_s: int = 300
    # Status callbacks: waits between attempts (the last one repeats), and attempts in all.
    callback_backoff_s: list[int] = Field(default_factory=lambda: [5, 15, 60, 300, 900, 1800, 3600])
    callback_attempts: int = 12
    callbacks: CallbackSettings = Field(default_factory=CallbackSettings)

    @model_validator(mode="after")
    def _liveness(self) -> DispatchSettings:
        # A live dispatcher must renew its heartbeat a few times within the bound, or a
        # slow database round would make it look dead.
        if self.dead_after_s < 2 * self.heartbeat_s:
            raise ValueError("dead_after_s must be at least twice heartbeat_s")
        return self


class VirtualSettings(Section):
    """The virtual upstream (test mode): no traffic, statuses progress like a real one's."""

    delay_ms: int = 300
    window: int = 200
    # Probability of each failure status (e.g. {"20": 0.05}); the rest is delivered.
    failures: dict[int, float] = Field(default_factory=dict)
    # The virtual upstream serves test-mode accounts only: a live account's message with no
    # upstream of its kind waits, uncharged. True lets it serve live accounts too — charged
    # as if sent — for a staging or benchmark setup, never for real traffic.
    serves_live_accounts: bool = False
    # Two-way messaging without an SMSC: when set, each message the virtual upstream delivers
    # is answered by its recipient with this text (an inbound message to the sender), after
    # the receipt. Empty: no answers.
    reply_text: str = ""


class InboundSettings(Section):
    """Inbound messages (two-way messaging, docs/operations.md "Inbound messages")."""

    # An incoming SMS answers the newest message sent to its phone from its destination
    # within this many hours (when its destination is no assigned inbound number).
    reply_window_h: float = Field(default=72.0, ge=0)
    # A long message whose parts did not all come within this is kept with what came.
    part_timeout_s: int = Field(default=300, ge=1)
    # The same message delivered again within this (our answer to the SMSC was lost) is kept
    # once; a part of a joined message is remembered as long.
    dedup_window_s: int = Field(default=600, ge=0)
    # Texts that put the sender on the account's stop list (case and blanks ignored); an
    # account may set its own in the cabinet.
    stop_keywords: list[str] = Field(
        default_factory=lambda: ["STOP", "СТОП", "ОТПИСКА", "UNSUBSCRIBE"]
    )


class WebSettings(Section):
    """The web cabinet at `/`."""

    # Signs the session cookie. Empty: a random secret, shared by the workers of one
    # `tidings api --workers N` run, so sessions end at a restart; set it when separate
    # processes or hosts serve the cabinet behind one address.
    session_secret: str = ""
    # Send the cookie only over HTTPS (switch on behind a TLS-terminating proxy).
    cookie_secure: bool = False
    session_max_age_s: int = 12 * 60 * 60
    # The cabinet's language when the account has chosen none and the browser's
    # Accept-Language names neither "ru" nor "en" (the sign-in page too).
    default_language: Literal["ru", "en"] = "ru"


class SmppServerSettings(Section):
    """The SMPP server SMS Center clients bind to (`tidings smpp-server`; docs/operations.md,
    "SMPP server")."""

    # Started inside `tidings serve` too.
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=3700, ge=0, le=65535)
    # SMPP over TLS on a port of its own as well (smsc.ru: 3443); 0 = none. It needs a
    # certificate chain and its key (PEM files).
    tls_port: int = Field(default=0, ge=0, le=65535)
    tls_cert_file: str = ""
    tls_key_file: str = ""
    # The name we give in bind_*_resp.
    system_id: str = Field(default="Tidings", max_length=15)
    # submit_sm of one bind not yet answered; one more is refused with ESME_RMSGQFUL.
    window: int = Field(default=100, ge=1)
    # submit_sm a second per account over all its binds (0: no cap); beyond: ESME_RTHROTTLED.
    throughput_per_account: float = Field(default=0.0, ge=0)
    # A client that sends nothing (nor answers our enquire_link) this long is disconnected;
    # a connection that has not bound within it too.
    idle_s: float = Field(default=120.0, gt=0)
    # We ask a quiet client whether it is there this often.
    enquire_link_s: float = Field(default=60.0, gt=0)
    # The parts of a long message must all arrive within this; held parts are refused after.
    long_message_timeout_s: float = Field(default=30.0, gt=0)
    # deliver_sm of one bind not yet acknowledged.
    deliver_window: int = Field(default=50, ge=1)
    # A receipt or inbound message not acknowledged within this is offered again (to any
    # receiver of the account).
    receipt_retry_s: int = Field(default=30, ge=1)
    # How often the receipts and inbound messages due are looked for while receivers are bound.
    receipt_poll_s: float = Field(default=0.5, gt=0)
    # Receipts nobody came for are dropped this long after their message ended, inbound
    # messages this long after they came (they stay readable over HTTP).
    receipt_keep_min: int = Field(default=72 * 60, ge=1)

    @model_validator(mode="after")
    def _tls_needs_a_certificate(self) -> SmppServerSettings:
        if self.tls_port and not (self.tls_cert_file and self.tls_key_file):
            raise ValueError("tls_port needs tls_cert_file and tls_key_file")
        return self


class SmtpServerSettings(Section):
    """The SMTP door: mail to `send@<domain>` is a send.php request (`tidings smtp-server`;
    docs/operations.md, "Sending by e-mail")."""

    # Started inside `tidings serve` too.
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=2525, ge=0, le=65535)
    # Only mail to send@<domain> is taken: anything else is refused (no open relay).
    domain: str = Field(default="send.localhost", min_length=1)
    # A larger mail is refused (552) while it arrives; smsc.ru takes up to 100 KB.
    max_message_bytes: int = Field(default=100 * 1024, ge=1024)
    # A client silent this long is disconnected.
    timeout_s: float = Field(default=60.0, gt=0)


@dataclass(frozen=True)
class SmppUpstream:
    """One upstream SMSC as configured by the operator ([[smpp]]); channels/smpp reads it."""

    __pydantic_config__ = STRICT

    name: str
    host: str
    port: int
    system_id: str
    password: str
    system_type: str = ""
    binds: int = 1
    window: int = 50
    throughput_per_bind: float = 0.0  # submit_sm/s per bind; 0 = unlimited
    long_mode: LongMode = "udh"
    # Destination prefixes this upstream serves (digits, no '+'); empty = every destination.
    prefixes: tuple[str, ...] = ()
    enquire_link_s: float = 30.0
    response_timeout_s: float = 10.0
    bind_timeout_s: float = 10.0
    reconnect_min_s: float = 1.0
    reconnect_max_s: float = 60.0
    throttle_retries: int = 3
    throttle_pause_min_s: float = 0.2
    throttle_pause_max_s: float = 10.0
    # None = by the sender's kind (see EncodingOptions); dest TON/NPI default international/ISDN.
    source_ton: int | None = None
    source_npi: int | None = None
    dest_ton: int = 1
    dest_npi: int = 1
    service_type: str = ""
    # How this SMSC writes message ids.
    resp_id_format: IdFormat = "str"
    receipt_id_format: IdFormat = "str"
    # Zone of the dates in receipt texts.
    receipt_tz: str = "UTC"
    # Ask for delivery receipts (registered_delivery). Without them a message stays "handed
    # over" (0) until its validity runs out and then counts as expired (3).
    request_receipts: bool = True

    def __post_init__(self) -> None:
        # Config loaders hand over lists; keep the value immutable like the rest.
        object.__setattr__(self, "prefixes", tuple(self.prefixes))
        if self.binds < 1 or self.window < 1:
            raise ValueError("binds and window must be at least 1")
        if self.long_mode not in ("udh", "sar"):
            raise ValueError("long_mode must be 'udh' or 'sar'")


@dataclass(frozen=True)
class SmtpUpstream:
    """One SMTP relay ([[smtp]]). DKIM is on when selector, domain and a key (path or bytes)
    are given; channels/smtp.py reads it."""

    __pydantic_config__ = STRICT

    name: str
    host: str
    port: int = 25
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    security: SmtpSecurity = "none"
    pool_size: int = 4
    timeout_s: float = 30.0
    default_from: str = "noreply@localhost.localdomain"
    helo_name: str | None = None
    # A CA bundle to trust instead of the system's (a private relay with its own certificate).
    ca_file: str | None = None
    max_messages_per_connection: int = 100
    template_cache_size: int = 64
    dkim_selector: str | None = None
    dkim_domain: str | None = None
    dkim_private_key_path: str | None = None
    dkim_private_key: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.security not in ("none", "starttls", "tls"):
            raise ValueError(f"security must be none, starttls or tls, not {self.security!r}")
        if min(self.pool_size, self.max_messages_per_connection, self.template_cache_size) < 1:
            raise ValueError("pool_size and the other counts must be at least 1")
        if "@" not in parseaddr(self.default_from)[1]:
            raise ValueError(f"default_from must be an e-mail address, not {self.default_from!r}")
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        has_key = self.dkim_private_key is not None or self.dkim_private_key_path is not None
        dkim_parts = (bool(self.dkim_selector), bool(self.dkim_domain), has_key)
        if any(dkim_parts) and not all(dkim_parts):
            raise ValueError("DKIM needs dkim_selector, dkim_domain and a private key together")


class Settings(BaseSettings):
    """Everything the service needs to start. Validated once, at start."""

    model_config = SettingsConfigDict(env_prefix="TIDINGS_", env_nested_delimiter="__")

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8080
    # `tidings api` processes on one port (several need guards.redis_url to share limits).
    workers: int = Field(default=1, ge=1, le=64)
    # `tidings serve`: 2 runs the dispatcher in a process of its own beside the HTTP API, so
    # the two use both cores (one Python process uses one); 1 runs all in one process. A
    # store only one process can open (SQLite in memory) is always served by one.
    serve_processes: int = Field(default=2, ge=1, le=2)
    # Threads per API process for the synchronous store. Few is faster: every extra thread
    # contending for the GIL cost more than it overlapped (bench/api_load.sh).
    api_threads: int = Field(default=2, ge=1, le=64)
    # When set, /metrics answers only `Authorization: Bearer <token>` (401 otherwise): its
    # series show balances and volumes. /healthz and /readyz stay open.
    metrics_token: str = ""
    log_level: str = "info"
    # Message text and phone numbers are masked in logs unless this is switched off.
    log_unmasked: bool = False
    default_region: str = "RU"
    # Recipients of one jobs.php/send.php request or cabinet list; more → error 1.
    max_recipients: int = Field(default=1_000_000, ge=1)
    http: HttpSettings = Field(default_factory=HttpSettings)
    guards: GuardSettings = Field(default_factory=GuardSettings)
    tariff: TariffSettings = Field(default_factory=TariffSettings)
    dispatch: DispatchSettings = Field(default_factory=DispatchSettings)
    virtual: VirtualSettings = Field(default_factory=VirtualSettings)
    inbound: InboundSettings = Field(default_factory=InboundSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    smpp_server: SmppServerSettings = Field(default_factory=SmppServerSettings)
    smtp_server: SmtpServerSettings = Field(default_factory=SmtpServerSettings)
    # Upstreams ([[smpp]], [[smtp]]): the channels are built from these.
    smpp: list[SmppUpstream] = Field(default_factory=list)
    smtp: list[SmtpUpstream] = Field(default_factory=list)

    @property
    def store_is_shared(self) -> bool:
        """Whether other processes can open this store (all but SQLite in memory)."""
        url = self.database_url
        return not url.startswith("sqlite:///") or url[len("sqlite:///") :] not in ("", ":memory:")

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, url: str) -> str:
        check_database_url(url)
        return url


def routes_for(settings: Settings) -> Routes:
    """The routing rule over the configured upstreams."""
    return Routes(
        smpp=[(u.name, tuple(u.prefixes)) for u in settings.smpp],
        smtp=[u.name for u in settings.smtp],
        virtual_for_live=settings.virtual.serves_live_accounts,
    )


def safe_database_url(url: str) -> str:
    """`scheme://user:password@host/db` → `scheme://host/db`: messages never show a password."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rpartition('@')[2]}" if sep else url


def check_database_url(url: str) -> None:
    """The two stores Tidings has; for SQLite the folder must exist (the file is created)."""
    if url.startswith(("postgresql://", "postgres://")):
        return
    if not url.startswith("sqlite:///"):
        shown = safe_database_url(url)
        raise ValueError(f"{shown!r} is not a database URL: use {DATABASE_URL_FORMS}")
    path = url[len("sqlite:///") :]
    if path in ("", ":memory:"):
        return
    folder = Path(path).parent
    if not folder.is_dir():
        raise ValueError(f"the folder {str(folder)!r} of {url!r} does not exist")


def load_settings(config_file: str | None = None, **overrides: Any) -> Settings:
    """Read the TOML file (if any) and the environment; explicit overrides win over both.
    Unusable settings raise SettingsError with a short message naming where they came from."""
    path = config_file or os.environ.get("TIDINGS_CONFIG") or default_config_path()
    given = {k: v for k, v in overrides.items() if v is not None}
    file_values = _read_toml(path) if path else {}
    try:
        env_settings = Settings()
    except ValidationError as error:
        raise SettingsError(_explain(error, lambda key: ENV_PREFIX + key.upper())) from None
    env_values = _explicit_env(env_settings)

    def origin(key: str) -> str:
        if key in given:
            return OPTION_NAMES.get(key, f"--{key.replace('_', '-')}")
        if key in env_values:
            return ENV_PREFIX + key.upper()
        return f"{path}: {key}"

    merged = _merged(_merged(file_values, env_values), given)
    try:
        return Settings.model_validate(merged) if merged else env_settings
    except ValidationError as error:
        raise SettingsError(_explain(error, origin)) from None


# The command-line options that override a setting, by the setting's name.
OPTION_NAMES = {"database_url": "--db", "worker_id": "--worker-id"}


def default_config_path() -> str | None:
    for candidate in DEFAULT_CONFIG_PATHS:
        if candidate.is_file():
            return str(candidate)
    return None


def _read_toml(path: str) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise SettingsError(f"settings file {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise SettingsError(f"settings file {path}: not UTF-8 text") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"settings file {path}: {error} — not valid TOML") from None


def _explain(error: ValidationError, origin: Callable[[str], str]) -> str:
    """One line per problem: where the value came from (the file and key, the TIDINGS_
    variable or the option), what is wrong and what is accepted."""
    lines = []
    for problem in error.errors():
        where = origin(str(problem["loc"][0])) if problem["loc"] else "settings"
        rest = ".".join(str(part) for part in problem["loc"][1:])
        if rest:
            where = f"{where}.{rest}" if ": " in where else f"{where} ({rest})"
        if problem["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
            lines.append(f"{where}: unknown setting")
            continue
        message = str(problem["msg"]).removeprefix("Value error, ")
        value = problem.get("input")
        secret = any(word in str(problem["loc"]) for word in ("password", "secret", "url"))
        if isinstance(value, str | int | float) and not secret and repr(value) not in message:
            message += f", not {value!r}"
        lines.append(f"{where}: {message}")
    return "\n".join(lines[:5])


def _explicit_env(settings: Settings) -> dict[str, Any]:
    """The keys that the environment set, table by table (so they win over the TOML file):
    TIDINGS_GUARDS__REDIS_URL is `guards.redis_url` alone, not a whole `guards` table of
    defaults that would replace the file's."""
    return settings.model_dump(exclude_unset=True)


def _merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over` on top of `base`, tables merged key by key, anything else replaced."""
    out = dict(base)
    for key, value in over.items():
        below = out.get(key)
        if isinstance(value, dict) and isinstance(below, dict):
            out[key] = _merged(below, value)
        else:
            out[key] = value
    return out
