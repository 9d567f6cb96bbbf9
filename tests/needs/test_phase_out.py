"""The phase-out dialogue: a school admin signals; the region's RTC, the owners whose
infrastructure in the region serves the programme and the network's provider are mailed; they
respond on the dialogue page; the RTC records the agreed follow-up. Access per role."""

import re

import pytest

from core.errors import NotFound
from core.mail import render_pending
from core.tables import OutboxMessage
from needs import phaseout
from needs.tables import PhaseOut, PhaseOutResponse
from tests.conftest import csrf, login

# VTI Gent (katholiek, East Flanders) phases out Lassen-constructie. Metaal's Lasatelier in Gent lists that
# programme; Robotix's cell (Antwerp) lists none. Who sees the dialogue:
SEES = {"teacher": True, "colleague": True, "school_admin": True, "stranger": False, "staff": True,
        "robotix_staff": False, "rtc_vov": True, "rtc_van": False, "kov": True, "go": False, "admin": True}


async def _signal(client, **extra) -> int:
    await login(client, "directie@vti.be")
    token = await csrf(client, "/needs/phase-outs")
    response = await client.post("/needs/phase-outs", data={
        "study_programme": "lassen-constructie", "last_school_year": "2027", "note": "Te weinig leerlingen",
        "_csrf_token": token, **extra})
    assert response.status_code == 200, response.text[:300]
    match = re.search(r"/needs/phase-outs/(\d+)$", str(response.url))
    assert match, response.url
    client.cookies.clear()
    return int(match.group(1))


async def test_a_school_admin_signals_and_the_region_is_told(client, needs_world):
    phase_out_id = await _signal(client)
    row = await PhaseOut.objects().where(PhaseOut.id == phase_out_id).first()
    assert (row.status, row.last_school_year, row.region_code) == ("open", 2027, "VOV")
    mails = await OutboxMessage.objects().order_by(OutboxMessage.to_address)
    assert [m.to_address for m in mails] == ["rtc@ov.be", "staff@kov.be", "staff@metaal.be"]
    assert {m.template for m in mails} == {"needs/mail/phase_out.txt"}
    await render_pending(needs_world["admin"])
    body = (await OutboxMessage.objects().where(OutboxMessage.to_address == "rtc@ov.be").first()).body_text
    assert "VTI Gent" in body and "Lassen-constructie" in body and f"/needs/phase-outs/{phase_out_id}" in body
    assert "2027-2028" in body


async def test_only_school_admins_signal(client, needs_world):
    await login(client, "sofie@vti.be")
    page = await client.get("/needs/phase-outs")
    assert page.status_code == 200 and 'data-form="signal-phase-out"' not in page.text
    token = await csrf(client, "/needs/phase-outs")
    refused = await client.post("/needs/phase-outs", data={"study_programme": "lassen-constructie", "_csrf_token": token})
    assert refused.status_code == 403 and await PhaseOut.count() == 0


async def test_a_wrong_signal_gets_field_messages_and_a_second_one_a_conflict(client, needs_world):
    await login(client, "directie@vti.be")
    token = await csrf(client, "/needs/phase-outs")
    wrong = await client.post("/needs/phase-outs", data={"study_programme": "", "last_school_year": "volgend jaar",
                                                         "_csrf_token": token})
    assert wrong.status_code == 422 and wrong.text.count('class="field-error"') == 2
    client.cookies.clear()
    await _signal(client)
    await login(client, "directie@vti.be")
    token = await csrf(client, "/needs/phase-outs")
    again = await client.post("/needs/phase-outs", data={"study_programme": "lassen-constructie", "_csrf_token": token})
    assert again.status_code == 409 and await PhaseOut.count() == 1


@pytest.mark.parametrize("name", sorted(SEES))
async def test_who_sees_a_dialogue(client, needs_world, name):
    phase_out_id = await _signal(client)
    listed = [row["id"] for row in await phaseout.list_visible(needs_world[name])]
    if SEES[name]:
        assert listed == [phase_out_id]
        assert (await phaseout.view(needs_world[name], phase_out_id)).phase_out.id == phase_out_id
    else:
        assert listed == []
        with pytest.raises(NotFound):
            await phaseout.view(needs_world[name], phase_out_id)


