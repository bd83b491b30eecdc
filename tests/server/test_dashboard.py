"""The dashboard: rollups kept on push equal rollups rebuilt from the projections, every figure
equals sums computed here from the raw journal entries, scope (403) for viewers, CSV exports,
the monthly PDF, alerts and the public receipt check. Runs on SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io
import subprocess
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from sqlalchemy import select, update

from sync.server import figures, rollups, scope
from sync.server.db import (bank_notifications, devices, market_periods, product_periods,
                            qr_checks, read_transaction, stall_periods, write_transaction)
from sync.server.catalogue import set_catalogue_product
from sync.server.users import create_user

from .chain import Chain, sale_payload
from .conftest import COMMUNE, MARKET, PROVINCE, pair_stall, push
from .test_admin import PASSWORD, csrf

OTHER_COMMUNE, OTHER_MARKET = "Xã Phương Thiện", "Chợ Phương Thiện"
SECOND_MARKET = "Chợ Minh Khai"
START = datetime(2026, 11, 21, 1, 0, tzinfo=timezone.utc)
DAYS = ("2026-11-22", "2026-11-23", "2026-12-01")   # a Sunday, the next Monday, another month


# --- a small province, pushed through the API ---------------------------------------------------

def _sell(chain: Chain, day: str, qr_share: int, variant: int):
    chain.sales += 1
    return chain.append("sale", sale_payload(chain.sales, day=day, qr_share=qr_share,
                                             variant=variant))


CATALOGUE = {"Chè Shan tuyết": ("Chè", 4), "Rau muống": ("Rau", 0)}   # name: category, stars


@pytest.fixture
def province(app, client, engine):
    """Four stalls in three markets of two communes, sales over three days, voids (one in the
    same push as its sale, one sale voided twice), a Z close, OCOP products of the reference
    catalogue and of the stalls' own (one changed between two sales: issue 17)."""
    with write_transaction(engine) as conn:
        set_catalogue_product(conn, province=PROVINCE, name="Chè Shan tuyết", unit="gói",
                              price=120_000, category="Chè", ocop_stars=4)
        set_catalogue_product(conn, province=PROVINCE, name="Rau muống", unit="bó",
                              price=10_000, category="Rau")
    places = {"lan": (MARKET, COMMUNE), "hoa": (MARKET, COMMUNE),
              "mai": (SECOND_MARKET, COMMUNE), "tuan": (OTHER_MARKET, OTHER_COMMUNE)}
    stalls, chains = {}, {}
    for index, (name, (market, commune)) in enumerate(places.items()):
        stall = pair_stall(client, engine, f"Sạp {name}", market=market, commune=commune)
        chain = Chain(stall.device_id, START)
        # The stall's own products (chain.PRODUCTS 2 and 3); product 1 is the catalogue's and
        # "Chè Shan tuyết" is typed in without a product.
        chain.product(2, "Thịt lợn ba chỉ", 145_000, category="Thịt")
        chain.product(3, "Cá rô đồng", 90_000, category="Cá", ocop_stars=3)
        first = []
        for n in range(6 + index):
            day = DAYS[n % 3]
            first.append(_sell(chain, day, qr_share=(0, 30_000, 10**9)[(n + index) % 3],
                               variant=n))
        lonely = _sell(chain, "2026-11-25", 0, 0)   # the stall's only sale that day
        assert push(client, stall, chain.entries).status_code == 200
        sent = len(chain.entries)
        chain.void(first[1])                       # a void in a later push
        chain.void(lonely)                         # the stall is no longer active that day
        late = _sell(chain, DAYS[0], 50_000, 1)
        chain.void(late)                           # a sale and its void in one push
        if name in ("lan", "mai"):                 # changed: later sales only are "Thủy sản"
            chain.product(3, "Cá rô đồng", 90_000, category="Thủy sản")
            _sell(chain, DAYS[1], 0, 1)
        if name == "lan":
            chain.void(first[1], "lần hai")        # a second void of the same sale: no effect
            chain.day_close(expected=100_000, counted=99_000)
        assert push(client, stall, chain.entries[sent:]).status_code == 200
        stalls[name], chains[name] = stall, chain
    return SimpleNamespace(stalls=stalls, chains=chains, places=places)


