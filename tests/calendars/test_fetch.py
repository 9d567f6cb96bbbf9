"""The network layer for owners' calendars: address checks (also after DNS and redirects),
conditional GET, redirects, the password only for the original host, size limits and clear
errors. Real servers on loopback where it matters; httpx.MockTransport for header logic."""

from __future__ import annotations

import gzip
import ipaddress
import json
import logging
import socket

import httpx
import pytest

from calendars.fetch import (
    MAX_REDIRECTS,
    FetchError,
    ForbiddenAddress,
    GuardedTransport,
    fetch_calendar,
    is_forbidden_address,
    prepare_url,
)
from core.i18n import use_language
from tests.calendars.conftest import SMALL_ICS


def english(error: Exception) -> str:
    """The message in English (FetchError translates when shown, in the language of that moment)."""
    with use_language("en"):
        return str(error)


def mock(handler) -> httpx.MockTransport:
    return httpx.MockTransport(handler)


def ics_handler(seen: list[httpx.Request] | None = None, body: bytes = SMALL_ICS, headers: dict | None = None):
    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(200, content=body, headers={"Content-Type": "text/calendar", **(headers or {})})

    return handle


# --- addresses -------------------------------------------------------------------------------


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.5.6.7", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.10", "169.254.169.254", "169.254.1.1",
    "fd00:ec2::254", "fc00::1", "fe80::1", "100.64.0.1", "100.127.255.254", "0.0.0.0", "::", "224.0.0.1",
    "ff02::1", "255.255.255.255", "240.0.0.1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2002:7f00:1::1",
    "64:ff9b::a00:1", "192.0.0.1", "198.18.0.1", "2001:db8::1",
])
def test_non_public_addresses_are_forbidden(address):
    assert is_forbidden_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "193.190.198.1", "2001:4860:4860::8888", "::ffff:8.8.8.8",
                                     "64:ff9b::808:808", "2a02:1800::1"])
def test_public_addresses_are_allowed(address):
    assert not is_forbidden_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/cal.ics", "http://localhost/cal.ics", "http://LOCALHOST./cal.ics", "http://app.localhost/x",
    "http://[::1]/cal.ics", "http://10.0.0.5/cal.ics", "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/", "http://100.64.0.1/", "http://0.0.0.0/", "http://0/", "http://127.1:8080/", "http://2130706433/", "http://0x7f.1/",
    "http://[::ffff:127.0.0.1]/", "webcal://192.168.0.1/cal.ics",
])
async def test_private_addresses_are_refused_before_any_connection(url):
    with pytest.raises(ForbiddenAddress) as caught:
        await fetch_calendar(url)
    assert "local or private network" in english(caught.value)


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/",
                                 "http://[::ffff:169.254.169.254]/", "http://169.254.1.1/", "http://0.0.0.0/"])
async def test_metadata_and_link_local_addresses_are_refused_even_where_private_ones_are_allowed(url):
    with pytest.raises(ForbiddenAddress):
        await fetch_calendar(url, allow_private=True)


async def test_a_name_resolving_to_the_metadata_service_is_refused_even_where_private_ones_are_allowed(web_server,
                                                                                                      fake_dns):
    fake_dns["metadata.example.test"] = ["169.254.169.254"]
    with pytest.raises(ForbiddenAddress):
        await fetch_calendar(f"http://metadata.example.test:{web_server.port}/ics", allow_private=True)
    fake_dns["nas.example.test"] = ["127.0.0.1"]  # a calendar server on the same machine or network is fine there
    assert (await fetch_calendar(f"http://nas.example.test:{web_server.port}/ics", allow_private=True)).status == 200


async def test_a_refused_loopback_address_is_never_contacted(web_server):
    with pytest.raises(ForbiddenAddress):
        await fetch_calendar(web_server.url("ics"))
    with pytest.raises(ForbiddenAddress):
        await fetch_calendar(f"http://localhost:{web_server.port}/ics")
    assert web_server.requests == []


