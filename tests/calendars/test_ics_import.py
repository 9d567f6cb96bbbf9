"""calendars.ics_import: iCalendar bytes in, busy spans out. No database.

The fixtures hold one scenario in the shapes of four calendar programs (see fixtures/README.md):
a weekly maintenance on Tuesdays 09:00-11:00 Brussels time from 6 October 2026, across the end of
summer time (25 October 2026), without 13 October and 3 November, with 20 October moved to
Thursday 22 October 13:00-15:00; an open day on Saturday and Sunday 24-25 October; a transparent
event, a cancelled event and a Werkbank booking, none of which is busy."""

import pickle
import random
import time
from datetime import datetime, timezone
from pathlib import Path

import icalendar
import pytest
import recurring_ical_events
from icalendar.timezone import tzp

from calendars import ics_import
from calendars.ics_import import BusySpan, CalendarError, busy_spans
from core.i18n import use_language

FIXTURES = Path(__file__).parent / "fixtures"


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


START, END = utc(2026, 10, 1), utc(2026, 12, 1)
SCENARIO = [
    (utc(2026, 10, 6, 7), utc(2026, 10, 6, 9)),  # summer time: 09:00 Brussels is 07:00 UTC
    (utc(2026, 10, 22, 11), utc(2026, 10, 22, 13)),  # 20 October, moved to Thursday 13:00
    (utc(2026, 10, 23, 22), utc(2026, 10, 25, 23)),  # Saturday and Sunday, Sunday has 25 hours
    (utc(2026, 10, 27, 8), utc(2026, 10, 27, 10)),  # winter time: 09:00 Brussels is 08:00 UTC
    (utc(2026, 11, 10, 8), utc(2026, 11, 10, 10)),
]
EXTRA = {
    "outlook.ics": [
        (utc(2026, 11, 5, 9), utc(2026, 11, 5, 11)),  # TZID:W. Europe Standard Time, 10:00-12:00
        (utc(2026, 11, 19, 14), utc(2026, 11, 19, 15)),  # TZID:Customized Time Zone (London rules), 14:00-15:00
    ],
}
SOURCES = ["outlook.ics", "google.ics", "google_utc.ics", "icloud.ics", "nextcloud.ics"]


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def times(spans: list[BusySpan]) -> list[tuple[datetime, datetime]]:
    return [(span.start, span.end) for span in spans]


