"""Personal data sealed on the stall (pos/personal_data.py): AES-GCM with a key only the vendor
holds, its recovery code, the settings card that shows the code once, and `market-pos recover`
asking for the code before it writes anything. Real SQLite files; the provincial server is the
real one over loopback HTTP (test_sync_client.py's `sync_server`).

No kind of this version's journal has a sealed field yet (the credit book's `customer` will), so
a cash move's free-text reason carries a sealed value through push and recover."""
from __future__ import annotations

import base64
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pos import daybook, db, journal, personal_data, settings, stall
from pos.cli import main
from pos.personal_data import SealedDataError
from pos.sync import recover as recovery
from pos.sync.client import SyncClient
from sync import checkcode
from sync.errors import AppError, InvalidInput
from tests.conftest import OWNER_PIN, csrf_token
from tests.test_sync_client import (paired, server_template,  # noqa: F401  (fixtures)
                                    sync_server)
from tests.test_trust_recover import reissue_code, tables, trade

NAME = "Nguyễn Thị Lan"
TEXTS = [NAME, "0912 345 678", "Thôn Nà Lồ, xã Bắc Hà, tỉnh Lào Cai", "Đặng Văn Đức",
         "Hà Giang — 'quote' \"double\" <b>&amp;</b> 😀", ""]
CODE_PATTERN = re.compile(r"^([0-9A-HJKMNP-TV-Z]{4}-){6}[0-9A-HJKMNP-TV-Z]{3}$")


def fresh_conn(tmp_path: Path, name: str = "other") -> sqlite3.Connection:
    """Another stall's database (migrated, no key yet)."""
    folder = tmp_path / name
    stall.prepare(folder)
    return db.connect(stall.database_path(folder))


def key_row(conn: sqlite3.Connection) -> str | None:
    return settings.read(conn, personal_data.KEY_SETTING)


# --- sealing -------------------------------------------------------------------------------------

def test_vietnamese_text_round_trips_and_the_key_is_made_on_first_use(conn: sqlite3.Connection
                                                                       ) -> None:
    assert key_row(conn) is None and personal_data.stored_key(conn) is None
    for text in TEXTS:
        sealed = personal_data.seal(conn, text)
        assert sealed.startswith(personal_data.SEALED_PREFIX) and personal_data.is_sealed(sealed)
        assert re.fullmatch(r"pd1:[A-Za-z0-9_-]+", sealed)          # base64url, no padding
        assert text.encode() not in sealed.encode() or not text
        assert personal_data.unseal(conn, sealed) == text
    assert len(base64.b64decode(key_row(conn) or "")) == 16
    # The layout: nonce (12 bytes), then ciphertext and tag (16 bytes).
    raw = base64.urlsafe_b64decode(personal_data.seal(conn, NAME)[4:] + "==")
    assert len(raw) == 12 + len(NAME.encode()) + 16


def test_two_seals_of_the_same_text_differ(conn: sqlite3.Connection) -> None:
    first, second = personal_data.seal(conn, NAME), personal_data.seal(conn, NAME)
    assert first != second and first[4:20] != second[4:20]           # fresh nonces
    assert personal_data.unseal(conn, first) == personal_data.unseal(conn, second) == NAME


def test_the_key_is_made_inside_the_callers_transaction(conn: sqlite3.Connection) -> None:
    with pytest.raises(RuntimeError):
        with db.write_transaction(conn):
            personal_data.seal(conn, NAME)
            assert key_row(conn) is not None
            raise RuntimeError("the sale is refused: nothing of it is kept")
    assert key_row(conn) is None                                      # rolled back with it
    personal_data.ensure_key(conn)
    key = key_row(conn)
    personal_data.ensure_key(conn)                                    # never replaced
    with db.write_transaction(conn):
        personal_data.ensure_key(conn)
    assert key_row(conn) == key


