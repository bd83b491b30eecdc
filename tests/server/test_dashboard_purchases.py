"""The produce the stalls bought from local growers on the provincial dashboard (issue 19), on
SQLite and PostgreSQL.

Three real stalls (pos/purchases.py, their own writers, each on its own SQLite file) buy from
growers whose names, ID numbers, addresses and phones they seal: two in one commune (two
markets), one in another commune. One stall also sells, counts its stock and closes the day, then
buys again on the next business day. Their journals go up through the real pairing and push API.
Then:

- figures: per place (province, commune/ward, market, stall), per period and per product, the
  amount paid, the quantity bought and the number of purchases equal sums computed here from the
  stalls' raw `purchase` entries; rollups kept on push equal rollups rebuilt; revision 0014 on a
  server that stored purchases under 0013 computes the same rollups;
- pages and exports: the headline figure, the table "Nông sản thu mua từ người trồng" (commune ×
  the top products, the rest under "Mặt hàng khác") and the products table, Vietnamese number
  format on the page, plain integers in the CSV, in Vietnamese and English;
- scope: a commune's officer sees her commune's purchases and nothing of the other commune's;
- privacy: no grower's name, ID number, address or phone reaches any server table, the SQLite
  file, a page or an export.
"""
from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import unicodedata
from collections import defaultdict
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import inspect, select, text

from pos import business_days, daybook, db, journal, purchases, sales
from pos.app import create_app as create_stall_app
from sync.protocol import new_signing_key, public_key_of, utc_timestamp
from sync.server import figures, rollups, scope
from sync.server.db import purchase_lines, read_transaction, write_transaction
from sync.server.users import create_user

from .conftest import COMMUNE, MARKET, PROVINCE, add_stall, bearer
from .test_admin import PASSWORD, csrf
from .test_credit_book import _forms, _phone_forms, fold

OTHER_COMMUNE, OTHER_MARKET = "Xã Nghĩa Thuận", "Chợ Nghĩa Thuận"
SECOND_MARKET = "Chợ Minh Khai"

GROWERS = {
    "my": {"name": "Giàng Thị Mỷ", "id_number": "001190012345",
           "address": "Bản Phố, xã Bắc Hà", "phone": "0912 345 678"},
    "pao": {"name": "Vàng Seo Páo", "id_number": "002085067891",
            "address": "Thôn Mã Hồng, Nghĩa Thuận", "phone": "0987 111 333"},
    "dinh": {"name": "Lù Thị Dính", "id_number": "002170004321",
             "address": "Xóm Khuổi Hao", "phone": "0868 202 404"},
}


def _id_forms(number: str) -> set[str]:
    """The 12 digits, grouped by three or four with spaces or dots, and the last nine."""
    threes = [number[i:i + 3] for i in range(0, 12, 3)]
    fours = [number[i:i + 4] for i in range(0, 12, 4)]
    return {number, number[3:], " ".join(threes), ".".join(threes), " ".join(fours),
            ".".join(fours)}


FORBIDDEN = sorted(set().union(*(
    _forms(g["name"]) | _forms(g["address"]) | _phone_forms(g["phone"])
    | _id_forms(g["id_number"]) for g in GROWERS.values())))


def leaks(found: str) -> list[str]:
    readings = {found.lower(), unicodedata.normalize("NFC", found.lower()),
                unicodedata.normalize("NFD", found.lower()), fold(found)}
    return [form for form in FORBIDDEN if any(form in reading for reading in readings)]


def test_the_forbidden_forms_catch_what_they_must():
    assert leaks("GIANG THI MY") and leaks("vàng seo páo") and leaks("001 190 012 345")
    assert leaks("+84912345678") and leaks("THÔN MÃ HỒNG, nghia thuan") and leaks("0868.202.404")
    assert not leaks("Cà chua · 12,5 kg · 125.000 ₫ · Xã Nghĩa Thuận · Chợ Nghĩa Thuận")


