"""Least privilege (ARCHITECTURE.md section 3, invariant 5): who may do what with which object.

The policy is written below as tables, one per kind of object. A row is one actor in one
relation to the object; a column is an action; a cell is what must happen. Every cell is tried
through the pages (session cookie, CSRF token) and through the JSON API (bearer token) where the
action has an API route, on SQLite and on PostgreSQL. A refused write must leave the database as
it was (the row is read again).

    YES    allowed: 200 / 201, or a 303 to the result, and the change is in the database
    403    refused: the actor may see the object but may not do this
    404    refused as if the object did not exist: the actor may not even see it
    LOGIN  anonymous: a page sends to /login (a POST may answer 401 instead), the API answers 401

The world (built afresh in every test function):

    school A   GO! Technisch Atheneum Gent    network go         9000 Gent     region VOV
    school B   Sint-Jozefsinstituut Hasselt   network katholiek  3500 Hasselt  region VLI
    owner X    Fonds Metaal (sector fund, seat in Brussel)    a facility and a resource in 9000 Gent (VOV)
    owner Y    Bouwcampus (training centre, seat in Antwerpen) a facility and a resource in 3500 Hasselt (VLI)
    providers  GO! onderwijs (network go), Katholiek Onderwijs Vlaanderen (network katholiek)
    RTCs       RTC Oost-Vlaanderen (VOV), RTC Limburg (VLI)

A booking is named <school>@<owner>: "A@Y" is school A's booking of owner Y's resource. The
acting users sit on one side: teacher@A, school_admin@A, owner_staff@X, provider_staff@go,
rtc_staff@VOV, platform_admin, and anonymous (nobody logged in). The other side (teacher@B,
owner_staff@Y, provider_staff@katholiek, rtc_staff@VLI) exists so that every relation has both ends.

Bookings are inserted as rows (booking.tables.Booking), not through the booking services, so
that this test depends only on the tables and on HTTP.

Set WERKBANK_MATRIX_REPORT=<file> to have every cell appended to that file as a JSON line
(tests/mutate_guards.py uses it to see which cells a weakened guard breaks).
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from itertools import count
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import httpx
import pytest

from allocation.tables import AllocationRound, Registration, RoundResource
from booking.tables import Booking
from core.tables import OutboxMessage
from inventory.tables import (
    Facility,
    OpeningHours,
    Qualification,
    QualificationGrant,
    Resource,
    ResourceProgramme,
)
from tests.conftest import RESOURCE_FORM, csrf, login

YES = "yes"
LOGIN = "login"

# =============================================================================================
# THE POLICY
# =============================================================================================

# --- one booking ------------------------------------------------------------------------------
# see:      GET /bookings/{id}                 GET /api/v1/bookings/{id}
# approve:  POST /bookings/{id}/approve        POST /api/v1/bookings/{id}/approve    (a request)
# decline:  POST /bookings/{id}/decline        POST /api/v1/bookings/{id}/decline    (a request; a reason)
# cancel:   POST /bookings/{id}/cancel         POST /api/v1/bookings/{id}/cancel     (confirmed, in the future)
# complete: POST /bookings/{id}/complete       (no API route)                        (confirmed, begun)
# move:     POST /bookings/{id}/move           POST /api/v1/bookings/{id}/reschedule (confirmed, in the future)
# list:     GET /api/v1/bookings lists exactly the bookings whose `see` cell is YES, in every status.

BOOKING_POLICY = [
    # actor               relation to the booking             booking  see    approve decline cancel complete move
    ("teacher@A",         "own school",                       "A@X",   YES,   403,    403,    YES,   403, YES  ),
    ("teacher@A",         "own school",                       "A@Y",   YES,   403,    403,    YES,   403, YES  ),
    ("teacher@A",         "other school",                     "B@X",   404,   404,    404,    404,   404, 404  ),
    ("teacher@A",         "other school",                     "B@Y",   404,   404,    404,    404,   404, 404  ),
    ("school_admin@A",    "own school",                       "A@X",   YES,   403,    403,    YES,   403, YES  ),
    ("school_admin@A",    "own school",                       "A@Y",   YES,   403,    403,    YES,   403, YES  ),
    ("school_admin@A",    "other school",                     "B@X",   404,   404,    404,    404,   404, 404  ),
    ("school_admin@A",    "other school",                     "B@Y",   404,   404,    404,    404,   404, 404  ),
    ("owner_staff@X",     "own owner",                        "A@X",   YES,   YES,    YES,    YES,   YES, 403  ),
    ("owner_staff@X",     "own owner",                        "B@X",   YES,   YES,    YES,    YES,   YES, 403  ),
    ("owner_staff@X",     "other owner",                      "A@Y",   404,   404,    404,    404,   404, 404  ),
    ("owner_staff@X",     "other owner",                      "B@Y",   404,   404,    404,    404,   404, 404  ),
    ("provider_staff@go", "own network",                      "A@X",   YES,   403,    403,    403,   403, 403  ),
    ("provider_staff@go", "own network",                      "A@Y",   YES,   403,    403,    403,   403, 403  ),
    ("provider_staff@go", "other network",                    "B@X",   404,   404,    404,    404,   404, 404  ),
    ("provider_staff@go", "other network",                    "B@Y",   404,   404,    404,    404,   404, 404  ),
    ("rtc_staff@VOV",     "own region (school and facility)", "A@X",   YES,   403,    403,    403,   403, 403  ),
    ("rtc_staff@VOV",     "own region (school)",              "A@Y",   YES,   403,    403,    403,   403, 403  ),
    ("rtc_staff@VOV",     "own region (facility)",            "B@X",   YES,   403,    403,    403,   403, 403  ),
    ("rtc_staff@VOV",     "other region",                     "B@Y",   404,   404,    404,    404,   404, 404  ),
    ("platform_admin",    "any booking",                      "A@X",   YES,   YES,    YES,    YES,   YES, YES  ),
    ("platform_admin",    "any booking",                      "A@Y",   YES,   YES,    YES,    YES,   YES, YES  ),
    ("platform_admin",    "any booking",                      "B@X",   YES,   YES,    YES,    YES,   YES, YES  ),
    ("platform_admin",    "any booking",                      "B@Y",   YES,   YES,    YES,    YES,   YES, YES  ),
    ("anonymous",         "any booking",                      "A@X",   LOGIN, LOGIN,  LOGIN,  LOGIN, LOGIN, LOGIN),
]
BOOKING_ACTIONS = ("see", "approve", "decline", "cancel", "complete", "move")

# --- requesting a booking ---------------------------------------------------------------------
# POST /resources/{id}/book (the form on the resource page)      POST /api/v1/bookings

REQUEST_POLICY = [
    # actor               relation to the resource        resource  request
    ("teacher@A",         "resource in own region",       "X",      YES),
    ("teacher@A",         "resource in other region",     "Y",      YES),
    ("school_admin@A",    "resource in own region",       "X",      YES),
    ("school_admin@A",    "resource in other region",     "Y",      YES),
    ("owner_staff@X",     "own owner's resource",         "X",      403),
    ("owner_staff@X",     "other owner's resource",       "Y",      403),
    ("provider_staff@go", "any resource",                 "X",      403),
    ("rtc_staff@VOV",     "resource in own region",       "X",      403),
    ("rtc_staff@VOV",     "resource in other region",     "Y",      403),
    ("platform_admin",    "any resource",                 "X",      403),
    ("anonymous",         "any resource",                 "X",      LOGIN),
]

# --- an owner's inventory (pages only; the API only reads resources) --------------------------
# edit resource:       POST /inventory/resources/{id}
# edit facility:       POST /inventory/facilities/{id}
# grant qualification: POST /inventory/qualifications/{id}/grants
# export CSV:          GET  /inventory/export.csv?owner={id}
# import CSV:          POST /inventory/import?owner={id}

INVENTORY_POLICY = [
    # actor               relation to the inventory   owner  edit resource  edit facility  grant qualif.  export CSV  import CSV
    ("owner_staff@X",     "own owner",                "X",   YES,           YES,           YES,           YES,        YES),
    ("owner_staff@X",     "other owner",              "Y",   403,           403,           403,           403,        403),
    ("teacher@A",         "facility in own region",   "X",   403,           403,           403,           403,        403),
    ("school_admin@A",    "facility in own region",   "X",   403,           403,           403,           403,        403),
    ("provider_staff@go", "any owner",                "X",   403,           403,           403,           403,        403),
    ("rtc_staff@VOV",     "facility in own region",   "X",   403,           403,           403,           403,        403),
    ("rtc_staff@VOV",     "facility in other region", "Y",   403,           403,           403,           403,        403),
    ("platform_admin",    "any owner",                "X",   YES,           YES,           YES,           YES,        YES),
    ("platform_admin",    "any owner",                "Y",   YES,           YES,           YES,           YES,        YES),
    ("anonymous",         "any owner",                "X",   LOGIN,         LOGIN,         LOGIN,         LOGIN,      LOGIN),
]
INVENTORY_ACTIONS = ("edit resource", "edit facility", "grant qualification", "export CSV", "import CSV")

# --- platform pages ---------------------------------------------------------------------------
# /admin: GET /admin/ and piccolo-admin's GET /admin/api/tables/ ; /outbox: GET /outbox/

PLATFORM_POLICY = [
    # actor               /admin   /outbox
    ("teacher@A",         403,     403),
    ("school_admin@A",    403,     403),
    ("owner_staff@X",     403,     403),
    ("provider_staff@go", 403,     403),
    ("rtc_staff@VOV",     403,     403),
    ("platform_admin",    YES,     YES),
    ("anonymous",         LOGIN,   LOGIN),
]

# --- the regional sharing report --------------------------------------------------------------
# GET /reports/regions?region=...   GET /api/v1/reports/regions?region=...  (a completed booking of
# each pair, last month). The last two columns read the all-regions report (API): whether school
# B is named in it, and how many completed bookings it counts.

REPORT_POLICY = [
    # actor               region VOV  region VLI  all regions  names school B  completed counted
    ("teacher@A",         403,        403,        403,         None,           None),
    ("school_admin@A",    403,        403,        403,         None,           None),
    ("owner_staff@X",     YES,        YES,        YES,         True,           2),  # own infrastructure: A@X, B@X
    ("provider_staff@go", YES,        YES,        YES,         False,          4),  # B is katholiek: counted, not named
    ("rtc_staff@VOV",     YES,        403,        YES,         True,           3),  # A@X, A@Y (school), B@X (facility)
    ("platform_admin",    YES,        YES,        YES,         True,           4),
    ("anonymous",         LOGIN,      LOGIN,      LOGIN,       None,           None),
]
REPORT_ACTIONS = ("region VOV", "region VLI", "all regions")

# --- allocation rounds ------------------------------------------------------------------------
# POST /api/v1/rounds for X's resource (a facility in Gent, VOV) and for Y's (Hasselt, VLI);
# POST /api/v1/rounds/{open}/registrations (an RTC VOV round whose window is open); how many
# registrations GET /api/v1/rounds/{closed} shows (one, of school A); POST .../allocate on the
# closed round; POST .../publish on an allocated round (a fresh one per actor); GET /rounds/{closed};
# PATCH and DELETE a (fresh) registration of school A and one of school B in the open round.

ROUND_POLICY = [
    # actor               open X  open Y  register  seen  allocate  publish  page   change A  change B  withdraw A  withdraw B
    ("teacher@A",         403,    403,    201,      1,    403,      403,     YES,   200,      404,      204,        404),
    ("school_admin@A",    403,    403,    201,      1,    403,      403,     YES,   200,      404,      204,        404),
    ("owner_staff@X",     201,    403,    403,      0,    403,      403,     YES,   404,      404,      404,        404),
    ("provider_staff@go", 403,    403,    403,      0,    403,      403,     YES,   404,      404,      404,        404),
    ("rtc_staff@VOV",     201,    403,    403,      1,    200,      200,     YES,   404,      404,      404,        404),
    ("platform_admin",    201,    201,    403,      1,    200,      200,     YES,   404,      404,      404,        404),
    ("anonymous",         LOGIN,  LOGIN,  LOGIN,    None, LOGIN,    LOGIN,   LOGIN, LOGIN,    LOGIN,    LOGIN,      LOGIN),
]
# owner_staff@X opens a round of its own resource; rtc_staff@VOV only of resources in its region;
# a registration is changed or withdrawn by its own school only (404 for everyone else: not seen).
ROUND_ACTIONS = ("open X", "open Y", "register", "registrations seen", "allocate", "publish", "page",
                 "change A", "change B", "withdraw A", "withdraw B")

# --- needs ------------------------------------------------------------------------------------
# A need of school A (Gent, GO!) and one of school B (Hasselt, katholiek), both welding:
# GET /api/v1/needs/{id} and .../matches for each; POST /api/v1/needs (for one's own school);
# POST .../offers on A's need with X's resource (a facility in Gent); GET /needs (the page).

NEED_POLICY = [
    # actor               see A  see B  matches A  record  offer X on A  page
    ("teacher@A",         YES,   404,   YES,       201,    403,          YES),
    ("school_admin@A",    YES,   404,   YES,       201,    403,          YES),
    ("owner_staff@X",     YES,   404,   YES,       403,    201,          YES),  # needs in its facilities' regions
    ("provider_staff@go", YES,   404,   YES,       403,    403,          YES),  # its network's schools (A is GO!)
    ("rtc_staff@VOV",     YES,   404,   YES,       403,    403,          YES),  # its region
    ("platform_admin",    YES,   YES,   YES,       403,    201,          YES),  # no school to record for
    ("anonymous",         LOGIN, LOGIN, LOGIN,     LOGIN,  LOGIN,        LOGIN),
]
NEED_ACTIONS = ("see A", "see B", "matches A", "record", "offer X on A", "page")

# =============================================================================================
# THE WORLD
# =============================================================================================

ORGANISATIONS = {
    "A": dict(kind="school", name="GO! Technisch Atheneum Gent", slug="go-ta-gent", network="go",
              postal_code="9000", municipality="Gent", region_code="VOV"),
    "B": dict(kind="school", name="Sint-Jozefsinstituut Hasselt", slug="sji-hasselt", network="katholiek",
              postal_code="3500", municipality="Hasselt", region_code="VLI"),
    # The owners' own addresses lie elsewhere: what counts for a region is where the facility is.
    "X": dict(kind="sector_fund", name="Fonds Metaal", slug="fonds-metaal", network="",
              postal_code="1000", municipality="Brussel", region_code="VBR"),
    "Y": dict(kind="training_centre", name="Bouwcampus", slug="bouwcampus", network="",
              postal_code="2000", municipality="Antwerpen", region_code="VAN"),
    "go": dict(kind="provider", name="GO! onderwijs", slug="go-onderwijs", network="go",
               postal_code="", municipality="", region_code=""),
    "katholiek": dict(kind="provider", name="Katholiek Onderwijs Vlaanderen", slug="kov", network="katholiek",
                      postal_code="", municipality="", region_code=""),
    "VOV": dict(kind="rtc", name="RTC Oost-Vlaanderen", slug="rtc-oost-vlaanderen", network="",
                postal_code="9000", municipality="Gent", region_code="VOV"),
    "VLI": dict(kind="rtc", name="RTC Limburg", slug="rtc-limburg", network="",
                postal_code="3500", municipality="Hasselt", region_code="VLI"),
}
FACILITIES = {"X": ("Metaalcampus Gent", "9000", "VOV"), "Y": ("Bouwcampus Hasselt", "3500", "VLI")}

# handle -> (role, organisation key); the matrix actors first, then the other side.
USERS = {
    "teacher@A": ("teacher", "A"),
    "school_admin@A": ("school_admin", "A"),
    "owner_staff@X": ("owner_staff", "X"),
    "provider_staff@go": ("provider_staff", "go"),
    "rtc_staff@VOV": ("rtc_staff", "VOV"),
    "platform_admin": ("platform_admin", None),
    "teacher@B": ("teacher", "B"),
    "owner_staff@Y": ("owner_staff", "Y"),
    "provider_staff@katholiek": ("provider_staff", "katholiek"),
    "rtc_staff@VLI": ("rtc_staff", "VLI"),
}
MATRIX_ACTORS = ("teacher@A", "school_admin@A", "owner_staff@X", "provider_staff@go", "rtc_staff@VOV",
                 "platform_admin", "anonymous")
BOOKER = {"A": "teacher@A", "B": "teacher@B"}  # whose name the inserted bookings of a school carry
PAIRS = ("A@X", "A@Y", "B@X", "B@Y")
BRUSSELS = ZoneInfo("Europe/Brussels")
TOKEN_RE = re.compile(r'id="new-token">([^<]+)<')


def email_of(handle: str) -> str:
    return handle.replace("@", ".").replace("_", "-").lower() + "@matrix.test"


@dataclass
class Actor:
    handle: str
    client: httpx.AsyncClient
    csrf: str
    token: str | None = None  # API bearer token; None for anonymous
    user_id: int | None = None

    @property
    def api(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


@dataclass
class World:
    orgs: dict
    facilities: dict
    resources: dict
    qualifications: dict
    users: dict
    actors: dict[str, Actor]
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0))
    _future: count = field(default_factory=count)
    _past: count = field(default_factory=count)
    _names: count = field(default_factory=count)
    _open: count = field(default_factory=count)

    def slot(self, past: bool = False) -> tuple[datetime, datetime]:
        """A one-hour time no other inserted booking uses (PostgreSQL forbids overlapping holds)."""
        if past:
            start = self.now - timedelta(days=40) + timedelta(hours=2 * next(self._past))
        else:
            start = self.now + timedelta(days=30) + timedelta(hours=2 * next(self._future))
        return start, start + timedelta(hours=1)

    def open_slot(self) -> tuple[datetime, datetime]:
        """An hour at 09:00, 11:00, 13:00 or 15:00 Brussels time on a weekday from 40 days ahead
        (a new one each call): inside the matrix resources' opening hours and rules, after the
        inserted bookings."""
        n = next(self._open)
        day = (self.now + timedelta(days=40)).astimezone(BRUSSELS).date()
        weekdays = n // 4
        while weekdays or day.weekday() >= 5:
            if day.weekday() < 5:
                weekdays -= 1
            day += timedelta(days=1)
        start = datetime.combine(day, time(9 + 2 * (n % 4)), BRUSSELS).astimezone(timezone.utc)
        return start, start + timedelta(hours=1)

    def fresh_name(self, base: str) -> str:
        return f"{base} {next(self._names)}"

    async def booking(self, pair: str, status: str, past: bool = False) -> Booking:
        school, owner = pair.split("@")
        start, end = self.slot(past)
        row = Booking(
            resource=self.resources[owner].id, school=self.orgs[school].id, teacher=self.users[BOOKER[school]].id,
            start=start, end=end, hold_end=end + timedelta(minutes=15), status=status, group_size=5,
            purpose="Matrix", price_cents=7000, alternative_cost_cents=18000,
            payment_method="" if status == "requested" else "invoice",
            expires_at=min(self.now + timedelta(days=5), start) if status == "requested" else None,
        )
        await row.save()
        return row


def _client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 50000)),
                             base_url="http://testserver.local", follow_redirects=False)


@pytest.fixture
async def world(app, client, create_org, create_user, create_facility, create_resource):
    """The world above, with every matrix actor logged in (its own HTTP client with a session
    cookie and a CSRF token) and holding an API token made on its account page."""
    httpx_log = logging.getLogger("httpx")
    httpx_level = httpx_log.level
    httpx_log.setLevel(logging.WARNING)  # hundreds of requests: keep a failure's output readable
    opened: list[httpx.AsyncClient] = []
    try:
        orgs = {key: await create_org(**values) for key, values in ORGANISATIONS.items()}
        facilities, resources, qualifications = {}, {}, {}
        for owner, (name, postal_code, region) in FACILITIES.items():
            facility = await create_facility(orgs[owner], postal_code=postal_code, name=name)
            assert facility.region_code == region, f"facility {name} should lie in {region}, not {facility.region_code}"
            facilities[owner] = facility
            resources[owner] = await create_resource(facility, name=f"CNC-draaibank {owner}")
            qualification = Qualification(owner=orgs[owner].id, name=f"Veiligheidsinstructie {owner}")
            await qualification.save()
            qualifications[owner] = qualification
        users = {}
        for handle, (role, org) in USERS.items():
            users[handle] = await create_user(role, org=orgs[org] if org else None, email=email_of(handle),
                                              first_name=handle.split("@")[0], last_name=handle.split("@")[-1])
        actors: dict[str, Actor] = {}
        for handle in MATRIX_ACTORS:
            http = _client(app)
            opened.append(http)
            if handle == "anonymous":
                actors[handle] = Actor(handle, http, await csrf(http, "/login"))
                continue
            response = await login(http, email_of(handle))
            assert response.status_code == 303 and "werkbank_session" in http.cookies, f"{handle} could not log in"
            token = await csrf(http, "/account")
            page = await http.post("/account/tokens", data={"name": "matrix", "_csrf_token": token})
            found = TOKEN_RE.search(page.text)
            assert found, f"{handle}: no API token on the account page ({page.status_code})"
            actors[handle] = Actor(handle, http, token, found.group(1).strip(), users[handle].id)
        yield World(orgs, facilities, resources, qualifications, users, actors)
    finally:
        for http in opened:
            await http.aclose()
        httpx_log.setLevel(httpx_level)


# =============================================================================================
# CHECKING CELLS
# =============================================================================================

class Ledger:
    """Collects every cell of one test function, so that one run names every broken cell (not
    only the first); writes them to WERKBANK_MATRIX_REPORT when set; fails at the end."""

    def __init__(self, part: str, engine: str):
        self.part, self.engine = part, engine
        self.cells: list[tuple[str, bool, str]] = []

    def record(self, cell: str, ok: bool, detail: str = "") -> None:
        assert all(cell != seen for seen, _ok, _detail in self.cells), f"cell [{cell}] checked twice"
        self.cells.append((cell, ok, detail))

    def conclude(self) -> None:
        path = os.environ.get("WERKBANK_MATRIX_REPORT")
        if path:
            with open(path, "a", encoding="utf-8") as report:
                for cell, ok, detail in self.cells:
                    report.write(json.dumps({"engine": self.engine, "part": self.part, "cell": cell, "ok": ok,
                                             "detail": detail}) + "\n")
        broken = [f"  [{cell}] {detail}" for cell, ok, detail in self.cells if not ok]
        if broken:
            pytest.fail(f"{self.part}: {len(broken)} of {len(self.cells)} cells broke the policy ({self.engine}); "
                        "[actor | action | relation | object | channel]:\n" + "\n".join(broken), pytrace=False)


def cell_name(actor: str, action: str, relation: str, target: str, channel: str) -> str:
    return f"{actor} | {action} | {relation} | {target} | {channel}"


def outcome(response: httpx.Response):
    """LOGIN, 403 or 404 for a refusal; the status code otherwise (success is judged per action)."""
    status = response.status_code
    if status in (301, 302, 303, 307) and urlparse(response.headers.get("location", "")).path == "/login":
        return LOGIN
    if status == 401:
        return LOGIN
    return status


def describe(response: httpx.Response) -> str:
    text = f"HTTP {response.status_code}"
    if "location" in response.headers:
        text += f" -> {response.headers['location']}"
    kind = response.headers.get("content-type", "")
    if kind.startswith("application/"):
        text += f" {response.text[:160]}"
    elif kind.startswith("text/html"):  # the page's message, without the navigation around it
        main = response.text.split('id="main"', 1)[-1]
        text += " " + " ".join(re.sub(r"<[^>]+>", " ", main.split(">", 1)[-1]).split())[:100]
    return text


def redirects_to(response: httpx.Response, path: str) -> bool:
    return response.status_code == 303 and urlparse(response.headers.get("location", "")).path == path


async def row_of(table, row_id: int) -> dict | None:
    return await table.select().where(table.id == row_id).first()


async def mail_count() -> int:
    return await OutboxMessage.count()


# =============================================================================================
# THE TABLE ITSELF
# =============================================================================================

def test_the_policy_tables_are_complete_and_consistent():
    """Every matrix actor meets every booking; a refusal is 404 exactly when the booking cannot be
    seen (and 403 only when it can); anonymous is always sent to log in."""
    pairs = {(row[0], row[2]) for row in BOOKING_POLICY}
    for actor in MATRIX_ACTORS:
        wanted = {"A@X"} if actor == "anonymous" else set(PAIRS)
        assert {p for a, p in pairs if a == actor} == wanted, f"{actor}: the booking table misses a booking"
    assert len(pairs) == len(BOOKING_POLICY), "a booking row appears twice"
    for actor, relation, pair, see, *actions in BOOKING_POLICY:
        for action, expected in zip(BOOKING_ACTIONS[1:], actions, strict=True):
            where = f"[{actor} | {action} | {relation} | {pair}]"
            if see == YES:
                assert expected in (YES, 403), f"{where}: who sees a booking is refused with 403, not {expected}"
            else:
                assert expected == see, f"{where}: who cannot see a booking gets {see}, not {expected}"
    for table in (REQUEST_POLICY, INVENTORY_POLICY, PLATFORM_POLICY, REPORT_POLICY, ROUND_POLICY, NEED_POLICY):
        assert {row[0] for row in table} == set(MATRIX_ACTORS), "every actor has a row"


# =============================================================================================
# BOOKINGS: SEE AND LIST
# =============================================================================================

# Every status a listed booking can have, and whether it lies in the past.
LIST_STATES = [("requested", False), ("approved", False), ("confirmed", False), ("cancelled", False),
               ("declined", False), ("confirmed", True), ("completed", True), ("no_show", True), ("expired", True)]


async def test_who_sees_a_booking_and_who_lists_it(world, db):
    ledger = Ledger("see and list", db.kind)
    bookings = {pair: [await world.booking(pair, status, past) for status, past in LIST_STATES] for pair in PAIRS}

    # One booking: the request of each pair, by its page and by the API.
    for actor, relation, pair, see, *_rest in BOOKING_POLICY:
        who = world.actors[actor]
        booking = bookings[pair][0]
        for channel in ("html", "api"):
            name = cell_name(actor, "see", relation, pair, channel)
            try:
                if channel == "html":
                    response = await who.client.get(f"/bookings/{booking.id}")
                    succeeded = response.status_code == 200
                else:
                    response = await who.client.get(f"/api/v1/bookings/{booking.id}", headers=who.api)
                    succeeded = response.status_code == 200 and response.json().get("id") == booking.id
                got = YES if succeeded else outcome(response)
                ledger.record(name, got == see, f"booking #{booking.id}: expected {see}, got {describe(response)}")
            except Exception as exc:  # a crash is a broken cell, not the end of the matrix
                ledger.record(name, False, f"raised {exc!r}")

    # The list: exactly the bookings the actor may see, in every status.
    relation_of = {(row[0], row[2]): row[1] for row in BOOKING_POLICY}
    visible = {(row[0], row[2]): row[3] == YES for row in BOOKING_POLICY}
    for actor in MATRIX_ACTORS:
        who = world.actors[actor]
        try:
            response = await who.client.get("/api/v1/bookings", headers=who.api)
        except Exception as exc:
            ledger.record(cell_name(actor, "list", "-", "GET /api/v1/bookings", "api"), False, f"raised {exc!r}")
            continue
        if actor == "anonymous":
            ledger.record(cell_name(actor, "list", "any booking", "GET /api/v1/bookings", "api"),
                          outcome(response) == LOGIN, f"expected {LOGIN}, got {describe(response)}")
            continue
        if response.status_code != 200:
            ledger.record(cell_name(actor, "list", "-", "GET /api/v1/bookings", "api"), False,
                          f"expected 200, got {describe(response)}")
            continue
        listed = {item["id"] for item in response.json()}
        for pair in PAIRS:
            for (status, past), booking in zip(LIST_STATES, bookings[pair], strict=True):
                state = f"{status}{' (past)' if past else ''}"
                must = visible[(actor, pair)]
                ledger.record(
                    cell_name(actor, "list", relation_of[(actor, pair)], f"{pair} {state}", "api"),
                    (booking.id in listed) == must,
                    f"booking #{booking.id} " + ("must be listed, is not" if must else "is listed, must not be"))
    ledger.conclude()


# =============================================================================================
# BOOKINGS: TRANSITIONS
# =============================================================================================

TRANSITIONS = {
    # action:   (status it starts in, begun?, status after, channels)
    "approve":  ("requested", False, "confirmed", ("html", "api")),
    "decline":  ("requested", False, "declined", ("html", "api")),
    "cancel":   ("confirmed", False, "cancelled", ("html", "api")),
    "complete": ("confirmed", True, "completed", ("html",)),  # the API has no route to complete
}
REASON = "Matrix: de werkplaats is die dag gesloten"


async def _transition(who: Actor, action: str, booking_id: int, channel: str) -> httpx.Response:
    if channel == "html":
        return await who.client.post(f"/bookings/{booking_id}/{action}", data={
            "_csrf_token": who.csrf, "reason": REASON, "pupils_attended": "5"})
    body = None if action == "approve" else {"reason": REASON}
    return await who.client.post(f"/api/v1/bookings/{booking_id}/{action}", json=body, headers=who.api)


async def test_who_changes_a_booking(world, db):
    """Approve, decline, cancel and complete, each cell on a fresh booking in the right state."""
    ledger = Ledger("booking transitions", db.kind)
    for action, (initial, begun, after, channels) in TRANSITIONS.items():
        column = BOOKING_ACTIONS.index(action) + 3
        for row in BOOKING_POLICY:
            actor, relation, pair, expected = row[0], row[1], row[2], row[column]
            who = world.actors[actor]
            for channel in channels:
                booking = await world.booking(pair, initial, past=begun)
                name = cell_name(actor, action, relation, pair, channel)
                try:
                    before, mails = await row_of(Booking, booking.id), await mail_count()
                    response = await _transition(who, action, booking.id, channel)
                    now_row = await row_of(Booking, booking.id)
                    if expected == YES:
                        answered = (redirects_to(response, f"/bookings/{booking.id}") if channel == "html"
                                    else response.status_code == 200 and response.json().get("status") == after)
                        ledger.record(name, answered and now_row["status"] == after,
                                      f"booking #{booking.id}: expected {YES} ({initial} -> {after}), "
                                      f"got {describe(response)}, status now {now_row['status']}")
                    else:
                        got = outcome(response)
                        unchanged = now_row == before and await mail_count() == mails
                        ledger.record(name, got == expected and unchanged,
                                      f"booking #{booking.id}: expected {expected}, got {describe(response)}"
                                      + ("" if unchanged else f"; the booking changed: status {now_row['status']}"))
                except Exception as exc:  # a crash is a broken cell, not the end of the matrix
                    ledger.record(name, False, f"raised {exc!r}")
    ledger.conclude()


async def test_who_moves_a_booking(world, db):
    """Moving a confirmed booking to another free time: the school that booked (and platform
    admins) may; whoever only sees it is refused with 403 and the booking stays where it was."""
    ledger = Ledger("booking moves", db.kind)
    column = BOOKING_ACTIONS.index("move") + 3
    for row in BOOKING_POLICY:
        actor, relation, pair, expected = row[0], row[1], row[2], row[column]
        who = world.actors[actor]
        for channel in ("html", "api"):
            booking = await world.booking(pair, "confirmed")
            start, end = world.open_slot()
            name = cell_name(actor, "move", relation, pair, channel)
            try:
                before, mails = await row_of(Booking, booking.id), await mail_count()
                if channel == "html":
                    local = start.astimezone(BRUSSELS)
                    response = await who.client.post(f"/bookings/{booking.id}/move", data={
                        "_csrf_token": who.csrf, "day": local.date().isoformat(), "start_time": f"{local:%H:%M}",
                        "end_time": f"{end.astimezone(BRUSSELS):%H:%M}"})
                else:
                    response = await who.client.post(f"/api/v1/bookings/{booking.id}/reschedule", headers=who.api,
                                                     json={"start": start.isoformat(), "end": end.isoformat()})
                now_row = await row_of(Booking, booking.id)
                if expected == YES:
                    answered = (redirects_to(response, f"/bookings/{booking.id}") if channel == "html"
                                else response.status_code == 200 and response.json().get("id") == booking.id)
                    moved = now_row["start"] == start and now_row["status"] == "requested"  # approval needed again
                    ledger.record(name, answered and moved, f"booking #{booking.id}: expected {YES}, got "
                                  f"{describe(response)}, start now {now_row['start']}, status {now_row['status']}")
                else:
                    got = outcome(response)
                    unchanged = now_row == before and await mail_count() == mails
                    ledger.record(name, got == expected and unchanged,
                                  f"booking #{booking.id}: expected {expected}, got {describe(response)}"
                                  + ("" if unchanged else "; the booking moved"))
            except Exception as exc:
                ledger.record(name, False, f"raised {exc!r}")
    ledger.conclude()


# =============================================================================================
# BOOKINGS: REQUESTS
# =============================================================================================

def _weekdays(first: date):
    day = first
    while True:
        if day.weekday() < 5:
            yield day
        day += timedelta(days=1)


async def test_who_requests_a_booking(world, db):
    ledger = Ledger("request", db.kind)
    today = datetime.now(BRUSSELS).date()
    days = _weekdays(today + timedelta(days=3))
    slots = ((day, hour) for day in days for hour in (8, 11, 14))  # within ma-vr 08:00-16:30
    school_of = {"teacher@A": world.orgs["A"].id, "school_admin@A": world.orgs["A"].id}
    for actor, relation, owner, expected in REQUEST_POLICY:
        who = world.actors[actor]
        resource = world.resources[owner]
        for channel in ("html", "api"):
            day, hour = next(slots)  # a free time for every cell, so a wrong "yes" is not hidden by a conflict
            start, end = time(hour, 0), time(hour + 2, 0)
            name = cell_name(actor, "request", relation, f"resource {owner} ({resource.name})", channel)
            try:
                count_before, mails = await Booking.count(), await mail_count()
                if channel == "html":
                    response = await who.client.post(f"/resources/{resource.id}/book", data={
                        "day": day.isoformat(), "start_time": f"{start:%H:%M}", "end_time": f"{end:%H:%M}",
                        "group_size": "5", "purpose": "Matrix", "_csrf_token": who.csrf})
                    made = re.fullmatch(r"/bookings/(\d+)", urlparse(response.headers.get("location", "")).path or "")
                    new_id = int(made.group(1)) if response.status_code == 303 and made else None
                else:
                    response = await who.client.post("/api/v1/bookings", headers=who.api, json={
                        "resource_id": resource.id, "start": f"{day.isoformat()}T{start:%H:%M}",
                        "end": f"{day.isoformat()}T{end:%H:%M}", "group_size": 5, "purpose": "Matrix"})
                    new_id = response.json().get("id") if response.status_code == 201 else None
                if expected == YES:
                    made_row = await row_of(Booking, new_id) if new_id else None
                    ok = (made_row is not None and made_row["resource"] == resource.id
                          and made_row["school"] == school_of[actor] and made_row["teacher"] == who.user_id)
                    ledger.record(name, ok, f"expected {YES} (a booking for the actor's school), got {describe(response)}")
                else:
                    got = outcome(response)
                    unchanged = await Booking.count() == count_before and await mail_count() == mails
                    ledger.record(name, got == expected and unchanged,
                                  f"expected {expected}, got {describe(response)}"
                                  + ("" if unchanged else "; a booking or a mail was made"))
            except Exception as exc:
                ledger.record(name, False, f"raised {exc!r}")
    ledger.conclude()


# =============================================================================================
# INVENTORY
# =============================================================================================

INVENTORY_TABLES = (Facility, Resource, OpeningHours, ResourceProgramme, Qualification, QualificationGrant)
CSV_HEADER = ("owner;facility_id;facility_name;facility_street;facility_postal_code;resource_id;name;kind;category;"
              "capacity;needs_approval;opening_hours;price_model;price;alternative_cost;alternative_cost_source\n")


async def inventory_state() -> list:
    """Every row of the inventory tables and the number of mails: what a refusal must not touch."""
    return [await table.select().order_by(table.id) for table in INVENTORY_TABLES] + [await mail_count()]


async def _inventory_action(world: World, who: Actor, action: str, owner: str) -> tuple[httpx.Response, object]:
    """Does `action` on owner's inventory; returns the response and a check of the success
    (an awaitable returning True when the change is there)."""
    org = world.orgs[owner]
    facility = await Facility.objects().where(Facility.id == world.facilities[owner].id).first()
    resource = await Resource.objects().where(Resource.id == world.resources[owner].id).first()
    if action == "edit resource":
        name = world.fresh_name("Lasrobot")
        form = {**RESOURCE_FORM, "facility": str(facility.id), "name": name, "external_id": resource.external_id,
                "_csrf_token": who.csrf, **{f"hours_{day}": "08:00-16:30" for day in range(5)}}
        form.pop("opening_hours", None)
        response = await who.client.post(f"/inventory/resources/{resource.id}", data=form)

        async def done():
            return (redirects_to(response, f"/inventory/resources/{resource.id}/edit")
                    and (await row_of(Resource, resource.id))["name"] == name)
    elif action == "edit facility":
        name = world.fresh_name("Campus")
        response = await who.client.post(f"/inventory/facilities/{facility.id}", data={
            "name": name, "street": "Straat 2", "postal_code": facility.postal_code,
            "external_id": facility.external_id, "_csrf_token": who.csrf})

        async def done():
            return (response.status_code == 303 and urlparse(response.headers["location"]).path == "/inventory/"
                    and (await row_of(Facility, facility.id))["name"] == name)
    elif action == "grant qualification":
        qualification = world.qualifications[owner]
        grants_before = await QualificationGrant.count().where(QualificationGrant.qualification == qualification.id)
        response = await who.client.post(f"/inventory/qualifications/{qualification.id}/grants", data={
            "teacher_email": email_of("teacher@B"), "expires_on": "2030-06-30", "_csrf_token": who.csrf})

        async def done():
            return (response.status_code == 303 and await QualificationGrant.count().where(
                QualificationGrant.qualification == qualification.id) == grants_before + 1)
    elif action == "export CSV":
        response = await who.client.get(f"/inventory/export.csv?owner={org.id}")
        other = world.resources["Y" if owner == "X" else "X"]

        async def done():
            body = response.text
            return (response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
                    and f"R{resource.id}" in body and f"R{other.id}" not in body)
    elif action == "import CSV":
        name = world.fresh_name("Geimporteerde draaibank")
        content = CSV_HEADER + (
            f"{org.slug};{facility.external_id};{facility.name};Straat 1;{facility.postal_code};{resource.external_id};"
            f"{name};machine;cnc;6;ja;ma-vr 08:00-16:30;per_hour;35,00;90;Offertes 2025\n")
        response = await who.client.post(f"/inventory/import?owner={org.id}", data={"_csrf_token": who.csrf},
                                         files={"file": ("aanbod.csv", content.encode(), "text/csv")})

        async def done():
            return response.status_code == 200 and (await row_of(Resource, resource.id))["name"] == name
    else:
        raise AssertionError(action)
    return response, done


async def test_who_keeps_an_inventory(world, db):
    ledger = Ledger("inventory", db.kind)
    for actor, relation, owner, *expectations in INVENTORY_POLICY:
        who = world.actors[actor]
        for action, expected in zip(INVENTORY_ACTIONS, expectations, strict=True):
            name = cell_name(actor, action, relation, f"owner {owner} ({world.orgs[owner].name})", "html")
            try:
                before = await inventory_state()
                response, done = await _inventory_action(world, who, action, owner)
                if expected == YES:
                    ledger.record(name, await done(), f"expected {YES} (the change saved), got {describe(response)}")
                else:
                    got = outcome(response)
                    unchanged = await inventory_state() == before
                    ledger.record(name, got == expected and unchanged,
                                  f"expected {expected}, got {describe(response)}"
                                  + ("" if unchanged else "; the inventory changed"))
            except Exception as exc:
                ledger.record(name, False, f"raised {exc!r}")
    ledger.conclude()


# =============================================================================================
# PLATFORM PAGES
# =============================================================================================

PLATFORM_PAGES = {"/admin": ("/admin/", "/admin/api/tables/"), "/outbox": ("/outbox/",)}


async def test_who_reaches_the_platform_pages(world, db):
    ledger = Ledger("platform pages", db.kind)
    for actor, *expectations in PLATFORM_POLICY:
        who = world.actors[actor]
        for (page, paths), expected in zip(PLATFORM_PAGES.items(), expectations, strict=True):
            for path in paths:
                name = cell_name(actor, page, "-", f"GET {path}", "html")
                try:
                    response = await who.client.get(path)
                    got = YES if response.status_code == 200 else outcome(response)
                    ledger.record(name, got == expected, f"expected {expected}, got {describe(response)}")
                except Exception as exc:
                    ledger.record(name, False, f"raised {exc!r}")
    ledger.conclude()


# =============================================================================================
# THE REGIONAL REPORT
# =============================================================================================

async def test_who_sees_the_regional_report(world, db):
    ledger = Ledger("regional report", db.kind)
    for pair in PAIRS:
        booking = await world.booking(pair, "completed", past=True)
        assert booking.id
    queries = {"region VOV": "?region=VOV", "region VLI": "?region=VLI", "all regions": ""}
    for actor, *expectations in REPORT_POLICY:
        who = world.actors[actor]
        *pages, names_b, counted = expectations
        for action, expected in zip(REPORT_ACTIONS, pages, strict=True):
            for channel, path in (("html", "/reports/regions"), ("api", "/api/v1/reports/regions")):
                name = cell_name(actor, action, "-", f"GET {path}{queries[action]}", channel)
                try:
                    response = await who.client.get(path + queries[action], headers=who.api if channel == "api" else {})
                    got = YES if response.status_code == 200 else outcome(response)
                    ledger.record(name, got == expected, f"expected {expected}, got {describe(response)}")
                except Exception as exc:
                    ledger.record(name, False, f"raised {exc!r}")
        if names_b is None:
            continue
        report = (await who.client.get("/api/v1/reports/regions", headers=who.api)).json()
        named = {row["name"] for row in report["reach"]["schools_named"]}
        named |= {row["school"] for row in report["collaboration"]["pairs"]}
        shows_b = world.orgs["B"].name in named
        ledger.record(cell_name(actor, "names school B", "-", "all regions", "api"), shows_b == names_b,
                      f"expected {names_b}, got {shows_b}: {sorted(named)}")
        ledger.record(cell_name(actor, "completed counted", "-", "all regions", "api"), report["reach"]["bookings"] == counted,
                      f"expected {counted}, got {report['reach']['bookings']}")
    ledger.conclude()


# =============================================================================================
# ALLOCATION ROUNDS
# =============================================================================================

async def _matrix_round(world: World, state: str) -> AllocationRound:
    """An RTC VOV round of X's resource: registration open now, or closed yesterday, or allocated."""
    today = world.now.astimezone(BRUSSELS).date()
    window = (today - timedelta(days=1), today + timedelta(days=10)) if state == "open" else \
        (today - timedelta(days=10), today - timedelta(days=1))
    rnd = AllocationRound(name=world.fresh_name("Matrixronde"), organiser=world.orgs["VOV"].id, region_code="VOV",
                          registration_opens=window[0], registration_closes=window[1],
                          period_start=today + timedelta(days=30), period_end=today + timedelta(days=44),
                          announce_on=today + timedelta(days=20), status="allocated" if state == "allocated" else "open")
    await rnd.save()
    await RoundResource.insert(RoundResource(allocation_round=rnd.id, resource=world.resources["X"].id))
    return rnd


