"""No step of making a sale scans the journal or a day's sales (issue 8: the stall stays fast as
its journal grows).

Statically: every SQL statement a real sale runs (POST /api/sales, captured with the connection's
trace callback) and every trigger on the tables a sale writes is explained with EXPLAIN QUERY
PLAN, and must reach its rows through an index (SEARCH), never by reading a table (SCAN).
Dynamically, because EXPLAIN QUERY PLAN calls a MAX() over an unindexed column a SEARCH too: the
SQLite virtual-machine steps of one sale are counted, and stay the same after hundreds more sales
on the same day.
"""
from __future__ import annotations

import re
import sqlite3
from typing import Any

import pytest

from pos import db

# Tables a sale writes, whose triggers run inside the sale's transaction.
SALE_TABLES = ("journal", "sales", "sale_lines", "payments", "day_totals", "tax_invoices",
               "mtt_counters")
# Statements that are not queries.
NOT_QUERIES = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|PRAGMA)\b", re.I)
# A trigger body that only refuses the change reads no table.
RAISE_ONLY = re.compile(r"^\s*SELECT\s+RAISE\s*\([^)]*\)\s*$", re.I)
# A small table of settings rows read by prefix: bounded by the number of settings, never by
# trade, so reading it whole costs the same on the first day and after a million sales.
BOUNDED = {"settings"}

CASH_SALE = {"lines": [{"product_id": 1, "quantity": "2"}, {"product_id": 4, "quantity": "0.25"},
                       {"product_id": 6, "quantity": "3"}],
             "payments": [{"method": "cash", "amount": 495000, "tendered": 500000}]}


def scans(conn: sqlite3.Connection, sql: str) -> list[str]:
    """The SCAN steps of a statement's query plan, except a bounded table's."""
    plan = conn.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
    found = []
    for row in plan:
        detail = row[3]
        match = re.match(r"SCAN (\w+)", detail)
        if match and match.group(1) != "CONSTANT" and match.group(1) not in BOUNDED:
            found.append(detail)
    return found


def trigger_statements(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """(trigger name, statement) for the WHEN clause and each body statement of every trigger
    on a table a sale writes; NEW.x and OLD.x become NULL, so that the plan can be explained
    (the plan of `col = NULL` is the plan of `col = ?`)."""
    out = []
    placeholders = ",".join("?" * len(SALE_TABLES))
    for name, sql in conn.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
                                  f" AND tbl_name IN ({placeholders})", SALE_TABLES):
        match = re.search(r"\b(?:WHEN\s+(.*?)\s+)?BEGIN\s+(.*)\bEND\s*$", sql, re.S | re.I)
        assert match, f"cannot read trigger {name}"
        when, body = match.groups()
        parts = ([f"SELECT {when}"] if when else []) + [
            s for s in body.split(";") if s.strip() and not RAISE_ONLY.match(s)]
        out += [(name, re.sub(r"\b(NEW|OLD)\.\w+", "NULL", part)) for part in parts]
    return out


def kept_connection(app: Any) -> sqlite3.Connection:
    """The connection the app's pool hands out next (pos/db.py ConnectionPool, last used first):
    the test client's requests come one at a time, so they all run on it."""
    return app.extensions["market_pos_connections"].idle[-1]


@pytest.fixture
def sale_statements(app: Any, api: Any) -> list[str]:
    """The SQL text of every statement one API sale runs, after a first sale warmed up."""
    assert api.post("/api/sales", json=CASH_SALE).status_code == 201
    captured: list[str] = []
    conn = kept_connection(app)
    conn.set_trace_callback(captured.append)
    try:
        answer = api.post("/api/sales", json=CASH_SALE)
    finally:
        conn.set_trace_callback(None)
    assert answer.status_code == 201, answer.get_json()
    return [s for s in captured if not NOT_QUERIES.match(s)]


def test_the_capture_sees_the_whole_sale(sale_statements: list[str]) -> None:
    """Guard against a vacuous pass: the captured statements are those of a sale."""
    text = "\n".join(sale_statements)
    for step in ("INSERT INTO journal", "INSERT INTO sales", "INSERT INTO sale_lines",
                 "INSERT INTO payments", "INSERT INTO day_totals", "MAX(number)",
                 "FROM api_tokens", "SELECT MAX(seq) FROM journal"):
        assert step in text, step


def test_no_statement_of_a_sale_scans_a_table(app: Any, sale_statements: list[str]) -> None:
    conn = db.connect(app.config["DATABASE"])
    try:
        problems = {sql[:160]: found for sql in dict.fromkeys(sale_statements)
                    if (found := scans(conn, sql))}
    finally:
        conn.close()
    assert not problems, problems


def test_no_trigger_on_the_sale_tables_scans_a_table(conn: sqlite3.Connection) -> None:
    statements = trigger_statements(conn)
    assert any(name == "journal_append_only" for name, _ in statements)
    problems = {f"{name}: {sql.strip()[:160]}": found for name, sql in statements
                if (found := scans(conn, sql))}
    assert not problems, problems


def test_the_check_finds_a_scan(conn: sqlite3.Connection) -> None:
    """The checker flags what it is there to flag: reading a day's sales, or the journal."""
    assert scans(conn, "SELECT COUNT(*) FROM sales WHERE total > 0")
    assert scans(conn, "SELECT * FROM journal WHERE kind = 'sale'")
    assert scans(conn, "SELECT SUM(amount) FROM payments WHERE method = 'cash'")
    assert not scans(conn, "SELECT * FROM sales WHERE id = '1'")
    assert not scans(conn, "SELECT seq, hash FROM journal WHERE seq = (SELECT MAX(seq) FROM journal)")


def sale_steps(app: Any, api: Any) -> int:
    """SQLite virtual-machine steps of one API sale, on the connection the request runs on."""
    steps = [0]

    def count(*_: Any) -> int:
        steps[0] += 1
        return 0

    conn = kept_connection(app)
    conn.set_progress_handler(count, 1)
    try:
        answer = api.post("/api/sales", json=CASH_SALE)
    finally:
        conn.set_progress_handler(None, 1)
    assert answer.status_code == 201, answer.get_json()
    return steps[0]


def test_a_sale_takes_the_same_steps_after_hundreds_more(app: Any, api: Any, conn: Any) -> None:
    from pos import sales
    assert api.post("/api/sales", json=CASH_SALE).status_code == 201   # warm: day row exists
    before = sale_steps(app, api)
    conn.execute("PRAGMA synchronous = OFF")  # filling only: durability is not under test
    for _ in range(400):
        sales.record_sale(conn, app.config["DEVICE_ID"], CASH_SALE, "owner")
    after = sale_steps(app, api)
    # A scan of the journal, the sales or their lines would add thousands of steps.
    assert before > 500 and after - before < 100, (before, after)