def test_quantities_read_the_vietnamese_way_and_a_produce_cell_is_two_csv_columns():
    from sync.server.dashboard import quantity_cell
    from sync.server.exports import Col, Grid, to_csv
    assert [quantity_cell(q) for q in (0, 750, 12_500, 1_250_500, 1_000_000_000, -2_250)] == [
        "0", "0,75", "12,5", "1.250,5", "1.000.000", "-2,25"]
    grid = Grid("purchases", "Nông sản", [Col("name", "Xã"), Col("p", "=Cà chua", "produce",
                                                                   unit="kg")],
                [{"name": "Xã A", "p": {"quantity_milli": 36_750, "unit": "kg",
                                        "amount": 359_250}}, {"name": "Xã B", "p": None}])
    assert to_csv(grid).decode("utf-8-sig").splitlines() == [
        "Xã,'=Cà chua (kg),'=Cà chua (₫)", "Xã A,36.75,359250", "Xã B,0,0"]


# --- three stalls that buy from growers --------------------------------------------------------

def _buy(conn, device, grower, lines, payments=None):
    return purchases.record_purchase(conn, device, {
        "supplier": GROWERS[grower],
        "lines": [{"name": name, "unit": unit, "quantity": quantity, "unit_price": price,
                   **({"price": selling[0]} if selling else {})}   # a selling price: on sale
                  for name, unit, quantity, price, *selling in lines],
        "payments": payments or [{"method": "cash"}]}, "owner")


def _stall(folder: Path, name: str) -> SimpleNamespace:
    """A stall of its own (its own device id and SQLite file), buying as `name` does."""
    app = create_stall_app({"DATA_DIR": folder, "TESTING": True})
    device = app.config["DEVICE_ID"]
    conn = db.connect(app.config["DATABASE"])
    try:
        if name == "lan":
            _buy(conn, device, "my", [("Cà chua", "kg", "12.5", 10_000, 25_000),
                                      ("Măng rừng", "kg", "2", 30_000)])
            # two lines of one product: one purchase of it
            _buy(conn, device, "pao", [("Cà chua", "kg", "3", 11_000),
                                       ("Cà chua", "kg", "1.25", 9_000)],
                 [{"method": "qr", "amount": 44_250}])
            sales.record_sale(conn, device, {
                "lines": [{"product_id": 1, "quantity": "0.75", "unit_price": 25_000}],
                "payments": [{"method": "cash", "amount": 18_750}]}, "owner")
            purchases.record_count(conn, device, {
                "lines": [{"product_id": 1, "counted": "15"}], "reason": "Dập"}, "owner")
            today = business_days.current_business_day(conn, utc_timestamp())
            daybook.close_day(conn, device, today, 0, "owner")
            _buy(conn, device, "my", [("Chè Shan tuyết", "kg", "4.5", 200_000)],
                 [{"method": "cash", "amount": 400_000}, {"method": "qr", "amount": 500_000}])
        elif name == "hoa":
            _buy(conn, device, "dinh", [("Cà chua", "kg", "20", 9_500),
                                        ("Mật ong bạc hà", "lít", "3", 250_000)])
        else:
            _buy(conn, device, "pao", [("Thảo quả", "kg", "40", 180_000),
                                       ("Cà chua", "kg", "7", 10_000)],
                 [{"method": "qr"}])
            _buy(conn, device, "dinh", [("Lá tắm Dao", "bó", "15", 20_000)])
        entries = list(journal.entries(conn))
    finally:
        conn.close()
    return SimpleNamespace(name=name, device=device, entries=entries)


PLACES = {"lan": (MARKET, COMMUNE), "hoa": (SECOND_MARKET, COMMUNE),
          "tuan": (OTHER_MARKET, OTHER_COMMUNE)}


