"""`tidings doctor`: is this node able to work? Each check says OK or FAIL with a reason."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, replace

from tidings.channels.smpp import pdu
from tidings.channels.smpp.channel import session_config
from tidings.channels.smpp.session import SmppSession
from tidings.config import Settings, SettingsError, SmppUpstream, SmtpUpstream, routes_for
from tidings.domain.admin import routing_gaps
from tidings.store.db import open_database
from tidings.store.operations import schema_revision
from tidings.store.revisions import head_revision
from tidings.store.unrouted import UnroutedStore

TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def config_check(load: Callable[[], Settings]) -> tuple[Check, Settings | None]:
    try:
        settings = load()
    except SettingsError as exc:
        return Check("config", False, str(exc)), None
    except Exception as exc:
        return Check("config", False, _reason(exc)), None
    upstreams = len(settings.smpp) + len(settings.smtp)
    return Check("config", True, f"loaded; {upstreams} upstream(s) configured"), settings


def store_checks(database_url: str) -> list[Check]:
    """Reachable (a trivial query), and migrated to the revision this code expects."""
    safe_url = database_url.split("@")[-1] if "@" in database_url else database_url
    missing = sqlite_file_missing(database_url)
    if missing:
        return [Check("store", False, f"database file {missing} does not exist")]
    try:
        db = open_database(database_url)
    except Exception as exc:
        return [Check("store", False, _reason(exc))]
    try:
        revision = schema_revision(db)
    except Exception as exc:
        return [Check("store", False, f"{safe_url}: {_reason(exc)}")]
    finally:
        db.close()
    checks = [Check("store", True, f"{safe_url} answers")]
    head = head_revision()
    if revision == head:
        checks.append(Check("migrations", True, f"at head ({head})"))
    else:
        got = revision or "never migrated"
        checks.append(Check("migrations", False, f"at {got}, expected {head}: tidings db upgrade"))
    return checks


async def smpp_check(upstream: SmppUpstream, timeout_s: float = TIMEOUT_S) -> Check:
    """TCP connect and bind_transceiver (then unbind) with a short timeout."""
    name = f"smpp {upstream.name} {upstream.host}:{upstream.port}"
    config = replace(
        session_config(upstream), bind_timeout_s=timeout_s, response_timeout_s=timeout_s
    )
    session = SmppSession(config)
    try:
        await asyncio.wait_for(session.open(), timeout_s + 1)
    except Exception as exc:
        await session.close(drain=False)
        return Check(name, False, _reason(exc))
    await session.close(drain=False)
    return Check(name, True, f"bound as {upstream.system_id}")


async def smtp_check(relay: SmtpUpstream, timeout_s: float = TIMEOUT_S) -> Check:
    """TCP connect and read the greeting (no message is sent)."""
    name = f"smtp {relay.name} {relay.host}:{relay.port}"
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(relay.host, relay.port, ssl=relay.security == "tls"),
            timeout_s,
        )
    except Exception as exc:
        return Check(name, False, _reason(exc))
    try:
        greeting = await asyncio.wait_for(reader.readline(), timeout_s)
    except Exception as exc:
        return Check(name, False, f"no greeting: {_reason(exc)}")
    finally:
        writer.close()
    text = greeting.decode("ascii", "replace").strip()
    if not text.startswith("220"):
        return Check(name, False, f"unexpected greeting {text[:80]!r}")
    return Check(name, True, text[:80])


def sqlite_file_missing(database_url: str) -> str | None:
    """The path of a SQLite database whose file is not there (opening it would create it)."""
    path = database_url.removeprefix("sqlite:///")
    if path == database_url or not path or path == ":memory:" or os.path.exists(path):
        return None
    return path


async def upstream_checks(settings: Settings, timeout_s: float = TIMEOUT_S) -> list[Check]:
    checks = [smpp_check(u, timeout_s) for u in settings.smpp]
    checks += [smtp_check(r, timeout_s) for r in settings.smtp]
    return list(await asyncio.gather(*checks))


async def door_check(kind: str, host: str, port: int, timeout_s: float = TIMEOUT_S) -> Check:
    """An enabled door: its server answers there (enquire_link for SMPP, the greeting for
    SMTP), or the address is free for it to start on; taken by something else is a failure."""
    name = f"{kind} server {host}:{port}"
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_s)
    except OSError:
        return _bindable(name, host, port)
    except TimeoutError:
        return Check(name, False, "the address does not answer (timed out)")
    try:
        answered = await asyncio.wait_for(_door_answer(kind, reader, writer), timeout_s)
    except Exception as exc:
        return Check(name, False, f"something else listens there: {_reason(exc)}")
    finally:
        writer.close()
    return Check(name, True, answered)


async def _door_answer(
    kind: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> str:
    if kind == "smtp":
        greeting = (await reader.readline()).decode("ascii", "replace").strip()
        if not greeting.startswith("220"):
            raise ValueError(f"greeting {greeting[:60]!r}")
        return f"answers: {greeting[:80]}"
    writer.write(pdu.encode_enquire_link(1))
    head = await reader.readexactly(pdu.HEADER_SIZE)
    length, command_id, _status, _sequence = pdu.HEADER.unpack(head)
    if command_id not in (pdu.ENQUIRE_LINK_RESP, pdu.GENERIC_NACK) or length != len(head):
        raise ValueError(f"answered enquire_link with command 0x{command_id:08x}")
    return "answers enquire_link"


def _bindable(name: str, host: str, port: int) -> Check:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            return Check(name, False, f"not running, and cannot listen: {_reason(exc)}")
    return Check(name, True, "not running here; the address is free for it")


def door_checks(settings: Settings, timeout_s: float = TIMEOUT_S) -> list[Check]:
    doors = []
    if settings.smpp_server.enabled:
        doors.append(("smpp", settings.smpp_server.host, settings.smpp_server.port))
    if settings.smtp_server.enabled:
        doors.append(("smtp", settings.smtp_server.host, settings.smtp_server.port))

    async def every() -> list[Check]:
        return list(await asyncio.gather(*(door_check(*d, timeout_s) for d in doors)))

    return asyncio.run(every()) if doors else []


def routing_check(settings: Settings) -> Check:
    """Live accounts' messages with no upstream to take them wait forever: a failure."""
    db = open_database(settings.database_url)
    try:
        gaps = routing_gaps(routes_for(settings), UnroutedStore(db))
    finally:
        db.close()
    if gaps:
        return Check("routing", False, "; ".join(gaps))
    return Check("routing", True, "every live account's message has an upstream")


def run_checks(load: Callable[[], Settings], timeout_s: float = TIMEOUT_S) -> list[Check]:
    config, settings = config_check(load)
    if settings is None:
        return [config]
    checks = [config, *store_checks(settings.database_url)]
    if all(check.ok for check in checks):
        checks.append(routing_check(settings))
    checks += asyncio.run(upstream_checks(settings, timeout_s))
    return checks + door_checks(settings, timeout_s)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    if not text and isinstance(exc, TimeoutError):
        text = "timed out"
    return (f"{type(exc).__name__}: {text}" if text else type(exc).__name__)[:300]
