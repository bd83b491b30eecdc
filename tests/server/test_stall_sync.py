"""The real stall (pos/ + pos/sync/) syncing with the real server over HTTP, both backends."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pos import db as pos_db
from pos import sales
from pos.app import create_app as create_stall
from sync.protocol import canonical_json
from sync.server import store
from sync.server.db import read_transaction, utcnow, write_transaction

client_module = pytest.importorskip("pos.sync.client")

SALE = {"lines": [{"name": "Chè Shan tuyết", "unit_price": 120_000, "quantity": "1.5"}],
        "payments": [{"method": "cash", "amount": 180_000, "tendered": 200_000}]}


def local_journal(conn) -> list[bytes]:
    return [canonical_json({"device_id": r["device_id"], "seq": r["seq"], "id": r["id"],
                            "kind": r["kind"], "at": r["at"], "payload": json.loads(r["payload"]),
                            "prev_hash": r["prev_hash"], "hash": r["hash"]})
            for r in conn.execute("SELECT * FROM journal ORDER BY seq")]


def test_a_stall_that_sold_before_pairing_syncs_its_journal_exactly(live_server, engine,
                                                                    tmp_path: Path):
    stall_app = create_stall({"DATA_DIR": tmp_path / "stall", "TESTING": True})
    conn = pos_db.connect(stall_app.config["DATABASE"])
    with stall_app.test_request_context():
        for _ in range(5):
            sales.record_sale(conn, stall_app.config["DEVICE_ID"], SALE, "owner")
    with write_transaction(engine) as server_conn:
        _, _, code = store.add_stall(server_conn, "Hà Giang", "Phường Minh Khai", "Chợ",
                                     "Sạp chè", now=utcnow())
        store.set_catalogue_product(server_conn, province="Hà Giang", name="Rau muống",
                                    unit="bó", price=10_000, binding=True)
    client = client_module.SyncClient(stall_app.config["DATABASE"])
    try:
        paired = client.pair(live_server, code)
        assert paired["device_id"] == stall_app.config["DEVICE_ID"]  # bound to its own id
        result = client.sync_once()
        assert (result.status, result.pushed, result.acked_seq) == ("ok", 5, 5)
        assert result.catalogue == "updated"
        with read_transaction(engine) as server_conn:
            exported = [canonical_json(e) for e in store.export_journal(server_conn)]
        assert exported == local_journal(conn)
        again = client.sync_once()
        assert (again.pushed, again.catalogue) == (0, "unchanged")
    finally:
        client.close()
        conn.close()
