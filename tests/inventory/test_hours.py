from datetime import time

import pytest

from core.i18n import use_language
from inventory.hours import HoursError, format_week, parse_intervals, parse_week


def test_a_week_as_people_write_it():
    week = parse_week("ma-vr 08:00-12:00, 12:30-16:00; za 9u00-12u00")
    assert week[0] == [(time(8), time(12)), (time(12, 30), time(16))]
    assert week[4] == week[0]
    assert week[5] == [(time(9), time(12))]
    assert 6 not in week
    assert format_week(week) == "ma-vr 08:00-12:00, 12:30-16:00; za 09:00-12:00"
    assert parse_week(format_week(week)) == week


@pytest.mark.parametrize("text, message", [
    ("ma 16:00-08:00", "het einde voor het begin"),
    ("xx 08:00-10:00", "schrijf een dag en uren"),
    ("ma 08:00-10:00, 09:00-11:00", "overlappen"),
    ("ma 25:00-26:00", "een uur dat niet bestaat"),
    ("ma acht tot vier", "geen tijdspanne"),
])
def test_unreadable_hours_say_why_in_dutch(text, message):
    with use_language("nl"), pytest.raises(HoursError, match=message):
        parse_week(text)


def test_empty_means_closed():
    assert parse_intervals("") == []
    assert parse_week("") == {}
