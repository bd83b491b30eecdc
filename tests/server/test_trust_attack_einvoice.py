"""Attack: one stall silences another stall's e-invoices (issue 15).

Stall A, with its own tax code, types stall B's form and range into its tax settings, sells and
syncs. The server used to take an MTT code as a duplicate by the code alone, so B's next invoice
with that code was marked `duplicate`, never sent to the tax authority, and B's list of invoices
not yet received did not mention it. An invoice is the seller's tax code and its code; a range
used by two tax codes is an integrity alert; a stall hears of every invoice of its own that the
tax authority has not received. Runs on SQLite and PostgreSQL.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import insert, select

from pos.tax.mtt import format_code
from sync.server import figures, migrations, scope
from sync.server.db import (einvoice_queue, journal, make_engine, provinces, read_transaction,
                            write_transaction)
from sync.server.einvoice import sender
from tests.server.chain import Chain, sale_payload
from tests.server.conftest import pair_stall, push

VICTIM_TAX_CODE, ATTACKER_TAX_CODE = "0101234567", "0309999999"
RANGE = "A1B2C"          # the range the tax authority issued to the victim


def invoice(tax_code: str, number: int, block: int = 0) -> dict[str, Any]:
    """An invoice of B's form and range, by the seller with `tax_code`."""
    return {"code": format_code(2, 2026, RANGE, block, number), "form": 2, "symbol": "C26MAB",
            "range": RANGE, "year": 2026, "block": block, "number": number,
            "seller": {"name": "Người bán", "tax_code": tax_code, "address": "Chợ Bắc Hà",
                       "phone": "", "store": "Sạp", "location_code": ""}}


def sell(chain: Chain, tax_code: str, number: int, block: int = 0) -> Any:
    chain.sales += 1
    payload = sale_payload(chain.sales)
    payload["invoice"] = invoice(tax_code, number, block)
    return chain.append("sale", payload)


def queue_rows(engine, device_id: str) -> list[Any]:
    with engine.connect() as conn:
        return conn.execute(select(einvoice_queue).where(einvoice_queue.c.device_id == device_id)
                            .order_by(einvoice_queue.c.seq)).all()


def einvoice_alerts(engine) -> list[dict[str, Any]]:
    """The dashboard's alerts of the whole province, e-invoice range alerts only."""
    with read_transaction(engine) as conn:
        province_id = conn.execute(select(provinces.c.id)).scalar_one()
        rows = figures.alert_rows(conn, scope.resolve(conn, "province", str(province_id)),
                                  figures.period_of("day", date(2026, 11, 22)),
                                  include_unrouted=False)
    return [row for row in rows if row["kind"] == "einvoice_range"]


def test_another_tax_code_in_my_range_does_not_silence_my_invoice(client, engine):
    attacker = pair_stall(client, engine, "Sạp A")
    victim = pair_stall(client, engine, "Sạp B")
    a_chain, b_chain = Chain(attacker.device_id), Chain(victim.device_id)
    sell(a_chain, ATTACKER_TAX_CODE, 1)
    assert push(client, attacker, a_chain.entries).status_code == 200
    mine = sell(b_chain, VICTIM_TAX_CODE, 1)          # the very same code, B's own tax code
    assert push(client, victim, b_chain.entries).status_code == 200

    [row] = queue_rows(engine, victim.device_id)
    assert row.code == mine.payload["invoice"]["code"]
    assert row.state == "queued", row.message          # still on its way to the tax authority
    assert row.seller_tax_code == VICTIM_TAX_CODE
    alerts = einvoice_alerts(engine)
    assert {a["device_id"] for a in alerts} == {attacker.device_id, victim.device_id}
    assert all(ATTACKER_TAX_CODE in a["message"] and VICTIM_TAX_CODE in a["message"]
               for a in alerts)
    pending = client.get("/api/v1/einvoices/pending", headers=victim.headers).get_json()
    assert pending["codes"] == [row.code]

    push(client, victim, b_chain.entries)               # a resend raises no second alert
    sell(b_chain, VICTIM_TAX_CODE, 2)
    assert push(client, victim, b_chain.entries).status_code == 200
    assert len(einvoice_alerts(engine)) == 2            # nor does the next sale in the range


def test_the_range_alert_is_raised_whichever_stall_syncs_first(client, engine):
    victim = pair_stall(client, engine, "Sạp B")
    attacker = pair_stall(client, engine, "Sạp A")
    b_chain, a_chain = Chain(victim.device_id), Chain(attacker.device_id)
    sell(b_chain, VICTIM_TAX_CODE, 1)
    assert push(client, victim, b_chain.entries).status_code == 200
    sell(a_chain, ATTACKER_TAX_CODE, 7, block=3)       # no code in common, the same range
    assert push(client, attacker, a_chain.entries).status_code == 200
    assert {a["device_id"] for a in einvoice_alerts(engine)} == {attacker.device_id,
                                                                  victim.device_id}
    assert [r.state for r in queue_rows(engine, victim.device_id)] == ["queued"]


