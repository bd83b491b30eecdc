"""The written contract of journal entry payloads: one JSON Schema (draft 2020-12) per kind.

The schemas are the `<kind>.schema.json` files beside this module (package data), described
field by field in docs/SYNC.md, "Payloads". Both ends read them through this module:

- the stall validates every payload in `pos.journal.append`, before the entry is written, with
  the **strict** reading (`validate_payload(kind, payload)`): every field the current stall
  writes is required and no other field is allowed, so a writer that drifts from the contract
  fails its tests instead of writing it;
- the provincial server validates every pushed entry before projecting it
  (sync/server/projection.py) with the **lenient** reading (`lenient=True`): unknown fields are
  allowed (a newer stall may add some), and the fields a schema lists under `x-server-optional`
  may be missing (the server's projection does without them, and journals written before they
  existed must still project). Every field that is present must still have its type and bounds.

An entry that fails is refused by the stall (nothing written) and, on the server, stored but not
projected (the journal is the truth), and logged.
"""
from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any, Iterator

import fastjsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

# Every entry kind a stall writes, in the order they were introduced. A kind that is not here is
# a newer stall's: the server stores it and does not project it.
KINDS = ("sale", "void", "product", "cash_move", "day_close", "payment_check",
         "invoice_correction", "refund", "customer", "credit_payment", "purchase", "stock_count")

SERVER_OPTIONAL = "x-server-optional"


class PayloadError(ValueError):
    """A payload that does not match its kind's schema; `path` names the offending field
    (`lines[0].quantity_milli`, or `` for the payload itself)."""

    def __init__(self, kind: str, path: str, message: str):
        self.kind, self.path, self.message = kind, path, message
        where = f" at {path}" if path else ""
        super().__init__(f"{kind} payload{where}: {message}")


def schema_file(kind: str) -> Any:
    """The schema file of a kind (a Traversable inside the installed package)."""
    return resources.files(__name__).joinpath(f"{kind}.schema.json")


def _load(kind: str) -> dict[str, Any]:
    return json.loads(schema_file(kind).read_text(encoding="utf-8"))


SCHEMAS: dict[str, dict[str, Any]] = {kind: _load(kind) for kind in KINDS}


def lenient_schema(schema: Any) -> Any:
    """The server's reading of a schema: no `additionalProperties: false` anywhere, and the
    fields an object lists under `x-server-optional` dropped from its `required`."""
    if isinstance(schema, list):
        return [lenient_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: lenient_schema(value) for key, value in schema.items()
           if not (key == "additionalProperties" and value is False)}
    optional = set(schema.get(SERVER_OPTIONAL, ()))
    if optional and "required" in out:
        out["required"] = [name for name in out["required"] if name not in optional]
    return out


def _validators(schemas: dict[str, dict[str, Any]]) -> dict[str, Draft202012Validator]:
    for schema in schemas.values():
        Draft202012Validator.check_schema(schema)
    return {kind: Draft202012Validator(schema) for kind, schema in schemas.items()}


DRAFT_07 = "http://json-schema.org/draft-07/schema#"


def _fast_checks(schemas: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Each schema compiled to Python by fastjsonschema: the yes/no check on every write.

    jsonschema interprets a schema on each call (about 0.4 ms for a 3-line sale, as long as the
    rest of the sale's work in process); the compiled check takes a few microseconds. The
    schemas use only keywords whose meaning draft-07 and draft 2020-12 share (type, properties,
    required, additionalProperties, bounds, pattern, enum, const, items, anyOf, if/then), so the
    compiler reads them as draft-07, the newest it knows. When it says no, jsonschema runs to
    name the field; tests/test_payload_contract.py holds the two to the same verdicts.
    """
    return {kind: fastjsonschema.compile({**schema, "$schema": DRAFT_07})
            for kind, schema in schemas.items()}


_STRICT = _validators(SCHEMAS)
_LENIENT_SCHEMAS = {kind: lenient_schema(copy.deepcopy(s)) for kind, s in SCHEMAS.items()}
_LENIENT = _validators(_LENIENT_SCHEMAS)
_FAST_STRICT = _fast_checks(SCHEMAS)
_FAST_LENIENT = _fast_checks(_LENIENT_SCHEMAS)


def conforms(kind: str, payload: Any, *, lenient: bool = False) -> bool:
    """The compiled yes/no check alone (False for an unknown kind)."""
    check = (_FAST_LENIENT if lenient else _FAST_STRICT).get(kind)
    if check is None:
        return False
    try:
        check(payload)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def _path(error: ValidationError) -> str:
    text = ""
    for part in error.absolute_path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _best(errors: Iterator[ValidationError]) -> ValidationError | None:
    """The deepest error (the one naming the field), the first of equals."""
    best = None
    for error in errors:
        # An `if`/`then` or `anyOf` failure: its sub-errors name the field itself.
        leaves = [e for e in error.context or ()] if error.context else []
        candidate = _best(iter(leaves)) if leaves else error
        if candidate is None:
            continue
        if best is None or len(candidate.absolute_path) > len(best.absolute_path):
            best = candidate
    return best


def payload_errors(kind: str, payload: Any, *, lenient: bool = False) -> list[str]:
    """Every problem of a payload as `path: message` (empty when it conforms)."""
    validator = (_LENIENT if lenient else _STRICT).get(kind)
    if validator is None:
        return [f"unknown entry kind {kind!r}"]
    return [f"{_path(e) or '(payload)'}: {e.message}" for e in validator.iter_errors(payload)]


def validate_payload(kind: str, payload: Any, *, lenient: bool = False) -> None:
    """Check a payload against its kind's schema; PayloadError naming the field otherwise.

    `lenient=False` (the stall, before it writes): the current contract exactly.
    `lenient=True` (the server, before it projects): unknown fields allowed, and the fields
    under `x-server-optional` may be absent.
    """
    validator = (_LENIENT if lenient else _STRICT).get(kind)
    if validator is None:
        raise PayloadError(kind, "", f"unknown entry kind {kind!r} (known: {', '.join(KINDS)})")
    if conforms(kind, payload, lenient=lenient):
        return
    error = _best(validator.iter_errors(payload))
    if error is not None:
        raise PayloadError(kind, _path(error), error.message)
    # The compiled check refused what jsonschema accepts: refuse it, the stricter reading wins.
    raise PayloadError(kind, "", "does not match its schema")
