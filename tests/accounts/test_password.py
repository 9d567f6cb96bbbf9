import re

from accounts.tables import PasswordResetToken
from core import mail
from core.tables import OutboxMessage
from tests.conftest import PASSWORD, csrf, login

NEW = "a brand new password"


async def _reset_link(wb) -> str:
    await wb.jobs.run("accounts.password_resets")  # looks the address up and queues the mail
    await mail.render_pending(wb.unit_of_work())
    row = await OutboxMessage.objects().first()
    assert row is not None, "no reset mail was queued"
    match = re.search(r"http://testserver\.local(/password/reset/\S+)", row.body_text)
    assert match, row.body_text
    return match.group(1)


async def test_forgotten_password_by_mailed_link(client, create_user, settings, wb):
    await create_user("teacher", email="t@school.be", first_name="Sofie", last_name="Claes")
    response = await client.post("/password/forgot", data={"email": "T@School.be ", "_csrf_token": await csrf(client)})
    assert "we er een link naartoe gestuurd" in response.text
    await wb.jobs.run("accounts.password_resets")
    assert await mail.send_pending(wb.unit_of_work()) == 1
    eml = next(settings.mail_dir.glob("*.eml")).read_text()
    assert "Dag Sofie Claes," in eml
    link = await _reset_link(wb)

    page = await client.get(link)
    assert page.status_code == 200 and "Kies een nieuw wachtwoord" in page.text
    token = await csrf(client, link)
    response = await client.post(link, data={"new_password": NEW, "confirm_password": "not the same one",
                                             "_csrf_token": token})
    assert response.status_code == 422 and "De twee wachtwoorden zijn niet gelijk." in response.text
    response = await client.post(link, data={"new_password": NEW, "confirm_password": NEW, "_csrf_token": token})
    assert "Je wachtwoord is gewijzigd." in response.text

    assert (await login(client, "t@school.be", PASSWORD)).status_code == 401
    assert "Welkom, Sofie Claes" in (await login(client, "t@school.be", NEW)).text
    # The link works once.
    again = await client.get(link)
    assert again.status_code == 404 and "niet meer geldig" in again.text


async def test_unknown_address_gets_the_same_answer_and_no_mail(client, db, wb, create_user):
    import re as regex

    await create_user("teacher", email="known@school.be")
    token = await csrf(client)
    unknown = await client.post("/password/forgot", data={"email": "nobody@school.be", "_csrf_token": token})
    known = await client.post("/password/forgot", data={"email": "known@school.be", "_csrf_token": token})
    assert unknown.status_code == known.status_code == 200
    assert "we er een link naartoe gestuurd" in unknown.text

    def page(response):  # the same page but for the address typed in and the form's token
        return regex.sub(r"(nobody|known)@school\.be|value=\"[^\"]{20,}\"", "", response.text)

    assert page(unknown) == page(known)
    await wb.jobs.run("accounts.password_resets")
    assert [m.to_address for m in await OutboxMessage.objects()] == ["known@school.be"]


async def test_at_most_three_reset_mails_an_hour_and_a_limit_per_address(client, db, wb, create_user):
    from accounts.services import RESET_REQUESTS_PER_HOUR

    await create_user("teacher", email="t@school.be")
    token = await csrf(client)
    for _ in range(5):
        assert (await client.post("/password/forgot", data={"email": "t@school.be", "_csrf_token": token})
                ).status_code == 200
    await wb.jobs.run("accounts.password_resets")
    assert await OutboxMessage.count() == 3
    for n in range(RESET_REQUESTS_PER_HOUR - 5):
        await client.post("/password/forgot", data={"email": f"x{n}@school.be", "_csrf_token": token})
    flooded = await client.post("/password/forgot", data={"email": "y@school.be", "_csrf_token": token})
    assert flooded.status_code == 429 and "Te veel aanvragen" in flooded.text


async def test_a_reset_logs_out_every_session(client, create_user, settings, app, wb):
    import httpx

    await create_user("teacher", email="t@school.be")
    await login(client, "t@school.be")
    other_cookie = client.cookies.get("werkbank_session")
    await client.post("/password/forgot", data={"email": "t@school.be", "_csrf_token": await csrf(client, "/")})
    link = await _reset_link(wb)
    await client.post(link, data={"new_password": NEW, "confirm_password": NEW, "_csrf_token": await csrf(client, link)})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local",
                                 cookies={"werkbank_session": other_cookie}) as stale:
        assert (await stale.get("/account")).headers["location"].startswith("/login")


async def test_an_expired_reset_link_is_refused(client, create_user, settings, wb):
    await create_user("teacher", email="t@school.be")
    await client.post("/password/forgot", data={"email": "t@school.be", "_csrf_token": await csrf(client)})
    link = await _reset_link(wb)
    await PasswordResetToken.update({PasswordResetToken.expires_at: wb.clock.now()}, force=True)
    response = await client.get(link)
    assert response.status_code == 404


async def test_change_password_on_the_account_page(client, create_user, app, wb):
    import httpx

    await create_user("teacher", email="t@school.be")
    await login(client, "t@school.be")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local",
                                 follow_redirects=True) as other_browser:
        await login(other_browser, "t@school.be")
        token = await csrf(client, "/account")
        response = await client.post("/account/password", data={
            "current_password": "not my password", "new_password": NEW, "confirm_password": NEW, "_csrf_token": token})
        assert response.status_code == 422 and "Je huidige wachtwoord klopt niet." in response.text
        response = await client.post("/account/password", data={
            "current_password": PASSWORD, "new_password": "short", "confirm_password": "short", "_csrf_token": token})
        assert response.status_code == 422 and "minstens 10 tekens" in response.text
        response = await client.post("/account/password", data={
            "current_password": PASSWORD, "new_password": NEW, "confirm_password": NEW, "_csrf_token": token})
        assert "Je andere sessies zijn afgemeld." in response.text
        assert response.url.path == "/account"  # this session stays
        assert (await other_browser.get("/account")).url.path == "/login"  # the other one is gone
    await client.post("/logout", data={"_csrf_token": await csrf(client, "/account")})
    assert (await login(client, "t@school.be", NEW)).status_code == 200
