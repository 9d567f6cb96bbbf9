"""Fetching owners' calendars over HTTP without letting a calendar address reach our own network.

Every request to a calendar server, the ICS fetch here and the CalDAV calls in `calendars.caldav`,
goes through `request()`:

- only http and https (webcal:// and webcals:// are read as https, as Apple and Outlook hand
  them out); user name and password in the address are taken out of it and sent as Basic auth;
- before each request (the first and every redirect) the address is checked: `localhost` and
  IP literals (also shorthand such as `2130706433`) that are not public are refused;
- the connection itself is made by `GuardedTransport`, an httpx transport whose network backend
  resolves the host name, refuses it when ANY of its addresses is not public (loopback, private,
  link-local, multicast, reserved, unspecified, shared 100.64/10, cloud metadata), and then
  connects to one of exactly those checked addresses. Resolving, checking and connecting happen in
  one step, so a DNS answer that changes between check and connect (DNS rebinding) cannot slip
  in. httpcore still sends the Host header and does TLS (SNI and certificate verification) for
  the host name of the URL, so HTTPS is verified as usual;
- redirects are followed here (at most 5), each new address checked the same way; the password
  goes only to the original host (an upgrade from http to https on that host keeps it);
- the body is streamed and the request aborted past `max_bytes` (before and after gzip
  decoding); the whole request, redirects included, has one deadline (`timeout`).

Messages never contain the URL (its path or query may be a secret, as with Google's private
addresses) nor the credentials: only the host name."""

from __future__ import annotations

import base64
import functools
import ipaddress
import logging
import socket
import ssl
import zlib
from dataclasses import dataclass

import anyio
import httpcore
import httpx

from core.errors import DomainError
from core.i18n import lazy_gettext as _l

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
USER_AGENT = "Werkbank (calendar import; +https://werkbank.be)"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
METADATA_ADDRESSES = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})
SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")
NAT64_PREFIXES = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class FetchError(DomainError):
    """A calendar could not be fetched. `str()` is a message for the owner, translated in the
    language of the moment; `host` and `status` (the HTTP status, if any) are for the caller,
    `detail` (English, no URL, no credentials) for the log."""

    status_code = 422
    title = "Calendar unreachable"

    def __init__(self, message, *, host: str = "", status: int | None = None, detail: str = ""):
        super().__init__(message)
        self.host = host
        self.status = status
        self.detail = detail


class ForbiddenAddress(FetchError):
    """The address is on a private, local or otherwise non-public network."""


class CalendarConflict(FetchError):
    """A conditional write (If-Match / If-None-Match) failed: the event changed on the server."""


@dataclass
class Fetched:
    status: int  # 200, or 304 when the calendar did not change since `etag` / `last_modified`
    body: bytes  # empty on 304
    etag: str
    last_modified: str


@dataclass
class Answer:
    """One request's outcome after redirects: any status but a redirect. The body is read only
    for 2xx answers (decoded, at most `max_bytes`)."""

    status: int
    headers: httpx.Headers
    body: bytes
    url: httpx.URL  # the final address, without credentials
    sent_auth: bool = False  # whether the final request carried the credentials


# --- addresses -------------------------------------------------------------------------------


def is_forbidden_address(ip: IPAddress) -> bool:
    """True for every address that is not plainly public. IPv6 forms that carry an IPv4 address
    (mapped, 6to4, NAT64, Teredo) are judged by that IPv4 address."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return is_forbidden_address(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            return is_forbidden_address(ip.sixtofour)
        if ip.teredo is not None:
            return any(is_forbidden_address(part) for part in ip.teredo)
        if any(ip in prefix for prefix in NAT64_PREFIXES):
            return is_forbidden_address(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip in METADATA_ADDRESSES:
        return True
    if isinstance(ip, ipaddress.IPv4Address) and ip in SHARED_ADDRESS_SPACE:
        return True
    return (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved
            or ip.is_unspecified or not ip.is_global)


def is_never_allowed(ip: IPAddress) -> bool:
    """Refused even where WERKBANK_CALENDAR_ALLOW_PRIVATE lets local calendar servers in: cloud
    metadata, link-local (where metadata services live), multicast and unspecified addresses."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return is_never_allowed(ip.ipv4_mapped)
    return ip in METADATA_ADDRESSES or ip.is_link_local or ip.is_multicast or ip.is_unspecified


