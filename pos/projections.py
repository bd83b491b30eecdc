"""The stall's tables from its journal entries: one function per kind, the only copy.

Every writer (pos/sales.py, pos/catalog.py, pos/daybook.py, pos/bankcheck.py) appends its entry
and then calls `project` in the same transaction; `market-pos recover` (pos/sync/recover.py) calls
the same function for each entry it downloads from the provincial server. So a stall rebuilt
from the server's copy of its journal has exactly the tables it had, and a change to a
projection is made once.
"""
from __future__ import annotations

import json
import sqlite3
from typing import Callable

from .text import fold
from sync.protocol import Entry


class UnknownKind(ValueError):
    """An entry of a kind this version cannot project (a newer stall's journal)."""


def _sale(conn: sqlite3.Connection, entry: Entry) -> None:
    p = entry.payload
    discount = p.get("discount") or {}
    conn.execute("INSERT INTO sales (id, seq, number, at, business_day, total, sold_by, discount,"
                 " discount_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (entry.id, entry.seq, p["number"], entry.at, p["business_day"], p["total"],
                  p["sold_by"], discount.get("amount", 0), discount.get("reason")))
    # A line's product may be one of the province's catalogue, which is not journalled: a stall
    # rebuilt from its journal (recover) has not pulled it yet, so the link is then left empty.
    conn.executemany(
        "INSERT INTO sale_lines (sale_seq, line_no, product_id, name, unit, quantity_milli,"
        " unit_price, amount, list_price)"
        " VALUES (?, ?, (SELECT id FROM products WHERE id = ?), ?, ?, ?, ?, ?, ?)",
        [(entry.seq, line_no, line.get("product_id"), line["name"], line["unit"],
          line["quantity_milli"], line["unit_price"], line["amount"], line.get("list_price"))
         for line_no, line in enumerate(p["lines"], start=1)])
    conn.executemany(
        "INSERT INTO payments (sale_seq, line_no, method, amount, tendered, change, reference,"
        " bank_bin, account, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(entry.seq, line_no, pay["method"], pay["amount"], pay.get("tendered"), pay.get("change"),
          pay.get("reference"), pay.get("bank_bin"), pay.get("account"),
          "vendor_confirmed" if pay["method"] == "qr" else None)
         for line_no, pay in enumerate(p["payments"], start=1)])
    cash = sum(pay["amount"] for pay in p["payments"] if pay["method"] == "cash")
    conn.execute("INSERT INTO day_totals (business_day, sales_count, revenue, cash, qr)"
                 " VALUES (?, 1, ?, ?, ?) ON CONFLICT (business_day) DO UPDATE SET"
                 " sales_count = sales_count + 1, revenue = revenue + excluded.revenue,"
                 " cash = cash + excluded.cash, qr = qr + excluded.qr",
                 (p["business_day"], p["total"], cash, p["total"] - cash))


def _void(conn: sqlite3.Connection, entry: Entry) -> None:
    p = entry.payload
    sale = conn.execute("SELECT seq, total, business_day FROM sales WHERE id = ?",
                        (p["sale_id"],)).fetchone()
    conn.execute("UPDATE sales SET voided_seq = ?, void_reason = ? WHERE id = ?",
                 (entry.seq, p["reason"], p["sale_id"]))
    cash = conn.execute("SELECT IFNULL(SUM(amount), 0) FROM payments WHERE sale_seq = ? AND"
                        " method = 'cash'", (sale["seq"],)).fetchone()[0]
    conn.execute("UPDATE day_totals SET sales_count = sales_count - 1, revenue = revenue - ?,"
                 " cash = cash - ?, qr = qr - ?, voids_count = voids_count + 1,"
                 " voided_amount = voided_amount + ? WHERE business_day = ?",
                 (sale["total"], cash, sale["total"] - cash, sale["total"],
                  sale["business_day"]))