async def test_the_dialogue_collects_responses_and_the_follow_up(client, needs_world):
    phase_out_id = await _signal(client)
    await login(client, "staff@metaal.be")
    page = await client.get(f"/needs/phase-outs/{phase_out_id}")
    assert page.status_code == 200 and 'data-form="respond"' in page.text and 'data-form="follow-up"' not in page.text
    token = await csrf(client, f"/needs/phase-outs/{phase_out_id}")
    empty = await client.post(f"/needs/phase-outs/{phase_out_id}/responses", data={"message": " ", "_csrf_token": token})
    assert empty.status_code == 422
    said = await client.post(f"/needs/phase-outs/{phase_out_id}/responses", data={
        "message": "Ons lasatelier kan de praktijkdagen overnemen.", "_csrf_token": token})
    assert said.status_code == 200 and said.text.count("data-response=") == 1
    refused = await client.post(f"/needs/phase-outs/{phase_out_id}/follow-up", data={"follow_up": "x", "_csrf_token": token})
    assert refused.status_code == 403
    client.cookies.clear()
    await login(client, "rtc@ov.be")
    token = await csrf(client, f"/needs/phase-outs/{phase_out_id}")
    hx = {"HX-Request": "true", "X-CSRFToken": token}
    wrong = await client.post(f"/needs/phase-outs/{phase_out_id}/follow-up", data={"follow_up": ""}, headers=hx)
    assert wrong.status_code == 200 and "<html" not in wrong.text and 'class="field-error"' in wrong.text
    agreed = await client.post(f"/needs/phase-outs/{phase_out_id}/follow-up", data={
        "follow_up": "Vanaf 2028 praktijk bij Metaalcampus, 6 dagen per jaar.", "close": "1", "_csrf_token": token})
    assert agreed.status_code == 200 and 'data-phase-out-status="closed"' in agreed.text
    assert "Vanaf 2028 praktijk bij Metaalcampus" in agreed.text
    response = await PhaseOutResponse.objects().first()
    assert response.organisation == needs_world["metaal"].id
    late = await client.post(f"/needs/phase-outs/{phase_out_id}/responses", data={"message": "Nog iets",
                                                                                  "_csrf_token": token})
    assert late.status_code == 409


async def test_strangers_get_404_on_the_dialogue_page(client, needs_world):
    phase_out_id = await _signal(client)
    await login(client, "rtc@antwerpen.be")
    assert (await client.get(f"/needs/phase-outs/{phase_out_id}")).status_code == 404
    token = await csrf(client, "/needs/phase-outs")
    assert (await client.post(f"/needs/phase-outs/{phase_out_id}/responses",
                              data={"message": "Hallo", "_csrf_token": token})).status_code == 404


async def test_the_database_keeps_one_open_dialogue_per_school_and_programme(client, needs_world):
    """Two signals at once both pass the service's check on PostgreSQL; the partial unique index
    lets one through, and the service answers the other with a conflict."""
    import pytest

    from inventory.tables import StudyProgramme
    from needs import phaseout

    programme = await StudyProgramme.select(StudyProgramme.id).where(StudyProgramme.slug == "lassen-constructie").first()
    school = needs_world["school"]
    first = await phaseout.signal(needs_world["school_admin"], "lassen-constructie")
    with pytest.raises(Exception) as raised:
        await PhaseOut(school=school.id, study_programme=programme["id"], status="agreed").save()
    assert phaseout._is_unique_violation(raised.value)
    await PhaseOut.update({PhaseOut.status: "closed"}).where(PhaseOut.id == first.id)
    again = await phaseout.signal(needs_world["school_admin"], "lassen-constructie")  # a closed one does not count
    assert again.id != first.id
