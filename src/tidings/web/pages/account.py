"""The account's own settings: API keys, allowed IPs, callback URL, balance and ledger,
sender names."""

from __future__ import annotations

from starlette.routing import BaseRoute

from tidings.web.cabinet import Cabinet, NavItem, PageModule

NAV: tuple[NavItem, ...] = ()


def routes(cabinet: Cabinet) -> list[BaseRoute]:
    return []


PAGE = PageModule(NAV, routes)
