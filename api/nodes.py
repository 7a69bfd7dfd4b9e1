"""Building a Strawberry node from a list row without its dataclass `__init__`.

A list builds one node per row, and a node is a dataclass of 10–25 fields: `cls(**fields)` packs the keywords into
a dict, then unpacks and assigns them one by one (a warning's node with its department, last event and entity took
~6 µs, ~300 µs of a 50-row page; graphql-core then reads a handful of them). `node(cls, values)` makes the instance
and hands it `values` as its attribute dict — a dict display the builder writes out, so the cost is building that
dict. Every field must be there (a field with a plain default or a resolver may be left out: the class answers); the
first node of each class is checked against the dataclass's fields, so a missing or misspelt name fails at once
(in the tests of every list) rather than when a query first selects that field."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

__all__ = ["node"]

T = TypeVar("T")

_CHECKED: set[type] = set()


def node(cls: type[T], values: dict[str, Any]) -> T:
    """An instance of the Strawberry type `cls` whose attributes are `values` (owned by the node from now on)."""
    if cls not in _CHECKED:
        _check(cls, values)
    made = object.__new__(cls)
    made.__dict__ = values
    return made


def _check(cls: type, values: dict[str, Any]) -> None:
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    names = {f.name for f in fields}
    # a field with a plain default, or one a resolver answers (a method): the class has the attribute
    optional = {f.name for f in fields if f.default is not dataclasses.MISSING
                or any(f.name in vars(k) for k in cls.__mro__)}
    missing = sorted(names - optional - values.keys())
    unknown = sorted(values.keys() - names)
    if missing or unknown:
        raise TypeError(f"{cls.__name__}: missing fields {missing}, unknown fields {unknown}")
    _CHECKED.add(cls)
