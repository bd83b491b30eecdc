"""The stalls' credit book on the provincial server (issue 18), on SQLite and PostgreSQL.

A real stall (pos/credit_book.py, its own writers) keeps a credit book: customers whose names,
phones and notes it seals, sales partly on credit, repayments in cash and by transfer, a voided
credit sale, a refund to credit, a customer changed, a Z. Its journal goes up through the real
push API. Then:

- privacy: no server table, dumped whole as text (and on SQLite the database files byte by byte),
  nor the server's log, holds a buyer's name, phone or note, in any case, with or without
  diacritics; the dashboard's pages (Vietnamese and English), every CSV export, the monthly PDF
  and the public receipt check show none of them, nor a customer column; a push that carries
  personal data in clear is refused before anything of it is stored;
- figures: the server's repayments, customer numbers and credit rollups are the stall's, kept on
  push equal rebuilt, and the dashboard shows the credit sales and repayments of each day;
- revision 0012 fills what a server that ran 0011 stored already, and rebuilds the rollups.
"""
from __future__ import annotations

import logging
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import inspect, select, text

from pos import business_days, credit_book, daybook, db, journal, refunds, sales
from pos.app import create_app as create_stall_app
from sync.protocol import new_signing_key, public_key_of, utc_timestamp
from sync.server import rollups
from sync.server.db import (credit_customers, credit_payments, integrity_alerts,
                            read_transaction, write_transaction)
from sync.server.db import journal as server_journal
from sync.server.users import create_user
from tests.test_payload_contract import server_credit_days, stall_credit_days

from .chain import make_entry
from .conftest import add_stall, bearer
from .test_admin import PASSWORD, csrf

NAME, PHONE = "Trần Thị Lân", "0912345678"
NOTE = "Bếp quán phở Hàng Bông, gọi trước 7 giờ"
OTHER, OTHER_PHONE = "Nguyễn Văn Đức", "0987 654 321"
NEW_PHONE, NEW_NOTE = "0977 111 222", "Chuyển về chợ Đồng Xuân"


# --- what must never be found on the server -----------------------------------------------------

def fold(value: str) -> str:
    """Lower case without diacritics (đ as d), as a search box would read it."""
    value = unicodedata.normalize("NFD", value.lower()).replace("đ", "d")
    return "".join(c for c in value if not unicodedata.combining(c))


def _forms(value: str) -> set[str]:
    lower = value.lower()
    return {lower, unicodedata.normalize("NFD", lower), fold(value),
            fold(value).replace(" ", ""), fold(value).replace(" ", "-")}


def _phone_forms(phone: str) -> set[str]:
    digits = re.sub(r"\D", "", phone)
    national = digits[1:]
    return {digits, national, f"+84{national}", f"84{national}", phone,
            f"{digits[:4]} {digits[4:7]} {digits[7:]}", f"{digits[:4]}.{digits[4:7]}.{digits[7:]}"}


FORBIDDEN = sorted(set().union(*(_forms(t) for t in (NAME, NOTE, OTHER, NEW_NOTE)),
                               *(_phone_forms(p) for p in (PHONE, OTHER_PHONE, NEW_PHONE))))


def leaks(found: str) -> list[str]:
    """The forbidden forms present in a text (compared in every reading of it)."""
    readings = {found.lower(), unicodedata.normalize("NFC", found.lower()),
                unicodedata.normalize("NFD", found.lower()), fold(found)}
    return [form for form in FORBIDDEN if any(form in reading for reading in readings)]


def test_the_forbidden_forms_catch_what_they_must():
    assert leaks("... TRAN THI LAN ...") and leaks("tran-thi-lan") and leaks("tranthilan")
    assert leaks(unicodedata.normalize("NFD", "trần thị lân")) and leaks("+84912345678")
    assert leaks("0912.345.678") and leaks("bep quan pho hang bong, goi truoc 7 gio")
    assert not leaks("Nguyễn Thị Lan · Sạp rau cô Lan · 120.000 ₫ · pd1:Zm9vYmFy")