def ics(*events: str, head: str = "") -> bytes:
    """A VCALENDAR around VEVENT bodies (lines separated by newlines), with CRLF line ends."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Werkbank tests//EN", *head.split("\n")]
    for number, event in enumerate(events):
        body = event.strip().split("\n")
        uid = [] if any(line.startswith("UID") for line in body) else [f"UID:test-{number}@example.com"]
        lines += ["BEGIN:VEVENT", *uid, *body, "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(line for line in lines if line) + "\r\n").encode()


def refused(data: bytes, **limits) -> CalendarError:
    with pytest.raises(CalendarError) as caught:
        busy_spans(data, START, END, **limits)
    return caught.value


# -- the four sources -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", SOURCES)
def test_every_source_gives_the_same_busy_times(name):
    spans = busy_spans(fixture(name), START, END)
    assert times(spans) == sorted(SCENARIO + EXTRA.get(name, []))
    assert all(span.start.tzinfo is timezone.utc and span.end.tzinfo is timezone.utc for span in spans)


def test_a_weekly_series_keeps_its_brussels_time_across_the_end_of_summer_time():
    spans = busy_spans(fixture("outlook.ics"), START, END)
    series = [span for span in spans if span.uid.startswith("040000008200E00074C5B7101A82E00800000000D0A1")]
    assert [(span.start, span.end) for span in series] == [
        (utc(2026, 10, 6, 7), utc(2026, 10, 6, 9)),
        (utc(2026, 10, 22, 11), utc(2026, 10, 22, 13)),  # moved: nothing on Tuesday 20 October
        (utc(2026, 10, 27, 8), utc(2026, 10, 27, 10)),  # 13 October and 3 November: EXDATE
        (utc(2026, 11, 10, 8), utc(2026, 11, 10, 10)),
    ]


@pytest.mark.parametrize("name", SOURCES)
def test_transparent_cancelled_and_werkbank_events_are_free(name):
    data = fixture(name)
    busy_days = {span.start.date() for span in busy_spans(data, START, END)}
    assert not busy_days & {utc(2026, 10, 8).date(), utc(2026, 10, 9).date(), utc(2026, 10, 15).date()}
    own = [span for span in busy_spans(data, START, END, ignore_uid_prefix="") if span.uid.startswith("werkbank-")]
    assert times(own) == [(utc(2026, 10, 15, 6, 30), utc(2026, 10, 15, 10))]


def test_x_wr_timezone_puts_a_utc_series_on_brussels_time():
    data = fixture("google_utc.ics")
    assert (utc(2026, 10, 27, 8), utc(2026, 10, 27, 10)) in times(busy_spans(data, START, END))
    # read as plain UTC (recurring_ical_events.of() applies X-WR-TIMEZONE, its CalendarQuery does not),
    # the series would slide an hour at the end of summer time
    plain = recurring_ical_events.CalendarQuery(icalendar.Calendar.from_ical(data)).between(START, END)
    assert utc(2026, 10, 27, 7) in {event.start for event in plain}


# -- time zones -----------------------------------------------------------------------------------


def test_windows_zone_names_without_their_vtimezone():
    data = ics(
        "DTSTART;TZID=Romance Standard Time:20261005T090000\nDTEND;TZID=Romance Standard Time:20261005T100000",
        'DTSTART;TZID="W. Europe Standard Time":20261130T090000\nDTEND;TZID="W. Europe Standard Time":20261130T100000',
        "DTSTART;TZID=tzone://Microsoft/Utc:20261020T090000\nDTEND;TZID=tzone://Microsoft/Utc:20261020T100000",
    )
    assert times(busy_spans(data, START, END)) == [
        (utc(2026, 10, 5, 7), utc(2026, 10, 5, 8)),
        (utc(2026, 10, 20, 9), utc(2026, 10, 20, 10)),
        (utc(2026, 11, 30, 8), utc(2026, 11, 30, 9)),
    ]


FIXED_ZONE = """BEGIN:VTIMEZONE
TZID:{tzid}
BEGIN:STANDARD
DTSTART:19700101T000000
TZOFFSETFROM:{offset}
TZOFFSETTO:{offset}
TZNAME:TEST
END:STANDARD
END:VTIMEZONE"""


def test_the_files_own_vtimezone_serves_an_unknown_name_and_stays_in_the_file():
    tzid = "Werkbank Test Zone A"
    data = ics(f"DTSTART;TZID={tzid}:20261005T100000\nDTEND;TZID={tzid}:20261005T110000",
               head=FIXED_ZONE.format(tzid=tzid, offset="+0500"))
    assert times(busy_spans(data, START, END)) == [(utc(2026, 10, 5, 5), utc(2026, 10, 5, 6))]
    assert tzp.timezone(tzid) is None  # icalendar's process-wide cache did not learn it


def test_an_exchange_display_name_with_a_colon_finds_its_vtimezone():
    tzid = "(UTC+05:00) Ekaterinburg"
    data = ics(f'DTSTART;TZID="{tzid}":20261005T100000\nDTEND;TZID="{tzid}":20261005T110000',
               head=FIXED_ZONE.format(tzid=tzid, offset="+0500"))
    assert times(busy_spans(data, START, END)) == [(utc(2026, 10, 5, 5), utc(2026, 10, 5, 6))]


def test_a_zone_another_calendar_defined_cannot_move_our_times():
    tzid = "Werkbank Test Zone B"
    event = f"DTSTART;TZID={tzid}:20261005T100000\nDTEND;TZID={tzid}:20261005T110000"
    icalendar.Calendar.from_ical(ics(event, head=FIXED_ZONE.format(tzid=tzid, offset="+0500")))  # another owner's file
    ours = ics(event, head=FIXED_ZONE.format(tzid=tzid, offset="+0100"))
    plain = icalendar.Calendar.from_ical(ours).events[0].start
    assert plain.utcoffset().total_seconds() == 5 * 3600  # icalendar alone keeps the first definition it saw
    assert times(busy_spans(ours, START, END)) == [(utc(2026, 10, 5, 9), utc(2026, 10, 5, 10))]


def test_a_vtimezone_with_a_rule_dateutil_would_walk_forever_is_not_used():
    tzid = "Werkbank Test Zone C"
    zone = FIXED_ZONE.format(tzid=tzid, offset="+0500").replace("TZNAME:TEST", "TZNAME:TEST\nRRULE:FREQ=SECONDLY")
    data = ics(f"DTSTART;TZID={tzid}:20261005T100000\nDTEND;TZID={tzid}:20261005T110000", head=zone)
    assert times(busy_spans(data, START, END)) == [(utc(2026, 10, 5, 8), utc(2026, 10, 5, 9))]  # read as Brussels


def test_floating_times_and_unknown_zones_are_brussels_time():
    data = ics(
        "DTSTART:20261006T090000\nDTEND:20261006T100000\nRRULE:FREQ=WEEKLY;COUNT=4",
        "DTSTART;TZID=Nowhere/Atlantis:20261130T120000\nDTEND;TZID=Nowhere/Atlantis:20261130T130000",
    )
    assert times(busy_spans(data, START, END)) == [
        (utc(2026, 10, 6, 7), utc(2026, 10, 6, 8)),
        (utc(2026, 10, 13, 7), utc(2026, 10, 13, 8)),
        (utc(2026, 10, 20, 7), utc(2026, 10, 20, 8)),
        (utc(2026, 10, 27, 8), utc(2026, 10, 27, 9)),
        (utc(2026, 11, 30, 11), utc(2026, 11, 30, 12)),
    ]


def test_all_day_events_block_whole_brussels_days():
    data = ics(
        "DTSTART;VALUE=DATE:20260329\nDTEND;VALUE=DATE:20260330",  # summer time starts: 23 hours
        "DTSTART;VALUE=DATE:20261025\nDTEND;VALUE=DATE:20261026",  # summer time ends: 25 hours
        "DTSTART;VALUE=DATE:20261201",  # no DTEND: one day
    )
    assert times(busy_spans(data, utc(2026, 3, 1), utc(2027, 1, 1))) == [
        (utc(2026, 3, 28, 23), utc(2026, 3, 29, 22)),
        (utc(2026, 10, 24, 22), utc(2026, 10, 25, 23)),
        (utc(2026, 11, 30, 23), utc(2026, 12, 1, 23)),
    ]


# -- events ---------------------------------------------------------------------------------------


def test_an_event_without_dtend_uses_its_duration_or_lasts_nothing():
    data = ics(
        "DTSTART:20261005T080000Z\nDURATION:PT90M",
        "DTSTART:20261006T080000Z",  # a moment: not busy
        "DTSTART:20261007T080000Z\nDTEND:20261007T080000Z",
        "DTSTART;VALUE=DATE:20261008\nRRULE:FREQ=DAILY;COUNT=2",
        "DTSTART:20261012T080000Z\nDTEND:20261012T090000Z\nRDATE;VALUE=PERIOD:20261013T080000Z/PT3H",
    )
    assert times(busy_spans(data, START, END)) == [
        (utc(2026, 10, 5, 8), utc(2026, 10, 5, 9, 30)),
        (utc(2026, 10, 7, 22), utc(2026, 10, 8, 22)),
        (utc(2026, 10, 8, 22), utc(2026, 10, 9, 22)),
        (utc(2026, 10, 12, 8), utc(2026, 10, 12, 9)),
        (utc(2026, 10, 13, 8), utc(2026, 10, 13, 11)),
    ]


def test_spans_are_clipped_to_the_window():
    data = ics(
        "DTSTART:20260930T220000Z\nDTEND:20261001T020000Z",
        "DTSTART;VALUE=DATE:20261130\nDTEND;VALUE=DATE:20261205",
        "DTSTART:20260915T080000Z\nDTEND:20260915T090000Z",
    )
    assert times(busy_spans(data, START, END)) == [
        (utc(2026, 10, 1), utc(2026, 10, 1, 2)),
        (utc(2026, 11, 29, 23), utc(2026, 12, 1)),
    ]


def test_a_moved_occurrence_decides_for_itself():
    series = "UID:series@example.com\nDTSTART:20261006T070000Z\nDTEND:20261006T090000Z\nRRULE:FREQ=WEEKLY;COUNT=3\n"
    data = ics(
        series + "STATUS:CANCELLED",  # the whole series is cancelled ...
        "UID:series@example.com\nRECURRENCE-ID:20261013T070000Z\nDTSTART:20261014T070000Z\nDTEND:20261014T090000Z",
    )  # ... but the moved occurrence still happens
    assert times(busy_spans(data, START, END)) == [(utc(2026, 10, 14, 7), utc(2026, 10, 14, 9))]


def test_the_owner_sees_an_event_title_but_never_that_of_a_private_event():
    series = "UID:s@example.com\nDTSTART:20261006T070000Z\nDTEND:20261006T090000Z\nRRULE:FREQ=WEEKLY;COUNT=2\n"
    data = ics(
        series + "SUMMARY:Onderhoud\\, lasrobot",
        "UID:s@example.com\nRECURRENCE-ID:20261013T070000Z\nDTSTART:20261014T070000Z\nDTEND:20261014T090000Z\n"
        "SUMMARY:Onderhoud (verplaatst)",
        "DTSTART:20261020T070000Z\nDTEND:20261020T080000Z\nSUMMARY:Sollicitatie Jan\nCLASS:PRIVATE",
        "DTSTART:20261021T070000Z\nDTEND:20261021T080000Z",
    )
    assert [span.summary for span in busy_spans(data, START, END)] == [
        "Onderhoud, lasrobot", "Onderhoud (verplaatst)", "", ""]


def test_a_broken_event_is_skipped_and_the_others_count():
    data = ics(
        "DTSTART:20261005T100000Z\nDTEND:20261005T090000Z",  # ends before it starts
        "DTSTART:2026-10-05\nDTEND:20261006T090000Z",
        "DTSTART:20261345T090000Z\nDTEND:20261346T090000Z",
        "DTSTART:20261005T090000Z\nDTEND:20261005T100000Z\nRRULE:FREQ=SOMETIMES",
        "DTSTART:20261005T090000Z\nDURATION:-PT1H",
        "DTEND:20261005T100000Z",
        "DTSTART:20261007T090000Z\nDTEND:20261007T100000Z",
    )
    assert times(busy_spans(data, START, END)) == [(utc(2026, 10, 7, 9), utc(2026, 10, 7, 10))]


def test_a_calendar_without_any_readable_event_is_refused():
    data = ics("DTSTART:20261005T100000Z\nDTEND:20261005T090000Z", "DTSTART:99999999T999999Z")
    assert refused(data).code == "no_readable_event"


def test_an_empty_calendar_or_one_with_only_free_events_is_fine():
    assert busy_spans(ics(), START, END) == []
    assert busy_spans(ics("DTSTART:20261005T090000Z\nDTEND:20261005T100000Z\nTRANSP:TRANSPARENT"), START, END) == []


# -- hostile input --------------------------------------------------------------------------------


@pytest.mark.parametrize("first", ["20261005T090000Z", "20000101T000000Z"], ids=["in the window", "years before"])
def test_an_endless_secondly_rule_is_stopped(first):
    data = ics(f"DTSTART:{first}\nDTEND:{first[:-2]}1Z\nRRULE:FREQ=SECONDLY")
    began = time.monotonic()
    assert refused(data).code == "too_many_occurrences"
    assert time.monotonic() - began < 15


def test_the_deadline_stops_a_rule_that_walks_long_before_the_window():
    data = ics("DTSTART:19700101T000000Z\nDTEND:19700101T000001Z\nRRULE:FREQ=SECONDLY")
    began = time.monotonic()
    assert refused(data, max_occurrences=10**9, deadline_seconds=1).code == "too_slow"
    assert time.monotonic() - began < 15


@pytest.mark.parametrize("rule", [
    "FREQ=SECONDLY;BYSETPOS=2",  # dateutil would test every second up to the year 9999
    "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=WEEKLY;BYDAY=MO;BYSETPOS=2",
    "FREQ=HOURLY;INTERVAL=168;BYDAY=TU",  # a whole week per step from a Monday: never a Tuesday
])
def test_rules_that_never_yield_are_refused_without_searching(rule):
    data = ics(f"DTSTART:20261005T090000Z\nDTEND:20261005T100000Z\nRRULE:{rule}",
               "DTSTART:20261007T090000Z\nDTEND:20261007T100000Z")
    began = time.monotonic()
    assert times(busy_spans(data, START, END)) == [(utc(2026, 10, 7, 9), utc(2026, 10, 7, 10))]
    assert time.monotonic() - began < 15


@pytest.mark.parametrize("data, code", [
    (b"", "not_icalendar"),
    (b" \r\n\t", "not_icalendar"),
    (b"<!DOCTYPE html><html><body>Sign in to Outlook</body></html>", "web_page"),
    (b"\xef\xbb\xbf<html></html>", "web_page"),
    (random.Random(1).randbytes(100_000), "not_icalendar"),
    (b"BEGIN:VCALENDAR\r\n" + random.Random(2).randbytes(100_000), "not_icalendar"),
    (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20261005T090000Z\r\n", "incomplete"),
    (b"BEGIN:VCARD\r\nFN:Jan\r\nEND:VCARD\r\n", "not_icalendar"),
], ids=["empty", "blank", "html", "html with bom", "garbage", "garbage after a header", "truncated", "vcard"])
def test_what_is_not_a_calendar_is_refused(data, code):
    assert refused(data).code == code


def test_a_truncated_download_is_refused():
    data = fixture("outlook.ics")
    assert refused(data[: len(data) // 2]).code == "incomplete"


def test_a_50_mb_body_is_refused_before_reading():
    data = b"BEGIN:VCALENDAR\r\n" + b"X" * 50_000_000
    began = time.monotonic()
    assert refused(data).code == "too_large"
    assert time.monotonic() - began < 15
    assert refused(fixture("outlook.ics"), max_bytes=1000).code == "too_large"


def test_limits_on_events_spans_and_time():
    assert refused(fixture("outlook.ics"), max_events=3).code == "too_many_events"
    assert refused(fixture("outlook.ics"), max_spans=3).code == "too_many_spans"
    assert refused(fixture("outlook.ics"), deadline_seconds=-1).code == "too_slow"
    weekly = ics("DTSTART:20261005T090000Z\nDTEND:20261005T100000Z\nRRULE:FREQ=DAILY")
    assert refused(weekly, max_occurrences=30).code == "too_many_occurrences"
    assert len(busy_spans(weekly, START, END, max_occurrences=70)) == 57


def test_odd_structure_does_not_break_the_reader():
    nested = "BEGIN:VEVENT\r\n" * 2000 + "END:VEVENT\r\n" * 2000
    data = (
        "BEGIN:VCALENDAR\r\nEND:VTODO\r\n"  # an END without BEGIN
        "BEGIN:VEVENT\r\nUID:ok\r\nDTSTART:20261005T090000Z\r\nDTEND:20261005T100000Z\r\n"
        f"{nested}END:VEVENT\r\n"
        "BEGIN:VTODO\r\nDTSTART:20261006T090000Z\r\nEND:VTODO\r\n"
        "END:VCALENDAR\r\n"
    ).encode()
    assert times(busy_spans(data, START, END)) == [(utc(2026, 10, 5, 9), utc(2026, 10, 5, 10))]


def test_the_error_survives_a_trip_to_another_process():
    with use_language("en"):
        error = pickle.loads(pickle.dumps(refused(b"")))
    assert (error.code, str(error)) == ("not_icalendar", "This is not an iCalendar file.")


def test_an_unexpected_error_becomes_a_calendar_error(monkeypatch):
    def explode(*args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(ics_import, "_parse", explode)
    error = refused(fixture("google.ics"))
    assert error.code == "unreadable" and isinstance(error.__cause__, RuntimeError)


def test_the_window_must_be_aware_and_not_empty():
    with pytest.raises(ValueError):
        busy_spans(ics(), datetime(2026, 10, 1), END)
    with pytest.raises(ValueError):
        busy_spans(ics(), END, START)


def test_the_message_is_for_the_owner_in_the_language_of_the_moment():
    with use_language("en"):
        error = refused(ics("DTSTART:20261005T090000Z\nDTEND:20261005T100000Z\nRRULE:FREQ=DAILY"), max_occurrences=30)
    assert str(error) == "A recurring event has too many occurrences (more than 30 in the period)."
    with use_language("nl"):  # numbers as Flemish people write them
        daily = ics("DTSTART:20261005T090000Z\nDTEND:20261005T100000Z\nRRULE:FREQ=DAILY")
        with pytest.raises(CalendarError, match=r"1\.000"):
            busy_spans(daily, START, utc(2030, 1, 1), max_occurrences=1000)
