"""Coordinates for addresses. Offline by default: the centre of the postal code, from the
postal-code data set of `countrystatecity-postal-codes` (ODbL). With WERKBANK_GEOCODER=nominatim
an address is looked up through geopy's Nominatim first, and falls back to the postal code.
Distances are geodesic (WGS-84)."""

from __future__ import annotations

import functools
import logging
import re

from geopy.distance import geodesic
from geopy.geocoders import Nominatim
from geopy.geocoders.base import Geocoder
from geopy.location import Location

log = logging.getLogger("werkbank.geocoding")

POSTAL_CODE_RE = re.compile(r"\b(\d{4})\b")


@functools.lru_cache(maxsize=1)
def _postal_coordinates() -> dict[str, tuple[float, float, str]]:
    from countrystatecity_postal_codes import get_postcodes_of_country

    table: dict[str, tuple[float, float, str]] = {}
    for entry in get_postcodes_of_country("BE"):
        if entry.latitude is None or entry.longitude is None:
            continue
        table.setdefault(entry.code, (float(entry.latitude), float(entry.longitude), entry.localityName or ""))
    return table


def postal_code_point(postal_code: str) -> tuple[float, float] | None:
    """The centre of a Belgian postal code; a code the data set lacks (a new one) takes its
    numerically nearest neighbour in the same hundred, else None."""
    table = _postal_coordinates()
    code = (postal_code or "").strip()
    if code in table:
        return table[code][:2]
    if not (len(code) == 4 and code.isdigit()):
        return None
    same_hundred = [c for c in table if c[:2] == code[:2]]
    if not same_hundred:
        return None
    nearest = min(same_hundred, key=lambda c: abs(int(c) - int(code)))
    return table[nearest][:2]


class OfflinePostalGeocoder(Geocoder):
    """A geopy geocoder that answers from the shipped postal-code data (no network)."""

    def __init__(self) -> None:  # no HTTP adapter: this geocoder never goes online
        pass

    def geocode(self, query: str, exactly_one: bool = True, **_kwargs):
        match = POSTAL_CODE_RE.search(query or "")
        point = postal_code_point(match.group(1)) if match else None
        if point is None:
            return None
        location = Location(query, point, {"postal_code": match.group(1), "source": "postal_code"})
        return location if exactly_one else [location]


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    return geodesic(a, b).km


class AddressLocator:
    """What the app calls: coordinates for an address, by the configured geocoder."""

    def __init__(self, mode: str = "offline", user_agent: str = "werkbank") -> None:
        self.offline = OfflinePostalGeocoder()
        self.online = Nominatim(user_agent=user_agent, timeout=5) if mode == "nominatim" else None

    def locate(self, street: str, postal_code: str, municipality: str = "") -> tuple[float, float] | None:
        if self.online is not None and street:
            try:
                found = self.online.geocode(f"{street}, {postal_code} {municipality}, België", country_codes="be")
            except Exception as exc:  # noqa: BLE001 - a geocoder outage must not block saving a facility
                log.warning("nominatim failed for %s %s: %s", street, postal_code, exc)
                found = None
            if found is not None:
                return (found.latitude, found.longitude)
        found = self.offline.geocode(postal_code)
        return (found.latitude, found.longitude) if found else None