@pytest.fixture(scope="module")
def stalls(tmp_path_factory) -> dict[str, SimpleNamespace]:
    folder = tmp_path_factory.mktemp("buying-stalls")
    return {name: _stall(folder / name, name) for name in PLACES}


def _pair_and_push(client, engine, stall: SimpleNamespace) -> None:
    market, commune = PLACES[stall.name]
    made = add_stall(engine, f"Sạp {stall.name}", market=market, commune=commune)
    answer = client.post("/api/v1/pair", json={
        "code": made.code, "device_id": stall.device, "head_seq": len(stall.entries),
        "public_key": public_key_of(new_signing_key())})
    assert answer.status_code == 200, answer.get_json()
    headers = bearer(answer.get_json()["token"])
    half = len(stall.entries) // 2    # two pushes: a purchase may come in either
    for batch in (stall.entries[:half], stall.entries[half:]):
        pushed = client.post("/api/v1/journal", headers=headers, json={
            "device_id": stall.device, "entries": [e.to_dict() for e in batch]})
        assert pushed.status_code == 200, pushed.get_json()
    assert pushed.get_json()["acked_seq"] == stall.entries[-1].seq


@pytest.fixture
def pushed(client, engine, stalls):
    for stall in stalls.values():
        _pair_and_push(client, engine, stall)
    with read_transaction(engine) as conn:
        places = {name: scope.resolve(conn, "stall", stall.device)
                  for name, stall in stalls.items()}
    return places


# --- the same sums, from the raw entries -------------------------------------------------------

def _days(stalls) -> list[str]:
    return sorted({e.payload["business_day"] for s in stalls.values() for e in s.entries
                   if e.kind == "purchase"})


def _expected(stalls, names, period: figures.Period) -> SimpleNamespace:
    """Purchases, amount, and per (name, unit) [quantity, amount, purchases] of the stalls
    `names` in the period, from their `purchase` entries."""
    first, last = period.start.isoformat(), period.end.isoformat()
    products: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    count = amount = 0
    for name in names:
        for entry in stalls[name].entries:
            if entry.kind != "purchase" or not first <= entry.payload["business_day"] <= last:
                continue
            count += 1
            amount += entry.payload["total"]
            assert entry.payload["total"] == sum(l["amount"] for l in entry.payload["lines"])
            for line in entry.payload["lines"]:
                row = products[(line["name"], line["unit"])]
                row[0] += line["quantity_milli"]
                row[1] += line["amount"]
            for product in {(l["name"], l["unit"]) for l in entry.payload["lines"]}:
                products[product][2] += 1
    return SimpleNamespace(purchases=count, amount=amount, products=dict(products))


def _periods(stalls) -> list[figures.Period]:
    days = [date.fromisoformat(d) for d in _days(stalls)]
    return ([figures.period_of("day", d) for d in days]
            + [figures.period_of(kind, d) for kind in ("week", "month") for d in days])


def _snapshot(conn):
    return {table.name: sorted(tuple(row) for row in conn.execute(select(table)))
            for table in rollups.ROLLUP_TABLES}


def test_the_stalls_bought_over_two_business_days(stalls):
    assert len(_days(stalls)) == 2
    lan = [e for e in stalls["lan"].entries if e.kind == "purchase"]
    assert len(lan) == 3 and [e.kind for e in stalls["lan"].entries].count("stock_count") == 1


def test_rollups_kept_on_push_equal_rollups_rebuilt(engine, pushed):
    with read_transaction(engine) as conn:
        kept = _snapshot(conn)
    assert kept["purchase_periods"] and kept["stall_periods"]
    with write_transaction(engine) as conn:
        counts = rollups.rebuild(conn)
        rebuilt = _snapshot(conn)
    assert rebuilt == kept
    assert counts == {name: len(rows) for name, rows in kept.items()}