async def test_who_runs_and_joins_an_allocation_round(world, db):
    ledger = Ledger("allocation rounds", db.kind)
    today = world.now.astimezone(BRUSSELS).date()
    body = {"name": "Matrix", "registration_opens": (today + timedelta(days=1)).isoformat(),
            "registration_closes": (today + timedelta(days=10)).isoformat(),
            "period_start": (today + timedelta(days=30)).isoformat(), "period_end": (today + timedelta(days=44)).isoformat(),
            "announce_on": (today + timedelta(days=20)).isoformat()}
    open_round, closed = await _matrix_round(world, "open"), await _matrix_round(world, "closed")
    await Registration.insert(Registration(allocation_round=closed.id, school=world.orgs["A"].id,
                                           teacher=world.users["teacher@A"].id, pupil_group="Matrix", days=2,
                                           resource=world.resources["X"].id, group_size=4))
    for actor, *expected in ROUND_POLICY:
        who = world.actors[actor]
        answers: dict[str, httpx.Response] = {}
        answers["open X"] = await who.client.post("/api/v1/rounds", headers=who.api, json={
            **body, "resource_ids": [world.resources["X"].id]})
        answers["open Y"] = await who.client.post("/api/v1/rounds", headers=who.api, json={
            **body, "resource_ids": [world.resources["Y"].id]})
        answers["register"] = await who.client.post(f"/api/v1/rounds/{open_round.id}/registrations", headers=who.api,
                                                    json={"resource_id": world.resources["X"].id, "days": 1,
                                                          "group_size": 4, "pupil_group": f"Groep {actor}"})
        seen = await who.client.get(f"/api/v1/rounds/{closed.id}", headers=who.api)
        answers["allocate"] = await who.client.post(f"/api/v1/rounds/{closed.id}/allocate", headers=who.api, json={})
        fresh = await _matrix_round(world, "allocated")
        answers["publish"] = await who.client.post(f"/api/v1/rounds/{fresh.id}/publish", headers=who.api)
        answers["page"] = await who.client.get(f"/rounds/{closed.id}")
        for school in ("A", "B"):
            for action in ("change", "withdraw"):
                row = Registration(allocation_round=open_round.id, school=world.orgs[school].id,
                                   teacher=world.users[BOOKER[school]].id, pupil_group=world.fresh_name("Groep"),
                                   days=2, resource=world.resources["X"].id, group_size=4)
                await row.save()
                path = f"/api/v1/rounds/{open_round.id}/registrations/{row.id}"
                answers[f"{action} {school}"] = await (
                    who.client.patch(path, headers=who.api, json={"days": 1}) if action == "change"
                    else who.client.delete(path, headers=who.api))
        for action, want in zip(ROUND_ACTIONS, expected, strict=True):
            if action == "registrations seen":
                if want is None:
                    continue
                count = len(seen.json()["registrations"]) if seen.status_code == 200 else None
                ledger.record(cell_name(actor, action, "-", f"round {closed.id}", "api"), count == want,
                              f"expected {want}, got {count} ({describe(seen)})")
                continue
            response = answers[action]
            got = outcome(response)
            if action == "page" and response.status_code == 200:
                got = YES
            ledger.record(cell_name(actor, action, "-", "round", "html" if action == "page" else "api"), got == want,
                          f"expected {want}, got {describe(response)}")
        if actor == "anonymous":
            continue
        status = (await AllocationRound.objects().where(AllocationRound.id == fresh.id).first()).status
        ledger.record(cell_name(actor, "publish leaves", "-", "round", "db"),
                      (status == "published") == (expected[5] == 200), f"status {status}")
    ledger.conclude()


