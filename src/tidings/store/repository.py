"""The store the domain services use: `Store` is the sum of the table areas' query classes.

Where a query lives: every SQL statement is written once, in the store module of the table
area it mainly touches (the table it writes, or for a read the table it reads from), and is
called from wherever it is needed rather than copied. Accounts, API keys and the allowlist
are `accounts.py`; tariffs `tariffs.py`; the ledger and balances `ledger.py`; mailing lists
`jobs.py`; senders `senders.py`; templates `templates.py`; sign-in abuse `abuse.py`. The
sending engine's statements, in the caller's transaction, are `runs.py` (opening and ending
runs), `queue.py` (claims and leases), `outcomes.py` (results and final statuses), `receipts.py` and
`ledger.py` (charges, refunds); read models and the services' own stores are `messages.py`,
`contacts.py`, `reports.py`, `profile.py`, `operations.py`. `Store` itself holds no SQL: it
opens the database and composes the query classes.
"""

from __future__ import annotations

from tidings.domain.operations import UpstreamState
from tidings.domain.pricing import Tariff
from tidings.store import operations
from tidings.store.abuse import AbuseQueries
from tidings.store.accounts import AccountQueries
from tidings.store.db import Database
from tidings.store.jobs import JobQueries
from tidings.store.ledger import LedgerQueries
from tidings.store.senders import SenderQueries
from tidings.store.tariffs import TariffQueries
from tidings.store.templates import TemplateQueries


class Store(
    AccountQueries,
    LedgerQueries,
    TariffQueries,
    AbuseQueries,
    SenderQueries,
    TemplateQueries,
    JobQueries,
):
    def __init__(self, db: Database, default_tariff: Tariff) -> None:
        self.db = db
        self._default_tariff = default_tariff

    def close(self) -> None:
        self.db.close()

    def upstream_states(self) -> list[UpstreamState]:
        """Live state of every upstream as each dispatcher last reported it (every ~2 s)."""
        return operations.upstream_states(self.db)
