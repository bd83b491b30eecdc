"""The payload contract, held by both ends (sync/payloads, docs/SYNC.md "Payloads").

Hypothesis makes journals through the stall's real writers (sales with several lines, cash, QR
and split payments, voids of earlier sales, cash moves, day closes, products, bank checks; the
credit book's customers, sales partly on credit, repayments in cash and by transfer, voids of
credit sales and refunds to credit) on a real SQLite stall; the same entries are pushed into a
real SQLite provincial server (`sync.server.store.push`); then the stall's projections and the
server's must agree: sales (number, total, cash, qr, voided or not), lines, payments and their
states, voids, cash moves, Z closes, refunds, repayments, customer numbers and per-day totals
(credit included); the dashboard's daily rollups hold the stall's credit and repayments of each
day; and each sale line's category and OCOP stars on the server are its
product's as the stall had it at the moment it sold (products are changed between sales). Every
payload must match its schema, strictly; and payloads that break the contract are refused by
the stall (nothing written) and stored but not projected by the server.
"""
from __future__ import annotations

import copy
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from pos import (bankcheck, business_days, catalog, credit_book, daybook, db, journal, refunds,
                 sales)
from pos.app import create_app
from sync.errors import Conflict, InvalidInput
from sync.numbers import MAX_AMOUNT
from sync.protocol import utc_timestamp
from sync.payloads import (KINDS, SCHEMAS, PayloadError, conforms, payload_errors,
                           validate_payload)
from sync.money import quantity_text
from sync.server import migrations, rollups, store
from sync.server import db as server_db
from sync.server.db import make_engine, read_transaction, utcnow, write_transaction

# --- the two ends ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("contract-server") / "server.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrations.upgrade(engine)
    engine.dispose()
    return path


class Ends:
    """A fresh stall (a copy of the session's set-up stall) and a fresh server it is paired with."""

    def __init__(self, stall_template: Path, server_template: Path):
        self.dir = Path(tempfile.mkdtemp(prefix="contract-"))
        shutil.copytree(stall_template, self.dir / "stall")
        self.app = create_app({"DATA_DIR": self.dir / "stall", "TESTING": True})
        self.device = self.app.config["DEVICE_ID"]
        self.conn = db.connect(self.app.config["DATABASE"])
        self.marks: list[tuple[int, int, str, int]] = []   # the stall's, read as it sold
        shutil.copy(server_template, self.dir / "server.sqlite3")
        self.engine = make_engine(f"sqlite:///{self.dir / 'server.sqlite3'}")
        head = self.conn.execute("SELECT MAX(seq) FROM journal").fetchone()[0]
        with write_transaction(self.engine) as conn:
            _, _, code = store.add_stall(conn, "Hà Giang", "Phường Minh Khai", "Chợ Hà Giang",
                                         "Sạp cô Lan", "Nguyễn Thị Lan", utcnow())
            paired = store.pair(conn, code, self.device, head, utcnow())
        assert paired["device_id"] == self.device  # bound to the stall's own id

    def push_all(self) -> store.PushResult:
        entries = list(journal.entries(self.conn))
        with write_transaction(self.engine) as conn:
            return store.push(conn, self.device, entries, utcnow())

    def close(self) -> None:
        self.conn.close()
        self.engine.dispose()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def ends(stall_template: Path, server_template: Path) -> Iterator[Ends]:
    both = Ends(stall_template, server_template)
    yield both
    both.close()


# --- the readings of both ends, in one shape ---------------------------------------------------

def stall_view(conn: Any) -> dict[str, Any]:
    q = lambda sql: [tuple(r) for r in conn.execute(sql)]  # noqa: E731
    return {
        "sales": q("SELECT s.seq, s.id, s.number, s.at, s.business_day, s.total,"
                   " IFNULL((SELECT SUM(amount) FROM payments WHERE sale_seq = s.seq AND"
                   " method = 'cash'), 0), IFNULL((SELECT SUM(amount) FROM payments WHERE"
                   " sale_seq = s.seq AND method = 'qr'), 0), s.sold_by, s.voided_seq"
                   " FROM sales s ORDER BY s.seq"),
        "lines": q("SELECT sale_seq, line_no, product_id, name, unit, quantity_milli,"
                   " unit_price, amount FROM sale_lines ORDER BY sale_seq, line_no"),
        "payments": q("SELECT sale_seq, line_no, method, amount, tendered, change, reference,"
                      " state, customer_id FROM payments ORDER BY sale_seq, line_no"),
        "voids": q("SELECT s.voided_seq, s.id, s.seq, s.total, s.void_reason FROM sales s"
                   " WHERE s.voided_seq IS NOT NULL ORDER BY s.voided_seq"),
        "cash_moves": q("SELECT seq, business_day, type, amount, reason, at FROM cash_moves"
                        " ORDER BY seq"),
        "day_closes": q("SELECT seq, business_day, z_number, expected_cash, counted_cash,"
                        " counted_cash - expected_cash, at FROM day_closes ORDER BY seq"),
        "bank_checks": q("SELECT seq, reference, sale_id, state, reason, bank_txn, bank_amount,"
                         " expected, source FROM bank_checks ORDER BY seq"),
        "refunds": q("SELECT seq, sale_seq, business_day, total, cash, qr, credit, reason"
                     " FROM refunds ORDER BY seq"),
        "refund_lines": q("SELECT refund_seq, line_no, quantity_milli, amount FROM refund_lines"
                          " ORDER BY refund_seq, line_no"),
        "day_totals": sorted(q("SELECT business_day, sales_count, revenue, cash, qr, credit,"
                               " voids_count, voided_amount, refunds_count, refunded_amount"
                               " FROM day_totals"
                               " WHERE sales_count + voids_count + refunds_count > 0")),
        # The credit book: repayments (a credit move of the stall's is negative), and the
        # customers as numbers only (the server never sees more of them).
        "repayments": q("SELECT seq, customer_id, -amount, method, business_day FROM"
                        " credit_moves WHERE kind = 'repayment' ORDER BY seq"),
        "customers": q("SELECT id FROM customers ORDER BY id"),
    }


