"""Tariffs: stored price lists with their country prices, and which one an account pays by
(none: the default tariff from the settings)."""

from __future__ import annotations

from tidings.domain.accounts import Account
from tidings.domain.pricing import Tariff, TariffRecord
from tidings.errors import NotFound, RecordError
from tidings.store.db import Database


class TariffQueries:
    """The `Store`'s queries of tariffs and tariff_prices."""

    db: Database
    _default_tariff: Tariff

    def tariff_for(self, account: Account) -> Tariff:
        return self.tariff_by_id(account.tariff_id)

    def tariff_by_id(self, tariff_id: int | None) -> Tariff:
        """An account's tariff (None: the default tariff from the settings)."""
        if tariff_id is None:
            return self._default_tariff
        with self.db.tx(write=False) as tx:
            head = tx.one(
                "SELECT currency, default_price_minor, email_price_minor FROM tariffs WHERE id = ?",
                (tariff_id,),
            )
            prices = tx.all(
                "SELECT country, prefix, price_minor FROM tariff_prices WHERE tariff_id = ?",
                (tariff_id,),
            )
        if head is None:
            return self._default_tariff
        return Tariff(
            currency=head[0],
            default_price_minor=int(head[1]),
            email_price_minor=int(head[2]),
            country_prices={c: int(p) for c, prefix, p in prices if not prefix},
            prefix_prices={prefix: int(p) for _c, prefix, p in prices if prefix},
        )

    @property
    def default_tariff(self) -> Tariff:
        """The tariff of accounts without one of their own (the settings' `[tariff]`)."""
        return self._default_tariff

    def tariffs(self) -> list[TariffRecord]:
        """Every stored tariff with its country prices, by name."""
        with self.db.tx(write=False) as tx:
            heads = tx.all(
                "SELECT t.id, t.name, t.currency, t.default_price_minor, t.email_price_minor, "
                "(SELECT COUNT(*) FROM accounts a WHERE a.tariff_id = t.id) "
                "FROM tariffs t ORDER BY t.name"
            )
            prices = tx.all(
                "SELECT tariff_id, country, prefix, price_minor FROM tariff_prices "
                "ORDER BY country, prefix"
            )
        countries: dict[int, dict[str, int]] = {}
        prefixes: dict[int, dict[str, int]] = {}
        for tariff_id, country, prefix, price_minor in prices:
            into = prefixes if prefix else countries
            into.setdefault(int(tariff_id), {})[prefix or country] = int(price_minor)
        return [
            TariffRecord(
                id=int(h[0]),
                name=h[1],
                tariff=Tariff(
                    currency=h[2],
                    default_price_minor=int(h[3]),
                    email_price_minor=int(h[4]),
                    country_prices=countries.get(int(h[0]), {}),
                    prefix_prices=prefixes.get(int(h[0]), {}),
                ),
                accounts=int(h[5]),
            )
            for h in heads
        ]

    def create_tariff(self, name: str, tariff: Tariff) -> int:
        with self.db.tx() as tx:
            if tx.one("SELECT 1 FROM tariffs WHERE name = ?", (name,)):
                raise RecordError("tariff %(name)r exists", name=name)
            row = tx.one(
                "INSERT INTO tariffs (name, currency, default_price_minor, email_price_minor) "
                "VALUES (?, ?, ?, ?) RETURNING id",
                (name, tariff.currency, tariff.default_price_minor, tariff.email_price_minor),
            )
            assert row is not None
            tx.execute_many(
                "INSERT INTO tariff_prices (tariff_id, country, prefix, price_minor) "
                "VALUES (?, ?, ?, ?)",
                [(row[0], c, "", p) for c, p in tariff.country_prices.items()],
            )
        return int(row[0])

    def change_tariff(
        self, tariff_id: int, *, default_price_minor: int, email_price_minor: int
    ) -> None:
        with self.db.tx() as tx:
            changed = tx.execute(
                "UPDATE tariffs SET default_price_minor = ?, email_price_minor = ? WHERE id = ?",
                (default_price_minor, email_price_minor, tariff_id),
            )
        if changed == 0:
            raise NotFound("tariff not found")

    def set_country_price(self, tariff_id: int, country: str, price_minor: int | None) -> None:
        """Price one country under the tariff; None removes the country's own price."""
        with self.db.tx() as tx:
            if not tx.one("SELECT 1 FROM tariffs WHERE id = ?", (tariff_id,)):
                raise NotFound("tariff not found")
            if price_minor is None:
                tx.execute(
                    "DELETE FROM tariff_prices WHERE tariff_id = ? AND country = ? AND prefix = ''",
                    (tariff_id, country),
                )
            else:
                tx.execute(
                    "INSERT INTO tariff_prices (tariff_id, country, prefix, price_minor) "
                    "VALUES (?, ?, '', ?) ON CONFLICT (tariff_id, country, prefix) "
                    "DO UPDATE SET price_minor = excluded.price_minor",
                    (tariff_id, country, price_minor),
                )

    def set_account_tariff(self, account_id: int, tariff_id: int | None) -> None:
        """The account pays by the tariff from now on (None: the default tariff)."""
        with self.db.tx() as tx:
            if tariff_id is not None and not tx.one(
                "SELECT 1 FROM tariffs WHERE id = ?", (tariff_id,)
            ):
                raise NotFound("tariff not found")
            changed = tx.execute(
                "UPDATE accounts SET tariff_id = ? WHERE id = ?", (tariff_id, account_id)
            )
        if changed == 0:
            raise NotFound("account not found")
