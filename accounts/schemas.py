"""Shapes of the accounts API."""

from __future__ import annotations

import msgspec


class RoleOut(msgspec.Struct):
    role: str
    role_label: str
    organisation: str | None = None
    organisation_name: str | None = None
    organisation_kind: str | None = None


class Me(msgspec.Struct):
    id: int
    email: str
    name: str
    language: str
    roles: list[RoleOut]