def _snapshot(conn):
    out = {}
    for table in rollups.ROLLUP_TABLES:   # purchase_periods stays empty here (no purchases)
        out[table.name] = sorted(tuple(row) for row in conn.execute(select(table)))
    return out


def test_rollups_kept_on_push_equal_rollups_rebuilt(engine, province):
    with read_transaction(engine) as conn:
        pushed = _snapshot(conn)
    assert all(rows for name, rows in pushed.items() if name != "purchase_periods")
    with write_transaction(engine) as conn:
        counts = rollups.rebuild(conn)
        rebuilt = _snapshot(conn)
    assert rebuilt == pushed
    assert counts == {name: len(rows) for name, rows in pushed.items()}


# --- the same sums, computed here from the raw entries ------------------------------------------

def _raw(province):
    """Per stall: sales with their lines and whether voided, straight from the entries; each
    line with the category and stars of its product as the stall had it then (`mark`)."""
    out = {}
    for name, chain in province.chains.items():
        voided = {e.payload["sale_seq"] for e in chain.entries if e.kind == "void"}
        own: dict[int, tuple[str, int]] = {}
        out[name] = []
        for e in chain.entries:
            if e.kind == "product":
                own[e.payload["product_id"]] = (e.payload["category"],
                                                e.payload["ocop_stars"] or 0)
            if e.kind != "sale":
                continue
            lines = [{**line, "mark": ("", 0) if line["product_id"] is None
                      else own.get(line["product_id"], CATALOGUE.get(line["name"], ("", 0)))}
                     for line in e.payload["lines"]]
            out[name].append(SimpleNamespace(
                day=e.payload["business_day"], total=e.payload["total"],
                qr=sum(p["amount"] for p in e.payload["payments"] if p["method"] == "qr"),
                lines=lines, voided=e.seq in voided))
    return out


def _want_products(raw, names, prefix="2026-11"):
    """(name, category, stars) → [revenue, quantity] of the live sales of the month."""
    want = defaultdict(lambda: [0, 0])
    for name in names:
        for sale in raw[name]:
            if sale.voided or not sale.day.startswith(prefix):
                continue
            for line in sale.lines:
                category, stars = line["mark"]
                key = (line["name"], category or None, stars or None)
                want[key][0] += line["amount"]
                want[key][1] += line["quantity_milli"]
    return dict(want)


def _expected(raw, names, period):
    days = {d.isoformat() for d in period.days()}
    sums = defaultdict(int)
    for name in names:
        active = False
        for sale in raw[name]:
            if sale.day not in days:
                continue
            if sale.voided:
                sums["voids"] += 1
                sums["voided"] += sale.total
                continue
            active = True
            sums["sales"] += 1
            sums["revenue"] += sale.total
            sums["qr"] += sale.qr
            sums["cash"] += sale.total - sale.qr
            sums["qr_sales"] += sale.qr > 0
        sums["active"] += active
    return dict(sums)


def _half_up(numerator, denominator):
    if not denominator:
        return None
    return int((Decimal(numerator) / Decimal(denominator)).quantize(Decimal(1), ROUND_HALF_UP))


PERIODS = [figures.period_of(kind, date.fromisoformat(day)) for kind, day in (
    ("day", "2026-11-22"), ("day", "2026-11-23"), ("week", "2026-11-22"), ("week", "2026-11-26"),
    ("day", "2026-11-25"), ("month", "2026-11-05"), ("month", "2026-12-01"))]


def _places(conn, province):
    by_name = {}
    for name, stall in province.stalls.items():
        by_name[name] = scope.resolve(conn, "stall", stall.device_id)
    lan = by_name["lan"]
    commune_a = scope.resolve(conn, "commune", str(lan.commune_id))
    commune_b = scope.resolve(conn, "commune", str(by_name["tuan"].commune_id))
    return {
        ("lan", "hoa", "mai", "tuan"): scope.resolve(conn, "province", str(lan.province_id)),
        ("lan", "hoa", "mai"): commune_a, ("tuan",): commune_b,
        ("lan", "hoa"): scope.resolve(conn, "market", str(lan.market_id)),
        ("mai",): scope.resolve(conn, "market", str(by_name["mai"].market_id)),
        **{(name,): place for name, place in by_name.items()},
    }


