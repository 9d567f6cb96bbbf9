"""Demo bookings over the school year so far and the coming weeks, in every status, so every
page shows real-looking life. One booking per resource and half day at most (no overlaps).
Most bookings name a study programme the resource serves, mostly one the school recorded its
school bill for (so the regional report can set the savings against the bill), and a school
mostly books for such a programme. A handful of schools stand on the waitlist: waiting for a
taken time to come free, and, where a booking was cancelled, the offer that followed (taken, or
left to expire)."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from accounts.services import hash_password
from accounts.tables import Membership, Organisation, SchoolBill, User
from booking import rules
from booking.tables import HOLDING_STATUSES, Booking, WaitlistEntry
from core.i18n import BRUSSELS
from core.tables import AuditEntry
from inventory.tables import Facility, Resource, ResourceProgramme, StudyProgramme

SLOTS = [(time(8, 30), time(12, 0)), (time(13, 0), time(15, 30))]
PURPOSES = ["Oefenen voor de GIP", "Praktijkweek", "Kennismaking met de machine", "Project duaal leren",
            "Voorbereiding stage", "Lessenreeks automatisering", ""]
FIRST_NAMES = ["Lotte", "Wout", "Nora", "Pieter", "Fien", "Jonas", "Amira", "Ruben", "Elise", "Thomas"]
LAST_NAMES = ["Janssens", "Maes", "Peeters", "De Smet", "Wouters", "Mertens", "Goossens", "Dubois", "Hermans"]
WITH_PROGRAMME = 0.9  # the share of bookings that name a study programme
FOR_BILLED = 0.75  # the chance a school is chosen among those with a bill for a programme the resource serves
SAME_NETWORK = 0.35  # a school's own workshop: the chance a school of its network (not itself) books it
WAITING = 0.04  # the share of coming holding bookings with a school on the waitlist for their time
OFFERED = 0.12  # the share of cancelled bookings whose time went to a school on the waitlist


def school_year_start(today: date) -> date:
    return date(today.year if today.month >= 9 else today.year - 1, 9, 1)


async def _teachers_per_school(password: str) -> dict[int, int]:
    """One teacher per demo school (the demo logins keep theirs)."""
    schools = await Organisation.objects().where(Organisation.kind == "school").order_by(Organisation.id)
    have = {r["organisation"]: r["user"] for r in await Membership.select(Membership.organisation, Membership.user).where(
        Membership.role == "teacher")}
    hashed = await hash_password(password)  # once, for all generated teachers
    teachers: dict[int, int] = {}
    for index, school in enumerate(schools):
        if school.id in have:
            teachers[school.id] = have[school.id]
            continue
        email = f"leerkracht.{school.slug}@demo.werkbank.be"
        user = User(username=email, email=email, password=hashed, first_name=FIRST_NAMES[index % len(FIRST_NAMES)],
                    last_name=LAST_NAMES[index % len(LAST_NAMES)], active=True)
        await user.save()
        await Membership.insert(Membership(user=user.id, organisation=school.id, role="teacher"))
        teachers[school.id] = user.id
    return teachers


async def _programmes(school_year: int) -> tuple[dict[int, list[int]], dict[int, set[int]]]:
    """The study programmes each resource serves, and those each school recorded its bill for
    in `school_year` (by id)."""
    served: dict[int, list[int]] = {}
    for row in await ResourceProgramme.select(ResourceProgramme.resource, ResourceProgramme.programme).order_by(
            ResourceProgramme.id):
        served.setdefault(row["resource"], []).append(row["programme"])
    ids = {row["slug"]: row["id"] for row in await StudyProgramme.select(StudyProgramme.id, StudyProgramme.slug)}
    billed: dict[int, set[int]] = {}
    for row in await SchoolBill.select(SchoolBill.school, SchoolBill.programme).where(SchoolBill.school_year == school_year):
        if row["programme"] in ids:
            billed.setdefault(row["school"], set()).add(ids[row["programme"]])
    return served, billed


def _programme(served: list[int], billed: set[int]) -> int | None:
    """A programme the resource serves, one the school has a bill for when there is one; now and
    then none (a teacher need not say)."""
    if not served or random.random() >= WITH_PROGRAMME:
        return None
    return random.choice([p for p in served if p in billed] or served)


async def load(uow, password: str, weeks_ahead: int = 6) -> int:
    random.seed(20261128)  # the same demo every time
    teachers = await _teachers_per_school(password)
    schools = list(teachers)
    moment = uow.now()
    today = moment.astimezone(BRUSSELS).date()
    first = school_year_start(today)
    last = today + timedelta(weeks=weeks_ahead)
    resources = await Resource.objects().order_by(Resource.id)
    facilities = await Facility.objects()
    facility_region = {f.id: f.region_code for f in facilities}
    facility_owner = {f.id: f.owner for f in facilities}
    school_orgs = await Organisation.objects().where(Organisation.kind == "school")
    school_region = {o.id: o.region_code for o in school_orgs}
    school_network = {o.id: o.network for o in school_orgs}
    served, billed = await _programmes(first.year)
    billing: dict[int, set[int]] = {}  # programme -> the schools with a bill for it
    for school, programmes in billed.items():
        for programme in programmes:
            billing.setdefault(programme, set()).add(school)
    by_region: dict[str, list[int]] = {}
    for school in schools:
        by_region.setdefault(school_region[school], []).append(school)
    nearby_of = {r.id: by_region.get(facility_region[r.facility]) or schools for r in resources}
    bookings: list[Booking] = []
    for resource in resources:
        region = facility_region[resource.facility]
        nearby = nearby_of[resource.id]
        fitting = sorted(set().union(*(billing.get(p, set()) for p in served.get(resource.id, []))))
        fitting_nearby = [s for s in fitting if school_region[s] == region]
        owner = facility_owner[resource.facility]  # a school that opens its workshop: its network's schools come more
        peers = [s for s in nearby if s != owner and school_network[s] == school_network[owner]] if owner in school_region else []
        day = first + timedelta(days=random.randint(0, 6))
        while day <= last:
            if day.weekday() < 4:  # Monday to Thursday: open in every demo schedule
                opens, closes = random.choice(SLOTS)
                start = datetime.combine(day, opens, BRUSSELS)
                end = datetime.combine(day, closes, BRUSSELS)
                near = random.random() < 0.8  # some cross-region use
                pool, billed_pool = (nearby, fitting_nearby) if near else (schools, fitting)
                if peers and random.random() < SAME_NETWORK:
                    school = random.choice(peers)
                else:
                    school = random.choice(billed_pool if billed_pool and random.random() < FOR_BILLED else pool)
                group = random.randint(max(1, resource.capacity // 2), resource.capacity)
                price_cents, alternative = rules.price(resource, start, end, group)
                booking = _booking(resource, school, teachers[school], start, end, group, price_cents, alternative, moment)
                booking.study_programme = _programme(served.get(resource.id, []), billed.get(school, set()))
                bookings.append(booking)
            day += timedelta(days=random.choice([5, 7, 9, 12]))
    resource_of = {r.id: r for r in resources}
    entries, offers = _waitlist(bookings, resource_of, nearby_of, teachers, served, billed, moment)
    bookings += offers
    for index in range(0, len(bookings), 500):
        await Booking.insert(*bookings[index:index + 500])
    for entry, offer in entries:
        entry.offered_booking = offer.id if offer is not None else None
    for index in range(0, len(entries), 500):
        await WaitlistEntry.insert(*[entry for entry, _offer in entries[index:index + 500]])
    audit = []
    for booking in bookings:
        audit.append(AuditEntry(created_at=booking.created_at, actor_id=booking.teacher, action="booking.requested",
                                object_type="booking", object_id=str(booking.id), data={}))
        if booking.status != "requested":
            action = {"confirmed": "booking.approved", "completed": "booking.completed", "no_show": "booking.no_show",
                      "cancelled": "booking.cancelled", "declined": "booking.declined",
                      "expired": "booking.expired"}[booking.status]
            audit.append(AuditEntry(created_at=booking.updated_at, action=action, object_type="booking",
                                    object_id=str(booking.id), data={"reason": booking.reason} if booking.reason else {}))
    for index in range(0, len(audit), 500):
        await AuditEntry.insert(*audit[index:index + 500])
    return len(bookings)


def _waitlist(bookings: list[Booking], resource_of: dict[int, Resource], nearby_of: dict[int, list[int]],
              teachers: dict[int, int], served: dict[int, list[int]], billed: dict[int, set[int]],
              moment: datetime) -> tuple[list[tuple[WaitlistEntry, Booking | None]], list[Booking]]:
    """Waitlist entries, each with the offer booking it led to (None while waiting), and those
    offers. A school waits for the time of a coming holding booking; where a booking was
    cancelled, a school that waited for its time was offered it (booking.services'
    offer_freed_time) and took it (accepted: the offer is confirmed, or completed when past) or
    let it expire. An offer lies on a cancelled booking's time: it overlaps no holding booking."""
    entries: list[tuple[WaitlistEntry, Booking | None]] = []
    offers: list[Booking] = []
    for booking in bookings:
        others = [s for s in nearby_of[booking.resource] if s != booking.school]  # the schools that could wait
        coming = booking.start > moment + timedelta(days=1)
        if booking.status in HOLDING_STATUSES and coming and random.random() < WAITING and others:
            joined = booking.created_at + (moment - booking.created_at) * random.random()
            entries.append((_entry(booking, resource_of[booking.resource], random.choice(others), joined,
                                   WaitlistEntry.Status.waiting, teachers, served, billed), None))
        elif booking.status == "cancelled" and random.random() < OFFERED and others:
            joined = booking.created_at + (booking.updated_at - booking.created_at) * random.random()
            offered = booking.updated_at  # when the booking let go of its time
            expires = min(offered + timedelta(hours=24), booking.start)
            status = (WaitlistEntry.Status.expired if expires < moment and random.random() < 0.4
                      else WaitlistEntry.Status.accepted)
            entry = _entry(booking, resource_of[booking.resource], random.choice(others), joined, status, teachers,
                           served, billed)
            offer = _offer(entry, resource_of[booking.resource], offered, expires, moment)
            offers.append(offer)
            entries.append((entry, offer))
    return entries, offers


