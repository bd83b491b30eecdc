"""Bytes per sale on disk: the journal, the projections and their indexes, counted with `dbstat`.

`dbstat` gives the pages of every table and index b-tree; the figure is the bytes of the pages
of the tables a sale writes (journal, sales, sale_lines, payments, day_totals) and of all their
indexes, divided by the number of sales. The baseline is the sale's fact itself: the length of
its canonical JSON payload, so the ratio says how much storage the chain, projections and
indexes add on top of the information.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

SALE_TABLES = ("journal", "sales", "sale_lines", "payments", "day_totals")


def bytes_per_sale(database: Path) -> dict[str, Any]:
    """Pages of the sale tables and their indexes per sale, from dbstat (read only)."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)   # reads the WAL too
    try:
        owners = {name: table for name, table in conn.execute(
            "SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')")}
        by_table: dict[str, dict[str, int]] = {t: {"data": 0, "indexes": 0} for t in SALE_TABLES}
        for name, size in conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
            table = owners.get(name)
            if table in by_table:
                by_table[table]["data" if name == table else "indexes"] += size
        sales = conn.execute("SELECT COUNT(*) FROM sales").fetchone()[0]
        payload = conn.execute("SELECT AVG(length(CAST(payload AS BLOB))) FROM journal"
                               " WHERE kind = 'sale'").fetchone()[0]
        file_bytes = Path(database).stat().st_size
    finally:
        conn.close()
    total = sum(v["data"] + v["indexes"] for v in by_table.values())
    return {"sales": sales, "bytes_per_sale": total / sales, "payload_bytes": payload,
            "by_table": {t: {k: v / sales for k, v in parts.items()}
                         for t, parts in by_table.items()},
            "file_bytes_per_sale": file_bytes / sales}
