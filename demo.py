"""The demo data set: the five Flemish regions with their RTC, the education providers, about
30 schools with fictional names in real municipalities (two of them open a workshop of their own
to other schools), a few infrastructure owners, the schools' bills, bookings, waitlist entries
and unmet searches, and one demo user per role. `scale` multiplies the schools and the
infrastructure (for benchmarks)."""

from __future__ import annotations

from dataclasses import dataclass

from accounts import services
from accounts.tables import Membership, Organisation
from allocation import demo_data as allocation_demo
from booking import demo_data as booking_demo
from core.registry import Werkbank
from inventory import demo_data as inventory_demo
from needs import demo_data as needs_demo
from payments import demo_data as payments_demo
from regions.geocoding import postal_code_point
from regions.geography import REGIONS, locate

Kind = Organisation.Kind
Network = Organisation.Network
Role = Membership.Role

DEMO_PASSWORD = "werkbank-demo"

# (slug, name, network, street, postal code, pupils)
SCHOOLS = [
    ("sint-lucas-gent", "Sint-Lucasinstituut voor Techniek", Network.katholiek, "Ottergemsesteenweg 120", "9000", 840),
    ("go-ta-aalst", "GO! Technisch Atheneum Aalst", Network.go, "Gentsesteenweg 55", "9300", 620),
    ("sti-sint-niklaas", "Stedelijk Technisch Instituut Sint-Niklaas", Network.ovsg, "Kalkstraat 12", "9100", 510),
    ("pti-dendermonde", "Provinciaal Technisch Instituut Dendermonde", Network.pov, "Oude Vest 40", "9200", 450),
    ("vti-oudenaarde", "Vrij Technisch Instituut Oudenaarde", Network.katholiek, "Doornikse Heerweg 8", "9700", 390),
    ("go-campus-beveren", "GO! Campus Beveren", Network.go, "Oostlangeweg 3", "2070", 560),
    ("don-bosco-antwerpen", "Don Boscotechnisch Instituut Antwerpen", Network.katholiek, "Boomsesteenweg 210", "2000", 910),
    ("go-ta-turnhout", "GO! Technisch Atheneum Turnhout", Network.go, "Kasteelplein 9", "2300", 480),
    ("sti-mechelen", "Stedelijk Instituut voor Techniek Mechelen", Network.ovsg, "Hanswijkvaart 21", "2800", 430),
    ("pti-geel", "Provinciaal Technisch Instituut Geel", Network.pov, "Technologielaan 2", "2440", 700),
    ("vti-lier", "Vrij Technisch Instituut Lier", Network.katholiek, "Kanunnik Davidlaan 5", "2500", 520),
    ("steinerschool-mol", "Vrije Steinerschool De Kempen", Network.oko, "Ginderbuiten 14", "2400", 210),
    ("sint-jozef-leuven", "Sint-Jozefscollege Techniek Leuven", Network.katholiek, "Tervuursesteenweg 44", "3000", 760),
    ("go-ta-vilvoorde", "GO! Technisch Atheneum Vilvoorde", Network.go, "Mechelsesteenweg 90", "1800", 540),
    ("sti-tienen", "Stedelijk Technisch Instituut Tienen", Network.ovsg, "Grijpenlaan 11", "3300", 330),
    ("pti-halle", "Provinciaal Technisch Instituut Halle", Network.pov, "Basiliekstraat 70", "1500", 410),
    ("go-campus-brussel", "GO! Technische Campus Brussel", Network.go, "Zuidlaan 18", "1000", 600),
    ("voop-diest", "Vrije Technische School Diest", Network.oko, "Leuvensestraat 6", "3290", 180),
    ("sint-michiel-brugge", "Sint-Michielsinstituut Brugge", Network.katholiek, "Vaartdijkstraat 3", "8000", 820),
    ("go-ta-kortrijk", "GO! Technisch Atheneum Kortrijk", Network.go, "Doorniksesteenweg 60", "8500", 590),
    ("sti-roeselare", "Stedelijk Technisch Instituut Roeselare", Network.ovsg, "Zuidstraat 27", "8800", 470),
    ("pti-oostende", "Provinciaal Technisch Instituut Oostende", Network.pov, "Zeedijk 120", "8400", 520),
    ("vti-ieper", "Vrij Technisch Instituut Ieper", Network.katholiek, "Poperingseweg 31", "8900", 440),
    ("ipco-tielt", "Protestants-Christelijke School Tielt", Network.oko, "Kortrijkstraat 4", "8700", 160),
    ("sint-jan-hasselt", "Sint-Jan Berchmans Techniek Hasselt", Network.katholiek, "Kunstlaan 17", "3500", 780),
    ("go-campus-genk", "GO! Technische Campus Genk", Network.go, "Wiemesmeerstraat 25", "3600", 690),
    ("sti-tongeren", "Stedelijk Technisch Instituut Tongeren", Network.ovsg, "Maastrichtersteenweg 8", "3700", 350),
    ("pti-beringen", "Provinciaal Technisch Instituut Beringen", Network.pov, "Mijnschool 1", "3580", 460),
    ("vti-sint-truiden", "Vrij Technisch Instituut Sint-Truiden", Network.katholiek, "Tiensesteenweg 101", "3800", 500),
    ("fopem-pelt", "Freinetschool Techniek Pelt", Network.oko, "Kerkhofstraat 2", "3900", 150),
]

