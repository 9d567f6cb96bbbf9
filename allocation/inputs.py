"""What a round and a registration are made of, read from a form or a JSON body and checked
field by field, with a Dutch message per field (ValidationFailed). Only the shape and ranges are
checked here; what depends on the database (resources, the actor, the window) is the services'."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from core.errors import ValidationFailed
from core.i18n import gettext as _
from core.inputs import check_text

MAX_NAME = 200
MAX_NOTE = 2000
MAX_GROUP = 80
MAX_PERIOD_DAYS = 366
MAX_RESOURCES = 200
MAX_DAYS = 200
MAX_PREFERENCE = 99
FIRST_YEAR, LAST_YEAR = 2000, 2100  # dates outside these are typing errors (and year 9999 overflows)
WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$")


class _Fields:
    """Collects one message per field while reading a mapping of raw values."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.errors: dict[str, str] = {}

    def has(self, name: str) -> bool:
        value = self.raw.get(name)
        return value is not None and value != "" and value != []

    def text(self, name: str, *, required: bool = False, limit: int = MAX_NAME) -> str:
        value = self.raw.get(name)
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.errors[name] = _("Enter text.")
            return ""
        value = value.strip()
        try:
            check_text(value, name)
        except ValidationFailed as exc:
            self.errors[name] = str(exc)
            return ""
        if required and not value:
            self.errors[name] = _("Fill this in.")
        elif len(value) > limit:
            self.errors[name] = _("Use at most %(n)s characters.", n=limit)
        return value

    def day(self, name: str, *, required: bool = True) -> date | None:
        value = self.raw.get(name)
        if value in (None, ""):
            if required:
                self.errors[name] = _("Choose a date.")
            return None
        try:
            if not isinstance(value, str):
                raise ValueError
            day = date.fromisoformat(value.strip()[:10]) if len(value.strip()) == 10 else _bad_date()
        except ValueError:
            self.errors[name] = _("Enter a date as YYYY-MM-DD.")
            return None
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            self.errors[name] = _("Choose a date from %(first)s to %(last)s.", first=FIRST_YEAR, last=LAST_YEAR)
            return None
        return day

    def number(self, name: str, *, required: bool = False, low: int = 1, high: int = MAX_DAYS) -> int | None:
        value = self.raw.get(name)
        if value in (None, ""):
            if required:
                self.errors[name] = _("Fill in a number.")
            return None
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            self.errors[name] = _("Enter a whole number.")
            return None
        try:
            number = int(value.strip()) if isinstance(value, str) else value
        except ValueError:
            self.errors[name] = _("Enter a whole number.")
            return None
        if not low <= number <= high:
            self.errors[name] = _("Enter a number from %(low)s to %(high)s.", low=low, high=high)
            return None
        return number

    def numbers(self, name: str, *, low: int = 1, high: int = 2**31 - 1, limit: int = MAX_RESOURCES) -> list[int]:
        """A list of whole numbers: a JSON list, repeated form fields or one comma-separated text."""
        value = self.raw.get(name)
        items = _items(value)
        if len(items) > limit:
            self.errors[name] = _("Choose at most %(n)s.", n=limit)
            return []
        numbers = []
        for item in items:
            try:
                if isinstance(item, bool):
                    raise ValueError
                number = int(item.strip()) if isinstance(item, str) else int(item) if isinstance(item, int) else None
                if number is None:
                    raise ValueError
            except ValueError:
                self.errors[name] = _("Enter whole numbers, separated by commas.")
                return []
            if not low <= number <= high:
                self.errors[name] = _("Enter numbers from %(low)s to %(high)s.", low=low, high=high)
                return []
            if number not in numbers:
                numbers.append(number)
        return numbers

    def days(self, name: str) -> list[date]:
        items, found = _items(self.raw.get(name)), []
        if len(items) > MAX_PERIOD_DAYS:
            self.errors[name] = _("Choose at most %(n)s.", n=MAX_PERIOD_DAYS)
            return []
        for item in items:
            try:
                if not isinstance(item, str) or len(item.strip()) != 10:
                    raise ValueError
                day = date.fromisoformat(item.strip())
                if not FIRST_YEAR <= day.year <= LAST_YEAR:
                    raise ValueError
            except ValueError:
                self.errors[name] = _("Enter dates as YYYY-MM-DD, separated by commas.")
                return []
            if day not in found:
                found.append(day)
        return sorted(found)

    def weeks(self, name: str) -> list[str]:
        items, found = _items(self.raw.get(name)), []
        for item in items:
            match = WEEK.match(item.strip().upper()) if isinstance(item, str) else None
            week = None
            if match:
                try:
                    week = date.fromisocalendar(int(match[1]), int(match[2]), 1)
                    week = week if FIRST_YEAR <= week.year <= LAST_YEAR else None
                except ValueError:
                    week = None
            if week is None:
                self.errors[name] = _("Enter weeks as 2027-W03, separated by commas.")
                return []
            label = f"{match[1]}-W{int(match[2]):02d}"
            if label not in found:
                found.append(label)
        return sorted(found)

    def fail(self) -> None:
        if self.errors:
            raise ValidationFailed(_("Check the fields marked in red."), dict(self.errors), rule="input")