@pytest.mark.parametrize("period", PERIODS, ids=lambda p: f"{p.kind}-{p.start}")
def test_every_figure_equals_the_journal(engine, province, period):
    raw = _raw(province)
    with read_transaction(engine) as conn:
        for names, place in _places(conn, province).items():
            want = _expected(raw, names, period)
            got = figures.totals(conn, place, period)
            for key in ("sales", "revenue", "qr", "cash", "qr_sales", "voids", "voided"):
                assert got[key] == want.get(key, 0), (place.level, names, key)
            if place.level != "stall":
                assert got["active"] == want.get("active", 0)
            count, revenue = want.get("sales", 0), want.get("revenue", 0)
            assert got["average"] == _half_up(revenue, count)
            assert got["qr_share"] == _half_up(want.get("qr", 0) * 10_000, revenue)
            assert got["qr_count_share"] == _half_up(want.get("qr_sales", 0) * 10_000, count)


def test_breakdown_trend_and_products_equal_the_journal(engine, province):
    raw = _raw(province)
    month = figures.period_of("month", date(2026, 11, 1))
    with read_transaction(engine) as conn:
        places = _places(conn, province)
        province_place = places[("lan", "hoa", "mai", "tuan")]
        communes = {row["name"]: row for row in figures.breakdown(conn, province_place, month)}
        assert communes[COMMUNE]["revenue"] == _expected(raw, ("lan", "hoa", "mai"),
                                                         month)["revenue"]
        assert communes[OTHER_COMMUNE]["sales"] == _expected(raw, ("tuan",), month)["sales"]
        market = places[("lan", "hoa")]
        stalls = {row["name"]: row for row in figures.breakdown(conn, market, month)}
        assert set(stalls) == {"Sạp lan", "Sạp hoa"}
        assert stalls["Sạp hoa"]["qr"] == _expected(raw, ("hoa",), month)["qr"]
        trend = {row["day"]: row for row in figures.trend(conn, places[("lan", "hoa", "mai")],
                                                           month)}
        assert len(trend) == 30
        for day in ("2026-11-22", "2026-11-23", "2026-11-24"):
            one = figures.period_of("day", date.fromisoformat(day))
            assert trend[day]["revenue"] == _expected(raw, ("lan", "hoa", "mai"), one).get(
                "revenue", 0)
        for names in (("lan", "hoa", "mai"), ("lan",), ("hoa",), ("lan", "hoa", "mai", "tuan")):
            top, categories = figures.products(conn, places[names], month, limit=100)
            assert top
            want = _want_products(raw, names)
            assert {(p["name"], p["category"], p["ocop_stars"]): [p["revenue"],
                                                                 p["quantity_milli"]]
                    for p in top} == want
            by_category: dict = defaultdict(lambda: [0, 0])
            for (_name, category, stars), (revenue, _quantity) in want.items():
                by_category[category][0] += revenue
                by_category[category][1] += revenue if stars else 0
            assert {c["category"]: [c["revenue"], c["ocop"]] for c in categories} == \
                dict(by_category)
            # The stall's own OCOP product counts (it used to be "Other", OCOP 0 ₫); the typed
            # "Chè Shan tuyết" does not take the catalogue's stars; product 1 does take its
            # catalogue category.
            assert by_category["Cá"][1] == by_category["Cá"][0] > 0
            assert ("Chè Shan tuyết", None, None) in want
            assert by_category["Rau"][0] > 0 and by_category["Thịt"][0] > 0
            if set(names) & {"lan", "mai"}:
                assert by_category["Thủy sản"][0] > 0 and by_category["Thủy sản"][1] == 0


# --- pages, scope and exports ------------------------------------------------------------------

