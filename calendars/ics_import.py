"""Owners' calendars in: the bytes of an iCalendar file become the busy spans of a time window.

Pure and synchronous: no database, no network. The fetcher (HTTP, CalDAV) hands over the body;
the import job stores the spans as busy blocks. Hostile input ends in a `CalendarError` with a
message for the owner, within `deadline_seconds` (plus at most a few seconds, see `_Budget`).

How a file is read:
1. A text pass keeps what decides busy time (VEVENT dates, rules, UID, STATUS, TRANSP) and drops
   the rest (descriptions, attendees, alarms, X- properties, to-dos). icalendar parses a line in
   about 0.2 ms: read whole, a 5 MB Outlook-like export took it 6 s here (20,000 short events:
   about 30 s), this way 1.5 s. Events clearly outside the window and Werkbank's own are dropped too.
2. icalendar parses what is left, without resolving TZIDs: its global timezone cache would let
   one owner's VTIMEZONE decide the times of another owner's calendar in the same worker.
3. TZIDs are resolved here, per file: IANA names, then Windows names as Outlook writes them
   (icalendar's table: "Romance Standard Time" -> Europe/Paris, "W. Europe Standard Time" ->
   Europe/Berlin, both the same rules as Brussels), then the file's own VTIMEZONE, else Brussels.
   X-WR-TIMEZONE (Google) goes through x-wr-timezone's `to_standard`; floating times are Brussels.
4. recurring-ical-events expands each series (RRULE, RDATE, EXDATE, RECURRENCE-ID), with its
   dateutil rules walked lazily and counted here (see `_Rules`), so an endless FREQ=SECONDLY rule
   stops at `max_occurrences`. Rules that make dateutil search for years without yielding
   (BYSETPOS on a daily or finer rule, day filters that never match) are refused beforehand.
"""

from __future__ import annotations

import logging
import re
import time as _time
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from io import StringIO

from babel.numbers import format_decimal
from dateutil.rrule import rrulestr
from dateutil.tz import tzical
from icalendar import Calendar
from icalendar.parser.ical.calendar import CalendarIcalParser
from icalendar.prop import vDDDLists, vDDDTypes, vRecur
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON
from recurring_ical_events import EventAdapter, Occurrence, Series
from recurring_ical_events.constants import NEGATIVE_RRULE_COUNT_REGEX
from recurring_ical_events.util import compare_greater, convert_to_datetime
from x_wr_timezone import to_standard

from core.i18n import BRUSSELS, babel_locale
from core.i18n import gettext as _

log = logging.getLogger(__name__)

UTC = timezone.utc
MAX_BYTES = 5_000_000
STEPS_PER_OCCURRENCE = 20  # rule candidates a series may walk (before the window too) per allowed occurrence
MAX_TIMEZONES = 100  # VTIMEZONE blocks looked at per file
MARGIN = timedelta(days=2)  # more than any UTC offset: the text pass may drop events outside window +- this

# Unfolding and line splitting as icalendar does them (icalendar.parser.content_line).
_UNFOLD = re.compile(r"(?:(?<!\n)\r\n|(?<![\r\n])\n)(?:\r?\n)*[ \t]")
_NEWLINE = re.compile(r"\r?\n")
_NAME = re.compile(r"[^;:]*")
_BEFORE_VALUE = re.compile(r'(?:[^":]|"[^"]*")*:')
_UNQUOTED_TZID = re.compile(r'(;TZID=)([^";]*:[^";]*)(?=;|$)', re.IGNORECASE)
_TEXT_DATE = re.compile(r"\s*(\d{4})(\d{2})(\d{2})")
_ORDINAL = re.compile(r"^[+-]?\d+")

