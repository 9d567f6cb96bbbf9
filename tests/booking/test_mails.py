"""Every booking mail against a snapshot that a person has read once. To change a mail on
purpose: delete its snapshot, run the tests (they write it anew and fail once), read it, commit."""

from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from core.i18n import use_language
from core.templating import render

SNAPSHOTS = Path(__file__).parent / "snapshots"

BOOKING = SimpleNamespace(
    id=42, status="requested", start=datetime(2027, 3, 30, 6, 30, tzinfo=timezone.utc),  # 08:30 summer time
    end=datetime(2027, 3, 30, 10, 0, tzinfo=timezone.utc), group_size=10, price_cents=18000,
    purpose="Oefenen voor de GIP", reason="Machine in onderhoud", cancellation_fee_cents=9000,
    expires_at=datetime(2027, 3, 25, 10, 0, tzinfo=timezone.utc),
)
CONTEXT = dict(
    resource=SimpleNamespace(name="Lasatelier MIG/MAG (12 posten)"),
    facility=SimpleNamespace(name="Metaalcampus Zwijnaarde", street="Technologiepark 40", postal_code="9052",
                             municipality="Gent", contact_email="scholen@metaalcampus.be"),
    teacher=SimpleNamespace(display_name="Sofie Claes"),
    link="https://werkbank.example/bookings/42", inbox="https://werkbank.example/bookings/inbox", by_owner=True,
    previous_start="2027-03-23T07:00:00+00:00", previous_end="2027-03-23T09:00:00+00:00",
)


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("name", ["requested", "approved", "declined", "expired", "cancelled", "cancelled_owner",
                                  "reminder", "waitlist_offer", "rescheduled_owner", "rescheduled"])
def test_booking_mails_match_their_snapshots(name, language):
    with use_language(language):
        text = render(f"booking/mail/{name}.txt", booking=BOOKING, **CONTEXT)
    snapshot = SNAPSHOTS / f"{name}.{language}.txt"
    if not snapshot.exists():
        snapshot.write_text(text)
        pytest.fail(f"wrote {snapshot.name}: read it, then commit it")
    assert text == snapshot.read_text()
