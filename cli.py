"""The `werkbank` command (INTERFACES.md): serve, migrate, demo, users, orgs, tokens, import, worker, jobs,
report."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import sys

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from core import db
from core import logging as wb_logging
from core.errors import DomainError
from core.registry import Werkbank
from core.settings import Settings, SettingsError

console = Console()
err = Console(stderr=True)


def _settings() -> Settings:
    wb_logging.configure(os.environ.get("WERKBANK_LOG_FORMAT", "text"), os.environ.get("WERKBANK_LOG_LEVEL", "INFO"))
    try:
        return Settings.from_env()
    except SettingsError as exc:
        err.print(f"[red]Configuratiefout:[/red] {escape(str(exc))}")
        sys.exit(2)


def with_database(func):
    """Runs an async command against the configured database with the app's parts (a Werkbank:
    settings, engine, clock, jobs, events), acting as the platform; domain errors become a message
    and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        settings = _settings()

        async def run():
            from app import create_app

            app = create_app(settings.with_(in_process_worker=False))
            return await func(app.state.werkbank, *args, **kwargs)

        try:
            return asyncio.run(run())
        except DomainError as exc:
            err.print(f"[red]Fout:[/red] {escape(str(exc))}")
            sys.exit(1)

    return wrapper


def _system(wb: Werkbank):
    """A unit of work acting as the platform (audit entries name it werkbank-cli)."""
    from accounts.services import system_actor

    return wb.unit_of_work(system_actor())


@click.group(help="Werkbank: gedeelde opleidingsinfrastructuur voor scholen.")
def main() -> None:
    pass


@main.command(help="Past alle databankmigraties toe.")
@with_database
async def migrate(wb: Werkbank) -> None:
    await db.migrate()
    console.print(f"Databank bijgewerkt ({wb.settings.database_engine}).")


@main.command(help="Migreert en serveert de app.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="aantal app-processen")
@click.option("--no-worker", is_flag=True, help="geen achtergrondtaken in dit proces (draai `werkbank worker` apart)")
def serve(host: str, port: int, workers: int, no_worker: bool) -> None:
    import uvicorn

    from core.logging import uvicorn_log_config

    settings = _settings()

    async def run_migrations():
        db.bind_engine(db.engine_from_url(settings.database_url))
        await db.migrate()

    asyncio.run(run_migrations())
    if no_worker:
        os.environ["WERKBANK_IN_PROCESS_WORKER"] = "0"
    console.print(f"Werkbank draait op http://{host}:{port} ({settings.database_engine}, {workers} proces(sen)).")
    uvicorn.run(
        "app:create_app", factory=True, host=host, port=port, workers=workers,
        proxy_headers=True, forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        log_level=settings.log_level.lower(), log_config=uvicorn_log_config(),
    )


@main.command(help="Laadt de demodata in een lege databank.")
@click.option("--scale", default=1, show_default=True, type=click.IntRange(1, 100), help="vermenigvuldigt de data")
@click.option("--if-empty", is_flag=True, help="sla over (zonder fout) als er al data is")
@with_database
async def demo(wb: Werkbank, scale: int, if_empty: bool) -> None:
    import demo as demo_data

    await db.migrate()
    if not await demo_data.database_is_empty():
        if not if_empty:
            err.print("[red]Fout:[/red] de databank is niet leeg; de demodata gaat alleen in een lege databank.")
            sys.exit(1)
        console.print("De databank bevat al data; demodata niet opnieuw geladen.")
    else:
        with console.status("Demodata laden..."):
            await demo_data.load(wb, scale)
        console.print(f"Demodata geladen (schaal {scale}).")
    click.echo(f"\nDemo-aanmeldingen (wachtwoord voor allemaal: {demo_data.DEMO_PASSWORD}):")
    for login in demo_data.LOGINS:
        click.echo(f"  {login.email:<40} {login.role.value:<15} {login.organisation or '-'}")
    click.echo("")


@main.command(help="Voert achtergrondtaken uit tot hij gestopt wordt (mail-outbox, ...).")
@with_database
async def worker(wb: Werkbank) -> None:
    from core.worker import Worker

    await db.start(wb.engine)
    console.print("Worker gestart; stop met Ctrl+C.")
    try:
        await Worker(wb).run_forever()
    finally:
        await db.stop(wb.engine)


@main.command(help="Lijst van de geplande taken met hun laatste en volgende beurt en laatste fout.")
@click.option("--json", "as_json", is_flag=True)
@with_database
async def jobs(wb: Werkbank, as_json: bool) -> None:
    rows = await wb.jobs.overview()
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = RichTable()
    for column in ("taak", "elke", "laatste beurt", "volgende beurt", "beurten", "laatste fout"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["name"], f"{row['every_seconds']} s", row["last_run"] or "nog nooit",
                      row["next_run"] or "nu", str(row["runs"]), row["last_error"] or "—")
    console.print(table)


# --- users -----------------------------------------------------------------------------------

@main.group(help="Gebruikers.")
def users() -> None:
    pass


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Wachtwoord", hide_input=True, confirmation_prompt="Herhaal het wachtwoord")
    return sys.stdin.readline().rstrip("\n")


@users.command("create", help="Maakt een gebruiker; het wachtwoord komt van stdin.")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(
    ["teacher", "school_admin", "owner_staff", "provider_staff", "rtc_staff", "platform_admin"]))
