"""Every figure of the regional sharing report, computed by hand from the dataset of
tests/reports/conftest.py (its docstring lists every row), checked through the service, the JSON
API, the CSV and XLSX downloads, the page and the command line."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest

from core.i18n import gettext, use_language
from tests.conftest import login
from tests.reports.conftest import FIRST, LAST, PERIOD


def nl(message: str, **variables) -> str:
    """A text of the report (new in reports/) as the Dutch page shows it."""
    with use_language("nl"):
        return gettext(message, **variables)


# --- labels as a Dutch reader sees them (translations that exist already) ----------------------

STATUS = {"requested": "aangevraagd", "approved": "goedgekeurd, te betalen", "confirmed": "bevestigd",
          "completed": "afgewerkt", "no_show": "niemand kwam", "declined": "geweigerd", "cancelled": "geannuleerd",
          "expired": "vervallen"}
CATEGORY = {"cnc": "CNC-verspaning", "welding": "Lassen", "cobots-robotics": "Cobots en robotica",
            "plc-automation": "PLC en automatisering", "electrical-installations": "Elektrische installaties"}
FUNDING = {"sector": "Sector", "government": "Door de overheid gesubsidieerd", "company": "Bedrijf", "school": "School"}
NETWORK = {"go": "GO!", "katholiek": "Katholiek Onderwijs Vlaanderen", "ovsg": "OVSG"}
PROGRAMME = {"elektrotechnieken": "Elektrotechnieken", "lassen-constructie": "Lassen-constructie",
             "mechatronica": "Mechatronica"}
KIND = {"metaal": ("sector_fund", "Sectorfonds"), "robotix": ("company", "Bedrijf"), "vdab": ("government", "Overheid"),
        "K1": ("school", "School")}
OWNER = {"metaal": "Sectorfonds Metaal", "robotix": "Robotix NV", "vdab": "VDAB Mechelen", "K1": "Sint-Jozef Gent"}
SCHOOL = {"G1": ("GO! Atheneum Gent", "go"), "G2": ("GO! Technisch Atheneum Antwerpen", "go"),
          "K1": ("Sint-Jozef Gent", "katholiek"), "K2": ("Sint-Victor Mechelen", "katholiek"),
          "O1": ("Stedelijk Lyceum Aalst", "ovsg")}
REGION = {"VOV": "Oost-Vlaanderen", "VAN": "Antwerpen"}

# texts new in reports/ (msgids; their Dutch must come from locale/)
BOUNDARY = {"sector": "Sector infrastructure", "government": "Government-funded infrastructure",
            "company": "Company infrastructure", "other_network": "A school of another network",
            "same_network": "A school of the same network", "own_school": "Its own school"}
NO_PROGRAMME = "No study programme given"
ANY_CATEGORY = "Any category"
SCOPE = {"platform": "Everything (platform admin).",
         "provider": "Schools of your network by name, those of other networks counted."}


# --- row builders --------------------------------------------------------------------------------

def supply_row(key, facilities, resources, open_minutes, labels):
    return {"key": key, "label": labels[key], "facilities": facilities, "resources": resources, "open_minutes": open_minutes}


def status(key, bookings, minutes):
    return {"key": key, "label": STATUS[key], "bookings": bookings, "minutes": minutes}


def use_row(key, bookings, minutes, supply_minutes, open_minutes, utilisation):
    return {"key": key, "label": CATEGORY[key], "bookings": bookings, "minutes": minutes, "supply_minutes": supply_minutes,
            "open_minutes": open_minutes, "utilisation": utilisation}


def network(key, schools, bookings, pupils):
    return {"key": key, "label": NETWORK[key], "schools": schools, "bookings": bookings, "pupils": pupils}


def programme(key, schools, bookings, pupils):
    return {"key": key, "label": PROGRAMME[key] if key else nl(NO_PROGRAMME), "schools": schools, "bookings": bookings,
            "pupils": pupils}


def school(key, bookings, pupils, savings_cents):
    name, net = SCHOOL[key]
    return {"name": name, "network": net, "network_label": NETWORK[net], "bookings": bookings, "pupils": pupils,
            "savings_cents": savings_cents}


def boundary(key, bookings, pupils, minutes):
    return {"key": key, "label": nl(BOUNDARY[key]), "crossing": key not in ("own_school", "same_network"),
            "bookings": bookings, "pupils": pupils, "minutes": minutes}


def pair(school_key, owner, crossing, bookings, pupils, minutes, named=True):
    name, net = SCHOOL[school_key]
    return {"school": name if named else nl("A school of %(network)s", network=NETWORK[net]),
            "school_network": net, "school_network_label": NETWORK[net], "owner": OWNER[owner],
            "owner_kind": KIND[owner][0], "owner_kind_label": KIND[owner][1], "crossing": crossing,
            "bookings": bookings, "pupils": pupils, "minutes": minutes}


def money_row(key, bookings, pupils, alternative, paid, savings, per_pupil, bill_pupils=0, bill_savings=0, bill=0,
              bill_per_pupil=None, bill_share=None):
    return {"key": key, "label": PROGRAMME[key] if key else nl(NO_PROGRAMME), "bookings": bookings, "pupils": pupils,
            "alternative_cents": alternative, "paid_cents": paid, "savings_cents": savings,
            "savings_per_pupil_cents": per_pupil, "bill_pupils": bill_pupils, "bill_savings_cents": bill_savings,
            "bill_cents": bill, "bill_per_pupil_cents": bill_per_pupil, "bill_share": bill_share}


def unmet_row(category, region, declined=0, expired=0, waitlist=0, searches=0, matched=0):
    return {"category": category, "category_label": CATEGORY[category] if category else nl(ANY_CATEGORY),
            "region": region, "region_label": REGION[region], "declined": declined, "expired": expired,
            "waitlist": waitlist, "searches": searches, "searches_matched": matched, "round_days": 0}


def quarter(q, bookings=0, minutes=0, completed=0, pupils=0, schools=0, savings=0, crossing=0, unmet=0):
    first, last = {3: ("2026-07-01", "2026-09-30"), 4: ("2026-10-01", "2026-12-31")}[q]
    return {"key": f"2026-Q{q}", "label": nl("Q%(q)s %(year)s", q=q, year=2026), "first": first, "last": last,
            "bookings": bookings, "minutes": minutes, "completed": completed, "pupils": pupils, "schools": schools,
            "savings_cents": savings, "crossing": crossing, "unmet": unmet}


def report(regions=(), filters=None, scope="platform", *, supply, use, reach, collaboration, money, unmet, quarters):
    return {"first": "2026-07-01", "last": "2026-12-31", "regions": list(regions), "filters": filters or {},
            "scope": scope, "scope_label": nl(SCOPE[scope]), "supply": supply, "use": use, "reach": reach,
            "collaboration": collaboration, "money": money, "unmet": unmet, "quarters": quarters}


# --- (a) the whole period, every region, as a platform admin ------------------------------------

ALL = report(
    supply={
        # R1 R2 (F1), R3 (F2), R4 (F3), R6 (F4); R5 retired, R7 without opening hours
        "facilities": 4, "resources": 5,
        "open_minutes": 116340,  # 65520 + 9420 + 23760 + 11640 + 6000
        "closed_minutes": 3360,  # R1 150 + 1650, R4 1080, R6 480
        "by_funding": [  # Resource.Funding order
            supply_row("sector", 1, 2, 74940, FUNDING),  # R1 65520 + R2 9420
            supply_row("government", 1, 1, 11640, FUNDING),  # R4
            supply_row("company", 1, 1, 23760, FUNDING),  # R3
            supply_row("school", 1, 1, 6000, FUNDING),  # R6
        ],
        "by_category": [  # by the category's position
            supply_row("cnc", 1, 1, 9420, CATEGORY),
            supply_row("welding", 1, 1, 65520, CATEGORY),
            supply_row("cobots-robotics", 1, 1, 23760, CATEGORY),
            supply_row("plc-automation", 1, 1, 11640, CATEGORY),
            supply_row("electrical-installations", 1, 1, 6000, CATEGORY),
        ],
    },
    use={
        "bookings": 13,  # requested 1 + approved 1 + confirmed 2 + completed 8 + no-show 1
        "minutes": 2585,  # 215 + 165 + 590 + 1465 + 150
        "supply_minutes": 2385,  # 2585 - B8 200 (retired R5)
        "open_minutes": 116340,
        "utilisation": 2.1,  # 2385 / 116340 = 2.0500 %
        "by_status": [
            status("requested", 1, 215),  # B10
            status("approved", 1, 165),  # B11
            status("confirmed", 2, 590),  # B9 420 (DST night: 7 real hours) + B12 170
            status("completed", 8, 1465),  # B1-B8: 215+195+150+195+195+90+225+200
            status("no_show", 1, 150),  # B13
            status("declined", 2, 285),  # B14 120 + B15 165
            status("cancelled", 2, 185),  # B17 95 + B20 90 (B20: 1 July 00:30 Brussels, 30 June in UTC)
            status("expired", 1, 90),  # B16
        ],
        "by_category": [
            use_row("cnc", 2, 620, 420, 9420, 4.5),  # B9 420 + B8 200 (retired: not supply); 420/9420 = 4.459
            use_row("welding", 4, 790, 790, 65520, 1.2),  # B1 215 B2 195 B10 215 B11 165; 790/65520 = 1.206
            use_row("cobots-robotics", 2, 320, 320, 23760, 1.3),  # B3 150 B12 170; 320/23760 = 1.347
            use_row("plc-automation", 2, 375, 375, 11640, 3.2),  # B7 225 B13 150; 375/11640 = 3.222
            use_row("electrical-installations", 3, 480, 480, 6000, 8.0),  # B4 195 B5 195 B6 90
        ],
    },
    reach={
        "bookings": 8, "pupils": 86, "schools": 5,
        "by_network": [  # by label: GO!, Katholiek Onderwijs Vlaanderen, OVSG
            network("go", 2, 4, 40),  # G1: B1 12, B2 8 (attended), B7 6; G2: B3 14
            network("katholiek", 2, 3, 30),  # K1: B4 9; K2: B5 11, B8 10
            network("ovsg", 1, 1, 16),  # O1: B6 16
        ],
        "programmes": [  # by name, "no programme" last
            programme("elektrotechnieken", 2, 2, 27),  # B5 K2 11, B6 O1 16
            programme("lassen-constructie", 1, 2, 20),  # B1 12, B2 8 (G1)
            programme("mechatronica", 2, 2, 20),  # B3 G2 14, B7 G1 6
            programme("", 2, 2, 19),  # B4 K1 9, B8 K2 10
        ],
        "schools_named": [  # most completed bookings first, then by name
            school("G1", 3, 26, 36000),  # B1 15000 + B2 12000 + B7 9000
            school("K2", 2, 21, 13000),  # B5 9000 (free: pays nothing) + B8 4000
            school("G2", 1, 14, -1000),  # B3: 4000 - 5000
            school("K1", 1, 9, 6000),  # B4
            school("O1", 1, 16, 8000),  # B6: 12000 - 4000
        ],
        "schools_not_named": 0,
    },
    collaboration={
        "bookings": 11,  # approved B11, confirmed B9 B12, completed B1-B8
        "crossing": 9,  # all but B4 (own school) and B5 (same network)
        "crossing_share": 81.8,  # 9 / 11
        "by_boundary": [
            boundary("sector", 4, 40, 995),  # B1 12/215, B2 8/195, B9 5/420, B11 15/165
            boundary("government", 2, 16, 425),  # B7 6/225, B8 10/200
            boundary("company", 2, 22, 320),  # B3 14/150, B12 8/170
            boundary("other_network", 1, 16, 90),  # B6: O1 (ovsg) at K1's workshop
            boundary("same_network", 1, 11, 195),  # B5: K2 at K1's workshop
            boundary("own_school", 1, 9, 195),  # B4: K1 at its own workshop
        ],
        "pairs": [  # most bookings, then most time, then school and owner by name
            pair("G1", "metaal", True, 2, 20, 410),  # B1 B2
            pair("O1", "metaal", True, 1, 5, 420),  # B9
            pair("G1", "vdab", True, 1, 6, 225),  # B7
            pair("K2", "vdab", True, 1, 10, 200),  # B8
            pair("K1", "K1", False, 1, 9, 195),  # B4
            pair("K2", "K1", False, 1, 11, 195),  # B5
            pair("K1", "robotix", True, 1, 8, 170),  # B12
            pair("G2", "metaal", True, 1, 15, 165),  # B11
            pair("G2", "robotix", True, 1, 14, 150),  # B3
            pair("O1", "K1", True, 1, 16, 90),  # B6
        ],
        "pair_count": 10,
    },
    money={
        "bookings": 8, "pupils": 86,
        "alternative_cents": 98000,  # 21000 + 45000 + 19000 + 13000
        "paid_cents": 36000,  # 4000 + 18000 + 11000 + 3000
        "savings_cents": 62000,
        "savings_per_pupil_cents": 721,  # 62000 / 86 = 720.93
        "bill_pupils": 31,  # B1 12 + B2 8 + B5 11
        "bill_savings_cents": 36000,  # 15000 + 12000 + 9000
        "bill_cents": 1254000,  # 12 x 45000 + 8 x 48000 + 11 x 30000
        "bill_share": 2.9,  # 36000 / 1254000 = 2.871 %
        "schools": 5, "schools_with_bill": 2, "without_alternative": 0,  # G1 and K2
        "by_programme": [
            # B5: 9000 - 0 (free), bill 11 x 30000; B6: 12000 - 4000, no bill; 17000 / 27 = 629.6; 9000 / 330000 = 2.73 %
            money_row("elektrotechnieken", 2, 27, 21000, 4000, 17000, 630, 11, 9000, 330000, 30000, 2.7),
            # B1 (Aug: year 2025, 45000) 25000 - 10000; B2 (Oct: year 2026, 48000) 20000 - 8000;
            # 27000 / 20 = 1350; bill 540000 + 384000 = 924000, per pupil 46200; 27000 / 924000 = 2.92 %
            money_row("lassen-constructie", 2, 20, 45000, 18000, 27000, 1350, 20, 27000, 924000, 46200, 2.9),
            # B3 4000 - 5000 = -1000; B7 15000 - 6000 = 9000 (G1's mechatronica bill is for 2025: not Nov 2026)
            money_row("mechatronica", 2, 20, 19000, 11000, 8000, 400),
            # B4 6000 - 0; B8 7000 - 3000; 10000 / 19 = 526.3
            money_row("", 2, 19, 13000, 3000, 10000, 526),
        ],
    },
    unmet={
        "declined": 2,  # B14, B15
        "expired": 1,  # B16
        "waitlist": 3,  # W1 waiting, W2 offered, W4 expired (not W3 accepted, W5 cancelled, W6 after the period)
        "searches": 4,  # S1 S2 S3 S6 (S4 after, S5 before the period)
        "searches_matched": 6,  # 1 + 2 + 0 + 3
        "round_days": 0, "searches_counted": True,
        "rows": [  # most unmet first, then category and region by label
            unmet_row("welding", "VOV", declined=1, waitlist=1, searches=2, matched=3),  # B14, W1, S1 S2
            unmet_row("cobots-robotics", "VAN", declined=1, waitlist=1, searches=1, matched=0),  # B15, W2, S3
            unmet_row("electrical-installations", "VOV", expired=1, waitlist=1),  # B16, W4
            unmet_row("", "VAN", searches=1, matched=3),  # S6 (any category)
        ],
    },
    quarters=[
        # Q3: B1 B3 B8 completed (215 150 200), B14 B15 declined, B20 cancelled
        quarter(3, bookings=3, minutes=565, completed=3, pupils=36, schools=3, savings=18000, crossing=3, unmet=2),
        # Q4: B2 B4 B5 B6 B7 completed, B9 B12 confirmed, B10 requested, B11 approved, B13 no-show,
        # B16 expired, B17 cancelled; minutes 195+195+195+90+225+420+215+165+170+150; savings 12000+6000+9000+8000+9000;
        # crossing B2 B6 B7 B9 B11 B12
        quarter(4, bookings=10, minutes=2020, completed=5, pupils=50, schools=4, savings=44000, crossing=6, unmet=1),
    ],
)

# --- (b) Oost-Vlaanderen: bookings whose school or infrastructure lies in VOV --------------------
# B1 B2 B4 B5(K2 at R6 Gent) B6 B7(G1 at R4 Mechelen) B9 B10 B11(G2 at R1 Gent) B12(K1 at R3 Antwerpen)
# B14 B15(G1 at R3) B16 B17(O1 at R4); not B3 B8 B13 B20 (school and infrastructure in VAN)

VOV = report(
    regions=[{"code": "VOV", "name": "Oost-Vlaanderen", "custom": False, "cut_to_scope": False}],
    supply={
        "facilities": 2, "resources": 3,  # F1 (R1 R2), F4 (R6)
        "open_minutes": 80940,  # 65520 + 9420 + 6000
        "closed_minutes": 2280,  # R1 1800 + R6 480
        "by_funding": [supply_row("sector", 1, 2, 74940, FUNDING), supply_row("school", 1, 1, 6000, FUNDING)],
        "by_category": [supply_row("cnc", 1, 1, 9420, CATEGORY), supply_row("welding", 1, 1, 65520, CATEGORY),
                        supply_row("electrical-installations", 1, 1, 6000, CATEGORY)],
    },
    use={
        "bookings": 10, "minutes": 2085,  # 215 + 165 + 590 + 1115
        "supply_minutes": 1690,  # 2085 - B12 170 - B7 225 (infrastructure outside VOV)
        "open_minutes": 80940,
        "utilisation": 2.1,  # 1690 / 80940 = 2.088
        "by_status": [
            status("requested", 1, 215), status("approved", 1, 165), status("confirmed", 2, 590),
            status("completed", 6, 1115),  # B1 215 B2 195 B4 195 B5 195 B6 90 B7 225
            status("declined", 2, 285), status("cancelled", 1, 95), status("expired", 1, 90),
        ],
        "by_category": [
            use_row("cnc", 1, 420, 420, 9420, 4.5),
            use_row("welding", 4, 790, 790, 65520, 1.2),
            use_row("cobots-robotics", 1, 170, 0, 0, None),  # B12: a VOV school in Antwerpen
            use_row("plc-automation", 1, 225, 0, 0, None),  # B7: a VOV school in Mechelen
            use_row("electrical-installations", 3, 480, 480, 6000, 8.0),
        ],
    },
    reach={
        "bookings": 6, "pupils": 62, "schools": 4,
        "by_network": [network("go", 1, 3, 26), network("katholiek", 2, 2, 20), network("ovsg", 1, 1, 16)],
        "programmes": [programme("elektrotechnieken", 2, 2, 27), programme("lassen-constructie", 1, 2, 20),
                       programme("mechatronica", 1, 1, 6), programme("", 1, 1, 9)],
        "schools_named": [school("G1", 3, 26, 36000), school("K1", 1, 9, 6000), school("K2", 1, 11, 9000),
                          school("O1", 1, 16, 8000)],
        "schools_not_named": 0,
    },
    collaboration={
        "bookings": 9, "crossing": 7, "crossing_share": 77.8,  # 7 / 9
        "by_boundary": [boundary("sector", 4, 40, 995), boundary("government", 1, 6, 225), boundary("company", 1, 8, 170),
                        boundary("other_network", 1, 16, 90), boundary("same_network", 1, 11, 195),
                        boundary("own_school", 1, 9, 195)],
        "pairs": [pair("G1", "metaal", True, 2, 20, 410), pair("O1", "metaal", True, 1, 5, 420),
                  pair("G1", "vdab", True, 1, 6, 225), pair("K1", "K1", False, 1, 9, 195),
                  pair("K2", "K1", False, 1, 11, 195), pair("K1", "robotix", True, 1, 8, 170),
                  pair("G2", "metaal", True, 1, 15, 165), pair("O1", "K1", True, 1, 16, 90)],
        "pair_count": 8,
    },
    money={
        "bookings": 6, "pupils": 62, "alternative_cents": 87000, "paid_cents": 28000, "savings_cents": 59000,
        "savings_per_pupil_cents": 952,  # 59000 / 62 = 951.6
        "bill_pupils": 31, "bill_savings_cents": 36000, "bill_cents": 1254000, "bill_share": 2.9,
        "schools": 4, "schools_with_bill": 2, "without_alternative": 0,
        "by_programme": [
            money_row("elektrotechnieken", 2, 27, 21000, 4000, 17000, 630, 11, 9000, 330000, 30000, 2.7),
            money_row("lassen-constructie", 2, 20, 45000, 18000, 27000, 1350, 20, 27000, 924000, 46200, 2.9),
            money_row("mechatronica", 1, 6, 15000, 6000, 9000, 1500),  # B7
            money_row("", 1, 9, 6000, 0, 6000, 667),  # B4: 6000 / 9 = 666.7
        ],
    },
    unmet={
        "declined": 2, "expired": 1, "waitlist": 3,  # W2: G1 (Gent) waits for R3 in Antwerpen
        "searches": 2, "searches_matched": 3,  # S1 (9000 typed), S2 (no postal code, VOV)
        "round_days": 0, "searches_counted": True,
        "rows": [unmet_row("welding", "VOV", declined=1, waitlist=1, searches=2, matched=3),
                 unmet_row("cobots-robotics", "VAN", declined=1, waitlist=1),  # B15, W2: the infrastructure's region
                 unmet_row("electrical-installations", "VOV", expired=1, waitlist=1)],
    },
    quarters=[quarter(3, bookings=1, minutes=215, completed=1, pupils=12, schools=1, savings=15000, crossing=1, unmet=2),
              quarter(4, bookings=9, minutes=1870, completed=5, pupils=50, schools=4, savings=44000, crossing=6, unmet=1)],
)

# --- (c) the custom region Gent + Mechelen: all bookings but B3 and B20 (school and resource in Antwerpen)

ZONE = report(
    regions=[{"code": "ZONE-GM", "name": "Zone Gent-Mechelen", "custom": True, "cut_to_scope": False}],
    supply={
        "facilities": 3, "resources": 4,  # F1 (R1 R2), F3 (R4), F4 (R6)
        "open_minutes": 92580, "closed_minutes": 3360,  # 65520 + 9420 + 11640 + 6000
        "by_funding": [supply_row("sector", 1, 2, 74940, FUNDING), supply_row("government", 1, 1, 11640, FUNDING),
                       supply_row("school", 1, 1, 6000, FUNDING)],
        "by_category": [supply_row("cnc", 1, 1, 9420, CATEGORY), supply_row("welding", 1, 1, 65520, CATEGORY),
                        supply_row("plc-automation", 1, 1, 11640, CATEGORY),
                        supply_row("electrical-installations", 1, 1, 6000, CATEGORY)],
    },
    use={
        "bookings": 12, "minutes": 2435,  # 215 + 165 + 590 + 1315 + 150
        "supply_minutes": 2065,  # 2435 - B8 200 (retired) - B12 170 (R3 in Antwerpen)
        "open_minutes": 92580, "utilisation": 2.2,  # 2065 / 92580 = 2.231
        "by_status": [status("requested", 1, 215), status("approved", 1, 165), status("confirmed", 2, 590),
                      status("completed", 7, 1315), status("no_show", 1, 150), status("declined", 2, 285),
                      status("cancelled", 1, 95), status("expired", 1, 90)],
        "by_category": [use_row("cnc", 2, 620, 420, 9420, 4.5), use_row("welding", 4, 790, 790, 65520, 1.2),
                        use_row("cobots-robotics", 1, 170, 0, 0, None), use_row("plc-automation", 2, 375, 375, 11640, 3.2),
                        use_row("electrical-installations", 3, 480, 480, 6000, 8.0)],
    },
    reach={
        "bookings": 7, "pupils": 72, "schools": 4,
        "by_network": [network("go", 1, 3, 26), network("katholiek", 2, 3, 30), network("ovsg", 1, 1, 16)],
        "programmes": [programme("elektrotechnieken", 2, 2, 27), programme("lassen-constructie", 1, 2, 20),
                       programme("mechatronica", 1, 1, 6), programme("", 2, 2, 19)],
        "schools_named": [school("G1", 3, 26, 36000), school("K2", 2, 21, 13000), school("K1", 1, 9, 6000),
                          school("O1", 1, 16, 8000)],
        "schools_not_named": 0,
    },
    collaboration={
        "bookings": 10, "crossing": 8, "crossing_share": 80.0,
        "by_boundary": [boundary("sector", 4, 40, 995), boundary("government", 2, 16, 425), boundary("company", 1, 8, 170),
                        boundary("other_network", 1, 16, 90), boundary("same_network", 1, 11, 195),
                        boundary("own_school", 1, 9, 195)],
        "pairs": [pair("G1", "metaal", True, 2, 20, 410), pair("O1", "metaal", True, 1, 5, 420),
                  pair("G1", "vdab", True, 1, 6, 225), pair("K2", "vdab", True, 1, 10, 200),
                  pair("K1", "K1", False, 1, 9, 195), pair("K2", "K1", False, 1, 11, 195),
                  pair("K1", "robotix", True, 1, 8, 170), pair("G2", "metaal", True, 1, 15, 165),
                  pair("O1", "K1", True, 1, 16, 90)],
        "pair_count": 9,
    },
    money={
        "bookings": 7, "pupils": 72, "alternative_cents": 94000, "paid_cents": 31000, "savings_cents": 63000,
        "savings_per_pupil_cents": 875,  # 63000 / 72
        "bill_pupils": 31, "bill_savings_cents": 36000, "bill_cents": 1254000, "bill_share": 2.9,
        "schools": 4, "schools_with_bill": 2, "without_alternative": 0,
        "by_programme": [
            money_row("elektrotechnieken", 2, 27, 21000, 4000, 17000, 630, 11, 9000, 330000, 30000, 2.7),
            money_row("lassen-constructie", 2, 20, 45000, 18000, 27000, 1350, 20, 27000, 924000, 46200, 2.9),
            money_row("mechatronica", 1, 6, 15000, 6000, 9000, 1500),
            money_row("", 2, 19, 13000, 3000, 10000, 526),
        ],
    },
    unmet={
        "declined": 2, "expired": 1, "waitlist": 3,
        "searches": 2, "searches_matched": 1,  # typed postal codes only: S1 (9000), S3 (2800); not S2 (none typed)
        "round_days": 0, "searches_counted": True,
        "rows": [unmet_row("cobots-robotics", "VAN", declined=1, waitlist=1, searches=1, matched=0),
                 unmet_row("welding", "VOV", declined=1, waitlist=1, searches=1, matched=1),
                 unmet_row("electrical-installations", "VOV", expired=1, waitlist=1)],
    },
    quarters=[quarter(3, bookings=2, minutes=415, completed=2, pupils=22, schools=2, savings=19000, crossing=2, unmet=2),
              quarter(4, bookings=10, minutes=2020, completed=5, pupils=50, schools=4, savings=44000, crossing=6, unmet=1)],
)

# --- (d) filters ----------------------------------------------------------------------------------
# network=go: schools G1, G2 only: B1 B2 B7 B15 (G1), B3 B11 B13 B20 (G2). Supply is the schools' whole offer.

GO = report(
    filters={"network": {"value": "go", "label": "GO!"}},
    supply=ALL["supply"],
    use={
        "bookings": 6, "minutes": 1100,  # B11 165 + B1 215 B2 195 B3 150 B7 225 + B13 150
        "supply_minutes": 1100, "open_minutes": 116340, "utilisation": 0.9,  # 1100 / 116340 = 0.946
        "by_status": [status("approved", 1, 165), status("completed", 4, 785), status("no_show", 1, 150),
                      status("declined", 1, 165), status("cancelled", 1, 90)],
        "by_category": [  # every category open or booked, by position; open but not booked by GO! schools: 0 %
            use_row("cnc", 0, 0, 0, 9420, 0.0),
            use_row("welding", 3, 575, 575, 65520, 0.9),  # B1 B2 B11; 575 / 65520 = 0.878
            use_row("cobots-robotics", 1, 150, 150, 23760, 0.6),  # B3; 0.631
            use_row("plc-automation", 2, 375, 375, 11640, 3.2),  # B7 B13
            use_row("electrical-installations", 0, 0, 0, 6000, 0.0),
        ],
    },
    reach={
        "bookings": 4, "pupils": 40, "schools": 2,
        "by_network": [network("go", 2, 4, 40)],
        "programmes": [programme("lassen-constructie", 1, 2, 20), programme("mechatronica", 2, 2, 20)],
        "schools_named": [school("G1", 3, 26, 36000), school("G2", 1, 14, -1000)],
        "schools_not_named": 0,
    },
    collaboration={
        "bookings": 5, "crossing": 5, "crossing_share": 100.0,
        "by_boundary": [boundary("sector", 3, 35, 575), boundary("government", 1, 6, 225), boundary("company", 1, 14, 150)],
        "pairs": [pair("G1", "metaal", True, 2, 20, 410), pair("G1", "vdab", True, 1, 6, 225),
                  pair("G2", "metaal", True, 1, 15, 165), pair("G2", "robotix", True, 1, 14, 150)],
        "pair_count": 4,
    },
    money={
        "bookings": 4, "pupils": 40, "alternative_cents": 64000, "paid_cents": 29000, "savings_cents": 35000,
        "savings_per_pupil_cents": 875,  # 35000 / 40
        "bill_pupils": 20, "bill_savings_cents": 27000, "bill_cents": 924000, "bill_share": 2.9,
        "schools": 2, "schools_with_bill": 1, "without_alternative": 0,
        "by_programme": [money_row("lassen-constructie", 2, 20, 45000, 18000, 27000, 1350, 20, 27000, 924000, 46200, 2.9),
                         money_row("mechatronica", 2, 20, 19000, 11000, 8000, 400)],
    },
    unmet={
        "declined": 1, "expired": 0, "waitlist": 1,  # B15; W2 (G1)
        "searches": 0, "searches_matched": 0, "round_days": 0,
           "searches_counted": False,  # searches do not know the network
        "rows": [unmet_row("cobots-robotics", "VAN", declined=1, waitlist=1)],
    },
    quarters=[quarter(3, bookings=2, minutes=365, completed=2, pupils=26, schools=2, savings=14000, crossing=2, unmet=1),
              quarter(4, bookings=4, minutes=735, completed=2, pupils=14, schools=1, savings=21000, crossing=3, unmet=0)],
)

# programme=mechatronica: bookings B3 B7 B9 B12 B15; supply: the resources that offer mechatronica
# (R2 and R3; R4, where G1 booked B7 with mechatronica, does not list it and is not in supply).

MECHATRONICA = report(
    filters={"programme": {"value": "mechatronica", "label": "Mechatronica"}},
    supply={
        "facilities": 2, "resources": 2, "open_minutes": 33180, "closed_minutes": 0,  # R2 9420 + R3 23760
        "by_funding": [supply_row("sector", 1, 1, 9420, FUNDING), supply_row("company", 1, 1, 23760, FUNDING)],
        "by_category": [supply_row("cnc", 1, 1, 9420, CATEGORY), supply_row("cobots-robotics", 1, 1, 23760, CATEGORY)],
    },
    use={
        "bookings": 4, "minutes": 965,  # B9 420, B12 170, B3 150, B7 225
        # on the resources counted in supply (R2, R3) only: 420 + 170 + 150 (B7 is on R4, not in this supply)
        "supply_minutes": 740, "open_minutes": 33180, "utilisation": 2.2,  # 740 / 33180 = 2.230
        "by_status": [status("confirmed", 2, 590), status("completed", 2, 375), status("declined", 1, 165)],
        "by_category": [use_row("cnc", 1, 420, 420, 9420, 4.5), use_row("cobots-robotics", 2, 320, 320, 23760, 1.3),
                        use_row("plc-automation", 1, 225, 0, 0, None)],
    },
    reach={
        "bookings": 2, "pupils": 20, "schools": 2,
        "by_network": [network("go", 2, 2, 20)],
        "programmes": [programme("mechatronica", 2, 2, 20)],
        "schools_named": [school("G1", 1, 6, 9000), school("G2", 1, 14, -1000)],
        "schools_not_named": 0,
    },
    collaboration={
        "bookings": 4, "crossing": 4, "crossing_share": 100.0,
        "by_boundary": [boundary("sector", 1, 5, 420), boundary("government", 1, 6, 225), boundary("company", 2, 22, 320)],
        "pairs": [pair("O1", "metaal", True, 1, 5, 420), pair("G1", "vdab", True, 1, 6, 225),
                  pair("K1", "robotix", True, 1, 8, 170), pair("G2", "robotix", True, 1, 14, 150)],
        "pair_count": 4,
    },
    money={
        "bookings": 2, "pupils": 20, "alternative_cents": 19000, "paid_cents": 11000, "savings_cents": 8000,
        "savings_per_pupil_cents": 400, "bill_pupils": 0, "bill_savings_cents": 0, "bill_cents": 0, "bill_share": None,
        "schools": 2, "schools_with_bill": 0, "without_alternative": 0,
        "by_programme": [money_row("mechatronica", 2, 20, 19000, 11000, 8000, 400)],
    },
    unmet={
        "declined": 1, "expired": 0, "waitlist": 1, "searches": 1, "searches_matched": 0,  # B15, W2, S3
        "round_days": 0, "searches_counted": True,
        "rows": [unmet_row("cobots-robotics", "VAN", declined=1, waitlist=1, searches=1, matched=0)],
    },
    quarters=[quarter(3, bookings=1, minutes=150, completed=1, pupils=14, schools=1, savings=-1000, crossing=1, unmet=1),
              quarter(4, bookings=3, minutes=815, completed=1, pupils=6, schools=1, savings=9000, crossing=3, unmet=0)],
)

# owner=sint-jozef-gent: a school that opens its own workshop (R6): B4 (itself), B5 (same network),
# B6 (another network), B16 (expired).

SCHOOL_OWNER = report(
    filters={"owner": {"value": "sint-jozef-gent", "label": "Sint-Jozef Gent"}},
    supply={"facilities": 1, "resources": 1, "open_minutes": 6000, "closed_minutes": 480,
            "by_funding": [supply_row("school", 1, 1, 6000, FUNDING)],
            "by_category": [supply_row("electrical-installations", 1, 1, 6000, CATEGORY)]},
    use={"bookings": 3, "minutes": 480, "supply_minutes": 480, "open_minutes": 6000, "utilisation": 8.0,
         "by_status": [status("completed", 3, 480), status("expired", 1, 90)],
         "by_category": [use_row("electrical-installations", 3, 480, 480, 6000, 8.0)]},
    reach={"bookings": 3, "pupils": 36, "schools": 3,
           "by_network": [network("katholiek", 2, 2, 20), network("ovsg", 1, 1, 16)],
           "programmes": [programme("elektrotechnieken", 2, 2, 27), programme("", 1, 1, 9)],
           "schools_named": [school("K1", 1, 9, 6000), school("K2", 1, 11, 9000), school("O1", 1, 16, 8000)],
           "schools_not_named": 0},
    collaboration={"bookings": 3, "crossing": 1, "crossing_share": 33.3,
                   "by_boundary": [boundary("other_network", 1, 16, 90), boundary("same_network", 1, 11, 195),
                                   boundary("own_school", 1, 9, 195)],
                   "pairs": [pair("K1", "K1", False, 1, 9, 195), pair("K2", "K1", False, 1, 11, 195),
                             pair("O1", "K1", True, 1, 16, 90)],
                   "pair_count": 3},
    money={"bookings": 3, "pupils": 36, "alternative_cents": 27000, "paid_cents": 4000, "savings_cents": 23000,
           "savings_per_pupil_cents": 639,  # 23000 / 36 = 638.9
           "bill_pupils": 11, "bill_savings_cents": 9000, "bill_cents": 330000, "bill_share": 2.7,
           "schools": 3, "schools_with_bill": 1, "without_alternative": 0,
           "by_programme": [money_row("elektrotechnieken", 2, 27, 21000, 4000, 17000, 630, 11, 9000, 330000, 30000, 2.7),
                            money_row("", 1, 9, 6000, 0, 6000, 667)]},
    unmet={"declined": 0, "expired": 1, "waitlist": 1, "searches": 0, "searches_matched": 0, "round_days": 0,
           "searches_counted": False,
           "rows": [unmet_row("electrical-installations", "VOV", expired=1, waitlist=1)]},
    quarters=[quarter(3),
              quarter(4, bookings=3, minutes=480, completed=3, pupils=36, schools=3, savings=23000, crossing=1, unmet=1)],
)

# region=VAN, funding=government, category=plc-automation: R4 only: B7 (G1 of VOV), B13, B17

VAN_PLC = report(
    regions=[{"code": "VAN", "name": "Antwerpen", "custom": False, "cut_to_scope": False}],
    filters={"funding": {"value": "government", "label": "Door de overheid gesubsidieerd"},
             "category": {"value": "plc-automation", "label": "PLC en automatisering"}},
    supply={"facilities": 1, "resources": 1, "open_minutes": 11640, "closed_minutes": 1080,
            "by_funding": [supply_row("government", 1, 1, 11640, FUNDING)],
            "by_category": [supply_row("plc-automation", 1, 1, 11640, CATEGORY)]},
    use={"bookings": 2, "minutes": 375, "supply_minutes": 375, "open_minutes": 11640, "utilisation": 3.2,
         "by_status": [status("completed", 1, 225), status("no_show", 1, 150), status("cancelled", 1, 95)],
         "by_category": [use_row("plc-automation", 2, 375, 375, 11640, 3.2)]},
    reach={"bookings": 1, "pupils": 6, "schools": 1, "by_network": [network("go", 1, 1, 6)],
           "programmes": [programme("mechatronica", 1, 1, 6)], "schools_named": [school("G1", 1, 6, 9000)],
           "schools_not_named": 0},
    collaboration={"bookings": 1, "crossing": 1, "crossing_share": 100.0,
                   "by_boundary": [boundary("government", 1, 6, 225)],
                   "pairs": [pair("G1", "vdab", True, 1, 6, 225)], "pair_count": 1},
    money={"bookings": 1, "pupils": 6, "alternative_cents": 15000, "paid_cents": 6000, "savings_cents": 9000,
           "savings_per_pupil_cents": 1500, "bill_pupils": 0, "bill_savings_cents": 0, "bill_cents": 0, "bill_share": None,
           "schools": 1, "schools_with_bill": 0, "without_alternative": 0,
           "by_programme": [money_row("mechatronica", 1, 6, 15000, 6000, 9000, 1500)]},
    unmet={"declined": 0, "expired": 0, "waitlist": 0, "searches": 0, "searches_matched": 0, "round_days": 0,
           "searches_counted": False,
           "rows": []},
    quarters=[quarter(3),
              quarter(4, bookings=2, minutes=375, completed=1, pupils=6, schools=1, savings=9000, crossing=1, unmet=0)],
)

# name -> (query parameters, expected report)
CASES = {
    "all": ({}, ALL),
    "vov": ({"region": "VOV"}, VOV),
    "zone": ({"region": "ZONE-GM"}, ZONE),
    "network-go": ({"network": "go"}, GO),
    "programme": ({"programme": "mechatronica"}, MECHATRONICA),
    "school-owner": ({"owner": "sint-jozef-gent"}, SCHOOL_OWNER),
    "van-plc": ({"region": "VAN", "funding": "government", "category": "plc-automation"}, VAN_PLC),
}


# --- helpers -------------------------------------------------------------------------------------

def differences(actual, expected, path: str = "") -> list[str]:
    """Every place where `actual` differs from `expected`, as `path: actual != expected`."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        found = []
        for key in sorted(set(expected) | set(actual)):
            if key not in actual:
                found.append(f"{path}.{key}: missing (expected {expected[key]!r})")
            elif key not in expected:
                found.append(f"{path}.{key}: unexpected {actual[key]!r}")
            else:
                found += differences(actual[key], expected[key], f"{path}.{key}")
        return found
    if isinstance(expected, list) and isinstance(actual, list):
        found = []
        if len(actual) != len(expected):
            found.append(f"{path}: {len(actual)} rows, expected {len(expected)}: "
                         f"{[_row_id(r) for r in actual]} != {[_row_id(r) for r in expected]}")
        for index, (a, e) in enumerate(zip(actual, expected, strict=False)):
            found += differences(a, e, f"{path}[{_row_id(e) or index}]")
        return found
    if actual != expected or type(actual) is not type(expected):
        return [f"{path}: {actual!r} != {expected!r}"]
    return []


