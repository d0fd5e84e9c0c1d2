"""The account's messages, as get.php `get_messages` offers them: searched by phone (or
e-mail), days and status, newest first, paged by id (a keyset, never OFFSET), and the same
search as a streamed CSV file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from tidings.domain.clock import from_ts
from tidings.domain.lifecycle import MessageStatus
from tidings.domain.messages import HistoryQuery, MessageInfo, days_period, lookup_address
from tidings.domain.money import format_money
from tidings.domain.numbers import parse_uint
from tidings.domain.schedule import format_local
from tidings.domain.status_names import message_status_names
from tidings.errors import InvalidParameter
from tidings.web.cabinet import Cabinet, NavItem, PageModule, Visit
from tidings.web.csv_stream import csv_lines
from tidings.web.i18n import N_

NAV = (NavItem(N_("History"), "/history"),)
PAGE_SIZE = 50
FILTERS = ("phone", "start", "end", "status")
CSV_HEADER = ["id", "time", "phone", "sender", "status", "status_name", "parts", "cost", "text"]
# The statuses a stored message can have, the filter's choices (NOT_FOUND is only an answer
# of status.php for an id it does not know).
STATUSES = tuple(s for s in MessageStatus if s is not MessageStatus.NOT_FOUND)


def routes(cabinet: Cabinet) -> list[BaseRoute]:
    return [
        Route("/history", cabinet.page(index), methods=["GET"]),
        Route("/history.csv", cabinet.page(export_csv), methods=["GET"]),
    ]


def _query(visit: Visit, before_id: int | None, limit: int) -> HistoryQuery:
    """The search form as a history query (days in the account's zone)."""
    q = visit.query
    zone = ZoneInfo(visit.account.timezone)
    start, end = days_period(_day(q.get("start", ""), "start"), _day(q.get("end", ""), "end"), zone)
    phone = q.get("phone", "").strip()
    status = _status(q.get("status", ""))
    return HistoryQuery(
        account_id=visit.account.id,
        start_ts=start,
        end_ts=end,
        addresses=(lookup_address(phone, visit.account.region),) if phone else (),
        statuses=() if status is None else (status,),
        before_id=before_id,
        limit=limit,
    )


def _day(raw: str, name: str) -> date | None:
    """A date field (the browser's YYYY-MM-DD); empty: no bound."""
    text = raw.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidParameter("%(field)s: a date YYYY-MM-DD", field=name) from None


def _status(raw: str) -> int | None:
    text = raw.strip()
    if not text:
        return None
    try:
        status = int(text)
    except ValueError:
        status = None
    if status not in STATUSES:
        raise InvalidParameter("status: one of the listed statuses")
    return status


def index(visit: Visit) -> Response:
    before = parse_uint(visit.query.get("before", "").strip())
    found = visit.services.messages.history(_query(visit, before or None, PAGE_SIZE + 1))
    shown = found[:PAGE_SIZE]
    filters = {name: visit.query.get(name, "") for name in FILTERS}
    searched = urlencode({k: v for k, v in filters.items() if v})
    older = ""
    if len(found) > PAGE_SIZE:
        older = urlencode({**{k: v for k, v in filters.items() if v}, "before": shown[-1].id})
    return visit.render(
        "history/index.html",
        messages=shown,
        filters=filters,
        statuses=_status_names(visit),
        searched=searched,
        older=older,
        paged=before is not None,
    )


def _status_names(visit: Visit) -> dict[int, str]:
    """The filter's statuses, named in the visit's language (domain/status_names.py)."""
    names = message_status_names(visit.language.code)
    return {status: names[status] for status in STATUSES}


def export_csv(visit: Visit) -> Response:
    """The search's every message, streamed a batch at a time."""
    rows = visit.services.messages.iter_history(_query(visit, None, PAGE_SIZE))
    zone = ZoneInfo(visit.account.timezone)
    return StreamingResponse(
        _csv_lines(rows, zone, _status_names(visit)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="history.csv"'},
    )


def _csv_lines(
    rows: Iterator[MessageInfo], zone: ZoneInfo, status_names: dict[int, str]
) -> Iterator[str]:
    # The columns and numbers stay machine-readable; status_name is in the visit's language,
    # as in a list's recipients.csv.
    return csv_lines(CSV_HEADER, (_csv_row(m, zone, status_names) for m in rows))


def _csv_row(m: MessageInfo, zone: ZoneInfo, status_names: dict[int, str]) -> list[object]:
    return [
        m.id,
        format_local(from_ts(m.created_at), zone),
        m.address,
        m.sender,
        m.status,
        status_names.get(m.status, ""),
        m.parts,
        format_money(m.cost_minor),
        m.text,
    ]


PAGE = PageModule(NAV, routes)
