"""The category list and the study programmes of technical and vocational secondary education
in Flanders: third grade with labour-market finality (A) and double finality (D/A), and 7th
years. Names of programmes as on onderwijskiezer.be. `sync_taxonomy` adds what is missing."""

from __future__ import annotations

# (slug, Dutch name, English name)
CATEGORIES: list[tuple[str, str, str]] = [
    ('cnc', 'CNC-verspaning', 'CNC machining'),
    ('welding', 'Lassen', 'Welding'),
    ('cobots-robotics', 'Cobots en robotica', 'Cobots and robotics'),
    ('plc-automation', 'PLC en automatisering', 'PLC and automation'),
    ('process-technology', 'Procestechniek en pilootinstallaties', 'Process technology pilot plants'),
    ('refrigeration-heating', 'Koel- en warmtetechniek', 'Refrigeration and heating'),
    ('electrical-installations', 'Elektrische installaties', 'Electrical installations'),
    ('wood-processing', 'Houtbewerking', 'Wood processing'),
    ('bakery-food', 'Bakkerij- en voedingslijnen', 'Bakery and food lines'),
    ('automotive', 'Autotechniek', 'Automotive'),
    ('construction', 'Bouw en afwerking', 'Construction and finishing'),
    ('forklifts-logistics', 'Heftrucks en logistiek', 'Forklifts and logistics'),
    ('chemistry-biotech-labs', 'Labo chemie en biotechnologie', 'Chemistry and biotech labs'),
    ('industrial-ict', 'Industriële ICT en netwerken', 'Industrial ICT and networks'),
    ('additive-manufacturing', '3D-printen en prototyping', '3D printing and prototyping'),
]

# (slug, name, finality: A, D/A or 7 for a 7th year / Se-n-Se)
STUDY_PROGRAMMES: list[tuple[str, str, str]] = [
    ('elektrische-installaties', 'Elektrische installaties', 'A'),
    ('koelinstallaties', 'Koelinstallaties', 'A'),
    ('lassen-constructie', 'Lassen-constructie', 'A'),
    ('mechanische-vormgeving', 'Mechanische vormgeving', 'A'),
    ('onderhoudsmechanica-auto', 'Onderhoudsmechanica auto', 'A'),
    ('sanitaire-en-verwarmingsinstallaties', 'Sanitaire en verwarmingsinstallaties', 'A'),
    ('preventief-onderhoud-machines-en-installaties', 'Preventief onderhoud machines en installaties', 'A'),
    ('productie-industrie', 'Productie-industrie', 'A'),
    ('koetswerk', 'Koetswerk', 'A'),
    ('binnenschrijnwerk-en-interieur', 'Binnenschrijnwerk en interieur', 'A'),
    ('ruwbouw', 'Ruwbouw', 'A'),
    ('afwerking-bouw', 'Afwerking bouw', 'A'),
    ('datacommunicatie-en-netwerkinstallaties', 'Datacommunicatie en netwerkinstallaties', 'A'),
    ('brood-en-banketbakkerij', 'Brood- en banketbakkerij', 'A'),
    ('slagerij', 'Slagerij', 'A'),
    ('restaurant-en-keuken', 'Restaurant en keuken', 'A'),
    ('grootkeuken-en-catering', 'Grootkeuken en catering', 'A'),
    ('elektromechanische-technieken', 'Elektromechanische technieken', 'D/A'),
    ('elektrotechnieken', 'Elektrotechnieken', 'D/A'),
    ('houttechnieken', 'Houttechnieken', 'D/A'),
    ('autotechnieken', 'Autotechnieken', 'D/A'),
    ('biotechnologische-en-chemische-technieken', 'Biotechnologische en chemische technieken', 'D/A'),
    ('industriele-ict', 'Industriële ICT', 'D/A'),
    ('koel-en-warmtetechnieken', 'Koel- en warmtetechnieken', 'D/A'),
    ('mechatronica', 'Mechatronica', 'D/A'),
    ('mechanische-vormgevingstechnieken', 'Mechanische vormgevingstechnieken', 'D/A'),
    ('bakkerijtechnieken', 'Bakkerijtechnieken', 'D/A'),
    ('elektronicatechnieken', 'Elektronicatechnieken', 'D/A'),
    ('bouwtechnieken', 'Bouwtechnieken', 'D/A'),
    ('chemische-procestechnieken', 'Chemische procestechnieken', '7'),
]


async def sync_taxonomy() -> None:
    """Inserts the categories and programmes that are not in the database yet (by slug)."""
    from inventory.tables import Category, StudyProgramme

    have = {row["slug"] for row in await Category.select(Category.slug)}
    new = [Category(slug=s, name_nl=nl, name_en=en, position=i)
           for i, (s, nl, en) in enumerate(CATEGORIES) if s not in have]
    if new:
        await Category.insert(*new)
    have = {row["slug"] for row in await StudyProgramme.select(StudyProgramme.slug)}
    new = [StudyProgramme(slug=s, name=n, finality=f) for s, n, f in STUDY_PROGRAMMES if s not in have]
    if new:
        await StudyProgramme.insert(*new)


def programme_choices() -> list[tuple[str, str, str]]:
    """(slug, name, finality) of every study programme, in the catalogue's order (accounts asks
    this for the school bill)."""
    return list(STUDY_PROGRAMMES)
