"""The stall's schema migrations, one file each, applied oldest first by `migrate`
(the runner lives here, above its migrations: they import `pos.db`, which imports none of them).

A migration is a module `NNNN_what_it_does.py` here (four digits, numbered from 0001 without
gaps; its file name is its name in the `_sqlite_migrations` table) with a function
`migrate(db: sqlite_utils.Database)`. It runs in one transaction together with the record of it,
unless the module sets `TRANSACTIONAL = False` because it manages its own (a table rebuild with
foreign keys off).

Migrations are append-only: never edit, rename or renumber one that has shipped; add the next
number. `register_all` refuses a file that breaks the naming or the numbering, so that a stall
never applies migrations in an order no one tested.
"""
from __future__ import annotations

import importlib
import pkgutil
import re
import shutil
import sqlite3
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

from ..db import connect

RUNNER = Migrations("market-pos")

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+$")


def migration_modules() -> list[str]:
    """The names of the migration modules, oldest first (checked: named and numbered in order)."""
    names = sorted(info.name for info in pkgutil.iter_modules(__path__))
    bad = [name for name in names if not _NAME.match(name)]
    if bad:
        raise RuntimeError(f"not a migration name (NNNN_what_it_does): {bad}")
    numbers = [int(name[:4]) for name in names]
    if numbers != list(range(1, len(names) + 1)):
        raise RuntimeError(f"migrations must be numbered 0001, 0002, … without gaps: {names}")
    return names


def register_all(migrations: Migrations) -> None:
    """Register every migration of this package with `migrations`, in order."""
    for name in migration_modules():
        module = importlib.import_module(f"{__name__}.{name}")
        migrations(name=name, transactional=getattr(module, "TRANSACTIONAL", True))(
            module.migrate)


class MigrationError(RuntimeError):
    """A schema migration that cannot run on this machine now; the message says what to do."""


def migrate(path: str | Path, *, stop_before: str | None = None) -> None:
    """Apply every pending migration (or those before `stop_before`, for tests of old versions)."""
    conn = connect(path)
    try:
        RUNNER.apply(sqlite_utils.Database(conn), stop_before=stop_before)
    finally:
        conn.close()


def migration_names() -> list[str]:
    """Names of all migrations, oldest first."""
    return [m.name for m in RUNNER._migrations]


def require_room_to_rewrite(conn: sqlite3.Connection) -> None:
    """Refuse, with a message a person can act on, a rewrite of the database's big tables when
    the disk cannot hold it: the rewrite goes through the write-ahead log and then into the file,
    so it may need about twice the database's size until the log is checkpointed. Refused, the
    migration has changed nothing and runs at the next start."""
    path = Path(conn.execute("PRAGMA database_list").fetchone()[2] or ".")
    size = conn.execute("SELECT page_count * page_size FROM pragma_page_count(),"
                        " pragma_page_size()").fetchone()[0]
    needed = 2 * size + 2**20
    free = shutil.disk_usage(path.parent).free
    if free < needed:
        raise MigrationError(
            f"Not enough free disk space to upgrade the stall's database ({path}): the upgrade"
            f" needs about {needed // 2**20} MB free and {free // 2**20} MB are. Nothing was"
            " changed. Free some space (or move old backups away), then start again. / Không"
            " đủ chỗ trống để nâng cấp dữ liệu của sạp; chưa có gì thay đổi. Hãy dọn bớt rồi"
            " mở lại.")


register_all(RUNNER)
