"""Translations (gettext catalogs in locale/, Babel) and nl-BE formatting of dates and money.

The current language lives in a context variable that the web middleware sets per request;
mails switch it with `use_language(...)` to render in the recipient's language."""

from __future__ import annotations

import contextlib
import functools
from contextvars import ContextVar
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as _format_date
from babel.dates import format_datetime as _format_datetime
from babel.numbers import format_currency
from babel.support import LazyProxy, Translations

LANGUAGES = {"nl": "nl_BE", "en": "en_GB"}
DEFAULT_LANGUAGE = "nl"
BRUSSELS = ZoneInfo("Europe/Brussels")
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

_language: ContextVar[str] = ContextVar("werkbank_language", default=DEFAULT_LANGUAGE)


def normalise_language(value: str | None) -> str:
    value = (value or "").strip().lower()[:2]
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def get_language() -> str:
    return _language.get()


def set_language(language: str):
    return _language.set(normalise_language(language))


@contextlib.contextmanager
def use_language(language: str | None):
    token = set_language(language or DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _language.reset(token)


@functools.lru_cache(maxsize=None)
def translations(language: str) -> Translations:
    return Translations.load(str(LOCALE_DIR), [LANGUAGES[language], language], domain="messages")


def gettext(message: str, **variables) -> str:
    text = translations(get_language()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables) -> str:
    text = translations(get_language()).ngettext(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


_ = gettext


def lazy_gettext(message: str, **variables) -> LazyProxy:
    """For module-level texts: translated when shown, in the language of that moment."""
    return LazyProxy(gettext, message, enable_cache=False, **variables)


def babel_locale() -> Locale:
    return Locale.parse(LANGUAGES[get_language()])


def local(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        raise ValueError("naive datetime: Werkbank stores and shows aware times only")
    return dt.astimezone(BRUSSELS)


def format_datetime(dt: datetime | None, format: str = "medium") -> str:
    if dt is None:
        return ""
    return _format_datetime(local(dt), format=format, tzinfo=BRUSSELS, locale=babel_locale())


def format_date(d: date | datetime | None, format: str = "long") -> str:
    if d is None:
        return ""
    if isinstance(d, datetime):
        d = local(d).date()
    return _format_date(d, format=format, locale=babel_locale())


def format_time(dt: datetime | None) -> str:
    """'08:30' in Brussels time."""
    return "" if dt is None else local(dt).strftime("%H:%M")


def format_km(value: float | None) -> str:
    from babel.numbers import format_decimal

    return "" if value is None else f"{format_decimal(value, format='#,##0.0', locale=babel_locale())} km"


def format_money(cents: int | None) -> str:
    """Integer euro cents as nl-BE money: 123456 -> '€ 1.234,56'."""
    if cents is None:
        return ""
    return format_currency(cents / 100, "EUR", locale=babel_locale())


def to_local_date_parts(start: datetime, end: datetime):
    """[start, end) in Brussels wall time, cut at midnights: (date, weekday, from, to) per day;
    a part that runs to midnight ends at 23:59:59."""
    from datetime import time as _time
    from datetime import timedelta as _timedelta

    a, b = local(start), local(end)
    day = a.date()
    while True:
        day_start = a.time() if day == a.date() else _time(0, 0)
        if day == b.date():
            if b.time() > day_start or day == a.date():
                yield day, day.weekday(), day_start, b.time()
            return
        yield day, day.weekday(), day_start, _time(23, 59, 59)
        day = day + _timedelta(days=1)


def format_duration(minutes: int | None) -> str:
    """Minutes as people say them: 90 -> "1 u 30 min", 480 -> "8 uur", 2400 -> "40 uur",
    2880 -> "2 dagen" (whole days only from two days on)."""
    minutes = int(minutes or 0)
    if minutes >= 2880 and minutes % 1440 == 0:
        return ngettext("%(num)s day", "%(num)s days", minutes // 1440)
    hours, rest = divmod(minutes, 60)
    if not hours:
        return gettext("%(n)s min", n=rest)
    if not rest:
        return ngettext("%(num)s hour", "%(num)s hours", hours)
    return gettext("%(h)s h %(m)s min", h=hours, m=rest)
