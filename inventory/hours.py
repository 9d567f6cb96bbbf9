"""Opening hours as people write them ("ma-vr 08:00-16:00; za 09:00-12:00") and as the
resource form shows them (one line per weekday: "08:00-12:00, 13:00-16:30"). Wall times in
Europe/Brussels; 0 is Monday."""

from __future__ import annotations

import re
from datetime import time
from itertools import pairwise

from core.i18n import gettext as _

DAY_NAMES = {
    "ma": 0, "maa": 0, "maandag": 0, "mo": 0, "mon": 0, "monday": 0,
    "di": 1, "din": 1, "dinsdag": 1, "tu": 1, "tue": 1, "tuesday": 1,
    "wo": 2, "woe": 2, "woensdag": 2, "we": 2, "wed": 2, "wednesday": 2,
    "do": 3, "don": 3, "donderdag": 3, "th": 3, "thu": 3, "thursday": 3,
    "vr": 4, "vri": 4, "vrijdag": 4, "fr": 4, "fri": 4, "friday": 4,
    "za": 5, "zat": 5, "zaterdag": 5, "sa": 5, "sat": 5, "saturday": 5,
    "zo": 6, "zon": 6, "zondag": 6, "su": 6, "sun": 6, "sunday": 6,
}
SHORT_NL = ["ma", "di", "wo", "do", "vr", "za", "zo"]
INTERVAL_RE = re.compile(r"^\s*(\d{1,2})[:.u]?(\d{2})\s*-\s*(\d{1,2})[:.u]?(\d{2})\s*$")

Interval = tuple[time, time]


class HoursError(ValueError):
    """A line of opening hours that cannot be read; the message says why, in the language of
    the moment."""


def parse_intervals(text: str) -> list[Interval]:
    """'08:00-12:00, 13:00-16:30' -> [(08:00, 12:00), (13:00, 16:30)]; '' -> []."""
    intervals: list[Interval] = []
    for part in filter(None, (p.strip() for p in (text or "").replace(";", ",").split(","))):
        match = INTERVAL_RE.match(part)
        if not match:
            raise HoursError(_("%(text)s is not a time span; write it as 08:00-16:00.", text=part))
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h2 == 24 and m2 == 0:
            h2, m2 = 23, 59
        if not (0 <= h1 < 24 and 0 <= m1 < 60 and 0 <= h2 < 24 and 0 <= m2 < 60):
            raise HoursError(_("%(text)s has a time that does not exist.", text=part))
        opens, closes = time(h1, m1), time(h2, m2)
        if opens >= closes:
            raise HoursError(_("In %(text)s the end comes before the start.", text=part))
        intervals.append((opens, closes))
    intervals.sort()
    for (_a, end), (start, _b) in pairwise(intervals):
        if start < end:
            raise HoursError(_("The time spans %(text)s overlap.", text=text))
    return intervals


def parse_week(text: str) -> dict[int, list[Interval]]:
    """'ma-vr 08:00-16:00; za 09:00-12:00' -> {0: [...], ..., 5: [...]} (days left out are closed)."""
    week: dict[int, list[Interval]] = {}
    for chunk in filter(None, (c.strip() for c in (text or "").split(";"))):
        days_part, _sep, hours_part = chunk.partition(" ")
        days = _parse_days(days_part.strip().lower().rstrip(":"))
        if days is None or not hours_part.strip():
            raise HoursError(_("%(text)s: write a day and hours, like 'ma-vr 08:00-16:00'.", text=chunk))
        intervals = parse_intervals(hours_part)
        for day in days:
            week[day] = sorted(week.get(day, []) + intervals)
            parse_intervals(format_intervals(week[day]))  # overlaps between chunks
    return week


def _parse_days(text: str) -> list[int] | None:
    result: list[int] = []
    for piece in text.split(","):
        if "-" in piece:
            first, _sep, last = piece.partition("-")
            if first not in DAY_NAMES or last not in DAY_NAMES:
                return None
            a, b = DAY_NAMES[first], DAY_NAMES[last]
            if b < a:
                return None
            result.extend(range(a, b + 1))
        elif piece in DAY_NAMES:
            result.append(DAY_NAMES[piece])
        else:
            return None
    return result


def format_intervals(intervals: list[Interval]) -> str:
    return ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in intervals)


def format_week(week: dict[int, list[Interval]]) -> str:
    """The inverse of parse_week, with runs of equal days joined: 'ma-vr 08:00-16:00'."""
    parts = []
    day = 0
    while day < 7:
        if not week.get(day):
            day += 1
            continue
        end = day
        while end + 1 < 7 and week.get(end + 1) == week[day]:
            end += 1
        label = SHORT_NL[day] if end == day else f"{SHORT_NL[day]}-{SHORT_NL[end]}"
        parts.append(f"{label} {format_intervals(week[day])}")
        day = end + 1
    return "; ".join(parts)
