"""The journal: an append-only hash chain that SQLite itself refuses to rewrite."""
import json
import sqlite3

import pytest
from click.testing import CliRunner

from pos import db, journal, sales
from pos.cli import main
from sync.protocol import GENESIS_HASH, canonical_json, new_entry_id, utc_timestamp


def _sell(conn, device_id, n=1):
    for _ in range(n):
        sales.record_sale(conn, device_id, {
            "lines": [{"product_id": 6, "quantity": "2"}],
            "payments": [{"method": "cash", "amount": 20000, "tendered": 50000}]}, "owner")


def test_entries_form_a_chain(app, conn):
    device = app.config["DEVICE_ID"]
    _sell(conn, device, 3)
    entries = list(journal.entries(conn))
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0].prev_hash == GENESIS_HASH
    for previous, entry in zip(entries, entries[1:]):
        assert entry.prev_hash == previous.hash
        assert entry.expected_hash() == entry.hash
        assert entry.device_id == device
    assert journal.verify(conn, device).ok


def test_payload_is_stored_canonically(app, conn):
    _sell(conn, app.config["DEVICE_ID"])
    row = conn.execute("SELECT payload FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
    assert row["payload"].encode() == canonical_json(json.loads(row["payload"]))


@pytest.mark.parametrize("statement", [
    "UPDATE journal SET payload = '{}' WHERE seq = 1",
    "UPDATE journal SET kind = 'void'",
    "DELETE FROM journal WHERE seq = 1",
    "DELETE FROM journal"])
def test_triggers_refuse_update_and_delete(conn, statement):
    before = conn.execute("SELECT COUNT(*), MAX(hash) FROM journal").fetchone()[:]
    with pytest.raises(sqlite3.IntegrityError, match="journal"):
        conn.execute(statement)
    assert conn.execute("SELECT COUNT(*), MAX(hash) FROM journal").fetchone()[:] == before


def _raw_insert(conn, seq, prev_hash):
    conn.execute("INSERT INTO journal VALUES (?, ?, 'd', 'sale', ?, '{}', ?, ?)",
                 (seq, new_entry_id(), utc_timestamp(), prev_hash, "f" * 64))


def test_trigger_refuses_gaps_and_broken_links(conn):
    head = conn.execute("SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
    with pytest.raises(sqlite3.IntegrityError, match="chain"):
        _raw_insert(conn, head["seq"] + 2, head["hash"])
    with pytest.raises(sqlite3.IntegrityError, match="chain"):
        _raw_insert(conn, head["seq"] + 1, "0" * 64)


def test_append_needs_a_transaction(app, conn):
    with pytest.raises(RuntimeError):
        journal.append(conn, app.config["DEVICE_ID"], "sale", {})


def _tamper(conn, seq, payload):
    """What an attacker with the file could do: drop the trigger and rewrite a row."""
    conn.execute("DROP TRIGGER journal_no_update")
    conn.execute("UPDATE journal SET payload = ? WHERE seq = ?", (payload, seq))


def test_verify_reports_the_first_broken_entry(app, conn):
    device = app.config["DEVICE_ID"]
    _sell(conn, device, 3)
    head = conn.execute("SELECT MAX(seq) FROM journal").fetchone()[0]
    target = head - 1
    entry = journal.get(conn, target)
    forged = dict(entry.payload, total=1)
    _tamper(conn, target, canonical_json(forged).decode())
    result = journal.verify(conn, device)
    assert not result.ok
    assert result.broken_seq == target
    assert result.checked == target - 1
    assert "hash" in result.reason


def test_verify_command(app, data_dir):
    runner = CliRunner()
    ok = runner.invoke(main, ["verify", "--data", str(data_dir)])
    assert ok.exit_code == 0, ok.output
    assert "Journal sound" in ok.output
    conn = db.connect(app.config["DATABASE"])
    _tamper(conn, 2, '{"forged":1}')
    conn.close()
    broken = runner.invoke(main, ["verify", "--data", str(data_dir)])
    assert broken.exit_code == 1
    assert "broken at seq 2" in broken.output


def test_an_appended_entry_reads_the_same_as_its_stored_row(app, conn):
    # The Entry that append returns is what the journal holds, down to the order of the
    # payload's keys (projections such as the Z report store the payload as JSON): a stall
    # rebuilt from its journal by `recover` gets byte-identical tables.
    device = app.config["DEVICE_ID"]
    with db.write_transaction(conn):
        appended = journal.append(conn, device, "sale", {
            "total": 15000, "sold_by": "owner", "number": 1, "business_day": "2026-11-23",
            "payments": [{"tendered": 20000, "method": "cash", "change": 5000, "amount": 15000}],
            "lines": [{"unit": "bó", "name": "Rau muống", "unit_price": 15000, "amount": 15000,
                       "quantity_milli": 1000, "product_id": None}]})
    stored = journal.get(conn, appended.seq)
    assert json.dumps(appended.payload, ensure_ascii=False) == \
        json.dumps(stored.payload, ensure_ascii=False)
    assert appended == stored
