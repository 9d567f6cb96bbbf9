"""The audit log: every state change records who, what, when and the data."""

from __future__ import annotations

from typing import Any

from core.tables import AuditEntry


async def record(actor: Any, action: str, object_type: str, object_id: Any, **data) -> AuditEntry:
    """Write an audit entry inside the caller's transaction. `actor` is a user row, an Actor or
    None (the system)."""
    user = getattr(actor, "user", actor)
    entry = AuditEntry(
        actor_id=getattr(user, "id", None),
        actor_email=getattr(user, "email", "") or "",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        data={key: _plain(value) for key, value in data.items()},
    )
    await entry.save()
    return entry


def _plain(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


async def history(object_type: str, object_id: Any) -> list[AuditEntry]:
    return await AuditEntry.objects().where(
        (AuditEntry.object_type == object_type) & (AuditEntry.object_id == str(object_id))
    ).order_by(AuditEntry.created_at).order_by(AuditEntry.id).output(load_json=True)
