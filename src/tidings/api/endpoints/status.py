"""/sys/status.php — message statuses, single and multiple queries (smsc-api.md §4)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import phonenumbers

from tidings.api.context import Call
from tidings.api.formats import Record
from tidings.domain.clock import from_ts, to_ts
from tidings.domain.lifecycle import MessageStatus
from tidings.domain.messages import MessageInfo
from tidings.domain.money import format_money
from tidings.domain.numbers import parse_uint
from tidings.domain.schedule import format_local
from tidings.domain.status_names import message_status_names
from tidings.errors import InvalidParameter

# [choice] status names in Russian, as smsc.ru answers them (the one table both the API
# and the cabinet take them from).
STATUS_NAMES: dict[int, str] = message_status_names("ru")


def handle_status(call: Call) -> str:
    p = call.params
    ids, phones, multiple = _queries(p.text("id"), p.text("phone"))
    detail = _detail(p.get("all"))
    if p.flag("del"):
        return _delete(call, ids, phones)
    found = call.services.messages.find
    infos = [(i, ph, found(call.account, i, ph)) for i, ph in zip(ids, phones, strict=True)]
    records = [_record(call, i, ph, info, detail, multiple) for i, ph, info in infos]
    if multiple:
        return _multiple(call, records, detail)
    return call.renderer.result(_for_fmt(records[0], call.fmt, detail), _text0(records[0], detail))


def _multiple(call: Call, records: list[Record], detail: int) -> str:
    if call.fmt == 0:
        return "\n".join(_text0(r, detail, multiple=True) for r in records)
    if call.fmt == 1:
        return "\n".join(",".join(str(v) for _k, v in _for_fmt(r, 1, detail)) for r in records)
    return call.renderer.records(
        [_for_fmt(r, call.fmt, detail) for r in records], "result", "status", ""
    )


def _queries(ids_raw: str, phones_raw: str) -> tuple[list[str], list[str], bool]:
    """`id=1,2,` and `phone=79…,79…,`: pairs by position; a trailing comma (or several
    values) asks for the multiple-request format."""
    multiple = "," in ids_raw or "," in phones_raw
    ids = [i.strip() for i in ids_raw.split(",") if i.strip()]
    phones = [p.strip() for p in phones_raw.split(",") if p.strip()]
    if not ids:
        raise InvalidParameter("id: required")
    if len(phones) == 1 and len(ids) > 1:
        phones = phones * len(ids)
    if phones and len(phones) != len(ids):
        raise InvalidParameter("phone: one number per id")
    return ids, phones or [""] * len(ids), multiple


def _detail(value: str | None) -> int:
    text = (value or "").strip()
    if text not in ("", "0", "1", "2"):
        raise InvalidParameter("all must be 0, 1 or 2")
    return int(text or 0)


def _delete(call: Call, ids: list[str], phones: list[str]) -> str:
    for client_id, phone in zip(ids, phones, strict=True):
        call.services.messages.delete(call.account, client_id, phone)
    return call.renderer.ok()


def _record(
    call: Call, client_id: str, phone: str, info: MessageInfo | None, detail: int, multiple: bool
) -> Record:
    zone = ZoneInfo(call.account.timezone)
    now = to_ts(call.now)
    if info is None:
        status, err, last, sent, cost, sender, text, address = (
            int(MessageStatus.NOT_FOUND),
            0,
            now,
            now,
            0,
            "",
            "",
            phone,
        )
    else:
        status, err = info.status, info.err
        last = info.done_at or info.sent_at or info.created_at
        sent = info.sent_at or info.created_at
        cost, sender, text, address = info.cost_minor, info.sender, info.text, info.address
    record: Record = [
        ("status", status),
        ("last_date", _date(last, zone)),
        ("last_timestamp", last),
        ("err", err),
        ("send_date", _date(sent, zone)),
        ("send_timestamp", sent),
        ("phone", address),
        ("cost", format_money(cost)),
    ]
    if detail == 2:
        country, operator, region = _geography(address)
        record += [("country", country), ("operator", operator), ("region", region)]
    record += [
        ("sender_id", sender),
        ("status_name", STATUS_NAMES.get(status, "")),
        ("message", text),
    ]
    if multiple:
        number = parse_uint(client_id)
        record.append(("id", client_id if number is None else number))
    return record


def _date(ts: int, zone: ZoneInfo) -> str:
    moment: datetime | None = from_ts(ts)
    return format_local(moment, zone)


def _for_fmt(record: Record, fmt: int, detail: int) -> Record:
    """all=0 answers status, time and err (and the id and phone of a multiple query)."""
    if detail == 0:
        keep = {"status", "last_date", "last_timestamp", "err", "id"}
        if fmt == 1:
            # [choice] a multiple query's line ends with the id and then the phone.
            values = dict(record)
            names = ["status", "last_timestamp", "err"] + (
                ["id", "phone"] if "id" in values else []
            )
            return [(name, values[name]) for name in names]
        return [(k, v) for k, v in record if k in keep]
    if fmt == 1:
        return [(k, v) for k, v in record if k not in ("last_date", "send_date")]
    return record


def _text0(record: Record, detail: int, *, multiple: bool = False) -> str:
    """fmt 0: `Status = 1, check_time = 10.10.2010 10:10:10` (+ `, err = N` if not 0)."""
    values = dict(record)
    text = f"Status = {values['status']}, check_time = {values['last_date']}"
    if values["err"]:
        text += f", err = {values['err']}"
    if detail:
        skip = {"status", "last_date", "last_timestamp", "err", "send_timestamp", "id"}
        text += "".join(f", {k} = {v}" for k, v in record if k not in skip)
    if multiple:
        # all=0 adds the id and the phone; all=1/2 list the phone already and add the id
        # (smsc-api.md §4.2).
        text += f", id = {values['id']}"
        if not detail:
            text += f", phone = {values['phone']}"
    return text


@lru_cache(maxsize=4096)
def _geography(address: str) -> tuple[str, str, str]:
    # Imported on first use: the geocoding tables take ~100 MB, paid only by servers whose
    # clients ask for all=2.
    from phonenumbers import carrier, geocoder

    if not address.isdigit():
        return "", "", ""
    try:
        number = phonenumbers.parse("+" + address)
    except phonenumbers.NumberParseException:
        return "", "", ""
    return (
        geocoder.country_name_for_number(number, "ru"),
        carrier.name_for_number(number, "ru"),
        geocoder.description_for_number(number, "ru"),
    )
