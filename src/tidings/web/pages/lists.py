"""Mailing lists: the table with live progress, the create form with its cost preview, one
list's page (counts, chart, recipients, CSV), cancel and delete."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from tidings.domain.job_request import new_job
from tidings.domain.jobs import NewJob
from tidings.domain.lifecycle import JobStatus
from tidings.domain.money import format_money
from tidings.domain.reports import RecipientRow
from tidings.domain.schedule import Repeat, format_local
from tidings.domain.status_names import job_status_names, message_status_names
from tidings.errors import DomainError, NotFound, RecordError
from tidings.web.cabinet import Cabinet, NavItem, PageModule, Visit
from tidings.web.chart import timeline_chart
from tidings.web.csv_stream import csv_lines
from tidings.web.i18n import N_
from tidings.web.refusals import refused_field

NAV = (NavItem(N_("Mailing lists"), "/lists"),)
# Translated where shown (repeats()).
REPEATS = {
    Repeat.NONE: N_("once"),
    Repeat.HOURLY: N_("every hour"),
    Repeat.DAILY: N_("every day"),
    Repeat.WORKDAYS: N_("on workdays"),
    Repeat.WEEKENDS: N_("at weekends"),
    Repeat.WEEKLY: N_("every week"),
    Repeat.MONTHLY: N_("every month"),
    Repeat.YEARLY: N_("every year"),
}
# The create form's fields are the jobs.php `add` parameters of the same names.
FORM_FIELDS = (
    "name",
    "phones",
    "mes",
    "time",
    "rpt",
    "rptn",
    "period",
    "freq",
    "valid",
    "sender",
    "translit",
    "subj",
)
# The e-mail From address: jobs.php's `sender` of an e-mail list, a field of its own here
# (the SMS sender's field holds an 11-character name).
MAIL_FROM = "mail_from"
PAGE_SIZE = 50
# The newest replies and opt-outs shown on a list's page (the inbox has them all).
REPLIES_SHOWN = 50


def routes(cabinet: Cabinet) -> list[BaseRoute]:
    return [
        Route("/lists", cabinet.page(index), methods=["GET"]),
        Route("/lists/rows", cabinet.page(rows), methods=["GET"]),
        Route("/lists/new", cabinet.page(new_form), methods=["GET"]),
        Route("/lists/preview", cabinet.action(preview), methods=["POST"]),
        Route("/lists/new", cabinet.action(create), methods=["POST"]),
        Route("/lists/{job_id}", cabinet.page(detail), methods=["GET"]),
        Route("/lists/{job_id}/progress", cabinet.page(detail_progress), methods=["GET"]),
        Route("/lists/{job_id}/recipients.csv", cabinet.page(export_csv), methods=["GET"]),
        Route("/lists/{job_id}/cancel", cabinet.action(cancel), methods=["POST"]),
        Route("/lists/{job_id}/delete", cabinet.action(delete), methods=["POST"]),
    ]


# ---- the table ----------------------------------------------------------------------------


def _table(visit: Visit) -> dict[str, Any]:
    offset = _offset(visit.query.get("offset", ""))
    page = visit.services.reports.list_page(visit.account, offset, PAGE_SIZE)
    return {
        "lines": page.lines,
        "status_names": job_status_names(visit.language.code),
        "repeats": repeats(visit),
        "offset": offset,
        "limit": PAGE_SIZE,
        "has_next": page.has_next,
        # Stop polling once nothing on screen can change.
        "live": any(
            j.status in (JobStatus.WAITING, JobStatus.SENDING) or p.waiting or p.sent
            for j, p in page.lines
        ),
    }


def repeats(visit: Visit) -> dict[Repeat, str]:
    """The repeat choices in the visit's language."""
    return {value: visit.gettext(title) for value, title in REPEATS.items()}


def index(visit: Visit) -> Response:
    return visit.render("lists/index.html", **_table(visit))


def rows(visit: Visit) -> Response:
    """The table body alone: the page polls it, so progress moves without a reload."""
    return visit.render("lists/rows.html", **_table(visit))


# ---- creating -----------------------------------------------------------------------------


def new_form(visit: Visit) -> Response:
    groups = visit.services.contacts.list_groups(visit.account)
    return visit.render(
        "lists/new.html",
        groups=groups,
        repeats=repeats(visit),
        values={f: "" for f in (*FORM_FIELDS, MAIL_FROM)},
        # The live counter (cabinet.js) says it in the visit's language.
        counter=visit.language.counter_phrases(),
    )


def _is_mail(visit: Visit) -> bool:
    return visit.field("channel") == "mail"


def _new_job(visit: Visit) -> NewJob:
    """The form as jobs.php `add` parameters: the rules of jobs.php apply."""
    values = {name: visit.field(name) for name in FORM_FIELDS}
    if _is_mail(visit):
        values.update(mail="1", sender=visit.field(MAIL_FROM))
    else:
        values["subj"] = ""  # an SMS list has no subject, whatever the hidden field holds
    groups = [f"G{g}" for g in visit.form.getlist("groups") if isinstance(g, str) and g.isdigit()]
    values["phones"] = ",".join(p for p in (values["phones"].strip(), *groups) if p)
    limit = visit.services.limits.max_recipients
    return new_job(values, visit.account, visit.now, max_recipients=limit)