def test_tampered_foreign_or_keyless_values_are_refused(conn: sqlite3.Connection,
                                                        tmp_path: Path) -> None:
    sealed = personal_data.seal(conn, NAME)
    body = sealed[4:]
    middle = len(body) // 2
    flipped = body[:middle] + ("A" if body[middle] != "A" else "B") + body[middle + 1:]
    tampered = ["pd1:" + flipped, sealed[:-2], "pd1:" + body[:40], sealed + "AAAA",
                "pd1:" + "A" * 60]
    for bad in tampered:
        with pytest.raises(SealedDataError) as refused:
            personal_data.unseal(conn, bad)
        assert refused.value.code == "sealed_data" and refused.value.status == 409
    for not_sealed in [NAME, "", "pd1:", "pd1:!!!!" * 10, "PD1:" + body, None, 42, ["pd1:"]]:
        assert not personal_data.is_sealed(not_sealed)
        with pytest.raises(SealedDataError):
            personal_data.unseal(conn, not_sealed)                    # type: ignore[arg-type]
    other = fresh_conn(tmp_path)
    with pytest.raises(SealedDataError, match="no key"):              # a stall with no key
        personal_data.unseal(other, sealed)
    personal_data.ensure_key(other)
    with pytest.raises(SealedDataError, match="another"):             # another stall's key
        personal_data.unseal(other, sealed)
    assert personal_data.unseal(other, personal_data.seal(other, NAME)) == NAME
    other.close()
    assert issubclass(SealedDataError, AppError)


def test_install_key_keeps_a_different_key_unless_told(conn: sqlite3.Connection,
                                                       tmp_path: Path) -> None:
    sealed = personal_data.seal(conn, NAME)
    key = personal_data.stored_key(conn)
    assert key is not None
    other = fresh_conn(tmp_path)
    personal_data.install_key(other, key)
    assert personal_data.unseal(other, sealed) == NAME
    personal_data.install_key(other, key)                             # the same: nothing to do
    with pytest.raises(SealedDataError):
        personal_data.install_key(other, bytes(16))
    assert personal_data.unseal(other, sealed) == NAME
    personal_data.install_key(other, bytes(16), replace=True)
    with pytest.raises(SealedDataError):
        personal_data.unseal(other, sealed)
    for bad in (b"", bytes(15), bytes(32), "0" * 16):
        with pytest.raises(InvalidInput):
            personal_data.install_key(other, bad)                     # type: ignore[arg-type]
    other.close()


def test_the_settings_table_never_goes_up(conn: sqlite3.Connection) -> None:
    """What a push sends is journal rows (pos/sync/push.py journal_rows): the key stays home."""
    from pos.sync.push import entry_json, journal_rows
    personal_data.seal(conn, NAME)
    sent = b"".join(entry_json(row) for row in journal_rows(conn, 0))
    assert (key_row(conn) or "x").encode() not in sent


# --- the recovery code ---------------------------------------------------------------------------

def test_the_recovery_code_round_trips_and_forgives_how_it_is_typed(conn: sqlite3.Connection
                                                                    ) -> None:
    with pytest.raises(SealedDataError):
        personal_data.recovery_code(conn)                             # no key yet
    personal_data.ensure_key(conn)
    key = personal_data.stored_key(conn)
    code = personal_data.recovery_code(conn)
    assert CODE_PATTERN.match(code), code
    assert personal_data.key_from_code(code) == key
    plain = code.replace("-", "")
    typed = [code.lower(), plain, " ".join(plain[i:i + 3] for i in range(0, 27, 3)),
             code.replace("0", "O").replace("1", "I"), code.replace("1", "l").lower(),
             f"Mã khôi phục: {code}", f"  {code}\n", code.replace("-", "–")]
    for text in typed:
        assert personal_data.key_from_code(text) == key, text
    for key_bytes in (bytes(16), b"\xff" * 16, bytes(range(16))):
        assert personal_data.key_from_code(personal_data.code_of_key(key_bytes)) == key_bytes