async def test_a_host_name_that_resolves_to_loopback_is_refused(web_server, fake_dns):
    fake_dns["intranet.example.test"] = ["127.0.0.1"]
    with pytest.raises(ForbiddenAddress) as caught:
        await fetch_calendar(f"http://intranet.example.test:{web_server.port}/ics")
    assert caught.value.host == "intranet.example.test"
    assert web_server.requests == []


async def test_one_private_address_among_public_ones_is_enough_to_refuse(web_server, fake_dns):
    fake_dns["mixed.example.test"] = ["8.8.8.8", "127.0.0.1"]
    with pytest.raises(ForbiddenAddress):
        await fetch_calendar(f"http://mixed.example.test:{web_server.port}/ics")
    assert web_server.requests == []


async def test_the_connection_goes_to_the_checked_address_and_keeps_the_host_name(web_server, fake_dns):
    """The transport connects to the address it resolved (here loopback, allowed explicitly) while
    the request still names the host: no second DNS look-up that could answer differently."""
    fake_dns["agenda.example.test"] = ["127.0.0.1"]
    fetched = await fetch_calendar(f"http://agenda.example.test:{web_server.port}/ics", allow_private=True)
    assert fetched.body == SMALL_ICS
    assert web_server.requests[0]["headers"]["Host"] == f"agenda.example.test:{web_server.port}"


async def test_resolver_is_asked_once_per_connection(web_server, fake_dns, monkeypatch):
    from calendars import fetch

    calls: list[str] = []
    resolve = fetch._resolve

    async def counting(host, port):
        calls.append(host)
        return await resolve(host, port)

    monkeypatch.setattr(fetch, "_resolve", counting)
    fake_dns["agenda.example.test"] = ["127.0.0.1"]
    await fetch_calendar(f"http://agenda.example.test:{web_server.port}/ics", allow_private=True)
    assert calls == ["agenda.example.test"]


async def test_unknown_host_name(fake_dns):
    fake_dns["nergens.example.test"] = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    with pytest.raises(FetchError) as caught:
        await fetch_calendar("https://nergens.example.test/cal.ics")
    assert english(caught.value) == "The host name nergens.example.test could not be found."


# --- TLS with the pinned address -------------------------------------------------------------


async def test_https_verifies_the_certificate_of_the_host_name(tls_server, fake_dns):
    fake_dns[tls_server.hostname] = ["127.0.0.1"]
    transport = GuardedTransport(allow_private=True, verify=tls_server.client_context)
    async with transport:
        fetched = await fetch_calendar(f"https://{tls_server.hostname}:{tls_server.port}/ics", allow_private=True,
                                       transport=transport)
    assert fetched.body == SMALL_ICS
    assert tls_server.requests[0]["headers"]["Host"] == f"{tls_server.hostname}:{tls_server.port}"


async def test_https_to_a_name_the_certificate_does_not_carry_fails(tls_server, fake_dns):
    fake_dns["other.example.test"] = ["127.0.0.1"]
    transport = GuardedTransport(allow_private=True, verify=tls_server.client_context)
    async with transport:
        with pytest.raises(FetchError) as caught:
            await fetch_calendar(f"https://other.example.test:{tls_server.port}/ics", allow_private=True,
                                 transport=transport)
    assert "certificate could not be verified" in english(caught.value)
    assert tls_server.requests == []


async def test_webcal_is_fetched_over_https(tls_server, fake_dns):
    fake_dns[tls_server.hostname] = ["127.0.0.1"]
    transport = GuardedTransport(allow_private=True, verify=tls_server.client_context)
    async with transport:
        fetched = await fetch_calendar(f"webcal://{tls_server.hostname}:{tls_server.port}/ics", allow_private=True,
                                       transport=transport)
    assert fetched.status == 200 and fetched.body == SMALL_ICS