_EVENT_PROPERTIES = frozenset({
    "UID", "DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID", "SEQUENCE",
    "STATUS", "TRANSP", "X-MICROSOFT-CDO-BUSYSTATUS", "SUMMARY", "CLASS",
})
_TIMEZONE_PROPERTIES = frozenset({"TZID", "DTSTART", "TZOFFSETFROM", "TZOFFSETTO", "TZNAME", "RRULE", "RDATE"})
_TIMEZONE_RULE_PARTS = frozenset({"FREQ", "INTERVAL", "BYMONTH", "BYDAY", "BYMONTHDAY", "UNTIL", "COUNT", "WKST"})
_FREQUENCIES = frozenset({"SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"})
_DAILY_OR_FINER = frozenset({"SECONDLY", "MINUTELY", "HOURLY", "DAILY"})
_DAY_FILTERS = ("BYMONTH", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYDAY", "BYEASTER")
_SINGLE_DATES = ("DTSTART", "DTEND", "RECURRENCE-ID")
_DATE_LISTS = ("RDATE", "EXDATE")


class CalendarError(Exception):
    """A calendar that cannot be used; str() is a message for the owner, in the language of the moment.
    `code` says which case it is, for the job and the tests."""

    def __init__(self, message: str, code: str):
        super().__init__(message, code)  # both in args: the error survives pickling (a worker process)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, order=True)
class BusySpan:
    """[start, end) in UTC, aware."""

    start: datetime
    end: datetime
    uid: str
    summary: str = ""  # the event's title, shown to the owner (empty for a private event)


def _number(n: int | float) -> str:
    return format_decimal(n, locale=babel_locale())


def _too_many_occurrences(n: int) -> CalendarError:
    return CalendarError(_("A recurring event has too many occurrences (more than %(n)s in the period).", n=_number(n)),
                         "too_many_occurrences")


def busy_spans(data: bytes, start: datetime, end: datetime, *, ignore_uid_prefix: str = "werkbank-booking-",
               max_occurrences: int = 10_000, max_events: int = 20_000, max_spans: int = 50_000,
               max_bytes: int = MAX_BYTES, deadline_seconds: float = 10.0) -> list[BusySpan]:
    """Every busy occurrence of every VEVENT in `data` that overlaps [start, end), clipped to it, in UTC, sorted.

    Free: TRANSP:TRANSPARENT, X-MICROSOFT-CDO-BUSYSTATUS:FREE, STATUS:CANCELLED (of the event, or of
    the one moved occurrence), UIDs that start with `ignore_uid_prefix` (empty: none), zero length.
    An event that cannot be read (bad date, end before start, unusable rule) is skipped; when no
    event at all can be read, or the file is not a whole iCalendar file, or a limit is passed
    (`max_bytes`, `max_events` VEVENTs in the file, `max_occurrences` per recurring event,
    `max_spans` in the window, `deadline_seconds`), `CalendarError` is raised. No other exception
    escapes for any `data`; a naive or empty window is a programming error (ValueError)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("busy_spans needs aware datetimes")
    if end <= start:
        raise ValueError("busy_spans needs start < end")
    budget = _Budget(deadline_seconds, max_occurrences)
    if len(data) > max_bytes:
        raise CalendarError(_("The calendar file is too large (more than %(mb)s MB).", mb=_number(max_bytes / 1_000_000)),
                            "too_large")
    try:
        return _busy_spans(bytes(data), start.astimezone(UTC), end.astimezone(UTC), ignore_uid_prefix,
                           max_events, max_spans, budget)
    except CalendarError:
        raise
    except Exception as exc:  # a parser bug or a case nobody foresaw: the owner still gets a message
        log.warning("calendar could not be read: %r", exc, exc_info=True)
        raise CalendarError(_("The calendar could not be read."), "unreadable") from exc


class _Budget:
    """Wall time for the whole file; rule steps and occurrences per series.

    Checked between rule candidates, components and series. One dateutil call between two
    candidates cannot be interrupted: the rules refused in `_rule_is_usable` keep that to about
    three seconds. dateutil makes some 150,000 candidates a second, so the step limit (20 per
    allowed occurrence: 200,000) ends a fast rule that started years before the window in about
    two seconds, while a daily rule since 1900 (46,000 steps) passes."""

    def __init__(self, deadline_seconds: float, max_occurrences: int):
        self.deadline_seconds = deadline_seconds
        self._deadline = _time.monotonic() + deadline_seconds
        self.max_occurrences = max_occurrences
        self.max_steps = max_occurrences * STEPS_PER_OCCURRENCE
        self.steps = self.occurrences = 0

    def check_time(self) -> None:
        if _time.monotonic() > self._deadline:
            raise CalendarError(_("Reading the calendar took too long (more than %(s)s seconds).",
                                  s=_number(self.deadline_seconds)), "too_slow")

    def new_series(self) -> None:
        self.steps = self.occurrences = 0
        self.check_time()

    def step(self) -> None:
        self.steps += 1
        if self.steps > self.max_steps:
            raise _too_many_occurrences(self.max_occurrences)
        if not self.steps % 512:
            self.check_time()

    def occurrence(self) -> None:
        self.occurrences += 1
        if self.occurrences > self.max_occurrences:
            raise _too_many_occurrences(self.max_occurrences)


def _busy_spans(data: bytes, start: datetime, end: datetime, ignore_uid_prefix: str, max_events: int, max_spans: int,
                budget: _Budget) -> list[BusySpan]:
    text = _decode(data)
    selection = _select(text, start, end, ignore_uid_prefix, max_events, budget)
    if not selection.events:
        return []
    calendar = _parse(selection.calendar_text(), budget)
    zones = _Zones(selection.timezones)
    calendar = _localize(calendar, zones)
    groups, broken = _group(calendar, budget)
    spans: list[BusySpan] = []
    low, high = start - timedelta(days=1), end + timedelta(days=1)  # all-day events are compared in UTC there
    for uid, adapters in groups.items():
        budget.new_series()
        try:
            found = _expand(adapters, budget, low, high, start, end)
        except CalendarError:
            raise
        except Exception as exc:  # one series recurring-ical-events or dateutil cannot handle
            log.info("skipped unreadable event %r: %r", uid, exc)
            broken += len(adapters)
            continue
        spans.extend(found)
        if len(spans) > max_spans:
            raise CalendarError(_("The calendar has too many appointments in the period (more than %(n)s).",
                                  n=_number(max_spans)), "too_many_spans")
    readable = selection.kept_without_parsing + len(selection.events) - broken
    if broken:
        log.info("skipped %d unreadable events of %d", broken, selection.seen)
    if readable <= 0:
        raise CalendarError(_("No event in the calendar could be read."), "no_readable_event")
    return sorted(spans)


# -- 1. the text pass -----------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:15].upper() != b"BEGIN:VCALENDAR":
        if head[:1] == b"<":
            raise CalendarError(_("The address returned a web page instead of a calendar. "
                                  "Use the link to the published calendar (ICS)."), "web_page")
        raise CalendarError(_("This is not an iCalendar file."), "not_icalendar")
    if b"\x00" in data:
        raise CalendarError(_("This is not an iCalendar file."), "not_icalendar")
    return data.decode("utf-8-sig", "replace")  # Outlook sometimes writes cp1252; only names would suffer


@dataclass
class _Selection:
    calendar_lines: list[str]
    events: list[list[str]]
    timezones: dict[str, list[str]]
    seen: int = 0
    kept_without_parsing: int = 0  # events dropped as outside the window or Werkbank's own: fine, not broken

    def calendar_text(self) -> str:
        lines = ["BEGIN:VCALENDAR", *self.calendar_lines]
        for event in self.events:
            lines.extend(event)
        lines.append("END:VCALENDAR")
        return "\r\n".join(lines) + "\r\n"


def _value(line: str) -> str:
    """The value of a content line: what follows the first colon outside quotes."""
    match = _BEFORE_VALUE.match(line)
    return line[match.end():] if match else ""


def _select(text: str, start: datetime, end: datetime, ignore_uid_prefix: str, max_events: int,
            budget: _Budget) -> _Selection:
    selection = _Selection([], [], {})
    stack: list[str] = []
    block: list[str] | None = None  # the VEVENT or VTIMEZONE being collected
    calendars = 0
    for number, line in enumerate(_NEWLINE.split(_UNFOLD.sub("", text))):
        if not number % 20_000:
            budget.check_time()
        if not line.strip():
            continue
        name = _NAME.match(line).group().strip().upper()
        if name in ("BEGIN", "END"):
            component = _value(line).strip().upper()
            if name == "BEGIN":
                stack.append(component)
                if len(stack) == 1 and component == "VCALENDAR":
                    calendars += 1
                elif len(stack) == 2 and stack[0] == "VCALENDAR" and component in ("VEVENT", "VTIMEZONE"):
                    block = [f"BEGIN:{component}"]
                    if component == "VEVENT":
                        selection.seen += 1
                        if selection.seen > max_events:
                            raise CalendarError(_("The calendar file has too many events (more than %(n)s).",
                                                  n=_number(max_events)), "too_many_events")
                elif len(stack) == 3 and stack[1] == "VTIMEZONE" and block is not None:
                    block.append(f"BEGIN:{component}")
                continue
            if component not in stack:
                continue  # an END without its BEGIN
            while stack.pop() != component:
                block = None if len(stack) < 2 else block  # a component left open inside: drop what it was in
            if len(stack) == 2 and stack[1] == "VTIMEZONE" and block is not None:
                block.append(f"END:{component}")
            elif len(stack) == 1 and block is not None and component in ("VEVENT", "VTIMEZONE"):
                block.append(f"END:{component}")
                if component == "VEVENT":
                    _keep_event(selection, block, start, end, ignore_uid_prefix)
                else:
                    _keep_timezone(selection, block)
                block = None
            continue
        if stack == ["VCALENDAR"]:
            if name == "X-WR-TIMEZONE" and not selection.calendar_lines:  # the first, when files were joined
                selection.calendar_lines.append(line)
        elif block is not None and len(stack) == 2 and stack[1] == "VEVENT":
            if name in _EVENT_PROPERTIES:
                block.append(_quote_tzid(line) if name in _SINGLE_DATES + _DATE_LISTS else line)
        elif block is not None and len(stack) in (2, 3) and stack[1] == "VTIMEZONE":
            if name in _TIMEZONE_PROPERTIES:
                block.append(line)
    if not calendars:
        raise CalendarError(_("This is not an iCalendar file."), "not_icalendar")
    if stack:
        raise CalendarError(_("The calendar file is incomplete: it stops before its end."), "incomplete")
    return selection


def _quote_tzid(line: str) -> str:
    """DTSTART;TZID=tzone://Microsoft/Utc:20261020T090000 (Outlook.com) -> TZID="tzone://Microsoft/Utc".
    A date value never holds a colon, so the last colon of a date line starts the value."""
    head, colon, value = line.rpartition(":")
    return _UNQUOTED_TZID.sub(lambda match: f'{match[1]}"{match[2]}"', head) + colon + value if colon else line


def _keep_event(selection: _Selection, block: list[str], start: datetime, end: datetime, ignore_uid_prefix: str) -> None:
    properties: dict[str, str] = {}
    for line in block[1:-1]:
        properties.setdefault(_NAME.match(line).group().strip().upper(), line)
    uid = _value(properties.get("UID", "")).strip()
    if ignore_uid_prefix and uid.startswith(ignore_uid_prefix):
        selection.kept_without_parsing += 1
        return
    if not {"RRULE", "RDATE", "RECURRENCE-ID", "DURATION"} & properties.keys():
        first = _text_date(properties.get("DTSTART"))
        last = _text_date(properties.get("DTEND")) or first  # without DTEND it lasts a day at most: within MARGIN
        if first and last and (first > (end + MARGIN).date() or last < (start - MARGIN).date()):
            selection.kept_without_parsing += 1
            return
    selection.events.append(block)


def _text_date(line: str | None) -> date | None:
    match = _TEXT_DATE.match(_value(line)) if line else None
    try:
        return date(int(match[1]), int(match[2]), int(match[3])) if match else None
    except ValueError:
        return None


def _keep_timezone(selection: _Selection, block: list[str]) -> None:
    tzid = next((_value(line) for line in block if _NAME.match(line).group().strip().upper() == "TZID"), "")
    tzid = _clean_tzid(tzid)
    if tzid and tzid not in selection.timezones and len(selection.timezones) < MAX_TIMEZONES:
        selection.timezones[tzid] = block


def _clean_tzid(tzid: str) -> str:
    return tzid.strip().strip('"').strip()


# -- 2. parsing -----------------------------------------------------------------------------------


class _Parser(CalendarIcalParser):
    """icalendar's parser without its process-wide timezone side effects: TZIDs are left unresolved
    (the values stay naive, the TZID parameter stays) and VTIMEZONE blocks are not cached."""

    def __init__(self, data: str, budget: _Budget):
        super().__init__(data, Calendar._get_component_factory(), Calendar.types_factory)
        self.budget = budget
        self.components_begun = 0

    def handle_begin_component(self, vals):
        self.components_begun += 1
        if not self.components_begun % 256:
            self.budget.check_time()
        super().handle_begin_component(vals)

    def parse_and_add_property(self, name, params, val, tzid, line):
        super().parse_and_add_property(name, params, val, None, line)

    def handle_end_component(self, vals):
        if not self._stack:
            raise ValueError("END encountered without an accompanying BEGIN!")
        component = self._stack.pop()
        if self._stack:
            self._stack[-1].add_component(component)
        else:
            self._components.append(component)


def _parse(text: str, budget: _Budget) -> Calendar:
    components = _Parser(text, budget).parse()
    if len(components) != 1 or not isinstance(components[0], Calendar):
        raise ValueError("the selected text is one VCALENDAR")
    return components[0]


# -- 3. time zones --------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _iana_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


_OTHER_NAMES = {"tzone://Microsoft/Utc": "UTC"}  # Outlook.com, beside its Windows names


@lru_cache(maxsize=512)
def _known_zone(tzid: str) -> tzinfo | None:
    """An IANA name, a Windows name, or a "globally unique" /vendor/.../Area/City TZID."""
    candidates = [tzid, WINDOWS_TO_OLSON.get(tzid, ""), _OTHER_NAMES.get(tzid, "")]
    if tzid.startswith("/"):
        parts = tzid.strip("/").split("/")
        candidates.extend("/".join(parts[i:]) for i in range(len(parts)))
    for name in candidates:
        if name in _iana_names():
            return zoneinfo.ZoneInfo(name)
    return None


class _Zones:
    """TZID -> tzinfo for one file: known names first, then the file's own VTIMEZONE, else Brussels."""

    def __init__(self, blocks: dict[str, list[str]]):
        self._blocks = blocks
        self._zones: dict[str, tzinfo] = {}

    def known(self, tzid: str) -> tzinfo | None:
        return _known_zone(_clean_tzid(tzid))

    def get(self, tzid: str) -> tzinfo:
        tzid = _clean_tzid(tzid)
        if tzid not in self._zones:
            zone = _known_zone(tzid) or _zone_from_block(self._blocks.get(tzid))
            if zone is None:
                log.info("unknown TZID %r, read as Europe/Brussels", tzid)
            self._zones[tzid] = zone or BRUSSELS
        return self._zones[tzid]


def _zone_from_block(block: list[str] | None) -> tzinfo | None:
    """A VTIMEZONE of the file as a dateutil zone, if it has the plain shape every calendar program
    writes (yearly rules in one month, from 1583 on). dateutil walks a zone's rules from DTSTART on
    every lookup, so a FREQ=SECONDLY rule there would hang every time comparison."""
    if not block:
        return None
    for line in block:
        if _NAME.match(line).group().strip().upper() == "RRULE":
            parts = _rule_parts(_value(line))
            if parts.get("FREQ") != "YEARLY" or "BYMONTH" not in parts or not parts.keys() <= _TIMEZONE_RULE_PARTS:
                return None
        elif _NAME.match(line).group().strip().upper() == "DTSTART" and (_text_date(line) or date.min).year < 1583:
            return None
    try:
        zone = tzical(StringIO("\r\n".join(block) + "\r\n")).get()
        datetime(2026, 1, 1, tzinfo=zone).utcoffset()
        datetime(2026, 7, 1, tzinfo=zone).utcoffset()
    except Exception as exc:  # dateutil refuses it: the event times fall back to Brussels
        log.info("unusable VTIMEZONE: %r", exc)
        return None
    return zone


def _rule_parts(text: str) -> dict[str, str]:
    return {key.strip().upper(): value.strip().upper()
            for key, _sep, value in (part.partition("=") for part in text.split(";")) if key.strip()}


def _localize(calendar: Calendar, zones: _Zones) -> Calendar:
    """TZID values get their zone; with X-WR-TIMEZONE, UTC and floating values move into that zone
    (x-wr-timezone); floating values left over are Brussels time."""
    for event in calendar.walk("VEVENT"):
        _map_datetimes(event, lambda dt, params: dt.replace(tzinfo=zones.get(params["TZID"]))
                       if dt.tzinfo is None and params.get("TZID") else dt)
    x_wr = calendar.get("X-WR-TIMEZONE")
    zone = zones.known(str(x_wr)) if x_wr is not None and not isinstance(x_wr, list) else None
    if zone is not None:
        calendar = to_standard(calendar, timezone=zone)
    for event in calendar.walk("VEVENT"):
        _map_datetimes(event, lambda dt, params: dt.replace(tzinfo=BRUSSELS) if dt.tzinfo is None else dt)
    return calendar


def _map_datetimes(event, change) -> None:
    """Apply change(datetime, params) to every date-time of the date properties; other values stay."""
    def one(value, params):
        if isinstance(value, datetime):
            return change(value, params)
        if isinstance(value, tuple):  # an RDATE period
            return tuple(one(part, params) for part in value)
        return value

    for name in _SINGLE_DATES + _DATE_LISTS:
        for prop in _as_list(event.get(name)):
            if isinstance(prop, vDDDTypes):
                prop.dt = one(prop.dt, prop.params)
            elif isinstance(prop, vDDDLists):
                for item in prop.dts:
                    item.dt = one(item.dt, prop.params)


def _as_list(value) -> list:
    return [] if value is None else value if isinstance(value, list) else [value]


# -- 4. events and series -------------------------------------------------------------------------


def _group(calendar: Calendar, budget: _Budget) -> tuple[dict[str, list[_Event]], int]:
    """Readable events grouped by UID (a series and its moved occurrences), and the number of broken ones.
    A free (cancelled, transparent) series stays out; its moved occurrences stand on their own."""
    groups: dict[str, list[_Event]] = defaultdict(list)
    broken = 0
    for number, event in enumerate(calendar.subcomponents):
        if not number % 256:
            budget.check_time()
        if event.name != "VEVENT":
            continue
        problem = _problem(event)
        if problem:
            log.info("skipped event %r: %s", str(event.get("UID", "")), problem)
            broken += 1
            continue
        free = _is_free(event)
        if free and "RECURRENCE-ID" not in event:
            continue
        uid = event.get("UID")
        groups[str(uid) if uid is not None else f"\x00{number}"].append(_Event(event, free))  # NUL: never in a read file
    return groups, broken


def _is_free(event) -> bool:
    def text(name):
        value = event.get(name)
        return str(value).strip().upper() if value is not None and not isinstance(value, list) else ""

    return (text("STATUS") == "CANCELLED" or text("TRANSP") == "TRANSPARENT"
            or text("X-MICROSOFT-CDO-BUSYSTATUS") == "FREE")


def _problem(event) -> str | None:
    """Why this event cannot be used, or None."""
    for name in _SINGLE_DATES:
        value = event.get(name)
        if value is None:
            if name == "DTSTART":
                return "no DTSTART"
            continue
        if not isinstance(value, vDDDTypes) or not isinstance(value.dt, date):
            return f"unreadable {name}"
    for name in _DATE_LISTS:
        for value in _as_list(event.get(name)):
            if not isinstance(value, vDDDLists):
                return f"unreadable {name}"
    first = event["DTSTART"].dt
    if "DTEND" in event and _instant(event["DTEND"].dt) < _instant(first):
        return "ends before it starts"
    if "DTEND" not in event and "DURATION" in event:
        duration = event["DURATION"]
        if not isinstance(duration, vDDDTypes) or not isinstance(duration.dt, timedelta) or duration.dt < timedelta(0):
            return "unreadable DURATION"
    for rule in _as_list(event.get("RRULE")):
        if not isinstance(rule, vRecur) or not _rule_is_usable(rule.to_ical().decode(), first):
            return "unusable RRULE"
    return None


def _instant(value: date) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=BRUSSELS)
    return datetime.combine(value, time(), BRUSSELS)


