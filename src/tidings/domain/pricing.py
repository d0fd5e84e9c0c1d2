"""Tariffs: what one message costs. The same module prices a preview (`cost=1`) and a charge."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tidings.domain.phones import region_of


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
