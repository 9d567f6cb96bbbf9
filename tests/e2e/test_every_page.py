"""Every page each demo role can reach, on a phone (390x844) and at desktop width (1280x800).

Per role (and for a visitor who is not logged in) one browser context walks the site
breadth-first from the home page: the links of each page within the same origin, one page per
path pattern (/bookings/12 and /bookings/34 count once), at most MAX_PAGES. On every page:

- at 390x844 the page is no wider than the phone, every visible link, button and field in
  <main> and <nav> has a box and can be reached (within the screen, or inside an element that
  scrolls sideways on its own), and the collapsed navigation opens from the keyboard and then
  shows all its links and buttons on the screen;
- at 800px (a tablet) and at 1280x800 the same layout checks;
- axe-core (static/vendor/axe-core, from npm) finds no serious or critical violation on every
  page at 1280x800, and on each role's home page at 390x844 with the menu open.

The walk only follows links (GET) and never submits a form, so one demo server (on its own
copy of the demo data) serves every role, and the roles are walked side by side. It runs on
SQLite only: the pages are the same HTML on either engine. Screenshots of each role's home page
on the phone, menu closed and open, go to test-artifacts/."""

from __future__ import annotations

import asyncio
import re
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from tests.demo_server import demo_copy, demo_server
from tests.e2e.conftest import screenshot_path

pytestmark = pytest.mark.e2e

PASSWORD = "werkbank-demo"
ROLES = {  # role -> demo login (demo.py); None: a visitor who is not logged in
    "teacher": "leerkracht@demo.werkbank.be",
    "school_admin": "directie@demo.werkbank.be",
    "owner_staff": "eigenaar@demo.werkbank.be",
    "provider_staff": "koepel@demo.werkbank.be",
    "rtc_staff": "rtc@demo.werkbank.be",
    "platform_admin": "beheer@demo.werkbank.be",
    "visitor": None,
}
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 800, "height": 1000}  # the layout checks only: between phone and desktop
DESKTOP = {"width": 1280, "height": 800}
MAX_PAGES = 40
CONCURRENT_ROLES = 3
AXE = "/static/vendor/axe-core/axe.min.js"
AXE_FAILS_ON = ("serious", "critical")
# Not pages of this app (piccolo-admin is a SPA), not pages at all, or no place for a crawler.
SKIP_PREFIXES = ("/admin", "/logout", "/language", "/api", "/static", "/photos", "/schema")
SKIP_SUFFIXES = (".csv", ".ics", ".json", ".pdf", ".zip", ".png", ".jpg", ".jpeg", ".webp", ".svg", ".xml")
# Actions, should a link ever point at one (they are forms that POST).
ACTIONS = re.compile(r"/(approve|decline|accept|complete|no-show|delete|remove|revoke|withdraw|retire|reopen|leave)(/|$)")


# --- the demo site ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
async def demo_site(database, demo_template, tmp_path_factory):
    """`werkbank serve` on a copy of the demo data, once per module and engine (the crawl only reads)."""
    data_dir = tmp_path_factory.mktemp(f"every-page-{database.kind}")
    async with demo_copy(demo_template, data_dir) as copy:
        with demo_server(copy.url, data_dir) as url:
            if httpx.get(url + AXE, timeout=5).status_code != 200:
                pytest.fail(f"{AXE} is missing: run `make static` (scripts/build-static.sh copies axe-core from npm)")
            yield url


# --- what runs in the page -------------------------------------------------------------------

# Links worth following: same origin, GET, not a download, not htmx-driven changes.
LINKS_JS = """() => [...document.querySelectorAll('a[href]')]
  .filter(a => !a.hasAttribute('download') && !['hx-post', 'hx-put', 'hx-patch', 'hx-delete']
    .some(attr => a.hasAttribute(attr)))
  .map(a => a.href)"""

