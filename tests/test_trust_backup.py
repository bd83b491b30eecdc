"""Lost SD card: `market-pos backup` (consistent while selling), daily backups with rotation, and
`market-pos restore`, which checks a backup before it replaces anything."""
from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import sqlite3
import threading
from pathlib import Path

from click.testing import CliRunner

from pos import backup, db, journal, sales, stall
from pos.cli import main

SALE = {"lines": [{"name": "Chè Shan tuyết", "unit_price": 120000, "quantity": "1.5"}],
        "payments": [{"method": "cash", "amount": 180000, "tendered": 200000}]}


def sell(db_path: Path, count: int) -> list[str]:
    conn = db.connect(db_path)
    try:
        device = conn.execute("SELECT value FROM settings WHERE key = 'device_id'").fetchone()[0]
        return [sales.record_sale(conn, device, SALE, "owner")["id"] for _ in range(count)]
    finally:
        conn.close()


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_backup_taken_while_selling_is_a_consistent_snapshot(app, tmp_path):
    db_path = app.config["DATABASE"]
    sell(db_path, 5)
    stop = threading.Event()
    sold: list[str] = []

    def keep_selling() -> None:
        conn = db.connect(db_path)
        device = app.config["DEVICE_ID"]
        while not stop.is_set():
            sold.append(sales.record_sale(conn, device, SALE, "owner")["id"])
        conn.close()

    sellers = [threading.Thread(target=keep_selling) for _ in range(2)]
    for seller in sellers:
        seller.start()
    try:
        while len(sold) < 10:
            pass
        before = len(sold)
        checked = backup.backup(db_path, tmp_path / "copy.sqlite3")
    finally:
        stop.set()
        for seller in sellers:
            seller.join()
    assert checked.ok and checked.entries >= 5 + before
    assert len(sold) > before, "selling went on during the backup"
    copy = sqlite3.connect(tmp_path / "copy.sqlite3")
    assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # Every sale in the copy is whole: lines and payments with it, totals adding up.
    assert copy.execute("SELECT COUNT(*) FROM sales").fetchone()[0] == checked.entries - \
        copy.execute("SELECT COUNT(*) FROM journal WHERE kind != 'sale'").fetchone()[0]
    assert copy.execute("SELECT COUNT(*) FROM sales s WHERE total != (SELECT SUM(amount) FROM"
                        " sale_lines l WHERE l.sale_seq = s.seq) OR total != (SELECT SUM(amount)"
                        " FROM payments p WHERE p.sale_seq = s.seq)").fetchone()[0] == 0
    assert not list(tmp_path.glob("copy.sqlite3*-wal")) and not list(tmp_path.glob("*.part"))