# --- a stall that keeps a credit book ----------------------------------------------------------

def _sale(conn, device, name, price, quantity, payments, unit="kg"):
    return sales.record_sale(conn, device, {
        "lines": [{"name": name, "unit_price": price, "quantity": quantity, "unit": unit}],
        "payments": payments}, "owner")


def credit_book_stall(stall_template: Path, tmp_path: Path) -> SimpleNamespace:
    """The stall's journal, written by its own writers (times are now: business days today and,
    after the Z, tomorrow)."""
    folder = tmp_path / "stall"
    shutil.copytree(stall_template, folder)
    app = create_stall_app({"DATA_DIR": folder, "TESTING": True})
    device = app.config["DEVICE_ID"]
    conn = db.connect(app.config["DATABASE"])
    try:
        lan = credit_book.create_customer(conn, device, {"name": NAME, "phone": PHONE,
                                                         "note": NOTE})["id"]
        duc = credit_book.create_customer(conn, device, {"name": OTHER,
                                                         "phone": OTHER_PHONE})["id"]
        _sale(conn, device, "Rau muống", 10_000, 2, [{"method": "cash", "amount": 20_000}])
        part = _sale(conn, device, "Cá rô đồng", 90_000, "1.5", [
            {"method": "cash", "amount": 35_000},
            {"method": "credit", "amount": 100_000, "customer_id": lan}])
        tea = _sale(conn, device, "Chè Shan tuyết", 120_000, 2, [
            {"method": "credit", "amount": 240_000, "customer_id": duc}], unit="gói")
        wrong = _sale(conn, device, "Mật ong bạc hà", 50_000, 1, [
            {"method": "credit", "amount": 50_000, "customer_id": lan}], unit="chai")
        sales.void_sale(conn, device, wrong["id"], "Nhầm đơn", "owner")
        credit_book.repay(conn, device, lan, {"method": "cash", "amount": 40_000}, "owner")
        with db.write_transaction(conn):   # a transfer, as pos/qrpay.py records it
            credit_book.write_repayment(conn, device, duc, "qr", 100_000, "owner",
                                        {"reference": "SAP0 0001", "confirmed_by": "vendor"})
        refunds.refund_sale(conn, device, tea["id"], {
            "lines": [{"line": 1, "quantity": "1"}], "payments": [{"method": "credit"}],
            "reason": "Hàng ẩm"}, "owner")
        credit_book.update_customer(conn, device, lan, {"phone": NEW_PHONE, "note": NEW_NOTE})
        today = business_days.current_business_day(conn, utc_timestamp())
        daybook.close_day(conn, device, today, 95_000, "owner")
        _sale(conn, device, "Cá rô đồng", 60_000, 1, [
            {"method": "credit", "amount": 60_000, "customer_id": lan}])
        credit_book.repay(conn, device, lan, {"method": "cash", "amount": 20_000}, "owner")
        entries = list(journal.entries(conn))
        days = stall_credit_days(conn)
        balances = dict(conn.execute("SELECT id, balance FROM customers").fetchall())
        repaid = [tuple(r) for r in conn.execute(
            "SELECT seq, customer_id, -amount, method, business_day FROM credit_moves"
            " WHERE kind = 'repayment' ORDER BY seq")]
    finally:
        conn.close()
    assert [e.kind for e in entries].count("customer") == 3 and len(days) == 2
    assert balances == {lan: 100_000 - 40_000 + 60_000 - 20_000, duc: 240_000 - 100_000 - 120_000}
    by_id = {e.id: e for e in entries}
    return SimpleNamespace(device=device, entries=entries, days=days, repaid=repaid,
                           part=by_id[part["id"]], today=today,
                           tomorrow=next(d for d, *_ in days if d != today))


