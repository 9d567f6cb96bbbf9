"""The inventory of the demo: about 10 facilities with about 60 resources over the five
provinces, with plausible prices and alternative costs (fictional owners and sites); two schools
that open a workshop of their own to other schools (so that the regional report shows sharing
between schools, of the same network and of another); and a few dozen searches for free time that
found nothing over the past months (the report's unmet demand)."""

from __future__ import annotations

import hashlib
import io
import random
from datetime import date, datetime, time, timedelta

from PIL import Image, ImageDraw

from accounts.tables import Organisation, User
from core.i18n import BRUSSELS
from inventory.hours import parse_week
from inventory.tables import (
    Category,
    Closure,
    Facility,
    OpeningHours,
    Photo,
    Qualification,
    QualificationGrant,
    Resource,
    ResourceProgramme,
    SearchRecord,
    StudyProgramme,
)
from regions.geocoding import postal_code_point
from regions.geography import REGIONS, locate

WEEKDAYS = "ma-vr 08:00-16:30"

# (owner slug, code, name, street, postal code, categories)
FACILITIES = [
    ("metaalcampus-gent", "MC-ZWN", "Metaalcampus Zwijnaarde", "Technologiepark 40", "9052",
     ["cnc", "welding", "cobots-robotics", "additive-manufacturing"]),
    ("metaalcampus-gent", "MC-AAL", "Lascentrum Aalst", "Erembodegemstraat 20", "9300", ["welding", "cnc"]),
    ("bouwcampus-mechelen", "BC-MEC", "Bouwcampus Mechelen", "Hanswijkvaart 100", "2800",
     ["construction", "wood-processing"]),
    ("voedingsacademie-roeselare", "VA-ROE", "Voedingsacademie Roeselare", "Mandellaan 12", "8800", ["bakery-food"]),
    ("proceslab-antwerpen", "PL-HAV", "ProcesLab Haven", "Haven 1025", "2030",
     ["process-technology", "chemistry-biotech-labs"]),
    ("technologiecampus-genk", "TC-GNK", "Technologiecampus Genk", "Thor Park 8000", "3600",
     ["cobots-robotics", "plc-automation", "industrial-ict", "additive-manufacturing"]),
    ("technologiecampus-genk", "TC-BER", "Logistiek Opleidingscentrum Beringen", "Industrieweg 5", "3580",
     ["forklifts-logistics"]),
    ("competentiecentrum-kortrijk", "CC-KOR", "Competentiecentrum Kortrijk", "Beneluxpark 19", "8500",
     ["electrical-installations", "refrigeration-heating", "plc-automation"]),
    ("autocentrum-leuven", "AC-LEU", "Automotive Campus Leuven", "Interleuvenlaan 62", "3001", ["automotive"]),
    ("competentiecentrum-kortrijk", "CC-BRU", "Opleidingscentrum Brugge", "Kleine Pathoekeweg 3", "8000",
     ["electrical-installations", "wood-processing"]),
]