def test_every_single_mistyped_character_is_told_as_a_typo(conn: sqlite3.Connection) -> None:
    personal_data.ensure_key(conn)
    plain = personal_data.recovery_code(conn).replace("-", "")
    caught = 0
    for position, typed in enumerate(plain):
        for other in checkcode.ALPHABET:
            if other == typed:
                continue
            with pytest.raises(InvalidInput) as refused:
                personal_data.key_from_code(plain[:position] + other + plain[position + 1:])
            assert refused.value.code == "recovery_code_typo"
            assert refused.value.field == "recovery_code"
            caught += 1
    assert caught == 27 * 31
    swapped = sum(1 for i in range(26) if plain[i] != plain[i + 1] and _refused(
        plain[:i] + plain[i + 1] + plain[i] + plain[i + 2:]))
    assert swapped >= sum(1 for i in range(26) if plain[i] != plain[i + 1]) - 2


def _refused(text: str) -> bool:
    try:
        personal_data.key_from_code(text)
    except InvalidInput:
        return True
    return False


def test_text_that_is_no_recovery_code_is_refused_with_a_clear_message() -> None:
    for bad in ("", "1234", "7KQ2-M9XD-4HRT", "U" * 27, "7KQ2-M9XD-4HRT-7KQ2-M9XD-4HRT-7KQ2",
                "ẠẠẠẠ-ẠẠẠẠ-ẠẠẠẠ-ẠẠẠẠ-ẠẠẠẠ-ẠẠẠẠ-ẠẠẠ", "A" * 200, None, 123):
        with pytest.raises(InvalidInput) as refused:
            personal_data.key_from_code(bad)                          # type: ignore[arg-type]
        assert refused.value.code == "bad_recovery_code"
        assert "27" in str(refused.value.message)