def test_prepare_url():
    url, credentials = prepare_url("webcal://Outlook.Office365.com/owa/calendar/abc/reachcalendar.ics")
    assert str(url) == "https://outlook.office365.com/owa/calendar/abc/reachcalendar.ics"
    assert credentials is None
    url, credentials = prepare_url("https://jan%40school.be:p%40ss@cloud.example.com/remote.php/dav/calendars/jan/x/")
    assert credentials == ("jan@school.be", "p@ss")
    assert "p%40ss" not in str(url) and "jan" not in url.host


@pytest.mark.parametrize("url", ["ftp://example.com/cal.ics", "file:///etc/passwd", "javascript:alert(1)",
                                 "gopher://example.com/"])
async def test_other_schemes_are_refused(url):
    with pytest.raises(FetchError) as caught:
        await fetch_calendar(url, transport=mock(ics_handler()))
    assert english(caught.value) == "Only http, https and webcal addresses can be linked."


@pytest.mark.parametrize("url", ["", "kalender", "http://", "https:///cal.ics"])
async def test_invalid_addresses(url):
    with pytest.raises(FetchError) as caught:
        await fetch_calendar(url, transport=mock(ics_handler()))
    assert english(caught.value) == "This is not a valid calendar address."


# --- conditional GET -------------------------------------------------------------------------


async def test_conditional_get_against_a_real_server(web_server):
    first = await fetch_calendar(web_server.url("ics"), allow_private=True)
    assert (first.status, first.body, first.etag) == (200, SMALL_ICS, '"v1"')
    assert first.last_modified == "Mon, 06 Jan 2025 08:00:00 GMT"
    second = await fetch_calendar(web_server.url("ics"), etag=first.etag, last_modified=first.last_modified,
                                  allow_private=True)
    assert (second.status, second.body, second.etag) == (304, b"", '"v1"')
    assert second.last_modified == first.last_modified
    assert web_server.requests[1]["headers"]["If-None-Match"] == '"v1"'
    assert web_server.requests[1]["headers"]["If-Modified-Since"] == first.last_modified


async def test_validators_are_only_sent_when_known():
    seen: list[httpx.Request] = []
    await fetch_calendar("https://calendar.example.com/a.ics", transport=mock(ics_handler(seen)))
    assert "if-none-match" not in seen[0].headers and "if-modified-since" not in seen[0].headers


async def test_a_304_nobody_asked_for_is_an_error():
    with pytest.raises(FetchError) as caught:
        await fetch_calendar("https://calendar.example.com/a.ics", transport=mock(lambda request: httpx.Response(304)))
    assert caught.value.status == 304


async def test_same_etag_from_a_server_that_ignores_if_none_match_counts_as_not_modified():
    transport = mock(ics_handler(headers={"ETag": '"same"'}))
    fetched = await fetch_calendar("https://calendar.example.com/a.ics", etag='"same"', transport=transport)
    assert (fetched.status, fetched.body) == (304, b"")


# --- redirects -------------------------------------------------------------------------------


def redirecting(routes: dict[str, str], seen: list[httpx.Request], status: int = 302):
    """Answers a redirect for URLs in `routes`, the calendar otherwise."""

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        target = routes.get(str(request.url))
        if target:
            return httpx.Response(status, headers={"Location": target})
        return httpx.Response(200, content=SMALL_ICS)

    return handle


@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data/", "http://localhost:5232/",
                                    "http://10.0.0.1/cal.ics", "http://[::1]/", "ftp://calendar.example.com/x"])
async def test_redirects_to_forbidden_addresses_are_refused(target):
    seen: list[httpx.Request] = []
    transport = mock(redirecting({"https://calendar.example.com/a.ics": target}, seen))
    with pytest.raises(FetchError):
        await fetch_calendar("https://calendar.example.com/a.ics", transport=transport)
    assert len(seen) == 1


