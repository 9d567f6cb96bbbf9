"""The `werkbank` command as users and scripts call it (INTERFACES.md)."""

import json

import pytest
from click.testing import CliRunner

from cli import main
from core.db import bind_engine


@pytest.fixture
def werkbank(db, tmp_path, monkeypatch):
    monkeypatch.setenv("WERKBANK_DATABASE_URL", db.url)
    monkeypatch.setenv("WERKBANK_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WERKBANK_SECRET_KEY", "cli-test-secret-key-that-is-long-enough-0123")
    runner = CliRunner()

    def run(*args, input=None):
        try:
            return runner.invoke(main, list(args), input=input, catch_exceptions=False)
        finally:
            bind_engine(db.engine)  # the command bound its own engine

    return run


def test_demo_loads_once_and_lists_the_logins(werkbank):
    result = werkbank("demo")
    assert result.exit_code == 0, result.output
    assert "leerkracht@demo.werkbank.be" in result.output
    orgs = json.loads(werkbank("orgs", "list", "--json").output)
    kinds = {}
    for org in orgs:
        kinds[org["kind"]] = kinds.get(org["kind"], 0) + 1
    assert kinds["rtc"] == 5 and kinds["provider"] == 5 and kinds["school"] >= 30
    assert {o["region"] for o in orgs if o["kind"] == "school"} == {"VAN", "VBR", "VWV", "VOV", "VLI"}
    assert {o["network"] for o in orgs if o["kind"] == "school"} == {"katholiek", "go", "ovsg", "pov", "oko"}
    beveren = next(o for o in orgs if o["postal_code"] == "2070")
    assert beveren["region"] == "VOV"  # East Flanders since the 2025 merger
    brussels = next(o for o in orgs if o["kind"] == "school" and o["postal_code"] == "1000")
    assert brussels["region"] == "VBR"  # served by RTC Vlaams-Brabant
    users = json.loads(werkbank("users", "list", "--json").output)
    assert {u["role"] for u in users} == {"teacher", "school_admin", "owner_staff", "provider_staff",
                                          "rtc_staff", "platform_admin"}
    again = werkbank("demo")
    assert again.exit_code == 1 and "niet leeg" in again.output
    assert werkbank("demo", "--if-empty").exit_code == 0


async def test_demo_invoices_are_numbered_per_owner_and_add_up(wb):
    import demo
    from payments.tables import BillingSettings, Invoice, Payment

    await demo.load(wb)
    invoices = await Invoice.select(Invoice.owner, Invoice.number, Invoice.net_cents, Invoice.vat_cents,
                                    Invoice.total_cents, Invoice.payment.amount_cents.as_alias("paid"))
    assert invoices and len(invoices) == await Payment.count().where(Payment.provider == "invoice")
    for owner in {row["owner"] for row in invoices}:
        numbers = sorted(row["number"] for row in invoices if row["owner"] == owner)
        assert numbers == list(range(1, len(numbers) + 1))  # no gaps, no doubles
        settings = await BillingSettings.objects().where(BillingSettings.organisation == owner).first()
        assert settings.next_number == len(numbers) + 1
    assert all(r["net_cents"] + r["vat_cents"] == r["total_cents"] == r["paid"] for r in invoices)


def test_create_a_user_with_the_password_from_stdin(werkbank):
    werkbank("demo")
    result = werkbank("users", "create", "nieuw@school.be", "--role", "teacher", "--org", "go-ta-aalst",
                      "--name", "An Smet", input="een sterk wachtwoord\n")
    assert result.exit_code == 0, result.output
    users = json.loads(werkbank("users", "list", "--role", "teacher", "--json").output)
    mine = next(u for u in users if u["email"] == "nieuw@school.be")
    assert mine == {"email": "nieuw@school.be", "name": "An Smet", "active": True, "role": "teacher",
                    "organisation": "go-ta-aalst"}


@pytest.mark.parametrize("args, message", [
    (["--role", "teacher", "--org", "rtc-limburg"], "past niet bij een organisatie van de soort rtc"),
    (["--role", "teacher"], "heeft een organisatie nodig"),
    (["--role", "teacher", "--org", "bestaat-niet"], "Geen enkele organisatie heeft de slug bestaat-niet"),
])
def test_users_create_refuses_what_does_not_fit(werkbank, args, message):
    werkbank("demo")
    result = werkbank("users", "create", "x@school.be", *args, input="een sterk wachtwoord\n")
    assert result.exit_code == 1
    assert message in result.output


def test_a_short_password_is_refused(werkbank):
    werkbank("demo")
    result = werkbank("users", "create", "x@school.be", "--role", "platform_admin", input="kort\n")
    assert result.exit_code == 1 and "minstens 10 tekens" in result.output


async def test_tokens_create_and_revoke_from_the_command_line(werkbank, client):
    import asyncio

    def cli(*args):  # the command runs its own event loop: give it a thread
        return asyncio.to_thread(werkbank, *args)

    await cli("demo")
    token = (await cli("tokens", "create", "leerkracht@demo.werkbank.be", "--name", "rooster")).output.strip()
    assert token.startswith("wb_")
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/me", headers=headers)).json()["email"] == "leerkracht@demo.werkbank.be"
    result = await cli("tokens", "revoke", "leerkracht@demo.werkbank.be", "--name", "rooster")
    assert "1 token(s) ingetrokken." in result.output
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401
    assert (await cli("tokens", "create", "niemand@school.be")).exit_code == 1


def test_migrate_twice_changes_nothing(werkbank):
    assert werkbank("migrate").exit_code == 0
    assert werkbank("migrate").exit_code == 0


def test_jobs_lists_each_job_with_its_last_and_next_run(werkbank):
    before = json.loads(werkbank("jobs", "--json").output)
    assert {job["name"] for job in before} == {
        "outbox", "accounts.password_resets", "booking.expiry", "booking.reminders", "inventory.imports",
        "calendars.sync", "calendars.write_back", "payments.deadlines", "payments.stripe", "inventory.search_records"}
    assert all(job["last_run"] is None and job["runs"] == 0 for job in before)
    table = werkbank("jobs")
    assert table.exit_code == 0 and "outbox" in table.output and "nooit" in table.output


def test_jobs_shows_a_run_and_its_error(werkbank, wb):
    import asyncio

    async def broken(uow, batch):
        raise RuntimeError("smtp down")

    async def run_two():
        await wb.jobs.run("booking.expiry")
        wb.jobs.jobs["outbox"].run = broken
        await wb.jobs.run("outbox")

    asyncio.run(run_two())
    rows = {job["name"]: job for job in json.loads(werkbank("jobs", "--json").output)}
    assert rows["booking.expiry"]["runs"] == 1 and rows["booking.expiry"]["last_run"]
    assert rows["booking.expiry"]["next_run"] > rows["booking.expiry"]["last_run"]
    assert rows["outbox"]["last_error"] == "RuntimeError: smtp down"
    assert rows["booking.reminders"]["runs"] == 0