def _product(conn: sqlite3.Connection, entry: Entry) -> None:
    p = entry.payload
    conn.execute(
        "INSERT INTO products (id, name, search_key, unit, price, category, barcode, ocop_stars,"
        " trace_url, active, journal_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET name = excluded.name, search_key = excluded.search_key,"
        " unit = excluded.unit, price = excluded.price, category = excluded.category,"
        " barcode = excluded.barcode, ocop_stars = excluded.ocop_stars,"
        " trace_url = excluded.trace_url, active = excluded.active,"
        " journal_seq = excluded.journal_seq",
        (p["product_id"], p["name"], fold(p["name"]), p["unit"], p["price"],
         p.get("category") or "", p.get("barcode"), p.get("ocop_stars"), p.get("trace_url"),
         int(bool(p.get("active", True))), entry.seq))


def _cash_move(conn: sqlite3.Connection, entry: Entry) -> None:
    p = entry.payload
    conn.execute("INSERT INTO cash_moves (seq, business_day, type, amount, reason, at)"
                 " VALUES (?, ?, ?, ?, ?, ?)",
                 (entry.seq, p["business_day"], p["type"], p["amount"], p["reason"], entry.at))


def _day_close(conn: sqlite3.Connection, entry: Entry) -> None:
    p = entry.payload
    conn.execute("INSERT INTO day_closes (business_day, z_number, seq, at, expected_cash,"
                 " counted_cash, report) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (p["business_day"], p["z_number"], entry.seq, entry.at,
                  p["cash_drawer"]["expected"], p["counted_cash"],
                  json.dumps(p, ensure_ascii=False)))


def _payment_check(conn: sqlite3.Connection, entry: Entry) -> None:
    p = entry.payload
    conn.execute(
        "INSERT INTO bank_checks (seq, bank_txn, reference, sale_id, state, reason, bank_amount,"
        " expected, source, business_day, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (entry.seq, p["bank_txn"], p.get("reference"), p.get("sale_id"), p["state"],
         p.get("reason"), p["bank_amount"], p.get("expected"), p["source"], p["business_day"],
         entry.at))
    if p.get("sale_id") is not None:
        conn.execute("UPDATE payments SET state = ?, bank_txn = CASE WHEN ? = 'bank_confirmed'"
                     " THEN ? ELSE bank_txn END WHERE sale_seq = (SELECT seq FROM sales WHERE"
                     " id = ?) AND method = 'qr' AND reference = ?",
                     (p["state"], p["state"], p["bank_txn"], p["sale_id"], p.get("reference")))


def _none(conn: sqlite3.Connection, entry: Entry) -> None:
    """Kinds whose tables SQLite triggers write (MTT invoices, see migration 0009_tax)."""


def _refund(conn: sqlite3.Connection, entry: Entry) -> None:
    p = entry.payload
    cash = sum(pay["amount"] for pay in p["payments"] if pay["method"] == "cash")
    conn.execute("INSERT INTO refunds (seq, id, sale_seq, business_day, at, total, cash, qr,"
                 " reason, refunded_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (entry.seq, entry.id, p["sale_seq"], p["business_day"], entry.at, p["total"],
                  cash, p["total"] - cash, p["reason"], p["refunded_by"]))
    conn.executemany("INSERT INTO refund_lines (refund_seq, line_no, quantity_milli, amount)"
                     " VALUES (?, ?, ?, ?)",
                     [(entry.seq, line["line"], line["quantity_milli"], line["amount"])
                      for line in p["lines"]])
    # Counted on the day of the refund (not the sale's), as cash out of the drawer or a transfer.
    conn.execute("INSERT INTO day_totals (business_day, revenue, cash, qr, refunds_count,"
                 " refunded_amount) VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT (business_day) DO"
                 " UPDATE SET revenue = revenue + excluded.revenue, cash = cash + excluded.cash,"
                 " qr = qr + excluded.qr, refunds_count = refunds_count + 1,"
                 " refunded_amount = refunded_amount + excluded.refunded_amount",
                 (p["business_day"], -p["total"], -cash, cash - p["total"], p["total"]))


PROJECTORS: dict[str, Callable[[sqlite3.Connection, Entry], None]] = {
    "sale": _sale, "void": _void, "product": _product, "cash_move": _cash_move,
    "day_close": _day_close, "payment_check": _payment_check, "invoice_correction": _none,
    "refund": _refund}


def project(conn: sqlite3.Connection, entry: Entry) -> None:
    """Write the tables of one entry, inside the caller's write transaction."""
    projector = PROJECTORS.get(entry.kind)
    if projector is None:
        raise UnknownKind(entry.kind)
    projector(conn, entry)