async def test_a_real_redirect_to_a_host_name_on_loopback_is_refused(web_server, fake_dns, monkeypatch):
    """A real first hop that is allowed, then a redirect to a name that resolves to loopback:
    only the guarded transport sees that address, and it refuses before connecting. (To have an
    "allowed" server here, 127.0.0.1 itself counts as public in this test; 127.0.0.2 does not.)"""
    from calendars import fetch

    real_check = fetch.is_forbidden_address
    monkeypatch.setattr(fetch, "is_forbidden_address", lambda ip: str(ip) != "127.0.0.1" and real_check(ip))
    fake_dns["public.example.test"] = ["127.0.0.1"]
    fake_dns["sneaky.example.test"] = ["127.0.0.2"]
    target = f"http://sneaky.example.test:{web_server.port}/ics"
    with pytest.raises(ForbiddenAddress) as caught:
        await fetch_calendar(f"http://public.example.test:{web_server.port}/redirect?to={target}")
    assert caught.value.host == "sneaky.example.test"
    assert [r["path"].split("?")[0] for r in web_server.requests] == ["/redirect"]


async def test_redirect_chain_is_followed_with_relative_locations():
    seen: list[httpx.Request] = []
    routes = {
        "https://calendar.example.com/a.ics": "/b.ics",
        "https://calendar.example.com/b.ics": "https://cdn.example.net/c.ics",
    }
    fetched = await fetch_calendar("https://calendar.example.com/a.ics", transport=mock(redirecting(routes, seen, 301)))
    assert fetched.body == SMALL_ICS
    assert [str(r.url) for r in seen] == ["https://calendar.example.com/a.ics", "https://calendar.example.com/b.ics",
                                          "https://cdn.example.net/c.ics"]


async def test_at_most_five_redirects():
    seen: list[httpx.Request] = []
    routes = {f"https://calendar.example.com/{n}": f"https://calendar.example.com/{n + 1}" for n in range(MAX_REDIRECTS)}
    fetched = await fetch_calendar("https://calendar.example.com/0", transport=mock(redirecting(routes, seen)))
    assert fetched.status == 200 and len(seen) == MAX_REDIRECTS + 1

    seen.clear()
    routes[f"https://calendar.example.com/{MAX_REDIRECTS}"] = "https://calendar.example.com/0"
    with pytest.raises(FetchError) as caught:
        await fetch_calendar("https://calendar.example.com/0", transport=mock(redirecting(routes, seen)))
    assert english(caught.value) == "The calendar address at calendar.example.com redirects too often."
    assert len(seen) == MAX_REDIRECTS + 1


async def test_real_redirects_on_a_local_server(web_server):
    target = web_server.url("ics")
    fetched = await fetch_calendar(web_server.url(f"redirect?status=307&to={target}"), allow_private=True)
    assert fetched.body == SMALL_ICS
    with pytest.raises(FetchError):
        await fetch_calendar(web_server.url("redirect?to=http://169.254.169.254/latest/"), allow_private=False)


# --- the password goes only to the original host ---------------------------------------------


def authorizations(seen: list[httpx.Request]) -> list[str | None]:
    return [r.headers.get("authorization") for r in seen]


async def test_basic_auth_is_dropped_when_redirected_to_another_host():
    seen: list[httpx.Request] = []
    routes = {"https://cloud.example.com/cal": "https://cloud.example.com/cal2",
              "https://cloud.example.com/cal2": "https://evil.example.net/steal"}
    await fetch_calendar("https://cloud.example.com/cal", auth=("jan", "geheim"), transport=mock(redirecting(routes, seen)))
    expected = "Basic " + __import__("base64").b64encode(b"jan:geheim").decode()
    assert authorizations(seen) == [expected, expected, None]


