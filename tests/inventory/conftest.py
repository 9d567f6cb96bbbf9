import pytest

from accounts import services as accounts
from inventory import services

RESOURCE_FORM = {
    "name": "CNC-draaibank", "kind": "machine", "category": "cnc", "capacity": "6", "needs_approval": "on",
    "min_notice_hours": "24", "max_advance_days": "120", "min_duration_minutes": "60",
    "max_duration_minutes": "240", "buffer_minutes": "15", "price_model": "per_hour", "price": "35,00",
    "funding": "sector", "alternative_cost": "90", "alternative_cost_unit": "per_hour",
    "alternative_cost_source": "Offertes 2025", "opening_hours": "ma-vr 08:00-16:30",
}


@pytest.fixture
def owner_org(create_org):
    async def make(slug="metaal", name="Opleidingscentrum Metaal", kind="sector_fund"):
        return await create_org(slug=slug, name=name, kind=kind, network="")

    return make


@pytest.fixture
def create_facility(db):
    async def make(owner, postal_code="9000", name="Campus", **extra):
        actor = accounts.system_actor()
        return await services.save_facility(actor, owner.id, {"name": name, "postal_code": postal_code,
                                                              "street": "Straat 1", **extra})

    return make


@pytest.fixture
def create_resource(db):
    async def make(facility, programmes=None, **fields):
        actor = accounts.system_actor()
        return await services.save_resource(actor, facility.id, {**RESOURCE_FORM, **fields}, programmes=programmes)

    return make