def _refused(ip: IPAddress, allow_private: bool) -> bool:
    return is_never_allowed(ip) if allow_private else is_forbidden_address(ip)


def _forbidden(host: str) -> ForbiddenAddress:
    return ForbiddenAddress(
        _l("The address %(host)s points to a local or private network. Only calendars on the public internet can be linked.",
           host=host),
        host=host, detail="address not public")


def _numeric_address(host: str) -> IPAddress | None:
    """The address an IP literal stands for (also `2130706433` or `0x7f.1`), without DNS."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError, ValueError):
        return None
    return ipaddress.ip_address(infos[0][4][0]) if infos else None


def _check_host_literal(host: str, allow_private: bool) -> None:
    """The part of the check that needs no DNS: local names and IP literals."""
    name = host.rstrip(".").lower()
    if not allow_private and (name == "localhost" or name.endswith(".localhost")):
        raise _forbidden(host)
    address = _numeric_address(name)
    if address is not None and _refused(address, allow_private):
        raise _forbidden(host)


async def _resolve(host: str, port: int) -> list[str]:
    """The addresses of `host`, in the resolver's order, without duplicates (tests replace this)."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in addresses:
            addresses.append(address)
    return addresses


class _GuardedBackend(httpcore.AnyIOBackend):
    """Resolves, checks every address, and connects only to an address it has just checked."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        try:
            with anyio.fail_after(timeout):
                addresses = await _resolve(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout("name resolution timed out") from exc
        except (OSError, UnicodeError) as exc:
            raise FetchError(_l("The host name %(host)s could not be found.", host=host), host=host,
                             detail=f"{type(exc).__name__}: {exc}") from None
        if not addresses:
            raise FetchError(_l("The host name %(host)s could not be found.", host=host), host=host, detail="no addresses")
        if any(_refused(ipaddress.ip_address(a), self.allow_private) for a in addresses):
            raise _forbidden(host)
        # With several addresses, one that swallows packets must not eat the whole deadline.
        attempt_timeout = timeout / 2 if timeout and len(addresses) > 1 else timeout
        last_error: Exception | None = None
        for address in addresses:
            try:
                return await super().connect_tcp(address, port, timeout=attempt_timeout, local_address=local_address,
                                                 socket_options=socket_options)
            except httpcore.ConnectError as exc:
                last_error = exc
        assert last_error is not None
        raise last_error


@functools.lru_cache(maxsize=2)
def _ssl_context(verify: bool) -> ssl.SSLContext:
    """Built once: loading the CA bundle takes a noticeable moment, every fetch would pay it."""
    return httpx.create_ssl_context(verify=verify)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport with the guarded network backend in its connection pool. `verify`
    as in httpx (tests pass an SSL context that trusts their own certificate authority)."""

    def __init__(self, *, allow_private: bool = False, verify: ssl.SSLContext | bool = True) -> None:
        ssl_context = verify if isinstance(verify, ssl.SSLContext) else _ssl_context(verify)
        super().__init__(verify=ssl_context, trust_env=False)
        # Replace the pool httpx built with one that uses our backend; same settings otherwise.
        assert isinstance(self._pool, httpcore.AsyncConnectionPool)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context, max_connections=4, keepalive_expiry=5.0, retries=0,
            network_backend=_GuardedBackend(allow_private),
        )


# --- URLs ------------------------------------------------------------------------------------


def _invalid() -> FetchError:
    return FetchError(_l("This is not a valid calendar address."), detail="invalid URL")


