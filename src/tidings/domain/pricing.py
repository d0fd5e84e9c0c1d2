"""Tariffs: what one message costs. The same module prices a preview (`cost=1`) and a charge."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tidings.domain.money import to_minor
from tidings.domain.phones import region_of
from tidings.errors import InvalidParameter


@dataclass(frozen=True)
class Tariff:
    """Prices in minor units per SMS part; e-mail per message.

    `prefix_prices` maps leading digits of the E.164 number (e.g. "7916") to a price and wins
    over the country price (the longest matching prefix) — the operator price table.
    """

    currency: str
    default_price_minor: int
    email_price_minor: int
    country_prices: Mapping[str, int] = field(default_factory=dict)
    prefix_prices: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        lengths = sorted({len(p) for p in self.prefix_prices}, reverse=True)
        object.__setattr__(self, "_prefix_lengths", tuple(lengths))

    def sms_part_price(self, phone: str) -> int:
        for length in self._prefix_lengths:  # type: ignore[attr-defined]
            price = self.prefix_prices.get(phone[:length])
            if price is not None:
                return price
        region = region_of(phone)
        if region is not None and region in self.country_prices:
            return self.country_prices[region]
        return self.default_price_minor

    def sms_cost(self, phone: str, parts: int) -> int:
        return self.sms_part_price(phone) * parts

    def email_cost(self) -> int:
        return self.email_price_minor


# ---- tariffs kept in the store (the operator's admin pages) ---------------------------------

MAX_TARIFF_NAME = 64  # tariffs.name


@dataclass(frozen=True)
class TariffRecord:
    """A stored tariff, by name, with how many accounts pay by it."""

    id: int
    name: str
    tariff: Tariff
    accounts: int


def tariff_name(raw: str | None) -> str:
    name = (raw or "").strip()
    if not name:
        raise InvalidParameter("%(field)s: required", field="name")
    if len(name) > MAX_TARIFF_NAME:
        raise InvalidParameter(
            "%(field)s: at most %(n)s characters", field="name", n=MAX_TARIFF_NAME
        )
    return name


def country_code(raw: str | None) -> str:
    """A two-letter ISO 3166 region code, upper case ("ru" → "RU")."""
    code = (raw or "").strip().upper()
    if len(code) != 2 or not (code.isascii() and code.isalpha()):
        raise InvalidParameter("country: a two-letter code such as RU")
    return code


def price(raw: str | None, param: str) -> int:
    """A price in minor units from a decimal string; never negative."""
    if not (raw or "").strip():
        raise InvalidParameter("%(field)s: required", field=param)
    try:
        minor = to_minor(raw or "")
    except InvalidParameter as exc:
        raise InvalidParameter("%(field)s: not an amount", field=param) from exc
    if minor < 0:
        raise InvalidParameter("%(field)s: must not be negative", field=param)
    return minor