# =============================================================================================
# NEEDS
# =============================================================================================

async def test_who_sees_records_and_answers_needs(world, db):
    from inventory.tables import Category
    from needs.tables import Need

    ledger = Ledger("needs", db.kind)
    welding = (await Category.select(Category.id).where(Category.slug == "welding").first())["id"]
    needs = {}
    for school in ("A", "B"):
        row = Need(school=world.orgs[school].id, recorded_by=world.users[BOOKER[school]].id, category=welding,
                   pupils=8, days_per_year=4, region_code=world.orgs[school].region_code, reason="missing")
        await row.save()
        needs[school] = row.id
    body = {"category": "welding", "pupils": 8, "days_per_year": 3, "reason": "outdated"}
    for actor, *expected in NEED_POLICY:
        who = world.actors[actor]
        answers = {
            "see A": await who.client.get(f"/api/v1/needs/{needs['A']}", headers=who.api),
            "see B": await who.client.get(f"/api/v1/needs/{needs['B']}", headers=who.api),
            "matches A": await who.client.get(f"/api/v1/needs/{needs['A']}/matches", headers=who.api),
            "record": await who.client.post("/api/v1/needs", headers=who.api, json=body),
            "offer X on A": await who.client.post(f"/api/v1/needs/{needs['A']}/offers", headers=who.api, json={
                "message": "Woensdag is het atelier vrij.", "resource_id": world.resources["X"].id}),
            "page": await who.client.get("/needs"),
        }
        for action, want in zip(NEED_ACTIONS, expected, strict=True):
            response = answers[action]
            got = YES if response.status_code == 200 and want == YES else outcome(response)
            ledger.record(cell_name(actor, action, "-", "need", "html" if action == "page" else "api"), got == want,
                          f"expected {want}, got {describe(response)}")
    ledger.conclude()