def _login(app, username):
    client = app.test_client()
    response = client.post("/admin/login", data={"username": username, "password": PASSWORD,
                                                 "csrf_token": csrf(client)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def users(app, engine, province):
    with write_transaction(engine) as conn:
        create_user(conn, "quantri", PASSWORD, "admin")
        create_user(conn, "tinh", PASSWORD, "viewer", province=PROVINCE)
        create_user(conn, "minhkhai", PASSWORD, "viewer", province=PROVINCE, commune=COMMUNE)
    return SimpleNamespace(admin=_login(app, "quantri"), province=_login(app, "tinh"),
                           commune=_login(app, "minhkhai"))


def _urls(engine, province):
    with read_transaction(engine) as conn:
        places = _places(conn, province)
    a, b = places[("lan", "hoa")], places[("tuan",)]
    return SimpleNamespace(
        province=f"/dashboard/province/{a.province_id}",
        own=[f"/dashboard/commune/{a.commune_id}", f"/dashboard/market/{a.market_id}",
             f"/dashboard/stall/{province.stalls['lan'].device_id}"],
        other=[f"/dashboard/commune/{b.commune_id}", f"/dashboard/market/{b.market_id}",
               f"/dashboard/stall/{province.stalls['tuan'].device_id}"],
        places=places)


def test_a_commune_viewer_sees_nothing_of_another_commune(engine, province, users):
    urls = _urls(engine, province)
    home = users.commune.get("/dashboard/")
    assert home.status_code == 302 and home.location.endswith(urls.own[0])
    month = "?period=month&date=2026-11-01"
    for url in urls.own:
        page = users.commune.get(url + month)
        assert page.status_code == 200, url
        assert "Sạp tuan" not in page.get_data(as_text=True)
    for url in [urls.province] + urls.other:
        assert users.commune.get(url + month).status_code == 403, url
        assert users.commune.get(url + "/stalls.csv" + month).status_code == 403
        assert users.commune.get(url + "/products.csv" + month).status_code == 403
    other_commune = urls.other[0].rsplit("/", 1)[1]
    assert users.commune.get(f"/dashboard/commune/{other_commune}/report.pdf").status_code == 403
    assert users.commune.get("/admin/stalls").status_code == 403
    for client in (users.province, users.admin):
        for url in [urls.province] + urls.own + urls.other:
            assert client.get(url + month).status_code == 200, url
    assert users.province.get("/dashboard/").location.endswith(urls.province)
    assert users.admin.get("/dashboard/market/999999").status_code == 404
    assert users.admin.get("/dashboard/nowhere/1").status_code == 404


def test_pages_need_a_login_and_a_sensible_period(app, engine, province, users):
    urls = _urls(engine, province)
    anonymous = app.test_client()
    response = anonymous.get(urls.province)
    assert response.status_code == 302 and "/admin/login" in response.location
    for query in ("?period=year", "?date=22/11/2026", "?date=3026-01-01"):
        bad = users.admin.get(urls.province + query)
        assert bad.status_code == 400
        assert "Traceback" not in bad.get_data(as_text=True)
    assert "YYYY-MM-DD" in users.admin.get(urls.province + "?date=x").get_data(as_text=True)


def test_province_page_shows_aggregates_and_the_overview_figures(engine, province, users):
    urls = _urls(engine, province)
    html = users.province.get(urls.province + "?period=month&date=2026-11-01").get_data(
        as_text=True)
    want = _expected(_raw(province), ("lan", "hoa", "mai", "tuan"),
                     figures.period_of("month", date(2026, 11, 1)))
    revenue = f'{want["revenue"]:,}'.replace(",", ".") + " ₫"
    assert f'id="fig-revenue">{revenue}<' in html
    assert f'id="fig-sales">{want["sales"]}<' in html
    assert "<svg" in html and 'data-day="2026-11-22"' in html
    assert "Sạp lan" not in html and "Sạp tuan" not in html   # no single stall on this page
    assert COMMUNE in html and OTHER_COMMUNE in html


def test_csv_exports_are_excel_friendly_and_hold_the_rows_shown(engine, province, users):
    urls = _urls(engine, province)
    month = "?period=month&date=2026-11-01"
    response = users.commune.get(urls.own[1] + "/stalls.csv" + month)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.data
    assert body.startswith("\ufeff".encode("utf-8"))
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Sạp", "Doanh thu", "Đơn bán"]
    raw = _raw(province)
    period = figures.period_of("month", date(2026, 11, 1))
    got = {row[0]: (int(row[1]), int(row[2])) for row in rows[1:]}
    assert got == {f"Sạp {n}": (_expected(raw, (n,), period)["revenue"],
                                _expected(raw, (n,), period)["sales"]) for n in ("lan", "hoa")}
    sales_csv = users.commune.get(urls.own[2] + "/sales.csv" + month).data.decode("utf-8-sig")
    sale_rows = list(csv.reader(io.StringIO(sales_csv)))[1:]
    november = [s for s in raw["lan"] if s.day.startswith("2026-11")]
    assert len(sale_rows) == len(november)
    assert sum(int(r[3]) for r in sale_rows) == sum(s.total for s in november)
    assert users.commune.get(urls.own[1] + "/nothing.csv").status_code == 404


def test_stall_page_shows_sales_voids_day_closes_and_last_sync(engine, province, users):
    urls = _urls(engine, province)
    html = users.commune.get(urls.own[2] + "?period=month&date=2026-11-01").get_data(
        as_text=True)
    for grid in ('data-grid="sales"', 'data-grid="voids"', 'data-grid="day_closes"',
                 'id="last-sync"', "lần hai"):
        assert grid in html
    assert "-1.000 ₫" in html   # the Z close's difference


def test_monthly_report_pdf_reads_back_in_vietnamese(tmp_path, engine, province, users):
    urls = _urls(engine, province)
    response = users.commune.get(urls.own[0] + "/report.pdf?date=2026-11-15")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    path = tmp_path / "report.pdf"
    path.write_bytes(response.data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    want = _expected(_raw(province), ("lan", "hoa", "mai"),
                     figures.period_of("month", date(2026, 11, 1)))
    assert "11/2026" in text and COMMUNE in text and "Chè Shan tuyết" in text
    assert f'{want["revenue"]:,}'.replace(",", ".") + " ₫" in text
    assert "Doanh thu" in text
    # Categories by revenue: the stalls' own OCOP product counts as OCOP (issue 17).
    products = _want_products(_raw(province), ("lan", "hoa", "mai"))
    fish = sum(revenue for (_n, category, _s), (revenue, _q) in products.items()
               if category == "Cá")
    fish_text = f"{fish:,}".replace(",", ".") + " ₫"
    [row] = [line for line in text.splitlines() if line.strip().startswith("Cá  ")]
    assert row.count(fish_text) == 2, row   # its revenue, and all of it OCOP


def test_alerts_show_qr_mismatches_in_scope_and_unrouted_payments_to_the_province(
        engine, province, users):
    urls = _urls(engine, province)
    now = datetime.now(timezone.utc)
    with write_transaction(engine) as conn:
        for name, seq in (("lan", 900), ("tuan", 901)):
            conn.execute(qr_checks.insert().values(
                device_id=province.stalls[name].device_id, seq=seq, reference="SAP12 0457",
                state="mismatch", reason="amount", bank_amount=10_000, expected=12_000,
                source="bank", business_day="2026-11-22", at="2026-11-22T03:00:00.000Z"))
        conn.execute(bank_notifications.insert().values(
            txn_id="FT2611220001", amount=55_000, description="CK khong ro noi dung",
            received_at=now))
        conn.execute(update(devices).where(devices.c.device_id == province.stalls["mai"]
                                           .device_id).values(last_sync_at=now - timedelta(days=5)))
    query = "?period=day&date=2026-11-22"
    commune_html = users.commune.get(urls.own[0] + query).get_data(as_text=True)
    assert "SAP12 0457" in commune_html and "FT2611220001" not in commune_html
    assert 'id="fig-silent">1<' in commune_html and "Sạp mai" in commune_html
    province_html = users.province.get(urls.province + query).get_data(as_text=True)
    assert "FT2611220001" in province_html
    with read_transaction(engine) as conn:
        counts = figures.alert_counts(conn, urls.places[("lan", "hoa", "mai")],
                                      figures.period_of("day", date(2026, 11, 22)),
                                      include_unrouted=False)
    assert counts["qr_mismatch"] == 1 and "unrouted" not in counts


# --- the public receipt check -------------------------------------------------------------------

def _code(chain, entry):
    return (f"MP1;{entry.id};{chain.device_id};{entry.seq};{entry.hash[:16]};"
            f"{entry.payload['total']}")


def test_receipt_check_says_registered_voided_or_not_registered(app, client, province):
    chain = province.chains["lan"]
    sales = [e for e in chain.entries if e.kind == "sale"]
    live, voided = sales[0], sales[1]
    page = client.get("/check?c=" + quote(_code(chain, live), safe=""))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-state="registered"' in html
    assert "Sạp lan" in html and MARKET in html
    answer = html.split("<main>")[1].split("<textarea")[0]
    assert "Nguyễn Thị Lan" not in answer and chain.device_id not in answer
    assert 'data-state="voided"' in client.get("/check", query_string={
        "c": _code(chain, voided)}).get_data(as_text=True)
    altered = _code(chain, live).rsplit(";", 1)[0] + ";1"
    html = client.get("/check", query_string={"c": altered}).get_data(as_text=True)
    assert 'data-state="not_registered"' in html and "Sạp lan" not in html
    unsynced = _code(chain, live).replace(f";{live.seq};", ";9999;")
    assert 'data-state="not_registered"' in client.get("/check", query_string={
        "c": unsynced}).get_data(as_text=True)
    whole_url = "https://tinh.example/check?c=" + quote(_code(chain, live), safe="")
    assert 'data-state="registered"' in client.get("/check", query_string={
        "c": whole_url}).get_data(as_text=True)
    bad = client.get("/check", query_string={"c": "MP1;not-a-sale"})
    assert bad.status_code == 400 and "MP1;" in bad.get_data(as_text=True)
    assert client.get("/check").status_code == 200   # the empty form


def test_receipt_check_is_rate_limited(app, client, province):
    app.extensions["market_server"]["check_limiter"].limit = 3
    for _ in range(3):
        assert client.get("/check", query_string={"c": "MP1;x"}).status_code == 400
    limited = client.get("/check", query_string={"c": "MP1;x"})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1


def test_init_fills_missing_rollups_and_rebuild_rollups_repairs(engine, server_db, province):
    from click.testing import CliRunner
    from sqlalchemy import delete

    from sync.server.cli import main
    with read_transaction(engine) as conn:
        pushed = _snapshot(conn)
    with write_transaction(engine) as conn:
        for table in rollups.ROLLUP_TABLES:
            conn.execute(delete(table))
    result = CliRunner().invoke(main, ["init", "--database", server_db])
    assert result.exit_code == 0, result.output
    with read_transaction(engine) as conn:
        assert _snapshot(conn) == pushed
    with write_transaction(engine) as conn:
        conn.execute(update(stall_periods).values(revenue=0))
    result = CliRunner().invoke(main, ["rebuild-rollups", "--database", server_db])
    assert result.exit_code == 0 and "rows in stall_periods" in result.output
    with read_transaction(engine) as conn:
        assert _snapshot(conn) == pushed


def test_pages_and_exports_speak_english_too(engine, province, users):
    urls = _urls(engine, province)
    token = csrf(users.admin, "/admin/stalls")
    assert users.admin.post("/admin/lang", data={"lang": "en", "csrf_token": token,
                                                 "next": urls.province}).status_code == 302
    html = users.admin.get(urls.province + "?period=week&date=2026-11-22").get_data(
        as_text=True)
    assert "Cashless share (value)" in html and "Communes and wards" in html
    rows = users.admin.get(urls.own[0] + "/markets.csv?period=month&date=2026-11-01").data
    assert rows.decode("utf-8-sig").splitlines()[0].startswith("Market,Revenue,Sales")


def test_einvoices_not_yet_received_are_an_alert_of_their_place(engine, province, users):
    """The dashboard shows the e-invoices the tax authority has not received yet (issue 7)."""
    from sync.server.db import einvoice_queue
    urls = _urls(engine, province)
    now = datetime.now(timezone.utc)
    rows = [{"device_id": province.stalls[name].device_id, "seq": seq, "kind": "sale",
             "code": f"M2-26-A1B2C-{seq:011d}", "related_code": None,
             "business_day": "2026-11-22", "total": 1000, "xml": "<HDon/>", "state": state,
             "queued_at": now}
            for name, seq, state in (("lan", 1, "queued"), ("lan", 2, "sent"),
                                     ("lan", 3, "received"), ("lan", 4, "duplicate"),
                                     ("tuan", 5, "queued"))]
    with write_transaction(engine) as conn:
        conn.execute(einvoice_queue.insert(), rows)
    with read_transaction(engine) as conn:
        counts = figures.alert_counts(conn, urls.places[("lan", "hoa", "mai")],
                                      figures.period_of("day", date(2026, 11, 22)),
                                      include_unrouted=False)
    assert counts["einvoice_pending"] == 2 and counts["einvoice_duplicate"] == 1
    html = users.commune.get(urls.own[0] + "?period=day&date=2026-11-22").get_data(as_text=True)
    assert "tag-einvoice_pending" in html and "tag-einvoice_duplicate" in html