def _refusal(visit: Visit, error: DomainError) -> Response:
    """The error under the form, and the form's field it names ("phones: required")
    marked (cabinet.js)."""
    field = refused_field(error)
    if field == "sender" and _is_mail(visit):
        field = MAIL_FROM
    return visit.render(
        "lists/preview.html",
        error=visit.refusal(error),
        error_field=field if field in (*FORM_FIELDS, MAIL_FROM) else "",
    )


def preview(visit: Visit) -> Response:
    try:
        job = _new_job(visit)
        summary = visit.services.jobs.preview(visit.account, job)
    except DomainError as error:
        return _refusal(visit, error)
    zone = ZoneInfo(visit.account.timezone)
    return visit.render(
        "lists/preview.html",
        error="",
        job=job,
        summary=summary,
        first_run=format_local(job.first_run, zone),
        repeat=repeats(visit).get(Repeat(job.rpt), ""),
    )


def create(visit: Visit) -> Response:
    try:
        job = _new_job(visit)
        created = visit.services.jobs.create(visit.account, job, visit.now, with_cost=False)
    except DomainError as error:
        return _refusal(visit, error)
    done = visit.gettext("Mailing list %(id)s created.", id=created.job_id)
    return visit.redirect(f"/lists/{created.job_id}", done)


# ---- one list -----------------------------------------------------------------------------


def detail(visit: Visit) -> Response:
    job_id = visit.path_int("job_id")
    live = _live(visit, job_id)
    inbound = visit.services.inbound
    return visit.render(
        "lists/detail.html",
        replies=inbound.list_replies(visit.account, job_id, REPLIES_SHOWN),
        opt_outs=inbound.list_replies(visit.account, job_id, REPLIES_SHOWN, stops_only=True),
        replies_shown=REPLIES_SHOWN,
        **live,
        repeat=repeats(visit).get(Repeat(live["job"].rpt), str(live["job"].rpt)),
        oob=False,
    )


def detail_progress(visit: Visit) -> Response:
    """The live part, and the recipients' page shown beside it (swapped in out of band)."""
    return visit.render(
        "lists/detail_progress.html", **_live(visit, visit.path_int("job_id")), oob=True
    )


def _live(visit: Visit, job_id: int) -> dict[str, Any]:
    """What changes while a list sends — status, counts, cost, last sent, the chart, the
    page of recipients asked for (`q`, `offset`) — for the page and for the fragment that
    refreshes it, read at one moment so that they never disagree."""
    search = visit.query.get("q", "").strip()[:64]
    offset = _offset(visit.query.get("offset", ""))
    live = visit.services.reports.live_list(visit.account, job_id, search, offset, PAGE_SIZE + 1)
    asked = {k: v for k, v in (("q", search), ("offset", str(offset) if offset else "")) if v}
    return {
        "job": live.job,
        "p": live.progress,
        "by_status": sorted(live.by_status.items()),
        "status_names": job_status_names(visit.language.code),
        "message_status": message_status_names(visit.language.code),
        "chart": timeline_chart(live.timeline, ZoneInfo(visit.account.timezone)),
        "recipients": live.recipients[:PAGE_SIZE],
        "has_next": len(live.recipients) > PAGE_SIZE,
        "offset": offset,
        "limit": PAGE_SIZE,
        "search": search,
        # The poll asks for the same page of recipients.
        "recipients_query": f"?{urlencode(asked)}" if asked else "",
    }


def export_csv(visit: Visit) -> Response:
    """Every recipient's status, streamed in batches (a million rows never sit in memory)."""
    job = visit.services.jobs.get(visit.account, visit.path_int("job_id"))
    rows = visit.services.reports.iter_recipients(visit.account, job.job_id)
    zone = ZoneInfo(visit.account.timezone)
    return StreamingResponse(
        _csv_lines(rows, zone, message_status_names(visit.language.code)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="list-{job.job_id}.csv"'},
    )


def _csv_lines(
    rows: Iterator[RecipientRow], zone: ZoneInfo, status_names: dict[int, str]
) -> Iterator[str]:
    # The columns and numbers stay machine-readable; status_name is in the visit's language.
    header = ["phone", "status", "status_name", "error", "parts", "cost", "sent", "done"]
    return csv_lines(
        header,
        (
            [
                row.address,
                row.status,
                status_names.get(row.status, ""),
                row.err,
                row.parts,
                format_money(row.cost_minor),
                format_local(row.sent_at, zone),
                format_local(row.done_at, zone),
            ]
            for row in rows
        ),
    )


def cancel(visit: Visit) -> Response:
    job_id = visit.path_int("job_id")
    try:
        visit.services.jobs.cancel(visit.account, job_id, visit.now)
    except NotFound:
        raise  # not this account's (or gone): the page's 404
    except RecordError:
        # The page was shown while it ran and it has ended since: say so on its page (a 400
        # would leave the button doing nothing under htmx).
        ended = visit.gettext(
            "Mailing list %(id)s has already ended: nothing to cancel.", id=job_id
        )
        return visit.redirect(f"/lists/{job_id}", ended)
    return visit.redirect(
        f"/lists/{job_id}", visit.gettext("Mailing list %(id)s cancelled.", id=job_id)
    )


def delete(visit: Visit) -> Response:
    job_id = visit.path_int("job_id")
    visit.services.jobs.delete(visit.account, job_id, visit.now)
    return visit.redirect("/lists", visit.gettext("Mailing list %(id)s deleted.", id=job_id))


def _offset(raw: str) -> int:
    return min(int(raw), 10_000_000) if raw.isdigit() else 0


PAGE = PageModule(NAV, routes)