def pair_and_push(client, engine, book, batches=2):
    """Pair the stall under its own device id and push its journal in `batches` requests."""
    stall = add_stall(engine, "Sạp cá cô Mai")
    key = new_signing_key()
    answer = client.post("/api/v1/pair", json={"code": stall.code, "device_id": book.device,
                                                "head_seq": len(book.entries),
                                                "public_key": public_key_of(key)})
    assert answer.status_code == 200, answer.get_json()
    stall.headers = bearer(answer.get_json()["token"])
    size = -(-len(book.entries) // batches)
    for start in range(0, len(book.entries), size):
        pushed = client.post("/api/v1/journal", headers=stall.headers, json={
            "device_id": book.device,
            "entries": [e.to_dict() for e in book.entries[start:start + size]]})
        assert pushed.status_code == 200, pushed.get_json()
    assert pushed.get_json()["acked_seq"] == book.entries[-1].seq
    return stall


@pytest.fixture
def book(stall_template, tmp_path):
    return credit_book_stall(stall_template, tmp_path / "book")


def dump(engine) -> dict[str, str]:
    """Every row of every table of the server's database, as text."""
    out = {}
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            rows = conn.execute(text(f'SELECT * FROM "{table}"')).all()
            out[table] = "\n".join(" | ".join(str(value) for value in row) for row in rows)
    return out


# --- privacy -----------------------------------------------------------------------------------

def test_the_server_holds_no_buyer_name_phone_or_note(client, engine, server_db, book, caplog):
    caplog.set_level(logging.DEBUG)
    pair_and_push(client, engine, book)
    tables = dump(engine)
    assert "credit_payments" in tables and "credit_customers" in tables
    for table, rows in tables.items():
        assert leaks(rows) == [], table
    # The ciphertext is there, as pushed (the journal is the truth), and only there.
    sealed = [e.payload["name"] for e in book.entries if e.kind == "customer"]
    assert all(value.startswith("pd1:") and value in tables["journal"] for value in sealed)
    assert [t for t, rows in tables.items() if "pd1:" in rows] == ["journal"]
    assert leaks(caplog.text) == [] and "pd1:" not in caplog.text
    if server_db.startswith("sqlite"):   # the files themselves, free pages and WAL included
        path = Path(server_db.split("///", 1)[1])
        raw = b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal"))
                       if p.exists())
        for form in FORBIDDEN:
            for encoded in {form.encode("utf-8"), unicodedata.normalize("NFC", form).encode(),
                            form.upper().encode("utf-8")}:
                assert encoded not in raw.lower() and encoded not in raw, form


def test_the_server_projects_a_customer_as_a_number_only(client, engine, book):
    pair_and_push(client, engine, book)
    with engine.connect() as conn:
        assert {c["name"] for c in inspect(conn).get_columns("credit_customers")} == {
            "device_id", "customer_id", "seq"}
        assert {c["name"] for c in inspect(conn).get_columns("credit_payments")} == {
            "device_id", "seq", "customer_id", "amount", "method", "business_day", "at"}
    customers = [e for e in book.entries if e.kind == "customer"]
    with read_transaction(engine) as conn:
        assert [tuple(r) for r in conn.execute(
            select(credit_customers.c.customer_id, credit_customers.c.seq)
            .order_by(credit_customers.c.customer_id))] == [(1, customers[0].seq),
                                                            (2, customers[1].seq)]
        assert [tuple(r) for r in conn.execute(
            select(credit_payments.c.seq, credit_payments.c.customer_id,
                   credit_payments.c.amount, credit_payments.c.method,
                   credit_payments.c.business_day).order_by(credit_payments.c.seq))] == \
            book.repaid
        assert server_credit_days(conn, book.device) == book.days
    with write_transaction(engine) as conn:
        kept = {t.name: sorted(map(tuple, conn.execute(select(t))))
                for t in (rollups.stall_periods, rollups.market_periods)}
        rollups.rebuild(conn)
        assert {t.name: sorted(map(tuple, conn.execute(select(t))))
                for t in (rollups.stall_periods, rollups.market_periods)} == kept


def _hostile_customer(book, **payload):
    last = book.entries[-1]
    sealed = next(e for e in book.entries if e.kind == "customer").payload["name"]
    return make_entry(book.device, last.seq + 1, last.hash, "customer", {
        "customer_id": 3, "name": sealed, "phone": None,
        "note": None, "credit_limit": None, "active": True, **payload})