def stall_credit_days(conn: Any) -> list[tuple[Any, ...]]:
    """Per business day: sales put on credit (net of voids and refunds to credit) and
    repayments (all, cash, qr), the days with any of them."""
    days: dict[str, list[int]] = {}
    for day, credit in conn.execute("SELECT business_day, credit FROM day_totals"):
        days.setdefault(day, [0, 0, 0, 0])[0] += credit
    for day, method, amount in conn.execute(
            "SELECT business_day, method, -amount FROM credit_moves WHERE kind = 'repayment'"):
        row = days.setdefault(day, [0, 0, 0, 0])
        row[1] += amount
        row[2 if method == "cash" else 3] += amount
    return sorted((day, *row) for day, row in days.items() if any(row))


def server_credit_days(conn: Any, device: str) -> list[tuple[Any, ...]]:
    """The same, as the dashboard's daily rollup rows of the stall hold them."""
    sp = server_db.stall_periods
    return sorted(tuple(row) for row in conn.execute(
        select(sp.c.period, sp.c.credit, sp.c.repaid, sp.c.repaid_cash, sp.c.repaid_qr)
        .where(sp.c.device_id == device, sp.c.kind == "d"))
        if any(row[1:]))


def server_view(engine: Any, device: str) -> dict[str, Any]:
    t = server_db
    with read_transaction(engine) as conn:
        def q(table: Any, *columns: str, order: tuple[str, ...]) -> list[tuple[Any, ...]]:
            return [tuple(r) for r in conn.execute(
                select(*[table.c[c] for c in columns]).where(table.c.device_id == device)
                .order_by(*[table.c[c] for c in order]))]
        found = q(t.sales, "seq", "sale_id", "number", "at", "business_day", "total", "cash",
                  "qr", "sold_by", "voided_seq", order=("seq",))
        voids = q(t.voids, "seq", "sale_id", "sale_seq", "amount", "reason", order=("seq",))
        refunds = q(t.refunds, "seq", "sale_seq", "business_day", "total", "cash", "qr",
                    "credit", "reason", order=("seq",))
        payments = q(t.payments, "seq", "line_no", "method", "amount", "tendered", "change",
                     "reference", "state", "customer_id", order=("seq", "line_no"))
        view = {
            "sales": found,
            "lines": q(t.sale_lines, "seq", "line_no", "product_id", "name", "unit",
                       "quantity_milli", "unit_price", "amount", order=("seq", "line_no")),
            "payments": payments,
            "voids": voids,
            "refunds": refunds,
            "refund_lines": q(t.refund_lines, "seq", "line_no", "quantity_milli", "amount",
                              order=("seq", "line_no")),
            "cash_moves": q(t.cash_moves, "seq", "business_day", "type", "amount", "reason",
                            "at", order=("seq",)),
            "day_closes": q(t.day_closes, "seq", "business_day", "z_number", "expected_cash",
                            "counted_cash", "difference", "at", order=("seq",)),
            "bank_checks": q(t.qr_checks, "seq", "reference", "sale_id", "state", "reason",
                             "bank_txn", "bank_amount", "expected", "source", order=("seq",)),
            "repayments": q(t.credit_payments, "seq", "customer_id", "amount", "method",
                            "business_day", order=("seq",)),
            "customers": q(t.credit_customers, "customer_id", order=("customer_id",)),
        }
    # Per-day totals as the stall keeps them (net of voids, voids counted on the sale's day).
    days: dict[str, list[int]] = {}
    by_seq = {s[0]: s for s in found}
    credit: dict[int, int] = {}
    for seq, _line, method, amount, *_rest in payments:
        if method == "credit":
            credit[seq] = credit.get(seq, 0) + amount
    for seq, _id, _n, _at, day, total, cash, qr, _by, voided in found:
        row = days.setdefault(day, [0] * 9)
        if voided is None:
            row[0] += 1; row[1] += total; row[2] += cash; row[3] += qr  # noqa: E702
            row[4] += credit.get(seq, 0)
    for _seq, _id, sale_seq, amount, _reason in voids:
        row = days.setdefault(by_seq[sale_seq][4], [0] * 9)
        row[5] += 1; row[6] += amount  # noqa: E702
    for _seq, _sale_seq, day, total, cash, qr, given, _reason in refunds:   # the refund's day
        row = days.setdefault(day, [0] * 9)
        row[1] -= total; row[2] -= cash; row[3] -= qr; row[4] -= given  # noqa: E702
        row[7] += 1; row[8] += total  # noqa: E702
    view["day_totals"] = sorted((day, *row) for day, row in days.items())
    return view