async def test_basic_auth_survives_an_upgrade_to_https_but_not_a_downgrade():
    seen: list[httpx.Request] = []
    routes = {"http://cloud.example.com/cal": "https://cloud.example.com/cal"}
    await fetch_calendar("http://cloud.example.com/cal", auth=("jan", "geheim"), transport=mock(redirecting(routes, seen)))
    assert all(authorizations(seen))

    seen.clear()
    routes = {"https://cloud.example.com/cal": "http://cloud.example.com/cal"}
    await fetch_calendar("https://cloud.example.com/cal", auth=("jan", "geheim"), transport=mock(redirecting(routes, seen)))
    assert authorizations(seen)[0] and authorizations(seen)[1] is None


async def test_credentials_in_the_url_become_basic_auth_and_leave_the_url():
    seen: list[httpx.Request] = []
    await fetch_calendar("https://jan:geheim@cloud.example.com/cal.ics", transport=mock(ics_handler(seen)))
    assert seen[0].headers["authorization"].startswith("Basic ")
    assert "geheim" not in str(seen[0].url)


async def test_a_401_after_the_password_was_dropped_does_not_blame_the_password():
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "cloud.example.com":
            return httpx.Response(301, headers={"Location": "https://p42.cloud.example.net/cal"})
        return httpx.Response(401)

    with pytest.raises(FetchError) as caught:
        await fetch_calendar("https://cloud.example.com/cal", auth=("jan", "geheim"), transport=mock(handle))
    assert english(caught.value) == "The calendar server p42.cloud.example.net asks for a user name and password."


async def test_real_redirect_to_another_host_name_drops_the_password(web_server, fake_dns):
    fake_dns["andere.example.test"] = ["127.0.0.1"]
    target = f"http://andere.example.test:{web_server.port}/echo"
    await fetch_calendar(web_server.url(f"redirect?to={target}"), auth=("jan", "geheim"), allow_private=True)
    assert "Authorization" in web_server.requests[0]["headers"]
    assert "Authorization" not in web_server.requests[1]["headers"]


# --- size ------------------------------------------------------------------------------------


async def test_a_body_over_the_limit_is_refused_from_its_content_length(web_server):
    with pytest.raises(FetchError) as caught:
        await fetch_calendar(web_server.url("big?size=3000000"), allow_private=True, max_bytes=1024 * 1024)
    assert english(caught.value) == "The calendar at 127.0.0.1 is larger than 1 MB."


async def test_a_body_without_length_is_cut_off_at_the_limit(web_server):
    with pytest.raises(FetchError) as caught:
        await fetch_calendar(web_server.url("big-unannounced?chunks=200"), allow_private=True, max_bytes=1024 * 1024)
    assert "larger than 1 MB" in english(caught.value)


async def test_a_streamed_body_over_the_limit_is_refused_with_mock_transport():
    async def chunks():
        for _ in range(100):
            yield b"A" * 65536

    transport = mock(lambda request: httpx.Response(200, content=chunks()))
    with pytest.raises(FetchError):
        await fetch_calendar("https://calendar.example.com/a.ics", max_bytes=1024 * 1024, transport=transport)


async def test_a_body_at_the_limit_is_fine(web_server):
    fetched = await fetch_calendar(web_server.url("big?size=1000"), allow_private=True, max_bytes=1000)
    assert len(fetched.body) == 1000


async def test_gzip_is_decoded(web_server):
    fetched = await fetch_calendar(web_server.url("gzip?size=10"), allow_private=True)
    assert fetched.body.startswith(SMALL_ICS)


async def test_a_gzip_bomb_is_refused(web_server):
    # About 10 kB on the wire, 10 MB unpacked (the limit is 5 MB).
    with pytest.raises(FetchError) as caught:
        await fetch_calendar(web_server.url("gzip?size=10000000"), allow_private=True)
    assert "larger than 5 MB" in english(caught.value)


async def test_an_unknown_content_encoding_is_refused():
    async def body():
        yield b"??"

    transport = mock(lambda request: httpx.Response(200, content=body(), headers={"Content-Encoding": "br"}))
    with pytest.raises(FetchError) as caught:
        await fetch_calendar("https://calendar.example.com/a.ics", transport=transport)
    assert "could not be read" in english(caught.value)