PROVIDERS = [
    ("katholiek-onderwijs-vlaanderen", "Katholiek Onderwijs Vlaanderen", Network.katholiek, "Guimardstraat 1", "1040"),
    ("go-onderwijs", "GO! onderwijs van de Vlaamse Gemeenschap", Network.go, "Willebroekkaai 36", "1000"),
    ("ovsg", "OVSG", Network.ovsg, "Ravensteingalerij 3", "1000"),
    ("pov", "POV", Network.pov, "Koningsstraat 70", "1000"),
    ("oko", "OKO", Network.oko, "Guimardstraat 19", "1040"),
]

RTCS = [
    ("rtc-antwerpen", "RTC Antwerpen", "Technologielaan 11", "2440", "VAN"),
    ("rtc-vlaams-brabant", "RTC Vlaams-Brabant", "Diestsevest 32", "3000", "VBR"),
    ("rtc-west-vlaanderen", "RTC West-Vlaanderen", "Doorniksesteenweg 145", "8500", "VWV"),
    ("rtc-oost-vlaanderen", "RTC Oost-Vlaanderen", "Technologiepark 3", "9052", "VOV"),
    ("rtc-limburg", "RTC Limburg", "Kempische Steenweg 293", "3500", "VLI"),
]

# Fictional owners of training infrastructure.
OWNERS = [
    ("metaalcampus-gent", "Opleidingscentrum Metaal & Techniek", Kind.sector_fund, "Technologiepark 40", "9052"),
    ("bouwcampus-mechelen", "Bouwcampus Rupel-Nete", Kind.sector_fund, "Hanswijkvaart 100", "2800"),
    ("voedingsacademie-roeselare", "Voedingsacademie West", Kind.sector_fund, "Mandellaan 12", "8800"),
    ("proceslab-antwerpen", "ProcesLab Schelde", Kind.company, "Haven 1025", "2030"),
    ("technologiecampus-genk", "Technologiecampus Limburg", Kind.government, "Thor Park 8000", "3600"),
    ("competentiecentrum-kortrijk", "Competentiecentrum Zuid-West", Kind.training_centre, "Beneluxpark 19", "8500"),
    ("autocentrum-leuven", "Opleidingscentrum Automotive Leuven", Kind.training_centre, "Interleuvenlaan 62", "3001"),
]


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: Role
    organisation: str | None
    first_name: str
    last_name: str


LOGINS = [
    DemoLogin("leerkracht@demo.werkbank.be", Role.teacher, "sint-lucas-gent", "Sofie", "Claes"),
    DemoLogin("directie@demo.werkbank.be", Role.school_admin, "sint-lucas-gent", "Bart", "Peeters"),
    DemoLogin("eigenaar@demo.werkbank.be", Role.owner_staff, "metaalcampus-gent", "Inge", "Willems"),
    DemoLogin("koepel@demo.werkbank.be", Role.provider_staff, "katholiek-onderwijs-vlaanderen", "Koen", "Maes"),
    DemoLogin("rtc@demo.werkbank.be", Role.rtc_staff, "rtc-oost-vlaanderen", "Lien", "Jacobs"),
    DemoLogin("beheer@demo.werkbank.be", Role.platform_admin, None, "Tom", "Wouters"),
    DemoLogin("leerkracht.antwerpen@demo.werkbank.be", Role.teacher, "don-bosco-antwerpen", "Yasmine", "El Amrani"),
]


