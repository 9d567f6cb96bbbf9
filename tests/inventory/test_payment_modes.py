"""Without a Stripe account configured, pay-online is not offered (the owner's form says why)
and invoices still work."""

from __future__ import annotations

import pytest

from core.errors import ValidationFailed
from tests.conftest import login


async def test_online_not_offered_without_keys(client, create_facility, create_resource, owner_org, create_user):
    owner = await owner_org()
    facility = await create_facility(owner, name="Metaalcampus")
    with pytest.raises(ValidationFailed) as refused:
        await create_resource(facility, name="Lasrobot", category="welding", payment_mode="online")
    assert "geen Stripe-account" in refused.value.fields["payment_mode"]
    resource = await create_resource(facility, name="Lasrobot", category="welding", payment_mode="invoice")
    await create_user("owner_staff", org=owner, email="staff@metaal.be")
    await login(client, "staff@metaal.be")
    form = await client.get(f"/inventory/resources/{resource.id}/edit")
    assert form.status_code == 200
    assert "Online betalen wordt niet aangeboden" in form.text
    assert 'value="online" disabled' in form.text
    settings = await client.get("/payments/settings")
    assert "Niet aangeboden op deze Werkbank" in settings.text