def test_backup_and_restore_through_the_command_line(app, data_dir, tmp_path):
    ids = sell(app.config["DATABASE"], 3)
    runner = CliRunner()
    out = tmp_path / "usb" / "stall.sqlite3"
    out.parent.mkdir()
    result = runner.invoke(main, ["backup", "--data", str(data_dir), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "entries, chain and database checked" in result.output
    # The SD card dies: a new card, an empty data directory, the backup from the USB stick.
    fresh = tmp_path / "new-card"
    result = runner.invoke(main, ["restore", "--data", str(fresh), str(out)])
    assert result.exit_code == 0, result.output
    conn = db.connect(stall.database_path(fresh))
    assert [s["id"] for s in sales.list_sales(conn, since_seq=0)][-3:] == ids
    assert journal.verify(conn).ok
    conn.close()
    assert runner.invoke(main, ["verify", "--data", str(fresh)]).exit_code == 0


def test_restore_keeps_the_replaced_database_aside(app, data_dir, tmp_path):
    sell(app.config["DATABASE"], 2)
    backup.backup(app.config["DATABASE"], tmp_path / "b.sqlite3")
    checked, kept = backup.restore(tmp_path / "b.sqlite3", data_dir)
    assert checked.entries > 2 and kept is not None
    assert (kept / stall.DATABASE_NAME).exists()
    assert backup.check_database(kept / stall.DATABASE_NAME).ok


def _corrupt(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for offset in range(4096 + 100, len(data), 4096):  # damage every page after the first
        data[offset:offset + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))


def _tamper(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER journal_no_update")
    conn.execute("UPDATE journal SET payload = replace(payload, '180000', '18000')"
                 " WHERE seq = (SELECT MAX(seq) FROM journal)")
    conn.commit()
    conn.close()


def test_restore_refuses_a_bad_backup_and_changes_nothing(app, data_dir, tmp_path):
    db_path = stall.database_path(data_dir)
    sell(db_path, 2)
    good = tmp_path / "good.sqlite3"
    backup.backup(db_path, good)
    conn = db.connect(db_path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = file_digest(db_path)
    damaged, tampered, foreign = (tmp_path / n for n in ("damaged", "tampered", "foreign"))
    for path in (damaged, tampered):
        shutil.copy(good, path)
    _corrupt(damaged)
    _tamper(tampered)
    other = sqlite3.connect(foreign)
    other.execute("CREATE TABLE notes (text TEXT)")
    other.close()
    runner = CliRunner()
    for path, reason in ((damaged, "Nothing restored"), (tampered, "journal is broken at seq"),
                         (foreign, "not a market-pos stall database")):
        result = runner.invoke(main, ["restore", "--data", str(data_dir), str(path)])
        assert result.exit_code == 1, result.output
        assert reason in result.output
    assert file_digest(db_path) == before
    assert not list(data_dir.glob("before-restore-*"))


def test_restore_refuses_an_older_backup_or_another_stall_unless_forced(app, data_dir,
                                                                         tmp_path):
    db_path = stall.database_path(data_dir)
    old = tmp_path / "old.sqlite3"
    backup.backup(db_path, old)
    sell(db_path, 3)
    result = CliRunner().invoke(main, ["restore", "--data", str(data_dir), str(old)])
    assert result.exit_code == 1 and "restoring would lose the sales" in result.output
    other = tmp_path / "other-stall"
    CliRunner().invoke(main, ["init", "--data", str(other)])
    sell(stall.database_path(other), 40)  # longer than ours, but another chain
    foreign = tmp_path / "foreign.sqlite3"
    backup.backup(stall.database_path(other), foreign)
    result = CliRunner().invoke(main, ["restore", "--data", str(data_dir), str(foreign)])
    assert result.exit_code == 1 and "another journal" in result.output
    forced = CliRunner().invoke(main, ["restore", "--data", str(data_dir), "--force", str(old)])
    assert forced.exit_code == 0, forced.output


def test_restore_refuses_while_the_stall_is_served(app, data_dir, tmp_path):
    db_path = stall.database_path(data_dir)
    backup.backup(db_path, tmp_path / "b.sqlite3")
    worker = backup.BackupWorker(db_path)
    worker.start()
    try:
        result = CliRunner().invoke(main, ["restore", "--data", str(data_dir),
                                           str(tmp_path / "b.sqlite3")])
        assert result.exit_code == 1 and "being served" in result.output
    finally:
        worker.stop()
    # The print worker's lock counts too (a stall served by an older build without backups).
    fd = os.open(f"{db_path}.print-lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        assert backup.is_served(db_path)
    finally:
        os.close(fd)
    assert not backup.is_served(db_path)


def test_daily_backups_rotate_in_the_configured_folder(app, data_dir, tmp_path):
    usb = tmp_path / "usb"
    usb.mkdir()
    result = CliRunner().invoke(main, ["backup", "--data", str(data_dir), "--auto", str(usb),
                                       "--keep", "3"])
    assert result.exit_code == 0, result.output
    worker = backup.BackupWorker(stall.database_path(data_dir))
    days = [f"2026-11-{d:02d}" for d in range(20, 26)]
    for day in days:
        sell(stall.database_path(data_dir), 1)
        assert worker.run_once(day) == usb / f"market-pos-{day}.sqlite3"
        assert worker.run_once(day) is None  # once a day
    assert [p.name for p in backup.daily_backups(usb)] == [
        f"market-pos-{day}.sqlite3" for day in days[-3:]]
    newest = backup.check_database(usb / f"market-pos-{days[-1]}.sqlite3")
    oldest = backup.check_database(usb / f"market-pos-{days[-3]}.sqlite3")
    assert newest.ok and newest.entries == oldest.entries + 2
    conn = db.connect(stall.database_path(data_dir))
    state = backup.status(conn)
    assert state["last_file"] == str(usb / f"market-pos-{days[-1]}.sqlite3")
    assert state["last_error"] is None
    conn.close()


def test_a_missing_usb_stick_is_reported_not_fatal(app, data_dir, tmp_path):
    conn = db.connect(stall.database_path(data_dir))
    backup.configure(conn, str(tmp_path / "unplugged"))
    worker = backup.BackupWorker(stall.database_path(data_dir))
    assert worker.run_once("2026-11-23") is None
    assert "does not exist" in (backup.status(conn)["last_error"] or "")
    (tmp_path / "unplugged").mkdir()
    assert worker.run_once("2026-11-23") is not None
    assert backup.status(conn)["last_error"] is None
    result = CliRunner().invoke(main, ["backup", "--data", str(data_dir), "--auto", "off"])
    assert result.exit_code == 0 and backup.status(conn)["folder"] is None
    conn.close()


def test_a_backup_cannot_overwrite_the_database_or_leave_a_half_file(app, data_dir, tmp_path):
    db_path = stall.database_path(data_dir)
    result = CliRunner().invoke(main, ["backup", "--data", str(data_dir), "-o", str(db_path)])
    assert result.exit_code == 1 and "cannot overwrite" in result.output
    result = CliRunner().invoke(main, ["backup", "--data", str(data_dir), "-o",
                                       str(tmp_path / "nowhere" / "b.sqlite3")])
    assert result.exit_code == 1 and "does not exist" in result.output
    result = CliRunner().invoke(main, ["backup", "--data", str(data_dir)])
    assert result.exit_code == 2 and "either -o FILE or --auto" in result.output