def rollup_rows(conn: Any) -> dict[str, list[tuple[Any, ...]]]:
    return {table.name: sorted(tuple(row) for row in conn.execute(select(table)))
            for table in (server_db.stall_periods, server_db.market_periods,
                          server_db.product_periods)}


# --- journals made by the stall's real writers -------------------------------------------------

FREE_NAMES = ("Rau muống", "Cá rô đồng", "Chè Shan tuyết", "Gạo nếp cái hoa vàng")
QUANTITIES = (1, 2, 3, "0.5", "1.25", "0.333", "2.75")

line = st.one_of(
    st.tuples(st.just("catalogue"), st.integers(0, 50), st.sampled_from(QUANTITIES)),
    st.tuples(st.just("free"), st.sampled_from(FREE_NAMES), st.integers(0, 400) .map(lambda n: n * 500),
              st.sampled_from(QUANTITIES)))
sale_action = st.tuples(st.just("sale"), st.lists(line, min_size=1, max_size=4),
                        st.sampled_from(("cash", "qr", "split", "credit")), st.integers(0, 3),
                        st.integers(1, 99))
CUSTOMERS = (("Trần Thị Lân", "0912 345 678", "Bếp quán phở"), ("Lò Văn Páo", None, None),
             ("Đặng Thị Hoa", "0987654321", None))
actions = st.lists(st.one_of(
    sale_action, sale_action,
    st.tuples(st.just("void"), st.integers(0, 50)),
    st.tuples(st.just("cash_move"), st.sampled_from(("float", "in", "out")),
              st.integers(1, 400).map(lambda n: n * 1000)),
    st.tuples(st.just("day_close"), st.integers(0, 2_000_000)),
    st.tuples(st.just("product"), st.sampled_from(FREE_NAMES), st.integers(1, 300).map(lambda n: n * 1000)),
    # an existing product's category and OCOP stars changed (sales before it keep the old ones)
    st.tuples(st.just("reclassify"), st.integers(0, 50), st.sampled_from(("", "Rau", "Chè")),
              st.sampled_from((None, 3, 5))),
    st.tuples(st.just("bank"), st.integers(0, 50), st.sampled_from((0, 0, -1000, 5000))),
    # refund: part of an open sale's line (quarters of what is left), in cash or by transfer
    st.tuples(st.just("refund"), st.integers(0, 50), st.integers(0, 3), st.integers(1, 4),
              st.sampled_from(("cash", "qr", "credit"))),
    # the credit book: a customer (name, phone, note sealed), or one changed; a repayment of
    # quarters of what she owes, in cash or by a transfer; a credit sale voided
    st.tuples(st.just("customer"), st.integers(0, 2)),
    *[st.tuples(st.just("repay"), st.integers(0, 5), st.integers(1, 4),
                st.sampled_from(("cash", "cash", "qr")))] * 2,
    st.tuples(st.just("void_credit"), st.integers(0, 50)),
    # haggled: a catalogue line at price% of its list price, and discount% off the whole sale
    st.tuples(st.just("haggled"), st.integers(0, 20), st.integers(1, 150), st.integers(0, 60))),
    min_size=1, max_size=12)


def note_marks(ends: Ends) -> None:
    """The category and OCOP stars of the last sale's products at the stall, right now."""
    ends.marks += [tuple(row) for row in ends.conn.execute(
        "SELECT l.sale_seq, l.line_no, IFNULL(p.category, ''), IFNULL(p.ocop_stars, 0)"
        " FROM sale_lines l LEFT JOIN products p ON p.id = l.product_id"
        " WHERE l.sale_seq = (SELECT MAX(seq) FROM sales) ORDER BY l.line_no")]


