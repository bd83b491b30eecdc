"""The tables the dashboard shows, and the same tables as CSV files for Excel.

A page is built as named `Grid`s; the template draws them and `/….csv` writes them, so every
table shown can be exported and an export never holds more than the page (nor anything out of
the viewer's scope). CSV is UTF-8 with a byte-order mark: without it Excel reads Vietnamese as
Windows-1252 mojibake.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from sync.localtime import VIETNAM

BOM = "\ufeff"
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
KINDS = ("text", "money", "count", "share", "quantity", "time", "day", "stars", "flag",
         "produce")


@dataclass(frozen=True)
class Col:
    """A column: the row key, its (translated) heading and how the value is written.

    A `produce` column is a product bought (`label` its name, `unit` its unit) whose cells are
    `{"quantity_milli", "unit", "amount"}`: one cell on the page (the quantity over what was
    paid for it), two columns in CSV ("Cà chua (kg)" and "Cà chua (₫)"), so a spreadsheet sums
    each."""

    key: str
    label: Any
    kind: str = "text"
    unit: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


@dataclass
class Grid:
    """A named table of a page (`name` is also its export's file name)."""

    name: str
    title: Any
    columns: list[Col]
    rows: list[dict[str, Any]]
    link: Callable[[dict[str, Any]], str | None] | None = None   # the first column's target
    note: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


def csv_value(value: Any, kind: str) -> str:
    """A cell as plain text a spreadsheet reads back: integers stay integers (đồng), shares are
    percentages with two decimals, quantities use a decimal point, times are Vietnam time."""
    if value is None:
        return ""
    if kind in ("money", "count", "stars"):
        return str(int(value))
    if kind == "share":
        return f"{value // 100}.{value % 100:02d}"
    if kind == "quantity":
        whole, milli = divmod(int(value), 1000)
        return f"{whole}.{milli:03d}".rstrip("0").rstrip(".") if milli else str(whole)
    if kind == "time":
        return value.astimezone(VIETNAM).strftime("%Y-%m-%d %H:%M") \
            if isinstance(value, datetime) else str(value)
    if kind == "flag":
        return "1" if value else "0"
    return str(value)


def _csv_columns(grid: Grid) -> list[tuple[str, Callable[[dict[str, Any]], str]]]:
    """(heading, cell) of each CSV column: a `produce` column is two."""
    out: list[tuple[str, Callable[[dict[str, Any]], str]]] = []
    for col in grid.columns:
        if col.kind == "produce":
            out += [(f"{col.label} ({col.unit})", lambda row, key=col.key: csv_value(
                        (row.get(key) or {}).get("quantity_milli", 0), "quantity")),
                    (f"{col.label} (₫)", lambda row, key=col.key: csv_value(
                        (row.get(key) or {}).get("amount", 0), "money"))]
        else:
            out.append((str(col.label), lambda row, col=col: csv_value(row.get(col.key),
                                                                       col.kind)))
    return out


def to_csv(grid: Grid) -> bytes:
    """The grid as CSV bytes: BOM, a header row of the column headings, then the rows."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    columns = _csv_columns(grid)
    writer.writerow([_neutralise(heading) for heading, _cell in columns])
    for row in grid.rows:
        writer.writerow([_neutralise(cell(row)) for _heading, cell in columns])
    return buffer.getvalue().encode("utf-8")


def _neutralise(text: str) -> str:
    """Keep a stall-typed name such as `=HYPERLINK(…)` from running as a formula in Excel."""
    if text and text[0] in "=+@\t\r" or (text.startswith("-") and not _is_number(text)):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    return _NUMBER.fullmatch(text) is not None