def _row_id(row) -> str:
    if isinstance(row, dict):
        for name in ("key", "name", "code"):
            if name in row:
                return str(row[name])
        if "school" in row:
            return f"{row['school']}|{row['owner']}"
        if "category" in row:
            return f"{row['category']}/{row['region']}"
    return ""


def without_moment(data: dict) -> dict:
    return {k: v for k, v in data.items() if k != "generated_at"}


def query(params: dict) -> str:
    return urlencode({**PERIOD, **params})


async def platform_admin(create_user):
    from accounts import services as accounts

    user = await create_user("platform_admin", email="beheer@werkbank.be")
    return user, await accounts.load_actor(user)


async def service_report(uow, params: dict) -> dict:
    from reports import services
    from reports.request import parse

    wanted = parse({**PERIOD, **params}, date(2026, 11, 29))
    return (await services.regional_report(uow, wanted)).to_dict()


# --- the service ---------------------------------------------------------------------------------

@pytest.mark.parametrize("case", list(CASES))
async def test_every_figure_as_computed_by_hand(report_world, uow_for, case):
    from accounts.services import system_actor

    params, expected = CASES[case]
    actual = await service_report(uow_for(system_actor()), params)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", actual["generated_at"])
    problems = differences(without_moment(actual), expected)
    assert not problems, f"{len(problems)} figures differ:\n" + "\n".join(problems)


