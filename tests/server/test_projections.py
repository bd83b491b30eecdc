"""The server's tables rebuilt from entries: sales, lines, payments, voids, cash moves, Z closes,
the stall's own products and the category and OCOP stars of each sale line."""
from __future__ import annotations

from sqlalchemy import func, select

from sync.server.catalogue import set_catalogue_product
from sync.server.db import (cash_moves, day_closes, journal, payments, product_entries,
                            read_transaction, sale_lines, sales, voids, write_transaction)

from .chain import Chain
from .conftest import COMMUNE, MARKET, PROVINCE, push


def rows(engine, table):
    with read_transaction(engine) as conn:
        return conn.execute(select(table).order_by(*table.primary_key.columns)).mappings().all()


def test_sales_lines_and_payments_with_the_cash_qr_split(client, engine, stall):
    chain = Chain(stall.device_id)
    cash_sale = chain.sale()
    split_sale = chain.sale(qr_share=30_000, variant=1)
    qr_sale = chain.sale(qr_share=10**9)
    assert push(client, stall, chain.entries).status_code == 200
    found = rows(engine, sales)
    assert [s["seq"] for s in found] == [1, 2, 3]
    for row, entry in zip(found, (cash_sale, split_sale, qr_sale)):
        assert row["sale_id"] == entry.id and row["number"] == entry.payload["number"]
        assert row["total"] == entry.payload["total"] and row["at"] == entry.at
        assert row["cash"] + row["qr"] == row["total"]
        assert row["voided_seq"] is None and row["device_id"] == stall.device_id
    assert (found[0]["cash"], found[0]["qr"]) == (cash_sale.payload["total"], 0)
    assert found[1]["qr"] == 30_000
    assert (found[2]["cash"], found[2]["qr"]) == (0, qr_sale.payload["total"])
    lines = rows(engine, sale_lines)
    assert len(lines) == sum(len(e.payload["lines"]) for e in chain.entries)
    first = cash_sale.payload["lines"][0]
    assert {k: lines[0][k] for k in first} == first
    assert sum(line["amount"] for line in lines) == sum(s["total"] for s in found)
    pays = rows(engine, payments)
    assert [(p["seq"], p["method"]) for p in pays] == [(1, "cash"), (2, "cash"), (2, "qr"),
                                                        (3, "qr")]
    assert pays[0]["change"] == pays[0]["tendered"] - pays[0]["amount"]


def test_void_marks_its_sale(client, engine, stall):
    chain = Chain(stall.device_id)
    sale = chain.sale()
    chain.sale()
    void = chain.void(sale, "Nhập nhầm")
    assert push(client, stall, chain.entries).status_code == 200
    found = rows(engine, sales)
    assert found[0]["voided_seq"] == void.seq and found[1]["voided_seq"] is None
    [row] = rows(engine, voids)
    assert (row["seq"], row["sale_id"], row["sale_seq"], row["amount"], row["reason"]) == \
        (3, sale.id, 1, sale.payload["total"], "Nhập nhầm")


def test_void_in_a_later_batch_marks_its_sale(client, engine, stall):
    chain = Chain(stall.device_id)
    sale = chain.sale()
    push(client, stall, chain.entries)
    chain.void(sale)
    push(client, stall, chain.entries[1:])
    assert rows(engine, sales)[0]["voided_seq"] == 2


def test_cash_moves_and_day_close(client, engine, stall):
    chain = Chain(stall.device_id)
    chain.cash_move("float", 500_000)
    chain.cash_move("out", 120_000, "Mua túi nilon")
    chain.sale()
    chain.day_close(expected=700_000, counted=690_000, z_number=1)
    assert push(client, stall, chain.entries).status_code == 200
    moves = rows(engine, cash_moves)
    assert [(m["type"], m["amount"], m["reason"]) for m in moves] == [
        ("float", 500_000, ""), ("out", 120_000, "Mua túi nilon")]
    [close] = rows(engine, day_closes)
    assert (close["business_day"], close["z_number"], close["expected_cash"],
            close["counted_cash"], close["difference"]) == ("2026-11-22", 1, 700_000, 690_000,
                                                            -10_000)


def _sale_of(chain, items, day="2026-11-22"):
    """A cash sale of one unit of each (product_id, name, unit, price)."""
    lines = [{"product_id": pid, "name": name, "unit": unit, "quantity_milli": 1000,
              "unit_price": price, "amount": price} for pid, name, unit, price in items]
    total = sum(line["amount"] for line in lines)
    chain.sales += 1
    return chain.append("sale", {"number": chain.sales, "business_day": day, "total": total,
                                 "sold_by": "owner", "lines": lines, "payments": [
                                     {"method": "cash", "amount": total, "tendered": total,
                                      "change": 0}]})


def _marks(engine, sale):
    with read_transaction(engine) as conn:
        return [(row.name, row.category, row.ocop_stars) for row in conn.execute(
            select(sale_lines).where(sale_lines.c.seq == sale.seq)
            .order_by(sale_lines.c.line_no))]


