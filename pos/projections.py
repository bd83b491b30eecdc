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
from decimal import Decimal
from typing import Callable

from . import personal_data
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
        " bank_bin, account, state, customer_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(entry.seq, line_no, pay["method"], pay["amount"], pay.get("tendered"), pay.get("change"),
          pay.get("reference"), pay.get("bank_bin"), pay.get("account"),
          "vendor_confirmed" if pay["method"] == "qr" else None, pay.get("customer_id"))
         for line_no, pay in enumerate(p["payments"], start=1)])
    cash, credit = _by_method(p["payments"])
    for pay in p["payments"]:
        if pay["method"] == "credit":
            _credit_move(conn, entry, pay["customer_id"], "sale", pay["amount"], None, entry.seq,
                         p["business_day"])
    _stock_moves(conn, entry, "sale", p["business_day"],
                 [(line.get("product_id"), -line["quantity_milli"]) for line in p["lines"]])
    conn.execute("INSERT INTO day_totals (business_day, sales_count, revenue, cash, qr, credit)"
                 " VALUES (?, 1, ?, ?, ?, ?) ON CONFLICT (business_day) DO UPDATE SET"
                 " sales_count = sales_count + 1, revenue = revenue + excluded.revenue,"
                 " cash = cash + excluded.cash, qr = qr + excluded.qr,"
                 " credit = credit + excluded.credit",
                 (p["business_day"], p["total"], cash, p["total"] - cash - credit, credit))


def _by_method(payments: list[dict]) -> tuple[int, int]:
    """The cash and the credit parts of a sale's or a refund's payments (the rest is transfer)."""
    return (sum(pay["amount"] for pay in payments if pay["method"] == "cash"),
            sum(pay["amount"] for pay in payments if pay["method"] == "credit"))


def _credit_move(conn: sqlite3.Connection, entry: Entry, customer_id: int, kind: str,
                 amount: int, method: str | None, sale_seq: int | None, day: str) -> None:
    """One change of a customer's balance (+ raises her debt), and the balance itself; the day
    her debt began is kept while she owes, for the list of debtors (oldest first)."""
    conn.execute("INSERT INTO credit_moves (seq, customer_id, kind, amount, method, sale_seq,"
                 " business_day, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 (entry.seq, customer_id, kind, amount, method, sale_seq, day, entry.at))
    conn.execute("UPDATE customers SET balance = balance + ?, owing_since = CASE"
                 " WHEN balance + ? <= 0 THEN NULL WHEN balance <= 0 THEN ? ELSE owing_since END"
                 " WHERE id = ?", (amount, amount, entry.at, customer_id))


def _void(conn: sqlite3.Connection, entry: Entry) -> None:
    p = entry.payload
    sale = conn.execute("SELECT seq, total, business_day FROM sales WHERE id = ?",
                        (p["sale_id"],)).fetchone()
    conn.execute("UPDATE sales SET voided_seq = ?, void_reason = ? WHERE id = ?",
                 (entry.seq, p["reason"], p["sale_id"]))
    payments = [dict(row) for row in conn.execute(
        "SELECT method, amount, customer_id FROM payments WHERE sale_seq = ?", (sale["seq"],))]
    cash, credit = _by_method(payments)
    # What the sale took from stock goes back (only that: a sale from before the product was
    # tracked took nothing).
    _stock_moves(conn, entry, "void", p["business_day"], [
        (row[0], -row[1]) for row in conn.execute(
            "SELECT product_id, quantity_milli FROM stock_moves WHERE seq = ?", (sale["seq"],))])
    for pay in payments:
        if pay["method"] == "credit":   # a voided credit sale is no longer owed
            _credit_move(conn, entry, pay["customer_id"], "void", -pay["amount"], None,
                         sale["seq"], p["business_day"])
    conn.execute("UPDATE day_totals SET sales_count = sales_count - 1, revenue = revenue - ?,"
                 " cash = cash - ?, qr = qr - ?, credit = credit - ?,"
                 " voids_count = voids_count + 1, voided_amount = voided_amount + ?"
                 " WHERE business_day = ?",
                 (sale["total"], cash, sale["total"] - cash - credit, credit, sale["total"],
                  sale["business_day"]))


def _milli(text: str) -> int:
    """An entry's exact decimal text ("2.5") in thousandths (2500)."""
    return int(Decimal(text) * 1000)


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
    # The low-stock threshold (entries from before issue 19 leave it as it was). An untracked
    # product keeps it in an untracked stock row until its first purchase or count.
    if "low_stock" not in p:
        return
    if p["low_stock"] is None:
        conn.execute("UPDATE stock SET low_milli = NULL WHERE product_id = ?", (p["product_id"],))
    else:
        conn.execute("INSERT INTO stock (product_id, tracked, low_milli, since_seq)"
                     " VALUES (?, 0, ?, ?) ON CONFLICT (product_id) DO UPDATE SET"
                     " low_milli = excluded.low_milli",
                     (p["product_id"], _milli(p["low_stock"]), entry.seq))


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
    cash, credit = _by_method(p["payments"])
    conn.execute("INSERT INTO refunds (seq, id, sale_seq, business_day, at, total, cash, qr,"
                 " credit, reason, refunded_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (entry.seq, entry.id, p["sale_seq"], p["business_day"], entry.at, p["total"],
                  cash, p["total"] - cash - credit, credit, p["reason"], p["refunded_by"]))
    for pay in p["payments"]:
        if pay["method"] == "credit":   # given back off her debt
            _credit_move(conn, entry, pay["customer_id"], "refund", -pay["amount"], None,
                         p["sale_seq"], p["business_day"])
    conn.executemany("INSERT INTO refund_lines (refund_seq, line_no, quantity_milli, amount)"
                     " VALUES (?, ?, ?, ?)",
                     [(entry.seq, line["line"], line["quantity_milli"], line["amount"])
                      for line in p["lines"]])
    # The goods come back to the stall's stock (a tracked product's).
    _stock_moves(conn, entry, "refund", p["business_day"],
                 [(line.get("product_id"), line["quantity_milli"]) for line in p["lines"]])
    # Counted on the day of the refund (not the sale's), as cash out of the drawer or a transfer.
    conn.execute("INSERT INTO day_totals (business_day, revenue, cash, qr, credit, refunds_count,"
                 " refunded_amount) VALUES (?, ?, ?, ?, ?, 1, ?) ON CONFLICT (business_day) DO"
                 " UPDATE SET revenue = revenue + excluded.revenue, cash = cash + excluded.cash,"
                 " qr = qr + excluded.qr, credit = credit + excluded.credit,"
                 " refunds_count = refunds_count + 1,"
                 " refunded_amount = refunded_amount + excluded.refunded_amount",
                 (p["business_day"], -p["total"], -cash, cash + credit - p["total"], -credit,
                  p["total"]))


