"""The demo account an empty store gets at `tidings serve`'s first start, and the reminder of
it at later starts (its password is printed once)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from rich.console import Console
from rich.markup import escape

from tidings.cli.i18n import _
from tidings.config import Settings
from tidings.domain.admin import AdminService
from tidings.domain.audit import CLI
from tidings.errors import NotFound

console = Console()
DEMO_LOGIN = "demo"


def _now() -> datetime:
    return datetime.now(UTC)


def ensure_demo_account(admin: AdminService, settings: Settings) -> None:
    if admin.count_accounts() > 0:
        remind_of_demo_account(admin)
        return
    password = secrets.token_urlsafe(9)
    account = admin.create_account(DEMO_LOGIN, password, "0", _now(), CLI, test_mode=True)
    admin.move_money(account.id, "1000", "credit", "demo balance", _now(), CLI)
    base = f"http://{settings.host}:{settings.port}"
    title = _("Demo account created (test mode: nothing leaves this machine)")
    credentials = _(
        "  login:    %(login)s\n  password: %(password)s", login=DEMO_LOGIN, password=password
    )
    then = _("Create a mailing list, then list them:")
    query = f"login={DEMO_LOGIN}&psw={password}"
    console.print(
        f"\n[bold green]{escape(title)}[/]\n{escape(credentials)}\n\n"
        f"{escape(then)}\n"
        f"  curl '{base}/sys/jobs.php?{query}&add=1&name=Hello"
        "&phones=79161234567,79161234568&mes=Hello+from+Tidings&fmt=3'\n"
        f"  curl '{base}/sys/jobs.php?{query}&get_all=1&fmt=3'\n",
        highlight=False,
        soft_wrap=True,
    )


def remind_of_demo_account(admin: AdminService) -> None:
    """A later start: the demo account's password was printed once, at the first."""
    try:
        admin.account_by_login(DEMO_LOGIN)
    except NotFound:
        return
    console.print(
        escape(
            _(
                "Demo account: login %(login)s, the password printed at the first start "
                "(a new one: tidings accounts password %(login)s --password …)",
                login=DEMO_LOGIN,
            )
        ),
        highlight=False,
        soft_wrap=True,
    )