# category -> resources: (name, kind, capacity, price model, price cents, alternative cost cents per hour,
# programmes, description)
CATALOGUE = {
    "cnc": [
        ("CNC-draaibank Haas ST-10", "machine", 4, "per_hour", 3500, 9000,
         ["mechanische-vormgeving", "mechanische-vormgevingstechnieken", "productie-industrie"],
         "Tweeassige CNC-draaibank met Fanuc-sturing; programmeren aan de machine of vanuit CAM."),
        ("CNC-freesmachine 5-assig", "machine", 4, "per_hour", 4500, 12000,
         ["mechanische-vormgevingstechnieken", "mechatronica"],
         "Vijfassig freesbewerkingscentrum voor complexe stukken, met meettaster."),
        ("CAD/CAM-lokaal (16 werkposten)", "workshop", 16, "free", 0, 2500,
         ["mechanische-vormgeving", "mechanische-vormgevingstechnieken"],
         "Zestien pc's met CAD/CAM-software en simulatie van de machines."),
    ],
    "welding": [
        ("Lasatelier MIG/MAG (12 posten)", "workshop", 12, "per_half_day", 18000, 9500,
         ["lassen-constructie"], "Twaalf afgezuigde lasposten met MIG/MAG-toestellen en snijtafel."),
        ("TIG-lasposten (6 posten)", "workshop", 6, "per_half_day", 12000, 7000,
         ["lassen-constructie", "sanitaire-en-verwarmingsinstallaties"], "Zes TIG-posten voor roestvast staal en aluminium."),
        ("Lassimulator in VR", "equipment", 8, "free", 0, 3000,
         ["lassen-constructie"], "Virtuele lasposten om houding en snelheid te oefenen zonder materiaalverbruik."),
    ],
    "cobots-robotics": [
        ("Cobotcel Universal Robots UR5e", "machine", 6, "per_hour", 2500, 8000,
         ["mechatronica", "elektromechanische-technieken"], "Collaboratieve robot met grijper en visiecamera."),
        ("Robotcel FANUC met transportband", "machine", 6, "per_hour", 4000, 11000,
         ["mechatronica", "industriele-ict"], "Industriële robotcel met veiligheidsscanner en PLC-koppeling."),
    ],
    "plc-automation": [
        ("PLC-trainers Siemens S7-1500 (8 koffers)", "equipment", 16, "free", 0, 2800,
         ["elektromechanische-technieken", "elektrotechnieken", "mechatronica"], "Acht trainingskoffers met TIA Portal."),
        ("Mechatronica-leerlijn met 5 stations", "workshop", 10, "per_day", 30000, 6000,
         ["mechatronica", "elektromechanische-technieken"], "Een volledige productielijn van sorteren tot verpakken."),
        ("Pneumatiek- en hydrauliekpanelen", "equipment", 12, "free", 0, 2200,
         ["elektromechanische-technieken", "preventief-onderhoud-machines-en-installaties"], "Opbouwpanelen met componenten."),
    ],
    "process-technology": [
        ("Mini-fabriek voor procesoperatoren", "workshop", 10, "per_day", 60000, 15000,
         ["chemische-procestechnieken", "biotechnologische-en-chemische-technieken"],
         "Pompen, vaten, stoom en een controlekamer: een week praktijk voor het 7de jaar."),
        ("Destillatiekolom (pilootinstallatie)", "machine", 8, "per_day", 45000, 14000,
         ["chemische-procestechnieken"], "Pilootkolom met DCS-sturing en monstername."),
        ("Controlekamer met DCS-simulator", "lab", 12, "per_half_day", 15000, 5000,
         ["chemische-procestechnieken", "industriele-ict"], "Oefenen op storingen zonder risico."),
    ],
    "chemistry-biotech-labs": [
        ("Analytisch labo met HPLC en GC", "lab", 12, "per_half_day", 20000, 6500,
         ["biotechnologische-en-chemische-technieken"], "Chromatografie en spectrofotometrie."),
        ("Biotechnologie-labo (ML2)", "lab", 12, "per_half_day", 18000, 6000,
         ["biotechnologische-en-chemische-technieken"], "Steriel werken, PCR en fermentatie."),
    ],
    "refrigeration-heating": [
        ("Koelinstallatie-trainers", "equipment", 8, "per_hour", 2000, 6000,
         ["koelinstallaties", "koel-en-warmtetechnieken"], "Trainers met storingssimulatie en F-gassenpraktijk."),
        ("Warmtepomp-opstelling lucht-water", "equipment", 8, "per_hour", 2000, 5500,
         ["koel-en-warmtetechnieken", "sanitaire-en-verwarmingsinstallaties"], "Volledig geïnstrumenteerde warmtepomp."),
    ],
    "electrical-installations": [
        ("AREI-oefenhokjes (10 cabines)", "workshop", 10, "free", 0, 3500,
         ["elektrische-installaties", "elektrotechnieken"], "Huisinstallaties bedraden en keuren volgens het AREI."),
        ("Domotica KNX-panelen", "equipment", 8, "per_hour", 1500, 4000,
         ["elektrische-installaties", "elektrotechnieken"], "KNX-panelen met ETS-licenties."),
        ("Laadpalen- en zonnepanelenopstelling", "equipment", 8, "per_half_day", 9000, 4500,
         ["elektrische-installaties", "elektrotechnieken"], "Omvormers, batterij en laadpalen."),
    ],
    "wood-processing": [
        ("CNC-nestingmachine hout", "machine", 4, "per_hour", 3000, 8500,
         ["houttechnieken", "binnenschrijnwerk-en-interieur"], "Plaatbewerking met automatische etikettering."),
        ("Kantenlijmmachine", "machine", 4, "per_hour", 2000, 6000,
         ["binnenschrijnwerk-en-interieur", "houttechnieken"], "Kantenlijmen met PUR en voorfrezen."),
        ("Machinaal houtatelier", "workshop", 12, "per_day", 25000, 5000,
         ["binnenschrijnwerk-en-interieur"], "Vlak- en vandiktebank, formaatzaag, lintzaag."),
    ],
    "bakery-food": [
        ("Bakkerijlijn deegverwerking", "workshop", 10, "per_half_day", 16000, 7000,
         ["brood-en-banketbakkerij", "bakkerijtechnieken"], "Kneden, verdelen, opbollen en rijskast."),
        ("Ovenlijn met stoom", "machine", 8, "per_half_day", 12000, 6000,
         ["brood-en-banketbakkerij", "bakkerijtechnieken"], "Dekoven en rekoven met stoominjectie."),
        ("Slagerij-atelier", "workshop", 10, "per_half_day", 15000, 7000,
         ["slagerij"], "Versnijden, kutteren en vacuümverpakken."),
        ("Grootkeuken", "workshop", 14, "per_day", 28000, 6500,
         ["grootkeuken-en-catering", "restaurant-en-keuken"], "Cook-chill en HACCP-oefeningen."),
    ],
    "automotive": [
        ("Diagnose-atelier elektrische voertuigen", "workshop", 8, "per_half_day", 15000, 8000,
         ["autotechnieken", "onderhoudsmechanica-auto"], "Hoogspanningsveilig werken en diagnose."),
        ("Hefbruggen-werkplaats (4 bruggen)", "workshop", 12, "per_day", 30000, 6000,
         ["onderhoudsmechanica-auto", "koetswerk"], "Vier hefbruggen en bandenmontage."),
    ],
    "construction": [
        ("Metselhal", "workshop", 16, "free", 0, 3000, ["ruwbouw", "bouwtechnieken"], "Overdekte hal voor metselwerk."),
        ("Dakwerkersatelier", "workshop", 10, "per_day", 20000, 5000,
         ["ruwbouw", "afwerking-bouw"], "Dakopstellingen voor pannen, leien en EPDM."),
    ],
    "forklifts-logistics": [
        ("Heftruck-oefenterrein", "equipment", 6, "per_day", 35000, 9000,
         ["productie-industrie"], "Vier heftrucks en een parcours; maximaal 5 dagen per school per jaar."),
        ("Reachtruck in magazijnstelling", "machine", 4, "per_half_day", 15000, 8000,
         ["productie-industrie"], "Hoogbouwmagazijn met scanners."),
    ],
    "industrial-ict": [
        ("Netwerklabo glasvezel en koper", "lab", 12, "free", 0, 3000,
         ["datacommunicatie-en-netwerkinstallaties", "industriele-ict"], "Lassen van glasvezel en certificeren."),
        ("Industrieel IoT-labo", "lab", 12, "per_half_day", 8000, 4000,
         ["industriele-ict", "elektronicatechnieken"], "Sensoren, edge-computing en dashboards."),
    ],
    "additive-manufacturing": [
        ("3D-printlab (10 printers)", "lab", 10, "free", 0, 2500,
         ["mechanische-vormgevingstechnieken", "industriele-ict"], "FDM- en harsprinters met slicers."),
        ("Lasersnijder CO2", "machine", 4, "per_hour", 2500, 6000,
         ["mechanische-vormgevingstechnieken", "houttechnieken"], "Snijden en graveren tot 12 mm."),
    ],
}

