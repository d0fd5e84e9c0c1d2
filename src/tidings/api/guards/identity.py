"""The key of the duplicate guards: what makes two requests "the same"."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

# Credentials are not part of what makes two requests "the same" (jobs.md §2, error 9).
_NOT_IN_IDENTITY = frozenset({"login", "psw", "apikey"})


def request_identity(account_id: int, script: str, params: Mapping[str, str]) -> bytes:
    """What makes two requests "the same": the account, the script and every parameter but
    the credentials."""
    digest = hashlib.sha256(f"{account_id}\x00{script}".encode())
    for name in sorted(params):
        if name not in _NOT_IN_IDENTITY:
            digest.update(f"\x00{name}\x01{params[name]}".encode())
    return digest.digest()