def _rule_is_usable(text: str, first: date) -> bool:
    """Refuse the rules dateutil would search for years without yielding anything (measured with
    dateutil 2.9): FREQ=SECONDLY;BYSETPOS=2 selects nothing, second by second, up to the year 9999;
    FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30 takes 6 s, FREQ=MINUTELY with it 19 s, a weekly rule 3 s.
    What is left unrefused and empty costs at most about 3 s (FREQ=WEEKLY;INTERVAL=2;BYWEEKNO=...)."""
    parts = _rule_parts(text)
    frequency = parts.get("FREQ")
    if frequency not in _FREQUENCIES:
        return False
    try:
        if "BYSETPOS" in parts and (frequency in _DAILY_OR_FINER or not _some_position_exists(parts, frequency)):
            return False
        if frequency in _DAILY_OR_FINER and "BYDAY" in parts and not _weekday_reachable(parts, frequency, first):
            return False
        if frequency != "YEARLY" and any(key in parts for key in _DAY_FILTERS):
            return _some_day_matches(parts, first)
    except (ValueError, TypeError, OverflowError):
        return False
    return True


_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_SECONDS = {"DAILY": 86_400, "HOURLY": 3_600, "MINUTELY": 60, "SECONDLY": 1}


def _values(parts: dict[str, str], key: str) -> set[str]:
    return {value for value in parts.get(key, "").split(",") if value}