# Schools that open a workshop of their own to other schools (funding "school"): free and without
# approval, as schools lend each other their workshops (and a school has no owner staff to answer
# requests). (school slug, code, name, street, postal code, category, resource as in CATALOGUE)
SCHOOL_FACILITIES = [
    ("sint-lucas-gent", "SL-GNT", "Praktijkhal Sint-Lucas", "Ottergemsesteenweg 120", "9000", "cnc",
     ("CNC-atelier met 6 draaibanken", "workshop", 12, "free", 0, 6500,
      ["mechanische-vormgeving", "mechanische-vormgevingstechnieken", "productie-industrie"],
      "Het CNC-atelier van de school, van maandag tot donderdag open voor klassen van andere scholen.")),
    ("go-ta-vilvoorde", "GO-VIL", "Elektrohal GO! Vilvoorde", "Mechelsesteenweg 90", "1800", "electrical-installations",
     ("Elektrolokaal met 12 bordopstellingen", "workshop", 12, "free", 0, 3500,
      ["elektrische-installaties", "elektrotechnieken", "elektromechanische-technieken"],
      "Twaalf bordopstellingen voor huisinstallaties en sturingen; de school deelt ze met scholen uit de buurt.")),
]

SOURCES = "Gemiddelde van drie offertes van privé-opleidingscentra (2025), per uur voor een klasgroep."
COLOURS = ["#1f5f8b", "#2e7d32", "#8e24aa", "#c62828", "#ef6c00", "#00838f", "#5d4037"]