# Is the page wider than the window, and which elements make it so? Which visible controls of
# <main> and <nav> cannot be reached?
LAYOUT_JS = """(scope) => {
  const vw = window.innerWidth;
  const describe = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    for (const c of el.classList) s += '.' + c;
    const text = (el.getAttribute('aria-label') || el.innerText || el.value || el.getAttribute('name') || '')
      .replace(/\\s+/g, ' ').trim().slice(0, 40);
    return text ? `${s} "${text}"` : s;
  };
  const clipsX = (el) => getComputedStyle(el).overflowX !== 'visible';
  const unclipped = (el) => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) if (clipsX(a)) return false;
    return true;
  };
  const out = {scrollWidth: document.documentElement.scrollWidth, innerWidth: vw, widest: [], unreachable: []};
  if (out.scrollWidth > vw) {
    const over = new Set();
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if ((r.width || r.height) && r.right + scrollX > vw + 0.5 && unclipped(el)) over.add(el);
    }
    const right = (el) => el.getBoundingClientRect().right + scrollX;
    if (!over.size) {
      // Something positioned escapes a scrolling box (its containing block lies outside it).
      for (const el of document.body.querySelectorAll('*')) if (right(el) >= out.scrollWidth - 1) over.add(el);
    }
    // The outermost elements that stick out, widest first, each with its widest descendant.
    const outer = [...over].filter(el => !over.has(el.parentElement));
    outer.sort((a, b) => right(b) - right(a));
    for (const el of outer.slice(0, 3)) {
      const inner = [...over].filter(d => d !== el && el.contains(d)).sort((a, b) => right(b) - right(a))[0];
      const width = Math.round(el.getBoundingClientRect().width);
      out.widest.push(`${describe(el)} (${width}px wide, right edge at ${Math.round(right(el))}px)`
        + (inner ? ` widened by ${describe(inner)} (right edge at ${Math.round(right(inner))}px)` : ''));
    }
  }
  const controls = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], [tabindex]';
  const selector = scope.map(s => controls.split(', ').map(c => `${s} ${c}`).join(', ')).join(', ');
  for (const el of document.querySelectorAll(selector)) {
    if (!el.checkVisibility({opacityProperty: true, visibilityProperty: true, contentVisibilityAuto: true})) continue;
    if (el.closest('.leaflet-container') && !el.closest('.leaflet-control-container')) continue;  // map markers pan
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) { out.unreachable.push(`${describe(el)}: no box (${r.width}x${r.height})`); continue; }
    let box = r;
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX;
      if (o === 'auto' || o === 'scroll') { box = a.getBoundingClientRect(); break; }  // scrolls on its own
      if (o === 'hidden' || o === 'clip') {
        const ar = a.getBoundingClientRect();
        if (r.left < ar.left - 1 || r.right > ar.right + 1) {
          out.unreachable.push(`${describe(el)}: cut off by ${describe(a)}`);
          box = null;
          break;
        }
      }
    }
    if (box && (box.left + scrollX < -1 || box.right + scrollX > vw + 1)) {
      const [from, to] = [Math.round(box.left + scrollX), Math.round(box.right + scrollX)];
      out.unreachable.push(`${describe(el)}: outside the screen (x ${from}..${to}, screen ${vw})`);
    }
  }
  return out;
}"""

# The main navigation's links and buttons: [visible, description].
NAV_ITEMS_JS = """() => [...document.querySelectorAll('header nav a[href], header nav button')].map(el => [
  el.checkVisibility({opacityProperty: true, visibilityProperty: true}),
  (el.innerText || el.getAttribute('aria-label') || el.getAttribute('href') || '').trim(),
])"""

AXE_JS = """async () => {
  const results = await axe.run(document, {resultTypes: ['violations']});
  return results.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.filter(n => ['serious', 'critical'].includes(n.impact)).map(n => ({
      target: n.target.join(' '),
      why: [...n.any, ...n.all, ...n.none].map(c => c.message).filter(Boolean).join('; ').slice(0, 200)}))}));
}"""


# --- the crawl -------------------------------------------------------------------------------

def path_pattern(path: str) -> str:
    """/bookings/123 and /bookings/456 are one page; so are two invitation tokens."""
    segments = []
    for segment in path.split("/"):
        if segment.isdigit():
            segment = "{id}"
        elif len(segment) >= 20 and re.fullmatch(r"[A-Za-z0-9_-]+", segment) and re.search(r"\d", segment):
            segment = "{token}"
        segments.append(segment)
    return "/".join(segments)


def worth_visiting(url: str, base: str, logged_in: bool = True) -> bool:
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != base:
        return False
    path = parts.path or "/"
    if logged_in and path.startswith(("/login", "/password")):
        return False
    return not (path.startswith(SKIP_PREFIXES) or path.lower().endswith(SKIP_SUFFIXES) or ACTIONS.search(path))