def prepare_url(url: str | httpx.URL, allow_private: bool = False) -> tuple[httpx.URL, tuple[str, str] | None]:
    """A checked http(s) URL without credentials, and the credentials it carried (if any)."""
    try:
        parsed = httpx.URL(url.strip() if isinstance(url, str) else url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise _invalid() from None
    scheme = parsed.scheme.lower()
    if scheme in ("webcal", "webcals"):
        parsed = parsed.copy_with(scheme="https")
    elif scheme not in ("http", "https"):
        if not scheme:
            raise _invalid()
        raise FetchError(_l("Only http, https and webcal addresses can be linked."), detail=f"scheme {scheme}")
    if not parsed.host:
        raise _invalid()
    credentials = None
    if parsed.username or parsed.password:
        credentials = (parsed.username, parsed.password)
        parsed = parsed.copy_with(username=None, password=None)
    _check_host_literal(parsed.host, allow_private)
    return parsed, credentials


def display_host(url: str | httpx.URL) -> str:
    """The host name of a URL, the only part of it that messages and logs show."""
    try:
        return httpx.URL(url).host if isinstance(url, str) else url.host
    except (httpx.InvalidURL, TypeError, ValueError):
        return ""


def _same_origin_for_credentials(original: httpx.URL, new: httpx.URL) -> bool:
    if new.host != original.host:
        return False
    if new.scheme == original.scheme:
        return new.port == original.port
    # http -> https on the same host (default ports) keeps the password; a downgrade never does.
    return original.scheme == "http" and new.scheme == "https" and original.port is None and new.port is None


def _basic_auth_header(auth: tuple[str, str]) -> str:
    user, password = auth
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


# --- errors ----------------------------------------------------------------------------------


def _network_error(exc: Exception, host: str) -> FetchError:
    detail = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return FetchError(_l("The calendar server %(host)s did not answer in time.", host=host), host=host, detail=detail)
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return FetchError(
                _l("The secure connection to %(host)s failed: its certificate could not be verified.", host=host),
                host=host, detail=detail)
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, httpx.ConnectError):
        return FetchError(_l("Could not connect to the calendar server %(host)s.", host=host), host=host, detail=detail)
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return _invalid()
    return FetchError(_l("The connection to %(host)s broke off before the calendar was read.", host=host),
                      host=host, detail=detail)


def raise_for_status(answer: Answer) -> None:
    """A FetchError with a message for the owner for every answer that is not 2xx."""
    status, host = answer.status, answer.url.host
    if 200 <= status < 300:
        return
    detail = f"HTTP {status}"
    if status == 401:
        if answer.sent_auth:
            raise FetchError(_l("The calendar server %(host)s did not accept the user name or password.", host=host),
                             host=host, status=status, detail=detail)
        raise FetchError(_l("The calendar server %(host)s asks for a user name and password.", host=host),
                         host=host, status=status, detail=detail)
    if status == 403:
        raise FetchError(_l("The calendar server %(host)s refused access to this calendar.", host=host),
                         host=host, status=status, detail=detail)
    if status in (404, 410):
        raise FetchError(_l("No calendar was found at this address on %(host)s. Check the address.", host=host),
                         host=host, status=status, detail=detail)
    if status == 412:
        raise CalendarConflict(_l("The event was changed on the calendar server %(host)s in the meantime.", host=host),
                               host=host, status=status, detail=detail)
    if status == 429:
        raise FetchError(_l("The calendar server %(host)s asks us to slow down. We will try again later.", host=host),
                         host=host, status=status, detail=detail)
    if status >= 500:
        raise FetchError(
            _l("The calendar server %(host)s has a problem (HTTP %(status)s). We will try again later.", host=host, status=status),
            host=host, status=status, detail=detail)
    raise FetchError(_l("The calendar server %(host)s gave an unexpected answer (HTTP %(status)s).", host=host, status=status),
                     host=host, status=status, detail=detail)


def _too_large(host: str, max_bytes: int) -> FetchError:
    megabytes = max(1, round(max_bytes / (1024 * 1024)))
    return FetchError(_l("The calendar at %(host)s is larger than %(size)s MB.", host=host, size=megabytes),
                      host=host, detail=f"body over {max_bytes} bytes")


# --- the request -----------------------------------------------------------------------------


async def _read_body(response: httpx.Response, host: str, max_bytes: int) -> bytes:
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise _too_large(host, max_bytes)
    if response.is_stream_consumed:  # only a test's httpx.MockTransport answers with a body read already
        if len(response.content) > max_bytes:
            raise _too_large(host, max_bytes)
        return response.content
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_raw():
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(host, max_bytes)
        chunks.append(chunk)
    return _decode(b"".join(chunks), response.headers.get("content-encoding", ""), host, max_bytes)