def test_a_stall_is_warned_of_its_own_invoices_marked_duplicate(client, engine):
    """Two tills of the same seller left on one device block: the second till's invoice is a
    real duplicate and is not sent, and that till hears of it as not received."""
    first = pair_stall(client, engine, "Sạp B quầy 1")
    second = pair_stall(client, engine, "Sạp B quầy 2")
    for stall in (first, second):
        chain = Chain(stall.device_id)
        sell(chain, VICTIM_TAX_CODE, 1)
        assert push(client, stall, chain.entries).status_code == 200
    [duplicate] = queue_rows(engine, second.device_id)
    assert duplicate.state == "duplicate"
    pending = client.get("/api/v1/einvoices/pending", headers=second.headers).get_json()
    assert pending["codes"] == [duplicate.code]
    assert pending["counts"] == {"duplicate": 1}
    assert einvoice_alerts(engine) == []                # one seller: no range alert


def test_one_code_of_two_sellers_never_shares_a_batch(client, engine):
    """The provider answers by code: two sellers' invoices with one code go in two batches."""
    one, two = pair_stall(client, engine, "Sạp A"), pair_stall(client, engine, "Sạp B")
    for stall, tax_code in ((one, ATTACKER_TAX_CODE), (two, VICTIM_TAX_CODE)):
        chain = Chain(stall.device_id)
        sell(chain, tax_code, 1)
        assert push(client, stall, chain.entries).status_code == 200
    assert sender.form_batches(engine, datetime.now(timezone.utc)) == 2
    with engine.connect() as conn:
        batches = {r.batch_id for r in conn.execute(select(einvoice_queue.c.batch_id))}
    assert len(batches) == 2 and None not in batches


def test_migration_keys_existing_invoices_by_seller_and_sends_the_silenced_one(empty_db):
    """Rows queued before revision 0007 get the seller's tax code from their entry; an invoice
    that had been marked duplicate only because another seller used its code is queued again."""
    engine = make_engine(empty_db)
    try:
        migrations.upgrade(engine, "0005")
        rows = []
        with write_transaction(engine) as conn:
            for device_id, tax_code, state in (("a" * 8 + "-0000-4000-8000-" + "0" * 12,
                                                ATTACKER_TAX_CODE, "queued"),
                                               ("b" * 8 + "-0000-4000-8000-" + "0" * 12,
                                                VICTIM_TAX_CODE, "duplicate")):
                chain = Chain(device_id)
                entry = sell(chain, tax_code, 1)
                conn.execute(insert(journal).values(
                    device_id=device_id, seq=entry.seq, id=entry.id, kind=entry.kind,
                    at=entry.at, payload=json.dumps(entry.payload, ensure_ascii=False),
                    prev_hash=entry.prev_hash, hash=entry.hash,
                    received_at=datetime.now(timezone.utc)))
                rows.append({"device_id": device_id, "seq": entry.seq,
                             "code": entry.payload["invoice"]["code"], "kind": "sale",
                             "business_day": "2026-11-22", "total": 1000, "xml": "<HDon/>",
                             "state": state, "queued_at": datetime.now(timezone.utc)})
            conn.execute(einvoice_queue.insert(), rows)
        migrations.upgrade(engine)
        with engine.connect() as conn:
            found = {r.seller_tax_code: r.state for r in conn.execute(select(einvoice_queue))}
        assert found == {ATTACKER_TAX_CODE: "queued", VICTIM_TAX_CODE: "queued"}
    finally:
        engine.dispose()


def test_by_hand_export_and_receipt_keep_two_sellers_equal_codes_apart(client, engine,
                                                                        server_db, tmp_path):
    """The manual route (export, then einvoice-received) also keys by seller and code: the two
    XML files do not overwrite each other, and a bare code shared by two sellers is refused
    rather than marking the other taxpayer's invoice received."""
    import io
    import zipfile

    from click.testing import CliRunner

    from sync.server.cli import main
    from sync.server.einvoice.export import export_batch, read_manifest

    attacker = pair_stall(client, engine, "Sạp A")
    victim = pair_stall(client, engine, "Sạp B")
    a_chain, b_chain = Chain(attacker.device_id), Chain(victim.device_id)
    code = sell(a_chain, ATTACKER_TAX_CODE, 1).payload["invoice"]["code"]
    sell(b_chain, VICTIM_TAX_CODE, 1)
    assert push(client, attacker, a_chain.entries).status_code == 200
    assert push(client, victim, b_chain.entries).status_code == 200

    out = io.BytesIO()
    assert export_batch(engine, out) == 2
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        names = sorted(archive.namelist())
        assert names == sorted(["manifest.csv", f"{ATTACKER_TAX_CODE}/{code}.xml",
                                f"{VICTIM_TAX_CODE}/{code}.xml"])
        assert VICTIM_TAX_CODE in archive.read(f"{VICTIM_TAX_CODE}/{code}.xml").decode()
    assert {m["seller_tax_code"] for m in read_manifest(out.getvalue())} == {
        ATTACKER_TAX_CODE, VICTIM_TAX_CODE}

    runner = CliRunner()
    bare = runner.invoke(main, ["einvoice-received", "--database", server_db, code])
    assert bare.exit_code == 1 and "more than one seller" in bare.output
    assert {r.state for r in queue_rows(engine, victim.device_id)} == {"manual"}
    named = runner.invoke(main, ["einvoice-received", "--database", server_db, "--seller",
                                 ATTACKER_TAX_CODE, code])
    assert named.exit_code == 0 and "1 invoice(s) recorded" in named.output
    assert [r.state for r in queue_rows(engine, attacker.device_id)] == ["received"]
    assert [r.state for r in queue_rows(engine, victim.device_id)] == ["manual"]


