"""How the report's figures read on the page: counts with nl-BE grouping, minutes as hours and
minutes, shares as percentages with one decimal, money as euro; nothing to divide by: a dash."""

from __future__ import annotations

from babel.numbers import format_decimal

from core.i18n import babel_locale, format_money
from core.i18n import gettext as _

DASH = "–"


def count(value: int | None) -> str:
    return DASH if value is None else format_decimal(value, format="#,##0", locale=babel_locale())


def hours(minutes: int | None) -> str:
    """1234 minutes -> '20 u 34 min'; 120 -> '2 u'; 0 -> '0 u' (hours grouped: '1.234 u')."""
    if minutes is None:
        return DASH
    sign = "-" if minutes < 0 else ""
    h, m = divmod(abs(int(minutes)), 60)
    whole = format_decimal(h, format="#,##0", locale=babel_locale())
    return sign + (_("%(h)s h", h=whole) if not m else _("%(h)s h %(m)s min", h=whole, m=m))


def percent(value: float | None) -> str:
    """12.5 -> '12,5 %'."""
    if value is None:
        return DASH
    return format_decimal(value, format="#,##0.0", locale=babel_locale()) + "\xa0%"


def money(cents: int | None) -> str:
    return DASH if cents is None else format_money(cents)
