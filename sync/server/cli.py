"""`market-server`: the provincial server's command line, a thin shell over `store`."""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any, BinaryIO, Callable

import click

from sync.protocol import canonical_json

from .cli_options import database_option, engine_for, migrated_engine
from .db import default_database_url, utcnow, write_transaction
from .einvoice.cli import COMMANDS as EINVOICE_COMMANDS
from sync.errors import InvalidInput

logger = logging.getLogger(__name__)

def _fail_on(exc: Exception) -> click.ClickException:
    message = getattr(exc, "message", None) or str(exc)
    return click.ClickException(message)


@click.group()
@click.version_option(package_name="market-pos")
def main() -> None:
    """Market 4.0 POS: the provincial sync server."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)


@main.command()
@database_option
def init(database: str | None) -> None:
    """Create or upgrade the database schema (safe to run again)."""
    from . import migrations
    engine = migrated_engine(database)
    click.echo(f"Database ready at revision {migrations.current_revision(engine)}"
               f" ({engine.url.render_as_string(hide_password=True)}).")
    engine.dispose()


@main.command()
@database_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8081, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1),
              help="Processes. 1: waitress in this process; 2 or more: gunicorn, a pre-fork"
                   " server (one worker per core: --workers $(nproc)).")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(min=1),
              help="Threads per process, and database connections per process.")
@click.option("--proxy-count", type=click.IntRange(min=0), default=None,
              envvar="MARKET_SERVER_PROXY_COUNT",
              help="Reverse proxies in front (HAProxy: 1). Their X-Forwarded-For/-Proto/-Host"
                   " are believed for that many hops, so rate limits see the client's address."
                   " Only behind a proxy that sets them: default 0.")
@click.option("--access-log", default=None, metavar="FILE",
              help="With --workers 2 or more: gunicorn's access log (- for standard error),"
                   " one line a request with the worker's pid.")
def serve(database: str | None, host: str, port: int, workers: int, threads: int,
          proxy_count: int | None, access_log: str | None) -> None:
    """Upgrade the schema, then serve the sync API and admin pages (docs/SCALE.md, "Processes
    and the balancer")."""
    from .app import create_app
    from .server_secret import server_secret
    url = database or default_database_url()
    migrated_engine(url).dispose()
    # Every worker must sign cookies with one key: read (or make) it once, before any fork.
    config: dict[str, object] = {"DATABASE_URL": url, "SECRET_KEY": _secret(server_secret),
                                 "DATABASE_POOL_SIZE": threads}
    if proxy_count is not None:
        config["PROXY_COUNT"] = proxy_count
    click.echo(f"Serving the provincial server on http://{host}:{port}/"
               + (f" with {workers} worker processes" if workers > 1 else ""))
    if workers == 1:
        from waitress import serve as waitress_serve
        waitress_serve(create_app(config), host=host, port=port, threads=threads,
                       ident="market-server")
        return
    _gunicorn(lambda: create_app(config), {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers, "threads": threads, "worker_class": "gthread",
        "proc_name": "market-server", "accesslog": access_log, "errorlog": "-",
        "access_log_format": '%(h)s %(p)s "%(r)s" %(s)s %(b)s %(M)sms',
        # gunicorn believes no forwarded header itself; the app's ProxyFix does, when told to.
        "forwarded_allow_ips": "", "graceful_timeout": 20,
        "control_socket_disable": True,   # gunicorn 25.1+: no socket in the home folder
    }).run()


def _secret(read: Callable[[], str], deadline: float = 10.0) -> str:
    """The server's secret, never empty: a key file that another server on this machine has
    just created may not hold its key yet for a moment (server_secret.py writes it after the
    exclusive create), and an empty key would sign this instance's cookies differently."""
    import time
    end = time.monotonic() + deadline
    while not (secret := read()):
        if time.monotonic() > end:
            raise click.ClickException("The server's secret key file is empty: remove it, or set"
                                       " MARKET_SERVER_SECRET_KEY.")
        time.sleep(0.05)
    return secret


def _gunicorn(factory: Callable[[], object], options: dict[str, object]) -> Any:
    """A gunicorn arbiter that builds the app in each worker, after the fork (so each worker
    opens its own database pool; nothing is preloaded in the master)."""
    try:
        from gunicorn.app.base import BaseApplication
    except ImportError:  # Windows, or an install without it
        raise click.ClickException("--workers 2 or more needs gunicorn (Unix only): pip"
                                   " install gunicorn, or serve with --workers 1.")

    class MarketServer(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                if key in self.cfg.settings and value is not None:
                    self.cfg.set(key, value)

        def load(self) -> object:
            return factory()

    return MarketServer()


@main.command("add-stall")
@database_option
@click.option("--province", required=True)
@click.option("--commune", required=True, help="Commune or ward.")
@click.option("--district", default=None, help="District (optional, kept with a new commune).")
@click.option("--market", required=True)
@click.option("--name", required=True, help="The stall's name.")
@click.option("--vendor", default=None, help="The vendor's name.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def add_stall(database: str | None, province: str, commune: str, district: str | None,
              market: str, name: str, vendor: str | None, as_json: bool) -> None:
    """Create a stall and print its device id and one-time pairing code (valid 24 h)."""
    from . import store
    from sync.errors import AppError
    engine = engine_for(database)
    try:
        with write_transaction(engine) as conn:
            _, device_id, code = store.add_stall(conn, province, commune, market, name, vendor,
                                                 utcnow(), district=district)
    except AppError as exc:
        raise _fail_on(exc)
    finally:
        engine.dispose()
    if as_json:
        click.echo(json.dumps({"device_id": device_id, "pairing_code": code}))
    else:
        click.echo(f"Device id:    {device_id}\nPairing code: {code} (valid 24 hours)")


@main.command("issue-code")
@database_option
@click.option("--device", "device_id", required=True, help="The stall's device id.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def issue_code(database: str | None, device_id: str, as_json: bool) -> None:
    """Issue a new pairing code for an existing stall (a replacement device recovers its chain)."""
    from sqlalchemy import select
    from . import store
    from .db import devices
    engine = engine_for(database)
    try:
        with write_transaction(engine) as conn:
            stall_id = conn.execute(select(devices.c.stall_id)
                                    .where(devices.c.device_id == device_id)).scalar_one_or_none()
            if stall_id is None:
                raise click.ClickException(f"No device {device_id}.")
            code = store.issue_pairing_code(conn, stall_id, utcnow())
    finally:
        engine.dispose()
    click.echo(json.dumps({"device_id": device_id, "pairing_code": code}) if as_json
               else f"Pairing code: {code} (valid 24 hours)")


@main.command("export-journal")
@database_option
@click.option("--device", "device_id", default=None, help="Only this device's entries.")
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl",
              show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to FILE instead of standard output.")
def export_journal(database: str | None, device_id: str | None, fmt: str,
                   output: Path | None) -> None:
    """Write every stored entry, one canonical JSON object a line."""
    from . import store
    from .db import read_transaction
    engine = engine_for(database)
    stream: BinaryIO = output.open("wb") if output else sys.stdout.buffer
    count = 0
    try:
        with read_transaction(engine) as conn:
            for entry in store.export_journal(conn, device_id):
                stream.write(canonical_json(entry) + b"\n")
                count += 1
        stream.flush()
    finally:
        if output:
            stream.close()
        engine.dispose()
    logger.info("exported %d entries", count)


@main.command("import-bundle")
@database_option
@click.argument("bundle", type=click.File("rb"))
def import_bundle(database: str | None, bundle: BinaryIO) -> None:
    """Store a stall's offline bundle (market-pos export-bundle) exactly like a push."""
    from sync.protocol import loads_without_floats

    from . import store
    from sync.errors import AppError
    try:
        data = loads_without_floats(bundle.read())
    except ValueError as exc:
        raise click.ClickException(f"The bundle is not JSON: {exc}")
    engine = engine_for(database)
    try:
        with write_transaction(engine) as conn:
            result = store.import_bundle(conn, data, utcnow())
    except AppError as exc:
        raise _fail_on(exc)
    finally:
        engine.dispose()
    click.echo(json.dumps({**result.to_dict(), "refused": result.refusal and
                           {"code": result.refusal.code, "message": result.refusal.message,
                            "seq": result.refusal.seq}}))
    if result.refusal:
        sys.exit(2)


@main.command("revoke-device")
@database_option
@click.argument("device_id")
def revoke_device(database: str | None, device_id: str) -> None:
    """Revoke every token of a device (it must pair again with a new code)."""
    from . import store
    engine = engine_for(database)
    try:
        with write_transaction(engine) as conn:
            count = store.revoke_device(conn, device_id, utcnow())
    finally:
        engine.dispose()
    click.echo(f"Revoked {count} token(s) of device {device_id}.")


@main.command("rebuild-rollups")
@database_option
def rebuild_rollups(database: str | None) -> None:
    """Recompute the dashboard's rollup tables from the stored sales (a repair; safe to rerun)."""
    from . import rollups
    engine = engine_for(database)
    try:
        with write_transaction(engine) as conn:
            counts = rollups.rebuild(conn)
    finally:
        engine.dispose()
    click.echo("Rollups rebuilt: " + ", ".join(f"{n} rows in {t}" for t, n in counts.items())
               + ".")


@main.command("webhook-secret")
@database_option
@click.option("--name", required=True, help="Who calls the webhook, e.g. the notification service.")
@click.option("--revoke", is_flag=True, help="Revoke the secrets with this name instead.")
def webhook_secret(database: str | None, name: str, revoke: bool) -> None:
    """Create (and print once) the shared secret of the bank notification webhook."""
    from . import bank
    engine = engine_for(database)
    try:
        with write_transaction(engine) as conn:
            if revoke:
                click.echo(f"Revoked {bank.revoke_secret(conn, name, utcnow())} secret(s).")
                return
            try:
                secret = bank.create_secret(conn, name, utcnow())
            except InvalidInput as exc:
                raise _fail_on(exc)
    finally:
        engine.dispose()
    click.echo(secret)
    click.echo("POST bank notifications to /api/v1/bank/notifications with the header"
               " 'Authorization: Bearer <secret>'. This secret is not shown again.", err=True)


@main.command("set-product")
@database_option
@click.option("--province", required=True)
@click.option("--commune", default=None, help="Only for this commune or ward.")
@click.option("--market", default=None, help="Only for this market (needs --commune).")
@click.option("--name", required=True)
@click.option("--unit", required=True)
@click.option("--price", required=True, type=click.IntRange(min=0), help="Whole đồng.")
@click.option("--category", default=None)
@click.option("--binding", is_flag=True, help="Stalls must use this price.")
@click.option("--ocop-stars", type=click.Choice(["3", "4", "5"]), default=None)
@click.option("--inactive", is_flag=True, help="Withdraw the product.")
def set_product(database: str | None, province: str, commune: str | None, market: str | None,
                name: str, unit: str, price: int, category: str | None, binding: bool,
                ocop_stars: str | None, inactive: bool) -> None:
    """Create or change a product of the reference catalogue (matched by name in its scope)."""
    from . import store
    from sync.errors import AppError
    engine = engine_for(database)
    try:
        with write_transaction(engine) as conn:
            product = store.set_catalogue_product(
                conn, province=province, commune=commune, market=market, name=name, unit=unit,
                price=price, category=category, binding=binding, active=not inactive,
                ocop_stars=int(ocop_stars) if ocop_stars else None)
    except AppError as exc:
        raise _fail_on(exc)
    finally:
        engine.dispose()
    click.echo(json.dumps(product, ensure_ascii=False))


@main.command()
@database_option
@click.option("--device", "device_id", default=None)
@click.option("--all", "include_resolved", is_flag=True, help="Include resolved alerts.")
def alerts(database: str | None, device_id: str | None, include_resolved: bool) -> None:
    """List integrity alerts, one JSON object a line."""
    from . import store
    from .db import read_transaction
    engine = engine_for(database)
    try:
        with read_transaction(engine) as conn:
            for alert in store.list_alerts(conn, device_id, include_resolved=include_resolved):
                click.echo(json.dumps(alert, default=str, ensure_ascii=False))
    finally:
        engine.dispose()


@main.command("resolve-alert")
@database_option
@click.argument("alert_id")
@click.option("--by", required=True, help="Who resolves it.")
@click.option("--note", default=None)
def resolve_alert(database: str | None, alert_id: str, by: str, note: str | None) -> None:
    """Mark an integrity alert as resolved."""
    from . import store
    engine = engine_for(database)
    try:
        with write_transaction(engine) as conn:
            done = store.resolve_alert(conn, alert_id, by, note, utcnow())
    finally:
        engine.dispose()
    if not done:
        raise click.ClickException(f"No open alert {alert_id}.")
    click.echo(f"Alert {alert_id} resolved.")


# --- create-user: user accounts are sync/server/users.py's job (written separately) ------------
# The command is registered here so that `market-server` has one entry point; it expects
# `users.create_user(conn, username=…, password=…, role=…, province=…, commune=…)`.

@main.command("create-user")
@database_option
@click.option("--username", required=True)
@click.option("--password-stdin", is_flag=True, required=True,
              help="Read the password from standard input.")
@click.option("--role", type=click.Choice(["admin", "viewer"]), required=True)
@click.option("--province", default=None)
@click.option("--commune", default=None)
def create_user(database: str | None, username: str, password_stdin: bool, role: str,
                province: str | None, commune: str | None) -> None:
    """Create an account for the admin pages."""
    try:
        from . import users  # type: ignore[attr-defined]
    except ImportError:
        raise click.ClickException("User accounts are not available in this build.")
    from sync.errors import AppError
    password = sys.stdin.readline().rstrip("\r\n")
    engine = migrated_engine(database)
    try:
        with write_transaction(engine) as conn:
            users.create_user(conn, username=username, password=password, role=role,
                              province=province, commune=commune)
    except (AppError, ValueError) as exc:
        raise _fail_on(exc)
    finally:
        engine.dispose()
    click.echo(f"User {username} created ({role}).")


@main.command("demo-seed")
@database_option
def demo_seed(database: str | None) -> None:
    """Seed a demo server from a JSON document on standard input: {"stall": {province, commune,
    market, name, vendor}, "catalogue": [product, …], "admin": {username, password}}. Prints the
    stall's device id and pairing code as JSON (`market-pos demo` runs it)."""
    from . import catalogue, store, users
    from sync.errors import AppError
    try:
        seed = json.loads(sys.stdin.read())
        stall, admin = seed["stall"], seed["admin"]
        products = list(seed.get("catalogue") or [])
    except (ValueError, KeyError, TypeError) as exc:
        raise click.ClickException(f"Not a demo seed: {exc!r}")
    engine = migrated_engine(database)
    try:
        with write_transaction(engine) as conn:
            _, device_id, code = store.add_stall(conn, stall["province"], stall["commune"],
                                                 stall["market"], stall["name"],
                                                 vendor_name=stall.get("vendor"), now=utcnow())
            for product in products:
                catalogue.set_catalogue_product(conn, province=stall["province"], **product)
            users.create_user(conn, admin["username"], admin["password"], "admin")
    except (AppError, ValueError, KeyError, TypeError) as exc:
        raise _fail_on(exc)
    finally:
        engine.dispose()
    click.echo(json.dumps({"device_id": device_id, "pairing_code": code}))


# --- monthly partitions on PostgreSQL: sync/server/partitions.py --------------------------------

@main.group()
def partitions() -> None:
    """Monthly partitions of the journal and sales on PostgreSQL: list, make ahead, archive an
    old month to a file, restore it (docs/SCALE.md)."""


def _partition_command(work: Callable[[Any], Any], database: str | None) -> Any:
    from .partitions import PartitionError
    engine = migrated_engine(database)
    try:
        return work(engine)
    except PartitionError as exc:
        raise click.ClickException(str(exc))
    finally:
        engine.dispose()


@partitions.command("list")
@database_option
def partitions_list(database: str | None) -> None:
    """One line a month: its tables, journal entries and rows (PostgreSQL's estimates), size."""
    from sqlalchemy import Engine

    from .partitions import detached, summary

    def work(engine: Engine) -> None:
        with engine.connect() as conn:
            rows, left = summary(conn), detached(conn)
        for row in rows:
            month = row["month"].isoformat()[:7] if row["month"] else "default"
            click.echo(f"{month}\t{row['tables']} tables\t{row['journal_rows']} entries"
                       f"\t{row['rows']} rows\t{row['bytes'] // 1024} KiB")
        for month, names in sorted(left.items()):
            click.echo(f"{month.isoformat()[:7]}\tdetached, not archived: {', '.join(names)}")
    _partition_command(work, database)


@partitions.command("create-ahead")
@database_option
@click.option("--months", default=3, show_default=True, type=click.IntRange(min=0, max=120),
              help="Months after this one to make partitions for.")
def partitions_create_ahead(database: str | None, months: int) -> None:
    """Make this month's and the next months' partitions (serve and init do it too)."""
    from .partitions import create_ahead
    made = _partition_command(lambda engine: create_ahead(engine, months), database)
    click.echo(f"{len(made)} partition(s) made" + (f": {', '.join(made)}." if made else "."))


@partitions.command("archive")
@database_option
@click.argument("month")
@click.option("--to", "target", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The archive file to write (it must not exist).")
def partitions_archive(database: str | None, month: str, target: Path) -> None:
    """Detach MONTH (YYYY-MM, before last month), write it to a file, check it, drop it."""
    from .partitions import archive, parse_month

    def work(engine: Any) -> Any:
        return archive(engine, parse_month(month), target)
    manifest = _partition_command(work, database)
    rows = sum(table["rows"] for table in manifest["tables"].values())
    click.echo(f"Archived {manifest['month']} to {target}: {rows} rows"
               f" ({manifest['tables']['journal']['rows']} journal entries).")


@partitions.command("restore")
@database_option
@click.argument("archive_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def partitions_restore(database: str | None, archive_file: Path) -> None:
    """Load an archived month back and attach it (all of it, or nothing)."""
    from .partitions import restore
    manifest = _partition_command(lambda engine: restore(engine, archive_file), database)
    rows = sum(table["rows"] for table in manifest["tables"].values())
    click.echo(f"Restored {manifest['month']} from {archive_file}: {rows} rows.")


# --- MTT e-invoices: sync/server/einvoice/cli.py ------------------------------------------------

for _command in EINVOICE_COMMANDS:
    main.add_command(_command)


# --- the national roll-up (publish, subscribe, status): sync/server/national.py ---------------

from .national import national as _national  # noqa: E402  (after main, like the commands above)

main.add_command(_national)


if __name__ == "__main__":
    main()
