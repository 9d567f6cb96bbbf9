"""The report's page as a browser with htmx uses it: the form swaps in only the report, with
its figures (the block renders on its own); and what a provider may not ask for."""

from tests.conftest import login


async def test_htmx_swaps_in_the_report_alone(client, create_user):
    admin = await create_user("platform_admin")
    await login(client, admin.email)
    response = await client.get("/reports/regions?from=2026-01-01&to=2026-03-31", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text and 'data-figure="use.bookings"' in response.text
    assert "K1 2026" in response.text and "Aanbod" in response.text
    wrong = await client.get("/reports/regions?from=2026-03-31&to=2026-01-01", headers={"HX-Request": "true"})
    assert wrong.status_code == 200 and "De periode eindigt voor ze begint." in wrong.text  # htmx swaps 200s only


async def test_a_provider_cannot_single_out_another_networks_school_as_owner(client, create_org, create_user,
                                                                              create_facility):
    other = await create_org(slug="sint-jozef", name="Sint-Jozef", network="katholiek")
    await create_facility(other, name="Eigen werkplaats")
    provider_org = await create_org(slug="go-onderwijs", name="GO! onderwijs", kind="provider", network="go")
    provider = await create_user("provider_staff", org=provider_org)
    await login(client, provider.email)
    refused = await client.get("/reports/regions?owner=sint-jozef")
    assert refused.status_code == 403 and "niet één voor één" in refused.text
    page = await client.get("/reports/regions")
    assert page.status_code == 200 and "Sint-Jozef" not in page.text  # not offered as an owner either
