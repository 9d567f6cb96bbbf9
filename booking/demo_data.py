"""Demo bookings over the school year so far and the coming weeks, in every status, so every
page shows real-looking life. One booking per resource and half day at most (no overlaps)."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from accounts.services import hash_password
from accounts.tables import Membership, Organisation, User
from booking import rules
from booking.tables import Booking
from core.i18n import BRUSSELS
from core.tables import AuditEntry
from inventory.tables import Facility, Resource

SLOTS = [(time(8, 30), time(12, 0)), (time(13, 0), time(15, 30))]
PURPOSES = ["Oefenen voor de GIP", "Praktijkweek", "Kennismaking met de machine", "Project duaal leren",
            "Voorbereiding stage", "Lessenreeks automatisering", ""]
FIRST_NAMES = ["Lotte", "Wout", "Nora", "Pieter", "Fien", "Jonas", "Amira", "Ruben", "Elise", "Thomas"]
LAST_NAMES = ["Janssens", "Maes", "Peeters", "De Smet", "Wouters", "Mertens", "Goossens", "Dubois", "Hermans"]


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


async def load(uow, password: str, weeks_ahead: int = 6) -> int:
    random.seed(20261128)  # the same demo every time
    teachers = await _teachers_per_school(password)
    schools = list(teachers)
    moment = uow.now()
    today = moment.astimezone(BRUSSELS).date()
    first = school_year_start(today)
    last = today + timedelta(weeks=weeks_ahead)
    resources = await Resource.objects().order_by(Resource.id)
    facility_region = {f.id: f.region_code for f in await Facility.objects()}
    school_region = {o.id: o.region_code for o in await Organisation.objects().where(Organisation.kind == "school")}
    bookings: list[Booking] = []
    for resource in resources:
        nearby = [s for s in schools if school_region[s] == facility_region[resource.facility]] or schools
        day = first + timedelta(days=random.randint(0, 6))
        while day <= last:
            if day.weekday() < 4:  # Monday to Thursday: open in every demo schedule
                opens, closes = random.choice(SLOTS)
                start = datetime.combine(day, opens, BRUSSELS)
                end = datetime.combine(day, closes, BRUSSELS)
                school = random.choice(nearby if random.random() < 0.8 else schools)  # some cross-region use
                group = random.randint(max(1, resource.capacity // 2), resource.capacity)
                price_cents, alternative = rules.price(resource, start, end, group)
                bookings.append(_booking(resource, school, teachers[school], start, end, group, price_cents,
                                         alternative, moment))
            day += timedelta(days=random.choice([5, 7, 9, 12]))
    for index in range(0, len(bookings), 500):
        await Booking.insert(*bookings[index:index + 500])
    entries = []
    for booking in bookings:
        entries.append(AuditEntry(created_at=booking.created_at, actor_id=booking.teacher, action="booking.requested",
                                  object_type="booking", object_id=str(booking.id), data={}))
        if booking.status != "requested":
            action = {"confirmed": "booking.approved", "completed": "booking.completed", "no_show": "booking.no_show",
                      "cancelled": "booking.cancelled", "declined": "booking.declined",
                      "expired": "booking.expired"}[booking.status]
            entries.append(AuditEntry(created_at=booking.updated_at, action=action, object_type="booking",
                                      object_id=str(booking.id), data={"reason": booking.reason} if booking.reason else {}))
    for index in range(0, len(entries), 500):
        await AuditEntry.insert(*entries[index:index + 500])
    return len(bookings)


def _booking(resource: Resource, school: int, teacher: int, start: datetime, end: datetime, group: int,
             price_cents: int, alternative: int, moment: datetime) -> Booking:
    roll = random.random()
    created = start - timedelta(days=random.randint(8, 40))
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
    decided = created + timedelta(days=random.randint(1, 4))
    return Booking(
        resource=resource.id, school=school, teacher=teacher, start=start, end=end,
        hold_end=end + timedelta(minutes=resource.buffer_minutes), status=status, group_size=group,
        purpose=random.choice(PURPOSES), price_cents=price_cents, alternative_cost_cents=alternative,
        payment_method=("free" if not price_cents else "invoice") if status in ("confirmed", "completed", "no_show") else "",
        expires_at=min(moment + timedelta(days=resource.request_expiry_days), start) if status == "requested" else None,
        decided_at=decided if status not in ("requested", "expired") else None, reason=reason, pupils_attended=pupils,
        created_at=created, updated_at=min(decided, moment),
    )
