"""Money in CNY: ``Decimal`` with 2 places, and splits that lose no fen."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
#: one past the largest amount a ``Money`` column holds (NUMERIC(12, 2): ten
#: digits before the point); an amount typed into a form or a setting stays below it
AMOUNT_LIMIT = Decimal("10000000000")


def quantize(amount: Decimal | int | str) -> Decimal:
    """Round to fen, half up (the usual rule on Chinese receipts)."""
    if isinstance(amount, float):
        raise TypeError("money must be Decimal, not float")
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def parse(text: str) -> Decimal:
    """Parse user input such as ``1,234.5`` or ``¥30``; ValueError if not money."""
    cleaned = str(text).strip().replace(",", "").replace("，", "").lstrip("¥￥").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"not an amount: {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"not an amount: {text!r}")
    try:
        return quantize(value)
    except InvalidOperation:  # more digits than a Decimal holds, e.g. 1e400
        raise ValueError(f"not an amount: {text!r}") from None


def split(total: Decimal, weights: Sequence[Decimal | int | str]) -> list[Decimal]:
    """Split ``total`` by ``weights`` so the parts add up to ``total`` exactly.

    Each part is first rounded down to the fen; the fen left over go one each
    to the parts with the largest remainders (ties: earlier part first). Used
    for project bonuses (RES-8: manager 1.2, member 1.0).
    """
    total = quantize(total)
    weights = [Decimal(str(w)) for w in weights]
    if not weights:
        raise ValueError("split needs at least one weight")
    if any(w < 0 for w in weights) or sum(weights) == 0:
        raise ValueError("weights must be non-negative and not all zero")
    sign = -1 if total < 0 else 1
    fen = int(abs(total) * 100)
    weight_sum = sum(weights)
    exact = [Decimal(fen) * w / weight_sum for w in weights]
    parts = [int(x.to_integral_value(rounding=ROUND_DOWN)) for x in exact]
    left = fen - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[:left]:
        parts[i] += 1
    return [quantize(sign * Decimal(p) / 100) for p in parts]
