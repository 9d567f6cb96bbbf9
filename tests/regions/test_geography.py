import pytest

from regions.geocoding import OfflinePostalGeocoder, distance_km, postal_code_point
from regions.geography import UnknownPostalCode, locate


@pytest.mark.parametrize("postal_code, municipality, region", [
    ("2000", "Antwerpen", "VAN"),
    ("2440", "Geel", "VAN"),
    ("3000", "Leuven", "VBR"),
    ("1500", "Halle", "VBR"),
    ("1000", "Brussel", "VBR"),  # Brussels has no province; RTC Vlaams-Brabant serves it
    ("1040", "Etterbeek", "VBR"),
    ("8500", "Kortrijk", "VWV"),
    ("8000", "Brugge", "VWV"),
    ("9000", "Gent", "VOV"),
    ("9300", "Aalst", "VOV"),
    ("2070", "Beveren-Kruibeke-Zwijndrecht", "VOV"),  # East Flanders since the 2025 merger
    ("3500", "Hasselt", "VLI"),
    ("3600", "Genk", "VLI"),
])
def test_postal_codes_map_to_municipality_and_region(postal_code, municipality, region):
    area = locate(postal_code)
    assert municipality in area.municipalities
    assert area.region.code == region


@pytest.mark.parametrize("postal_code", ["1300", "4000", "5000", "6000", "6600", "7000"])
def test_wallonia_lies_outside_every_werkbank_region(postal_code):
    assert locate(postal_code).region is None


@pytest.mark.parametrize("bad", ["", "12", "abcd", "0000", "99999"])
def test_unknown_postal_codes_are_refused(bad):
    with pytest.raises(UnknownPostalCode):
        locate(bad)


def test_gent_to_antwerpen_is_about_51_km():
    assert distance_km(postal_code_point("9000"), postal_code_point("2000")) == pytest.approx(51.5, abs=1.5)


def test_the_offline_geocoder_finds_an_address_by_its_postal_code():
    location = OfflinePostalGeocoder().geocode("Ottergemsesteenweg 120, 9000 Gent")
    assert location.latitude == pytest.approx(51.05, abs=0.05)
    assert location.longitude == pytest.approx(3.72, abs=0.05)
    assert OfflinePostalGeocoder().geocode("no postal code here") is None