@pytest.mark.parametrize("clear", [
    {"name": NAME}, {"phone": PHONE}, {"note": NOTE}, {"customer_id": NAME},
    {"alias": [NAME]}, {"name": "pd1:" + NAME}, None])
def test_personal_data_in_clear_is_refused_before_anything_is_stored(
        client, engine, book, caplog, clear):
    """A stall that broke the contract (the stall's own check refuses this) sends a customer
    with a name, phone or note in clear, in its field or hidden in another: 409, not stored,
    no integrity alert (which would keep the entry), nothing of it in the log."""
    stall = pair_and_push(client, engine, book)
    caplog.set_level(logging.DEBUG)
    bad = _hostile_customer(book, **(clear or {}))
    answer = client.post("/api/v1/journal", headers=stall.headers,
                         json={"device_id": book.device, "entries": [bad.to_dict()]})
    if clear is None:   # the same entry with every value sealed: stored
        assert answer.status_code == 200 and answer.get_json()["acked_seq"] == bad.seq
        return
    assert answer.status_code == 409
    error = answer.get_json()["error"]
    assert (error["code"], error["seq"]) == ("personal_data_in_clear", bad.seq)
    assert leaks(answer.get_data(as_text=True)) == [] and "alias" not in error["message"]
    assert answer.get_json()["acked_seq"] == book.entries[-1].seq
    with read_transaction(engine) as conn:
        assert conn.execute(select(server_journal.c.seq).where(
            server_journal.c.seq == bad.seq)).first() is None
        assert conn.execute(select(integrity_alerts)).first() is None
    assert leaks(caplog.text) == []
    for rows in dump(engine).values():
        assert leaks(rows) == []


def test_a_customer_entry_that_cannot_be_projected_is_logged_without_its_values(
        client, engine, book, caplog):
    stall = pair_and_push(client, engine, book)
    caplog.set_level(logging.DEBUG)
    odd = _hostile_customer(book, customer_id=-987_654, credit_limit=-1)   # sealed, out of bounds
    answer = client.post("/api/v1/journal", headers=stall.headers,
                         json={"device_id": book.device, "entries": [odd.to_dict()]})
    assert answer.status_code == 200
    assert f"{book.device}/{odd.seq} (customer) stored but not projected" in caplog.text
    assert "987654" not in caplog.text and "pd1:" not in caplog.text
    with read_transaction(engine) as conn:
        assert conn.execute(select(credit_customers.c.customer_id)).scalars().all() == [1, 2]


# --- what the dashboard shows -----------------------------------------------------------------

