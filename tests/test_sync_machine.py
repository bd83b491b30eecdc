"""A Hypothesis state machine over sync: sales, faults, crashes, restores, clock jumps and
catalogue changes, with the invariants of docs/SYNC.md checked after every step.

The stall's real SyncClient talks to the real server app (SQLite) through an in-process
transport that injects the network's faults; the server's commit can be made to fail, and its
database can be rolled back to an older snapshot, as a restore from backup would.
"""
from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

import requests
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, initialize, invariant, precondition,
                                 rule)
from sqlalchemy import event, func, select

from pos import db as stall_db
from pos import sales, stall
from pos.sync.client import SyncClient
from pos.sync.errors import SyncError
from sync.server import migrations, store
from sync.server.app import create_app
from sync.server.db import get_engine
from sync.server.db import journal as server_journal
from sync.server.db import read_transaction, write_transaction
from sync.server.db import sales as server_sales
from tests.harness.wsgi_transport import TRANSPORT_FAULTS, WSGITransport

SERVER = "http://province.test"
SALE = {"lines": [{"name": "Chè Shan tuyết", "unit_price": 120000, "quantity": "0.5"}],
        "payments": [{"method": "cash", "amount": 60000}]}


class SyncMachine(RuleBasedStateMachine):
    """One stall, one server, and everything that goes wrong between them."""

    @initialize()
    def setup(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="sync-machine-"))
        self.server_file = self.tmp / "server.sqlite3"
        self.app = create_app({"DATABASE_URL": f"sqlite:///{self.server_file}",
                               "SECRET_KEY": "test", "TESTING": True})
        migrations.upgrade(get_engine_of(self.app))
        self.fail_next_commit = False
        event.listen(get_engine_of(self.app), "commit", self._maybe_crash)
        with write_transaction(get_engine_of(self.app)) as conn:
            _, _, code = store.add_stall(conn, "Lào Cai", "Xã Bắc Hà", "Chợ Bắc Hà", "Sạp A12")
        self.stall_dir = self.tmp / "stall"
        stall.prepare(self.stall_dir)
        self.clock_offset = 0.0
        self.transport = WSGITransport(self.app)
        self.client = self._client()
        self.client.pair(SERVER, code)
        self.device = self._stall_conn().execute(
            "SELECT value FROM settings WHERE key = 'device_id'").fetchone()[0]
        self.snapshot: Path | None = None
        self.last_sync_ok = False

    def _maybe_crash(self, _conn: object) -> None:
        if self.fail_next_commit:
            self.fail_next_commit = False
            raise RuntimeError("fault: the server died before committing the batch")

    def _client(self) -> SyncClient:
        session = requests.Session()
        session.mount(SERVER, self.transport)
        import time
        return SyncClient(self.stall_dir / stall.DATABASE_NAME, session=session,
                          clock=lambda: time.time() + self.clock_offset)

    def _stall_conn(self) -> sqlite3.Connection:
        return stall_db.connect(stall.database_path(self.stall_dir))

    def _sync(self) -> None:
        self.last_sync_ok = False
        try:
            result = self.client.sync_once()
        except SyncError:
            return  # unknown outcome: the next sync tries again
        self.last_sync_ok = result.status == "ok"

    # --- rules ----------------------------------------------------------------------------

    @rule(count=st.integers(1, 12))
    def make_sales(self, count: int) -> None:
        self.last_sync_ok = False
        conn = self._stall_conn()
        try:
            for _ in range(count):
                sales.record_sale(conn, self.device, SALE, "owner")
        finally:
            conn.close()

    @rule()
    def void_a_sale(self) -> None:
        self.last_sync_ok = False
        conn = self._stall_conn()
        try:
            row = conn.execute("SELECT id FROM sales WHERE voided_seq IS NULL LIMIT 1").fetchone()
            if row:
                sales.void_sale(conn, self.device, row[0], "Khách trả hàng", "owner")
        finally:
            conn.close()

    @rule()
    def sync(self) -> None:
        self._sync()

    @rule(fault=st.sampled_from(TRANSPORT_FAULTS))
    def sync_with_a_network_fault(self, fault: str) -> None:
        self.transport.faults.append(fault)
        self._sync()
        self.transport.faults.clear()

    @rule()
    def sync_while_the_server_dies_mid_batch(self) -> None:
        self.fail_next_commit = True
        self._sync()
        self.fail_next_commit = False

    @rule()
    def crash_and_reopen_the_stall(self) -> None:
        self.last_sync_ok = False
        self.client.close()
        self.client = self._client()

    @rule(seconds=st.sampled_from([-86400 * 400, -3600, 600, 86400 * 3]))
    def jump_the_clock(self, seconds: int) -> None:
        self.last_sync_ok = False
        self.clock_offset += seconds

    @rule(price=st.integers(1, 500) .map(lambda n: n * 1000), binding=st.booleans())
    def change_the_catalogue(self, price: int, binding: bool) -> None:
        self.last_sync_ok = False
        with write_transaction(get_engine_of(self.app)) as conn:
            store.set_catalogue_product(conn, province="Lào Cai", name="Rau cải mèo", unit="bó",
                                        price=price, binding=binding)

    @rule()
    def snapshot_the_server(self) -> None:
        self.last_sync_ok = False
        self.snapshot = self.tmp / "snapshot.sqlite3"
        backup_sqlite(self.server_file, self.snapshot)

    @precondition(lambda self: self.snapshot is not None)
    @rule()
    def restore_the_server_from_its_snapshot(self) -> None:
        self.last_sync_ok = False
        engine = get_engine_of(self.app)
        engine.dispose()
        backup_sqlite(self.snapshot, self.server_file)
        engine.dispose()

    # --- invariants -------------------------------------------------------------------------

    def _server_hashes(self) -> dict[int, str]:
        with read_transaction(get_engine_of(self.app)) as conn:
            return dict(conn.execute(select(server_journal.c.seq, server_journal.c.hash).where(
                server_journal.c.device_id == self.device)).all())

    def _stall_hashes(self) -> dict[int, str]:
        conn = self._stall_conn()
        try:
            return dict(conn.execute("SELECT seq, hash FROM journal").fetchall())
        finally:
            conn.close()

    @invariant()
    def server_holds_a_gapless_prefix_of_the_stall_journal(self) -> None:
        if not hasattr(self, "device"):
            return
        held, mine = self._server_hashes(), self._stall_hashes()
        assert sorted(held) == list(range(1, len(held) + 1)), "gap or duplicate on the server"
        for seq, digest in held.items():
            assert mine.get(seq) == digest, f"seq {seq} differs between stall and server"

    @invariant()
    def after_a_good_sync_the_stall_cursor_is_the_server_head(self) -> None:
        """Between syncs the stall cannot know that the server lost data; once a sync has
        answered, its cursor must be exactly what the server holds (never ahead)."""
        if not hasattr(self, "device") or not self.last_sync_ok:
            return
        conn = self._stall_conn()
        try:
            row = conn.execute("SELECT value FROM settings WHERE key = 'sync_acked_seq'"
                               ).fetchone()
        finally:
            conn.close()
        acked = int(row[0]) if row else 0
        with read_transaction(get_engine_of(self.app)) as conn:
            server_acked = store.head(conn, self.device)["acked_seq"]
        assert acked == server_acked

    def teardown(self) -> None:
        if hasattr(self, "device"):
            self.transport.faults.clear()
            self.fail_next_commit = False
            for _ in range(20):  # heal: everything arrives, once
                self._sync()
                if self.client.state().pending == 0:
                    break
            assert self._server_hashes() == self._stall_hashes()
            conn = self._stall_conn()
            try:
                mine = dict(conn.execute("SELECT business_day, revenue FROM day_totals"
                                         " WHERE sales_count > 0 OR voids_count > 0").fetchall())
            finally:
                conn.close()
            with read_transaction(get_engine_of(self.app)) as conn:
                theirs = dict(conn.execute(
                    select(server_sales.c.business_day, func.sum(server_sales.c.total))
                    .where(server_sales.c.device_id == self.device,
                           server_sales.c.voided_seq.is_(None))
                    .group_by(server_sales.c.business_day)).all())
            assert {day: total for day, total in mine.items() if total} == \
                {day: total for day, total in theirs.items() if total}
            self.client.close()
            get_engine_of(self.app).dispose()
        shutil.rmtree(getattr(self, "tmp", ""), ignore_errors=True)


def get_engine_of(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        return get_engine()


def backup_sqlite(source: Path, target: Path) -> None:
    """Copy a live SQLite database consistently (the online backup API, as a backup tool would)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close(), dst.close()


SyncMachine.TestCase.settings = settings(
    max_examples=100, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
test_sync_state_machine = SyncMachine.TestCase


def test_a_restored_server_is_noticed_even_with_nothing_to_push() -> None:
    """The server loses its last entries (restored from a backup) while the stall has nothing
    new: the next sync must still find out and send them again."""
    machine = SyncMachine()
    machine.setup()
    try:
        machine.make_sales(5)
        machine.sync()
        machine.snapshot_the_server()
        machine.make_sales(3)
        machine.sync()
        machine.restore_the_server_from_its_snapshot()
        assert len(machine._server_hashes()) == 5
        machine.sync()
        assert machine.last_sync_ok
        assert machine._server_hashes() == machine._stall_hashes()
    finally:
        machine.teardown()