def _entry(booking: Booking, resource: Resource, school: int, joined: datetime, status: WaitlistEntry.Status,
           teachers: dict[int, int], served: dict[int, list[int]], billed: dict[int, set[int]]) -> WaitlistEntry:
    """`school` on the waitlist for the time of `booking` since `joined`."""
    group = random.randint(max(1, resource.capacity // 2), resource.capacity)
    return WaitlistEntry(resource=booking.resource, school=school, teacher=teachers[school], start=booking.start,
                         end=booking.end, group_size=group,
                         study_programme=_programme(served.get(booking.resource, []), billed.get(school, set())),
                         purpose=random.choice(PURPOSES), status=status, created_at=joined)


def _offer(entry: WaitlistEntry, resource: Resource, offered: datetime, expires: datetime, moment: datetime) -> Booking:
    """The booking a waitlist offer made for `entry` on a cancelled booking's time: left to
    expire, or taken before it expired (confirmed at once; completed or a no-show when its time
    has passed)."""
    price_cents, alternative = rules.price(resource, entry.start, entry.end, entry.group_size)
    common = dict(resource=entry.resource, school=entry.school, teacher=entry.teacher, start=entry.start, end=entry.end,
                  hold_end=entry.end + timedelta(minutes=resource.buffer_minutes), group_size=entry.group_size,
                  study_programme=entry.study_programme, purpose=entry.purpose, price_cents=price_cents,
                  alternative_cost_cents=alternative, created_at=offered)
    if entry.status == WaitlistEntry.Status.expired:
        return Booking(**common, status="expired", waitlist_offer=True, expires_at=expires, updated_at=expires)
    taken = offered + (min(expires, moment) - offered) * random.random()
    status, pupils = "confirmed", None
    if entry.end < moment:
        status = "completed" if random.random() < 0.9 else "no_show"
        pupils = max(1, entry.group_size - random.randint(0, 2)) if status == "completed" else None
    return Booking(**common, status=status, payment_method="free" if not price_cents else "invoice", decided_at=taken,
                   pupils_attended=pupils, updated_at=taken)


def _booking(resource: Resource, school: int, teacher: int, start: datetime, end: datetime, group: int,
             price_cents: int, alternative: int, moment: datetime) -> Booking:
    roll = random.random()
    # made 8 to 40 days ahead, and never later than now
    created = min(start - timedelta(days=random.randint(8, 40)), moment - timedelta(hours=random.randint(1, 72)))
    reason = ""
    pupils = None
    if end < moment:
        status = ("completed" if roll < 0.78 else "no_show" if roll < 0.82 else "cancelled" if roll < 0.9
                  else "declined" if roll < 0.95 else "expired")
        if status == "completed":
            pupils = max(1, group - random.randint(0, 2))
    else:
        status = ("confirmed" if roll < 0.55 else "requested" if roll < 0.85 else "cancelled" if roll < 0.93
                  else "declined")
    if status == "declined":
        reason = random.choice(["Instructeur niet beschikbaar", "Machine in onderhoud", "Te grote groep"])
    elif status == "cancelled":
        reason = random.choice(["Uitstap verplaatst", "Examenperiode", "Ziekte leerkracht"])
    if status == "requested" and not resource.needs_approval:
        status = "confirmed"
    decided = min(created + timedelta(days=random.randint(1, 4)), moment)
    return Booking(
        resource=resource.id, school=school, teacher=teacher, start=start, end=end,
        hold_end=end + timedelta(minutes=resource.buffer_minutes), status=status, group_size=group,
        purpose=random.choice(PURPOSES), price_cents=price_cents, alternative_cost_cents=alternative,
        payment_method=("free" if not price_cents else "invoice") if status in ("confirmed", "completed", "no_show") else "",
        expires_at=min(moment + timedelta(days=resource.request_expiry_days), start) if status == "requested" else None,
        decided_at=decided if status not in ("requested", "expired") else None, reason=reason, pupils_attended=pupils,
        created_at=created, updated_at=decided,
    )
