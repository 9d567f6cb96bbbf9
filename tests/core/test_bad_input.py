"""Bad input never crashes: a clear Dutch message or a problem+json body with a 4xx status."""

import pytest

from tests.conftest import csrf, login


@pytest.mark.parametrize("method, path, kwargs", [
    ("post", "/login", {"content": b"\x00\xff not a form", "headers": {"content-type": "application/x-www-form-urlencoded"}}),
    ("post", "/login", {"json": {"email": ["a"], "password": {"x": 1}}}),
    ("get", "/password/reset/" + "x" * 5000, {}),
    ("post", "/account/tokens/not-a-number/revoke", {}),
    ("get", "/outbox/99999999999999999999999", {}),
])
async def test_malformed_requests_get_a_4xx_answer(client, create_user, method, path, kwargs):
    await create_user("platform_admin", email="a@werkbank.be")
    await login(client, "a@werkbank.be")
    token = await csrf(client, "/account")
    headers = {"x-csrftoken": token, **kwargs.pop("headers", {})}
    response = await getattr(client, method)(path, headers=headers, **kwargs)
    assert 400 <= response.status_code < 500, response.text[:500]
    assert "Er ging bij ons iets mis" not in response.text


async def test_api_errors_are_problem_json_in_dutch(client, db):
    response = await client.get("/api/v1/nergens")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"] == "Deze pagina of dit object bestaat niet, of je mag het niet zien."


@pytest.mark.parametrize("path", ["/inventory/?owner=99999999999", "/inventory/resources/new?facility=99999999999",
                                  "/search?page=99999999999", "/resources/99999999999"])
async def test_numbers_too_large_for_the_database_are_refused_cleanly(client, create_user, path):
    await create_user("platform_admin", email="a@werkbank.be")
    await login(client, "a@werkbank.be")
    response = await client.get(path)
    assert 400 <= response.status_code < 500 or (response.status_code == 200 and "Er ging bij ons" not in response.text)
