"""Euro as people type it, to cents: Dutch and plain decimals, thousands, and refusals."""

import pytest

from core.money import euro_input, parse_euro


@pytest.mark.parametrize("typed, cents", [
    ("12,50", 1250), ("1.234,50", 123450), ("1210", 121000), ("€ 40", 4000), ("12.5", 1250), ("12.50", 1250),
    ("", 0), ("  7 ", 700), ("100.000,00", 10_000_000), ("0.5", 50),
])
def test_amounts_people_type(typed, cents):
    assert parse_euro(typed) == cents


@pytest.mark.parametrize("typed", ["abc", "-1", "0,001", "1e400", "1e999999999", "1,2e5", "inf", "nan", "1.2345",
                                   "2.000.000", "12,5,0", "1.210", "12.500", "0.500", "٣"])
def test_what_is_not_an_amount(typed):
    assert parse_euro(typed) is None


def test_a_ceiling_and_the_way_back():
    assert parse_euro("10000", most=1_000_000) == 1_000_000 and parse_euro("10.000,01", most=1_000_000) is None
    assert euro_input(18550) == "185,50" and euro_input(0) == ""
