"""Wall time in Europe/Brussels to UTC and back. A local time that does not exist (the hour
skipped at the start of summer time) or happens twice (the hour repeated at its end) is refused
with a clear message, never guessed."""

from __future__ import annotations

from datetime import date, datetime, time, timezone

from core.errors import ValidationFailed
from core.i18n import BRUSSELS
from core.i18n import gettext as _


def from_local(naive: datetime, field_name: str = "") -> datetime:
    """A naive Brussels wall time -> an aware UTC datetime."""
    if naive.tzinfo is not None:
        return naive.astimezone(timezone.utc)
    first = naive.replace(tzinfo=BRUSSELS, fold=0)
    second = naive.replace(tzinfo=BRUSSELS, fold=1)
    if first.utcoffset() != second.utcoffset():
        shown = naive.strftime("%d/%m/%Y %H:%M")
        if first.astimezone(timezone.utc).astimezone(BRUSSELS).replace(tzinfo=None) != naive:
            message = _("%(time)s does not exist in Belgium: the clocks skip that hour. Choose another time.", time=shown)
        else:
            message = _("%(time)s happens twice in Belgium: the clocks go back that night. Choose another time.",
                        time=shown)
        raise ValidationFailed(message, {field_name: message} if field_name else None)
    return first.astimezone(timezone.utc)


def combine(day: date, wall: time) -> datetime:
    return from_local(datetime.combine(day, wall))


def parse_local(text: str, field_name: str = "") -> datetime:
    """'2026-12-01T08:30' or '2026-12-01 08:30' (Brussels) or ISO 8601 with offset -> UTC."""
    raw = (text or "").strip()
    try:
        value = datetime.fromisoformat(raw.replace(" ", "T", 1) if "T" not in raw else raw)
    except ValueError:
        message = _("%(text)s is not a date and time; use 2026-12-01 08:30.", text=raw or "''")
        raise ValidationFailed(message, {field_name: message} if field_name else None) from None
    return from_local(value, field_name)


def to_local(moment: datetime) -> datetime:
    return moment.astimezone(BRUSSELS)
