"""Monthly partitions of the journal and its projections on PostgreSQL: made ahead of time,
listed, archived to a file and restored (`market-server partitions …`; revision 0016 made the
tables partitioned; docs/SCALE.md, "PostgreSQL partitions and the read replica").

Partitions live in the schema `market_partitions`, one per table and month (`sales_2026_11`),
beside one default partition per table (`sales_default`) that takes the rows of a month whose
partition does not exist yet. `create_ahead` makes the partitions of this month and the next
ones and moves any rows the default partitions took into their month's partition; it runs at
start-up and from the command line (cron it monthly, or let every start do it).

An archive is one file: a tar holding `manifest.json` (format, month, schema revision, and per
table its columns, row count and the SHA-256 of its CSV) and one gzip-compressed CSV per table
(PostgreSQL's COPY … CSV HEADER: readable by any tool, independent of the PostgreSQL version,
restored by COPY at full speed). Archiving a month:

1. detaches the month's partition of every table in one transaction (they leave the live
   tables: the push and the dashboard no longer see them; the rollups keep its figures);
2. copies each into the file (written beside it and renamed into place when complete and
   flushed), then reads the file back and checks every count and checksum;
3. drops the detached tables.

If step 2 fails the partitions are attached again; if the process dies between 1 and 3 the
detached tables stay in `market_partitions`, and running the same archive again finishes it.
Restoring loads each CSV into a new table (checking counts and checksums, that every row
belongs to the month, and that none of its keys is in the live tables, so (device_id, seq)
stays unique), then attaches the tables, all in one transaction: a month is restored whole or
not at all.

SQLite is never partitioned: `supported` is False there and the commands say so.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import logging
import os
import re
import tarfile
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from .db import PARTITIONED_TABLES, utcnow

logger = logging.getLogger(__name__)

SCHEMA = "market_partitions"
MONTHS_AHEAD = 3             # this month and the next three
LOCK_TIMEOUT = "5s"          # DDL on a live table waits at most this long for its lock
ARCHIVE_FORMAT = "market-server-partition/1"
TABLES = tuple(table.name for table in PARTITIONED_TABLES)
KEYS = {table.name: tuple(c.name for c in table.primary_key.columns)
        for table in PARTITIONED_TABLES}
_BOUND = re.compile(r"FROM \('(\d{4}-\d{2}-\d{2})'\) TO \('(\d{4}-\d{2}-\d{2})'\)")


class PartitionError(Exception):
    """A partition command that cannot be done as asked (the message says why)."""


# --- months --------------------------------------------------------------------------------------

def parse_month(value: str) -> date:
    """'2026-11' → date(2026, 11, 1); PartitionError otherwise."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise PartitionError(f"A month is written YYYY-MM, e.g. 2026-11 (not {value!r}).")
    return date(int(match.group(1)), int(match.group(2)), 1)