async def test_the_request_is_read_as_given(report_world, uow_for):
    """The request object itself, with the period's bounds at Brussels midnight."""
    from accounts.services import system_actor
    from reports import services
    from reports.request import ReportRequest

    wanted = ReportRequest(first=FIRST, last=LAST, regions=("VOV",))
    assert wanted.start.isoformat() == "2026-06-30T22:00:00+00:00"  # 1 July 00:00 summer time
    assert wanted.end.isoformat() == "2026-12-31T23:00:00+00:00"  # 1 January 00:00 winter time
    got = (await services.regional_report(uow_for(system_actor()), wanted)).to_dict()
    assert not differences(without_moment(got), VOV)


async def test_a_platform_admin_sees_what_the_system_sees(report_world, uow_for, create_user):
    _user, actor = await platform_admin(create_user)
    got = await service_report(uow_for(actor), {})
    assert not differences(without_moment(got), ALL)


def test_the_report_texts_are_in_dutch():
    """The labels the figures above use, and the report's own, have a Dutch translation."""
    messages = [*BOUNDARY.values(), NO_PROGRAMME, ANY_CATEGORY, *SCOPE.values(), "Q%(q)s %(year)s",
                "A school of %(network)s", "No network", "Unknown region"]
    untranslated = [m for m in messages if nl(m) == m]
    assert not untranslated, f"not translated into Dutch: {untranslated}"


