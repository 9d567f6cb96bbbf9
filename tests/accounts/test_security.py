from tests.conftest import PASSWORD, csrf, login


async def test_a_post_without_csrf_token_is_refused(client, create_user):
    await create_user("teacher", email="t@school.be")
    await client.get("/login")  # the browser has the CSRF cookie, but the form lacks the token
    response = await client.post("/login", data={"email": "t@school.be", "password": "correct horse battery"})
    assert response.status_code == 403
    assert "Je formulier is verlopen of kwam van elders." in response.text
    assert "werkbank_session" not in client.cookies


async def test_a_teacher_gets_403_on_admin(client, create_user):
    await create_user("teacher", email="t@school.be")
    await login(client, "t@school.be")
    response = await client.get("/admin/")
    assert response.status_code == 403
    assert "Je rol geeft geen toegang tot deze pagina." in response.text
    assert (await client.get("/admin/api/tables/")).status_code == 403
    assert (await client.get("/outbox/")).status_code == 403


async def test_anonymous_visitors_are_sent_to_login_from_admin(client, db):
    response = await client.get("/admin/", follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/login?next=/admin/"


async def test_a_platform_admin_reaches_piccolo_admin_with_the_werkbank_session(client, create_user):
    await create_user("platform_admin", email="admin@werkbank.be")
    await login(client, "admin@werkbank.be")
    page = await client.get("/admin/")
    assert page.status_code == 200 and "<div id=\"app\">" in page.text.replace("'", '"')
    tables = await client.get("/admin/api/tables/")
    assert tables.status_code == 200
    assert "organisation" in tables.json()
    user = await client.get("/admin/api/user/")
    assert user.json()["username"] == "admin@werkbank.be"


async def test_security_headers_on_pages(client, db):
    response = await client.get("/login")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "same-origin"


async def test_the_session_cookie_is_http_only(client, create_user):
    await create_user("teacher", email="t@school.be")
    token = await csrf(client)
    response = await client.post("/login", data={"email": "t@school.be", "password": "correct horse battery",
                                                 "_csrf_token": token}, follow_redirects=False)
    cookie = response.headers["set-cookie"]
    assert "werkbank_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


async def test_html_in_names_is_shown_escaped(client, create_user):
    await create_user("teacher", email="t@school.be", first_name="<script>alert(1)</script>", last_name="X")
    response = await login(client, "t@school.be")
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


async def test_unknown_pages_answer_404_in_dutch(client, db):
    response = await client.get("/nergens")
    assert response.status_code == 404
    assert "Deze pagina of dit object bestaat niet" in response.text


async def test_a_form_sent_from_another_site_is_refused(client, create_user):
    await create_user("teacher", email="t@school.be")
    token = await csrf(client)
    data = {"email": "t@school.be", "password": PASSWORD, "_csrf_token": token}
    for headers in ({"origin": "https://evil.example"}, {"referer": "https://evil.example/page"}):
        response = await client.post("/login", data=data, headers=headers)
        assert response.status_code == 403 and "van een andere site" in response.text
    response = await client.post("/login", data=data, headers={"origin": "http://testserver.local"})
    assert "Welkom" in response.text


async def test_logging_in_and_out_renews_the_csrf_token(client, create_user):
    await create_user("teacher", email="t@school.be")
    before = await csrf(client)
    await login(client, "t@school.be")
    after = await csrf(client, "/account")
    assert after != before
    response = await client.post("/account/tokens", data={"name": "x", "_csrf_token": before})
    assert response.status_code == 403  # the token from before the login does not work any more
    await client.post("/logout", data={"_csrf_token": after})
    assert await csrf(client) != after


async def test_a_csrf_token_works_only_for_the_session_it_was_made_for(client, create_user, app):
    import httpx

    await create_user("teacher", email="a@school.be")
    await create_user("teacher", email="b@school.be")
    await login(client, "a@school.be")
    token_a = await csrf(client, "/account")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 50001)),
                                 base_url="http://testserver.local", follow_redirects=True) as other:
        await login(other, "b@school.be")
        refused = await other.post("/account/tokens", data={"name": "x", "_csrf_token": token_a})
        assert refused.status_code == 403 and "Je formulier is verlopen" in refused.text
        accepted = await other.post("/account/tokens", data={"name": "x", "_csrf_token": await csrf(other, "/account")})
        assert accepted.status_code == 200
