import pytest

from accounts.tables import LoginAttempt, Session
from tests.conftest import PASSWORD, csrf, login


async def test_teacher_logs_in_and_sees_dutch_home(client, create_user):
    await create_user("teacher", email="sofie@school.be", first_name="Sofie", last_name="Claes")
    response = await login(client, "sofie@school.be")
    assert response.status_code == 200  # followed the 303 to /
    assert "Welkom, Sofie Claes" in response.text
    assert "Leerkracht" in response.text
    assert 'lang="nl-BE"' in response.text


async def test_login_goes_back_to_the_page_asked_for_but_never_off_site(client, create_user):
    await create_user("teacher", email="t@school.be")
    response = await client.get("/account")
    assert str(response.url).endswith("/login?next=/account")
    token = await csrf(client)
    response = await client.post("/login", data={"email": "t@school.be", "password": PASSWORD,
                                                 "next": "/account", "_csrf_token": token})
    assert response.url.path == "/account"
    await client.post("/logout", data={"_csrf_token": await csrf(client, "/account")})
    token = await csrf(client)
    response = await client.post("/login", data={"email": "t@school.be", "password": PASSWORD,
                                                 "next": "https://evil.example/", "_csrf_token": token})
    assert response.url.host == "testserver.local" and response.url.path == "/"


async def test_wrong_password_says_so_in_dutch(client, create_user):
    await create_user("teacher", email="t@school.be")
    response = await login(client, "t@school.be", "wrong password!")
    assert response.status_code == 401
    assert "Het e-mailadres of het wachtwoord klopt niet." in response.text
    # The same message for an address that does not exist: nothing to probe.
    response = await login(client, "nobody@school.be", "whatever123")
    assert response.status_code == 401
    assert "Het e-mailadres of het wachtwoord klopt niet." in response.text


async def test_five_wrong_passwords_bring_the_rate_limit(client, create_user):
    await create_user("teacher", email="t@school.be")
    for _ in range(5):
        assert (await login(client, "t@school.be", "wrong password!")).status_code == 401
    response = await login(client, "t@school.be")  # even the right password waits now
    assert response.status_code == 429
    assert "Te veel mislukte pogingen" in response.text
    assert int(response.headers["retry-after"]) > 0
    assert await LoginAttempt.count() == 5


async def test_logout_ends_the_session_for_good(client, create_user):
    await create_user("teacher", email="t@school.be")
    await login(client, "t@school.be")
    cookie = client.cookies.get("werkbank_session")
    assert (await client.get("/account")).url.path == "/account"
    response = await client.post("/logout", data={"_csrf_token": await csrf(client, "/account")})
    assert "Je bent afgemeld." in response.text
    assert await Session.count().where(Session.revoked_at.is_null()) == 0
    # Replaying the old cookie does not get back in.
    client.cookies.set("werkbank_session", cookie, domain="testserver.local")
    response = await client.get("/account")
    assert response.url.path == "/login"


async def test_a_session_survives_a_restart_and_works_in_another_process(client, create_user, settings, db):
    """Sessions live in the database: a second app instance (another process behind the
    proxy, or the same one after a restart) knows the cookie."""
    import httpx

    from app import create_app

    await create_user("teacher", email="t@school.be", first_name="Sofie", last_name="Claes")
    await login(client, "t@school.be")
    cookie = client.cookies.get("werkbank_session")
    other = create_app(settings, engine=db.engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url="http://testserver.local",
                                 cookies={"werkbank_session": cookie}) as second:
        response = await second.get("/")
    assert "Welkom, Sofie Claes" in response.text


async def test_switch_to_english_and_back(client, create_user):
    await create_user("teacher", email="t@school.be", first_name="Sofie", last_name="Claes")
    await login(client, "t@school.be")
    response = await client.post("/language", data={"language": "en", "next": "/", "_csrf_token": await csrf(client, "/")})
    assert "Welcome, Sofie Claes" in response.text
    assert 'lang="en"' in response.text
    # The choice is the user's: it holds in a new browser too.
    client.cookies.delete("werkbank_lang")
    assert "Welcome, Sofie Claes" in (await client.get("/")).text
    response = await client.post("/language", data={"language": "nl", "next": "/", "_csrf_token": await csrf(client, "/")})
    assert "Welkom, Sofie Claes" in response.text


async def test_anonymous_visitors_can_switch_language_too(client, db):
    response = await client.post("/language", data={"language": "en", "next": "/login", "_csrf_token": await csrf(client)})
    assert response.url.path == "/login"
    assert "<h1>Log in</h1>" in response.text


@pytest.mark.parametrize("role, expected", [
    ("teacher", "Je school"),
    ("school_admin", "Mensen van je school op Werkbank"),
    ("owner_staff", "Collega's op Werkbank"),
    ("provider_staff", "Scholen van je net"),
    ("rtc_staff", "Scholen in je regio"),
    ("platform_admin", "Mail-outbox openen"),
])
async def test_each_role_lands_on_its_home_page_and_every_link_there_works(client, create_user, role, expected):
    import re

    await create_user(role, email=f"{role}@example.be")
    response = await login(client, f"{role}@example.be")
    assert response.status_code == 200
    assert expected in response.text
    links = set(re.findall(r'href="(/[^"]*)"', response.text))
    assert "/account" in links
    assert ("/admin/" in links) == (role == "platform_admin")
    for link in links:
        if link.startswith("/static/"):
            continue
        answer = await client.get(link)
        assert answer.status_code == 200, f"{role}: {link} answered {answer.status_code}"


async def test_parallel_wrong_passwords_are_checked_at_most_five_times(client, create_user, app):
    """100 wrong passwords at once for one account: at most the allowed number is checked; a
    colleague with the right password, from the same address (a school's NAT), still gets in."""
    import asyncio

    from accounts import services

    await create_user("teacher", email="target@school.be")
    await create_user("teacher", email="colleague@school.be", first_name="Collega")
    token = await csrf(client)
    checked = []
    verify = services.verify_password

    async def counting(stored, password):
        checked.append(password)
        return await verify(stored, password)

    services.verify_password = counting
    try:
        responses = await asyncio.gather(*(client.post("/login", data={
            "email": "target@school.be", "password": f"guess number {n}", "_csrf_token": token}) for n in range(100)))
    finally:
        services.verify_password = verify
    codes = sorted(r.status_code for r in responses)
    assert len(checked) <= 5, len(checked)
    assert codes.count(401) == len(checked) and codes.count(429) == 100 - len(checked)
    assert await LoginAttempt.count().where(LoginAttempt.email == "target@school.be") == len(checked)
    assert "Welkom, Collega" in (await login(client, "colleague@school.be")).text
    assert (await login(client, "target@school.be")).status_code == 429  # the right password waits too, here


async def test_many_failures_from_one_address_do_not_lock_out_others_behind_it(client, create_user):
    from datetime import datetime, timezone

    from accounts.services import IP_FAILURE_LIMIT

    await create_user("teacher", email="sofie@school.be", first_name="Sofie", last_name="Claes")
    await LoginAttempt.insert(*[LoginAttempt(email=f"sprayed{n}@school.be", ip_address="127.0.0.1",
                                             succeeded=False, created_at=datetime.now(timezone.utc))
                                for n in range(IP_FAILURE_LIMIT)])
    assert "Welkom, Sofie Claes" in (await login(client, "sofie@school.be")).text
    # ... but the address cannot go on guessing the accounts it already failed on
    assert (await login(client, "sprayed1@school.be", "again wrong")).status_code == 429
