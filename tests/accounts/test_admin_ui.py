"""piccolo-admin's own front end at /admin: what it asks for when it starts, in its order (the
translations list, the default translation, then who is logged in, then the sidebar links). A
default language it cannot load stops it before it asks for the user, and it shows "Unknown"."""

import pytest

from tests.conftest import login


async def test_the_admin_front_end_loads_its_language_and_shows_the_platform_admin(client, create_user):
    await create_user("platform_admin", email="admin@werkbank.be")
    await login(client, "admin@werkbank.be")
    languages = await client.get("/admin/public/translations/")
    assert languages.status_code == 200
    default = languages.json()["default_language_code"]
    assert default in {t["language_code"] for t in languages.json()["translations"]}
    assert (await client.get(f"/admin/public/translations/{default}/")).status_code == 200
    user = await client.get("/admin/api/user/")
    assert user.status_code == 200
    assert user.json()["username"] == "admin@werkbank.be"
    assert (await client.get("/admin/public/meta/")).json()["site_name"] == "Werkbank beheer"


async def test_the_admin_offers_a_way_back_to_werkbank(client, create_user):
    await create_user("platform_admin", email="admin@werkbank.be")
    await login(client, "admin@werkbank.be")
    links = await client.get("/admin/api/links/")
    assert links.status_code == 200
    assert list(links.json().values()) == ["/"]
    label = next(iter(links.json()))
    assert label in ("Terug naar Werkbank", "Back to Werkbank")  # Dutch once locale/ has the translation
    home = await client.get("/")
    assert home.status_code == 200 and 'href="/admin/"' in home.text


@pytest.mark.parametrize("role", ["teacher", "school_admin", "owner_staff", "provider_staff", "rtc_staff"])
async def test_other_roles_are_refused_the_admin_user_endpoint(client, create_user, role):
    await create_user(role, email=f"{role}@example.be")
    await login(client, f"{role}@example.be")
    response = await client.get("/admin/api/user/")
    assert response.status_code == 403
    assert "admin@" not in response.text and "username" not in response.text


async def test_anonymous_visitors_get_no_user_from_the_admin(client, db):
    response = await client.get("/admin/api/user/", follow_redirects=False)
    assert response.status_code in (302, 303, 401)
    assert "username" not in response.text
