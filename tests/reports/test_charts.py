"""Tests for the server-rendered SVG charts of the regional sharing report."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

from markupsafe import Markup

from reports.charts import bar_chart, line_chart, no_data

SVG = "{http://www.w3.org/2000/svg}"
COORDINATE_ATTRS = ("x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "width", "height", "points", "viewBox")
HOSTILE = "<b x=\"1\">&amp;'Hout'</b>"  # short enough not to be truncated


def euro(value: float) -> str:
    sign = "-" if value < 0 else ""
    whole, cents = f"{abs(value):,.2f}".split(".")
    return f"{sign}€ {whole.replace(',', '.')},{cents}"


def parse(markup: Markup) -> ET.Element:
    root = ET.fromstring(str(markup))
    assert root.tag == f"{SVG}svg"
    return root


def texts(root: ET.Element, tag: str) -> list[str]:
    return ["".join(element.itertext()) for element in root.iter(f"{SVG}{tag}")]


def desc_text(root: ET.Element) -> str:
    (desc,) = root.findall(f"{SVG}desc")
    return desc.text or ""


def assert_finite_coordinates(root: ET.Element) -> None:
    checked = 0
    for element in root.iter():
        for name in COORDINATE_ATTRS:
            raw = element.get(name)
            if raw is None or raw.endswith("%"):
                continue
            for number in re.split(r"[\s,]+", raw.strip()):
                assert math.isfinite(float(number)), f"{element.tag} {name}={raw!r}"
                checked += 1
    assert checked > 0


def test_bar_chart_escapes_hostile_labels_and_title():
    markup = bar_chart(HOSTILE, [(HOSTILE, 3.0)], description="a < b & c")
    assert isinstance(markup, Markup)
    assert "<b " not in markup and "&amp;amp;" in markup
    root = parse(markup)
    assert root.find(f"{SVG}title").text == HOSTILE
    assert HOSTILE in texts(root, "text")
    assert desc_text(root).startswith("a < b & c")


def test_line_chart_escapes_hostile_series_and_x_labels():
    markup = line_chart("Gebruik", [HOSTILE, "K2"], [(HOSTILE, [1.0, 2.0])])
    assert "<b " not in markup
    root = parse(markup)
    assert any(HOSTILE in text for text in texts(root, "text"))
    assert HOSTILE in desc_text(root)


def test_accessibility_attributes_point_at_title_and_desc():
    for markup in (bar_chart("Besparing", [("Bouw en hout", 10.0)]), line_chart("Uren", ["2026 K1"], [("Uren", [4.0])])):
        root = parse(markup)
        assert root.get("role") == "img"
        assert root.get("width") == "100%"
        assert root.get("viewBox", "").startswith("0 0 ")
        title_id, desc_id = root.get("aria-labelledby", "").split()
        assert root.find(f"{SVG}title").get("id") == title_id
        assert root.find(f"{SVG}desc").get("id") == desc_id
        assert "chart" in root.get("class", "").split()


def test_ids_differ_between_charts_and_are_stable():
    first = bar_chart("A", [("x", 1.0)])
    second = bar_chart("B", [("x", 1.0)])
    assert parse(first).get("aria-labelledby") != parse(second).get("aria-labelledby")
    assert bar_chart("A", [("x", 1.0)]) == first


def test_bar_chart_desc_lists_every_value_via_value_label():
    bars = [("Bouw en hout", 1234.5), ("Elektriciteit", 99.0), ("Zorg", 0.0)]
    root = parse(bar_chart("Besparing per sector", bars, value_label=euro))
    desc = desc_text(root)
    for label, value in bars:
        assert f"{label}: {euro(value)}" in desc
    assert "€ 1.234,50" in texts(root, "text")
    assert len(root.findall(f".//{SVG}rect")) == 3


def test_line_chart_desc_lists_every_value_and_has_legend_and_dashes():
    quarters = ["2026 K1", "2026 K2", "2026 K3", "2026 K4"]
    series = [("Gent", [1.0, 2.5, 3.0, 7.25]), ("Brugge", [0.0, 4.0, 2.0, 1.0]), ("Leuven", [5.0, 5.0, 6.0, 8.0])]
    root = parse(line_chart("Uren per kwartaal", quarters, series, value_label=lambda v: f"{v:g} u"))
    desc = desc_text(root)
    for name, values in series:
        assert name in desc
        for quarter, value in zip(quarters, values, strict=True):
            assert f"{quarter}: {value:g} u" in desc
    lines = root.findall(f".//{SVG}polyline")
    assert len(lines) == 3
    assert len({line.get("stroke-dasharray") for line in lines}) == 3
    assert len({line.get("stroke") for line in lines}) == 3
    all_text = texts(root, "text")
    assert {"Gent", "Brugge", "Leuven", *quarters} <= set(all_text)
    grid = [line for line in root.iter(f"{SVG}line") if "chart-grid" in line.get("class", "")]
    assert 4 <= len(grid) <= 6


def test_empty_data_renders_geen_gegevens():
    for markup in (
        bar_chart("Leeg", []),
        bar_chart("Nullen", [("a", 0.0), ("b", 0.0)]),
        line_chart("Leeg", [], []),
        line_chart("Geen reeksen", ["2026 K1"], []),
    ):
        root = parse(markup)
        assert no_data() in texts(root, "text")
        assert root.find(f"{SVG}desc").text.startswith(no_data())


def test_negative_values_render_finite_coordinates():
    bar_root = parse(bar_chart("Besparing", [("Gent", -150.0), ("Aalst", 300.0), ("Ieper", -20.5)], value_label=euro))
    assert_finite_coordinates(bar_root)
    negative = [rect for rect in bar_root.iter(f"{SVG}rect") if "chart-bar-negative" in rect.get("class", "")]
    assert len(negative) == 2
    assert "-€ 150,00" in desc_text(bar_root)

    all_negative = parse(bar_chart("Verlies", [("a", -1.0), ("b", -2.0)]))
    assert_finite_coordinates(all_negative)

    line_root = parse(line_chart("Saldo", ["K1", "K2", "K3"], [("Gent", [-40.0, 10.0, 25.0]), ("Brugge", [-5.0, -60.0, 0.0])]))
    assert_finite_coordinates(line_root)
    tick_values = [float(t) for t in texts(line_root, "text") if re.fullmatch(r"-?\d+(\.\d+)?", t)]
    assert min(tick_values) <= -60 and max(tick_values) >= 25


def test_non_finite_input_does_not_leak_into_coordinates():
    assert_finite_coordinates(parse(bar_chart("x", [("a", float("nan")), ("b", 2.0), ("c", float("inf"))])))
    assert_finite_coordinates(parse(line_chart("x", ["a", "b"], [("s", [float("nan"), 1.0])])))


def test_single_x_label_still_draws_the_point():
    root = parse(line_chart("Eén kwartaal", ["2026 K1"], [("Gent", [12.0])]))
    assert_finite_coordinates(root)
    points = [el for el in root.iter() if "chart-point" in el.get("class", "")]
    assert len(points) >= 1  # the data point (the legend sample is a point too)
    assert any(title.text == "Gent, 2026 K1: 12.0" for title in root.iter(f"{SVG}title"))


def test_long_labels_are_truncated_with_full_text_in_title():
    long_label = "Katholiek Onderwijs Vlaanderen – Scholengroep Brugge"
    root = parse(bar_chart("Per net", [(long_label, 5.0), ("Bouw en hout", 3.0)]))
    labels = [el.text for el in root.iter(f"{SVG}text") if el.get("class") == "chart-label"]
    assert long_label not in labels
    shortened = [label for label in labels if label.endswith("…")]
    assert len(shortened) == 1 and len(shortened[0]) <= 28 and long_label.startswith(shortened[0][:-1])
    assert "Bouw en hout" in labels
    assert any(title.text.startswith(long_label) for title in root.iter(f"{SVG}title"))


def test_same_input_gives_identical_output_and_height_grows():
    bars = [(f"Sector {i}", float(i)) for i in range(1, 4)]
    assert bar_chart("T", bars, value_label=euro) == bar_chart("T", list(bars), value_label=euro)
    series = [("A", [1.0, 2.0]), ("B", [3.0, -1.0])]
    assert line_chart("T", ["K1", "K2"], series) == line_chart("T", ["K1", "K2"], series)

    def height(markup: Markup) -> float:
        return float(parse(markup).get("viewBox").split()[3])

    assert height(bar_chart("T", bars * 3)) > height(bar_chart("T", bars))
