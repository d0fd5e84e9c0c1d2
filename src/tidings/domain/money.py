"""Money: integer minor units inside, decimal strings with two places at the edges."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from tidings.errors import InvalidParameter


def to_minor(amount: Decimal | str | int) -> int:
    try:
        value = Decimal(str(amount).strip().replace(",", "."))
    except InvalidOperation as exc:
        raise InvalidParameter("not an amount: %(amount)r", amount=amount) from exc
    if not value.is_finite():
        raise InvalidParameter("not an amount: %(amount)r", amount=amount)
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_money(minor: int) -> str:
    """`1234` → `"12.34"`, `-5` → `"-0.05"`."""
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    return f"{sign}{whole}.{cents:02d}"
