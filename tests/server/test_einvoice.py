"""The server's e-invoice queue: filled as entries arrive, sent in batches to a provider
simulator with faults (nothing sent twice, nothing dropped), exported for upload by hand, and
shown as "not yet received by the tax authority"; on SQLite and PostgreSQL."""
from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from sync.invoice_xml import schema_path
from pos.tax.mtt import format_code
from sync.server.cli import main
from sync.server.db import einvoice_batches, einvoice_queue, write_transaction
from sync.server.einvoice import queue, sender
from sync.server.einvoice.adapter import HttpAdapter
from sync.server.einvoice.export import export_batch, read_manifest
from tests.harness.provider_sim import Faults, ProviderSimulator
from tests.server.chain import Chain, sale_payload
from tests.server.conftest import bearer, pair_stall, push

SELLER = {"name": "Nguyễn Thị Lan", "tax_code": "0101234567", "address": "Chợ Bắc Hà, Lào Cai",
          "phone": "", "store": "Sạp rau cô Lan", "location_code": ""}


def invoice(number: int, block: int = 0, year: int = 2026) -> dict[str, Any]:
    return {"code": format_code(2, year, "A1B2C", block, number), "form": 2, "symbol": "C26MAB",
            "range": "A1B2C", "year": year, "block": block, "number": number, "seller": SELLER}


def mtt_sales(chain: Chain, count: int, block: int = 0, first: int = 1) -> list[Any]:
    entries = []
    for i in range(count):
        chain.sales += 1
        payload = sale_payload(chain.sales, variant=i)
        payload["invoice"] = invoice(first + i, block)
        entries.append(chain.append("sale", payload))
    return entries


def correction(chain: Chain, original: Any, number: int, amount: int = -10000) -> Any:
    p = original.payload
    return chain.append("invoice_correction", {
        "type": "adjustment", "sale_id": original.id, "business_day": p["business_day"],
        "original": {"code": p["invoice"]["code"], "form": 2, "symbol": "C26MAB",
                     "number": p["invoice"]["number"], "day": p["business_day"]},
        "invoice": invoice(number), "lines": [{"name": "Giảm giá", "amount": amount}],
        "total": amount, "delta": amount, "reason": "Cân thiếu", "issued_by": "owner"})