# --- the JSON API ----------------------------------------------------------------------------------

async def api_headers(create_user, uow_for) -> dict:
    from accounts import services as accounts

    _user, actor = await platform_admin(create_user)
    _row, token = await accounts.create_api_token(uow_for(actor), "rapport")
    return {"Authorization": f"Bearer {token}"}


async def test_the_json_api_gives_the_same_figures(report_world, client, create_user, uow_for):
    """Every case of CASES through `GET /api/v1/reports/regions` (one dataset; every case's differences
    are listed before the test fails)."""
    headers = await api_headers(create_user, uow_for)
    failures = {}
    for case, (params, expected) in CASES.items():
        response = await client.get(f"/api/v1/reports/regions?{query(params)}", headers=headers)
        if response.status_code != 200 or not response.headers["content-type"].startswith("application/json"):
            failures[case] = [f"{response.status_code} {response.headers['content-type']}: {response.text[:300]}"]
            continue
        problems = differences(without_moment(response.json()), expected)
        if problems:
            failures[case] = problems
    assert not failures, "\n".join(f"{case}: {len(p)} differ:\n  " + "\n  ".join(p) for case, p in failures.items())


async def test_the_api_takes_regions_repeated_or_comma_separated(report_world, client, create_user, uow_for):
    headers = await api_headers(create_user, uow_for)
    repeated = await client.get(f"/api/v1/reports/regions?{query({})}&region=VOV&region=ZONE-GM", headers=headers)
    joined = await client.get(f"/api/v1/reports/regions?{query({'region': 'VOV,ZONE-GM'})}", headers=headers)
    assert repeated.status_code == joined.status_code == 200, repeated.text
    a, b = without_moment(repeated.json()), without_moment(joined.json())
    assert a == b and [r["code"] for r in a["regions"]] == ["VOV", "ZONE-GM"]
    # the union of Oost-Vlaanderen and Gent-Mechelen: every booking but B3 and B20 (both in Antwerpen)
    assert a["use"]["bookings"] == ZONE["use"]["bookings"] and a["use"]["minutes"] == ZONE["use"]["minutes"]
    assert a["unmet"]["searches"] == 3  # S1, S2 (VOV without a postal code), S3 (2800 typed)


