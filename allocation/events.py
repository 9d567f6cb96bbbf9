"""What happens to rounds, as domain events."""

from __future__ import annotations

from dataclasses import dataclass

from core.uow import Event


@dataclass(frozen=True)
class RoundPublished(Event):
    """A round's days were booked; the schools and owners are mailed what they got."""

    round_id: int