def _weekdays(parts: dict[str, str]) -> set[str]:
    return {_ORDINAL.sub("", day) for day in _values(parts, "BYDAY")}


def _some_position_exists(parts: dict[str, str], frequency: str) -> bool:
    """BYSETPOS picks among the candidates of one period: is any position within the most there can be?"""
    days = {"WEEKLY": len(_weekdays(parts) & set(_WEEKDAYS)) or 1, "MONTHLY": 31, "YEARLY": 366}[frequency]
    most = days
    for key in ("BYHOUR", "BYMINUTE", "BYSECOND"):
        most *= len(_values(parts, key)) or 1
    return any(0 < abs(int(position)) <= most for position in _values(parts, "BYSETPOS"))


def _weekday_reachable(parts: dict[str, str], frequency: str, first: date) -> bool:
    """A step of whole weeks stays on the weekday of DTSTART: FREQ=DAILY;INTERVAL=7;BYDAY=TU from a Monday is empty."""
    step = int(parts.get("INTERVAL", "1")) * _SECONDS[frequency]
    return bool(step % (7 * 86_400)) or _WEEKDAYS[first.weekday()] in _weekdays(parts)


def _some_day_matches(parts: dict[str, str], first: date) -> bool:
    """Do the day filters match any day at all? Asked of a yearly rule with the same filters (weekdays
    without their ordinals: a superset), which dateutil walks a year at a time: 0.5 s when empty."""
    probe = ["FREQ=YEARLY", *(f"{key}={parts[key]}" for key in ("BYMONTH", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO",
                                                                    "BYEASTER", "WKST") if key in parts)]
    probe.append("BYDAY=" + ",".join(sorted(_weekdays(parts) if "BYDAY" in parts else _WEEKDAYS)))
    day = first.date() if isinstance(first, datetime) else first
    return next(iter(rrulestr(";".join(probe), dtstart=datetime.combine(day, time()), cache=False)), None) is not None