@click.option("--org", "org", default=None, help="slug van de organisatie")
@click.option("--name", default="", help="voor- en achternaam")
def users_create(email: str, role: str, org: str | None, name: str) -> None:
    password = _read_password()

    @with_database
    async def run(wb: Werkbank) -> None:
        from accounts import services

        first, _sep, last = name.strip().partition(" ")
        user = await services.create_user(_system(wb), email, password, role, org, first_name=first, last_name=last)
        console.print(f"Gebruiker {user.email} aangemaakt met rol {role}" + (f" bij {org}." if org else "."))

    run()


@users.command("list", help="Lijst van gebruikers met hun rollen en organisaties.")
@click.option("--role", default=None)
@click.option("--json", "as_json", is_flag=True)
@with_database
async def users_list(wb: Werkbank, role: str | None, as_json: bool) -> None:
    from accounts import services

    rows = await services.list_users(role)
    items = [{
        "email": row["user.email"],
        "name": f"{row['user.first_name']} {row['user.last_name']}".strip(),
        "active": row["user.active"],
        "role": row["role"],
        "organisation": row["organisation.slug"],
    } for row in rows]
    if as_json:
        click.echo(json.dumps(items, ensure_ascii=False, indent=2))
        return
    table = RichTable()
    for column in ("e-mail", "naam", "rol", "organisatie", "actief"):
        table.add_column(column)
    for item in items:
        table.add_row(item["email"], item["name"], item["role"], item["organisation"] or "—",
                      "ja" if item["active"] else "nee")
    console.print(table)


# --- organisations ---------------------------------------------------------------------------

@main.group(help="Organisaties.")
def orgs() -> None:
    pass


@orgs.command("list", help="Lijst van organisaties met soort, slug, net en postcode.")
@click.option("--kind", default=None, type=click.Choice(
    ["school", "sector_fund", "training_centre", "company", "government", "provider", "rtc"]))
@click.option("--json", "as_json", is_flag=True)
@with_database
async def orgs_list(wb: Werkbank, kind: str | None, as_json: bool) -> None:
    from accounts import services

    rows = await services.list_organisations(kind)
    items = [{
        "slug": o.slug, "name": o.name, "kind": o.kind, "network": o.network or None,
        "postal_code": o.postal_code, "municipality": o.municipality, "region": o.region_code or None,
    } for o in rows]
    if as_json:
        click.echo(json.dumps(items, ensure_ascii=False, indent=2))
        return
    table = RichTable()
    for column in ("slug", "naam", "soort", "net", "postcode", "gemeente", "regio"):
        table.add_column(column)
    for item in items:
        table.add_row(item["slug"], item["name"], item["kind"], item["network"] or "—", item["postal_code"],
                      item["municipality"], item["region"] or "—")
    console.print(table)


# --- API tokens ------------------------------------------------------------------------------

@main.group(help="API-tokens.")
def tokens() -> None:
    pass


async def _user(email: str):
    from accounts.services import normalise_email
    from accounts.tables import User

    user = await User.objects().where(User.email == normalise_email(email)).first()
    if user is None:
        err.print(f"[red]Fout:[/red] geen gebruiker met e-mailadres {escape(email)}.")
        sys.exit(1)
    return user


@tokens.command("create", help="Drukt een nieuw API-token af (één keer getoond, gehasht bewaard).")
@click.argument("email")
@click.option("--name", default="cli")
@with_database
async def tokens_create(wb: Werkbank, email: str, name: str) -> None:
    from accounts import services

    _row, token = await services.create_api_token(_system(wb), name, user=await _user(email))
    click.echo(token)


@tokens.command("revoke", help="Trekt de tokens van die gebruiker in (alle, of het genoemde).")
@click.argument("email")
@click.option("--name", default=None)
@with_database
async def tokens_revoke(wb: Werkbank, email: str, name: str | None) -> None:
    from accounts import services

    count = await services.revoke_api_tokens(_system(wb), await _user(email), name)
    console.print(f"{count} token(s) ingetrokken.")


# --- import --------------------------------------------------------------------------------

@main.group("import", help="Gegevens inladen.")
def import_group() -> None:
    pass