def states(engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {r.code: r.state for r in conn.execute(select(einvoice_queue))}


def test_invoices_are_queued_as_entries_arrive(client, engine, stall):
    chain = Chain(stall.device_id)
    plain = chain.sale()
    sold = mtt_sales(chain, 3)
    fix = correction(chain, sold[0], 4)
    assert push(client, stall, chain.entries).status_code == 200
    assert push(client, stall, chain.entries).status_code == 200   # a resend queues nothing new
    with engine.connect() as conn:
        rows = conn.execute(select(einvoice_queue).order_by(einvoice_queue.c.seq)).all()
    assert [r.seq for r in rows] == [e.seq for e in sold] + [fix.seq]
    assert plain.seq not in {r.seq for r in rows}
    assert {r.state for r in rows} == {"queued"}
    assert rows[-1].kind == "invoice_correction"
    assert rows[-1].related_code == sold[0].payload["invoice"]["code"]
    assert rows[-1].total == -10000
    assert "<TCHDon>2</TCHDon>" in rows[-1].xml and "<MCCQT>" in rows[0].xml
    answer = client.get("/api/v1/einvoices/pending", headers=stall.headers)
    assert answer.status_code == 200
    assert answer.get_json()["codes"] == [r.code for r in rows]
    assert client.get("/api/v1/einvoices/pending").status_code == 401
    assert client.get("/api/v1/einvoices/pending",
                      headers=bearer("not-a-token")).status_code == 401


def test_a_code_from_two_devices_is_never_sent_twice(client, engine):
    first, second = pair_stall(client, engine, "Sạp A"), pair_stall(client, engine, "Sạp B")
    for stall in (first, second):
        chain = Chain(stall.device_id)
        mtt_sales(chain, 1, block=0)          # both tills left on block 0
        assert push(client, stall, chain.entries).status_code == 200
    with engine.connect() as conn:
        rows = conn.execute(select(einvoice_queue).order_by(einvoice_queue.c.queued_at)).all()
    assert sorted(r.state for r in rows) == ["duplicate", "queued"]
    duplicate = next(r for r in rows if r.state == "duplicate")
    assert duplicate.device_id == second.device_id and "device block" in duplicate.message


def run_until_settled(engine, adapter, start: datetime, rounds: int = 300) -> datetime:
    now = start
    for _ in range(rounds):
        sender.run_once(engine, adapter, now, batch_size=7)
        with engine.connect() as conn:
            busy = conn.execute(select(einvoice_queue.c.seq).where(
                einvoice_queue.c.state.in_(("queued", "sending", "sent"))).limit(1)).first()
        if busy is None:
            return now
        now += timedelta(hours=2)
    raise AssertionError("the queue never settled")


def test_clean_provider_receives_everything_once(client, engine, stall):
    chain = Chain(stall.device_id)
    mtt_sales(chain, 20)
    assert push(client, stall, chain.entries).status_code == 200
    with ProviderSimulator(Faults(max_delay_polls=2), schema_path=schema_path()) as sim:
        run_until_settled(engine, HttpAdapter(sim.url, "sim-key", timeout=5),
                          datetime.now(timezone.utc))
    final = states(engine)
    assert set(final.values()) == {"received"}
    assert sim.ledger.delivered == {code: 1 for code in final}
    assert all(len(batches) == 1 for batches in sim.ledger.batches_of.values())
    with engine.connect() as conn:
        assert {r.provider_status for r in conn.execute(select(einvoice_queue))} == {8}
        assert {r.state for r in conn.execute(select(einvoice_batches))} == {"done"}
    assert client.get("/api/v1/einvoices/pending", headers=stall.headers).get_json()["codes"] \
        == []


@pytest.mark.parametrize("seed", [3, 11])
def test_faulty_provider_nothing_sent_twice_nothing_dropped(client, engine, stall, seed):
    chain = Chain(stall.device_id)
    sold = mtt_sales(chain, 40)
    correction(chain, sold[5], 41)
    assert push(client, stall, chain.entries).status_code == 200
    faults = Faults(error=20, lose_before=15, lose_after=20, forget=10, reject=10,
                    max_delay_polls=3, seed=seed)
    with ProviderSimulator(faults, schema_path=schema_path()) as sim:
        run_until_settled(engine, HttpAdapter(sim.url, "sim-key", timeout=5),
                          datetime.now(timezone.utc))
    final = states(engine)
    assert len(final) == 41                                   # nothing dropped
    received = {c for c, s in final.items() if s == "received"}
    rejected = {c for c, s in final.items() if s == "rejected"}
    assert received | rejected == set(final)
    assert received and rejected                              # the faults really happened
    assert sim.ledger.faults["lose_after"] and sim.ledger.faults["lose_before"]
    assert dict(sim.ledger.delivered) == {code: 1 for code in received}
    assert set(sim.ledger.rejected) == rejected
    # each invoice went out in one batch only: a retry repeats the same batch, never a new one
    assert all(len(batches) == 1 for batches in sim.ledger.batches_of.values())
    with engine.connect() as conn:
        messages = {r.code: r.message for r in conn.execute(select(einvoice_queue))}
    assert all(messages[code] for code in rejected)


def test_invalid_xml_is_rejected_with_the_reason(client, engine, stall):
    chain = Chain(stall.device_id)
    mtt_sales(chain, 2)
    assert push(client, stall, chain.entries).status_code == 200
    with write_transaction(engine) as conn:
        conn.execute(update(einvoice_queue).where(einvoice_queue.c.seq == 1)
                     .values(xml="<HDon><MCCQT>x</MCCQT></HDon>"))
    with ProviderSimulator(Faults(), schema_path=schema_path()) as sim:
        run_until_settled(engine, HttpAdapter(sim.url, "sim-key", timeout=5),
                          datetime.now(timezone.utc))
    with engine.connect() as conn:
        rows = {r.seq: r for r in conn.execute(select(einvoice_queue))}
    assert rows[1].state == "rejected" and "Sai cấu trúc" in rows[1].message
    assert rows[2].state == "received"


def test_a_crash_between_forming_and_posting_loses_nothing(client, engine, stall):
    chain = Chain(stall.device_id)
    mtt_sales(chain, 5)
    assert push(client, stall, chain.entries).status_code == 200
    now = datetime.now(timezone.utc)
    assert sender.form_batches(engine, now) == 1        # then the process dies
    assert set(states(engine).values()) == {"sending"}
    with ProviderSimulator(Faults()) as sim:
        run_until_settled(engine, HttpAdapter(sim.url, "sim-key", timeout=5), now)
    assert set(states(engine).values()) == {"received"}
    assert sim.ledger.posts == 1


def test_a_wrong_api_key_is_retried_not_dropped(client, engine, stall):
    chain = Chain(stall.device_id)
    mtt_sales(chain, 2)
    assert push(client, stall, chain.entries).status_code == 200
    with ProviderSimulator(Faults()) as sim:
        summary = sender.run_once(engine, HttpAdapter(sim.url, "wrong", timeout=5))
    assert summary.posted == 0 and "401" in summary.errors[0]
    assert set(states(engine).values()) == {"sending"}


def test_export_for_upload_by_hand(client, engine, stall, tmp_path):
    chain = Chain(stall.device_id)
    sold = mtt_sales(chain, 3)
    assert push(client, stall, chain.entries).status_code == 200
    out = io.BytesIO()
    assert export_batch(engine, out) == 3
    manifest = read_manifest(out.getvalue())
    assert [m["code"] for m in manifest] == [e.payload["invoice"]["code"] for e in sold]
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        xml = archive.read(f"{manifest[0]['seller_tax_code']}/{manifest[0]['code']}.xml"
                           ).decode("utf-8")
    assert "<HDon>" in xml and manifest[0]["code"] in xml
    assert set(states(engine).values()) == {"manual"}
    with ProviderSimulator(Faults()) as sim:                 # exported: never sent as well
        sender.run_once(engine, HttpAdapter(sim.url, "sim-key", timeout=5))
    assert sim.ledger.posts == 0
    assert export_batch(engine, io.BytesIO()) == 0
    with write_transaction(engine) as conn:
        assert queue.mark_received_by_hand(conn, [manifest[0]["code"]]) == 1
    assert states(engine)[manifest[0]["code"]] == "received"


def test_cli_commands(client, engine, stall, server_db, tmp_path):
    chain = Chain(stall.device_id)
    sold = mtt_sales(chain, 2)
    assert push(client, stall, chain.entries).status_code == 200
    runner = CliRunner()
    status = runner.invoke(main, ["einvoice-status", "--database", server_db, "--json"])
    assert status.exit_code == 0, status.output
    assert '"queued": 2' in status.output
    zip_path = tmp_path / "batch.zip"
    exported = runner.invoke(main, ["einvoice-export", "--database", server_db, "-o",
                                    str(zip_path)])
    assert exported.exit_code == 0 and "2 invoice(s)" in exported.output
    code = sold[0].payload["invoice"]["code"]
    done = runner.invoke(main, ["einvoice-received", "--database", server_db, code,
                                "M2-26-ZZZZZ-00000000001"])
    assert done.exit_code == 1 and "1 invoice(s) recorded" in done.output
    with ProviderSimulator(Faults()) as sim:
        sent = runner.invoke(main, ["einvoice-send", "--database", server_db, "--provider-url",
                                    sim.url], env={"MARKET_EINVOICE_KEY": "sim-key"})
    assert sent.exit_code == 0, sent.output
    assert "posted 0 batch(es)" in sent.output                 # all were exported by hand
    requeued = runner.invoke(main, ["einvoice-requeue", "--database", server_db])
    assert requeued.exit_code == 0 and "0 invoice(s) queued" in requeued.output


def test_staff_page_and_json(client, engine, stall):
    chain = Chain(stall.device_id)
    mtt_sales(chain, 1)
    assert push(client, stall, chain.entries).status_code == 200
    assert client.get("/admin/einvoices").status_code == 302
    assert client.get("/admin/einvoices.json").status_code == 401
    from sync.server import users
    with write_transaction(engine) as conn:
        users.create_user(conn, username="lan", password="a-long-password", role="viewer",
                          province="Lào Cai")
        users.create_user(conn, username="admin", password="a-long-password", role="admin")

    def log_in(username: str) -> None:   # a session cookie holds its user's session key too
        html = client.get("/admin/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        assert client.post("/admin/login", data={"username": username, "password":
                                                 "a-long-password", "csrf_token": token}
                           ).status_code == 302

    log_in("lan")
    assert client.get("/admin/einvoices").status_code == 403
    log_in("admin")
    page = client.get("/admin/einvoices")
    assert page.status_code == 200
    assert chain.entries[0].payload["invoice"]["code"] in page.get_data(as_text=True)
    data = client.get("/admin/einvoices.json").get_json()
    assert data["counts"] == {"queued": 1} and data["outstanding"][0]["state"] == "queued"