@pytest.mark.parametrize("level", ["province", "commune", "market", "stall"])
def test_every_place_and_period_equals_the_journal(engine, stalls, pushed, level):
    """Headline figures and the products table, each level, each period of the purchases."""
    groups = {"province": [("lan", "hoa", "tuan")],
              "commune": [("lan", "hoa"), ("tuan",)],
              "market": [("lan",), ("hoa",), ("tuan",)], "stall": [("lan",), ("hoa",), ("tuan",)]}
    with read_transaction(engine) as conn:
        for names in groups[level]:
            stall = pushed[names[0]]
            place = scope.resolve(conn, level, str(stall.key if level == "stall" else {
                "province": stall.province_id, "commune": stall.commune_id,
                "market": stall.market_id}[level]))
            for period in _periods(stalls):
                want = _expected(stalls, names, period)
                totals = figures.totals(conn, place, period)
                assert (totals["purchases"], totals["purchased"]) == (want.purchases,
                                                                      want.amount), period
                # a purchase is a cost: revenue is the sale's alone
                assert totals["revenue"] == (18_750 if "lan" in names and period.start.isoformat()
                                             <= _days(stalls)[0] <= period.end.isoformat()
                                             else 0)
                rows = figures.purchased_products(conn, place, period)
                assert {(r["name"], r["unit"]): [r["quantity_milli"], r["amount"],
                                                 r["purchases"]] for r in rows} == want.products
                assert [r["amount"] for r in rows] == sorted((r["amount"] for r in rows),
                                                             reverse=True)
                for r in rows:   # the average price per unit, rounded half up
                    assert r["unit_price"] == (r["amount"] * 2000 + r["quantity_milli"]) // (
                        2 * r["quantity_milli"])


def test_the_breakdown_by_commune_shows_the_top_products_and_the_rest(engine, stalls, pushed):
    month = figures.period_of("month", date.fromisoformat(_days(stalls)[0]))
    with read_transaction(engine) as conn:
        place = scope.resolve(conn, "province", str(pushed["lan"].province_id))
        children = figures.breakdown(conn, place, month)
        products, rows = figures.purchase_breakdown(conn, place, month, children)
    everything = _expected(stalls, ("lan", "hoa", "tuan"), month)
    ranked = sorted(everything.products, key=lambda p: (-everything.products[p][1], p))
    assert products == ranked[:figures.TOP_PURCHASED]
    assert products[0] == ("Thảo quả", "kg") and ("Cà chua", "kg") in products
    by_commune = {row["name"]: row for row in rows}
    assert set(by_commune) == {COMMUNE, OTHER_COMMUNE}
    for commune, names in ((COMMUNE, ("lan", "hoa")), (OTHER_COMMUNE, ("tuan",))):
        want = _expected(stalls, names, month)
        row = by_commune[commune]
        assert (row["purchased"], row["purchases"]) == (want.amount, want.purchases)
        for index, product in enumerate(products):
            quantity, amount, _count = want.products.get(product, [0, 0, 0])
            assert (row[f"quantity_{index}"], row[f"amount_{index}"]) == (quantity, amount)
        assert row["other"] == sum(v[1] for p, v in want.products.items() if p not in products)
    assert by_commune[OTHER_COMMUNE]["other"] == 300_000   # Lá tắm Dao, not in the top four
    assert rows[0]["name"] == OTHER_COMMUNE                  # the most money first
    # A market's stalls, from the lines themselves
    with read_transaction(engine) as conn:
        market = scope.resolve(conn, "market", str(pushed["lan"].market_id))
        products, rows = figures.purchase_breakdown(
            conn, market, month, figures.breakdown(conn, market, month))
    want = _expected(stalls, ("lan",), month)
    [row] = rows
    assert row["key"] == stalls["lan"].device and row["purchased"] == want.amount
    assert {products[i]: (row[f"quantity_{i}"], row[f"amount_{i}"])
            for i in range(len(products))} == {p: tuple(v[:2]) for p, v in want.products.items()
                                               if p in products}


# --- pages, exports and scope ------------------------------------------------------------------

