"""Logs keep recipients' numbers, addresses and message texts out by default: a structlog
processor masks the values of the keys that carry them (`log_unmasked = true` switches it
off, for debugging on a machine where logs are as private as the database)."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

# Keys whose values are phone numbers or e-mail addresses, and keys whose values are texts.
ADDRESS_KEYS = frozenset(
    {"phone", "phones", "address", "addresses", "source", "destination", "recipient", "to"}
)
TEXT_KEYS = frozenset({"text", "mes", "body", "subject", "message_text", "short_message"})


def mask_address(value: str) -> str:
    """`79161234567` → `7916123****`; `anna@example.org` → `a***@example.org`."""
    if "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    return value[:-4] + "****" if len(value) > 4 else "****"


def mask_value(key: str, value: Any) -> Any:
    if key in TEXT_KEYS:
        return f"<{len(str(value))} characters>"
    if key in ADDRESS_KEYS:
        if isinstance(value, list | tuple):
            return [mask_address(str(item)) for item in value]
        return ",".join(mask_address(part) for part in str(value).split(","))
    return value


def masking_processor(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in event.keys() & (ADDRESS_KEYS | TEXT_KEYS):
        event[key] = mask_value(key, event[key])
    return event
