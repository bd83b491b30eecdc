"""Personal data in pushed entries: what the server must hold only sealed (docs/SYNC.md,
"Personal data").

The stall seals a buyer's name, phone and note (and later growers' names, ID numbers and
addresses) with AES-GCM under a key only the vendor holds, before they go into a payload. The
server has no key and opens nothing: it stores the ciphertext in the journal, as pushed, and
projects none of it. Which fields are sealed is written in the payload schemas (a property whose
pattern is a sealed value's, `^pd1:…`), so a kind added later with sealed fields is covered here
without a change.

The one thing the server does with such a payload is look at the shape of its text: in a kind
that carries sealed fields, every string must be a sealed value, except in the fields its schema
declares as plain text (a `customer` has none). An entry with anything else (a name in clear,
in a sealed field or hidden in another one, from a stall that broke the contract) is refused
before it is stored (`store.push`, 409 `personal_data_in_clear`), without an integrity alert,
since an alert keeps the refused entry. What is said or logged about it names the contract's
fields, never a value, nor the name of a field the contract does not know.
"""
from __future__ import annotations

import re
from typing import Any, Iterator

from sync.payloads import SCHEMAS
from sync.protocol import Entry

SEALED_PREFIX = "^pd1:"
# A sealed value of this or a later version of the stall's sealing (pd1:, pd2:, …): the version,
# a colon and base64url text. Only its shape is checked; the server cannot open it.
SEALED_VALUE = re.compile(r"pd[1-9][0-9]{0,3}:[A-Za-z0-9_-]{20,4000}")


def _types(prop: dict[str, Any]) -> set[str]:
    kind = prop.get("type")
    return {kind} if isinstance(kind, str) else set(kind or ())


def _sealed_fields(schema: dict[str, Any]) -> tuple[str, ...]:
    return tuple(name for name, prop in schema.get("properties", {}).items()
                 if isinstance(prop, dict)
                 and str(prop.get("pattern", "")).startswith(SEALED_PREFIX))


# kind → the payload fields that hold personal data, sealed (e.g. customer: name, phone, note)
SEALED_FIELDS: dict[str, tuple[str, ...]] = {
    kind: fields for kind, fields in ((kind, _sealed_fields(schema))
                                      for kind, schema in SCHEMAS.items()) if fields}

def _may_hold_text(prop: Any) -> bool:
    """Whether a field's schema lets it hold text: a string, or a list or an object of fields
    that may (a purchase's `lines`, with each product's name and unit, issue 19)."""
    if not isinstance(prop, dict):
        return False
    kinds = _types(prop)
    return "string" in kinds or ("array" in kinds and _may_hold_text(prop.get("items"))) or (
        "object" in kinds and any(_may_hold_text(p)
                                  for p in prop.get("properties", {}).values()))


def _declares_sealed(prop: Any) -> bool:
    """Whether a field's schema, at any depth, has a sealed value's pattern."""
    if isinstance(prop, dict):
        return str(prop.get("pattern", "")).startswith(SEALED_PREFIX) or any(
            _declares_sealed(value) for value in prop.values())
    if isinstance(prop, list):
        return any(_declares_sealed(item) for item in prop)
    return False


# kind → its fields that may hold plain text (none for `customer`: all its text is sealed; for
# `purchase`, its lines and payments, whose schemas declare no sealed value)
PLAIN_TEXT: dict[str, frozenset[str]] = {
    kind: frozenset(name for name, prop in SCHEMAS[kind].get("properties", {}).items()
                    if _may_hold_text(prop) and not _declares_sealed(prop)
                    and name not in fields)
    for kind, fields in SEALED_FIELDS.items()}

UNKNOWN_FIELD = "a field this server does not know"


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


def fields_in_clear(entry: Entry) -> list[str]:
    """The fields of this entry that hold text in clear where only sealed values belong (absent
    and null fields are fine): the contract's own names, or UNKNOWN_FIELD."""
    plain = PLAIN_TEXT.get(entry.kind)
    if plain is None or not isinstance(entry.payload, dict):
        return []
    known = SCHEMAS[entry.kind].get("properties", {})
    found = []
    for name, value in entry.payload.items():
        if name in plain or all(SEALED_VALUE.fullmatch(text) for text in _texts(value)):
            continue
        label = name if name in known else UNKNOWN_FIELD
        if label not in found:
            found.append(label)
    return found