def _customer(conn: sqlite3.Connection, entry: Entry) -> None:
    """The credit book's customer, her personal data unsealed with the vendor's key (a stall
    rebuilt without it cannot project this: pos/sync/recover.py asks for the recovery code)."""
    p = entry.payload
    if personal_data.stored_key(conn) is None:
        # Rebuilt without the recovery code (`recover --without-personal-data`): the figures
        # come back, the names stay sealed for good; a placeholder keeps the book usable.
        fields = {"name": f"Khách #{p['customer_id']}", "phone": None, "note": None}
    else:
        fields = {key: personal_data.unseal(conn, p[key]) if p.get(key) else None
                  for key in ("name", "phone", "note")}
    conn.execute(
        "INSERT INTO customers (id, entry_seq, name, search_key, phone, note, credit_limit,"
        " active, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
        " entry_seq = excluded.entry_seq, name = excluded.name,"
        " search_key = excluded.search_key, phone = excluded.phone, note = excluded.note,"
        " credit_limit = excluded.credit_limit, active = excluded.active",
        (p["customer_id"], entry.seq, fields["name"], fold(fields["name"]), fields["phone"],
         fields["note"], p["credit_limit"], int(p["active"]), entry.at))


def _credit_payment(conn: sqlite3.Connection, entry: Entry) -> None:
    p = entry.payload
    _credit_move(conn, entry, p["customer_id"], "repayment", -p["amount"], p["method"], None,
                 p["business_day"])


def _stock_moves(conn: sqlite3.Connection, entry: Entry, kind: str, day: str,
                 changes: list[tuple[int | None, int]], *, track: bool = False) -> None:
    """Change the stock of the products in `changes` (product id, ± thousandths; lines of one
    product add up), one `stock_moves` row each. Only tracked products move, unless `track`
    (a purchase or a count starts tracking). A product the stall does not hold (a province
    catalogue product not pulled yet on a rebuilt stall) is left out."""
    summed: dict[int, int] = {}
    for product_id, quantity in changes:
        if product_id is not None:
            summed[product_id] = summed.get(product_id, 0) + quantity
    for product_id, quantity in summed.items():
        if track:
            if conn.execute("SELECT 1 FROM products WHERE id = ?", (product_id,)).fetchone() \
                    is None:
                continue
            conn.execute("INSERT INTO stock (product_id, since_seq) VALUES (?, ?)"
                         " ON CONFLICT (product_id) DO UPDATE SET tracked = 1,"
                         " since_seq = excluded.since_seq WHERE tracked = 0",
                         (product_id, entry.seq))
        elif conn.execute("SELECT 1 FROM stock WHERE product_id = ? AND tracked = 1",
                          (product_id,)).fetchone() is None:
            continue
        if quantity == 0:
            continue
        conn.execute("UPDATE stock SET on_hand_milli = on_hand_milli + ? WHERE product_id = ?",
                     (quantity, product_id))
        conn.execute("INSERT INTO stock_moves (seq, product_id, kind, quantity_milli,"
                     " business_day) VALUES (?, ?, ?, ?, ?)",
                     (entry.seq, product_id, kind, quantity, day))