@dataclass
class Findings:
    role: str
    problems: dict[str, int] = field(default_factory=dict)  # message -> how often
    # (rule, impact, help, page) -> [(target, axe's message)]
    axe: dict[tuple[str, str, str, str], list[tuple[str, str]]] = field(default_factory=dict)

    def add(self, problem: str) -> None:
        self.problems[problem] = self.problems.get(problem, 0) + 1

    def report(self) -> str:
        lines = [f"{problem} (x{count})" if count > 1 else problem for problem, count in self.problems.items()]
        # One line per rule and set of elements, with every page (and width) it was found on: a
        # fault of base.html is one line, not one per page.
        grouped: dict[tuple, tuple[list[tuple[str, str]], list[str]]] = {}
        for (rule, impact, help_, page), nodes in self.axe.items():
            key = (rule, impact, help_, tuple(target for target, _ in nodes))
            grouped.setdefault(key, (nodes, []))[1].append(page)
        for (rule, impact, help_, _), (nodes, pages) in grouped.items():
            shown = ", ".join(pages[:6]) + (f" and {len(pages) - 6} more" if len(pages) > 6 else "")
            targets = ", ".join(f"`{target}`" for target, _ in nodes[:5])
            if len(nodes) > 5:
                targets += f" and {len(nodes) - 5} more"
            why = f" [{nodes[0][1]}]" if nodes and nodes[0][1] else ""
            lines.append(f"axe {rule} ({impact}: {help_}) on {shown}: {targets}{why}")
        return f"{len(lines)} problem(s) for {self.role}:\n" + "\n".join(f"- {line}" for line in lines)


async def _login(page, base: str, email: str) -> None:
    await page.goto(f"{base}/login")
    await page.get_by_label("E-mailadres").fill(email)
    await page.get_by_label("Wachtwoord").fill(PASSWORD)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Aanmelden").click()
    assert urlsplit(page.url).path == "/", f"{email} could not log in: {page.url}"


async def _axe(page, base: str, label: str, findings: Findings) -> None:
    if not await page.evaluate("typeof axe !== 'undefined'"):
        await page.add_script_tag(url=base + AXE)
    for violation in await page.evaluate(AXE_JS):
        if violation["impact"] in AXE_FAILS_ON:
            key = (violation["id"], violation["impact"], violation["help"], label)
            findings.axe[key] = [(node["target"], node["why"]) for node in violation["nodes"]] or [("(page)", "")]


async def _check_layout(page, label: str, findings: Findings, scope: list[str], width: bool = True) -> bool:
    """Reports a page wider than the window (unless `width` is false) and controls of `scope`
    that cannot be reached. Returns whether the page fits."""
    layout = await page.evaluate(LAYOUT_JS, scope)
    fits = layout["scrollWidth"] <= layout["innerWidth"]
    if width and not fits:
        findings.add(
            f"{label}: the page is {layout['scrollWidth']}px wide in a {layout['innerWidth']}px window; "
            f"too wide: {'; '.join(layout['widest']) or '(nothing found)'}")
    for item in layout["unreachable"]:
        findings.add(f"{label}: not reachable: {item}")
    return fits


async def _check_menu(page, label: str, findings: Findings, fitted: bool):
    """At phone width the navigation is collapsed; its toggle opens it from the keyboard and
    then every link and button shows, on the screen. Returns the toggle when the menu opened."""
    hidden = [text for visible, text in await page.evaluate(NAV_ITEMS_JS) if not visible]
    toggle = page.locator("header nav").locator("summary, [aria-expanded], label[for]").first
    if not hidden or not await toggle.count() or not await toggle.is_visible():
        findings.add(f"{label}: the navigation does not collapse behind a visible menu toggle at phone width")
        return None
    await toggle.focus()
    await page.keyboard.press("Enter")
    still_hidden = [text for visible, text in await page.evaluate(NAV_ITEMS_JS) if not visible]
    if still_hidden:
        findings.add(f"{label}: the menu opened with Enter leaves hidden: {', '.join(still_hidden)}")
        return None
    await _check_layout(page, f"{label} (menu open)", findings, ["nav"], width=fitted)
    return toggle