def next_month(month: date, step: int = 1) -> date:
    index = month.year * 12 + month.month - 1 + step
    return date(index // 12, index % 12 + 1, 1)


def month_of(moment: datetime) -> date:
    moment = moment.astimezone(timezone.utc)
    return date(moment.year, moment.month, 1)


def partition_name(table: str, month: date) -> str:
    return f"{table}_{month.year:04d}_{month.month:02d}"


def _qualified(name: str) -> str:
    return f'{SCHEMA}."{name}"'


# --- what is there -------------------------------------------------------------------------------

def supported(conn: Connection) -> bool:
    """True on PostgreSQL once revision 0016 partitioned the journal."""
    if conn.dialect.name != "postgresql":
        return False
    return conn.execute(text(
        "SELECT c.relkind = 'p' FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = current_schema() AND c.relname = 'journal'")).scalar() is True


def _require(conn: Connection) -> None:
    if not supported(conn):
        raise PartitionError("Partitions exist only on PostgreSQL (at revision 0016 or later:"
                             " run `market-server init`); SQLite keeps one table each.")


@dataclass(frozen=True)
class Partition:
    """One attached partition: its table, month (None: the default one), name and size."""

    table: str
    month: date | None
    name: str
    rows: int          # PostgreSQL's estimate (exact for the default partitions)
    bytes: int


def attached(conn: Connection) -> list[Partition]:
    """Every attached partition of the partitioned tables, by table and month."""
    rows = conn.execute(text(
        "SELECT parent.relname, child.relname, pg_get_expr(child.relpartbound, child.oid),"
        " GREATEST(child.reltuples, 0)::bigint, pg_total_relation_size(child.oid)"
        " FROM pg_inherits i JOIN pg_class parent ON parent.oid = i.inhparent"
        " JOIN pg_namespace pn ON pn.oid = parent.relnamespace"
        " JOIN pg_class child ON child.oid = i.inhrelid"
        " WHERE pn.nspname = current_schema() AND parent.relname = ANY(:tables)"
        " AND child.relkind = 'r'"), {"tables": list(TABLES)}).all()
    out = []
    for parent, child, bound, estimate, size in rows:
        match = _BOUND.search(bound or "")
        month = date.fromisoformat(match.group(1)) if match else None
        if month is None:   # the default partition: counted exactly (it should be empty)
            estimate = conn.execute(text(f"SELECT count(*) FROM {_qualified(child)}")
                                    ).scalar_one()
        out.append(Partition(parent, month, child, int(estimate), int(size)))
    order = {name: index for index, name in enumerate(TABLES)}
    return sorted(out, key=lambda p: (p.month or date.max, order[p.table]))


def detached(conn: Connection) -> dict[date, list[str]]:
    """Tables of `market_partitions` that belong to no partitioned table (an archive that
    stopped half-way), by month."""
    names = conn.execute(text(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = :schema AND c.relkind = 'r' AND NOT c.relispartition"),
        {"schema": SCHEMA}).scalars().all()
    out: dict[date, list[str]] = {}
    for name in names:
        match = re.fullmatch(r"(.+)_(\d{4})_(\d{2})", name)
        if match and match.group(1) in TABLES:
            out.setdefault(date(int(match.group(2)), int(match.group(3)), 1), []).append(name)
    return out


def summary(conn: Connection) -> list[dict[str, Any]]:
    """One row a month (the default partitions as month None): tables, journal rows, size."""
    _require(conn)
    months: dict[date | None, dict[str, Any]] = {}
    for part in attached(conn):
        row = months.setdefault(part.month, {"month": part.month, "tables": 0, "rows": 0,
                                             "journal_rows": 0, "bytes": 0})
        row["tables"] += 1
        row["rows"] += part.rows
        row["bytes"] += part.bytes
        if part.table == "journal":
            row["journal_rows"] = part.rows
    return sorted(months.values(), key=lambda r: r["month"] or date.max)


# --- making partitions ---------------------------------------------------------------------------

def _lock_timeout(conn: Connection) -> None:
    conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))


def _has_partition(conn: Connection, table: str, month: date) -> bool:
    return conn.execute(text(
        "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = :schema AND c.relname = :name AND c.relispartition"),
        {"schema": SCHEMA, "name": partition_name(table, month)}).first() is not None


def _in_default(conn: Connection, table: str, month: date) -> bool:
    """Whether the table's default partition holds rows of the month."""
    return conn.execute(text(
        f"SELECT 1 FROM {_qualified(table + '_default')} WHERE month >= :start AND month < :end"
        " LIMIT 1"), {"start": month, "end": next_month(month)}).first() is not None


def ensure_month(conn: Connection, month: date) -> list[str]:
    """Make the month's partition of every table that has none, in the caller's transaction.
    Rows of that month the default partition took are moved into it (PostgreSQL refuses a new
    partition while the default one holds rows of its range). The names made."""
    made = []
    start, end = month.isoformat(), next_month(month).isoformat()
    for table in TABLES:
        if _has_partition(conn, table, month):
            continue
        name = _qualified(partition_name(table, month))
        default = _qualified(f"{table}_default")
        if not _in_default(conn, table, month):
            conn.execute(text(f"CREATE TABLE {name} PARTITION OF {table}"
                              f" FOR VALUES FROM ('{start}') TO ('{end}')"))
        else:
            conn.execute(text(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS"
                              " INCLUDING CONSTRAINTS)"))
            moved = conn.execute(text(
                f"WITH moved AS (DELETE FROM {default} WHERE month >= :start AND month < :end"
                f" RETURNING *) INSERT INTO {name} SELECT * FROM moved"),
                {"start": start, "end": end}).rowcount
            conn.execute(text(f"ALTER TABLE {table} ATTACH PARTITION {name}"
                              f" FOR VALUES FROM ('{start}') TO ('{end}')"))
            logger.warning("moved %d rows of %s from %s_default into its partition", moved,
                           month.isoformat()[:7], table)
        made.append(partition_name(table, month))
    return made