def test_hostile_values_are_refused_quickly() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    personal_data.ensure_key(conn)
    megabyte = 1024 * 1024
    hostile = ["pd1:" + "A" * megabyte, "pd1:" + "!" * megabyte, "pd1:" + "é" * megabyte,
               "pd1:" + "A" * (personal_data.MAX_SEALED_BODY + 1), "pd1:" + "%%" * 30,
               "pd1:" + "A" * 61, "x" * megabyte]
    started = time.perf_counter()
    for value in hostile:
        assert not personal_data.is_sealed(value)
        with pytest.raises(SealedDataError):
            personal_data.unseal(conn, value)
    for garbage in ("pd1:" + "A" * 60, "pd1:" + "_-" * 999):        # the shape, not the tag
        assert personal_data.is_sealed(garbage)
        with pytest.raises(SealedDataError):
            personal_data.unseal(conn, garbage)
    for text in ("7" * megabyte, "7KQ2-" * 200_000):
        with pytest.raises(InvalidInput):
            personal_data.key_from_code(text)
    with pytest.raises(InvalidInput):
        personal_data.seal(conn, "Nguyễn " * 200_000)                 # too long to seal
    deep: Any = "pd1:" + "A" * 60
    for _ in range(100_000):                                           # no recursion limit
        deep = [deep]
    assert recovery.sealed_values({"a": deep}) == ["pd1:" + "A" * 60]
    assert time.perf_counter() - started < 1.0
    # The longest text the seal takes fits the 2,000 characters the payload schemas allow.
    longest = personal_data.seal(conn, "ạ" * (personal_data.MAX_TEXT_BYTES // 3))
    assert len(longest) - 4 <= personal_data.MAX_SEALED_BODY and personal_data.is_sealed(longest)


# --- the settings card ---------------------------------------------------------------------------

def _form(client: Any, data: dict[str, str]) -> Any:
    return client.post("/settings", data={**data, "csrf_token": csrf_token(client, "/settings")})


def test_the_card_waits_for_a_key(owner: Any, conn: sqlite3.Connection) -> None:
    page = owner.get("/settings").get_data(as_text=True)
    assert "recovery-code-card" not in page
    assert _form(owner, {"action": "recovery_code_ack"}).status_code == 400
    assert not personal_data.code_shown(conn)


def test_the_code_is_shown_to_the_owner_until_she_writes_it_down_then_never(
        owner: Any, conn: sqlite3.Connection) -> None:
    personal_data.seal(conn, NAME)                                    # the first customer
    code = personal_data.recovery_code(conn)
    assert personal_data.code_pending(conn)
    for _ in range(2):                                                # every visit until then
        answer = owner.get("/settings")
        page = answer.get_data(as_text=True)
        assert 'id="recovery-code"' in page and 'id="recovery-code-ack"' in page
        shown = re.search(r'id="recovery-code"[^>]*>(.*?)</code>', page)
        assert shown and shown.group(1).replace("<wbr>", "") == code
        assert answer.headers["Cache-Control"] == "no-store"
    assert _form(owner, {"action": "recovery_code_ack"}).status_code == 302
    assert personal_data.code_shown(conn) and not personal_data.code_pending(conn)
    first = personal_data.code_shown_at(conn)
    answer = owner.get("/settings")
    page = answer.get_data(as_text=True)
    assert 'id="recovery-code-noted"' in page and 'id="recovery-code"' not in page
    assert code not in page and code.replace("-", "") not in page
    assert re.search(r"\d{2}/\d{2}/\d{4}", page.split('id="recovery-code-noted"')[1][:200])
    assert "no-store" not in answer.headers.get("Cache-Control", "")
    assert _form(owner, {"action": "recovery_code_ack"}).status_code == 302   # changes nothing
    assert personal_data.code_shown_at(conn) == first
    assert 'id="recovery-code"' not in owner.get("/settings").get_data(as_text=True)


def test_a_helper_with_the_owners_pin_neither_sees_nor_acknowledges_it(
        helper: Any, conn: sqlite3.Connection) -> None:
    personal_data.seal(conn, NAME)
    code = personal_data.recovery_code(conn)
    assert helper.get("/settings").status_code == 302                 # the owner's PIN first
    token = csrf_token(helper, "/")
    assert helper.post("/owner", data={"pin": OWNER_PIN, "csrf_token": token}).status_code == 302
    page = helper.get("/settings").get_data(as_text=True)
    assert "recovery-code-card" in page and 'id="recovery-code"' not in page
    assert code not in page and code.replace("-", "") not in page
    assert 'id="recovery-code-ack"' not in page
    assert _form(helper, {"action": "recovery_code_ack"}).status_code == 403
    assert not personal_data.code_shown(conn)


# --- recover -------------------------------------------------------------------------------------

def _sealed_move(conn: sqlite3.Connection, text: str = NAME) -> tuple[str, int]:
    """A cash move whose reason is a sealed value, and its seq."""
    device = settings.read(conn, "device_id")
    sealed = personal_data.seal(conn, text)
    return sealed, daybook.record_cash_move(conn, device, "in", 50_000, sealed, "owner")["seq"]


@pytest.fixture
def sealed_stall(app: Any, conn: sqlite3.Connection, paired: SyncClient) -> str:
    """A stall that traded, with a sealed value in the middle of its journal, synced."""
    trade(conn)
    sealed, _ = _sealed_move(conn)
    trade(conn)
    result = paired.sync_once()
    assert result.pending == 0, result
    return sealed


def _fresh(tmp_path: Path) -> Path:
    fresh = tmp_path / "new-card"
    assert CliRunner().invoke(main, ["init", "--data", str(fresh), "--pin", "1234"]).exit_code == 0
    return fresh


def _nothing_written(fresh: Path) -> None:
    new = db.connect(stall.database_path(fresh))
    try:
        for table in ("journal", "sales", "sale_lines", "payments", "cash_moves", "day_totals"):
            assert new.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0, table
        assert key_row(new) is None and not personal_data.code_shown(new)
    finally:
        new.close()


def test_recover_with_the_code_brings_the_sealed_values_back(
        app: Any, conn: sqlite3.Connection, sealed_stall: str, sync_server: Any,
        tmp_path: Path) -> None:
    original = tables(app.config["DATABASE"])
    device = settings.read(conn, "device_id")
    code = personal_data.recovery_code(conn)
    # The province holds ciphertext only: neither the name nor the key is in its database.
    server = sqlite3.connect(sync_server.db_file)
    dump = "\n".join(server.iterdump())
    server.close()
    assert sealed_stall in dump and "cash_moves" in dump
    assert NAME not in dump and (key_row(conn) or "x") not in dump
    fresh = _fresh(tmp_path)
    result = CliRunner().invoke(main, [
        "recover", "--data", str(fresh), "--server", sync_server.url,
        "--code", reissue_code(sync_server, device), "--recovery-code", code.lower()])
    assert result.exit_code == 0, result.output
    assert "opened the customers' personal data" in result.output
    assert tables(stall.database_path(fresh)) == original
    new = db.connect(stall.database_path(fresh))
    reason = new.execute("SELECT reason FROM cash_moves WHERE reason LIKE 'pd1:%'").fetchone()[0]
    assert reason == sealed_stall and personal_data.unseal(new, reason) == NAME
    assert personal_data.recovery_code(new) == code
    assert personal_data.code_shown(new)            # she typed it: she holds it written down
    assert personal_data.unseal(new, personal_data.seal(new, "Lò Thị Mai")) == "Lò Thị Mai"
    new.close()


def test_recover_without_the_code_or_with_a_wrong_one_writes_nothing(
        conn: sqlite3.Connection, sealed_stall: str, sync_server: Any, tmp_path: Path) -> None:
    device = settings.read(conn, "device_id")
    code = personal_data.recovery_code(conn)
    fresh = _fresh(tmp_path)
    runner = CliRunner()
    # A typo is caught before pairing: the pairing code is not spent.
    pairing = reissue_code(sync_server, device)
    typo = ("1" if code[0] != "1" else "2") + code[1:]
    result = runner.invoke(main, ["recover", "--data", str(fresh), "--server", sync_server.url,
                                  "--code", pairing, "--recovery-code", typo])
    assert result.exit_code == 1 and "typo" in result.output and "Traceback" not in result.output
    _nothing_written(fresh)
    new = db.connect(stall.database_path(fresh))
    assert settings.read(new, "sync_token") is None
    new.close()
    # No code: the recover stops, says the code is needed, and writes nothing.
    result = runner.invoke(main, ["recover", "--data", str(fresh), "--server", sync_server.url,
                                  "--code", pairing])
    assert result.exit_code == 1, result.output
    assert "recovery code" in result.output and "is needed" in result.output
    assert "without --code" in result.output and "Traceback" not in result.output
    _nothing_written(fresh)
    # Another stall's code (well formed): told as wrong, nothing written.
    other = personal_data.code_of_key(bytes(range(16)))
    result = runner.invoke(main, ["recover", "--data", str(fresh), "--recovery-code", other])
    assert result.exit_code == 1 and "does not open" in result.output, result.output
    _nothing_written(fresh)
    # The pairing was kept: the right code alone finishes the recover.
    result = runner.invoke(main, ["recover", "--data", str(fresh), "--recovery-code", code])
    assert result.exit_code == 0, result.output
    new = db.connect(stall.database_path(fresh))
    assert personal_data.unseal(new, sealed_stall) == NAME
    assert journal.verify(new).ok
    new.close()


def test_a_sealed_value_on_a_later_page_is_checked_before_the_first_is_written(
        app: Any, conn: sqlite3.Connection, paired: SyncClient, sync_server: Any,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    trade(conn)
    sealed, sealed_seq = _sealed_move(conn)
    trade(conn)
    later, _ = _sealed_move(conn, "Lò Văn Páo")      # checked again by the continued recover
    paired.sync_once()
    device = settings.read(conn, "device_id")
    seq = conn.execute("SELECT MAX(seq) FROM journal").fetchone()[0]
    scanned = -(-sealed_seq // 4)                    # pages of 4 up to the sealed value's
    assert scanned > 10 and seq > (scanned + 2) * 4
    fresh = tmp_path / "new-card"
    stall.prepare(fresh)
    path = stall.database_path(fresh)
    with pytest.raises(recovery.RecoverError, match="is needed"):
        recovery.recover(path, sync_server.url, reissue_code(sync_server, device), page=4)
    _nothing_written(fresh)
    # The right code, through an interruption: the key comes with the first page written, and
    # the recover continues with neither the pairing code nor the recovery code.
    real_get = recovery._get_page
    calls = {"n": 0}

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == scanned + 2:   # the write pass takes the scanned pages from the spool
            raise recovery.RecoverError("The server did not answer (ConnectionError)")
        return real_get(*args, **kwargs)
    monkeypatch.setattr(recovery, "_get_page", flaky)
    with pytest.raises(recovery.RecoverError, match="did not answer"):
        recovery.recover(path, recovery_code=personal_data.recovery_code(conn), page=4)
    new = db.connect(path)
    written = new.execute("SELECT MAX(seq) FROM journal").fetchone()[0]
    assert written == (scanned + 1) * 4 and personal_data.unseal(new, sealed) == NAME
    monkeypatch.setattr(recovery, "_get_page", real_get)
    result = recovery.recover(path, page=4)
    assert result.head_seq == seq and result.personal_data == "opened"
    assert [r[0] for r in new.execute("SELECT reason FROM cash_moves WHERE reason LIKE 'pd1:%'"
                                      " ORDER BY seq")] == [sealed, later]
    assert personal_data.unseal(new, later) == "Lò Văn Páo"
    new.close()


def test_a_journal_without_sealed_values_recovers_as_before_and_keeps_a_given_code(
        app: Any, conn: sqlite3.Connection, paired: SyncClient, sync_server: Any,
        tmp_path: Path) -> None:
    trade(conn)
    paired.sync_once()
    device = settings.read(conn, "device_id")
    fresh = _fresh(tmp_path)
    result = CliRunner().invoke(main, ["recover", "--data", str(fresh), "--server",
                                       sync_server.url, "--code",
                                       reissue_code(sync_server, device)])
    assert result.exit_code == 0 and "personal data" not in result.output, result.output
    new = db.connect(stall.database_path(fresh))
    assert key_row(new) is None
    new.close()
    # A vendor who has a code (her key sealed nothing that reached the server) keeps it.
    again = tmp_path / "third-card"
    stall.prepare(again)
    code = personal_data.code_of_key(bytes(range(16)))
    answer = recovery.recover(stall.database_path(again), sync_server.url,
                              reissue_code(sync_server, device), recovery_code=code)
    assert answer.personal_data == "kept"
    new = db.connect(stall.database_path(again))
    assert personal_data.stored_key(new) == bytes(range(16))
    new.close()


def test_a_projection_that_cannot_open_a_value_stops_the_recover_cleanly(
        conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    from pos import projections
    entry = journal.get(conn, 1)
    assert entry is not None

    def refuses(_conn: Any, _entry: Any) -> None:
        personal_data.unseal(_conn, "pd1:" + "A" * 60)
    monkeypatch.setattr(projections, "project", refuses)
    personal_data.ensure_key(conn)
    with pytest.raises(recovery.RecoverError, match="cannot be projected: Some personal data"):
        recovery.project(conn, entry)


def test_a_lost_code_still_brings_the_figures_back_without_the_names(
        app: Any, conn: sqlite3.Connection, sealed_stall: str, sync_server: Any,
        tmp_path: Path) -> None:
    original = tables(app.config["DATABASE"])
    device = settings.read(conn, "device_id")
    fresh = _fresh(tmp_path)
    runner = CliRunner()
    pairing = reissue_code(sync_server, device)
    both = runner.invoke(main, ["recover", "--data", str(fresh), "--server", sync_server.url,
                                "--code", pairing, "--without-personal-data",
                                "--recovery-code", personal_data.recovery_code(conn)])
    assert both.exit_code == 1 and "not both" in both.output
    result = runner.invoke(main, ["recover", "--data", str(fresh), "--server", sync_server.url,
                                  "--code", pairing, "--without-personal-data"])
    assert result.exit_code == 0, result.output
    assert "stay sealed" in result.output
    assert tables(stall.database_path(fresh)) == original
    new = db.connect(stall.database_path(fresh))
    assert key_row(new) is None
    assert personal_data.try_unseal(new, sealed_stall) is None
    personal_data.ensure_key(new)                     # the next customer makes a new key
    assert personal_data.try_unseal(new, sealed_stall) is None
    assert personal_data.try_unseal(new, personal_data.seal(new, NAME)) == NAME
    new.close()