def _bad_date() -> date:
    raise ValueError


def _items(value: Any) -> list:
    if value in (None, ""):
        return []
    if isinstance(value, list):
        out = []
        for item in value:
            out += [part for part in item.split(",") if part.strip()] if isinstance(item, str) else [item]
        return out
    if isinstance(value, str):
        return [part for part in value.split(",") if part.strip()]
    return [value]


def week_of(day: date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_key(label: str) -> tuple[int, int]:
    match = WEEK.match(label)
    return int(match[1]), int(match[2])


@dataclass(frozen=True)
class RoundInput:
    name: str
    resource_ids: tuple[int, ...]
    registration_opens: date
    registration_closes: date
    period_start: date
    period_end: date
    announce_on: date
    note: str = ""
    excluded_days: tuple[date, ...] = ()
    eligible_programmes: tuple[int, ...] = ()
    eligible_years: tuple[int, ...] = ()
    max_days_per_school: int | None = None
    max_days_per_group: int | None = None
    max_days_per_resource: int | None = None
    resource_caps: tuple[tuple[int, int], ...] = ()  # (resource id, days per pupil group)
    organiser_id: int | None = None

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> RoundInput:
        f = _Fields(raw)
        name = f.text("name", required=True)
        note = f.text("note", limit=MAX_NOTE)
        resource_ids = f.numbers("resource_ids")
        if not resource_ids and "resource_ids" not in f.errors:
            f.errors["resource_ids"] = _("Choose at least one resource.")
        opens, closes = f.day("registration_opens"), f.day("registration_closes")
        start, end = f.day("period_start"), f.day("period_end")
        announce = f.day("announce_on")
        if opens and closes and closes < opens:
            f.errors["registration_closes"] = _("Registration must close on or after the day it opens.")
        if closes and start and start <= closes:
            f.errors["period_start"] = _("The days must start after registration closes.")
        if start and end:
            if end < start:
                f.errors["period_end"] = _("The period must end on or after its first day.")
            elif (end - start).days >= MAX_PERIOD_DAYS:
                f.errors["period_end"] = _("A round covers at most a year.")
        if announce and closes and announce < closes:
            f.errors["announce_on"] = _("Announce the allocation on or after the day registration closes.")
        elif announce and start and announce > start:
            f.errors["announce_on"] = _("Announce the allocation before the first day of the period.")
        excluded = f.days("excluded_days")
        if start and end and any(not start <= day <= end for day in excluded):
            f.errors["excluded_days"] = _("Days without allocation must lie in the period.")
        programmes = f.numbers("eligible_programmes")
        years = f.numbers("eligible_years", low=1, high=7, limit=7)
        caps = {key: f.number(key, high=MAX_PERIOD_DAYS) for key in
                ("max_days_per_school", "max_days_per_group", "max_days_per_resource")}
        resource_caps = _resource_caps(f, raw.get("resource_caps"), resource_ids)
        organiser = f.number("organiser_id", high=2**31 - 1)
        f.fail()
        return cls(name=name, resource_ids=tuple(resource_ids), registration_opens=opens, registration_closes=closes,
                   period_start=start, period_end=end, announce_on=announce, note=note, excluded_days=tuple(excluded),
                   eligible_programmes=tuple(programmes), eligible_years=tuple(sorted(years)),
                   resource_caps=resource_caps, organiser_id=organiser, **caps)


def _resource_caps(f: _Fields, value: Any, resource_ids: list[int]) -> tuple[tuple[int, int], ...]:
    """`{"12": 5}` (JSON) or form fields `cap_12=5`: days of that resource per pupil group."""
    found: dict[int, int] = {}
    pairs = list(value.items()) if isinstance(value, dict) else []
    if value not in (None, "", {}) and not isinstance(value, dict):
        f.errors["resource_caps"] = _("Give the caps per resource as an object: resource id to days.")
        return ()
    pairs += [(key[4:], raw) for key, raw in f.raw.items() if isinstance(key, str) and key.startswith("cap_")]
    for key, raw in pairs:
        if raw in (None, ""):
            continue
        probe = _Fields({"v": raw})
        days = probe.number("v", high=MAX_PERIOD_DAYS)
        try:
            resource_id = int(key)
        except (TypeError, ValueError):
            resource_id = None
        if probe.errors or resource_id not in resource_ids:
            f.errors["resource_caps"] = _("Give a cap from 1 to %(n)s days for resources of the round.",
                                          n=MAX_PERIOD_DAYS)
            return ()
        found[resource_id] = days
    return tuple(sorted(found.items()))


@dataclass(frozen=True)
class RegistrationInput:
    pupil_group: str
    days: int
    group_size: int
    resource_id: int | None = None
    category_id: int | None = None
    study_programme: int | None = None
    school_year: int | None = None
    weekdays: tuple[int, ...] = ()
    weeks: tuple[str, ...] = ()
    preference: int = 1
    note: str = ""

    @classmethod
    def parse(cls, raw: dict[str, Any], *, group_required: bool = True) -> RegistrationInput:
        """`group_required=False` (the API, whose promise names no group): a registration without
        a pupil group is a group of its own."""
        f = _Fields(raw)
        group = f.text("pupil_group", limit=MAX_GROUP)
        if group_required and not group and "pupil_group" not in f.errors:
            f.errors["pupil_group"] = _("Name the pupil group (for example 6 Elektromechanica).")
        resource = f.number("resource_id", high=2**31 - 1)
        category = f.number("category_id", high=2**31 - 1)
        if resource is None and category is None and not {"resource_id", "category_id"} & f.errors.keys():
            f.errors["resource_id"] = _("Choose a resource, or a category of the round.")
        days = f.number("days", required=True)
        size = f.number("group_size", required=True, high=500)
        programme = f.number("study_programme", high=2**31 - 1)
        year = f.number("school_year", high=7)
        weekdays = f.numbers("weekdays", low=0, high=4, limit=5)
        weeks = f.weeks("weeks")
        preference = f.number("preference", high=MAX_PREFERENCE) or 1
        note = f.text("note", limit=MAX_NOTE)
        f.fail()
        return cls(pupil_group=group, days=days, group_size=size, resource_id=resource,
                   category_id=None if resource is not None else category, study_programme=programme,
                   school_year=year, weekdays=tuple(sorted(weekdays)), weeks=tuple(weeks), preference=preference,
                   note=note)


def period_weeks(first: date, last: date) -> list[str]:
    """The ISO weeks of a period, as offered to choose from."""
    weeks, day = [], first - timedelta(days=first.weekday())
    while day <= last:
        weeks.append(week_of(day))
        day += timedelta(days=7)
    return weeks