def _purchase(conn: sqlite3.Connection, entry: Entry) -> None:
    """Goods bought from a grower: the grower (unsealed, on the stall only, for the purchase
    list), the purchase, its lines and payments, and the stock they add."""
    p = entry.payload
    if personal_data.stored_key(conn) is None:
        # Rebuilt without the recovery code: the figures come back, the names stay sealed.
        fields: dict[str, str | None] = {"name": f"Người bán #{p['number']}", "id_number": None,
                                         "address": None, "phone": None}
    else:
        fields = {key: personal_data.unseal(conn, p[f"supplier_{key}"])
                  if p.get(f"supplier_{key}") else None
                  for key in ("name", "id_number", "address", "phone")}
    key = fold(fields["name"] or "")
    conn.execute(
        "INSERT INTO suppliers (name, search_key, id_number, address, phone, first_seq, last_seq)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (search_key, IFNULL(id_number, ''))"
        " DO UPDATE SET name = excluded.name, address = IFNULL(excluded.address, address),"
        " phone = IFNULL(excluded.phone, phone), last_seq = excluded.last_seq",
        (fields["name"], key, fields["id_number"], fields["address"], fields["phone"],
         entry.seq, entry.seq))
    supplier_id = conn.execute(
        "SELECT id FROM suppliers WHERE search_key = ? AND IFNULL(id_number, '') = ?",
        (key, fields["id_number"] or "")).fetchone()[0]
    cash = sum(pay["amount"] for pay in p["payments"] if pay["method"] == "cash")
    conn.execute("INSERT INTO purchases (seq, id, number, at, business_day, supplier_id, total,"
                 " cash, qr, bought_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (entry.seq, entry.id, p["number"], entry.at, p["business_day"], supplier_id,
                  p["total"], cash, p["total"] - cash, p["bought_by"]))
    conn.executemany(
        "INSERT INTO purchase_lines (purchase_seq, line_no, product_id, name, unit,"
        " quantity_milli, unit_price, amount)"
        " VALUES (?, ?, (SELECT id FROM products WHERE id = ?), ?, ?, ?, ?, ?)",
        [(entry.seq, line_no, line["product_id"], line["name"], line["unit"],
          line["quantity_milli"], line["unit_price"], line["amount"])
         for line_no, line in enumerate(p["lines"], start=1)])
    conn.executemany(
        "INSERT INTO purchase_payments (purchase_seq, line_no, method, amount)"
        " VALUES (?, ?, ?, ?)",
        [(entry.seq, line_no, pay["method"], pay["amount"])
         for line_no, pay in enumerate(p["payments"], start=1)])
    _stock_moves(conn, entry, "purchase", p["business_day"],
                 [(line["product_id"], line["quantity_milli"]) for line in p["lines"]],
                 track=True)


def _stock_count(conn: sqlite3.Connection, entry: Entry) -> None:
    """A count: each counted quantity becomes the stock; the difference is the move."""
    p = entry.payload
    for line in p["lines"]:
        product_id = line["product_id"]
        if conn.execute("SELECT 1 FROM products WHERE id = ?", (product_id,)).fetchone() is None:
            continue
        row = conn.execute("SELECT on_hand_milli FROM stock WHERE product_id = ? AND tracked = 1",
                           (product_id,)).fetchone()
        before = row[0] if row else None
        conn.execute("INSERT INTO stock_counts (seq, product_id, counted_milli, before_milli,"
                     " reason, business_day, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (entry.seq, product_id, line["counted_milli"], before, p["reason"],
                      p["business_day"], entry.at))
        _stock_moves(conn, entry, "count", p["business_day"],
                     [(product_id, line["counted_milli"] - (before or 0))], track=True)


PROJECTORS: dict[str, Callable[[sqlite3.Connection, Entry], None]] = {
    "sale": _sale, "void": _void, "product": _product, "cash_move": _cash_move,
    "day_close": _day_close, "payment_check": _payment_check, "invoice_correction": _none,
    "refund": _refund, "customer": _customer, "credit_payment": _credit_payment,
    "purchase": _purchase, "stock_count": _stock_count}


def project(conn: sqlite3.Connection, entry: Entry) -> None:
    """Write the tables of one entry, inside the caller's write transaction."""
    projector = PROJECTORS.get(entry.kind)
    if projector is None:
        raise UnknownKind(entry.kind)
    projector(conn, entry)