def _org(slug: str, name: str, kind: Kind, street: str, postal_code: str, **extra) -> Organisation:
    area = locate(postal_code)
    point = postal_code_point(postal_code)
    return Organisation(
        latitude=point[0] if point else None, longitude=point[1] if point else None,
        slug=slug, name=name, kind=kind, street=street, postal_code=postal_code,
        municipality=area.municipality, region_code=extra.pop("region_code", None) or (area.region.code if area.region else ""),
        **extra,
    )


def organisations(scale: int = 1) -> list[Organisation]:
    rows = [
        _org(slug, name, Kind.rtc, street, pc, region_code=region) for slug, name, street, pc, region in RTCS
    ]
    rows += [_org(slug, name, Kind.provider, street, pc, network=network) for slug, name, network, street, pc in PROVIDERS]
    rows += [_org(slug, name, kind, street, pc) for slug, name, kind, street, pc in OWNERS]
    for copy in range(scale):
        suffix = "" if copy == 0 else f"-{copy + 1}"
        name_suffix = "" if copy == 0 else f" (campus {copy + 1})"
        for index, (slug, name, network, street, pc, pupils) in enumerate(SCHOOLS):
            number = 100000 + copy * 1000 + index * 7 + 3
            rows.append(_org(
                slug + suffix, name + name_suffix, Kind.school, street, pc, network=network,
                institution_number=str(number), pupil_count=pupils,
                email=f"info@{slug}{suffix}.demo.werkbank.be",
            ))
    return rows


async def database_is_empty() -> bool:
    """No organisation yet: the demo may be loaded."""
    return not await Organisation.exists()


async def _regions_and_bills(uow) -> None:
    """A custom region (an education zone around Gent), and the school bill of every demo school
    for this school year in three programmes (what the regional report sets savings against)."""
    import random

    from accounts.school_bill import school_year_of
    from accounts.tables import SchoolBill
    from inventory.taxonomy import programme_choices
    from regions.custom import parse_municipalities
    from regions.tables import CustomRegion

    moment = uow.now()
    zone, _unknown = parse_municipalities("Gent, Merelbeke-Melle, Sint-Martens-Latem, Destelbergen, Lochristi")
    await CustomRegion.insert(CustomRegion(code="ZONE-GENT", name="Onderwijszone Gent", municipalities=zone,
                                           description="Demo: Gent en de gemeenten eromheen", created_at=moment,
                                           updated_at=moment))
    dice = random.Random(20261129)
    slugs = [slug for slug, _name, _finality in programme_choices()]
    year = school_year_of(moment.date())
    schools = await Organisation.select(Organisation.id).where(Organisation.kind == Organisation.Kind.school)
    rows = [SchoolBill(school=school["id"], programme=slug, school_year=year,
                       cents_per_pupil=dice.randrange(150, 460) * 100, updated_at=moment)
            for school in schools for slug in dice.sample(slugs, 3)]
    for start in range(0, len(rows), 500):
        await SchoolBill.insert(*rows[start:start + 500])


async def load(wb: Werkbank, scale: int = 1) -> list[DemoLogin]:
    """Loads the demo into an empty database, in one transaction. Returns the demo logins."""
    if not await database_is_empty():
        raise RuntimeError("the database is not empty")
    assert set(REGIONS) == {r[4] for r in RTCS}
    uow = wb.unit_of_work(services.system_actor())
    async with uow, uow.transaction():
        rows = organisations(scale)
        for start in range(0, len(rows), 500):
            await Organisation.insert(*rows[start:start + 500])
        for login in LOGINS:
            await services.create_user(
                uow, login.email, DEMO_PASSWORD, login.role, login.organisation,
                first_name=login.first_name, last_name=login.last_name,
            )
        await inventory_demo.load(uow, scale)
        await _regions_and_bills(uow)  # before the bookings: they mostly name a programme the school has a bill for
        await booking_demo.load(uow, DEMO_PASSWORD)
        await payments_demo.load(uow)
        await allocation_demo.load(uow)
        await needs_demo.load(uow)
    return LOGINS
