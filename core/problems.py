"""The error answers of the JSON API as OpenAPI documents them: RFC 9457 problem details."""

from __future__ import annotations

import msgspec


class Problem(msgspec.Struct):
    """RFC 9457 problem details, as every API error is answered (application/problem+json)."""

    type: str
    title: str
    status: int
    detail: str
    rule: str | None = None
    errors: dict[str, str] | None = None
    alternatives: list[dict[str, str]] | None = None


PROBLEM_DESCRIPTIONS = {
    400: "The request could not be read (bad JSON, wrong types, control characters, numbers out of range)",
    401: "No token, or one that is not valid",
    403: "The caller may not do this",
    404: "No such object, or the caller may not see it",
    409: "The booking changed meanwhile, or the time is taken (with alternatives)",
    413: "The request is too large",
    422: "A rule is broken (`rule` names it, `errors` per field)",
    429: "Too many requests (Retry-After)",
    503: "The database is busy; nothing was changed (Retry-After)",
}


def problems(*statuses: int) -> dict:
    """The `responses` of an API handler: each error status it answers, as problem+json."""
    from litestar.openapi.datastructures import ResponseSpec

    return {status: ResponseSpec(data_container=Problem, description=PROBLEM_DESCRIPTIONS[status],
                                 media_type="application/problem+json", generate_examples=False)
            for status in (*statuses, 400, 503)}