class _Tables(HTMLParser):
    """The dashboard's tables by their data-grid name: header and rows of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._grid: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Any]]) -> None:
        if tag == "table":
            self._grid = dict(attrs).get("data-grid")
            self.tables[self._grid] = []
        elif tag == "tr" and self._grid:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join(" ".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._grid:
            self.tables[self._grid].append(self._row)
            self._row = None
        elif tag == "table":
            self._grid = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables(html: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def _vnd(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " ₫"


def _qty(milli: int) -> str:
    whole, rest = divmod(milli, 1000)
    return f"{whole:,}".replace(",", ".") + (f",{rest:03d}".rstrip("0") if rest else "")


def _csv_qty(milli: int) -> str:
    """A quantity as the CSV writes it: a decimal point, no grouping (36750 → '36.75')."""
    whole, rest = divmod(milli, 1000)
    return f"{whole}.{rest:03d}".rstrip("0") if rest else str(whole)


def _login(app, username):
    client = app.test_client()
    answer = client.post("/admin/login", data={"username": username, "password": PASSWORD,
                                               "csrf_token": csrf(client)})
    assert answer.status_code == 302
    return client


@pytest.fixture
def users(app, engine, pushed):
    with write_transaction(engine) as conn:
        create_user(conn, "quantri", PASSWORD, "admin")
        create_user(conn, "tinh", PASSWORD, "viewer", province=PROVINCE)
        create_user(conn, "minhkhai", PASSWORD, "viewer", province=PROVINCE, commune=COMMUNE)
    return SimpleNamespace(admin=_login(app, "quantri"), province=_login(app, "tinh"),
                           commune=_login(app, "minhkhai"))


def _urls(pushed, name):
    place = pushed[name]
    return {"province": f"/dashboard/province/{place.province_id}",
            "commune": f"/dashboard/commune/{place.commune_id}",
            "market": f"/dashboard/market/{place.market_id}",
            "stall": f"/dashboard/stall/{place.device_id}"}


def test_the_province_page_shows_the_produce_by_commune_and_product(stalls, pushed, users):
    day = _days(stalls)[0]
    month = figures.period_of("month", date.fromisoformat(day))
    url = _urls(pushed, "lan")["province"] + f"?period=month&date={day}"
    html = users.province.get(url).get_data(as_text=True)
    want = _expected(stalls, ("lan", "hoa", "tuan"), month)
    assert f'id="fig-purchased">{_vnd(want.amount)}<' in html
    assert f'id="fig-purchases">{want.purchases} lượt thu mua<' in html
    assert "Nông sản thu mua từ người trồng" in html and "Nông sản thu mua theo mặt hàng" in html
    found = tables(html)
    head, *rows = found["purchases"]
    assert head[:3] == ["Xã/phường", "Tiền trả người trồng", "Lượt thu mua"]
    # commune × the top products: each cell the quantity bought over what was paid for it
    assert head[3:] == ["Thảo quả", "Chè Shan tuyết", "Mật ong bạc hà", "Cà chua",
                        "Mặt hàng khác (₫)"]
    assert len(head) == 3 + figures.TOP_PURCHASED + 1
    other = {r[0]: r for r in rows}[OTHER_COMMUNE]
    tuan = _expected(stalls, ("tuan",), month)
    assert other[1:] == [_vnd(tuan.amount), str(tuan.purchases), "40 kg 7.200.000 ₫", "–", "–",
                         "7 kg 70.000 ₫", "300.000 ₫"]
    mine = {r[0]: r for r in rows}[COMMUNE]
    ours = _expected(stalls, ("lan", "hoa"), month).products[("Cà chua", "kg")]
    assert mine[head.index("Cà chua")] == f"{_qty(ours[0])} kg {_vnd(ours[1])}"
    assert _qty(ours[0]) == "36,75"   # 12,5 + 3 + 1,25 at lan's, 20 at hoa's
    assert mine[3] == "–" and mine[-1] == "60.000 ₫"   # no Thảo quả; Măng rừng is another
    products = {r[0]: r for r in found["purchased_products"][1:]}
    assert products["Thảo quả"] == ["Thảo quả", "kg", "40", "7.200.000 ₫", "180.000 ₫", "1"]
    tomatoes = want.products[("Cà chua", "kg")]
    assert products["Cà chua"][2:4] == [_qty(tomatoes[0]), _vnd(tomatoes[1])]
    assert products["Cà chua"][5] == str(tomatoes[2]) == "4"
    assert "Sạp lan" not in html and "Sạp tuan" not in html   # no single stall on this page


def test_the_communes_monthly_pdf_lists_the_produce_bought_and_no_grower(
        stalls, pushed, users, tmp_path):
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed (apt-get install poppler-utils)")
    day = _days(stalls)[0]
    month = figures.period_of("month", date.fromisoformat(day))
    answer = users.commune.get(_urls(pushed, "lan")["commune"] + f"/report.pdf?date={day}")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    path = tmp_path / "report.pdf"
    path.write_bytes(answer.data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Nông sản thu mua theo mặt hàng" in text
    assert leaks(text) == [] and "pd1:" not in text
    want = _expected(stalls, ("lan", "hoa"), month)      # the commune's stalls only
    rows = {}
    for line in text.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) == 6 and (cells[0], cells[1]) in want.products:
            rows[(cells[0], cells[1])] = cells[2:]
    assert set(rows) == set(want.products), text
    for (name, unit), (quantity, amount, count) in want.products.items():
        assert rows[(name, unit)][0] == _qty(quantity)
        assert rows[(name, unit)][1] == _vnd(amount)
        assert rows[(name, unit)][3] == str(count)
    assert ("Thảo quả", "kg") not in rows                # bought in the other commune


def test_the_exports_hold_the_same_rows_as_plain_numbers(stalls, pushed, users):
    day = _days(stalls)[0]
    month = figures.period_of("month", date.fromisoformat(day))
    base = _urls(pushed, "lan")["province"]
    answer = users.province.get(f"{base}/purchases.csv?period=month&date={day}")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert answer.data.startswith("\ufeff".encode())
    head, *rows = list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig"))))
    assert head[:3] == ["Xã/phường", "Tiền trả người trồng", "Lượt thu mua"]
    by_commune = {row[0]: row for row in rows}
    for commune, names in ((COMMUNE, ("lan", "hoa")), (OTHER_COMMUNE, ("tuan",))):
        want = _expected(stalls, names, month)
        row = by_commune[commune]
        assert (int(row[1]), int(row[2])) == (want.amount, want.purchases)
        for column, value in zip(head[3:-1], row[3:-1]):
            name, unit = re.fullmatch(r"(.+) \((.+)\)", column).groups()
            if unit == "₫":
                continue
            quantity, amount, _ = want.products.get((name, unit), [0, 0, 0])
            assert value == _csv_qty(quantity)
            assert int(row[head.index(f"{name} (₫)")]) == amount
    answer = users.province.get(f"{base}/purchased_products.csv?period=month&date={day}")
    head, *rows = list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig"))))
    assert head == ["Mặt hàng", "Đơn vị", "Số lượng mua", "Tiền trả người trồng",
                    "Giá mua bình quân mỗi đơn vị", "Lượt thu mua"]
    want = _expected(stalls, ("lan", "hoa", "tuan"), month)
    assert {(r[0], r[1]): [r[2], int(r[3]), int(r[5])] for r in rows} == {
        p: [_csv_qty(v[0]), v[1], v[2]] for p, v in want.products.items()}


def test_each_level_below_shows_its_own_produce(stalls, pushed, users):
    day = _days(stalls)[-1]     # the second business day: only lan bought (tea)
    urls = _urls(pushed, "lan")
    for level in ("commune", "market", "stall"):
        html = users.commune.get(urls[level] + f"?period=day&date={day}").get_data(as_text=True)
        assert f'id="fig-purchased">{_vnd(900_000)}<' in html, level
        found = tables(html)
        assert found["purchased_products"][1] == ["Chè Shan tuyết", "kg", "4,5", "900.000 ₫",
                                                  "200.000 ₫", "1"], level
        if level != "stall":
            head, *rows = found["purchases"]
            assert head[0] == {"commune": "Chợ", "market": "Sạp"}[level]
            assert rows[0] == [{"commune": MARKET, "market": "Sạp lan"}[level],
                               "900.000 ₫", "1", "4,5 kg 900.000 ₫", "0 ₫"], level
        else:
            assert "purchases" not in found
    # the market of hoa, the first day: its stall bought tomatoes and honey
    first = _days(stalls)[0]
    html = users.commune.get(_urls(pushed, "hoa")["market"] + f"?period=day&date={first}"
                             ).get_data(as_text=True)
    head, *rows = tables(html)["purchases"]
    assert head[3:5] == ["Mật ong bạc hà", "Cà chua"]
    assert rows == [["Sạp hoa", "940.000 ₫", "1", "3 lít 750.000 ₫", "20 kg 190.000 ₫", "0 ₫"]]


def test_a_commune_officer_sees_nothing_of_another_communes_purchases(stalls, pushed, users):
    day = _days(stalls)[0]
    query = f"?period=month&date={day}"
    own, other = _urls(pushed, "lan"), _urls(pushed, "tuan")
    home = users.commune.get("/dashboard/")
    assert home.status_code == 302 and home.location.endswith(own["commune"])
    for level in ("commune", "market", "stall"):
        html = users.commune.get(own[level] + query).get_data(as_text=True)
        for theirs in ("Thảo quả", "Lá tắm Dao", OTHER_COMMUNE, "Sạp tuan"):
            assert theirs not in html, (level, theirs)
        for name in ("purchases", "purchased_products"):
            if level == "stall" and name == "purchases":
                continue
            export = users.commune.get(f"{own[level]}/{name}.csv{query}")
            assert export.status_code == 200
            assert "Thảo quả" not in export.data.decode("utf-8-sig")
    for url in [own["province"]] + [other[level] for level in ("commune", "market", "stall")]:
        assert users.commune.get(url + query).status_code == 403, url
        for name in ("purchases", "purchased_products"):
            assert users.commune.get(f"{url}/{name}.csv{query}").status_code == 403, (url, name)
    commune_html = users.commune.get(own["commune"] + query).get_data(as_text=True)
    month = figures.period_of("month", date.fromisoformat(day))
    mine = _expected(stalls, ("lan", "hoa"), month)
    assert f'id="fig-purchased">{_vnd(mine.amount)}<' in commune_html
    for client in (users.province, users.admin):
        assert client.get(other["commune"] + query).status_code == 200


def test_the_pages_speak_english_too(stalls, pushed, users):
    token = csrf(users.admin, "/admin/stalls")
    assert users.admin.post("/admin/lang", data={"lang": "en", "csrf_token": token,
                                                 "next": "/"}).status_code == 302
    day = _days(stalls)[0]
    base = _urls(pushed, "lan")["province"]
    html = users.admin.get(f"{base}?period=week&date={day}").get_data(as_text=True)
    assert "Produce bought from growers" in html and "Bought from growers" in html
    head = users.admin.get(f"{base}/purchases.csv?period=week&date={day}").data.decode(
        "utf-8-sig").splitlines()[0]
    assert head.startswith("Commune/ward,Paid to growers,Purchases,Thảo quả (kg),")
    assert head.endswith(",Other products (₫)")


# --- privacy -----------------------------------------------------------------------------------

def _dump(engine) -> dict[str, str]:
    out = {}
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            rows = conn.execute(text(f'SELECT * FROM "{table}"')).all()
            out[table] = "\n".join(" | ".join(str(value) for value in row) for row in rows)
    return out


def test_no_grower_reaches_the_servers_tables_pages_or_exports(
        app, engine, server_db, stalls, pushed, users):
    tables_ = _dump(engine)
    assert tables_["purchase_periods"] and tables_["purchase_lines"]
    for table, rows in tables_.items():
        assert leaks(rows) == [], table
    # The sealed values are in the journal, as pushed, and nowhere else.
    sealed = [e.payload["supplier_name"] for s in stalls.values() for e in s.entries
              if e.kind == "purchase"]
    assert all(value.startswith("pd1:") and value in tables_["journal"] for value in sealed)
    assert [t for t, rows in tables_.items() if "pd1:" in rows] == ["journal"]
    with engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("purchase_periods")}
        assert columns == {"market_id", "kind", "period", "name", "unit", "province_id",
                           "commune_id", "quantity_milli", "amount", "purchases"}
        assert not any(word in " ".join(c["name"] for c in inspect(conn).get_columns(
            "purchase_lines")) for word in ("supplier", "grower", "phone", "address"))
    if server_db.startswith("sqlite"):   # the file itself, free pages and WAL included
        path = Path(server_db.split("///", 1)[1])
        raw = b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal"))
                       if p.exists())
        for form in FORBIDDEN:
            assert form.encode("utf-8") not in raw.lower(), form
    seen = []
    days = _days(stalls)
    for language in ("vi", "en"):
        token = csrf(users.admin, "/admin/stalls")
        users.admin.post("/admin/lang", data={"lang": language, "csrf_token": token, "next": "/"})
        for name in PLACES:
            for level, url in _urls(pushed, name).items():
                for period, day in (("day", days[0]), ("day", days[1]), ("month", days[0])):
                    page = users.admin.get(f"{url}?period={period}&date={day}")
                    assert page.status_code == 200
                    html = page.get_data(as_text=True)
                    seen.append(html)
                    for grid in re.findall(r'data-grid="(\w+)"', html):
                        export = users.admin.get(f"{url}/{grid}.csv?period={period}&date={day}")
                        assert export.status_code == 200
                        seen.append(export.data.decode("utf-8-sig"))
    for found in seen:
        assert leaks(found) == [] and "pd1:" not in found


# --- revision 0014 on a server that stored purchases under 0013 -------------------------------

def test_0014_computes_the_purchase_rollups_of_a_server_that_stored_purchases(
        empty_db, stalls):
    from alembic import command
    from click.testing import CliRunner

    from sync.server import migrations
    from sync.server.app import create_app
    from sync.server.cli import main
    from sync.server.db import make_engine

    engine = make_engine(empty_db)
    migrations.upgrade(engine)
    app = create_app({"DATABASE_URL": empty_db, "TESTING": True, "SECRET_KEY": "test"})
    try:
        for stall in stalls.values():
            _pair_and_push(app.test_client(), app.extensions["market_server"]["engine"], stall)

        def snapshot():
            with read_transaction(engine) as conn:
                return {**_snapshot(conn), "purchase_lines": sorted(
                    tuple(row) for row in conn.execute(select(purchase_lines)))}

        kept = snapshot()
        assert kept["purchase_periods"]
        config = migrations.alembic_config(engine)
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0013")
        with engine.connect() as conn:
            assert not inspect(conn).has_table("purchase_periods")
            assert "purchased" not in {c["name"] for c in inspect(conn).get_columns(
                "stall_periods")}
        result = CliRunner().invoke(main, ["init", "--database", empty_db])
        assert result.exit_code == 0, result.output
        assert migrations.current_revision(engine) == migrations.head_revision()
        assert snapshot() == kept
    finally:
        app.extensions["market_server"]["engine"].dispose()
        engine.dispose()