def _decode(raw: bytes, encoding: str, host: str, max_bytes: int) -> bytes:
    """Undo gzip/deflate with a bound on the decoded size (a small gzip can unpack to gigabytes)."""
    encodings = [e.strip().lower() for e in encoding.split(",") if e.strip() and e.strip().lower() != "identity"]
    data = raw
    for name in reversed(encodings):
        if name in ("gzip", "x-gzip"):
            decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif name == "deflate":
            decompressor = zlib.decompressobj()
        else:
            raise FetchError(_l("The calendar server %(host)s sent an answer that could not be read.", host=host),
                             host=host, detail=f"content-encoding {name}")
        try:
            data = decompressor.decompress(data, max_bytes + 1)
        except zlib.error as exc:
            raise FetchError(_l("The calendar server %(host)s sent an answer that could not be read.", host=host),
                             host=host, detail=f"zlib: {exc}") from None
        if len(data) > max_bytes or decompressor.unconsumed_tail:
            raise _too_large(host, max_bytes)
    return data


async def request(
    method: str,
    url: str | httpx.URL,
    *,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
    auth: tuple[str, str] | None = None,
    allow_private: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = 20.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Answer:
    """One request to a calendar server, with the address checks, manual redirects, the size
    limit and one deadline. Returns the final answer whatever its status (see `raise_for_status`);
    raises FetchError for bad or forbidden addresses, network failures and oversized bodies."""
    current, url_auth = prepare_url(url, allow_private)
    auth = auth or url_auth
    original = current
    host = current.host
    owns_transport = transport is None
    transport = transport or GuardedTransport(allow_private=allow_private)
    timeouts = {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
    try:
        with anyio.fail_after(timeout):
            for _hop in range(MAX_REDIRECTS + 1):
                host = current.host
                request_headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip"}
                request_headers.update(headers or {})
                sent_auth = bool(auth) and _same_origin_for_credentials(original, current)
                if sent_auth:
                    request_headers["Authorization"] = _basic_auth_header(auth)
                outgoing = httpx.Request(method, current, headers=request_headers, content=content,
                                         extensions={"timeout": timeouts})
                response = await transport.handle_async_request(outgoing)
                try:
                    log.debug("calendar request %s to %s: HTTP %s", method, host, response.status_code)
                    location = response.headers.get("location")
                    if response.status_code in REDIRECT_STATUSES and location:
                        try:
                            target = current.join(location.strip())
                        except (httpx.InvalidURL, TypeError, ValueError):
                            raise _invalid() from None
                        current, _ignored = prepare_url(target, allow_private)
                        if response.status_code == 303 and method != "HEAD":
                            method, content = "GET", None
                        continue
                    body = b""
                    if 200 <= response.status_code < 300:
                        body = await _read_body(response, host, max_bytes)
                    return Answer(status=response.status_code, headers=response.headers, body=body, url=current,
                                  sent_auth=sent_auth)
                finally:
                    await response.aclose()
            raise FetchError(_l("The calendar address at %(host)s redirects too often.", host=host), host=host,
                             detail=f"more than {MAX_REDIRECTS} redirects")
    except FetchError:
        raise
    except (TimeoutError, httpx.HTTPError) as exc:
        raise _network_error(exc, host) from None
    finally:
        if owns_transport:
            await transport.aclose()


async def fetch_calendar(
    url: str,
    *,
    etag: str = "",
    last_modified: str = "",
    auth: tuple[str, str] | None = None,
    allow_private: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = 20.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Fetched:
    """GET a published calendar (ICS URL). With `etag` / `last_modified` from the previous fetch
    the request is conditional: an unchanged calendar gives status 304 and an empty body (also
    when the server ignores the condition but answers with the very ETag we sent). The content
    type is not checked: servers lie, the parser judges the body."""
    headers = {"Accept": "text/calendar, text/plain;q=0.9, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        answer = await request("GET", url, headers=headers, auth=auth, allow_private=allow_private,
                               max_bytes=max_bytes, timeout=timeout, transport=transport)
        if answer.status == 304 and (etag or last_modified):
            return Fetched(status=304, body=b"", etag=answer.headers.get("etag", etag),
                           last_modified=answer.headers.get("last-modified", last_modified))
        if answer.status == 200 and etag and answer.headers.get("etag") == etag:
            # Some servers (Radicale among them) ignore If-None-Match but send the same ETag
            # for the same content: that is "not modified" as well.
            return Fetched(status=304, body=b"", etag=etag, last_modified=answer.headers.get("last-modified", last_modified))
        raise_for_status(answer)
    except FetchError as exc:
        log.info("calendar fetch from %s failed: %s", exc.host or display_host(url), exc.detail)
        raise
    return Fetched(status=200, body=answer.body, etag=answer.headers.get("etag", ""),
                   last_modified=answer.headers.get("last-modified", ""))

