"""Operator commands: `import-contacts`, `jobs`, `doctor`, and the live part of `upstreams`.
Thin: the work is done by the domain services (and `doctor` by tidings.ops)."""

from __future__ import annotations

import atexit
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.progress_bar import ProgressBar
from rich.table import Table

from tidings.cli.i18n import _, job_status, refusal, yes
from tidings.cli.options import ConfigOption, DbOption
from tidings.config import Settings, load_settings
from tidings.domain.accounts import Account
from tidings.domain.contact_import import read_contacts
from tidings.domain.operations import UpstreamState
from tidings.domain.services import Services
from tidings.errors import NotFound

console = Console()


@contextmanager
def _services(db: str | None, config: str | None = None) -> Iterator[Services]:
    from tidings.app import opened_services

    with opened_services(load_settings(config, database_url=db)) as services:
        yield services


def _account(services: Services, login: str) -> Account:
    try:
        return services.admin.account_by_login(login)
    except NotFound:
        said = _("no account '%(login)s'", login=login)
        console.print(f"[red]{escape(said)}[/red]")
        raise typer.Exit(1) from None


def import_contacts(
    login: str,
    file: Annotated[Path, typer.Argument(help=_("CSV: phone[,name[,email[,group]]]"), exists=True)],
    group: Annotated[
        list[int] | None, typer.Option("--group", help=_("Also put every contact in group N."))
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    with _services(db, config) as services:
        account = _account(services, login)
        contacts = services.contacts
        try:
            group_ids = contacts.group_ids_by_num(account, group or [])
        except NotFound as exc:
            console.print(f"[red]{escape(login)}: {escape(refusal(exc))}[/red]")
            raise typer.Exit(1) from exc
        size = max(file.stat().st_size, 1)
        with file.open("rb") as stream, _progress() as progress:
            task = progress.add_task(_("importing"), total=size)
            report = contacts.import_contacts(
                account,
                read_contacts(stream, account.region),
                group_ids,
                datetime.now(UTC),
                lambda _rows: progress.update(task, completed=min(stream.tell(), size)),
            )
            progress.update(task, completed=size)
    console.print(
        _(
            "%(added)s added, %(updated)s updated, %(rejected)s rejected",
            added=report.added,
            updated=report.updated,
            rejected=report.rejected_count,
        )
    )
    if report.rejected:
        table = Table(_("line"), _("reason"), title=_("rejected rows"))
        for row in report.rejected:
            table.add_row(str(row.line), row.reason)
        console.print(table)
        if report.rejected_count > len(report.rejected):
            more = report.rejected_count - len(report.rejected)
            console.print(_("… and %(more)s more", more=more))


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=not console.is_terminal,
    )


def jobs(login: str, db: DbOption = None) -> None:
    with _services(db) as services:
        progress = services.reports.job_progress(_account(services, login))
    table = Table(
        "id",
        _("name"),
        _("status"),
        _("recipients"),
        _("waiting"),
        _("sent"),
        _("delivered"),
        _("failed"),
        _("progress"),
    )
    for p in progress:
        share = p.done / p.total if p.total else 0.0
        bar = Table.grid(padding=(0, 1))
        bar.add_row(ProgressBar(total=max(p.total, 1), completed=p.done, width=20), f"{share:4.0%}")
        table.add_row(
            str(p.job_id),
            p.name,
            job_status(p.status),
            str(p.recipients),
            str(p.waiting),
            str(p.sent),
            str(p.delivered),
            str(p.failed),
            bar,
        )
    console.print(table)


def doctor(config: ConfigOption = None, db: DbOption = None) -> None:
    from tidings.ops.doctor import run_checks

    checks = run_checks(lambda: load_settings(config, database_url=db))
    table = Table(_("check"), _("result"), _("detail"))
    passed, failed = escape(_("OK")), escape(_("FAIL"))
    for check in checks:
        verdict = f"[green]{passed}[/]" if check.ok else f"[red]{failed}[/]"
        table.add_row(check.name, verdict, escape(check.detail))
    console.print(table)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


def live_state_table(states: list[UpstreamState]) -> Table:
    now = datetime.now(UTC)
    unbound, stale = escape(_("no")), escape(_("(stale)"))
    table = Table(
        _("upstream"),
        _("worker"),
        _("bound"),
        _("in flight / window"),
        _("msg/s"),
        _("last error"),
        _("updated"),
        title=_("live state (reported by the dispatchers)"),
    )
    for s in states:
        binds = f" ({s.binds_live}/{s.binds_total})" if s.binds_total else ""
        error = ""
        if s.last_error:
            at = s.last_error_at.strftime("%H:%M:%S") if s.last_error_at else ""
            error = f"{s.last_error[:60]} {at}".strip()
        age = int((now - s.updated_at).total_seconds())
        table.add_row(
            s.upstream,
            s.worker_id,
            (yes() if s.bound else f"[red]{unbound}[/]") + binds,
            f"{s.in_flight} / {s.window}",
            f"{s.rate:g}",
            error,
            _("%(age)s s ago", age=age) + (f" [yellow]{stale}[/]" if s.stale(now) else ""),
        )
    return table


def print_live_state(settings: Settings) -> None:
    from tidings.app import opened_services
    from tidings.ops.doctor import sqlite_file_missing

    missing = sqlite_file_missing(settings.database_url)
    if missing:
        console.print(escape(_("live state unavailable: no database file %(path)s", path=missing)))
        return
    try:
        with opened_services(settings, upgrade=False) as services:
            states = services.upstreams.states()
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        console.print(escape(_("live state unavailable: %(error)s", error=error)))
        return
    if states:
        console.print(live_state_table(states))
    else:
        console.print(_("no dispatcher has reported yet"))


def _drop_live_gauges() -> None:
    """At exit, multiprocess metrics: drop this process's live gauges. Only a process that
    loaded the metrics has any: importing them here would fix their mode before `serve` has
    chosen it (cli/serve_split.py)."""
    metrics = sys.modules.get("tidings.ops.metrics")
    if metrics is not None:
        metrics.process_exited()


def register(app: typer.Typer) -> None:
    atexit.register(_drop_live_gauges)
    app.command(
        "import-contacts",
        help=_(
            "Import contacts from a CSV file (`,` or `;`; UTF-8 or windows-1251), streamed in "
            "batches; a contact whose phone exists is updated. Rejected rows are listed at the "
            "end."
        ),
    )(import_contacts)
    app.command(
        "jobs",
        help=_(
            "The account's mailing lists with their progress (waiting / sent / delivered / failed)."
        ),
    )(jobs)
    app.command(
        "doctor",
        help=_(
            "Check the settings, the store (reachable, migrated) and every upstream (SMPP: "
            "connect and bind; SMTP: connect and greeting). Exit code 1 if anything fails."
        ),
    )(doctor)