# --- CSV -------------------------------------------------------------------------------------------

IDENTITY = ("key", "label", "name", "school", "owner", "category", "category_label", "region", "region_label")


def csv_expected(expected: dict) -> dict[tuple[str, str, str], str]:
    """(section, figure, key) -> value, as the long table writes the report: totals with an empty key,
    list rows `<list>.<field>` with the row's key (`school|owner` for pairs, `category/region` for unmet
    demand, the name for schools), quarters in section `quarter`; integers as integers, shares with a dot,
    booleans 1 or 0, nothing to divide by empty."""
    def text(value) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, str):
            return value
        return repr(value)

    rows = {}
    for section in ("supply", "use", "reach", "collaboration", "money", "unmet"):
        for name, value in expected[section].items():
            if isinstance(value, list):
                for row in value:
                    for field, item in row.items():
                        if field not in IDENTITY:
                            rows[(section, f"{name}.{field}", _row_id(row))] = text(item)
            else:
                rows[(section, name, "")] = text(value)
    for row in expected["quarters"]:
        for field, item in row.items():
            if field not in ("key", "label"):
                rows[("quarter", field, row["key"])] = text(item)
    return rows


def csv_problems(response, expected: dict) -> list[str]:
    if response.status_code != 200:
        return [f"{response.status_code}: {response.text[:300]}"]
    problems = []
    if not response.headers["content-type"].startswith("text/csv"):
        problems.append(f"content-type {response.headers['content-type']}")
    if not response.content.startswith(b"\xef\xbb\xbf"):  # a BOM, for Excel
        problems.append("no BOM")
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    if table[0] != ["section", "figure", "key", "label", "value", "unit"]:
        problems.append(f"header {table[0]}")
    got = {(section, figure, key): value for section, figure, key, _label, value, _unit in table[1:]}
    want = csv_expected(expected)
    problems += [f"{k}: csv {got.get(k)!r} != {v!r}" for k, v in want.items() if got.get(k) != v]
    problems += [f"{k}: a row the report does not have" for k in sorted(got) if k[0] != "report" and k not in want]
    head = {"from": "2026-07-01", "to": "2026-12-31", "regions": " ".join(r["code"] for r in expected["regions"])}
    problems += [f"report {k}: {got.get(('report', k, ''))!r} != {v!r}" for k, v in head.items()
                 if got.get(("report", k, "")) != v]
    units = {(row[0], row[1]): row[5] for row in table[1:]}
    for figure, unit in {("money", "savings_cents"): "cents", ("supply", "open_minutes"): "minutes",
                         ("use", "utilisation"): "percent", ("reach", "pupils"): "count",
                         ("money", "by_programme.bill_share"): "percent"}.items():
        if units.get(figure) != unit:
            problems.append(f"unit of {figure}: {units.get(figure)!r} != {unit!r}")
    return problems


