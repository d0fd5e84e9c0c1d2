"""Message templates of an account (templates.php, the cabinet, `tidings templates`)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from tidings.domain.clock import to_ts
from tidings.domain.templates import Template, TemplateValues
from tidings.store.db import Database, Tx
from tidings.store.sql import marks

_COLUMNS = "id, name, text, format, sender, signature"


def _template(row: tuple[Any, ...]) -> Template:
    return Template(int(row[0]), row[1], row[2], row[3], row[4], bool(row[5]))


class TemplateQueries:
    """The `Store`'s template statements; every one is scoped to its account."""

    db: Database

    def templates(self, account_id: int) -> list[Template]:
        with self.db.tx(write=False) as tx:
            rows = tx.all(
                f"SELECT {_COLUMNS} FROM templates WHERE account_id = ? ORDER BY id",
                (account_id,),
            )
        return [_template(r) for r in rows]

    def template(self, account_id: int, template_id: int) -> Template | None:
        with self.db.tx(write=False) as tx:
            row = tx.one(
                f"SELECT {_COLUMNS} FROM templates WHERE id = ? AND account_id = ?",
                (template_id, account_id),
            )
        return None if row is None else _template(row)

    def signature_template(self, account_id: int) -> Template | None:
        with self.db.tx(write=False, snapshot=False) as tx:
            row = tx.one(
                f"SELECT {_COLUMNS} FROM templates WHERE account_id = ? AND signature = ? "
                "ORDER BY id LIMIT 1",
                (account_id, True),
            )
        return None if row is None else _template(row)

    def signature_templates(self, account_ids: Collection[int]) -> dict[int, Template]:
        """Each account's auto-signature (its first, should there be more), in one query."""
        if not account_ids:
            return {}
        ids = sorted(account_ids)
        with self.db.tx(write=False, snapshot=False) as tx:
            rows = tx.all(
                f"SELECT account_id, {_COLUMNS} FROM templates WHERE signature = ? "
                f"AND account_id IN ({marks(ids)}) ORDER BY account_id, id",
                (True, *ids),
            )
        found: dict[int, Template] = {}
        for row in rows:
            found.setdefault(int(row[0]), _template(row[1:]))
        return found

    def add_template(self, account_id: int, values: TemplateValues, now: datetime) -> int:
        with self.db.tx() as tx:
            row = tx.one(
                "INSERT INTO templates (account_id, name, text, format, sender, signature, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (account_id, *_values(values), to_ts(now)),
            )
            assert row is not None
            template_id = int(row[0])
            if values.signature:
                _only_signature(tx, account_id, template_id)
        return template_id

    def change_template(
        self, account_id: int, template_id: int, values: TemplateValues, now: datetime
    ) -> bool:
        with self.db.tx() as tx:
            changed = tx.execute(
                "UPDATE templates SET name = ?, text = ?, format = ?, sender = ?, "
                "signature = ?, changed_at = ? WHERE id = ? AND account_id = ?",
                (*_values(values), to_ts(now), template_id, account_id),
            )
            if changed == 1 and values.signature:
                _only_signature(tx, account_id, template_id)
        return changed == 1

    def delete_template(self, account_id: int, template_id: int) -> bool:
        with self.db.tx() as tx:
            deleted = tx.execute(
                "DELETE FROM templates WHERE id = ? AND account_id = ?", (template_id, account_id)
            )
        return deleted == 1


def _values(values: TemplateValues) -> tuple[str, str, str, str, bool]:
    return (values.name, values.text, values.format, values.sender, values.signature)


def _only_signature(tx: Tx, account_id: int, template_id: int) -> None:
    """An account has one auto-signature: the newest one set."""
    tx.execute(
        "UPDATE templates SET signature = ? WHERE account_id = ? AND id <> ? AND signature = ?",
        (False, account_id, template_id, True),
    )