def run(ends: Ends, plan: list[tuple[Any, ...]]) -> None:
    conn, device = ends.conn, ends.device
    for number, action in enumerate(plan):
        kind = action[0]
        if kind == "sale":
            _, raw_lines, how, extra, share = action
            products = [r[0] for r in conn.execute("SELECT id FROM products WHERE active = 1"
                                                   " ORDER BY id")]
            lines = []
            for raw in raw_lines:
                if raw[0] == "catalogue" and products:
                    lines.append({"product_id": products[raw[1] % len(products)],
                                  "quantity": raw[2]})
                else:
                    lines.append({"name": raw[1], "unit_price": raw[2], "quantity": raw[3],
                                  "unit": "kg"})
            total = sum(line["amount"] for line in sales.resolve_lines(conn, lines))
            if total <= 0:
                continue  # free items at price 0 only: refused, as they must be
            customers = [r[0] for r in conn.execute("SELECT id FROM customers ORDER BY id")]
            if how == "credit" and not customers:   # her first time: she joins the book
                name, phone, note = CUSTOMERS[share % len(CUSTOMERS)]
                customers = [credit_book.create_customer(
                    conn, device, {"name": name, "phone": phone, "note": note})["id"]]
            if how == "credit":   # part paid now in cash (none when extra is 0), the rest owed
                paid = total * share // 100 if extra else 0
                payments = ([{"method": "cash", "amount": paid}] if paid else []) + [
                    {"method": "credit", "amount": total - paid,
                     "customer_id": customers[share % len(customers)]}]
            elif how == "cash":
                payments = [{"method": "cash", "amount": total,
                             "tendered": total + extra * 10_000}]
            elif how == "qr" or total < 2:
                payments = [{"method": "qr", "amount": total}]
            else:
                qr = max(1, min(total - 1, total * share // 100))
                payments = [{"method": "cash", "amount": total - qr}, {"method": "qr", "amount": qr}]
            sales.record_sale(conn, device, {"lines": lines, "payments": payments}, "owner")
            note_marks(ends)
        elif kind == "void":
            open_sales = [r[0] for r in conn.execute("SELECT id FROM sales WHERE voided_seq IS"
                                                     " NULL ORDER BY seq")]
            if open_sales:
                try:
                    sales.void_sale(conn, device, open_sales[action[1] % len(open_sales)],
                                    "Khách đổi ý", "owner")
                except Conflict:
                    pass  # the sale's day is closed
        elif kind == "cash_move":
            daybook.record_cash_move(conn, device, action[1], action[2], "Tiền lẻ", "owner")
        elif kind == "day_close":
            day = business_days.current_business_day(conn, utc_timestamp())
            daybook.close_day(conn, device, day, action[1], "owner")
        elif kind == "product":
            catalog.save_product(conn, device, {"name": f"{action[1]} {number}", "unit": "kg",
                                                "price": action[2]})
        elif kind == "reclassify":
            ids = [r[0] for r in conn.execute("SELECT id FROM products ORDER BY id")]
            catalog.save_product(conn, device, {"category": action[2], "ocop_stars": action[3]},
                                 ids[action[1] % len(ids)])
        elif kind == "refund":
            # to credit: a sale on credit (another is refused: the last case below)
            on_credit = "" if action[4] != "credit" or action[1] % 5 == 0 else (
                " AND EXISTS (SELECT 1 FROM payments p WHERE p.sale_seq = sales.seq"
                " AND p.method = 'credit')")
            open_sales = conn.execute("SELECT id, seq FROM sales WHERE voided_seq IS NULL"
                                      f"{on_credit} ORDER BY seq").fetchall()
            if not open_sales:
                continue
            sale_id, sale_seq = open_sales[action[1] % len(open_sales)]
            sold = conn.execute("SELECT line_no, quantity_milli FROM sale_lines WHERE"
                                " sale_seq = ? ORDER BY line_no", (sale_seq,)).fetchall()
            line_no, sold_q = sold[action[2] % len(sold)]
            given = conn.execute("SELECT IFNULL(SUM(l.quantity_milli), 0) FROM refund_lines l"
                                 " JOIN refunds r ON r.seq = l.refund_seq WHERE r.sale_seq = ?"
                                 " AND l.line_no = ?", (sale_seq, line_no)).fetchone()[0]
            quantity = max(1, (sold_q - given) * action[3] // 4)
            try:
                refunds.refund_sale(conn, device, sale_id, {
                    "lines": [{"line": line_no, "quantity": quantity_text(quantity)}],
                    "payments": [{"method": action[4]}], "reason": "Hàng dập"}, "owner")
            except Conflict:
                pass  # nothing left of that line, nothing of it worth a đồng, or of its credit
            except InvalidInput as exc:   # to credit, a sale that was not on credit
                assert exc.code == "not_on_credit", exc
        elif kind == "customer":
            name, phone, note = CUSTOMERS[action[1]]
            known = conn.execute("SELECT id FROM customers ORDER BY id").fetchall()
            if len(known) > action[1]:   # she exists: her phone changed, her limit set
                credit_book.update_customer(conn, device, known[action[1]][0],
                                            {"phone": "0901 234 567", "credit_limit": 500_000})
            else:
                credit_book.create_customer(conn, device, {"name": name, "phone": phone,
                                                           "note": note})
        elif kind == "repay":
            owing = conn.execute("SELECT id, balance FROM customers WHERE balance > 0"
                                 " ORDER BY id").fetchall()
            if not owing:
                continue
            customer_id, owed = owing[action[1] % len(owing)]
            amount = max(1, owed * action[2] // 4)
            if action[3] == "cash":
                credit_book.repay(conn, device, customer_id,
                                  {"method": "cash", "amount": amount}, "owner")
            else:   # as pos/qrpay.py records a transfer the vendor confirmed
                with db.write_transaction(conn):
                    credit_book.write_repayment(conn, device, customer_id, "qr", amount, "owner",
                                                {"reference": f"SAP0 {number + 1:04d}",
                                                 "confirmed_by": "vendor"})
        elif kind == "void_credit":
            on_credit = [r[0] for r in conn.execute(
                "SELECT s.id FROM sales s WHERE s.voided_seq IS NULL AND EXISTS (SELECT 1 FROM"
                " payments p WHERE p.sale_seq = s.seq AND p.method = 'credit') ORDER BY s.seq")]
            if on_credit:
                try:
                    sales.void_sale(conn, device, on_credit[action[1] % len(on_credit)],
                                    "Khách đổi ý", "owner")
                except Conflict:
                    pass  # the sale's day is closed
        elif kind == "haggled":
            products = conn.execute("SELECT id, price FROM products WHERE active = 1"
                                    " ORDER BY id").fetchall()
            if not products:
                continue
            product_id, price = products[action[1] % len(products)]
            unit_price = price * action[2] // 100
            discount = unit_price * action[3] // 100
            if unit_price - discount <= 0:
                continue
            request = {"lines": [{"product_id": product_id, "quantity": "1",
                                  "unit_price": unit_price}],
                       "payments": [{"method": "cash", "amount": unit_price - discount}]}
            if discount:
                request["discount"] = {"amount": discount, "reason": "Khách quen"}
            sales.record_sale(conn, device, request, "owner")
            note_marks(ends)
        elif kind == "bank":
            qr = conn.execute("SELECT reference, amount FROM payments WHERE method = 'qr'"
                              " ORDER BY sale_seq").fetchall()
            if qr:
                reference, amount = qr[action[1] % len(qr)]
                # A bank credit is at least 1 đồng: both real sources (pos/statement.py and
                # pos/sync/bank.py) drop the rest before bankcheck sees them.
                bank_amount = max(1, amount + action[2])
                bankcheck.apply(conn, device, bankcheck.BankTransaction(
                    f"FT{number:04d}", bank_amount, f"MBVCB.8812.{reference}.CT tu A"),
                    "statement")


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(plan=actions)
def test_the_stall_and_the_server_read_the_same_journal_the_same_way(stall_template,
                                                                     server_template, plan):
    ends = Ends(stall_template, server_template)
    try:
        run(ends, plan)
        both_ends_agree(ends)
    finally:
        ends.close()


def both_ends_agree(ends: Ends) -> None:
    """Every payload keeps the contract, and the server reads the journal as the stall does."""
    if True:   # (indented as when it was the body of the Hypothesis test)
        entries = list(journal.entries(ends.conn))
        for entry in entries:
            assert payload_errors(entry.kind, entry.payload) == [], (entry.kind, entry.payload)
            validate_payload(entry.kind, entry.payload, lenient=True)
            assert conforms(entry.kind, entry.payload)
        result = ends.push_all()
        assert result.refusal is None and result.acked_seq == entries[-1].seq
        ours, theirs = stall_view(ends.conn), server_view(ends.engine, ends.device)
        for table in ours:
            assert theirs[table] == ours[table], table
        # The credit book's figures of each day, as the dashboard reads them, are the stall's.
        with read_transaction(ends.engine) as conn:
            assert server_credit_days(conn, ends.device) == stall_credit_days(ends.conn)
        # Each line's category and OCOP stars: the product's as the stall had it when it sold.
        with read_transaction(ends.engine) as conn:
            sl = server_db.sale_lines
            assert [tuple(r) for r in conn.execute(
                select(sl.c.seq, sl.c.line_no, sl.c.category, sl.c.ocop_stars)
                .order_by(sl.c.seq, sl.c.line_no))] == ends.marks
        # The dashboard's rollups kept on push equal the rollups rebuilt from the projections.
        with write_transaction(ends.engine) as conn:
            kept = rollup_rows(conn)
            rollups.rebuild(conn)
            assert rollup_rows(conn) == kept


# Every move of the credit book at least once, whatever Hypothesis draws: a cash sale; a customer;
# sales partly and wholly on credit; a credit sale voided; repayments in cash and by transfer; a
# refund to credit (the stall then owes her a little), and one refused (its sale was paid in
# cash); a Z; the customer changed; a credit sale the next business day, paid back whole.
CREDIT_PLAN = [
    ("sale", [("free", "Rau muống", 10_000, 2)], "cash", 0, 1),
    ("customer", 0),
    ("sale", [("free", "Cá rô đồng", 20_000, 3)], "credit", 1, 40),
    ("sale", [("catalogue", 0, 2)], "credit", 0, 7),
    ("void_credit", 1),
    ("repay", 0, 2, "cash"),
    ("repay", 0, 1, "qr"),
    ("refund", 1, 0, 1, "credit"),
    ("refund", 0, 0, 1, "credit"),
    ("day_close", 0),
    ("customer", 0),
    ("sale", [("free", "Chè Shan tuyết", 50_000, 1)], "credit", 2, 50),
    ("repay", 0, 4, "cash"),
]


def test_the_credit_book_reads_the_same_at_both_ends(ends):
    run(ends, CREDIT_PLAN)
    entries = list(journal.entries(ends.conn))
    kinds = [entry.kind for entry in entries]
    credit_sales = [e for e in entries if e.kind == "sale"
                    and any(p["method"] == "credit" for p in e.payload["payments"])]
    assert kinds.count("customer") == 2 and len(credit_sales) == 3
    assert any(len(e.payload["payments"]) == 2 for e in credit_sales)   # part paid in cash
    assert sorted(e.payload["method"] for e in entries if e.kind == "credit_payment") == \
        ["cash", "cash", "qr"]
    [void] = [e for e in entries if e.kind == "void"]
    assert void.payload["sale_seq"] == credit_sales[1].seq
    [refund] = [e for e in entries if e.kind == "refund"]
    assert [p["method"] for p in refund.payload["payments"]] == ["credit"]
    [close] = [e for e in entries if e.kind == "day_close"]
    assert close.payload["credit"]["repaid"]["count"] == 2
    assert close.payload["credit"]["sales"]["count"] == 1    # the voided one is out
    both_ends_agree(ends)
    with read_transaction(ends.engine) as conn:
        days = server_credit_days(conn, ends.device)
    # The Z's repayments are the dashboard's of that day; every debt was paid back in the end.
    assert (days[0][2], days[0][3], days[0][4]) == tuple(
        close.payload["credit"]["repaid"][k] for k in ("amount", "cash", "qr"))
    assert sum(day[1] for day in days) == sum(day[2] for day in days) > 0


# --- the schemas themselves ---------------------------------------------------------------------

def test_every_kind_the_stall_projects_has_a_schema():
    from pos.projections import PROJECTORS
    assert set(PROJECTORS) == set(KINDS) == set(SCHEMAS)
    for kind, schema in SCHEMAS.items():
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["title"] == kind


def test_a_payload_error_names_the_offending_field():
    payload = {"number": 1, "business_day": "2026-11-23", "total": 5000, "sold_by": "owner",
               "lines": [{"product_id": None, "name": "Sả", "unit": "bó", "quantity_milli": 0,
                          "unit_price": 5000, "amount": 5000}],
               "payments": [{"method": "cash", "amount": 5000, "tendered": 5000, "change": 0}]}
    with pytest.raises(PayloadError) as caught:
        validate_payload("sale", payload)
    assert caught.value.path == "lines[0].quantity_milli"
    assert "lines[0].quantity_milli" in str(caught.value)
    with pytest.raises(PayloadError, match="unknown entry kind"):
        validate_payload("harvest", {})   # a kind no stall writes yet


# --- payloads that break the contract ----------------------------------------------------------

def _good_sale(ends: Ends) -> dict[str, Any]:
    sales.record_sale(ends.conn, ends.device, {"lines": [{"name": "Sả", "unit_price": 5000,
                                                          "quantity": 2}],
                                               "payments": [{"method": "cash", "amount": 10000}]},
                      "owner")
    return copy.deepcopy(list(journal.entries(ends.conn))[-1].payload)


BREAKAGES = {
    "a card payment": lambda p: p["payments"][0].update(method="card"),
    "a zero quantity": lambda p: p["lines"][0].update(quantity_milli=0),
    "a total past MAX_AMOUNT": lambda p: p.update(total=MAX_AMOUNT + 1),
    "a total as text": lambda p: p.update(total="10000"),
    "no lines": lambda p: p.update(lines=[]),
    "a line without its amount": lambda p: p["lines"][0].pop("amount"),
    "a bad business day": lambda p: p.update(business_day="23/11/2026"),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_a_payload_that_breaks_the_contract_is_refused_by_the_stall_and_not_projected_by_the_server(
        ends, breakage, caplog):
    payload = _good_sale(ends)
    BREAKAGES[breakage](payload)
    payload["number"] = 2
    before = ends.conn.execute("SELECT COUNT(*) FROM journal").fetchone()[0]
    with pytest.raises(PayloadError):
        with db.write_transaction(ends.conn):
            journal.append(ends.conn, ends.device, "sale", payload)
    assert ends.conn.execute("SELECT COUNT(*) FROM journal").fetchone()[0] == before

    # The same payload from a buggy stall: stored (the journal is the truth), not projected.
    from tests.server.chain import make_entry
    entries = list(journal.entries(ends.conn))
    bad = make_entry(ends.device, entries[-1].seq + 1, entries[-1].hash, "sale", payload)
    with write_transaction(ends.engine) as conn:
        result = store.push(conn, ends.device, [*entries, bad], utcnow())
    assert result.refusal is None and result.acked_seq == bad.seq
    with read_transaction(ends.engine) as conn:
        stored = conn.execute(select(server_db.journal.c.seq).where(
            server_db.journal.c.device_id == ends.device)).scalars().all()
        projected = conn.execute(select(server_db.sales.c.seq)).scalars().all()
    assert bad.seq in stored and bad.seq not in projected
    assert projected == [entries[-1].seq]  # the good sale before it is projected
    assert f"{ends.device}/{bad.seq} (sale) stored but not projected" in caplog.text


def test_an_unknown_field_is_refused_by_the_stall_but_projected_by_the_server(ends):
    payload = _good_sale(ends)
    payload.update(number=2, loyalty_points=12)   # a newer stall's field
    with pytest.raises(PayloadError, match="loyalty_points"):
        with db.write_transaction(ends.conn):
            journal.append(ends.conn, ends.device, "sale", payload)
    from tests.server.chain import make_entry
    entries = list(journal.entries(ends.conn))
    newer = make_entry(ends.device, entries[-1].seq + 1, entries[-1].hash, "sale", payload)
    with write_transaction(ends.engine) as conn:
        store.push(conn, ends.device, [*entries, newer], utcnow())
    with read_transaction(ends.engine) as conn:
        assert newer.seq in conn.execute(select(server_db.sales.c.seq)).scalars().all()


def test_a_sale_past_max_amount_is_refused_by_the_stall_as_the_server_cannot_project_it(ends):
    # Found by this contract: each payment is within MAX_AMOUNT, so a sale of two or more
    # payments could reach a total the server refuses to project (stored, never on the
    # dashboard). The stall now refuses it as a bad request, before any journal entry.
    request = {"lines": [{"name": "Trâu", "unit_price": 600_000_000_000, "quantity": 2}],
               "payments": [{"method": "cash", "amount": 600_000_000_000},
                            {"method": "cash", "amount": 600_000_000_000}]}
    before = ends.conn.execute("SELECT COUNT(*) FROM journal").fetchone()[0]
    with pytest.raises(InvalidInput) as caught:
        sales.record_sale(ends.conn, ends.device, request, "owner")
    assert caught.value.code == "total_too_large"
    assert ends.conn.execute("SELECT COUNT(*) FROM journal").fetchone()[0] == before
    payload = _good_sale(ends)
    payload["total"] = 2 * 600_000_000_000
    with pytest.raises(PayloadError, match="total"):
        validate_payload("sale", payload, lenient=True)


# --- the compiled check and jsonschema agree ----------------------------------------------------
# The stall and the server decide with fastjsonschema's compiled check (sync.payloads.conforms)
# and name the field with jsonschema; the two must never disagree on a verdict.

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12)
    | st.sampled_from(["cash", "qr", "2026-12-05", "05/12/2026", "owner", ""]),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8)

GOOD_SALE = {"number": 3, "business_day": "2026-12-05", "total": 30000, "sold_by": "owner",
             "lines": [{"product_id": 1, "name": "Sả", "unit": "bó", "quantity_milli": 1500,
                        "unit_price": 20000, "amount": 30000}],
             "payments": [{"method": "cash", "amount": 30000, "tendered": 50000,
                           "change": 20000}]}


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place inside a payload a mutation can hit: dict keys and list indexes."""
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*prefix, index))
    return out


def _replace(payload: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    out = copy.deepcopy(payload)
    target = out
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return out


def _agree(kind: str, payload: Any) -> None:
    for lenient in (False, True):
        fast = payload_errors(kind, payload, lenient=lenient) == []
        assert conforms(kind, payload, lenient=lenient) == fast, (kind, lenient, payload)


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_the_compiled_check_and_jsonschema_give_the_same_verdict(data):
    kind = data.draw(st.sampled_from(KINDS))
    base = GOOD_SALE if kind == "sale" else data.draw(json_values)
    path = data.draw(st.sampled_from(_paths(base)))
    payload = _replace(base, path, data.draw(json_values))
    _agree(kind, payload)


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_the_compiled_check_refuses_every_breakage(breakage):
    payload = copy.deepcopy(GOOD_SALE)
    _agree("sale", payload)
    assert conforms("sale", payload)
    BREAKAGES[breakage](payload)
    _agree("sale", payload)
    assert not conforms("sale", payload)
    assert not conforms("sale", {**GOOD_SALE, "total": True})   # a bool is not an integer


def test_the_payload_schemas_bound_fields_as_the_stall_validators_do():
    # The stall's validators and its OpenAPI read pos/limits.py; the core's payload schemas are
    # JSON files beside the core, which cannot import the stall: held equal here.
    from pos import limits
    sale = SCHEMAS["sale"]["properties"]
    line = sale["lines"]["items"]["properties"]
    assert sale["lines"]["maxItems"] == limits.MAX_LINES
    assert sale["payments"]["maxItems"] == limits.MAX_PAYMENTS
    assert line["name"]["maxLength"] == limits.NAME_CHARS
    assert line["unit"]["maxLength"] == limits.UNIT_CHARS
    assert sale["total"]["maximum"] == line["unit_price"]["maximum"] == MAX_AMOUNT
    product = SCHEMAS["product"]["properties"]
    for field, most in (("name", limits.NAME_CHARS), ("unit", limits.UNIT_CHARS),
                        ("category", limits.CATEGORY_CHARS), ("trace_url", limits.TRACE_URL_CHARS)):
        assert product[field]["maxLength"] == most, field
    assert product["barcode"]["pattern"].endswith(f"{{4,{limits.BARCODE_CHARS}}}$")
    assert SCHEMAS["void"]["properties"]["reason"]["maxLength"] == limits.REASON_CHARS
    assert SCHEMAS["cash_move"]["properties"]["reason"]["maxLength"] == limits.REASON_CHARS


# --- invoice_correction: adjustment lines with or without their goods ---------------------------

ADJUSTMENT = {
    "type": "adjustment", "sale_id": "0" * 36, "business_day": "2026-12-05",
    "original": {"code": "M2-26-A1B2C-00000000001", "form": 2, "symbol": "C26MAB", "number": 1,
                 "day": "2026-12-05"},
    "invoice": {"code": "M2-26-A1B2C-00000000002", "form": 2, "symbol": "C26MAB",
                "range": "A1B2C", "year": 2026, "block": 0, "number": 2,
                "seller": {"name": "Nguyễn Thị Hoa", "tax_code": "0101234567", "address": "",
                           "phone": "", "store": "", "location_code": ""}},
    "lines": [{"name": "Trả lại Tôm khô", "amount": -450000, "unit": "kg",
               "quantity_milli": 500, "unit_price": 900000},
              {"name": "Giảm giá", "amount": -20000}],           # as every older entry has it
    "total": -470000, "delta": -470000, "reason": "Tôm bị ẩm", "issued_by": "owner"}
GOODS = ("unit", "quantity_milli", "unit_price")


def _adjustment_line(**changes: Any) -> dict[str, Any]:
    payload = copy.deepcopy(ADJUSTMENT)
    payload["lines"][0].update(changes)
    for key in [k for k, v in payload["lines"][0].items() if v is None]:
        del payload["lines"][0][key]
    return payload


def test_adjustment_lines_may_carry_their_goods_and_older_ones_need_not():
    for payload in (ADJUSTMENT, _adjustment_line(unit=None, quantity_milli=None, unit_price=None)):
        for lenient in (False, True):
            assert payload_errors("invoice_correction", payload, lenient=lenient) == []
            _agree("invoice_correction", payload)


@pytest.mark.parametrize("changes", [
    {"unit": None}, {"quantity_milli": None}, {"unit_price": None},     # all three or none
    {"unit": None, "quantity_milli": None},
    {"quantity_milli": -500},                     # never signed: the amount carries the sign
    {"quantity_milli": 0}, {"quantity_milli": 10**9 + 1}, {"quantity_milli": "0.5"},
    {"unit": ""}, {"unit": "x" * 17}, {"unit_price": -1}, {"unit_price": MAX_AMOUNT + 1}])
def test_an_adjustment_lines_goods_are_bounded_as_a_sale_lines(changes):
    payload = _adjustment_line(**changes)
    for lenient in (False, True):          # the server refuses them too: they are not unknown
        assert payload_errors("invoice_correction", payload, lenient=lenient), (changes, lenient)
        _agree("invoice_correction", payload)
    assert not conforms("invoice_correction", {**ADJUSTMENT, "lines": [
        {**ADJUSTMENT["lines"][0], "product_id": None}]})     # a goods line is not a sale line


def test_adjustment_line_goods_have_the_sale_lines_bounds():
    sale_line = SCHEMAS["sale"]["properties"]["lines"]["items"]["properties"]
    schema = SCHEMAS["invoice_correction"]
    adjustment_lines = [schema["properties"]["lines"]["items"]["anyOf"][0],
                        schema["allOf"][0]["then"]["properties"]["lines"]["items"]]
    assert adjustment_lines[0] == adjustment_lines[1]
    for line in adjustment_lines:
        assert line["additionalProperties"] is False and line["required"] == ["name", "amount"]
        for field in GOODS:
            bounds = {k: v for k, v in line["properties"][field].items() if k != "description"}
            assert bounds == {k: v for k, v in sale_line[field].items() if k != "description"}, \
                field


def test_the_server_projects_a_refunds_adjustment_and_an_older_one(ends, caplog):
    """Both shapes of adjustment line reach the server's e-invoice queue with valid XML."""
    from tests.server.chain import make_entry
    from lxml import etree
    from sync.invoice_xml import schema_path
    from sync.server.db import einvoice_queue
    _good_sale(ends)
    entries = list(journal.entries(ends.conn))
    head, pushed = entries[-1], []
    for number, lines in ((2, ADJUSTMENT["lines"]), (3, ADJUSTMENT["lines"][1:])):
        payload = copy.deepcopy(ADJUSTMENT)
        payload["sale_id"] = entries[-1].id
        payload["invoice"].update(number=number, code=f"M2-26-A1B2C-0000000000{number}")
        payload["lines"] = copy.deepcopy(lines)
        payload["total"] = payload["delta"] = sum(line["amount"] for line in lines)
        validate_payload("invoice_correction", payload)          # the stall's strict reading
        entry = make_entry(ends.device, head.seq + 1, head.hash, "invoice_correction", payload)
        pushed.append(entry)
        head = entry
    with write_transaction(ends.engine) as conn:
        result = store.push(conn, ends.device, [*entries, *pushed], utcnow())
    assert result.refusal is None and result.acked_seq == pushed[-1].seq
    assert "stored but not projected" not in caplog.text
    with read_transaction(ends.engine) as conn:
        queued = {row.seq: row.xml for row in conn.execute(select(einvoice_queue))}
    with schema_path(2).open("rb") as f:
        xsd = etree.XMLSchema(etree.parse(f))
    documents = [etree.fromstring(queued[entry.seq].encode("utf-8")) for entry in pushed]
    for document in documents:
        assert xsd.validate(document), xsd.error_log
    lines = [[(i.findtext("DVTinh"), i.findtext("SLuong"), i.findtext("DGia"),
               i.findtext("ThTien")) for i in d.iter("HHDVu")] for d in documents]
    assert lines == [[("kg", "-0.5", "900000", "-450000"), ("lần", "-1", "20000", "-20000")],
                     [("lần", "-1", "20000", "-20000")]]
