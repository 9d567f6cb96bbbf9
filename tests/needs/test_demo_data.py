"""The needs demo data loads on both engines and is visible through the services."""

from accounts.services import system_actor
from needs import demo_data, phaseout, services
from needs.tables import Need, PhaseOut, PhaseOutResponse


async def test_the_demo_needs_load(needs_world, uow_for):
    uow = uow_for(system_actor())
    async with uow.transaction():
        await demo_data.load(uow)
    assert await Need.count() == len(demo_data.NEEDS)
    assert await PhaseOut.count() == 1
    assert await PhaseOutResponse.count() == 0  # the demo's RTC (rtc-oost-vlaanderen) is not in this world
    assert len(await services.list_needs(needs_world["admin"])) == len(demo_data.NEEDS)
    assert len(await phaseout.list_visible(needs_world["school_admin"])) == 1