def seller_alerts(engine) -> list[dict[str, Any]]:
    """The dashboard's alerts of the whole province, tax code alerts only."""
    with read_transaction(engine) as conn:
        province_id = conn.execute(select(provinces.c.id)).scalar_one()
        rows = figures.alert_rows(conn, scope.resolve(conn, "province", str(province_id)),
                                  figures.period_of("day", date(2026, 11, 22)),
                                  include_unrouted=False)
    return [row for row in rows if row["kind"] == "einvoice_seller"]


def test_a_copied_tax_code_does_not_silence_the_stall_that_holds_it(client, engine):
    """A copies B's tax code as well as B's range, and sends the code B will use next before B
    does. B, the first to have sent invoices under its tax code, holds it: B's invoice keeps the
    code, A's (not yet sent) is held back, and both stalls are alerted."""
    victim = pair_stall(client, engine, "Sạp B")
    attacker = pair_stall(client, engine, "Sạp A")
    b_chain, a_chain = Chain(victim.device_id), Chain(attacker.device_id)
    sell(b_chain, VICTIM_TAX_CODE, 1)
    assert push(client, victim, b_chain.entries).status_code == 200
    sell(a_chain, VICTIM_TAX_CODE, 2)                   # B's tax code, B's next code
    assert push(client, attacker, a_chain.entries).status_code == 200
    assert {a["device_id"] for a in seller_alerts(engine)} == {attacker.device_id,
                                                                victim.device_id}
    sell(b_chain, VICTIM_TAX_CODE, 2)
    assert push(client, victim, b_chain.entries).status_code == 200

    assert [r.state for r in queue_rows(engine, victim.device_id)] == ["queued", "queued"]
    [copied] = queue_rows(engine, attacker.device_id)
    assert copied.state == "duplicate" and victim.device_id in copied.message
    assert len(seller_alerts(engine)) == 2               # once per stall while open
    pending = client.get("/api/v1/einvoices/pending", headers=victim.headers).get_json()
    assert pending["counts"] == {"queued": 2}


def test_the_officer_gives_the_tax_code_back_when_the_copier_synced_first(client, engine,
                                                                          server_db):
    """A synced B's tax code before B ever did, so A holds it by first use and B's invoice is
    held back; B is told (alert, and its list of invoices not received), and the officer's one
    command names B the holder: B's invoice is queued again and A's is held back."""
    from click.testing import CliRunner

    from sync.server.cli import main

    attacker = pair_stall(client, engine, "Sạp A")
    victim = pair_stall(client, engine, "Sạp B")
    a_chain, b_chain = Chain(attacker.device_id), Chain(victim.device_id)
    sell(a_chain, VICTIM_TAX_CODE, 1)
    assert push(client, attacker, a_chain.entries).status_code == 200
    sell(b_chain, VICTIM_TAX_CODE, 1)
    assert push(client, victim, b_chain.entries).status_code == 200
    [held] = queue_rows(engine, victim.device_id)
    assert held.state == "duplicate"
    assert {a["device_id"] for a in seller_alerts(engine)} == {attacker.device_id,
                                                                victim.device_id}
    pending = client.get("/api/v1/einvoices/pending", headers=victim.headers).get_json()
    assert pending["codes"] == [held.code]

    runner = CliRunner()
    unknown = runner.invoke(main, ["einvoice-holder", "--database", server_db, "--by", "Chi cục",
                                   VICTIM_TAX_CODE, "no-such-device"])
    assert unknown.exit_code == 1 and "no device" in unknown.output
    named = runner.invoke(main, ["einvoice-holder", "--database", server_db, "--by", "Chi cục",
                                 VICTIM_TAX_CODE, victim.device_id])
    assert named.exit_code == 0 and "1 invoice(s) queued again" in named.output, named.output
    assert [r.state for r in queue_rows(engine, victim.device_id)] == ["queued"]
    assert [r.state for r in queue_rows(engine, attacker.device_id)] == ["duplicate"]

    sell(a_chain, VICTIM_TAX_CODE, 2)                   # the copier goes on: it loses again
    assert push(client, attacker, a_chain.entries).status_code == 200
    sell(b_chain, VICTIM_TAX_CODE, 2)
    assert push(client, victim, b_chain.entries).status_code == 200
    assert [r.state for r in queue_rows(engine, victim.device_id)] == ["queued", "queued"]
    assert [r.state for r in queue_rows(engine, attacker.device_id)] == ["duplicate",
                                                                          "duplicate"]
