"""Euro as people type it, to integer cents (every amount in Werkbank is integer euro cents)."""

from __future__ import annotations

import re
from decimal import Decimal, DecimalException

from babel.numbers import NumberFormatError, parse_decimal

MAX_MONEY_CENTS = 100_000_000  # EUR 1,000,000
AMBIGUOUS = re.compile(r"\d{1,3}(\.\d{3})+")  # '1.210': thousands to a Dutch eye, 1,21 to a spreadsheet
NUMBER = re.compile(r"[0-9.,]+")


def parse_euro(text: str | None, *, most: int = MAX_MONEY_CENTS) -> int | None:
    """'12,50', '1.234,50', '€ 40', '12.5' -> cents; '' -> 0; None for anything else: negative,
    more than `most` cents, fractions of a cent, exponents, and a lone '1.210' (a Dutch typist
    means twelve hundred and ten, a spreadsheet one euro twenty-one: it must be written '1210' or
    '1,21')."""
    raw = (text or "").replace("€", "").replace("\u00a0", "").replace(" ", "").strip()
    if raw == "":
        return 0
    if not NUMBER.fullmatch(raw) or AMBIGUOUS.fullmatch(raw):
        return None
    try:
        amount = parse_decimal(raw, locale="nl_BE", strict=True) if "," in raw else Decimal(raw)
    except (NumberFormatError, DecimalException, ValueError):
        return None
    if not amount.is_finite() or amount < 0 or amount * 100 > most:
        return None
    cents = int((amount * 100).to_integral_value())
    return cents if amount * 100 == cents else None


def euro_input(cents: int | None) -> str:
    """Cents as a form field shows them for editing: 18500 -> '185,00'; nothing for 0."""
    return "" if not cents else f"{cents // 100},{cents % 100:02d}"
