"""The needs pages: recording a need with the plain form (POST-redirect-GET) and with htmx,
validation messages on the page (4xx, never 500), answering with an offer, the mail to the
school, and booking the offered resource from the need's page."""

import re

from core.tables import OutboxMessage
from needs.tables import Need, NeedOffer
from tests.conftest import csrf, login
from tests.needs.conftest import NEED

FORM = {"category": "welding", "study_programme": "lassen-constructie", "pupils": "14", "days_per_year": "5",
        "reason": "missing", "equipment": "MIG/MAG-lastoestel", "note": ""}


async def _record(client, **overrides) -> int:
    token = await csrf(client, "/needs")
    response = await client.post("/needs", data={**FORM, **overrides, "_csrf_token": token})
    assert response.status_code == 200, response.text[:500]
    match = re.search(r"/needs/(\d+)$", str(response.url))
    assert match, response.url
    return int(match.group(1))


async def test_a_teacher_records_a_need_with_the_form(client, needs_world):
    await login(client, "sofie@vti.be")
    page = await client.get("/needs")
    assert page.status_code == 200 and 'data-form="record-need"' in page.text
    need_id = await _record(client)
    need = await Need.objects().where(Need.id == need_id).first()
    assert (need.pupils, need.days_per_year, need.reason, need.equipment, need.region_code) == (
        14, 5, "missing", "MIG/MAG-lastoestel", "VOV")
    detail = await client.get(f"/needs/{need_id}")
    assert f'data-need="{need_id}"' in detail.text
    # The matches: the Gent workshop serves lassen-constructie and fits 12 of the 14 pupils (two groups);
    # the Antwerp robot cell is open to every programme. Gent is nearer.
    assert re.findall(r'data-match="(\d+)"', detail.text) == [str(needs_world["lasatelier"].id),
                                                              str(needs_world["lasrobot"].id)]
    listing = await client.get("/needs")
    assert f'data-need="{need_id}"' in listing.text


async def test_a_wrong_form_answers_with_field_messages_not_an_error_page(client, needs_world):
    await login(client, "sofie@vti.be")
    token = await csrf(client, "/needs")
    response = await client.post("/needs", data={**FORM, "pupils": "veel", "reason": "", "_csrf_token": token})
    assert response.status_code == 422
    assert response.text.count('class="field-error"') == 2
    assert 'value="veel"' in response.text  # what was typed stays
    assert await Need.count() == 0


async def test_htmx_gets_only_the_block_it_asked_for(client, needs_world):
    await login(client, "sofie@vti.be")
    token = await csrf(client, "/needs")
    hx = {"HX-Request": "true", "X-CSRFToken": token}
    wrong = await client.post("/needs", data={**FORM, "pupils": "0"}, headers=hx)
    assert wrong.status_code == 200 and "<html" not in wrong.text and 'id="record-form"' in wrong.text
    assert 'class="field-error"' in wrong.text
    done = await client.post("/needs", data=FORM, headers=hx, follow_redirects=False)
    assert done.status_code == 200 and re.fullmatch(r"/needs/\d+", done.headers["HX-Redirect"])
    table = await client.get("/needs?status=open", headers={"HX-Request": "true"})
    assert "<html" not in table.text and table.text.count("data-need=") == 1


async def test_an_owner_answers_and_the_school_is_mailed(client, needs_world):
    await login(client, "sofie@vti.be")
    need_id = await _record(client)
    client.cookies.clear()
    await login(client, "staff@metaal.be")
    page = await client.get("/needs")
    assert f'data-need="{need_id}"' in page.text
    assert 'data-gap="no"' in page.text  # Gent has a welding workshop with free time
    assert f'data-suggestion-need="{need_id}"' in page.text  # a school nearby Metaal could serve
    detail = await client.get(f"/needs/{need_id}")
    assert 'data-form="answer-need"' in detail.text
    token = await csrf(client, f"/needs/{need_id}")
    # A resource id that is not a number, and an empty message: messages, not a crash.
    wrong = await client.post(f"/needs/{need_id}/offers", data={"resource": "x", "message": "", "_csrf_token": token})
    assert wrong.status_code == 422
    wrong = await client.post(f"/needs/{need_id}/offers", data={"resource": str(needs_world["lasatelier"].id),
                                                               "message": "", "_csrf_token": token})
    assert wrong.status_code == 422 and 'class="field-error"' in wrong.text
    sent = await client.post(f"/needs/{need_id}/offers", data={
        "resource": str(needs_world["lasatelier"].id), "message": "We kunnen ons lasatelier op woensdag openen.",
        "_csrf_token": token})
    assert sent.status_code == 200 and str(sent.url).endswith(f"/needs/{need_id}")
    assert await NeedOffer.count() == 1
    # The teacher who recorded it and the school's admin hear of it; the colleague and the owner do not.
    mails = await OutboxMessage.objects().order_by(OutboxMessage.to_address).order_by(OutboxMessage.id)
    assert [(m.to_address, m.template) for m in mails] == [("directie@vti.be", "needs/mail/offer.txt"),
                                                          ("sofie@vti.be", "needs/mail/offer.txt")]
    from core.mail import render_pending

    await render_pending(needs_world["admin"])
    body = (await OutboxMessage.objects().where(OutboxMessage.to_address == "sofie@vti.be").first()).body_text
    assert "We kunnen ons lasatelier op woensdag openen." in body
    assert f"/resources/{needs_world['lasatelier'].id}" in body and f"/needs/{need_id}" in body
    # The school sees the offer with the way to book the offered resource.
    client.cookies.clear()
    await login(client, "sofie@vti.be")
    detail = await client.get(f"/needs/{need_id}")
    assert f'data-book="{needs_world["lasatelier"].id}"' in detail.text
    assert 'data-need-status="answered"' in detail.text
    assert 'data-form="answer-need"' not in detail.text  # teachers do not answer
    resource_page = await client.get(f"/resources/{needs_world['lasatelier'].id}")
    assert resource_page.status_code == 200


async def test_the_school_closes_its_need_with_the_form(client, needs_world):
    await login(client, "sofie@vti.be")
    need_id = await _record(client)
    token = await csrf(client, f"/needs/{need_id}")
    closed = await client.post(f"/needs/{need_id}/close", data={"_csrf_token": token})
    assert closed.status_code == 200 and 'data-need-status="closed"' in closed.text
    assert 'data-form="close-need"' not in closed.text
    again = await client.post(f"/needs/{need_id}/close", data={"_csrf_token": token})
    assert again.status_code == 409


async def test_a_form_without_csrf_is_refused(client, needs_world):
    await login(client, "sofie@vti.be")
    response = await client.post("/needs", data=FORM)
    assert response.status_code == 403 and await Need.count() == 0


async def test_the_api_and_the_form_agree(client, needs_world, api_headers):
    """A need from the API shows on the school's page; one from the page in the API."""
    via_api = (await client.post("/api/v1/needs", headers=await api_headers("teacher"), json=NEED)).json()["id"]
    await login(client, "jan@vti.be")
    via_page = await _record(client)
    assert f'data-need="{via_api}"' in (await client.get("/needs")).text
    ids = [n["id"] for n in (await client.get("/api/v1/needs", headers=await api_headers("colleague"))).json()]
    assert ids == [via_page, via_api]  # newest first
