"""A piece of raw SQL with its arguments, for the report's grouped queries (Piccolo's `raw`
takes `{}` placeholders in order). Joining pieces keeps the arguments in step with the text."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Sql:
    text: str
    args: tuple = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.text.count("{}") != len(self.args):
            raise ValueError(f"{self.text.count('{}')} placeholders, {len(self.args)} arguments: {self.text}")

    def __add__(self, other: Sql | str) -> Sql:
        other = other if isinstance(other, Sql) else Sql(other)
        return Sql(self.text + other.text, self.args + other.args)

    def replace_first(self, old: str, new: str) -> Sql:
        """The same SQL with the first `old` (which must hold no placeholder) written as `new`."""
        if "{}" in old or "{}" in new or old not in self.text:
            raise ValueError(f"cannot replace {old!r}")
        return Sql(self.text.replace(old, new, 1), self.args)

    def __radd__(self, other: str) -> Sql:
        return Sql(other) + self


def join(pieces: list[Sql | str], separator: str) -> Sql:
    result = Sql("")
    for index, piece in enumerate(pieces):
        result = result + (separator if index else "") + piece
    return result


def all_of(conditions: list[Sql | str]) -> Sql:
    return join([Sql("(") + c + ")" for c in conditions], " AND ") if conditions else Sql("1 = 1")


def literal_list(values: set[str] | list[str]) -> str:
    """`'9000', '9050'` for an IN list of postal codes (four digits each: checked here, so that
    nothing else can reach the SQL text). Empty: a list that matches nothing."""
    items = sorted(set(values))
    for value in items:
        if not (len(value) == 4 and value.isdigit()):
            raise ValueError(f"not a postal code: {value!r}")
    return ", ".join(f"'{v}'" for v in items) if items else "NULL"


def seconds(engine: str, column: str) -> str:
    """A timestamp column as whole seconds since 1970, in either engine."""
    if engine == "postgres":
        return f"CAST(EXTRACT(EPOCH FROM {column}) AS BIGINT)"
    return f"CAST(strftime('%s', {column}) AS INTEGER)"


def duration_seconds(engine: str, start: str, end: str) -> str:
    return f"({seconds(engine, end)} - {seconds(engine, start)})"
