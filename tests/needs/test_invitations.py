"""RTC staff invite a company that is not on Werkbank yet; the link leads to a sign-up filled in
with what the RTC knew; joining creates the organisation in its region and its first owner staff
account, logs the contact in and sends them to add their infrastructure. Through the pages."""

from __future__ import annotations

import json

from accounts.tables import Membership, Organisation, OwnerInvitation, User
from core.tables import OutboxMessage
from tests.conftest import PASSWORD, csrf, login


async def _as(client, email: str) -> str:
    client.cookies.clear()
    assert (await login(client, email, PASSWORD)).status_code == 200
    return await csrf(client, "/needs/invitations/")


INVITE = {"organisation_name": "Lastechniek Vermeulen BV", "kind": "company", "postal_code": "9300",
          "email": "Info@Vermeulen.be", "first_name": "Ann", "last_name": "Vermeulen",
          "message": "Onze scholen missen lasrobots; kunnen jullie op woensdag openstellen?"}


async def test_an_rtc_invites_a_company_which_joins_and_lists_its_infrastructure(client, needs_world):
    token = await _as(client, "rtc@ov.be")
    gap = await client.get("/needs/invitations/?category=welding")
    assert gap.status_code == 200 and "Lassen" in gap.text  # the message names what the region lacks
    refused = await client.post("/needs/invitations/", data={**INVITE, "email": "nope", "kind": "school",
                                                              "postal_code": "12", "_csrf_token": token})
    assert refused.status_code == 422
    for field in ("email", "kind", "postal_code"):
        assert f'aria-describedby="e-{field}"' in refused.text
    sent = await client.post("/needs/invitations/", data={**INVITE, "_csrf_token": token})
    assert sent.status_code == 200 and "info@vermeulen.be" in sent.text
    assert 'data-invitation="' in sent.text
    mail = await OutboxMessage.objects().where(OutboxMessage.to_address == "info@vermeulen.be").first()
    context = json.loads(mail.context) if isinstance(mail.context, str) else mail.context
    link = context["link"].replace("http://testserver.local", "")
    assert link.startswith("/join/") and context["rtc"] == "RTC Oost-Vlaanderen"

    client.cookies.clear()
    form = await client.get(link)
    assert form.status_code == 200
    assert 'value="Lastechniek Vermeulen BV"' in form.text and 'value="9300"' in form.text and 'value="Ann"' in form.text
    token = await csrf(client, link)
    weak = await client.post(link, data={"_csrf_token": token, "organisation_name": "Lastechniek Vermeulen BV",
                                         "kind": "company", "postal_code": "9300", "first_name": "Ann",
                                         "last_name": "Vermeulen", "new_password": "kort", "confirm_password": "kort"})
    assert weak.status_code == 422 and await Organisation.count().where(Organisation.name.like("Lastechniek%")) == 0
    joined = await client.post(link, data={
        "_csrf_token": token, "organisation_name": "Lastechniek Vermeulen", "kind": "company", "street": "Dokstraat 3",
        "postal_code": "9300", "first_name": "Ann", "last_name": "Vermeulen",
        "new_password": "een lang wachtwoord", "confirm_password": "een lang wachtwoord"})
    assert joined.status_code == 200 and str(joined.url).endswith("/inventory/")
    organisation = await Organisation.objects().where(Organisation.name == "Lastechniek Vermeulen").first()
    assert (organisation.kind, organisation.region_code, organisation.municipality) == ("company", "VOV", "Aalst")
    user = await User.objects().where(User.email == "info@vermeulen.be").first()
    roles = await Membership.select(Membership.organisation, Membership.role).where(Membership.user == user.id)
    assert roles == [{"organisation": organisation.id, "role": "owner_staff"}]
    row = await OwnerInvitation.objects().where(OwnerInvitation.email == "info@vermeulen.be").first()
    assert row.accepted_at is not None and row.organisation == organisation.id
    client.cookies.clear()
    assert (await client.get(link)).status_code == 404  # the link works once


async def test_only_rtc_staff_and_admins_invite_owners(client, needs_world):
    for email in ("sofie@vti.be", "staff@metaal.be", "staff@kov.be"):
        await _as_any(client, email)
        assert (await client.get("/needs/invitations/")).status_code == 403
    token = await _as(client, "rtc@antwerpen.be")
    await client.post("/needs/invitations/", data={**INVITE, "_csrf_token": token})
    other_rtc = await _as(client, "rtc@ov.be")
    page = await client.get("/needs/invitations/")
    assert "info@vermeulen.be" not in page.text  # each RTC sees its own invitations
    assert other_rtc
    client.cookies.clear()
    assert (await client.get("/join/not-a-token")).status_code == 404


async def _as_any(client, email: str) -> None:
    client.cookies.clear()
    assert (await login(client, email, PASSWORD)).status_code == 200