def create_ahead(engine: Engine, months: int = MONTHS_AHEAD, now: datetime | None = None
                 ) -> list[str]:
    """Make the partitions of this month and the next `months` (and of any month whose rows
    a default partition holds), one transaction a month, each DDL waiting at most
    LOCK_TIMEOUT for its lock. Nothing to do on SQLite. The names made."""
    with engine.connect() as conn:
        if not supported(conn):
            return []
    first = month_of(now or utcnow())
    wanted = {next_month(first, step) for step in range(months + 1)}
    with engine.begin() as conn:
        for table in TABLES:
            wanted.update(conn.execute(text(
                f"SELECT DISTINCT month FROM {_qualified(table + '_default')}")).scalars())
    made: list[str] = []
    for month in sorted(wanted):
        with engine.begin() as conn:
            _lock_timeout(conn)
            made += ensure_month(conn, month)
    if made:
        logger.info("partitions made: %s", ", ".join(made))
    return made


def create_ahead_at_start(engine: Engine) -> None:
    """`create_ahead` for a server that starts: a lock it cannot get in time (a long query on
    a table) is logged, not fatal; until the next start rows of a missing month wait in the
    default partitions, and the next create-ahead moves them."""
    try:
        create_ahead(engine)
    except Exception as exc:  # noqa: BLE001  (a start must not fail for a partition made late)
        logger.warning("partitions were not made ahead: %s (run `market-server partitions"
                       " create-ahead`)", exc)


# --- archive -------------------------------------------------------------------------------------

def _columns(conn: Connection, relation: str) -> list[str]:
    return list(conn.execute(text(
        "SELECT attname FROM pg_attribute WHERE attrelid = CAST(:r AS regclass)"
        " AND attnum > 0 AND NOT attisdropped ORDER BY attnum"), {"r": relation}).scalars())


def _revision(conn: Connection) -> str | None:
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _raw(conn: Connection) -> Any:
    """The psycopg connection under a SQLAlchemy one (for COPY), in the same transaction."""
    return conn.connection.driver_connection


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def archive(engine: Engine, month: date, path: Path, now: datetime | None = None
            ) -> dict[str, Any]:
    """Detach the month's partitions, write them to `path`, check the file, drop them.

    Refused for this month and the one before (entries of those may still be coming, and a
    void or a bank check of a sale updates the sale's row), for a month with no partitions,
    and when `path` exists. Returns the manifest."""
    now = now or utcnow()
    with engine.connect() as conn:
        _require(conn)
    if month >= next_month(month_of(now), -1):
        raise PartitionError(f"{month.isoformat()[:7]} is too recent to archive: archive months"
                             " before last month only.")
    if path.exists():
        raise PartitionError(f"{path} exists: choose another file.")
    with engine.begin() as conn:
        _require(conn)
        left = detached(conn).get(month, [])
        if not left:
            if not any(_has_partition(conn, table, month) or _in_default(conn, table, month)
                       for table in TABLES):
                raise PartitionError(f"{month.isoformat()[:7]} has no partition (archived"
                                     " already, or never used).")
            _lock_timeout(conn)
            ensure_month(conn, month)  # rows of that month still in a default partition
            for table in TABLES:
                conn.execute(text(f"ALTER TABLE {table} DETACH PARTITION"
                                  f" {_qualified(partition_name(table, month))}"))
        elif len(left) != len(TABLES):
            raise PartitionError(f"Only {len(left)} of the {len(TABLES)} tables of"
                                 f" {month.isoformat()[:7]} are left detached: restore them by"
                                 " hand before archiving again.")
        else:
            logger.warning("finishing the archive of %s left half-done", month.isoformat()[:7])
        revision = _revision(conn)
    written = False
    try:
        manifest = _write_archive(engine, month, path, revision, now)
        written = True
        _check_archive(path, manifest)
    except BaseException:
        path.with_name(path.name + ".partial").unlink(missing_ok=True)
        if written:
            path.unlink(missing_ok=True)
        _reattach(engine, month)
        raise
    with engine.begin() as conn:
        for table in TABLES:
            conn.execute(text(f"DROP TABLE {_qualified(partition_name(table, month))}"))
    logger.info("archived %s to %s: %s", month.isoformat()[:7], path,
                {t: m["rows"] for t, m in manifest["tables"].items()})
    return manifest


