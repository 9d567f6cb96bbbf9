"""The Jinja2 environment of a Werkbank (pages, htmx fragments and mails, with gettext and nl-BE
filters); each app makes its own (core.registry.Werkbank.templates) and the plugins add globals."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from core import i18n
from core.money import euro_input

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"


def make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,  # an included mail part ends its own line
    )
    # gettext reads the language of the moment (set per request, or per mail recipient).
    env.install_gettext_callables(
        lambda message: i18n.translations(i18n.get_language()).gettext(message),
        lambda s, p, n: i18n.translations(i18n.get_language()).ngettext(s, p, n),
        newstyle=True,
    )
    env.filters["datetime"] = i18n.format_datetime
    env.filters["date"] = i18n.format_date
    env.filters["money"] = i18n.format_money
    env.filters["euro_input"] = euro_input
    env.filters["time"] = i18n.format_time
    env.filters["localdate"] = lambda dt: i18n.local(dt).date().isoformat()
    env.filters["km"] = i18n.format_km
    env.filters["duration"] = i18n.format_duration
    env.filters["iso"] = lambda text: datetime.fromisoformat(text) if text else None  # stored ISO text -> datetime
    env.globals["current_language"] = i18n.get_language
    return env


def render(name: str, env: Environment | None = None, **context) -> str:
    return (env or make_environment()).get_template(name).render(**context)
