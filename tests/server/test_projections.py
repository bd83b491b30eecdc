"""The server's tables rebuilt from entries: sales, lines, payments, voids, cash moves, Z closes."""
from __future__ import annotations

from sqlalchemy import func, select

from sync.server.db import (cash_moves, day_closes, journal, payments, read_transaction,
                            sale_lines, sales, voids)

from .chain import Chain
from .conftest import push


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


def test_product_entries_stay_in_the_journal_only(client, engine, stall):
    chain = Chain(stall.device_id)
    chain.product(1, "Rau muống", 10_000)
    assert push(client, stall, chain.entries).status_code == 200
    with read_transaction(engine) as conn:
        assert conn.execute(select(func.count()).select_from(journal)).scalar_one() == 1
    assert rows(engine, sales) == []


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