class _Event(EventAdapter):
    def __init__(self, component, free: bool):
        super().__init__(component)
        self.component = component
        self.free = free


class _Occurrence(Occurrence):
    @property
    def free(self) -> bool:
        return self._adapter.free


class _Rules(Series.RecurrenceRules):
    """recurring-ical-events' rules, walked one candidate at a time under the budget.

    The library asks dateutil for `rule.between(...)` on cached rules: that builds the list from
    DTSTART on and keeps every instance, so one FREQ=SECONDLY rule that started years ago fills
    the memory before the window is reached. Here the rules are not cached, and every candidate,
    before the window too, is counted."""

    budget: _Budget

    def rrulestr(self, rule_string):
        rule_string = NEGATIVE_RRULE_COUNT_REGEX.sub("", rule_string)
        rule = rrulestr(rule_string, dtstart=self.start, cache=False)
        rule.string = rule_string
        rule.until = self._get_rrule_until(rule)
        return rule

    def rrule_between(self, span_start, span_stop):
        low = convert_to_datetime(span_start, self.tzinfo)
        high = convert_to_datetime(span_stop, self.tzinfo)
        for rule in self.rrules:
            for start in rule:
                self.budget.step()
                if start > high or (rule.until is not None and compare_greater(start, rule.until)):
                    break
                if start >= low:
                    self.budget.occurrence()
                    yield start


class _Series(Series):
    RecurrenceRules = _Rules

    def occurrence(self, adapter, start=None, end=None):
        return _Occurrence(adapter, start, end, sequence=self.sequence)


def _expand(adapters: list[_Event], budget: _Budget, low: datetime, high: datetime, start: datetime,
            end: datetime) -> list[BusySpan]:
    series = _Series(adapters)
    if series.recurrence.has_core:
        series.recurrence.budget = budget
    uid = str(adapters[0].uid) if "UID" in adapters[0].component else ""
    spans = []
    for occurrence in series.between(low, high):
        if occurrence.free:
            continue
        first, last = max(_utc(occurrence.start), start), min(_utc(occurrence.end), end)
        if first < last:
            spans.append(BusySpan(first, last, uid, _title(occurrence._adapter.component)))
    return spans


def _title(component) -> str:
    """What the owner sees of an imported event: its SUMMARY, unless the event is marked private or
    confidential (then nothing: the owner's calendar app shows it, Werkbank need not)."""
    if str(component.get("CLASS", "PUBLIC")).upper() not in ("PUBLIC", ""):
        return ""
    return " ".join(str(component.get("SUMMARY", "")).split())[:300]


def _utc(value: date) -> datetime:
    return _instant(value).astimezone(UTC)
