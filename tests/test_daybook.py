"""The cash book: float, cash in and out, X figures, Z close, and the business day after a close."""
import json

import pytest

from pos import business_days, daybook, journal, sales
from sync.errors import Conflict, InvalidInput
from sync.protocol import utc_timestamp


def _sell(conn, device, method="cash", tendered=None, qty="2"):
    amount = 10000 * int(qty)
    payment = {"method": method, "amount": amount}
    if tendered:
        payment["tendered"] = tendered
    return sales.record_sale(conn, device, {"lines": [{"product_id": 6, "quantity": qty}],
                                            "payments": [payment]}, "owner")


@pytest.fixture
def device(app):
    return app.config["DEVICE_ID"]


def test_x_report_and_expected_cash(conn, device):
    day = business_days.current_business_day(conn, utc_timestamp())
    daybook.record_cash_move(conn, device, "float", 200000, "", "owner")
    _sell(conn, device, tendered=50000)                 # 20.000, change 30.000
    _sell(conn, device, method="qr")                    # 20.000 by transfer
    voided = _sell(conn, device, tendered=20000)
    sales.void_sale(conn, device, voided["id"], "nhầm", "owner")
    daybook.record_cash_move(conn, device, "in", 50000, "Đổi tiền lẻ", "owner")
    daybook.record_cash_move(conn, device, "out", 30000, "Mua túi nilon", "owner")
    report = daybook.day_report(conn, day)
    assert report["sales_count"] == 2
    assert report["revenue"] == 40000
    assert report["voids_count"] == 1 and report["voided_amount"] == 20000
    assert report["payments"] == {"cash": {"count": 1, "amount": 20000},
                                  "qr": {"count": 1, "amount": 20000}}
    drawer = report["cash_drawer"]
    assert drawer["tendered"] - drawer["change"] == drawer["cash_sales"] == 20000
    assert drawer["expected"] == 200000 + 50000 - 30000 + 20000
    assert report["qr_by_state"]["vendor_confirmed"] == {"count": 1, "amount": 20000}


def test_close_day_freezes_a_numbered_z(conn, device, app):
    day = business_days.current_business_day(conn, utc_timestamp())
    daybook.record_cash_move(conn, device, "float", 100000, "", "owner")
    _sell(conn, device, tendered=20000)
    z = daybook.close_day(conn, device, day, 118000, "owner")
    assert z["z_number"] == 1
    assert z["cash_drawer"]["expected"] == 120000
    assert z["counted_cash"] == 118000 and z["difference"] == -2000
    entry = journal.get(conn, z["seq"])
    assert entry.kind == "day_close" and entry.payload["z_number"] == 1
    assert journal.verify(conn, device).ok
    with pytest.raises(Conflict):
        daybook.close_day(conn, device, day, 0, "owner")
    # A sale after the close belongs to the next business day; the Z does not change.
    later = _sell(conn, device)
    assert later["business_day"] > day
    assert daybook.z_report(conn, 1) == z
    assert daybook.day_report(conn, later["business_day"])["sales_count"] == 1
    # The next close is Z 2.
    assert daybook.close_day(conn, device, later["business_day"], 0, "owner")["z_number"] == 2


def test_sales_of_a_closed_day_cannot_be_voided(conn, device):
    sale = _sell(conn, device)
    daybook.close_day(conn, device, sale["business_day"], 0, "owner")
    with pytest.raises(Conflict) as exc:
        sales.void_sale(conn, device, sale["id"], "late", "owner")
    assert exc.value.code == "day_closed"


def test_a_future_day_cannot_be_closed(conn, device):
    with pytest.raises(InvalidInput):
        daybook.close_day(conn, device, "2999-01-01", 0, "owner")


@pytest.mark.parametrize("move, amount, reason", [
    ("gift", 1000, "x"), ("in", 0, "x"), ("in", -5, "x"), ("out", 100.5, "x"), ("out", 1000, ""),
    ("in", 10**13, "x")])
def test_bad_cash_moves(conn, device, move, amount, reason):
    count = conn.execute("SELECT COUNT(*) FROM journal").fetchone()[0]
    with pytest.raises(InvalidInput):
        daybook.record_cash_move(conn, device, move, amount, reason, "owner")
    assert conn.execute("SELECT COUNT(*) FROM journal").fetchone()[0] == count


def test_z_report_is_stored_in_the_journal(conn, device):
    day = business_days.current_business_day(conn, utc_timestamp())
    z = daybook.close_day(conn, device, day, 0, "owner")
    payload = json.loads(conn.execute("SELECT payload FROM journal WHERE seq = ?",
                                      (z["seq"],)).fetchone()[0])
    assert payload["business_day"] == day and payload["counted_cash"] == 0