def test_the_stall_learns_which_invoices_are_still_out(client, engine, stall, live_server,
                                                        tmp_path):
    from pos import db as stall_db
    from pos import migrations
    from pos import settings as stall_settings
    from pos.sync import einvoice_status as status
    chain = Chain(stall.device_id)
    sold = mtt_sales(chain, 3)
    assert push(client, stall, chain.entries).status_code == 200
    path = tmp_path / "stall.db"
    migrations.migrate(path)
    conn = stall_db.connect(path)
    try:
        with stall_db.write_transaction(conn):
            stall_settings.write(conn, "sync_server_url", "http://127.0.0.1:9")   # nobody there
            stall_settings.write(conn, "sync_token", stall.token)
        assert status.refresh(conn) is False
        assert status.outstanding(conn).checked_at is None
        with stall_db.write_transaction(conn):
            stall_settings.write(conn, "sync_server_url", live_server)
        assert status.refresh(conn) is True
        out = status.outstanding(conn)
        assert out.at_province == [e.payload["invoice"]["code"] for e in sold]
        assert out.count == 3 and out.checked_at
        with ProviderSimulator(Faults()) as sim:
            run_until_settled(engine, HttpAdapter(sim.url, "sim-key", timeout=5),
                              datetime.now(timezone.utc))
        assert status.refresh(conn) is True
        assert status.outstanding(conn).count == 0
    finally:
        conn.close()
