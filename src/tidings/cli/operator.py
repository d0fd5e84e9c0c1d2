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

from tidings.cli.options import ConfigOption, DbOption
from tidings.config import Settings, load_settings
from tidings.domain.accounts import Account
from tidings.domain.contact_import import read_contacts
from tidings.domain.lifecycle import JobStatus
from tidings.domain.operations import UpstreamState
from tidings.domain.services import Services
from tidings.errors import NotFound

console = Console()

JOB_STATUS: dict[int, str] = {
    JobStatus.WAITING: "waiting",
    JobStatus.SENDING: "sending",
    JobStatus.FINISHED: "finished",
    JobStatus.DISABLED: "disabled",
}


@contextmanager
def _services(db: str | None, config: str | None = None) -> Iterator[Services]:
    from tidings.app import opened_services

    with opened_services(load_settings(config, database_url=db)) as services:
        yield services


def _account(services: Services, login: str) -> Account:
    try:
        return services.admin.account_by_login(login)
    except NotFound:
        console.print(f"[red]no account {login!r}[/red]")
        raise typer.Exit(1) from None


def import_contacts(
    login: str,
    file: Annotated[Path, typer.Argument(help="CSV: phone[,name[,email[,group]]]", exists=True)],
    group: Annotated[
        list[int] | None, typer.Option("--group", help="Also put every contact in group N.")
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Import contacts from a CSV file (`,` or `;`; UTF-8 or windows-1251), streamed in
    batches; a contact whose phone exists is updated. Rejected rows are listed at the end."""
    with _services(db, config) as services:
        account = _account(services, login)
        contacts = services.contacts
        try:
            group_ids = contacts.group_ids_by_num(account, group or [])
        except NotFound as exc:
            console.print(f"[red]{login}: {exc.description}[/red]")
            raise typer.Exit(1) from exc
        size = max(file.stat().st_size, 1)
        with file.open("rb") as stream, _progress() as progress:
            task = progress.add_task("importing", total=size)
            report = contacts.import_contacts(
                account,
                read_contacts(stream, account.region),
                group_ids,
                datetime.now(UTC),
                lambda _rows: progress.update(task, completed=min(stream.tell(), size)),
            )
            progress.update(task, completed=size)
    console.print(
        f"{report.added} added, {report.updated} updated, {report.rejected_count} rejected"
    )
    if report.rejected:
        table = Table("line", "reason", title="rejected rows")
        for row in report.rejected:
            table.add_row(str(row.line), row.reason)
        console.print(table)
        if report.rejected_count > len(report.rejected):
            console.print(f"… and {report.rejected_count - len(report.rejected)} more")


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
    """The account's mailing lists with their progress (waiting / sent / delivered / failed)."""
    with _services(db) as services:
        progress = services.reports.job_progress(_account(services, login))
    table = Table(
        "id", "name", "status", "recipients", "waiting", "sent", "delivered", "failed", "progress"
    )
    for p in progress:
        share = p.done / p.total if p.total else 0.0
        bar = Table.grid(padding=(0, 1))
        bar.add_row(ProgressBar(total=max(p.total, 1), completed=p.done, width=20), f"{share:4.0%}")
        table.add_row(
            str(p.job_id),
            p.name,
            JOB_STATUS.get(p.status, str(p.status)),
            str(p.recipients),
            str(p.waiting),
            str(p.sent),
            str(p.delivered),
            str(p.failed),
            bar,
        )
    console.print(table)


def doctor(config: ConfigOption = None, db: DbOption = None) -> None:
    """Check the settings, the store (reachable, migrated) and every upstream (SMPP: connect
    and bind; SMTP: connect and greeting). Exit code 1 if anything fails."""
    from tidings.ops.doctor import run_checks

    checks = run_checks(lambda: load_settings(config, database_url=db))
    table = Table("check", "result", "detail")
    for check in checks:
        verdict = "[green]OK[/]" if check.ok else "[red]FAIL[/]"
        table.add_row(check.name, verdict, escape(check.detail))
    console.print(table)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


def live_state_table(states: list[UpstreamState]) -> Table:
    now = datetime.now(UTC)
    table = Table(
        "upstream",
        "worker",
        "bound",
        "in flight / window",
        "msg/s",
        "last error",
        "updated",
        title="live state (reported by the dispatchers)",
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
            ("yes" if s.bound else "[red]no[/]") + binds,
            f"{s.in_flight} / {s.window}",
            f"{s.rate:g}",
            error,
            f"{age} s ago" + (" [yellow](stale)[/]" if s.stale(now) else ""),
        )
    return table


def print_live_state(settings: Settings) -> None:
    from tidings.app import opened_services
    from tidings.ops.doctor import sqlite_file_missing

    missing = sqlite_file_missing(settings.database_url)
    if missing:
        console.print(f"live state unavailable: no database file {missing}")
        return
    try:
        with opened_services(settings, upgrade=False) as services:
            states = services.upstreams.states()
    except Exception as exc:
        console.print(f"live state unavailable: {type(exc).__name__}: {exc}")
        return
    if states:
        console.print(live_state_table(states))
    else:
        console.print("no dispatcher has reported yet")


def _drop_live_gauges() -> None:
    """At exit, multiprocess metrics: drop this process's live gauges. Only a process that
    loaded the metrics has any: importing them here would fix their mode before `serve` has
    chosen it (cli/serve_split.py)."""
    metrics = sys.modules.get("tidings.ops.metrics")
    if metrics is not None:
        metrics.process_exited()


def register(app: typer.Typer) -> None:
    atexit.register(_drop_live_gauges)
    app.command("import-contacts")(import_contacts)
    app.command("jobs")(jobs)
    app.command("doctor")(doctor)
