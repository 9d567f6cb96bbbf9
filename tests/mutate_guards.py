"""Weakens one guard at a time and checks that the authorization matrix notices.

    .venv/bin/python -m tests.mutate_guards                 # the code as it is in the working tree
    .venv/bin/python -m tests.mutate_guards --source HEAD   # the code of a commit (git archive)
    .venv/bin/python -m tests.mutate_guards --only 3,5      # some mutations (numbers from the table)
    .venv/bin/python -m tests.mutate_guards --in-place      # mutate the working tree itself (see below)

Each mutation in MUTATIONS below replaces one exact piece of source text, runs
`pytest tests/test_authorization_matrix.py -q -p no:cacheprovider -k sqlite` and records whether
the matrix noticed, then puts the file back byte for byte (in a `finally`). At the end it prints
mutation -> caught / NOT CAUGHT and exits non-zero when a weakening was not caught, a pattern was
not found exactly once, or a mutated run broke (no cell was checked at all).

"Caught" means: at least one cell that holds on the unmutated code breaks with the mutation. The
matrix writes every cell to WERKBANK_MATRIX_REPORT, and a first, unmutated run gives the
baseline, so cells that already fail (a policy not implemented yet) are not counted as catches.
While the baseline has broken cells every test function must run to its end, so `-x` is passed
only when the baseline is entirely green.

Where the mutations are applied: by default to a scratch copy of the code (the working tree, or
`--source REF`), made in a temporary folder and removed afterwards. The working tree is shared
with people editing it, and putting a file back "byte for byte" after a run would undo any edit
they saved during that run. `--in-place` mutates the working tree itself, one file at a time; it
refuses to restore (and says so loudly) when the file changed under it during the run.

After a refactor, adjust the patterns in MUTATIONS (the only list to keep up to date): a pattern
that is not found is reported as such and fails the run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MATRIX = "tests/test_authorization_matrix.py"


@dataclass(frozen=True)
class Mutation:
    file: str  # relative to the repository root
    find: str  # exact source text; must occur exactly once
    replace: str
    description: str


# =============================================================================================
# THE GUARD WEAKENINGS (written against commit b198a93; adjust them when the code moves)
# =============================================================================================
MUTATIONS: list[Mutation] = [
    # --- booking/services.py: who may see and do what with one booking ------------------------
    Mutation(
        "booking/services.py",
        "def is_owner_staff(actor: Actor, owner_id: int) -> bool:\n"
        "    return owner_id in actor.organisation_ids(Role.owner_staff)\n",
        "def is_owner_staff(actor: Actor, owner_id: int) -> bool:\n"
        "    return bool(actor.organisation_ids(Role.owner_staff))\n",
        "is_owner_staff: staff of any owner count as staff of every owner",
    ),
    Mutation(
        "booking/services.py",
        "def is_school_member(actor: Actor, booking: Booking) -> bool:\n"
        "    return booking.school in actor.organisation_ids(*SCHOOL_ROLES)\n",
        "def is_school_member(actor: Actor, booking: Booking) -> bool:\n"
        "    return bool(actor.organisation_ids(*SCHOOL_ROLES))\n",
        "is_school_member: no check of the booking's school",
    ),
    Mutation(
        "booking/services.py",
        "    return bool(school.network) and school.network in actor.networks(Role.provider_staff)\n",
        "    return bool(actor.networks(Role.provider_staff))\n",
        "follows_network: provider staff follow every network",
    ),
    Mutation(
        "booking/services.py",
        "    return bool(regions) and (school.region_code in regions or facility.region_code in regions)\n",
        "    return bool(regions)\n",
        "follows_region: RTC staff follow every region",
    ),
    Mutation(
        "booking/services.py",
        "def can_see(actor: Actor, v: BookingView) -> bool:\n"
        "    return (actor.is_platform_admin or is_school_member(actor, v.booking) or is_owner_staff(actor, v.owner_id)\n"
        "            or follows_network(actor, v.school) or follows_region(actor, v.school, v.facility))\n",
        "def can_see(actor: Actor, v: BookingView) -> bool:\n"
        "    return True\n",
        "can_see: everybody sees every booking",
    ),
    Mutation(
        "booking/services.py",
        "    if uow.actor is None or not can_see(uow.actor, current):\n",
        "    if uow.actor is None:\n",
        "view: the booking is handed out without asking can_see",
    ),
    Mutation(
        "booking/services.py",
        "def can_decide(actor: Actor, owner_id: int) -> bool:\n"
        "    return actor.is_platform_admin or is_owner_staff(actor, owner_id)\n",
        "def can_decide(actor: Actor, owner_id: int) -> bool:\n"
        "    return True\n",
        "can_decide (approve, decline, complete): whoever sees a booking may decide",
    ),
    Mutation(
        "booking/services.py",
        "    if booking.status not in HOLDING_STATUSES or booking.end <= now:\n"
        "        return False\n"
        "    return actor.is_platform_admin or is_school_member(actor, booking) or is_owner_staff(actor, owner_id)\n",
        "    if booking.status not in HOLDING_STATUSES or booking.end <= now:\n"
        "        return False\n"
        "    return True\n",
        "can_cancel: whoever sees a booking may cancel it",
    ),
    Mutation(
        "booking/services.py",
        "    if not schools:\n"
        '        raise NotAllowed(_("Only teachers and school administrators book; your account belongs to no school."))\n'
        "    return schools[0]\n",
        "    if not schools:\n"
        "        return 1  # the first organisation, whatever it is\n"
        "    return schools[0]\n",
        "requesting: an account without a school books in the name of some school",
    ),
    # --- booking/queries.py: which bookings a list shows ----------------------------------------
    Mutation(
        "booking/queries.py",
        "        clauses.append(Booking.school.is_in(schools))\n",
        "        clauses.append(Booking.id > 0)\n",
        "visibility (list): a school's people list every booking",
    ),
    Mutation(
        "booking/queries.py",
        "        clauses.append(Booking.resource.facility.owner.is_in(owners))\n",
        "        clauses.append(Booking.id > 0)\n",
        "visibility (list): owner staff list every booking",
    ),
    Mutation(
        "booking/queries.py",
        "        clauses.append(Booking.school.network.is_in(networks))\n",
        "        clauses.append(Booking.id > 0)\n",
        "visibility (list): provider staff list every booking",
    ),
    Mutation(
        "booking/queries.py",
        "        clauses.append(Booking.resource.facility.region_code.is_in(regions))\n",
        "        clauses.append(Booking.id > 0)\n",
        "visibility (list): RTC staff list every booking",
    ),
    # --- inventory ---------------------------------------------------------------------------------
    Mutation(
        "inventory/services.py",
        "def can_manage(actor: Actor | None, owner_id: int) -> bool:\n"
        "    return actor is not None and actor.acts_for(owner_id, Role.owner_staff)\n",
        "def can_manage(actor: Actor | None, owner_id: int) -> bool:\n"
        "    return True\n",
        "inventory can_manage: always True",
    ),
    Mutation(
        "inventory/controllers.py",
        "    if owner and chosen.id != owner:\n",
        "    if False:\n",
        "inventory pages (?owner=): another owner's id falls back to one's own instead of 403",
    ),
    # --- accounts: guards on routes ----------------------------------------------------------------
    Mutation(
        "accounts/auth.py",
        "        if not (actor.has_role(*roles) or actor.is_platform_admin):\n",
        "        if False:\n",
        "role_required: every logged-in user passes",
    ),
    Mutation(
        "accounts/auth.py",
        '    if connection.scope.get("user") is None:\n'
        '        raise NotAuthenticated(_("Log in to continue."))\n',
        "    if False:\n"
        '        raise NotAuthenticated(_("Log in to continue."))\n',
        "login_required: anonymous visitors pass",
    ),
    Mutation(
        "accounts/controllers.py",
        '    path = "/outbox"\n'
        "    guards = [platform_admin_required]\n",
        '    path = "/outbox"\n'
        "    guards = [login_required]\n",
        "/outbox: any logged-in user, not only platform admins",
    ),
    Mutation(
        "accounts/admin.py",
        "guards=[platform_admin_required]",
        "guards=[]",
        "/admin (piccolo-admin mount): no platform admin guard",
    ),
    # --- reports/scope.py: who sees which regional report ---------------------------------------
    Mutation(
        "reports/scope.py",
        "REPORT_ROLES = (Role.platform_admin, Role.provider_staff, Role.rtc_staff, Role.owner_staff)",
        "REPORT_ROLES = tuple(Role)",
        "regional report: teachers and school admins get it too",
    ),
    Mutation(
        "reports/scope.py",
        'return Scope("provider", named_networks=frozenset(actor.networks(Role.provider_staff)))',
        'return Scope("provider")',
        "regional report: provider staff see every school by name",
    ),
    Mutation(
        "reports/services.py",
        "        if scope.kind == \"rtc\" and code in REGIONS and code not in scope.regions:\n",
        "        if False:\n",
        "regional report: RTC staff may ask for another province",
    ),
    Mutation(
        "reports/services.py",
        'owner_ids=scope.owner_ids if scope.kind == "owner" else None)',
        "owner_ids=None)",
        "regional report: owner staff see all infrastructure, not only their own",
    ),
    # --- allocation/: who runs and joins a round -------------------------------------------------
    Mutation(
        "allocation/access.py",
        "    role = Role.rtc_staff if rnd.region_code else Role.owner_staff\n"
        "    return rnd.organiser in actor.organisation_ids(role)\n",
        "    return actor.has_role(Role.rtc_staff, Role.owner_staff, Role.teacher, Role.school_admin)\n",
        "allocation round: anyone with a role allocates, publishes and sees every registration",
    ),
    Mutation(
        "allocation/services.py",
        "        if is_rtc and org.region_code and regions == {org.region_code}:\n",
        "        if is_rtc and org.region_code:\n",
        "allocation round: an RTC opens a round for resources outside its region",
    ),
    Mutation(
        "allocation/overview.py",
        "    visible = [r for r in registrations if manage or r.school in mine]\n",
        "    visible = registrations\n",
        "allocation round: every school sees every school's registrations",
    ),
    # --- needs/access.py: who sees a need ----------------------------------------------------------
    Mutation(
        "needs/access.py",
        "        open_regions=frozenset(await owner_regions(owners)),\n",
        "        open_regions=frozenset({'VOV', 'VLI', 'VAN', 'VWV', 'VBR'}) if owners else frozenset(),\n",
        "needs: owner staff see the needs of every region",
    ),
    Mutation(
        "needs/access.py",
        "        networks=frozenset(actor.networks(Role.provider_staff)),\n",
        "        networks=frozenset(n.value for n in Organisation.Network if n.value) if actor.has_role(Role.provider_staff) "
        "else frozenset(),\n",
        "needs: provider staff see every network's needs in detail",
    ),
]


# =============================================================================================
# RUNNING
# =============================================================================================

SKIP_COPY = {".git", ".venv", "node_modules", "__pycache__", ".pytest_cache", ".ruff_cache", "test-artifacts", "var"}
BUILT = ["static/vendor", "locale/en/LC_MESSAGES/messages.mo", "locale/nl/LC_MESSAGES/messages.mo"]


def make_copy(source: str, into: Path) -> Path:
    """A scratch copy of the code: the working tree, or a git ref with the built files (front-end
    libraries, compiled catalogs) and the matrix files taken from the working tree."""
    target = into / "werkbank"
    if source == "worktree":
        shutil.copytree(ROOT, target, ignore=lambda _d, names: [
            n for n in names if n in SKIP_COPY or n.endswith((".sqlite3", ".sqlite3-journal", ".sqlite3-wal"))])
    else:
        target.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", source], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
        for built in BUILT:
            origin = ROOT / built
            if origin.is_dir():
                shutil.copytree(origin, target / built, dirs_exist_ok=True)
            elif origin.exists():
                (target / built).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, target / built)
        for own in (MATRIX, "tests/mutate_guards.py"):
            shutil.copy2(ROOT / own, target / own)
    return target


def run_matrix(code: Path, report: Path, stop_early: bool) -> tuple[int, str, float]:
    report.unlink(missing_ok=True)
    command = [sys.executable, "-m", "pytest", MATRIX, "-q", "-p", "no:cacheprovider", "-k", "sqlite"]
    if stop_early:
        command.append("-x")
    env = {**os.environ, "PYTHONPATH": str(code), "WERKBANK_MATRIX_REPORT": str(report), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("WERKBANK_REQUIRE_POSTGRES", None)  # SQLite only
    began = time.monotonic()
    done = subprocess.run(command, cwd=code, env=env, capture_output=True, text=True)
    return done.returncode, done.stdout + done.stderr, time.monotonic() - began


def read_report(report: Path) -> dict[str, bool]:
    cells: dict[str, bool] = {}
    if report.exists():
        for line in report.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            key = f"{row['part']} :: {row['cell']}"
            cells[key] = cells.get(key, True) and row["ok"]
    return cells


def _pattern_error(text: str, mutation: Mutation) -> str | None:
    found = text.count(mutation.find)
    if found == 0:
        return "PATTERN NOT FOUND"
    if found > 1:
        return f"PATTERN FOUND {found} TIMES"
    return None


@dataclass
class Verdict:
    number: int
    mutation: Mutation
    result: str  # caught, NOT CAUGHT, PATTERN NOT FOUND, RUN BROKE, ...
    detail: str = ""
    seconds: float = 0.0

    @property
    def good(self) -> bool:
        return self.result == "caught"


def judge(number: int, mutation: Mutation, baseline: dict[str, bool], code: Path, report: Path,
          stop_early: bool, in_place: bool) -> Verdict:
    path = code / mutation.file
    if not path.exists():
        return Verdict(number, mutation, "FILE NOT FOUND", mutation.file)
    original = path.read_bytes()
    text = original.decode("utf-8")
    problem = _pattern_error(text, mutation)
    if problem:
        return Verdict(number, mutation, problem, repr(mutation.find[:70]))
    mutated = text.replace(mutation.find, mutation.replace).encode("utf-8")
    try:
        path.write_bytes(mutated)
        try:
            compile(mutated, str(path), "exec")
        except SyntaxError as exc:
            return Verdict(number, mutation, "BAD REPLACEMENT", f"{exc.msg} (line {exc.lineno})")
        code_, output, seconds = run_matrix(code, report, stop_early)
    finally:
        if in_place and path.read_bytes() != mutated:
            # Somebody saved this file during the run: putting the original back would undo their edit.
            print(f"!!! {mutation.file} changed during the run; NOT restored. The mutation was:\n"
                  f"--- {mutation.find!r}\n+++ {mutation.replace!r}", file=sys.stderr)
        else:
            path.write_bytes(original)
    assert path.read_bytes() == original or in_place
    cells = read_report(report)
    if not cells:
        tail = " / ".join(line for line in output.strip().splitlines()[-3:])
        return Verdict(number, mutation, "RUN BROKE", f"pytest exit {code_}, no cell checked: {tail}", seconds)
    newly = sorted(cell for cell, ok in baseline.items() if ok and not cells.get(cell, False))
    if not newly:
        if code_ not in (0, 1):
            return Verdict(number, mutation, "RUN BROKE", f"pytest exit {code_}", seconds)
        return Verdict(number, mutation, "NOT CAUGHT", "every cell that held still holds", seconds)
    reached = [cell for cell in newly if cell in cells]
    example = (reached or newly)[0].split(" :: ", 1)[1]
    unreached = len(newly) - len(reached)
    more = f"; the run stopped early, {unreached} cells not reached" if unreached else ""
    return Verdict(number, mutation, "caught", f"{len(reached)} cells broke{more}, e.g. [{example}]", seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default="worktree", help="worktree (default) or a git ref such as HEAD")
    parser.add_argument("--in-place", action="store_true", help="mutate the working tree itself (see the docstring)")
    parser.add_argument("--only", default="", help="comma-separated mutation numbers (1-based)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="mutations run side by side")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copies (their paths are printed)")
    args = parser.parse_args(argv)
    if args.in_place and args.source != "worktree":
        parser.error("--in-place works on the working tree only")
    chosen = [int(n) for n in args.only.split(",") if n.strip()] or list(range(1, len(MUTATIONS) + 1))
    jobs = 1 if args.in_place else max(1, args.jobs)

    scratch = Path(tempfile.mkdtemp(prefix="werkbank-mutants-"))
    try:
        if args.in_place:
            codes = [ROOT]
        else:
            codes = []
            for index in range(min(jobs, len(chosen))):
                (scratch / str(index)).mkdir()
                codes.append(make_copy(args.source, scratch / str(index)))
        print(f"code: {args.source}{' (in place)' if args.in_place else ''}; copies in {scratch}" if not args.in_place
              else f"code: the working tree {ROOT} (in place)")

        baseline_code, stdout, seconds = run_matrix(codes[0], scratch / "baseline.jsonl", stop_early=False)
        baseline = read_report(scratch / "baseline.jsonl")
        if not baseline:
            print(stdout[-3000:])
            print(f"The unmutated matrix checked no cell (pytest exit {baseline_code}); nothing to compare with.")
            return 2
        broken = sorted(cell for cell, ok in baseline.items() if not ok)
        print(f"baseline: {len(baseline)} cells, {len(broken)} broken on the unmutated code ({seconds:.0f} s); "
              "only cells that hold there count as catches")
        stop_early = not broken and baseline_code == 0

        def work(slot_and_number):
            slot, number = slot_and_number
            return judge(number, MUTATIONS[number - 1], baseline, codes[slot], scratch / f"report-{slot}.jsonl",
                         stop_early, args.in_place)

        # One copy per worker; mutation k runs in copy k % jobs, the copies' runs one after the other.
        queues = [[(slot, n) for i, n in enumerate(chosen) if i % len(codes) == slot] for slot in range(len(codes))]
        with ThreadPoolExecutor(max_workers=len(codes)) as pool:
            results = pool.map(lambda queue: [work(item) for item in queue], queues)
            verdicts = sorted((v for queue in results for v in queue), key=lambda v: v.number)
    finally:
        if args.keep:
            print(f"kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)

    width = max(len(f"{v.mutation.file}: {v.mutation.description}") for v in verdicts)
    print()
    print(f" #  {'mutation'.ljust(width)}  {'verdict'.ljust(17)}  detail")
    for v in verdicts:
        label = f"{v.mutation.file}: {v.mutation.description}"
        print(f"{v.number:2d}  {label.ljust(width)}  {v.result.ljust(17)}  {v.detail}")
    failed = [v for v in verdicts if not v.good]
    print()
    if failed:
        print(f"{len(failed)} of {len(verdicts)} weakenings were not caught or could not be applied.")
        return 1
    print(f"All {len(verdicts)} weakenings were caught.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
