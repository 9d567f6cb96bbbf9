"""A small, deliberate dataset for the regional sharing report, every figure of which is computed
by hand in tests/reports/test_figures.py. The period is 2026-07-01..2026-12-31 (Q3 and Q4 2026,
Brussels days); all times below are Brussels wall times.

Geography (postal code -> province):
  Gent 9000 and Aalst 9300 lie in Oost-Vlaanderen (VOV); Antwerpen 2000 and Mechelen 2800 in
  Antwerpen (VAN). The custom region ZONE-GM is Gent (NIS 44021) + Mechelen (NIS 12025): it
  straddles VOV and VAN.

Schools (organisation, network, place):
  G1 "GO! Atheneum Gent"                 go         Gent 9000      VOV
  G2 "GO! Technisch Atheneum Antwerpen"  go         Antwerpen 2000 VAN
  K1 "Sint-Jozef Gent"                   katholiek  Gent 9000      VOV  (also opens its own workshop)
  K2 "Sint-Victor Mechelen"              katholiek  Mechelen 2800  VAN
  O1 "Stedelijk Lyceum Aalst"            ovsg       Aalst 9300     VOV

Owners, facilities, resources (category, funding, opening hours -> open minutes in the period):
  metaal  "Sectorfonds Metaal" (sector_fund)  F1 Metaalcampus Gent 9000 (VOV)
      R1 Lasatelier      welding          sector  ma-vr 08:00-16:30   programmes: lassen-constructie
      R2 Nachtdraaibank  cnc              sector  zo 00:00-06:00      programmes: mechatronica
  robotix "Robotix NV" (company)               F2 Robotix Antwerpen 2000 (VAN)
      R3 Cobotcel        cobots-robotics  company ma-vr 09:00-12:00   programmes: mechatronica
      R7 Reservecobot    cobots-robotics  company (no opening hours: not in supply)
  vdab    "VDAB Mechelen" (government)          F3 VDAB-campus Mechelen 2800 (VAN)
      R4 PLC-labo        plc-automation   government di,do 13:00-17:00  (no programmes)
      R5 Oude draaibank  cnc              government di,do 08:00-12:00  RETIRED (has a booking)
  K1      "Sint-Jozef Gent" (school)            F4 Sint-Jozef Gent 9000 (VOV)
      R6 Elektrolabo     electrical-installations school wo 08:00-12:00  programmes: elektrotechnieken

Weekdays in 2026-07-01 (Wed) .. 2026-12-31 (Thu): 184 days = 26 weeks + Wed Dec 30 + Thu Dec 31,
so Mon 26, Tue 26, Wed 27, Thu 27, Fri 26, Sat 26, Sun 26.
  R1: 510 min x (26+26+27+27+26 = 132 days)          = 67320
  R2: 360 min x 26 Sundays + 60 (Sun 25 Oct, clocks back 03:00 -> 02:00: 00:00-06:00 is 7 h) = 9420
  R3: 180 min x 132                                 = 23760
  R4: 240 min x (26 Tue + 27 Thu = 53)              = 12720
  R6: 240 min x 27 Wed                              =  6480
Closures:
  R1 Tue 15 Sep 10:00-12:30 (partial day)                                        -150
  R1 Mon 2 Nov 08:00 - Wed 4 Nov 12:00 and Tue 3 Nov 00:00 - Thu 5 Nov 10:00 (overlap):
     union Mon 2 Nov 08:00 - Thu 5 Nov 10:00 = 510 + 510 + 510 + 120            -1650
     (subtracted twice it would be 1260 + 1140 = 2400)
  R4 Thu 17 Dec 15:00 - 15 Jan 2027 (past the end): Thu 17 Dec 120, Tue 22, Thu 24,
     Tue 29, Thu 31 Dec 4 x 240                                                  -1080
  R6 20 Jun 2026 - Wed 8 Jul 12:00 (starts before the period): Wed 1 and 8 Jul   -480
  -> open: R1 65520, R2 9420, R3 23760, R4 11640, R6 6000; total 116340, closed 3360.

Bookings (B18 and B19 lie outside the period; minutes are real minutes from start to end):
  id  resource school status     start (Brussels)          min  group attended programme        price  alt    payment
  B1  R1  G1  completed  Tue 2026-08-25 08:15-11:50  215  12    -      lassen-constructie 10000 25000 invoice
  B2  R1  G1  completed  Thu 2026-10-08 13:05-16:20  195  10    8      lassen-constructie  8000 20000 invoice
  B3  R3  G2  completed  Mon 2026-09-07 09:10-11:40  150  14    -      mechatronica        5000  4000 invoice
  B4  R6  K1  completed  Wed 2026-10-14 08:20-11:35  195   9    -      -                      0  6000 free
  B5  R6  K2  completed  Wed 2026-11-18 08:30-11:45  195  11    -      elektrotechnieken   7500  9000 free
  B6  R6  O1  completed  Wed 2026-12-02 08:45-10:15   90  16    -      elektrotechnieken   4000 12000 invoice
  B7  R4  G1  completed  Tue 2026-11-10 13:10-16:55  225   6    -      mechatronica        6000 15000 invoice
  B8  R5  K2  completed  Thu 2026-07-09 09:05-12:25  200  10    -      -                   3000  7000 invoice
  B9  R2  O1  confirmed  Sun 2026-10-25 00:00-06:00  420   5    -      mechatronica        2000  2000 invoice
  B10 R1  K1  requested  Mon 2026-12-07 08:15-11:50  215  12    -      lassen-constructie  9000 20000 invoice
  B11 R1  G2  approved   Tue 2026-12-08 12:40-15:25  165  15    -      lassen-constructie  8000 18000 invoice
  B12 R3  K1  confirmed  Fri 2026-12-11 09:05-11:55  170   8    -      mechatronica        5000  6000 invoice
  B13 R4  G2  no_show    Thu 2026-10-01 13:15-15:45  150  10    -      -                   5000  9000 invoice
  B14 R1  O1  declined   Wed 2026-09-16 08:10-10:10  120  12    -      lassen-constructie  6000 15000 invoice
  B15 R3  G1  declined   Tue 2026-07-14 09:00-11:45  165  10    -      mechatronica        5000  6000 invoice
  B16 R6  K2  expired    Wed 2026-12-16 08:00-09:30   90  10    -      elektrotechnieken   3000  6000 invoice
  B17 R4  O1  cancelled  Tue 2026-11-24 13:00-14:35   95   8    -      -                   4000  8000 invoice
  B20 R3  G2  cancelled  Wed 2026-07-01 00:30-02:00   90   5    -      -                   1000  2000 invoice
      (in the period although it starts on 30 June in UTC)
  B18 R1  G1  completed  Tue 2026-06-30 14:00-16:00  (before the period)
  B19 R1  G1  confirmed  Fri 2027-01-01 00:15-02:45  (after the period, although 31 December in UTC)

School bills (school, programme, school year = first calendar year, cents per pupil):
  G1 lassen-constructie 2025 45000   (B1, 25 Aug 2026, falls in school year 2025-2026)
  G1 lassen-constructie 2026 48000   (B2, 8 Oct 2026, school year 2026-2027)
  G1 mechatronica       2025 99900   (never applies: B7 is in November 2026, school year 2026)
  K2 elektrotechnieken  2026 30000   (B5)
  O1 mechatronica       2026 20000   (O1 completed no mechatronica booking: never applies)

Waitlist entries (resource, school, status, start):
  W1 R1 O1 waiting   Tue 2026-12-08 13:00-15:00  lassen-constructie
  W2 R3 G1 offered   Fri 2026-12-11 10:00-11:00  mechatronica
  W3 R1 K1 accepted  Mon 2026-12-07 09:00-11:00  lassen-constructie   (got its time: not unmet)
  W4 R6 K2 expired   Wed 2026-12-16 08:00-09:30  elektrotechnieken
  W5 R4 O1 cancelled Tue 2026-11-24 13:00-15:00  -                    (not unmet)
  W6 R1 O1 waiting   Tue 2027-01-12 08:00-10:00  lassen-constructie   (after the period)

Search records (free_from, category, programme, region_code, typed postal code, matched):
  S1 2026-09-10 welding          lassen-constructie VOV 9000  1
  S2 2026-11-05 welding          -                  VOV -     2
  S3 2026-10-01 cobots-robotics  mechatronica       VAN 2800  0
  S4 2027-02-01 cnc              -                  VOV 9300  4   (after the period)
  S5 2026-06-15 cnc              -                  VAN -     5   (before the period)
  S6 2026-12-01 (any category)   -                  VAN 2000  3
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from core.i18n import BRUSSELS

FIRST, LAST = date(2026, 7, 1), date(2026, 12, 31)
PERIOD = {"from": "2026-07-01", "to": "2026-12-31"}


def at(day: date | str, hh: int, mm: int = 0) -> datetime:
    """A Brussels wall time (fold 0), aware."""
    day = date.fromisoformat(day) if isinstance(day, str) else day
    return datetime.combine(day, time(hh, mm), BRUSSELS)


SCHOOLS = {
    # key: (slug, name, network, postal code, municipality, region)
    "G1": ("go-atheneum-gent", "GO! Atheneum Gent", "go", "9000", "Gent", "VOV"),
    "G2": ("go-ta-antwerpen", "GO! Technisch Atheneum Antwerpen", "go", "2000", "Antwerpen", "VAN"),
    "K1": ("sint-jozef-gent", "Sint-Jozef Gent", "katholiek", "9000", "Gent", "VOV"),
    "K2": ("sint-victor-mechelen", "Sint-Victor Mechelen", "katholiek", "2800", "Mechelen", "VAN"),
    "O1": ("stedelijk-lyceum-aalst", "Stedelijk Lyceum Aalst", "ovsg", "9300", "Aalst", "VOV"),
}

# (key, resource, school, status, day, start h, m, end h, m, group, attended, programme, price, alternative, payment)
BOOKINGS = [
    ("B1", "R1", "G1", "completed", "2026-08-25", 8, 15, 11, 50, 12, None, "lassen-constructie", 10000, 25000, "invoice"),
    ("B2", "R1", "G1", "completed", "2026-10-08", 13, 5, 16, 20, 10, 8, "lassen-constructie", 8000, 20000, "invoice"),
    ("B3", "R3", "G2", "completed", "2026-09-07", 9, 10, 11, 40, 14, None, "mechatronica", 5000, 4000, "invoice"),
    ("B4", "R6", "K1", "completed", "2026-10-14", 8, 20, 11, 35, 9, None, None, 0, 6000, "free"),
    ("B5", "R6", "K2", "completed", "2026-11-18", 8, 30, 11, 45, 11, None, "elektrotechnieken", 7500, 9000, "free"),
    ("B6", "R6", "O1", "completed", "2026-12-02", 8, 45, 10, 15, 16, None, "elektrotechnieken", 4000, 12000, "invoice"),
    ("B7", "R4", "G1", "completed", "2026-11-10", 13, 10, 16, 55, 6, None, "mechatronica", 6000, 15000, "invoice"),
    ("B8", "R5", "K2", "completed", "2026-07-09", 9, 5, 12, 25, 10, None, None, 3000, 7000, "invoice"),
    ("B9", "R2", "O1", "confirmed", "2026-10-25", 0, 0, 6, 0, 5, None, "mechatronica", 2000, 2000, "invoice"),
    ("B10", "R1", "K1", "requested", "2026-12-07", 8, 15, 11, 50, 12, None, "lassen-constructie", 9000, 20000, "invoice"),
    ("B11", "R1", "G2", "approved", "2026-12-08", 12, 40, 15, 25, 15, None, "lassen-constructie", 8000, 18000, "invoice"),
    ("B12", "R3", "K1", "confirmed", "2026-12-11", 9, 5, 11, 55, 8, None, "mechatronica", 5000, 6000, "invoice"),
    ("B13", "R4", "G2", "no_show", "2026-10-01", 13, 15, 15, 45, 10, None, None, 5000, 9000, "invoice"),
    ("B14", "R1", "O1", "declined", "2026-09-16", 8, 10, 10, 10, 12, None, "lassen-constructie", 6000, 15000, "invoice"),
    ("B15", "R3", "G1", "declined", "2026-07-14", 9, 0, 11, 45, 10, None, "mechatronica", 5000, 6000, "invoice"),
    ("B16", "R6", "K2", "expired", "2026-12-16", 8, 0, 9, 30, 10, None, "elektrotechnieken", 3000, 6000, "invoice"),
    ("B17", "R4", "O1", "cancelled", "2026-11-24", 13, 0, 14, 35, 8, None, None, 4000, 8000, "invoice"),
    ("B18", "R1", "G1", "completed", "2026-06-30", 14, 0, 16, 0, 12, None, "lassen-constructie", 8000, 20000, "invoice"),
    ("B19", "R1", "G1", "confirmed", "2027-01-01", 0, 15, 2, 45, 12, None, "lassen-constructie", 8000, 20000, "invoice"),
    ("B20", "R3", "G2", "cancelled", "2026-07-01", 0, 30, 2, 0, 5, None, None, 1000, 2000, "invoice"),
]

BILLS = [("G1", "lassen-constructie", 2025, 45000), ("G1", "lassen-constructie", 2026, 48000),
         ("G1", "mechatronica", 2025, 99900), ("K2", "elektrotechnieken", 2026, 30000),
         ("O1", "mechatronica", 2026, 20000)]

# (resource, school, status, day, start h, end h, programme)
WAITLIST = [
    ("R1", "O1", "waiting", "2026-12-08", 13, 15, "lassen-constructie"),
    ("R3", "G1", "offered", "2026-12-11", 10, 11, "mechatronica"),
    ("R1", "K1", "accepted", "2026-12-07", 9, 11, "lassen-constructie"),
    ("R6", "K2", "expired", "2026-12-16", 8, 9, "elektrotechnieken"),
    ("R4", "O1", "cancelled", "2026-11-24", 13, 15, None),
    ("R1", "O1", "waiting", "2027-01-12", 8, 10, "lassen-constructie"),
]

# (day, category, programme, region_code, postal_code, matched)
SEARCHES = [
    ("2026-09-10", "welding", "lassen-constructie", "VOV", "9000", 1),
    ("2026-11-05", "welding", "", "VOV", "", 2),
    ("2026-10-01", "cobots-robotics", "mechatronica", "VAN", "2800", 0),
    ("2027-02-01", "cnc", "", "VOV", "9300", 4),
    ("2026-06-15", "cnc", "", "VAN", "", 5),
    ("2026-12-01", "", "", "VAN", "2000", 3),
]


@pytest.fixture
async def report_world(db, create_org, create_user, owner_org, create_facility, create_resource):
    """The dataset above; returns its organisations, resources, teachers and bookings by key."""
    from accounts.tables import SchoolBill
    from booking.tables import Booking, WaitlistEntry
    from inventory.tables import Closure, Resource, SearchRecord, StudyProgramme
    from regions.tables import CustomRegion

    orgs = {}
    for key, (slug, name, network, postal, municipality, region) in SCHOOLS.items():
        orgs[key] = await create_org(slug=slug, name=name, network=network, postal_code=postal,
                                     municipality=municipality, region_code=region)
    orgs["metaal"] = await owner_org(slug="metaal", name="Sectorfonds Metaal", kind="sector_fund")
    orgs["robotix"] = await owner_org(slug="robotix", name="Robotix NV", kind="company")
    orgs["vdab"] = await owner_org(slug="vdab", name="VDAB Mechelen", kind="government")

    f1 = await create_facility(orgs["metaal"], postal_code="9000", name="Metaalcampus Gent")
    f2 = await create_facility(orgs["robotix"], postal_code="2000", name="Robotix Antwerpen")
    f3 = await create_facility(orgs["vdab"], postal_code="2800", name="VDAB-campus Mechelen")
    f4 = await create_facility(orgs["K1"], postal_code="9000", name="Sint-Jozef Gent")
    money = {"price_model": "per_hour", "price": "30,00", "alternative_cost": "80", "alternative_cost_source": "Offertes"}
    resources = {
        "R1": await create_resource(f1, programmes=["lassen-constructie"], name="Lasatelier", category="welding",
                                    funding="sector", opening_hours="ma-vr 08:00-16:30", **money),
        "R2": await create_resource(f1, programmes=["mechatronica"], name="Nachtdraaibank", category="cnc",
                                    funding="sector", opening_hours="zo 00:00-06:00", **money),
        "R3": await create_resource(f2, programmes=["mechatronica"], name="Cobotcel", category="cobots-robotics",
                                    funding="company", opening_hours="ma-vr 09:00-12:00", **money),
        "R4": await create_resource(f3, programmes=[], name="PLC-labo", category="plc-automation",
                                    funding="government", opening_hours="di,do 13:00-17:00", **money),
        "R5": await create_resource(f3, programmes=[], name="Oude draaibank", category="cnc",
                                    funding="government", opening_hours="di,do 08:00-12:00", **money),
        "R6": await create_resource(f4, programmes=["elektrotechnieken"], name="Elektrolabo",
                                    category="electrical-installations", funding="school",
                                    opening_hours="wo 08:00-12:00", **money),
        "R7": await create_resource(f2, programmes=[], name="Reservecobot", category="cobots-robotics",
                                    funding="company", opening_hours="", **money),
    }
    await Resource.update({Resource.status: "retired"}).where(Resource.id == resources["R5"].id)

    teachers = {key: await create_user("teacher", org=orgs[key], email=f"leraar-{key.lower()}@example.be")
                for key in SCHOOLS}
    programmes = {row["slug"]: row["id"] for row in await StudyProgramme.select(StudyProgramme.id, StudyProgramme.slug)}

    bookings = {}
    for (key, resource, school, status, day, h1, m1, h2, m2, group, attended, programme, price, alternative,
         payment) in BOOKINGS:
        start = at(day, h1, m1)
        end = at(day, h2, m2)
        booking = Booking(resource=resources[resource].id, school=orgs[school].id, teacher=teachers[school].id,
                          start=start, end=end, hold_end=end, status=status, group_size=group,
                          study_programme=programmes[programme] if programme else None, price_cents=price,
                          alternative_cost_cents=alternative, payment_method=payment, pupils_attended=attended)
        await booking.save()
        bookings[key] = booking

    closures = [
        ("R1", at("2026-09-15", 10), at("2026-09-15", 12, 30)),
        ("R1", at("2026-11-02", 8), at("2026-11-04", 12)),
        ("R1", at("2026-11-03", 0), at("2026-11-05", 10)),
        ("R4", at("2026-12-17", 15), at("2027-01-15", 0)),
        ("R6", at("2026-06-20", 0), at("2026-07-08", 12)),
    ]
    for resource, starts, ends in closures:
        await Closure(resource=resources[resource].id, starts_at=starts, ends_at=ends, reason="test").save()

    for resource, school, status, day, h1, h2, programme in WAITLIST:
        await WaitlistEntry(resource=resources[resource].id, school=orgs[school].id, teacher=teachers[school].id,
                            start=at(day, h1), end=at(day, h2), group_size=10,
                            study_programme=programmes[programme] if programme else None, status=status).save()

    for index, (day, category, programme, region, postal, matched) in enumerate(SEARCHES):
        free_from = at(day, 8)
        await SearchRecord(fingerprint=f"report-test-{index}", searched_at=free_from - timedelta(days=3),
                           category=category, study_programme=programme, region_code=region, postal_code=postal,
                           free_from=free_from, free_to=free_from + timedelta(hours=8), matched=matched, found=0).save()

    for school, programme, year, cents in BILLS:
        await SchoolBill(school=orgs[school].id, programme=programme, school_year=year, cents_per_pupil=cents).save()

    await CustomRegion(code="ZONE-GM", name="Zone Gent-Mechelen", description="Gent en Mechelen",
                       municipalities=["44021", "12025"]).save()

    return {"orgs": orgs, "resources": resources, "facilities": {"F1": f1, "F2": f2, "F3": f3, "F4": f4},
            "teachers": teachers, "bookings": bookings}
