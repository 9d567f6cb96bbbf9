"""What happens to bookings, as domain events. Services record them in the unit of work;
booking's own subscribers (notifications, the waitlist) and higher domains (payments, calendars)
react in their plugins."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from core.uow import Event


@dataclass(frozen=True)
class BookingEvent(Event):
    booking_id: int
    resource_id: int
    owner_id: int
    school_id: int
    teacher_id: int
    series_id: int | None = None


@dataclass(frozen=True)
class BookingRequested(BookingEvent):
    """A booking was made: `status` is requested (waits for the owner) or confirmed."""

    status: str = "requested"
    waitlist_offer: bool = False
    allocated: bool = False  # made by publishing an allocation round, which sends its own mails


@dataclass(frozen=True)
class BookingApproved(BookingEvent):
    """The owner approved a request; `status` is approved (waits for payment) or confirmed."""

    status: str = "confirmed"


@dataclass(frozen=True)
class BookingConfirmed(BookingEvent):
    """An approved booking became confirmed (paid)."""


@dataclass(frozen=True)
class BookingDeclined(BookingEvent):
    reason: str = ""


@dataclass(frozen=True)
class BookingCancelled(BookingEvent):
    by_owner: bool = False
    fee_cents: int = 0
    part_of_series: bool = False  # cancelled with others of its series: SeriesCancelled tells


@dataclass(frozen=True)
class BookingExpired(BookingEvent):
    waitlist_offer: bool = False
    unpaid: bool = False  # approved, but not paid before its deadline


@dataclass(frozen=True)
class BookingCompleted(BookingEvent):
    pupils_attended: int = 0


@dataclass(frozen=True)
class BookingNoShow(BookingEvent):
    pass


@dataclass(frozen=True)
class BookingRescheduled(BookingEvent):
    """Moved to another time of the same resource; `status` is what it is now (requested when
    the owner must approve the new time)."""

    status: str = "confirmed"
    previous_start: datetime | None = None
    previous_end: datetime | None = None


@dataclass(frozen=True)
class WaitlistOffered(BookingEvent):
    pass


@dataclass(frozen=True)
class SeriesRequested(Event):
    series_id: int
    resource_id: int
    owner_id: int
    teacher_id: int
    booking_ids: tuple[int, ...] = field(default_factory=tuple)
    status: str = "requested"


@dataclass(frozen=True)
class SeriesCancelled(Event):
    series_id: int
    resource_id: int
    owner_id: int
    teacher_id: int
    booking_ids: tuple[int, ...] = field(default_factory=tuple)
    by_owner: bool = False
