"""A school admin invites a teacher, who sets a password and logs in; owner staff invite
colleagues; roles change within what one holds; nobody manages another organisation's people."""

import re

from accounts.tables import Invitation, Membership, User
from core import mail
from core.tables import OutboxMessage
from tests.conftest import csrf, login


async def _link(wb) -> str:
    await mail.render_pending(wb.unit_of_work())
    row = await OutboxMessage.objects().order_by(OutboxMessage.id, ascending=False).first()
    return re.search(r"http://testserver\.local(/invitations/\S+)", row.body_text).group(1)


async def test_a_school_admin_invites_a_teacher_who_joins_and_logs_in(client, create_user, create_org, wb):
    school = await create_org(slug="vti-gent", name="VTI Gent")
    await create_user("school_admin", org=school, email="directie@vti.be", first_name="Bart", last_name="Peeters")
    await login(client, "directie@vti.be")
    page = await client.get("/people/")
    assert "Mensen van VTI Gent" in page.text and "Bart Peeters" in page.text
    token = await csrf(client, "/people/")
    sent = await client.post(f"/people/invite?organisation={school.id}", data={
        "email": "Nieuw@VTI.be", "role": "teacher", "first_name": "An", "last_name": "Smet", "_csrf_token": token})
    assert "nieuw@vti.be krijgt een mail" in sent.text and "Uitgenodigd, nog niet aangesloten" in sent.text
    mail_row = await OutboxMessage.objects().first()
    assert mail_row.to_address == "nieuw@vti.be" and mail_row.subject == "Je bent uitgenodigd op Werkbank"
    link = await _link(wb)
    await client.post("/logout", data={"_csrf_token": await csrf(client, "/people/")})

    invitation = await client.get(link)
    assert "Sluit je aan bij VTI Gent op Werkbank" in invitation.text and "Leerkracht" in invitation.text
    token = await csrf(client, link)
    short = await client.post(link, data={"new_password": "kort", "confirm_password": "kort", "_csrf_token": token})
    assert short.status_code == 422 and await User.count().where(User.email == "nieuw@vti.be") == 0
    joined = await client.post(link, data={"new_password": "een lang genoeg wachtwoord",
                                           "confirm_password": "een lang genoeg wachtwoord", "_csrf_token": token})
    assert "Welkom, An Smet" in joined.text
    member = await Membership.objects(Membership.user).where(Membership.user.email == "nieuw@vti.be").first()
    assert member.role == "teacher" and member.organisation == school.id
    again = await client.get(link)
    assert again.status_code == 404 and "niet meer geldig" in again.text  # the link works once


async def test_roles_change_within_what_one_holds_and_people_are_removed(client, create_user, create_org):
    school = await create_org(slug="vti-gent", name="VTI Gent")
    await create_user("school_admin", org=school, email="directie@vti.be")
    teacher = await create_user("teacher", org=school, email="jan@vti.be")
    await login(client, "directie@vti.be")
    membership = await Membership.objects().where(Membership.user == teacher.id).first()
    token = await csrf(client, "/people/")
    await client.post(f"/people/{membership.id}/role", data={"role": "school_admin", "_csrf_token": token})
    assert (await Membership.objects().where(Membership.id == membership.id).first()).role == "school_admin"
    refused = await client.post(f"/people/{membership.id}/role", data={"role": "platform_admin", "_csrf_token": token})
    assert refused.status_code == 422
    await client.post(f"/people/{membership.id}/remove", data={"_csrf_token": token})
    assert await Membership.count().where(Membership.user == teacher.id) == 0
    assert not (await User.objects().where(User.id == teacher.id).first()).active
    assert (await login(client, "jan@vti.be")).status_code == 401


async def test_nobody_manages_the_people_of_another_organisation(client, create_user, create_org, owner_org):
    school = await create_org(slug="vti-gent", name="VTI Gent")
    other = await create_org(slug="go-aalst", name="GO! Aalst")
    await create_user("school_admin", org=school, email="directie@vti.be")
    stranger = await create_user("teacher", org=other, email="an@go.be")
    await create_user("teacher", org=school, email="jan@vti.be")
    await login(client, "jan@vti.be")
    assert (await client.get("/people/")).status_code == 403  # a teacher manages nobody
    await client.post("/logout", data={"_csrf_token": await csrf(client, "/account")})
    await login(client, "directie@vti.be")
    token = await csrf(client, "/people/")
    assert (await client.get(f"/people/?organisation={other.id}")).status_code == 404
    membership = await Membership.objects().where(Membership.user == stranger.id).first()
    assert (await client.post(f"/people/{membership.id}/remove", data={"_csrf_token": token})).status_code == 404
    sent = await client.post(f"/people/invite?organisation={other.id}", data={
        "email": "x@go.be", "role": "teacher", "_csrf_token": token})
    assert sent.status_code == 404 and await Invitation.count() == 0
    wrong_role = await client.post(f"/people/invite?organisation={school.id}", data={
        "email": "x@vti.be", "role": "owner_staff", "_csrf_token": token})
    assert wrong_role.status_code == 422 and await Invitation.count() == 0
    # owner staff invite colleagues of their own organisation, in their own role
    owner = await owner_org()
    await create_user("owner_staff", org=owner, email="staff@metaal.be")
    await client.post("/logout", data={"_csrf_token": token})
    await login(client, "staff@metaal.be")
    page = await client.get("/people/")
    assert "Opleidingscentrum Metaal" in page.text and 'value="teacher"' not in page.text