def _photo_bytes(title: str, colour: str) -> bytes:
    image = Image.new("RGB", (640, 400), colour)
    draw = ImageDraw.Draw(image)
    for step in range(0, 640, 40):
        draw.line([(step, 400), (step + 200, 0)], fill=(255, 255, 255), width=1)
    draw.rectangle([20, 300, 620, 380], fill=(255, 255, 255))
    draw.text((36, 328), title[:60], fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _sites(copy: int) -> list[tuple[str, str, str, str, str, list[tuple[str, tuple]]]]:
    """The facilities of one copy of the demo: (owner slug, code, name, street, postal code, and
    the resources as (category, catalogue item)); the schools' own workshops last."""
    sites = [(owner, code, name, street, pc, [(c, item) for c in cats for item in CATALOGUE[c]])
             for owner, code, name, street, pc, cats in FACILITIES]
    suffix = "" if copy == 0 else f"-{copy + 1}"  # the school's copy, as demo.organisations names it
    sites += [(school + suffix, code, name, street, pc, [(category, item)])
              for school, code, name, street, pc, category, item in SCHOOL_FACILITIES]
    return sites


def _funding(owner_slug: str, owner_kind: str) -> str:
    """Who paid for the infrastructure: the report's boundaries tell sector, government, company
    and school infrastructure apart."""
    if owner_kind == "school":
        return "school"
    return "government" if owner_slug == "technologiecampus-genk" else (
        "company" if owner_slug == "proceslab-antwerpen" else "sector")


async def load(uow, scale: int = 1) -> None:
    orgs = await Organisation.objects().where(
        Organisation.kind.is_in(["sector_fund", "training_centre", "company", "government", "school"]))
    owners = {o.slug: o.id for o in orgs}
    kinds = {o.slug: o.kind for o in orgs}
    categories = {c.slug: c.id for c in await Category.objects()}
    programmes = {p.slug: p.id for p in await StudyProgramme.objects()}
    welding = Qualification(owner=owners["metaalcampus-gent"], name="Veiligheidsinstructie lassen",
                            description="Een halve dag: afzuiging, brandpreventie en persoonlijke bescherming.")
    process = Qualification(owner=owners["proceslab-antwerpen"], name="Wegwijssessie procesinstallatie",
                            description="Gratis wegwijssessie voor leerkrachten die met een klas komen.")
    await Qualification.insert(welding, process)
    teacher = await User.objects().where(User.email == "leerkracht@demo.werkbank.be").first()
    if teacher is not None:
        await QualificationGrant.insert(QualificationGrant(
            qualification=welding.id, teacher=teacher.id, expires_on=(uow.now() + timedelta(days=365)).date()))
    week = parse_week(WEEKDAYS)
    week_short = parse_week("ma-do 08:00-16:00; vr 08:00-12:00")
    today = uow.now().astimezone(BRUSSELS).date()
    counter = 0
    for copy in range(scale):
        for owner_slug, code, name, street, postal_code, items in _sites(copy):
            area = locate(postal_code)
            point = postal_code_point(postal_code)
            suffix = "" if copy == 0 else f"-{copy + 1}"
            facility = Facility(
                owner=owners[owner_slug], external_id=code + suffix,
                name=name if copy == 0 else f"{name} (site {copy + 1})", street=street, postal_code=postal_code,
                municipality=area.municipality, region_code=area.region.code,
                latitude=point[0], longitude=point[1], contact_email=f"scholen@{owner_slug}.demo.werkbank.be",
                description="Opleidingsinfrastructuur open voor scholen.",
            )
            await facility.save()
            resources, links, hours = [], [], []
            for category, item in items:
                title, kind, capacity, model, price, alternative, progs, description = item
                counter += 1
                resources.append((Resource(
                    facility=facility.id, external_id=f"{code}{suffix}-{counter}", name=title, kind=kind,
                    category=categories[category], description=description, capacity=capacity,
                    needs_approval=model != "free", min_notice_hours=48 if model != "free" else 24,
                    max_advance_days=240, min_duration_minutes=60, max_duration_minutes=480 if kind != "workshop" else 2400,
                    default_duration_minutes=240 if kind == "workshop" else 120,
                    buffer_minutes=30 if kind == "machine" else 0, price_model=model, price_cents=price,
                    funding=_funding(owner_slug, kinds[owner_slug]),
                    alternative_cost_cents=alternative, alternative_cost_unit="per_hour",
                    alternative_cost_source=SOURCES,
                    required_qualification=welding.id if category == "welding" and kind == "workshop" else (
                        process.id if category == "process-technology" else None),
                ), progs))
            await Resource.insert(*[r for r, _p in resources])
            for index, (resource, progs) in enumerate(resources):
                links += [ResourceProgramme(resource=resource.id, programme=programmes[p]) for p in progs]
                for day, spans in (week_short if index % 3 == 2 else week).items():
                    hours += [OpeningHours(resource=resource.id, weekday=day, opens=a, closes=b) for a, b in spans]
            await ResourceProgramme.insert(*links)
            await OpeningHours.insert(*hours)
            first = resources[0][0]
            if copy == 0:
                await Photo.insert(*[Photo(resource=r.id, content=data, content_type="image/png", width=640, height=400,
                                           size=len(data), caption=r.name)
                                     for r, data in ((r, _photo_bytes(r.name, COLOURS[i % len(COLOURS)]))
                                                     for i, (r, _p) in enumerate(resources[:3]))])
                start = datetime.combine(today + timedelta(days=9 - today.weekday()), time(0, 0), BRUSSELS)
                await Closure.insert(Closure(resource=first.id, starts_at=start, ends_at=start + timedelta(days=1),
                                             reason="Jaarlijks onderhoud"))
                christmas = datetime(today.year if today.month < 12 or today.day < 24 else today.year + 1, 12, 24,
                                     tzinfo=BRUSSELS)
                await Closure.insert(*[Closure(resource=r.id, starts_at=christmas, ends_at=christmas + timedelta(days=12),
                                               reason="Kerstvakantie") for r, _p in resources])
    await _search_records(uow, scale)


# Where the demo's searches start from: postal codes typed (a school's, mostly), with a radius.
SEARCH_POSTAL_CODES = ["9000", "9300", "9100", "2000", "2300", "2800", "2440", "3000", "1800", "3500", "3600",
                       "8000", "8500", "8800"]
SEARCHED_CATEGORIES = ["welding", "cnc", "cobots-robotics", "automotive", "bakery-food", "forklifts-logistics",
                       "process-technology", "electrical-installations", "plc-automation", ""]  # "": any category
SEARCHES = 36  # per copy of the demo


async def _search_records(uow, scale: int) -> None:
    """Searches for free time that found nothing (SEARCHES per copy), over the school year so far
    (at least the past two months): a category (or any), sometimes a study programme it serves,
    a region, and for about a third a typed postal code with a radius; the wanted time a few days
    to five weeks after the search. As inventory.search keeps them: the hour searched, no person,
    `found` 0, `matched` the resources that fitted but were taken; each fingerprint unique."""
    dice = random.Random(20261130)  # the same searches every time
    moment = uow.now()
    today = moment.astimezone(BRUSSELS).date()
    days = max(60, (today - date(today.year if today.month >= 9 else today.year - 1, 9, 1)).days)
    rows = []
    for index in range(SEARCHES * scale):
        category = dice.choice(SEARCHED_CATEGORIES)
        served = sorted({p for item in CATALOGUE.get(category, []) for p in item[6]})
        programme = dice.choice(served) if served and dice.random() < 0.35 else ""
        roll = dice.random()
        postal_code, radius = "", None
        if roll < 0.35:
            postal_code, radius = dice.choice(SEARCH_POSTAL_CODES), dice.choice([15, 25, 40])
            region = locate(postal_code).region.code
        else:
            region = dice.choice(sorted(REGIONS)) if roll < 0.92 else ""  # a few searched without a place
        day = today - timedelta(days=dice.randrange(1, days))
        searched = datetime.combine(day, time(dice.randrange(8, 21)), BRUSSELS)
        wanted = _weekday(day + timedelta(days=dice.randrange(3, 36)))
        free_from = datetime.combine(wanted, dice.choice([time(8, 30), time(13, 0)]), BRUSSELS)
        free_to = free_from + (timedelta(hours=dice.choice([2, 3])) if dice.random() < 0.7 else timedelta(days=2, hours=3))
        filters = ["demo", str(index), category, programme, region, postal_code, str(radius or 0), searched.isoformat()]
        rows.append(SearchRecord(
            fingerprint=hashlib.sha256("\x1f".join(filters).encode()).hexdigest(), searched_at=searched,
            category=category, study_programme=programme, region_code=region, postal_code=postal_code,
            radius_km=radius, free_from=free_from, free_to=free_to,
            matched=dice.randint(1, 4) if category else dice.randint(3, 12), found=0))
    for start in range(0, len(rows), 500):
        await SearchRecord.insert(*rows[start:start + 500])


def _weekday(day: date) -> date:
    """The day itself, or the Monday after when it falls in a weekend."""
    return day + timedelta(days=(7 - day.weekday()) % 7) if day.weekday() >= 5 else day
