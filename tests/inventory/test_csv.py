import asyncio
import csv
import io
import json

import pytest
from click.testing import CliRunner

from cli import main
from core.db import bind_engine
from inventory.tables import Facility, OpeningHours, Resource
from tests.conftest import csrf, login

HEADER = ("owner;facility_id;facility_name;facility_street;facility_postal_code;resource_id;name;kind;category;"
          "capacity;study_programmes;needs_approval;opening_hours;price_model;price;alternative_cost;"
          "alternative_cost_source\n")
ROWS = [
    "metaal;ZWN;Metaalcampus;Technologiepark 40;9052;ZWN-1;CNC-draaibank;machine;cnc;4;mechatronica;ja;"
    "ma-vr 08:00-16:30;per_hour;35,00;90;Offertes 2025\n",
    "metaal;ZWN;Metaalcampus;Technologiepark 40;9052;ZWN-2;Lasatelier;workshop;welding;12;lassen-constructie;nee;"
    "ma-do 08:00-16:00;per_half_day;180;95;Offertes 2025\n",
    "metaal;AAL;Lascentrum Aalst;Erembodegemstraat 20;9300;AAL-1;Lassimulator;equipment;welding;8;;ja;"
    "ma-vr 08:00-16:30;free;;30;Offertes 2025\n",
]


def _csv(*rows: str, header: str = HEADER) -> bytes:
    return (header + "".join(rows)).encode()


async def _import(client, org, content: bytes):
    token = await csrf(client, "/inventory/")
    return await client.post(f"/inventory/import?owner={org.id}", data={"_csrf_token": token},
                             files={"file": ("aanbod.csv", content, "text/csv")})


@pytest.fixture
async def owner_in(client, create_user, owner_org):
    org = await owner_org(slug="metaal")
    await create_user("owner_staff", org=org, email="staff@metaal.be")
    await login(client, "staff@metaal.be")
    return org


async def test_import_then_import_again_changes_nothing(client, owner_in):
    response = await _import(client, owner_in, _csv(*ROWS))
    assert response.status_code == 200
    assert "Nieuwe infrastructuur: <strong>3</strong>" in response.text
    assert await Facility.count() == 2 and await Resource.count() == 3
    assert await OpeningHours.count() == 5 + 4 + 5
    response = await _import(client, owner_in, _csv(*ROWS))
    assert "Ongewijzigde infrastructuur: <strong>3</strong>" in response.text
    assert "Nieuwe infrastructuur: <strong>0</strong>" in response.text
    assert await Facility.count() == 2 and await Resource.count() == 3

    changed = ROWS[0].replace("35,00", "40,00")
    response = await _import(client, owner_in, _csv(changed, *ROWS[1:]))
    assert "Gewijzigde infrastructuur: <strong>1</strong>" in response.text
    assert (await Resource.objects().where(Resource.external_id == "ZWN-1").first()).price_cents == 4000


async def test_rejected_rows_are_reported_with_line_and_reason(client, owner_in):
    bad = [
        ROWS[0],
        "metaal;ZWN;Metaalcampus;Technologiepark 40;9052;ZWN-9;Zonder categorie;machine;bestaat-niet;4;;ja;;free;;;\n",
        "metaal;X;Buiten Vlaanderen;Rue 1;4000;X-1;Iets;machine;cnc;4;;ja;;free;;;\n",
        "anders;Y;Elders;Straat 1;9000;Y-1;Iets;machine;cnc;4;;ja;;free;;;\n",
        ROWS[0],
    ]
    response = await _import(client, owner_in, _csv(*bad))
    assert "Geweigerde regels: <strong>4</strong>" in response.text
    assert "<td class=\"num\">3</td><td>category: Onbekende categorie bestaat-niet.</td>" in response.text
    assert "Werkbank dekt Vlaanderen en Brussel; 4000 ligt daarbuiten." in response.text
    assert "Deze regel hoort bij anders, niet bij metaal." in response.text
    assert "resource_id ZWN-1 staat twee keer in het bestand." in response.text
    assert await Resource.count() == 1


@pytest.mark.parametrize("content, message", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00binary", "kan niet als tekst gelezen worden"),
    (b"naam,prijs\nCNC,12\n", "Het bestand mist de kolommen"),
    (b"", "Kies een CSV-bestand."),
])
async def test_an_unreadable_file_imports_nothing(client, owner_in, content, message):
    response = await _import(client, owner_in, content)
    assert response.status_code == 422
    assert message in response.text
    assert await Facility.count() == 0 and await Resource.count() == 0


async def test_export_then_import_is_a_round_trip(client, owner_in):
    await _import(client, owner_in, _csv(*ROWS))
    exported = await client.get(f"/inventory/export.csv?owner={owner_in.id}")
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    text = exported.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("owner;facility_id;facility_name")
    assert "ma-vr 08:00-16:30" in text and "35,00" in text
    response = await _import(client, owner_in, exported.content)
    assert "Ongewijzigde infrastructuur: <strong>3</strong>" in response.text