HONEY = (1, "Mật ong bạc hà", "chai", 250_000)
TEA = (7, "Chè Shan tuyết", "gói", 120_000)        # from the reference catalogue (no entry)
TYPED_TEA = (None, "Chè Shan tuyết", "gói", 120_000)  # typed in: no product at all
PLUMS = (8, "Mận Bắc Hà", "kg", 30_000)
GREENS = (9, "Rau muống", "bó", 10_000)


def test_a_sale_line_takes_its_products_category_and_stars_as_the_stall_had_them(
        client, engine, stall):
    """Issue 17: the stall's own products carry categories and OCOP stars (product entries, now
    projected); catalogue products (not journalled) take the catalogue's; typed lines none.
    A product changed later does not change the lines sold before."""
    with write_transaction(engine) as conn:
        set_catalogue_product(conn, province=PROVINCE, name="Chè Shan tuyết", unit="gói",
                              price=120_000, category="Chè", ocop_stars=4)
        set_catalogue_product(conn, province=PROVINCE, name="Mận Bắc Hà", unit="kg",
                              price=30_000, category="Quả (tỉnh)")
        set_catalogue_product(conn, province=PROVINCE, commune=COMMUNE, market=MARKET,
                              name="Mận Bắc Hà", unit="kg", price=32_000, category="Quả",
                              ocop_stars=3)              # the stall's own market: narrower
        set_catalogue_product(conn, province=PROVINCE, name="Rau muống", unit="kg",
                              price=20_000, category="Rau cân")
        set_catalogue_product(conn, province=PROVINCE, name="Rau muống", unit="bó",
                              price=10_000, category="Rau")   # the line's own unit
        set_catalogue_product(conn, province=PROVINCE, commune="Xã Khác", market="Chợ khác",
                              name="Mật ong bạc hà", unit="chai", price=1,
                              category="Không phải của sạp", ocop_stars=5)  # another market's
    chain = Chain(stall.device_id)
    chain.product(1, "Mật ong bạc hà", 250_000, unit="chai", category="Đặc sản", ocop_stars=4)
    first = _sale_of(chain, [HONEY, TEA, TYPED_TEA, PLUMS, GREENS])
    chain.product(1, "Mật ong bạc hà", 250_000, unit="chai", category="Mật ong")  # stars lost
    same_push = _sale_of(chain, [HONEY])
    assert push(client, stall, chain.entries).status_code == 200
    sent = len(chain.entries)
    chain.product(7, "Chè Shan tuyết", 130_000, unit="gói", category="Trà")  # edited at the stall
    later = _sale_of(chain, [HONEY, TEA], day="2026-11-23")
    assert push(client, stall, chain.entries[sent:]).status_code == 200

    assert _marks(engine, first) == [
        ("Mật ong bạc hà", "Đặc sản", 4), ("Chè Shan tuyết", "Chè", 4),
        ("Chè Shan tuyết", "", 0), ("Mận Bắc Hà", "Quả", 3), ("Rau muống", "Rau", 0)]
    assert _marks(engine, same_push) == [("Mật ong bạc hà", "Mật ong", 0)]
    assert _marks(engine, later) == [("Mật ong bạc hà", "Mật ong", 0),
                                     ("Chè Shan tuyết", "Trà", 0)]
    history = rows(engine, product_entries)
    assert [(r["seq"], r["product_id"], r["category"], r["ocop_stars"]) for r in history] == [
        (1, 1, "Đặc sản", 4), (3, 1, "Mật ong", 0), (5, 7, "Trà", 0)]
    # The province changing its catalogue afterwards rewrites no sale either.
    with write_transaction(engine) as conn:
        set_catalogue_product(conn, province=PROVINCE, name="Chè Shan tuyết", unit="gói",
                              price=120_000, category="Chè", ocop_stars=5)
    assert _marks(engine, first)[1] == ("Chè Shan tuyết", "Chè", 4)


def test_a_product_entry_that_breaks_the_contract_is_stored_not_projected(client, engine,
                                                                           stall, caplog):
    chain = Chain(stall.device_id)
    chain.append("product", {"product_id": 1, "name": "Rau muống", "unit": "bó",
                             "price": 10_000, "category": None, "barcode": None,
                             "ocop_stars": 2, "trace_url": None, "active": True})
    _sale_of(chain, [(1, "Rau muống", "bó", 10_000)])
    assert push(client, stall, chain.entries).status_code == 200
    with read_transaction(engine) as conn:
        assert conn.execute(select(func.count()).select_from(journal)).scalar_one() == 2
    assert rows(engine, product_entries) == []
    assert [(r["category"], r["ocop_stars"]) for r in rows(engine, sale_lines)] == [("", 0)]
    assert "not projected" in caplog.text


def test_an_unprojectable_entry_is_still_stored(client, engine, stall, caplog):
    chain = Chain(stall.device_id)
    chain.append("sale", {"number": 1, "note": "no lines"})
    chain.append("sale", {"number": 2, "total": "mười nghìn", "lines": [], "payments": [],
                          "business_day": "2026-11-22"})
    chain.sale()
    response = push(client, stall, chain.entries)
    assert response.status_code == 200 and response.get_json()["stored"] == 3
    assert [s["seq"] for s in rows(engine, sales)] == [3]
    assert "not projected" in caplog.text
