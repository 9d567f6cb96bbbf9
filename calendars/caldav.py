"""A minimal CalDAV client (RFC 4791) on httpx, for owners' calendars: read the events of a time
range, write and remove Werkbank's own events (write-back), and check a calendar when an owner
links it. Every call goes through `calendars.fetch.request`, so the same address checks, redirect
rules, size limit and deadline apply; `url` is always the calendar collection's URL.

Known with Radicale, and written to the RFC as Nextcloud (SabreDAV) and iCloud speak it: REPORT
calendar-query with a time range (servers that do not return calendar-data there get a
calendar-multiget for the hrefs), falling back to a plain GET of the collection for servers
without REPORT. Basic auth only (Nextcloud and iCloud take app passwords that way)."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import UTC, datetime
from urllib.parse import quote, urljoin, urlsplit
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from calendars.fetch import (
    DEFAULT_MAX_BYTES,
    Answer,
    FetchError,
    display_host,
    raise_for_status,
    request,
)
from core.i18n import lazy_gettext as _l

log = logging.getLogger(__name__)

DAV = "DAV:"
CALDAV = "urn:ietf:params:xml:ns:caldav"
XML_HEADERS = {"Content-Type": "application/xml; charset=utf-8"}
PRODID = "-//Werkbank//CalDAV import//NL"
# REPORT not offered: read the whole collection with GET instead.
REPORT_UNSUPPORTED = frozenset({400, 405, 415, 501})
WRITE_PRIVILEGES = frozenset({"all", "write", "bind"})
SAFE_NAME = re.compile(r"[A-Za-z0-9._@+=-]{1,200}")

Auth = tuple[str, str] | None


def _tag(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def _collection(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def resource_name(uid: str) -> str:
    """The file name of an event in the collection: the UID itself when it is plain (letters,
    digits, . _ @ + = -), else a hash of it (servers differ on %2F and friends in names)."""
    if not uid:
        raise ValueError("an event needs a UID")
    if SAFE_NAME.fullmatch(uid) and not uid.startswith("."):
        return uid + ".ics"
    return hashlib.sha256(uid.encode()).hexdigest()[:40] + ".ics"


def _event_url(url: str, uid: str) -> str:
    return _collection(url) + quote(resource_name(uid), safe="@+=")


def _utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _unreadable(host: str, detail: str) -> FetchError:
    return FetchError(_l("The calendar server %(host)s sent an answer that could not be read.", host=host),
                      host=host, detail=detail)


def _parse_xml(answer: Answer) -> ET.Element:
    """The answer's XML. Document type declarations (entity tricks) are refused outright; expat
    resolves no external entities."""
    body = answer.body
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise _unreadable(answer.url.host, "XML with a DTD")
    try:
        return ET.fromstring(body)
    except ET.ParseError as exc:
        raise _unreadable(answer.url.host, f"XML: {exc}") from None


def _status_code(element: ET.Element | None) -> int:
    """200 from `<D:status>HTTP/1.1 200 OK</D:status>`; 0 if missing or unreadable."""
    if element is None or not element.text:
        return 0
    parts = element.text.split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def _responses(root: ET.Element):
    """(href, status of the response, {property tag: element} of the 200 propstats) per response."""
    for response in root.iter(_tag(DAV, "response")):
        href = (response.findtext(_tag(DAV, "href")) or "").strip()
        props: dict[str, ET.Element] = {}
        for propstat in response.findall(_tag(DAV, "propstat")):
            if _status_code(propstat.find(_tag(DAV, "status"))) == 200:
                for prop in propstat.findall(_tag(DAV, "prop")):
                    for child in prop:
                        props[child.tag] = child
        yield href, _status_code(response.find(_tag(DAV, "status"))), props


async def _dav(method: str, url: str, auth: Auth, *, body: bytes | None = None, headers: dict[str, str] | None = None,
               allow_private: bool, timeout: float, max_bytes: int = DEFAULT_MAX_BYTES, transport=None) -> Answer:
    return await request(method, url, headers=headers, content=body, auth=auth, allow_private=allow_private,
                         timeout=timeout, max_bytes=max_bytes, transport=transport)


# --- reading ---------------------------------------------------------------------------------


def _query_body(start: datetime, end: datetime) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<c:calendar-query xmlns:d="{DAV}" xmlns:c="{CALDAV}">'
        "<d:prop><d:getetag/><c:calendar-data/></d:prop>"
        '<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">'
        f'<c:time-range start="{_utc(start)}" end="{_utc(end)}"/>'
        "</c:comp-filter></c:comp-filter></c:filter>"
        "</c:calendar-query>"
    ).encode()


def _multiget_body(hrefs: list[str]) -> bytes:
    refs = "".join(f"<d:href>{escape(href)}</d:href>" for href in hrefs)
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<c:calendar-multiget xmlns:d="{DAV}" xmlns:c="{CALDAV}">'
        f"<d:prop><d:getetag/><c:calendar-data/></d:prop>{refs}"
        "</c:calendar-multiget>"
    ).encode()


def _calendar_data(root: ET.Element) -> tuple[list[str], list[str]]:
    """The calendar-data texts found, and the hrefs of events whose data was left out."""
    texts: list[str] = []
    missing: list[str] = []
    for href, status, props in _responses(root):
        if status and status != 200:
            continue
        data = props.get(_tag(CALDAV, "calendar-data"))
        if data is not None and (data.text or "").strip():
            texts.append(data.text)
        elif href and not href.endswith("/"):
            missing.append(href)
    return texts, missing


def merge_calendars(texts: list[str]) -> bytes:
    """One VCALENDAR holding the components of several (one per CalDAV resource): every event,
    each VTIMEZONE once (by TZID), and X-WR-TIMEZONE if any part has one. Lines are kept as they
    are (folded lines stay folded) and joined with CRLF."""
    events: list[list[str]] = []
    timezones: dict[str, list[str]] = {}
    wr_timezone: list[str] = []
    for text in texts:
        depth = 0
        component: list[str] | None = None
        keep_calendar_property = False
        for line in text.splitlines():
            if not line.strip():
                continue
            upper = line.upper()
            continuation = line[0] in " \t"
            if not continuation and upper.startswith("BEGIN:"):
                depth += 1
                if depth == 2:
                    component = []
            if component is not None:
                component.append(line)
            elif depth == 1 and not upper.startswith(("BEGIN:", "END:")):
                if not continuation:
                    keep_calendar_property = upper.startswith("X-WR-TIMEZONE") and not wr_timezone
                    if keep_calendar_property:
                        wr_timezone.append(line)
                elif keep_calendar_property:
                    wr_timezone.append(line)
            if not continuation and upper.startswith("END:"):
                depth -= 1
                if depth == 1 and component is not None:
                    if component[0].upper().startswith("BEGIN:VTIMEZONE"):
                        timezones.setdefault(_tzid(component), component)
                    else:
                        events.append(component)
                    component = None
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", *wr_timezone]
    for component in [*timezones.values(), *events]:
        lines.extend(component)
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def _tzid(component: list[str]) -> str:
    for line in component:
        upper = line.upper()
        if upper.startswith(("TZID:", "TZID;")):
            return line.split(":", 1)[1].strip()
    return ""


async def calendar_events(url: str, auth: Auth, start: datetime, end: datetime, *, allow_private: bool = False,
                          timeout: float = 20.0, max_bytes: int = 2 * DEFAULT_MAX_BYTES, transport=None) -> bytes:
    """The events of the calendar at `url` that touch [start, end), as one VCALENDAR (bytes).
    Recurring events come whole (master and exceptions); the caller expands them."""
    answer = await _dav("REPORT", url, auth, body=_query_body(start, end), headers={**XML_HEADERS, "Depth": "1"},
                        allow_private=allow_private, timeout=timeout, max_bytes=max_bytes, transport=transport)
    if answer.status in REPORT_UNSUPPORTED:
        log.info("CalDAV REPORT refused by %s (HTTP %s); reading the collection with GET", answer.url.host, answer.status)
        answer = await _dav("GET", url, auth, headers={"Accept": "text/calendar"}, allow_private=allow_private,
                            timeout=timeout, max_bytes=max_bytes, transport=transport)
        raise_for_status(answer)
        return answer.body
    raise_for_status(answer)
    if answer.status != 207:
        raise _unreadable(answer.url.host, f"REPORT answered HTTP {answer.status}, not 207")
    texts, missing = _calendar_data(_parse_xml(answer))
    if missing:
        answer = await _dav("REPORT", url, auth, body=_multiget_body(missing), headers={**XML_HEADERS, "Depth": "1"},
                            allow_private=allow_private, timeout=timeout, max_bytes=max_bytes, transport=transport)
        raise_for_status(answer)
        more, _still_missing = _calendar_data(_parse_xml(answer))
        texts.extend(more)
    return merge_calendars(texts)


# --- writing ---------------------------------------------------------------------------------


async def put_event(url: str, auth: Auth, uid: str, ics: bytes, *, etag: str = "", overwrite: bool = False,
                    allow_private: bool = False, timeout: float = 20.0, transport=None) -> str:
    """Write one event (a whole VCALENDAR with that UID) to {url}/{uid}.ics (see `resource_name`) and return its ETag
    ("" if the server tells none). With `etag`: only if the event is still that version
    (If-Match); without: only if it does not exist yet (If-None-Match: *), unless `overwrite`.
    A failed condition raises CalendarConflict."""
    target = _event_url(url, uid)
    headers = {"Content-Type": "text/calendar; charset=utf-8"}
    if etag:
        headers["If-Match"] = etag
    elif not overwrite:
        headers["If-None-Match"] = "*"
    answer = await _dav("PUT", target, auth, body=ics, headers=headers, allow_private=allow_private, timeout=timeout,
                        transport=transport)
    raise_for_status(answer)
    new_etag = answer.headers.get("etag", "")
    if new_etag:
        return new_etag
    # The server changed the data as it stored it (RFC 4791 5.3.4) or just says nothing: ask.
    return await _etag_of(target, auth, allow_private=allow_private, timeout=timeout, transport=transport)


async def _etag_of(target: str, auth: Auth, *, allow_private: bool, timeout: float, transport=None) -> str:
    body = f'<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="{DAV}"><d:prop><d:getetag/></d:prop></d:propfind>'
    answer = await _dav("PROPFIND", target, auth, body=body.encode(), headers={**XML_HEADERS, "Depth": "0"},
                        allow_private=allow_private, timeout=timeout, transport=transport)
    if answer.status != 207:
        return ""
    for _href, _status, props in _responses(_parse_xml(answer)):
        value = props.get(_tag(DAV, "getetag"))
        if value is not None and value.text:
            return value.text.strip()
    return ""


async def delete_event(url: str, auth: Auth, uid: str, *, etag: str = "", allow_private: bool = False,
                       timeout: float = 20.0, transport=None) -> None:
    """Remove {url}/{uid}.ics; an event that is not there (404, 410) is fine. With `etag` only
    that version is removed (If-Match; CalendarConflict otherwise)."""
    headers = {"If-Match": etag} if etag else {}
    answer = await _dav("DELETE", _event_url(url, uid), auth, headers=headers, allow_private=allow_private,
                        timeout=timeout, transport=transport)
    if answer.status in (404, 410):
        return
    raise_for_status(answer)


# --- linking ---------------------------------------------------------------------------------


_CHECK_BODY = (
    '<?xml version="1.0" encoding="utf-8"?>'
    f'<d:propfind xmlns:d="{DAV}" xmlns:c="{CALDAV}"><d:prop>'
    "<d:displayname/><d:resourcetype/><d:current-user-privilege-set/><c:supported-calendar-component-set/>"
    "</d:prop></d:propfind>"
).encode()


async def check_calendar(url: str, auth: Auth, *, allow_private: bool = False, timeout: float = 20.0,
                         transport=None) -> dict:
    """What the owner links: PROPFIND (Depth 0) on the collection. Returns
    `{"url", "displayname", "is_calendar", "supports_events", "writable", "privileges"}`:
    `url` is the final address (after redirects, without credentials); `writable` is True or
    False from current-user-privilege-set (write, bind or all), None when the server does not
    tell; `supports_events` is False only when the calendar says it holds no VEVENTs."""
    answer = await _dav("PROPFIND", url, auth, body=_CHECK_BODY, headers={**XML_HEADERS, "Depth": "0"},
                        allow_private=allow_private, timeout=timeout, transport=transport)
    host = answer.url.host or display_host(url)
    if answer.status not in (405, 501):  # those: no WebDAV here at all
        raise_for_status(answer)
    if answer.status != 207:
        raise FetchError(_l("The address at %(host)s is not a CalDAV calendar.", host=host), host=host,
                         status=answer.status, detail=f"PROPFIND answered HTTP {answer.status}")
    responses = list(_responses(_parse_xml(answer)))
    if not responses:
        raise _unreadable(host, "PROPFIND without a response")
    _href, _status, props = responses[0]
    resourcetype = props.get(_tag(DAV, "resourcetype"))
    is_calendar = resourcetype is not None and resourcetype.find(_tag(CALDAV, "calendar")) is not None
    components_element = props.get(_tag(CALDAV, "supported-calendar-component-set"))
    components = [] if components_element is None else [
        (comp.get("name") or "").upper() for comp in components_element.findall(_tag(CALDAV, "comp"))]
    privilege_set = props.get(_tag(DAV, "current-user-privilege-set"))
    privileges: list[str] = []
    writable: bool | None = None
    if privilege_set is not None:
        for privilege in privilege_set.findall(_tag(DAV, "privilege")):
            privileges.extend(child.tag.rsplit("}", 1)[-1] for child in privilege)
        writable = bool(WRITE_PRIVILEGES & set(privileges))
    displayname = props.get(_tag(DAV, "displayname"))
    return {
        "url": str(answer.url),
        "displayname": (displayname.text or "").strip() if displayname is not None else "",
        "is_calendar": is_calendar,
        "supports_events": not components or "VEVENT" in components,
        "writable": writable,
        "privileges": sorted(set(privileges)),
    }


# --- discovery (RFC 6764, RFC 4791 6.2.1) ------------------------------------------------------------

_HOME_BODY = (
    '<?xml version="1.0" encoding="utf-8"?>'
    f'<d:propfind xmlns:d="{DAV}" xmlns:c="{CALDAV}"><d:prop>'
    "<d:current-user-principal/><c:calendar-home-set/>"
    "</d:prop></d:propfind>"
).encode()


def _href_in(props: dict, tag: str) -> str:
    element = props.get(tag)
    return (element.findtext(_tag(DAV, "href")) or "").strip() if element is not None else ""


async def discover_calendars(url: str, auth: Auth, *, allow_private: bool = False, timeout: float = 20.0,
                             transport=None) -> list[tuple[str, str]]:
    """The event calendars of the account at `url` (a server, an account or a principal address,
    as owners often paste): [(address, display name)], in the server's order. Follows
    current-user-principal to calendar-home-set and lists its calendars (PROPFIND Depth 1)."""
    options = dict(allow_private=allow_private, timeout=timeout, transport=transport)

    async def props_of(target: str) -> tuple[str, dict]:
        answer = await _dav("PROPFIND", target, auth, body=_HOME_BODY, headers={**XML_HEADERS, "Depth": "0"}, **options)
        raise_for_status(answer)
        responses = list(_responses(_parse_xml(answer))) if answer.status == 207 else []
        return str(answer.url), (responses[0][2] if responses else {})

    start = url if urlsplit(url).path not in ("", "/") else urljoin(url, "/.well-known/caldav")
    where, props = await props_of(start)
    home = _href_in(props, _tag(CALDAV, "calendar-home-set"))
    if not home:
        principal = _href_in(props, _tag(DAV, "current-user-principal"))
        if not principal:
            return []
        where, props = await props_of(urljoin(where, principal))
        home = _href_in(props, _tag(CALDAV, "calendar-home-set"))
        if not home:
            return []
    home_url = urljoin(where, home)
    answer = await _dav("PROPFIND", home_url, auth, body=_CHECK_BODY, headers={**XML_HEADERS, "Depth": "1"}, **options)
    raise_for_status(answer)
    found = []
    for href, _status, props in _responses(_parse_xml(answer)):
        resourcetype = props.get(_tag(DAV, "resourcetype"))
        if resourcetype is None or resourcetype.find(_tag(CALDAV, "calendar")) is None:
            continue
        components = props.get(_tag(CALDAV, "supported-calendar-component-set"))
        names = [] if components is None else [(c.get("name") or "").upper() for c in components.findall(_tag(CALDAV, "comp"))]
        if names and "VEVENT" not in names:
            continue  # a task list
        displayname = props.get(_tag(DAV, "displayname"))
        title = (displayname.text or "").strip() if displayname is not None else ""
        address = urljoin(str(answer.url), href)
        found.append((address, title or urlsplit(address).path.rstrip("/").rsplit("/", 1)[-1]))
    return found