def _vnd(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " ₫"


def _admin(app, engine):
    with write_transaction(engine) as conn:
        create_user(conn, "quantri", PASSWORD, "admin")
    client = app.test_client()
    answer = client.post("/admin/login", data={"username": "quantri", "password": PASSWORD,
                                               "csrf_token": csrf(client)})
    assert answer.status_code == 302
    return client


def test_the_dashboard_shows_credit_totals_and_no_customer(app, client, engine, book):
    pair_and_push(client, engine, book)
    admin = _admin(app, engine)
    from sync.server import scope
    with read_transaction(engine) as conn:
        stall = scope.resolve(conn, "stall", book.device)
    places = {"province": stall.province_id, "commune": stall.commune_id,
              "market": stall.market_id, "stall": book.device}
    credit = {day: (c, r, cash, qr) for day, c, r, cash, qr in book.days}
    seen = []
    for language in ("vi", "en"):
        token = csrf(admin, "/admin/stalls")
        assert admin.post("/admin/lang", data={"lang": language, "csrf_token": token,
                                               "next": "/"}).status_code == 302
        for level, key in places.items():
            for period, day in (("day", book.today), ("day", book.tomorrow),
                                ("month", book.today)):
                url = f"/dashboard/{level}/{key}?period={period}&date={day}"
                page = admin.get(url)
                html = page.get_data(as_text=True)
                assert page.status_code == 200, url
                seen.append(html)
                days = [d for d in credit if period == "month" and d[:7] == day[:7]
                        or d == day]
                want = [sum(credit[d][i] for d in days) for i in range(4)]
                assert f'id="fig-credit">{_vnd(want[0])}<' in html, url
                assert f'id="fig-repaid">{_vnd(want[1])}<' in html, url
                assert f"{_vnd(want[2])} · QR {_vnd(want[3])}" in html, url
                for name in re.findall(r'data-grid="(\w+)"', html):
                    export = admin.get(f"/dashboard/{level}/{key}/{name}.csv?period={period}"
                                       f"&date={day}")
                    assert export.status_code == 200, (url, name)
                    seen.append(export.data.decode("utf-8-sig"))
        # the breakdown and day-by-day tables carry both figures, in the page and the export
        head = admin.get(f"/dashboard/market/{stall.market_id}/stalls.csv?period=month&"
                         f"date={book.today}").data.decode("utf-8-sig").splitlines()
        assert head[0].endswith(("Credit sales,Repayments", "Bán ghi nợ,Thu nợ")), head[0]
        total = sum(c for c, *_ in credit.values())
        assert head[1].split(",")[-2:] == [str(total), str(sum(r for _, r, *_ in
                                                                 credit.values()))]
    report = admin.get(f"/dashboard/commune/{stall.commune_id}/report.pdf?date={book.today}")
    assert report.status_code == 200
    pdf = subprocess.run(["pdftotext", "-layout", "-", "-"], input=report.data,
                         capture_output=True, check=True).stdout.decode("utf-8")
    month = [sum(v[i] for d, v in credit.items() if d[:7] == book.today[:7]) for i in range(4)]
    assert _vnd(month[0]) in pdf and _vnd(month[1]) in pdf
    seen.append(pdf)
    code = (f"MP1;{book.part.id};{book.device};{book.part.seq};{book.part.hash[:16]};"
            f"{book.part.payload['total']}")
    check = client.get("/check?c=" + quote(code, safe=""))
    assert 'data-state="registered"' in check.get_data(as_text=True)
    seen.append(check.get_data(as_text=True))
    for found in seen:
        assert leaks(found) == []
        # no customer column, number or note anywhere: the province sees totals
        assert "customer" not in found.lower() and "khách" not in found.lower()
        assert "pd1:" not in found


# --- revision 0012 on a server that stored a credit book under 0011 ----------------------------

def test_0012_fills_what_0011_stored_and_rebuilds_the_rollups(empty_db, stall_template, tmp_path):
    from alembic import command
    from click.testing import CliRunner

    from sync.server import migrations
    from sync.server.app import create_app
    from sync.server.cli import main
    from sync.server.db import make_engine, payments, refunds as server_refunds

    book = credit_book_stall(stall_template, tmp_path)
    engine = make_engine(empty_db)
    migrations.upgrade(engine)
    app = create_app({"DATABASE_URL": empty_db, "TESTING": True, "SECRET_KEY": "test"})
    try:
        pair_and_push(app.test_client(), app.extensions["market_server"]["engine"], book)

        def snapshot():
            with read_transaction(engine) as conn:
                return {table.name: sorted(tuple(row) for row in conn.execute(select(table)))
                        for table in (payments, server_refunds, credit_payments,
                                      credit_customers, rollups.stall_periods,
                                      rollups.market_periods, rollups.product_periods)}

        pushed = snapshot()
        assert pushed["credit_payments"] and pushed["credit_customers"]
        config = migrations.alembic_config(engine)
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0011")
        with engine.connect() as conn:
            assert not inspect(conn).has_table("credit_payments")
            # what 0011's projection made of the refund to credit: a transfer
            assert conn.execute(text("SELECT qr FROM refunds")).scalar() == 120_000
        result = CliRunner().invoke(main, ["init", "--database", empty_db])
        assert result.exit_code == 0, result.output
        assert snapshot() == pushed
    finally:
        app.extensions["market_server"]["engine"].dispose()
        engine.dispose()
