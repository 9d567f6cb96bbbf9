"""The one-line definition of every figure of the regional report, shown beside it on the page
and written into the exports. Keys are the figures' paths in the report (`use.utilisation`)."""

from __future__ import annotations

from core.i18n import lazy_gettext as _l

DEFINITIONS = {
    "period": _l("Bookings count in the period when they start in it (Brussels time); a booking counts in a region "
                 "when its school or the infrastructure lies there."),
    "supply.resources": _l("Resources schools can book now: active, with opening hours, at an active facility of an "
                           "active owner in the region."),
    "supply.facilities": _l("Sites (facilities) with at least one such resource."),
    "supply.open_minutes": _l("The resources' own opening hours in the period, minus their closures."),
    "use.bookings": _l("Bookings that took or take the time: requested, approved, confirmed, completed or no-show."),
    "use.minutes": _l("The booked time of those bookings, from start to end."),
    "use.utilisation": _l("Booked time on the resources counted in supply, as a share of their open time."),
    "use.by_status": _l("Every booking that starts in the period, by its status now."),
    "reach.pupils": _l("Pupils of completed bookings (as attended when recorded, else the group size); a group that "
                       "comes twice counts twice."),
    "reach.schools": _l("Schools with at least one completed booking."),
    "reach.programmes": _l("Study programmes of completed bookings (as the teacher gave them)."),
    "collaboration.crossing": _l("Agreed or completed bookings where a school uses infrastructure of a sector, the "
                                 "government, a company or a school of another network."),
    "collaboration.pairs": _l("School and owner organisations that work together, most bookings first."),
    "money.savings": _l("For completed bookings: the alternative cost kept on the booking minus what the school pays "
                        "for it (nothing for a free booking); bookings without a known alternative cost are left out "
                        "and counted apart."),
    "money.savings_per_pupil": _l("Savings divided by the pupils of the same bookings."),
    "money.bill_share": _l("Savings as a share of the school bill: per school, study programme and school year with a "
                           "recorded bill, the savings of its bookings over the pupils concerned (the largest group that "
                           "came) times the bill per pupil."),
    "money.schools_with_bill": _l("Schools reached that recorded a school bill which applies, of all schools reached."),
    "unmet.declined": _l("Requests the owner declined, for time in the period."),
    "unmet.expired": _l("Requests that expired unanswered or unpaid, for time in the period."),
    "unmet.waitlist": _l("Waitlist entries for time in the period that did not (yet) get it: waiting, offered or expired."),
    "unmet.round_days": _l("Days schools asked in published allocation rounds whose period starts in the report's "
                           "period and that were not booked for them: not granted, or taken before publishing."),
    "unmet.searches": _l("Searches for free time in the period that found nothing free (who searched is not kept); "
                         "a search counts in a province, or in a custom region when a postal code in it was typed."),
    "quarters": _l("The same figures per calendar quarter, for the quarterly evaluation."),
}


def definition(key: str) -> str:
    return str(DEFINITIONS[key])