async def _close_menu(page, toggle, label: str, findings: Findings) -> None:
    await toggle.focus()
    await page.keyboard.press("Enter")
    if all(visible for visible, _ in await page.evaluate(NAV_ITEMS_JS)):
        findings.add(f"{label}: Enter on the menu toggle does not close the menu again")


async def crawl(context, base: str, role: str, email: str | None) -> Findings:
    findings = Findings(role)
    page = await context.new_page()
    if email:
        await _login(page, base, email)
    home = "/" if email else "/login"
    queue = deque([(base + home, "the start")])
    seen = {path_pattern(home)}
    visited = 0
    while queue and visited < MAX_PAGES:
        url, found_on = queue.popleft()
        visited += 1
        label = url[len(base):]
        await page.set_viewport_size(PHONE)
        response = await page.goto(url, wait_until="load")
        if response is None or response.status >= 400:
            findings.add(f"{label} (linked from {found_on}) answered {response and response.status}")
            continue
        if not worth_visiting(page.url, base, bool(email)):  # redirected off the site, or into /admin
            continue
        for link in await page.evaluate(LINKS_JS):
            link = urljoin(page.url, link).split("#")[0]
            if worth_visiting(link, base, bool(email)):
                pattern = path_pattern(urlsplit(link).path or "/")
                if pattern not in seen:
                    seen.add(pattern)
                    queue.append((link, label))

        fits = await _check_layout(page, f"{label} at 390px", findings, ["main", "nav"])
        is_home = urlsplit(page.url).path == home
        if is_home:
            await page.screenshot(path=str(screenshot_path(f"phone-home-{role}-menu-closed")))
        toggle = await _check_menu(page, f"{label} at 390px", findings, fits)
        if is_home and toggle:
            await page.screenshot(path=str(screenshot_path(f"phone-home-{role}-menu-open")))
        if is_home:  # the open menu and the phone layout once per role; every page at 1280px below
            await _axe(page, base, f"{label} at 390px (menu open)", findings)
        if toggle:
            await _close_menu(page, toggle, f"{label} at 390px", findings)

        await page.set_viewport_size(TABLET)
        await _check_layout(page, f"{label} at 800px", findings, ["main", "nav"])

        await page.set_viewport_size(DESKTOP)
        hidden = [text for visible, text in await page.evaluate(NAV_ITEMS_JS) if not visible]
        if hidden:
            findings.add(f"{label} at 1280px: the navigation hides {', '.join(hidden)}")
        await _check_layout(page, f"{label} at 1280px", findings, ["main", "nav"])
        await _axe(page, base, f"{label} at 1280px", findings)
    if queue:
        findings.add(f"more than {MAX_PAGES} page patterns: not visited {[u[len(base):] for u, _ in queue]}")
    await page.close()
    return findings


async def _crawl_role(browser, base: str, role: str, slots: asyncio.Semaphore) -> Findings:
    async with slots:
        context = await browser.new_context(locale="nl-BE", viewport=PHONE, device_scale_factor=1)
        context.set_default_timeout(15_000)
        # Nothing leaves the machine: map tiles and the like are refused at once.
        await context.route(lambda url: not url.startswith(base), lambda route: route.abort())
        try:
            return await crawl(context, base, role, ROLES[role])
        finally:
            await context.close()


@pytest.fixture(scope="module")
async def crawls(request, database, demo_site, chromium):
    """Walks the roles whose tests were selected (-k), side by side, each in its own browser
    context (of the session's chromium); each test then reports its own role. A walk that broke
    fails its role's test."""
    selected = {item.callspec.params["role"] for item in request.session.items
                if item.module is request.module and item.callspec.params.get("database") == database.kind}
    roles = [role for role in ROLES if role in selected]
    slots = asyncio.Semaphore(CONCURRENT_ROLES)
    results = await asyncio.gather(*(_crawl_role(chromium, demo_site, role, slots) for role in roles),
                                   return_exceptions=True)
    return dict(zip(roles, results, strict=True))


# The pages are the same HTML on either engine (the rest of the suite holds the engines together):
# the crawl runs once, on SQLite, to keep the suite fast.
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
@pytest.mark.parametrize("role", list(ROLES))
async def test_every_page_fits_a_phone_and_passes_axe(crawls, role):
    findings = crawls[role]
    if isinstance(findings, BaseException):
        raise findings
    assert not findings.problems and not findings.axe, findings.report()
