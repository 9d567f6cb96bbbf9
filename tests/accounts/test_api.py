import re

from accounts import services
from tests.conftest import csrf, login


async def test_health_needs_no_authentication(client, db):
    response = await client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": db.kind}


async def test_me_with_a_bearer_token(client, create_user, create_org, uow_for):
    school = await create_org(name="GO! Technisch Atheneum Aalst", slug="go-ta-aalst")
    user = await create_user("teacher", org=school, email="t@school.be", first_name="Sofie", last_name="Claes")
    _row, token = await services.create_api_token(uow_for(), user=user, name="rooster")
    response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json() == {
        "id": user.id, "email": "t@school.be", "name": "Sofie Claes", "language": "nl",
        "roles": [{"role": "teacher", "role_label": "Leerkracht", "organisation": "go-ta-aalst",
                   "organisation_name": "GO! Technisch Atheneum Aalst", "organisation_kind": "school"}],
    }


async def test_without_or_with_a_bad_token_the_api_answers_401_problem_json(client, db):
    for headers in ({}, {"Authorization": "Bearer wb_not-a-token"}, {"Authorization": "Basic dXNlcjpwdw=="}):
        response = await client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert body["status"] == 401 and body["detail"] == "Meld je aan om verder te gaan."


async def test_a_revoked_token_gets_401(client, create_user, uow_for):
    user = await create_user("teacher", email="t@school.be")
    _row, token = await services.create_api_token(uow_for(), user=user, name="rooster")
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    assert await services.revoke_api_tokens(uow_for(), user, "rooster") == 1
    response = await client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_the_browser_session_does_not_open_the_api(client, create_user):
    """The API reads only bearer tokens, so another site cannot ride on a logged-in browser."""
    await create_user("teacher", email="t@school.be")
    await login(client, "t@school.be")
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_create_and_revoke_a_token_on_the_account_page_with_htmx(client, create_user):
    await create_user("teacher", email="t@school.be")
    await login(client, "t@school.be")
    token = await csrf(client, "/account")
    htmx = {"HX-Request": "true", "X-CSRFToken": token}
    response = await client.post("/account/tokens", data={"name": "lessenrooster"}, headers=htmx)
    assert response.status_code == 200
    assert "<html" not in response.text  # only the tokens block
    assert "Kopieer het nu: het wordt maar één keer getoond." in response.text
    secret = re.search(r'id="new-token">([^<]+)<', response.text).group(1)
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.json()["email"] == "t@school.be"

    page = await client.get("/account")
    assert secret not in page.text  # shown once
    token_id = re.search(r'/account/tokens/(\d+)/revoke', page.text).group(1)
    response = await client.post(f"/account/tokens/{token_id}/revoke", headers=htmx)
    assert "Het token is ingetrokken." in response.text
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})).status_code == 401


async def test_the_same_token_form_works_without_javascript(client, create_user):
    await create_user("teacher", email="t@school.be")
    await login(client, "t@school.be")
    response = await client.post("/account/tokens", data={"name": "x" * 101, "_csrf_token": await csrf(client, "/account")})
    assert response.status_code == 422
    assert "<html" in response.text and "De naam mag hoogstens 100 tekens hebben." in response.text


async def test_nobody_revokes_another_users_token(client, create_user, uow_for):
    owner = await create_user("teacher", email="a@school.be")
    row, secret = await services.create_api_token(uow_for(), user=owner, name="a")
    await create_user("teacher", email="b@school.be")
    await login(client, "b@school.be")
    response = await client.post(f"/account/tokens/{row.id}/revoke", data={"_csrf_token": await csrf(client, "/account")})
    assert response.status_code == 404
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})).status_code == 200


async def test_openapi_schema_lists_the_api(client, db):
    schema = (await client.get("/schema/openapi.json")).json()
    assert "/api/v1/health" in schema["paths"] and "/api/v1/me" in schema["paths"]


async def test_a_token_notes_its_last_use_at_most_once_a_minute(client, create_user, uow_for):
    from accounts.tables import ApiToken

    user = await create_user("teacher", email="t@school.be")
    _row, token = await services.create_api_token(uow_for(), user=user, name="rooster")
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    first = (await ApiToken.objects().first()).last_used_at
    assert first is not None
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    assert (await ApiToken.objects().first()).last_used_at == first  # not written again within the minute


async def test_a_database_that_stays_locked_is_a_503_to_try_again(client, create_user, uow_for, monkeypatch):
    import sqlite3

    from accounts import services as account_services

    user = await create_user("teacher", email="t@school.be")
    _row, token = await services.create_api_token(uow_for(), user=user, name="rooster")

    async def locked(*args, **kwargs):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(account_services, "load_actor", locked)
    response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "niets gewijzigd" in response.json()["detail"]