async def test_the_csv_has_every_figure(report_world, client, create_user):
    await create_user("platform_admin", email="beheer@werkbank.be")
    await login(client, "beheer@werkbank.be")
    failures = {}
    for case in ("all", "vov", "zone", "network-go", "programme", "school-owner"):
        params, expected = CASES[case]
        problems = csv_problems(await client.get(f"/reports/regions.csv?{query(params)}"), expected)
        if problems:
            failures[case] = problems
    assert not failures, "\n".join(f"{case}: {len(p)} differ:\n  " + "\n  ".join(p) for case, p in failures.items())


# --- XLSX ------------------------------------------------------------------------------------------

async def test_the_workbook_shows_the_headline_figures(report_world, client, create_user):
    from openpyxl import load_workbook

    await create_user("platform_admin", email="beheer@werkbank.be")
    await login(client, "beheer@werkbank.be")
    response = await client.get(f"/reports/regions.xlsx?{query({'region': 'VOV'})}")
    assert response.status_code == 200, response.text
    assert "spreadsheetml" in response.headers["content-type"]
    assert 'filename="werkbank-regio-2026-07-01-2026-12-31-VOV.xlsx"' in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    overview = book.worksheets[0]
    values = {row[0]: row[1] for row in overview.iter_rows(values_only=True) if row and isinstance(row[0], str)}
    # (label as the Dutch workbook shows it) -> value: euro = cents / 100, hours = minutes / 60, shares as fractions
    headline = {
        "Resources open to schools": 3, "Facilities": 2,
        "Open hours": pytest.approx(80940 / 60),  # 1349 h
        "Bookings": 10, "Hours booked": pytest.approx(2085 / 60),
        "Utilisation": pytest.approx(0.021),
        "Pupils reached": 62, "Schools reached": 4,
        "Bookings across a boundary": 7, "Share across a boundary": pytest.approx(0.778),
        "Savings": pytest.approx(590.00), "Savings per pupil": pytest.approx(9.52),
        "Share of the school bill": pytest.approx(0.029),
        "Declined requests": 2, "Expired requests": 1, "On a waitlist": 3, "Searches that found nothing free": 2,
    }
    wrong = {label: values.get(nl(label)) for label, value in headline.items() if values.get(nl(label)) != value}
    assert not wrong, wrong
    assert values[nl("Schools with a school bill")] == nl("%(n)s of %(m)s schools recorded it", n=2, m=4)
    # the savings sheet: one row per study programme, euro
    sheet = next(ws for ws in book.worksheets if ws.title == nl("Savings")[:31])
    rows = {row[0]: row for row in sheet.iter_rows(values_only=True) if row and row[0]}
    lassen = rows["Lassen-constructie"]
    assert list(lassen[1:12]) == [2, 20, 450.0, 180.0, 270.0, 13.5, 20, 270.0, 9240.0, 462.0, pytest.approx(0.029)]
    assert rows[nl(NO_PROGRAMME)][5] == 60.0 and rows[nl(NO_PROGRAMME)][6] == 6.67
    assert rows[nl("Total")][5] == 590.0