def _reattach(engine: Engine, month: date) -> None:
    start, end = month.isoformat(), next_month(month).isoformat()
    with engine.begin() as conn:
        for table in TABLES:
            conn.execute(text(f"ALTER TABLE {table} ATTACH PARTITION"
                              f" {_qualified(partition_name(table, month))}"
                              f" FOR VALUES FROM ('{start}') TO ('{end}')"))
    logger.warning("archive of %s abandoned: its partitions are attached again",
                   month.isoformat()[:7])


class _Digest(io.RawIOBase):
    """A write-only stream that gzips into `out` and counts and hashes what passes."""

    def __init__(self, out: Any) -> None:
        self.gzip = gzip.GzipFile(fileobj=out, mode="wb", compresslevel=6, mtime=0)
        self.sha = hashlib.sha256()
        self.lines = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        data = bytes(data)
        self.sha.update(data)
        self.lines += data.count(b"\n")
        self.gzip.write(data)
        return len(data)

    def close(self) -> None:
        self.gzip.close()
        super().close()


def _write_archive(engine: Engine, month: date, path: Path, revision: str | None,
                   now: datetime) -> dict[str, Any]:
    manifest: dict[str, Any] = {"format": ARCHIVE_FORMAT, "month": month.isoformat()[:7],
                                "revision": revision,
                                "created_at": now.astimezone(timezone.utc).isoformat(),
                                "tables": {}}
    partial = path.with_name(path.name + ".partial")
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".archive-") as folder:
        with engine.connect() as conn, conn.begin():
            conn.execute(text("SET LOCAL TimeZone = 'UTC'"))
            conn.execute(text("SET LOCAL DateStyle = 'ISO, YMD'"))
            conn.execute(text("SET LOCAL extra_float_digits = 3"))
            raw = _raw(conn)
            for table in TABLES:
                name = _qualified(partition_name(table, month))
                columns = _columns(conn, name)
                member = f"{table}.csv.gz"
                with open(Path(folder) / member, "wb") as out:
                    digest = _Digest(out)
                    with raw.cursor() as cursor:
                        with cursor.copy(f"COPY {name} TO STDOUT WITH (FORMAT csv, HEADER true)"
                                         ) as copy:
                            for block in copy:
                                digest.write(block)
                    digest.close()
                manifest["tables"][table] = {"file": member, "columns": columns,
                                             "rows": digest.lines - 1,
                                             "sha256": digest.sha.hexdigest()}
        with tarfile.open(partial, "w") as tar:
            data = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size, info.mtime = len(data), int(now.timestamp())
            tar.addfile(info, io.BytesIO(data))
            for table in TABLES:
                tar.add(Path(folder) / f"{table}.csv.gz", arcname=f"{table}.csv.gz")
        with open(partial, "rb+") as done:
            os.fsync(done.fileno())
    os.replace(partial, path)
    _fsync_dir(path.parent)
    return manifest


@contextmanager
def _open_archive(path: Path) -> Iterator[tuple[dict[str, Any], tarfile.TarFile]]:
    """The archive's manifest and its tar, open."""
    try:
        tar = tarfile.open(path, "r")
    except (OSError, tarfile.TarError) as exc:
        raise PartitionError(f"{path} cannot be read as an archive: {exc}") from None
    with tar:
        try:
            handle = tar.extractfile("manifest.json")
            manifest = json.loads(handle.read()) if handle else None
        except (KeyError, ValueError):
            manifest = None
        if not isinstance(manifest, dict) or manifest.get("format") != ARCHIVE_FORMAT:
            raise PartitionError(f"{path} is not a {ARCHIVE_FORMAT} archive.")
        yield manifest, tar


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of an archive file."""
    with _open_archive(path) as (manifest, _tar):
        return manifest


def _csv_stream(tar: tarfile.TarFile, member: str) -> Iterator[bytes]:
    handle = tar.extractfile(member)
    if handle is None:
        raise PartitionError(f"The archive has no {member}.")
    with gzip.GzipFile(fileobj=handle, mode="rb") as stream:
        while block := stream.read(1 << 20):
            yield block


def _check_archive(path: Path, manifest: dict[str, Any]) -> None:
    """Read the written file back: every table's line count and checksum as written."""
    with _open_archive(path) as (stored, tar):
        if stored != manifest:
            raise PartitionError(f"{path}: the manifest read back differs from the one written.")
        for table, meta in manifest["tables"].items():
            sha, lines = hashlib.sha256(), 0
            for block in _csv_stream(tar, meta["file"]):
                sha.update(block)
                lines += block.count(b"\n")
            if sha.hexdigest() != meta["sha256"] or lines - 1 != meta["rows"]:
                raise PartitionError(f"{path}: {table} does not read back as written.")