async def test_the_content_type_is_not_judged():
    transport = mock(ics_handler(headers={"Content-Type": "text/html"}))
    fetched = await fetch_calendar("https://calendar.example.com/a.ics", transport=transport)
    assert fetched.body == SMALL_ICS


async def test_accept_encoding_is_gzip_only():
    seen: list[httpx.Request] = []
    await fetch_calendar("https://calendar.example.com/a.ics", transport=mock(ics_handler(seen)))
    assert seen[0].headers["accept-encoding"] == "gzip"
    assert gzip  # decoded by hand, with a bound on the size


# --- statuses and network failures -------------------------------------------------------------


@pytest.mark.parametrize("status, message", [
    (401, "The calendar server calendar.example.com asks for a user name and password."),
    (403, "The calendar server calendar.example.com refused access to this calendar."),
    (404, "No calendar was found at this address on calendar.example.com. Check the address."),
    (410, "No calendar was found at this address on calendar.example.com. Check the address."),
    (429, "The calendar server calendar.example.com asks us to slow down. We will try again later."),
    (500, "The calendar server calendar.example.com has a problem (HTTP 500). We will try again later."),
    (503, "The calendar server calendar.example.com has a problem (HTTP 503). We will try again later."),
    (418, "The calendar server calendar.example.com gave an unexpected answer (HTTP 418)."),
])
async def test_error_statuses_give_clear_messages(status, message):
    transport = mock(lambda request: httpx.Response(status, content=b"error page"))
    with pytest.raises(FetchError) as caught:
        await fetch_calendar("https://calendar.example.com/secret-token-123/basic.ics", transport=transport)
    assert english(caught.value) == message
    assert caught.value.status == status


async def test_401_with_a_password_says_the_password_was_refused():
    transport = mock(lambda request: httpx.Response(401))
    with pytest.raises(FetchError) as caught:
        await fetch_calendar("https://calendar.example.com/a.ics", auth=("jan", "s3cr3t-pw"), transport=transport)
    assert english(caught.value) == "The calendar server calendar.example.com did not accept the user name or password."


async def test_real_error_status(web_server):
    with pytest.raises(FetchError) as caught:
        await fetch_calendar(web_server.url("status/503"), allow_private=True)
    assert caught.value.status == 503


async def test_nothing_listening(closed_port):
    with pytest.raises(FetchError) as caught:
        await fetch_calendar(f"http://127.0.0.1:{closed_port}/cal.ics", allow_private=True)
    assert english(caught.value) == "Could not connect to the calendar server 127.0.0.1."


async def test_a_server_that_drips_is_cut_off_by_the_deadline(web_server):
    with pytest.raises(FetchError) as caught:
        await fetch_calendar(web_server.url("slow"), allow_private=True, timeout=1.0)
    assert english(caught.value) == "The calendar server 127.0.0.1 did not answer in time."


async def test_a_timeout_from_the_transport():
    def handle(request):
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(FetchError) as caught:
        await fetch_calendar("https://calendar.example.com/a.ics", transport=mock(handle))
    assert "did not answer in time" in english(caught.value)


async def test_messages_and_logs_hold_no_secrets(caplog):
    caplog.set_level(logging.DEBUG)
    url = "https://jan:pw-in-url@calendar.example.com/private-0123456789abcdef/basic.ics?token=qs-secret"

    def handle(request):
        return httpx.Response(401)

    for auth in (None, ("jan", "pw-in-auth")):
        with pytest.raises(FetchError) as caught:
            await fetch_calendar(url, auth=auth, transport=mock(handle))
        error = caught.value
        for text in (str(error), english(error), repr(error), error.detail, json.dumps([str(a) for a in error.args]), caplog.text):
            for secret in ("pw-in-url", "pw-in-auth", "0123456789abcdef", "qs-secret"):
                assert secret not in text
        assert error.host == "calendar.example.com"
