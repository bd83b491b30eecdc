"""Rebuild a dead stall from the copy of its journal that the provincial server holds.

The administrator re-issues a pairing code for the stall; on a fresh SD card `market-pos recover
--server URL --code CODE` pairs (the empty stall takes the stall's device id, and the server says
how many entries it holds), downloads the journal page by page (`GET /api/v1/journal`), checks
every entry's hash and link exactly as `market-pos verify` does, and writes each page in one
transaction: the entries as they were (same ids, times and hashes) and their projections (sales,
lines, payments, day counters, products, cash moves, day closes, bank checks). The next sale then
continues the same chain. An interrupted recover is continued by running it again without a code.

Entries the stall made after its last sync are lost with the card: that is what daily backups
(`pos/backup.py`) are for; a backup restored first and then recovered on top is continued here
as long as it is a prefix of the server's chain.

Personal data (pos/personal_data.py) comes back sealed: before anything is written, the pages
are downloaded into a temporary file until the first one that holds a sealed value (or the
last); if there is one, the vendor's recovery code (`--recovery-code`, or the key the stall
already holds) must open it, else the recover stops with nothing written (the pairing is kept:
run it again with the code and without --code). The key is stored in the first page's
transaction, so the projections that open sealed values find it. A vendor who lost her code
rebuilds the figures with `names_lost` (`--without-personal-data`): the sealed values stay as
they are, unreadable for good, and no key is stored (a new one is made at the next use).
"""
from __future__ import annotations

import hmac
import json
import logging
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Iterator

from pos import db, journal, personal_data, projections, settings
from sync.errors import AppError
from sync.protocol import Entry, ProtocolError, check_link, entry_from_dict, loads_without_floats

from .client import SyncClient
from .errors import PairingError, SyncError
from .http import ServerHttp, error_of
from .state import KEY_ACKED, KEY_ATTENTION, KEY_HEAD_HASH, KEY_TOKEN, read_state

logger = logging.getLogger(__name__)
PAGE = 500
SAMPLES = 8            # sealed values of the first page that holds any, tried with the key
NEEDS_CODE = ("The stall's journal holds customers' personal data, sealed with the vendor's key:"
              " the recovery code she wrote down (Settings, Recovery code) is needed. Nothing"
              " was written; run `market-pos recover --recovery-code CODE`{hint}. If the code"
              " is lost, --without-personal-data rebuilds the figures without the names.")
WRONG_CODE = ("This recovery code does not open the stall's personal data: it is another"
              " stall's. Nothing was written; check the code and run `market-pos recover"
              " --recovery-code CODE`{hint}.")
HINT = " without --code (the pairing is kept)"


class RecoverError(Exception):
    """A recover that cannot go on; the message says why, for a person."""


@dataclass(frozen=True)
class RecoverResult:
    """What a recover did."""

    device_id: str
    entries: int        # entries written by this run
    head_seq: int       # the stall's head afterwards (= the server's acked_seq)
    sales: int
    # "opened": sealed values were found and the code (or the stall's key) opens them;
    # "kept": a code was given and stored, with no sealed value yet to check it on; "lost":
    # sealed values were found and rebuilt without a key (names_lost); "": none of these.
    personal_data: str = ""


def recover(db_path: Path, server_url: str | None = None, code: str | None = None, *,
            recovery_code: str | None = None, names_lost: bool = False, page: int = PAGE,
            timeout: float = 30.0,
            progress: Callable[[int, int], None] | None = None) -> RecoverResult:
    """Pair with `code` (an empty stall) or continue with the stored token; download and replay
    every entry the server holds after the stall's head. `recovery_code` is the vendor's code of
    her personal data key, needed when the journal holds sealed values, unless `names_lost`."""
    from pos.backup import is_served
    if is_served(Path(db_path)):
        raise RecoverError("The stall is being served: stop `market-pos serve` first (the"
                           " recover may change its device id).")
    given_key = None
    if recovery_code is not None and names_lost:
        raise RecoverError("Give either the recovery code or --without-personal-data, not both.")
    if recovery_code is not None:  # read before pairing: a typo costs no pairing code
        try:
            given_key = personal_data.key_from_code(recovery_code)
        except AppError as exc:
            raise RecoverError(f"--recovery-code: {exc.message}") from None
    conn = db.connect(db_path)
    try:
        head = _head(conn)
        if code is not None:
            if head is not None:
                raise RecoverError(
                    f"This stall already holds {head.seq} entries: recover rebuilds an empty"
                    " stall. To continue an interrupted recover, run it again without --code.")
            if not server_url:
                raise RecoverError("Give the server's address with --server.")
            client = SyncClient(db_path, timeout=(5, timeout))
            try:
                client.pair(server_url, code)
            except PairingError as exc:
                raise RecoverError(f"Pairing failed: {exc.message} ({exc.code})") from exc
            finally:
                client.close()
        state = read_state(conn)
        if not state.paired:
            raise RecoverError("This stall is not paired: run recover with --server and the"
                               " pairing code the province issued again.")
        token = settings.read(conn, KEY_TOKEN) or ""
        return _download(conn, state.server_url or "", token, state.device_id, page, timeout,
                         progress, given_key, paired_now=code is not None,
                         names_lost=names_lost, spool_dir=Path(db_path).parent)
    finally:
        conn.close()


