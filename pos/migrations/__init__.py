"""The stall's schema migrations, one file each, applied oldest first by `pos.db.migrate`.

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

from sqlite_utils.migrations import Migrations

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