# --- the page --------------------------------------------------------------------------------------

class Figures(HTMLParser):
    """Every element with data-figure: path -> its text."""

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, str] = {}
        self.open: list[tuple[str, str, list[str]]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "data-figure" in attributes:
            self.open.append((tag, attributes["data-figure"], []))
        elif self.open:
            self.open.append((tag, "", []))

    def handle_endtag(self, tag):
        if not self.open:
            return
        _tag, path, parts = self.open.pop()
        if path:
            assert path not in self.found, f"{path} twice on the page"
            self.found[path] = "".join(parts).strip()
        elif self.open:
            self.open[-1][2].extend(parts)

    def handle_data(self, data):
        if self.open:
            self.open[-1][2].append(data)


def page_expected(expected: dict) -> dict[str, str]:
    """data-figure path -> the text the Dutch page shows (reports.formatting), for every number of the
    report but the lists of named schools and pairs."""
    from reports import formatting as f

    def shown(field: str, value) -> str:
        if field in ("utilisation", "crossing_share", "bill_share"):
            return f.percent(value)
        if field.endswith("_cents"):
            return f.money(value)
        if field == "minutes" or field.endswith("_minutes"):
            return f.hours(value)
        return f.count(value)

    paths = {}
    with use_language("nl"):
        for section in ("supply", "use", "reach", "collaboration", "money", "unmet"):
            for name, value in expected[section].items():
                if name in ("schools_named", "pairs", "pair_count", "searches_counted"):
                    continue
                if isinstance(value, list):
                    for row in value:
                        key = (f"{row['category'] or 'none'}/{row['region'] or 'none'}" if name == "rows"
                               else row["key"] or "none")
                        for field, item in row.items():
                            if field not in IDENTITY and field != "crossing":
                                paths[f"{section}.{name}.{key}.{field}"] = shown(field, item)
                else:
                    paths[f"{section}.{name}"] = shown(name, value)
        for row in expected["quarters"]:
            for field, item in row.items():
                if field not in ("key", "label", "first", "last"):
                    paths[f"quarters.{row['key']}.{field}"] = shown(field, item)
    if not expected["unmet"]["searches_counted"]:  # not counted: the page says why, or shows a dash, never a 0
        for path in [p for p in paths if p.startswith(("unmet.searches", "unmet.rows.")) and "searches" in p]:
            paths[path] = NOT_COUNTED
    if not expected["reach"]["schools_not_named"]:  # "0 schools not named" is not said
        paths.pop("reach.schools_not_named")
    return paths


NOT_COUNTED = "(searches are not counted with this filter: no number, or a dash)"


async def report_page(client, params: dict) -> tuple[int, str, dict[str, str]]:
    response = await client.get(f"/reports/regions?{query(params)}")
    parser = Figures()
    parser.feed(response.text)
    return response.status_code, response.text, parser.found


async def admin_session(client, create_user) -> None:
    await create_user("platform_admin", email="beheer@werkbank.be")
    await login(client, "beheer@werkbank.be")


# the figures the page must at least show (the totals the issue names and every table's rows)
HEADLINE = ("supply.resources", "supply.facilities", "supply.open_minutes", "use.bookings", "use.minutes", "use.utilisation",
            "reach.pupils", "reach.schools", "collaboration.crossing", "collaboration.crossing_share", "money.savings_cents",
            "money.savings_per_pupil_cents", "money.bill_share", "unmet.declined", "unmet.expired", "unmet.waitlist")


def page_problems(status: int, html: str, found: dict[str, str], expected: dict) -> list[str]:
    if status != 200:
        return [f"status {status}: {html[:300]}"]
    want = page_expected(expected)
    problems = [f"{path}: page {found[path]!r} != {text!r}" for path, text in want.items()
                if path in found and found[path] != text and not (text is NOT_COUNTED and found[path] == "–")]
    problems += [f"{path}: not on the page" for path in HEADLINE if path not in found]
    rows = [p for p in want if p.count(".") == 3 and not p.startswith("quarters.")]
    if len([p for p in rows if p in found]) < len(rows) // 2:
        problems.append("most rows of the tables are not on the page")
    problems += [f"{path}: on the page, not in the report (or not to be shown)" for path in sorted(set(found) - set(want))]
    problems += [f"school {row['name']} not named" for row in expected["reach"]["schools_named"] if row["name"] not in html]
    return problems


async def test_the_page_shows_the_figures(report_world, client, create_user):
    """Every figure on the page (data-figure) reads as computed by hand."""
    await admin_session(client, create_user)
    failures = {}
    for case in ("all", "vov", "zone", "network-go", "programme", "school-owner", "van-plc"):
        params, expected = CASES[case]
        problems = page_problems(*await report_page(client, params), expected)
        if problems:
            failures[case] = problems
    assert not failures, "\n".join(f"{case}: {len(p)} differ:\n  " + "\n  ".join(p) for case, p in failures.items())


async def test_the_page_has_every_figure_of_the_report(report_world, client, create_user):
    """The issue: every number of the report on the page, each in an element with data-figure."""
    await admin_session(client, create_user)
    _status, _html, found = await report_page(client, {})
    missing = sorted(path for path in page_expected(ALL) if path not in found)
    assert not missing, f"{len(missing)} figures of the report have no data-figure on the page: {missing}"


async def test_the_page_formats_figures_in_dutch(report_world, client, create_user):
    """A few texts spelled out, as a reader sees them (not through reports.formatting)."""
    await admin_session(client, create_user)
    _status, _html, got = await report_page(client, {})
    assert got["supply.open_minutes"] == "1.939 u"  # 116340 minutes
    assert got["use.minutes"] == "43 u 5 min"  # 2585 minutes
    assert got["use.utilisation"] == "2,1\xa0%"
    assert got["money.savings_cents"] == "€\xa0620,00"
    assert got["money.savings_per_pupil_cents"] == "€\xa07,21"
    assert got["money.by_programme.mechatronica.savings_cents"] == "€\xa080,00"
    assert got["money.by_programme.none.savings_per_pupil_cents"] == "€\xa05,26"
    assert got["money.by_programme.mechatronica.bill_share"] == "–"  # nothing to divide by
    assert got["collaboration.crossing_share"] == "81,8\xa0%"
    assert got["use.by_status.confirmed.minutes"] == "9 u 50 min"  # B9 on the DST night: 7 h, + B12 2 u 50 min


# --- the command line ------------------------------------------------------------------------------

@pytest.fixture
def werkbank(db, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from cli import main
    from core.db import bind_engine

    monkeypatch.setenv("WERKBANK_DATABASE_URL", db.url)
    monkeypatch.setenv("WERKBANK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WERKBANK_SECRET_KEY", "cli-test-secret-key-that-is-long-enough-0123")
    runner = CliRunner()

    def run(*args):
        try:
            return runner.invoke(main, list(args), catch_exceptions=False)
        finally:
            bind_engine(db.engine)  # the command bound its own engine

    return run


def test_the_command_line_writes_the_same_figures(report_world, werkbank, tmp_path):
    output = tmp_path / "vov.json"
    result = werkbank("report", "regions", "--from", "2026-07-01", "--to", "2026-12-31", "--region", "VOV",
                      "--format", "json", "--output", str(output))
    assert result.exit_code == 0, result.output
    problems = differences(without_moment(json.loads(output.read_text(encoding="utf-8"))), VOV)
    assert not problems, "\n".join(problems)
    refused = werkbank("report", "regions", "--from", "2026-12-31", "--to", "2026-07-01", "--format", "json",
                       "--output", str(tmp_path / "x.json"))
    assert refused.exit_code != 0 and "Traceback" not in refused.output