def _head(conn: sqlite3.Connection) -> Entry | None:
    row = conn.execute("SELECT seq FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
    return journal.get(conn, row["seq"]) if row else None


def _download(conn: sqlite3.Connection, server_url: str, token: str, device_id: str, page: int,
              timeout: float, progress: Callable[[int, int], None] | None,
              given_key: bytes | None = None, *, paired_now: bool = False,
              names_lost: bool = False, spool_dir: Path | None = None) -> RecoverResult:
    # Entries are checked as the server stored them: a float anywhere makes the page unreadable.
    http = ServerHttp(server_url, token, timeout=timeout, parse=loads_without_floats)
    previous = _head(conn)
    written = 0
    server_head: dict[str, Any] = {}
    try:
        with tempfile.TemporaryFile(dir=spool_dir, prefix="recover-") as spool:
            samples = _scan(http, previous, page, device_id, spool)
            key, outcome = _personal_data_key(conn, samples, given_key, paired_now,
                                              empty=previous is None, names_lost=names_lost)
            spool.seek(0)
            pages = _spooled(spool)
            while True:
                after = previous.seq if previous else 0
                data = next(pages, None) or _get_page(http, after, page)
                server_head = data
                entries = [_entry(item, device_id) for item in data["entries"]]
                with db.write_transaction(conn):
                    if key is not None:   # with the first page: nothing before the code opened
                        _install_key(conn, key, replace=previous is None)
                        key = None
                    for entry in entries:
                        problem = check_link(entry, previous)
                        if problem:
                            raise RecoverError(f"The server's entry {entry.seq} is not sound"
                                               f" ({problem}); nothing of this page was"
                                               " written.")
                        _insert(conn, entry)
                        project(conn, entry)
                        previous = entry
                written += len(entries)
                if progress:
                    progress(previous.seq if previous else 0, int(data["acked_seq"]))
                if data.get("next_after_seq") is None or not entries:
                    break
    finally:
        http.close()
    head_seq = previous.seq if previous else 0
    if head_seq < int(server_head.get("acked_seq", 0)) or \
            (previous and previous.hash != server_head.get("head_hash")):
        raise RecoverError("The server's journal changed during the recover; run it again.")
    with db.write_transaction(conn):  # the server holds all of it: nothing is pending
        settings.write(conn, KEY_ACKED, str(head_seq))
        if previous:
            settings.write(conn, KEY_HEAD_HASH, previous.hash)
        conn.execute("DELETE FROM settings WHERE key = ?", (KEY_ATTENTION,))
    result = journal.verify(conn, device_id)
    if not result.ok:  # a second, independent walk over what was written
        raise RecoverError(f"The rebuilt journal is broken at seq {result.broken_seq}:"
                           f" {result.reason}")
    sales_count = conn.execute("SELECT COUNT(*) FROM sales").fetchone()[0]
    logger.info("recovered %d entries of device %s (head %d)", written, device_id, head_seq)
    return RecoverResult(device_id, written, head_seq, sales_count, outcome)


def _scan(http: ServerHttp, previous: Entry | None, page: int, device_id: str,
          spool: IO[bytes]) -> list[str]:
    """Download pages into `spool`, one JSON line each, up to the first that holds a sealed
    value (its sealed values are returned, at most SAMPLES, from entries whose hash is sound)
    or the last; nothing is written to the stall meanwhile."""
    after = previous.seq if previous else 0
    while True:
        data = _get_page(http, after, page)
        spool.write(json.dumps(data, separators=(",", ":")).encode("ascii") + b"\n")
        samples: list[str] = []
        last = after
        for item in data["entries"]:
            try:
                entry = _entry(item, device_id)
            except RecoverError:    # the write pass stops there, after the pages before it
                return samples[:SAMPLES]
            if entry.expected_hash() == entry.hash:
                samples.extend(sealed_values(entry.payload))
            last = entry.seq
        if samples or data.get("next_after_seq") is None or last <= after:
            return samples[:SAMPLES]
        after = last


def _spooled(spool: IO[bytes]) -> Iterator[dict[str, Any]]:
    for line in spool:
        yield loads_without_floats(line)


def sealed_values(payload: Any) -> list[str]:
    """Every string of a payload, at any depth, that has the shape of a sealed value."""
    found, stack = [], [payload]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(reversed(list(value.values())))
        elif isinstance(value, list):
            stack.extend(reversed(value))
        elif isinstance(value, str) and value.startswith(personal_data.SEALED_PREFIX) \
                and personal_data.is_sealed(value):
            found.append(value)
    return found


def _personal_data_key(conn: sqlite3.Connection, samples: list[str], given: bytes | None,
                       paired_now: bool, *, empty: bool, names_lost: bool = False
                       ) -> tuple[bytes | None, str]:
    """The key to store with the first page (None: the stall's own is kept), and the outcome;
    RecoverError when sealed values are there and neither the code nor the stall's key opens
    them."""
    hint = HINT if paired_now else ""
    try:
        stored = personal_data.stored_key(conn)
    except AppError as exc:
        raise RecoverError(f"{exc.message} Nothing was written.") from None
    if samples:
        if given is None:
            if stored is not None and _opens(stored, samples):
                return None, "opened"
            if names_lost:
                return None, "lost"
            raise RecoverError(NEEDS_CODE.format(hint=hint))
        if not _opens(given, samples):
            raise RecoverError(WRONG_CODE.format(hint=hint))
    if given is None:
        return None, ""
    if stored is not None and not hmac.compare_digest(stored, given) and not empty:
        raise RecoverError("This stall already holds another personal data key and entries:"
                           " recover it without --recovery-code. Nothing was written.")
    return given, "opened" if samples else "kept"


def _opens(key: bytes, samples: list[str]) -> bool:
    return any(personal_data.key_opens(key, value) for value in samples)


def _install_key(conn: sqlite3.Connection, key: bytes, *, replace: bool) -> None:
    """The vendor's key, from the code she typed (so she holds it written down)."""
    personal_data.install_key(conn, key, replace=replace)
    personal_data.mark_code_shown(conn)


def _get_page(http: ServerHttp, after: int, page: int) -> dict[str, Any]:
    try:
        answer = http.get("/api/v1/journal", params={"after_seq": after, "limit": page})
    except SyncError as exc:
        raise RecoverError(f"The server did not answer ({exc.code}); what was written so far"
                           " is kept: run recover again.") from exc
    data = answer.data
    if answer.status != 200 or not isinstance(data, dict):
        message = error_of(answer).get("message") or f"HTTP {answer.status}"
        raise RecoverError(f"The server refused the download: {message}")
    if not isinstance(data.get("entries"), list) or not isinstance(data.get("acked_seq"), int):
        raise RecoverError("The server's answer is not a journal page.")
    return data


def _entry(item: Any, device_id: str) -> Entry:
    try:
        entry = entry_from_dict(item, payload_types_checked=True)
    except ProtocolError as exc:
        raise RecoverError(f"The server sent a malformed entry: {exc}") from exc
    if entry.device_id != device_id:
        raise RecoverError(f"The server sent entry {entry.seq} of another device.")
    return entry


def _insert(conn: sqlite3.Connection, entry: Entry) -> None:
    """The entry exactly as the stall first wrote it (the triggers check seq and link again)."""
    conn.execute("INSERT INTO journal (seq, id, device_id, kind, at, payload, prev_hash, hash)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 (entry.seq, entry.id, entry.device_id, entry.kind, entry.at,
                  entry.canonical_payload().decode("utf-8"), entry.prev_hash, entry.hash))


def project(conn: sqlite3.Connection, entry: Entry) -> None:
    """Write the stall's tables for one replayed entry (inside the caller's transaction)."""
    try:
        projections.project(conn, entry)
    except projections.UnknownKind:
        raise RecoverError(f"Entry {entry.seq} is of kind {entry.kind!r}, which this version"
                           " cannot rebuild; update market-pos and run recover again.") from None
    except (KeyError, TypeError, sqlite3.IntegrityError) as exc:
        raise RecoverError(f"Entry {entry.seq} ({entry.kind}) cannot be projected: {exc!r}"
                           ) from exc
    except AppError as exc:   # e.g. a sealed value that does not open (SealedDataError)
        raise RecoverError(f"Entry {entry.seq} ({entry.kind}) cannot be projected:"
                           f" {exc.message}") from exc