async def test_the_command_line_import_reports_and_changes_nothing_twice(db, tmp_path, monkeypatch, owner_org):
    await owner_org(slug="metaal")
    path = tmp_path / "aanbod.csv"
    path.write_bytes(_csv(*ROWS, "metaal;ZWN;Metaalcampus;;9052;ZWN-3;Fout;machine;cnc;nul;;ja;;free;;;\n"))
    monkeypatch.setenv("WERKBANK_DATABASE_URL", db.url)
    monkeypatch.setenv("WERKBANK_DATA_DIR", str(tmp_path))

    def run(*args):
        try:
            return CliRunner().invoke(main, list(args), catch_exceptions=False)
        finally:
            bind_engine(db.engine)

    first = await asyncio.to_thread(run, "import", "inventory", str(path))
    assert first.exit_code == 3  # some rows were rejected
    assert "3 nieuw, 0 gewijzigd, 0 ongewijzigd, 1 geweigerd" in first.output
    assert "regel 5: capacity: Geef een geheel getal." in first.output
    second = await asyncio.to_thread(run, "import", "inventory", str(path))
    assert "0 nieuw, 0 gewijzigd, 3 ongewijzigd, 1 geweigerd" in second.output
    missing = await asyncio.to_thread(run, "import", "inventory", str(tmp_path / "nergens.csv"))
    assert missing.exit_code == 2
    assert json.dumps(await Resource.count()) == "3"


async def test_formula_cells_are_stored_as_text_and_exported_so_spreadsheets_do_not_run_them(client, owner_in):
    formulas = ["=CMD|' /C calc'!A0", "+SUM(1;2)", "@SUM(1)", "=HYPERLINK(\"http://x\")"]
    rows = [ROWS[0].replace("CNC-draaibank", name.replace(";", ",")).replace("ZWN-1", f"F-{n}")
            for n, name in enumerate(formulas)]
    response = await _import(client, owner_in, _csv(*rows))
    assert "Nieuwe infrastructuur: <strong>4</strong>" in response.text
    names = sorted(r["name"] for r in await Resource.select(Resource.name))
    assert names == sorted(f.replace(";", ",") for f in formulas)  # kept as the text it is
    exported = (await client.get(f"/inventory/export.csv?owner={owner_in.id}")).content.decode("utf-8-sig")
    cells = sorted(row["name"] for row in csv.DictReader(io.StringIO(exported), delimiter=";"))
    assert cells == ["'" + name for name in names]  # an apostrophe first: a spreadsheet shows text
    again = await _import(client, owner_in, exported.encode("utf-8-sig"))
    assert "Ongewijzigde infrastructuur: <strong>4</strong>" in again.text  # the escape comes off again


async def test_a_rejected_row_leaves_nothing_of_itself_behind(client, owner_in):
    # A new facility with a resource in an unknown category: the facility must not stay.
    lonely = "metaal;NEW;Nieuwe campus;Straat 1;9000;NEW-1;Iets;machine;bestaat-niet;4;;ja;;free;;;\n"
    control = ROWS[1].replace("Lasatelier", "Las\x07atelier")
    response = await _import(client, owner_in, _csv(ROWS[0], lonely, control))
    assert "Geweigerde regels: <strong>2</strong>" in response.text
    assert "onzichtbare controletekens" in response.text
    assert [f["name"] for f in await Facility.select(Facility.name)] == ["Metaalcampus"]
    assert await Resource.count() == 1


async def test_a_file_over_the_row_limit_imports_nothing(client, owner_in):
    rows = [ROWS[0].replace("ZWN-1", f"R-{n}") for n in range(5001)]
    response = await _import(client, owner_in, _csv(*rows))
    assert response.status_code == 422 and "hoogstens 5000 regels" in response.text
    assert await Resource.count() == 0


async def test_a_large_import_runs_as_a_job_the_owner_follows(client, owner_in, wb, create_user, owner_org):
    from inventory.csvio import IMPORT_BATCH, INLINE_ROWS

    count = max(INLINE_ROWS, IMPORT_BATCH * 2) + 5
    rows = [ROWS[0].replace("ZWN-1", f"R-{n}") for n in range(count)]
    response = await _import(client, owner_in, _csv(*rows))
    assert "Je bestand wordt ingelezen" in response.text and "Wacht om te beginnen" in response.text
    status_url = response.url.path
    assert await Resource.count() == 0  # the page answered at once; the job does the work
    polled = await client.get(status_url, headers={"HX-Request": "true"})
    assert "<progress" in polled.text and "<html" not in polled.text  # htmx polls the fragment
    ran = await wb.jobs.run("inventory.imports")
    assert ran.ran and ran.result == 1
    done = await client.get(status_url)
    assert f"Nieuwe infrastructuur: <strong>{count}</strong>" in done.text and "<progress" not in done.text
    assert await Resource.count() == count
    # another owner's staff does not see it
    other = await owner_org(slug="bouw", name="Bouwcampus")
    await create_user("owner_staff", org=other, email="staff@bouw.be")
    await client.post("/logout", data={"_csrf_token": await csrf(client, "/account")})
    await login(client, "staff@bouw.be")
    assert (await client.get(status_url)).status_code == 404
