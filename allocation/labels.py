"""Words for a round's states and for the reasons a registration got fewer days than it asked."""

from __future__ import annotations

from core.i18n import gettext as _


def round_status_label(status: str) -> str:
    return {
        "not_yet": _("registration not yet open"), "open": _("registration open"),
        "closed": _("registration closed, waiting for the allocation"), "allocated": _("allocated, not yet published"),
        "published": _("published"), "cancelled": _("cancelled"),
    }.get(str(getattr(status, "value", status)), str(status))


def reason_label(reason: str) -> str:
    """Why days were not granted, as told to the school."""
    return {
        "too_large": _("no resource of the round holds the group"),
        "no_fitting_day": _("no free day in the period fits the weekdays and weeks you chose"),
        "cap_school": _("your school reached the round's cap of days"),
        "cap_group": _("the pupil group reached the round's cap of days"),
        "cap_resource": _("the pupil group reached the cap of days for this resource"),
        "supply_taken": _("the days that fit went to other schools (demand was higher than supply)"),
        "group_busy": _("the free days were days the group already has elsewhere"),
        "by_hand": _("changed by the round's staff"),
        "resource_gone": _("the resource is no longer offered"),
    }.get(reason or "", "")


def weekday_label(day: int) -> str:
    return (_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday"))[day]