@import_group.command("inventory", help="Maakt of wijzigt sites en infrastructuur uit een CSV-bestand.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--org", "org", default=None, help="slug van de eigenaar (anders uit de kolom owner)")
@with_database
async def import_inventory(wb: Werkbank, file: str, org: str | None) -> None:
    from rich.progress import Progress

    from accounts.services import OWNER_KINDS
    from accounts.tables import Organisation
    from inventory import csvio

    try:
        content = open(file, "rb").read()
    except OSError as exc:
        err.print(f"[red]Fout:[/red] {escape(file)} kan niet gelezen worden: {exc.strerror}")
        sys.exit(1)
    slugs = {org} if org else csvio.owners_named(content)
    if len(slugs) != 1:
        err.print("[red]Fout:[/red] geef de eigenaar met --org SLUG "
                  + ("(het bestand noemt er meerdere)." if slugs else "(het bestand heeft geen kolom owner)."))
        sys.exit(1)
    slug = slugs.pop()
    owner = await Organisation.objects().where(Organisation.slug == slug).first()
    if owner is None or owner.kind not in OWNER_KINDS:
        err.print(f"[red]Fout:[/red] geen eigenaar van infrastructuur met de slug {escape(slug)}.")
        sys.exit(1)
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("Importeren", total=None)
        report = await csvio.import_inventory(
            _system(wb), owner.id, content,
            progress=lambda done, total: progress.update(task, completed=done, total=total))
    console.print(f"{owner.name}: {report.created} nieuw, {report.updated} gewijzigd, {report.unchanged} ongewijzigd, "
                  f"{len(report.rejected)} geweigerd; sites: {report.facilities_created} nieuw, "
                  f"{report.facilities_updated} gewijzigd.")
    for row in report.rejected:
        console.print(f"  regel {row.line}: {row.reason}")
    if report.rejected:
        sys.exit(3)


# --- reports -------------------------------------------------------------------------------

@main.group("report", help="Rapporten.")
def report_group() -> None:
    pass


@report_group.command("regions", help="Schrijft het regionale deelrapport (aanbod, gebruik, bereik, samenwerking, "
                                      "besparing, onvervulde vraag, per kwartaal).")
@click.option("--from", "first", required=True, help="eerste dag, JJJJ-MM-DD")
@click.option("--to", "last", required=True, help="laatste dag (inbegrepen), JJJJ-MM-DD")
@click.option("--region", "regions", multiple=True, help="code van een regio (provincie of eigen regio); mag herhaald")
@click.option("--network", default="", help="net van de scholen (katholiek, go, ovsg, pov, oko)")
@click.option("--owner", default="", help="slug van een eigenaar van infrastructuur")
@click.option("--funding", default="", help="financiering: sector, government, company of school")
@click.option("--category", default="", help="slug van een categorie")
@click.option("--programme", default="", help="slug van een studierichting")
@click.option("--format", "fmt", required=True, type=click.Choice(["csv", "xlsx", "json"]))
@click.option("--output", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="het bestand (- schrijft csv of json naar stdout)")
@with_database
async def report_regions(wb: Werkbank, first: str, last: str, regions: tuple[str, ...], network: str, owner: str,
                         funding: str, category: str, programme: str, fmt: str, output: str) -> None:
    from core.errors import ValidationFailed
    from reports import exports, services
    from reports.request import parse, today_in_brussels

    if fmt == "xlsx" and output == "-":
        err.print("[red]Fout:[/red] een XLSX-bestand gaat niet naar stdout; geef --output BESTAND.")
        sys.exit(2)
    uow = _system(wb)
    params = {"from": first, "to": last, "region": list(regions), "network": network, "owner": owner, "funding": funding,
              "category": category, "programme": programme}
    try:
        wanted = parse({k: v for k, v in params.items() if v}, today_in_brussels(uow.now()))
        report = await services.regional_report(uow, wanted)
    except ValidationFailed as exc:
        err.print(f"[red]Fout:[/red] {escape(str(exc))}")
        for name, message in exc.fields.items():
            err.print(f"  --{name}: {escape(str(message))}")
        sys.exit(2)
    content = {"csv": exports.to_csv, "xlsx": exports.to_xlsx, "json": exports.to_json}[fmt](report)
    if output == "-":
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
        return
    try:
        with open(output, "wb") as handle:
            handle.write(content)
    except OSError as exc:
        err.print(f"[red]Fout:[/red] {escape(output)} kan niet geschreven worden: {exc.strerror}")
        sys.exit(1)
    err.print(f"Rapport {wanted.first.isoformat()} – {wanted.last.isoformat()} geschreven naar {escape(output)} "
              f"({len(content):,} bytes).".replace(",", "."))


if __name__ == "__main__":
    main()
