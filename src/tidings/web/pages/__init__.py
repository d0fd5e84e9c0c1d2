"""The cabinet's pages, one module each, exporting `PAGE` (menu entries and routes).

A new page module is added to PAGES; its templates go under `templates/<module>/`.
"""

from __future__ import annotations

from tidings.web.cabinet import PageModule
from tidings.web.pages import (
    account,
    admin,
    admin_audit,
    admin_blocks,
    admin_inbound,
    admin_senders,
    admin_smpp,
    auth,
    blacklist,
    contacts,
    dashboard,
    history,
    inbox,
    language,
    lists,
    send,
    templates,
)

PAGES: tuple[PageModule, ...] = (
    auth.PAGE,
    dashboard.PAGE,
    send.PAGE,
    lists.PAGE,
    history.PAGE,
    contacts.PAGE,
    blacklist.PAGE,
    templates.PAGE,
    inbox.PAGE,
    account.PAGE,
    language.PAGE,
    admin.PAGE,
    admin_senders.PAGE,
    admin_blocks.PAGE,
    admin_inbound.PAGE,
    admin_smpp.PAGE,
    admin_audit.PAGE,
)
