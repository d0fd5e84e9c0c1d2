"""Which upstream a message goes through: the rule lives in tidings.domain.routing (the store
queues send.php messages by it too); the dispatcher's modules keep importing it from here."""

from __future__ import annotations

from tidings.domain.routing import VIRTUAL, Routes

__all__ = ["VIRTUAL", "Routes"]
