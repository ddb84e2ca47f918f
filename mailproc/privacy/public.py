"""People whose names are public in what the group sends and publishes: its configured members
and whoever an administrator records as a meeting's attendees or apologies. Their names stay
when titled names are redacted ("Dr A Example"); a CHI or NHS number never does."""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Iterable, Iterator, Mapping

__all__ = ["PEOPLE_FIELDS", "public_phrases"]

# The fields of a view (a dataclass) that list people by name, as an administrator typed them.
PEOPLE_FIELDS = ("attendees", "apologies")


def public_phrases(members: Iterable[str], *views: object) -> tuple[str, ...]:
    """`members` and the people listed in `views` (searched through mappings, tuples, lists
    and dataclasses), each also as HTML shows it (escaped)."""
    names = [name for name in (*members, *_people(views)) if name.strip()]
    return tuple(dict.fromkeys([*names, *(html.escape(name) for name in names)]))


def _people(value: object, depth: int = 0) -> Iterator[str]:
    if depth > 8:
        return  # views are shallow; a cycle or a deep structure is not a list of people
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _people(item, depth + 1)
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _people(item, depth + 1)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            item = getattr(value, field.name)
            if field.name in PEOPLE_FIELDS and isinstance(item, tuple | list):
                yield from (name for name in item if isinstance(name, str))
            elif not isinstance(item, str):
                yield from _people(item, depth + 1)
