"""Structured logging: one JSON object per line in production (WERKBANK_LOG_FORMAT=json), or
readable text."""

from __future__ import annotations

import copy
import json
import logging
import re
import sys
from datetime import datetime, timezone


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key.startswith("wb_"):
                entry[key[3:]] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(fmt: str = "text", level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("werkbank")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


# Paths that carry a secret (a feed's token, an invitation, a password reset): an access log line
# must not become a way to read someone's calendar or take over an account.
SECRET_PATHS = re.compile(r"^(/ical/|/invitations/|/password/reset/)[^/?#\s]+")


def redact_path(path: str) -> str:
    return SECRET_PATHS.sub(lambda match: match[1] + "…", path)


class RedactSecretPaths(logging.Filter):
    """For uvicorn's access log, whose arguments are (client, method, path, http version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3 and isinstance(record.args[2], str):
            record.args = (*record.args[:2], redact_path(record.args[2]), *record.args[3:])
        return True


def uvicorn_log_config() -> dict:
    """uvicorn's own logging set-up, with secret paths left out of the access log (a dict, so that
    every worker process uvicorn starts applies it)."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_secret_paths"] = {"()": "core.logging.RedactSecretPaths"}
    config["handlers"]["access"].setdefault("filters", []).append("redact_secret_paths")
    return config
