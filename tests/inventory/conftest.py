"""The inventory fixtures live in tests/conftest.py (the booking tests use them too)."""

from tests.conftest import RESOURCE_FORM  # noqa: F401