# --- restore -------------------------------------------------------------------------------------

def restore(engine: Engine, path: Path) -> dict[str, Any]:
    """Load an archive and attach its month again, in one transaction. Returns its manifest.

    Refused if the month has rows in the live tables, if a table's CSV does not match its
    count or checksum, if a row is not of the month, or if any key of it is live already."""
    with engine.connect() as conn:
        _require(conn)
    with _open_archive(path) as (manifest, tar):
        month = parse_month(manifest["month"])
        start, end = month.isoformat(), next_month(month).isoformat()
        if set(manifest["tables"]) != set(TABLES):
            raise PartitionError(f"{path} holds the tables {sorted(manifest['tables'])}, this"
                                 f" server partitions {sorted(TABLES)}.")
        with engine.begin() as conn:
            _require(conn)
            for table in TABLES:
                name = _qualified(partition_name(table, month))
                if _has_partition(conn, table, month):
                    if conn.execute(text(f"SELECT 1 FROM {name} LIMIT 1")).first():
                        raise PartitionError(f"{month.isoformat()[:7]} has rows in {table}:"
                                             " it is not archived (or restored already).")
                    conn.execute(text(f"DROP TABLE {name}"))
                elif conn.execute(text(f"SELECT to_regclass('{name}')")).scalar():
                    raise PartitionError(f"{name} exists, detached (an archive that stopped"
                                         " half-way): run the archive again to finish it.")
                if _in_default(conn, table, month):
                    raise PartitionError(f"{table}_default holds rows of"
                                         f" {month.isoformat()[:7]}: nothing restored.")
            raw = _raw(conn)
            for table in TABLES:
                _load(conn, raw, tar, table, manifest["tables"][table], month)
            _lock_timeout(conn)
            for table in TABLES:
                name = _qualified(partition_name(table, month))
                conn.execute(text(f"ALTER TABLE {table} ATTACH PARTITION {name}"
                                  f" FOR VALUES FROM ('{start}') TO ('{end}')"))
                conn.execute(text(f"ALTER TABLE {name} DROP CONSTRAINT restored_month"))
    with engine.begin() as conn:   # the planner's statistics of the month, at once
        for table in TABLES:
            conn.execute(text(f"ANALYZE {_qualified(partition_name(table, month))}"))
    logger.info("restored %s from %s", manifest["month"], path)
    return manifest


def _load(conn: Connection, raw: Any, tar: tarfile.TarFile, table: str, meta: dict[str, Any],
          month: date) -> None:
    name = _qualified(partition_name(table, month))
    live = _columns(conn, table)
    columns = meta["columns"]
    unknown = [c for c in columns if c not in live]
    if unknown:
        raise PartitionError(f"{table}: the archive has columns this schema lacks: {unknown}.")
    conn.execute(text(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS"
                      " INCLUDING CONSTRAINTS)"))
    sha, lines = hashlib.sha256(), 0
    quoted = ", ".join(f'"{c}"' for c in columns)
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY {name} ({quoted}) FROM STDIN WITH (FORMAT csv, HEADER true)"
                         ) as copy:
            for block in _csv_stream(tar, meta["file"]):
                sha.update(block)
                lines += block.count(b"\n")
                copy.write(block)
    if sha.hexdigest() != meta["sha256"] or lines - 1 != meta["rows"]:
        raise PartitionError(f"{table}: the archive's CSV does not match its manifest.")
    # Every row of the month (the constraint also lets ATTACH skip its own scan).
    conn.execute(text(f"ALTER TABLE {name} ADD CONSTRAINT restored_month CHECK (month IS NOT"
                      f" NULL AND month >= '{month.isoformat()}' AND month <"
                      f" '{next_month(month).isoformat()}')"))
    key = [c for c in KEYS[table]]
    match = " AND ".join(f'live."{c}" = r."{c}"' for c in key)
    clash = conn.execute(text(
        f"SELECT {', '.join(f'r.{c}' for c in key)} FROM {name} r WHERE EXISTS"
        f" (SELECT 1 FROM {table} live WHERE {match}) LIMIT 1")).first()
    if clash:
        raise PartitionError(f"{table}: the key {tuple(clash)} of the archive is in the live"
                             " table already; nothing restored.")


def months_present(conn: Connection) -> Iterable[date]:
    """The months that have partitions attached."""
    return sorted({p.month for p in attached(conn) if p.month is not None})
