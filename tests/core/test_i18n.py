from datetime import datetime, timezone
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from core import i18n

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}


def _source_messages() -> set[str]:
    method_map = [("templates/**.html", "jinja2"), ("templates/**.txt", "jinja2"), ("**.py", "python")]
    skip = {".venv", "node_modules", "static", "tests", "bench", ".git", "locale"}
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        ROOT, method_map, keywords=KEYWORDS, options_map={"templates/**": {"extensions": "jinja2.ext.i18n"}},
        directory_filter=lambda path: not set(Path(path).relative_to(ROOT).parts) & skip,
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_user_facing_text_has_a_dutch_translation():
    catalog = read_po(open(ROOT / "locale/nl/LC_MESSAGES/messages.po", "rb"))
    translated = {(m.id[0] if isinstance(m.id, tuple) else m.id) for m in catalog
                  if m.id and (all(m.string) if isinstance(m.id, tuple) else m.string)}
    source = _source_messages()
    assert len(source) > 100  # the extraction itself works
    missing = sorted(source - translated)
    assert not missing, f"run `make messages` and translate in locale/nl/LC_MESSAGES/messages.po: {missing}"


def test_money_and_dates_in_flemish_and_english():
    moment = datetime(2026, 3, 29, 8, 30, tzinfo=timezone.utc)  # first day of summer time
    with i18n.use_language("nl"):
        assert i18n.format_money(123456) == "€\xa01.234,56"  # a no-break space
        assert i18n.format_date(moment) == "29 maart 2026"
        assert "10:30" in i18n.format_datetime(moment)  # shown in Brussels time
        assert i18n.gettext("Log in") == "Aanmelden"
    with i18n.use_language("en"):
        assert i18n.format_money(123456) == "€1,234.56"
        assert i18n.format_date(moment) == "29 March 2026"
        assert i18n.gettext("Log in") == "Log in"


def test_unknown_language_falls_back_to_dutch():
    assert i18n.normalise_language("fr") == "nl"
    assert i18n.normalise_language("EN-gb") == "en"
