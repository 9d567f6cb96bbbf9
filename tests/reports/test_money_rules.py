"""Two rules of the money section, on a dataset small enough to read: a booking on infrastructure
without a known alternative cost is left out of the savings (and counted apart) instead of
counting its price as a loss; and the school bill is set against the pupils concerned once per
school, programme and school year (a group that comes three times is billed once a year)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from accounts.services import system_actor
from accounts.tables import SchoolBill
from booking.tables import Booking
from inventory.tables import StudyProgramme
from reports import services
from reports.request import ReportRequest

BRUSSELS = ZoneInfo("Europe/Brussels")


async def test_savings_leave_out_unknown_alternative_costs_and_bill_each_group_once(
        create_org, create_user, owner_org, create_facility, create_resource, uow_for):
    school = await create_org(slug="go-gent", name="GO! Gent", network="go")
    teacher = await create_user("teacher", org=school)
    owner = await owner_org()
    facility = await create_facility(owner, name="Metaalcampus")
    known = await create_resource(facility, name="Lasatelier", alternative_cost="90", alternative_cost_unit="per_hour")
    unknown = await create_resource(facility, name="Oude draaibank", alternative_cost="0", alternative_cost_source="")
    programme = await StudyProgramme.select(StudyProgramme.id, StudyProgramme.slug).first()
    await SchoolBill(school=school.id, programme=programme["slug"], school_year=2026, cents_per_pupil=50000).save()

    async def completed(resource, day: int, group: int, price: int, alternative: int) -> None:
        start = datetime(2026, 10, day, 9, 0, tzinfo=BRUSSELS)
        await Booking(resource=resource.id, school=school.id, teacher=teacher.id, start=start, end=start + timedelta(hours=2),
                      hold_end=start + timedelta(hours=2), status="completed", group_size=group,
                      study_programme=programme["id"], price_cents=price, alternative_cost_cents=alternative,
                      payment_method="invoice").save()

    # the same pupil group three times (12, then 12, then 10 of them came), and once on a machine
    # whose alternative cost nobody knows
    for day, group in ((6, 12), (13, 12), (20, 10)):
        await completed(known, day, group, price=7000, alternative=18000)
    await completed(unknown, 27, 8, price=5000, alternative=0)

    report = await services.regional_report(uow_for(system_actor()), ReportRequest(date(2026, 9, 1), date(2026, 12, 31)))
    money = report.money
    assert report.reach.bookings == 4 and report.reach.pupils == 12 + 12 + 10 + 8  # reach counts every completed one
    assert money.without_alternative == 1
    assert (money.bookings, money.pupils) == (3, 34)
    assert (money.alternative_cents, money.paid_cents, money.savings_cents) == (3 * 18000, 3 * 7000, 3 * 11000)
    assert money.savings_per_pupil_cents == 971  # 33000 / 34 = 970.59
    # against the bill: the largest group (12) times 500 euro, once for the school year
    assert (money.bill_pupils, money.bill_savings_cents, money.bill_cents) == (12, 33000, 12 * 50000)
    assert money.bill_share == 5.5  # 33000 / 600000; counted per visit it would read 1.9 %
    assert (money.schools, money.schools_with_bill) == (1, 1)
    assert [q.savings_cents for q in report.quarters] == [0, 33000]
    assert report.reach.schools_named[0].savings_cents == 33000
