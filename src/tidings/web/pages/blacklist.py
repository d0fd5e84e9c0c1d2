"""The stop list: numbers and addresses that receive nothing (or only some kinds of
messages), as phones.php `add_black` / `del_black` / `get_black` keep it."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from tidings.domain import contacts as rules
from tidings.domain.contacts import BlacklistType
from tidings.errors import DomainError, NotFound
from tidings.web.cabinet import Cabinet, NavItem, PageModule, Visit
from tidings.web.i18n import N_

NAV = (NavItem(N_("Blacklist"), "/blacklist"),)
PAGE_SIZE = 100
KINDS = {
    BlacklistType.ALL: N_("every message"),
    BlacklistType.MAILINGS: N_("mailing lists only"),
    BlacklistType.SINGLE: N_("single messages only"),
}


def routes(cabinet: Cabinet) -> list[BaseRoute]:
    return [
        Route("/blacklist", cabinet.page(index), methods=["GET"]),
        Route("/blacklist", cabinet.action(add), methods=["POST"]),
        Route("/blacklist/delete", cabinet.action(delete), methods=["POST"]),
    ]


def _page(visit: Visit, error: str = "", values: dict[str, str] | None = None) -> Response:
    raw = visit.query.get("after", "").strip()
    after = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else 0
    entries = visit.services.stop_list.page(visit.account, after, PAGE_SIZE + 1)
    return visit.render(
        "blacklist/index.html",
        status_code=400 if error else 200,
        entries=entries[:PAGE_SIZE],
        next_after=entries[PAGE_SIZE - 1].id if len(entries) > PAGE_SIZE else None,
        after=after,
        kinds={int(k): visit.gettext(v) for k, v in KINDS.items()},
        error=error,
        values=values or {"phones": "", "mails": "", "type": "0"},
    )


def index(visit: Visit) -> Response:
    return _page(visit)


def add(visit: Visit) -> Response:
    values = {name: visit.field(name) for name in ("phones", "mails", "type")}
    try:
        addresses = rules.blacklist_addresses(
            values["phones"], values["mails"], visit.account.region
        )
        visit.services.stop_list.add(
            visit.account, addresses, rules.blacklist_type(values["type"]), visit.now
        )
    except DomainError as error:
        return _page(visit, visit.refusal(error), values)
    done = visit.ngettext(
        "%(num)s address stop-listed", "%(num)s addresses stop-listed", len(addresses)
    )
    return visit.redirect("/blacklist", done)


def delete(visit: Visit) -> Response:
    """Take one stop-listed address off (NotFound, a 404, when the account has no such one)."""
    address = visit.field("address").strip()
    if not address:
        raise NotFound("not in the blacklist")
    visit.services.stop_list.remove(visit.account, [address])
    return visit.redirect("/blacklist", visit.gettext("Taken off the blacklist"))


PAGE = PageModule(NAV, routes)
