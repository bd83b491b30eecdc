"""`market-pos`: the stall's command line, a thin shell over the library."""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from . import migrations, stall

if TYPE_CHECKING:
    import subprocess

logger = logging.getLogger(__name__)
data_option = click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path),
                           envvar="MARKET_POS_DATA", default=None,
                           help="Data directory (default: $MARKET_POS_DATA or ~/.local/share/market-pos).")


def _data_dir(data_dir: Path | None) -> Path:
    return data_dir or stall.default_data_dir()


def _prepare(data_dir: Path) -> str:
    """stall.prepare, with a migration that cannot run here told as a message, not a trace."""
    try:
        return stall.prepare(data_dir)
    except migrations.MigrationError as exc:
        raise click.ClickException(str(exc))


def _connect(data_dir: Path):  # type: ignore[no-untyped-def]
    from . import db
    device_id = _prepare(data_dir)
    return db.connect(stall.database_path(data_dir)), device_id


@click.group()
@click.version_option(package_name="market-pos")
def main() -> None:
    """Market 4.0 POS: the stall."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@main.command()
@data_option
@click.option("--pin", help="The owner's PIN (4-8 digits). Without it, set it up in the browser.")
def init(data_dir: Path | None, pin: str | None) -> None:
    """Create the stall's data directory and database."""
    from . import access
    from sync.errors import AppError
    data_dir = _data_dir(data_dir)
    conn, device_id = _connect(data_dir)
    try:
        if pin:
            access.set_pin(conn, "owner", pin)
    except AppError as exc:
        raise click.ClickException(str(exc.message))
    finally:
        conn.close()
    click.echo(f"Stall ready in {data_dir} (device {device_id}).")


def _serve(data_dir: Path, host: str, port: int) -> None:
    import atexit
    from waitress import serve as waitress_serve
    from .app import create_app
    from .backup import BackupError, BackupWorker
    from .printing.worker import PrintWorker
    from .printouts import render_job
    from .sync.worker import SyncWorker
    from .migrations import MigrationError
    try:
        app = create_app({"DATA_DIR": data_dir})  # prepares the stall: migrations run here
    except MigrationError as exc:
        raise click.ClickException(str(exc))
    worker = PrintWorker(app.config["DATABASE"], render_job)  # prints beside, never in, a sale
    worker.start()
    atexit.register(worker.stop)
    syncer = SyncWorker(app.config["DATABASE"])  # syncs beside the sales, never in one
    syncer.start()
    atexit.register(syncer.stop)
    backups = BackupWorker(app.config["DATABASE"])  # the daily copy to the backup folder
    try:
        backups.start()
    except BackupError as exc:
        raise click.ClickException(f"{exc} ({data_dir})")
    atexit.register(backups.stop)
    click.echo(f"Serving the stall on http://{host}:{port}/ (data in {data_dir})")
    waitress_serve(app, host=host, port=port, threads=8, ident="market-pos")


@main.command()
@data_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
def serve(data_dir: Path | None, host: str, port: int) -> None:
    """Serve the stall with waitress."""
    _serve(_data_dir(data_dir), host, port)


DEMO_ADMIN = ("admin", "market-demo")
DEMO_CATALOGUE = [  # the province's reference catalogue of the demo (one price is binding)
    {"name": "Gạo nếp cái hoa vàng", "unit": "kg", "price": 40_000, "category": "Gạo",
     "binding": True},
    {"name": "Mận Bắc Hà", "unit": "kg", "price": 30_000, "category": "Quả"},
    {"name": "Rượu ngô Bắc Hà", "unit": "chai", "price": 120_000, "category": "Đặc sản",
     "ocop_stars": 3},
]


SERVER_START_SECONDS = 60.0   # a cold Pi migrating a fresh database takes a while


class DemoServer:
    """The demo's provincial server: `market-server serve` in a process of its own."""

    def __init__(self, process: "subprocess.Popen[bytes]", url: str, log: Path):
        self.process, self.url, self.log = process, url, log

    def close(self, timeout: float = 10.0) -> None:
        """Stop the server (idempotent): SIGTERM, then SIGKILL if it does not go in time."""
        import subprocess
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _market_server(*args: str) -> list[str]:
    """`market-server ARGS`, run by this Python (the same `sync` package as this stall)."""
    return [sys.executable, "-m", "sync.server.cli", *args]


def _server_env(folder: Path) -> dict[str, str]:
    """The demo server's environment: its data folder (and so its secret key) in the demo's."""
    import os
    import sync
    env = dict(os.environ, MARKET_SERVER_DATA=str(folder))
    root = str(Path(sync.__file__).resolve().parent.parent)  # where this stall's `sync` lives
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def _free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_demo_server(folder: Path, database: str, port: int) -> DemoServer:
    """Start `market-server serve` and wait until it answers (on a deadline, not a sleep)."""
    import subprocess
    import time
    from .sync.errors import SyncError
    from .sync.http import ServerHttp
    port = port or _free_port()
    url = f"http://127.0.0.1:{port}"
    log = folder / "server.log"
    with open(log, "ab") as out:
        process = subprocess.Popen(
            _market_server("serve", "--database", database, "--host", "127.0.0.1",
                           "--port", str(port), "--threads", "4"),
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            env=_server_env(folder))
    server = DemoServer(process, url, log)
    probe = ServerHttp(url, timeout=(1.0, 5.0))
    deadline = time.monotonic() + SERVER_START_SECONDS
    try:
        while True:
            if process.poll() is not None:
                raise click.ClickException(f"The demo's provincial server stopped (exit"
                                           f" {process.returncode}); see {log}")
            try:
                if probe.get("/api/v1/openapi.json").status == 200:
                    return server
            except SyncError:
                pass
            if time.monotonic() >= deadline:
                raise click.ClickException(f"The demo's provincial server did not answer on"
                                           f" {url} within {SERVER_START_SECONDS:.0f} s; see {log}")
            time.sleep(0.1)
    except BaseException:
        server.close()
        raise
    finally:
        probe.close()


def _seed_demo_server(folder: Path, database: str) -> str:
    """The demo stall, the province's catalogue and the admin, through `market-server
    demo-seed`; returns the stall's pairing code."""
    import subprocess
    from . import demo as demo_data
    place = demo_data.DEMO_STALL
    seed = {"stall": {"province": place["province"], "commune": place["commune"],
                      "market": place["market"], "name": place["stall_name"],
                      "vendor": place["vendor_name"]},
            "catalogue": DEMO_CATALOGUE,
            "admin": {"username": DEMO_ADMIN[0], "password": DEMO_ADMIN[1]}}
    done = subprocess.run(_market_server("demo-seed", "--database", database),
                          input=json.dumps(seed, ensure_ascii=False), capture_output=True,
                          text=True, env=_server_env(folder), timeout=120)
    if done.returncode != 0:
        raise click.ClickException(f"The demo server could not be seeded: {done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])["pairing_code"]


def _demo_server(data_dir: Path, port: int) -> tuple[str, DemoServer]:
    """A local provincial server for the demo on 127.0.0.1:port (0: any free port), as its own
    process, with the demo stall on it, the province's catalogue and an admin (paired once).
    The caller stops it with `close()`."""
    from .sync.client import SyncClient
    from .sync.errors import PairingError
    from .sync.state import KEY_SERVER
    folder = (data_dir / "server").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    database = f"sqlite:///{folder / 'market-server.sqlite3'}"
    server = _start_demo_server(folder, database, port)
    client = SyncClient(stall.database_path(data_dir))
    try:
        state = client.state()
        if state.paired and state.server_url != server.url:   # the demo server moved port
            from . import db, settings
            with db.write_transaction(client.conn):
                settings.write(client.conn, KEY_SERVER, server.url)
        if not state.paired:
            client.pair(server.url, _seed_demo_server(folder, database))
    except PairingError as exc:
        server.close()
        raise click.ClickException(f"The demo stall could not pair: {exc.message}")
    except BaseException:
        server.close()
        raise
    finally:
        client.close()
    return server.url, server


@main.command()
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("market-pos-demo"), show_default=True, help="Demo data directory.")
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--server-port", default=8081, show_default=True, type=int,
              help="Port of the demo's provincial server.")
def demo(data_dir: Path, port: int, server_port: int) -> None:
    """Run a demo stall (catalogue, a morning of sales) and a provincial server (`market-server
    serve`, a process of its own), paired; stopping the stall stops the server."""
    import atexit
    conn, _ = _connect(data_dir)
    conn.close()
    server_url, server = _demo_server(data_dir, server_port)  # pair first: adopt its device id
    atexit.register(server.close)   # the stall's exit (Ctrl-C included) stops the server
    _exit_on_sigterm()              # and so does a `kill` (SIGTERM) of the stall
    try:
        _run_demo_stall(data_dir, port, server_url)
    finally:
        server.close()


def _exit_on_sigterm() -> None:
    """SIGTERM as a normal exit (SystemExit), so that `finally` and atexit stop the server."""
    import signal
    import threading
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))


def _run_demo_stall(data_dir: Path, port: int, server_url: str) -> None:
    """Seed the demo stall (after pairing: it took the server's device id) and serve it."""
    from . import demo as demo_data
    conn, device_id = _connect(data_dir)
    try:
        demo_data.seed(conn, device_id)
    finally:
        conn.close()
    click.echo(f"Demo stall: owner PIN {demo_data.DEMO_OWNER_PIN}, helper PIN"
               f" {demo_data.DEMO_HELPER_PIN}")
    click.echo(f"Provincial server on {server_url}/admin/ (user {DEMO_ADMIN[0]}, password"
               f" {DEMO_ADMIN[1]}), the stall paired with it")
    _serve(data_dir, "127.0.0.1", port)


@main.command("unlock-pad")
@data_option
def unlock_pad(data_dir: Path | None) -> None:
    """Open a PIN pad locked by wrong PINs and forget the count (needs the machine itself)."""
    from . import access
    conn, _ = _connect(_data_dir(data_dir))
    try:
        was_locked = access.clear_pin_guard(conn)
    finally:
        conn.close()
    click.echo("PIN pad opened." if was_locked else "PIN pad was not locked; count forgotten.")


@main.command()
@data_option
@click.option("--label", default="api", show_default=True, help="Where the new token is used.")
@click.option("--list", "list_tokens", is_flag=True,
              help="List the tokens that work: id, a tab, label (never the token itself).")
@click.option("--revoke", "revoke_id", metavar="ID", default=None,
              help="Revoke the token with this id: it gets 401 from the next request on.")
def token(data_dir: Path | None, label: str, list_tokens: bool, revoke_id: str | None) -> None:
    """Print a new API bearer token, or list or revoke the tokens."""
    from . import access
    from sync.errors import AppError
    if list_tokens and revoke_id is not None:
        raise click.UsageError("Give --list or --revoke ID, not both.")
    conn, _ = _connect(_data_dir(data_dir))
    try:
        if list_tokens:
            for row in access.list_tokens(conn):
                click.echo(f"{row['id']}\t{row['label']}")
        elif revoke_id is not None:
            access.revoke_token(conn, revoke_id)
            click.echo(f"Token {revoke_id.strip()} revoked.")
        else:
            click.echo(access.issue_token(conn, label))
    except AppError as exc:
        raise click.ClickException(str(exc.message))
    finally:
        conn.close()


@main.command()
@data_option
def verify(data_dir: Path | None) -> None:
    """Walk the journal's hash chain and report the first broken link."""
    from . import journal
    conn, device_id = _connect(_data_dir(data_dir))
    try:
        result = journal.verify(conn, device_id)
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    if integrity != "ok":
        click.echo(f"Database damaged: {integrity}", err=True)
        sys.exit(1)
    if not result.ok:
        click.echo(f"Journal broken at seq {result.broken_seq}: {result.reason}"
                   f" ({result.checked} entries before it are sound)", err=True)
        sys.exit(1)
    click.echo(f"Journal sound: {result.checked} entries.")


@main.command()
@data_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write a checked copy of the database to this file (safe while selling).")
@click.option("--auto", "auto_folder", default=None, metavar="FOLDER|off",
              help="Make a daily backup into FOLDER (e.g. a USB stick) while the stall is"
                   " served; `off` stops it.")
@click.option("--keep", default=14, show_default=True, type=int,
              help="How many daily backups --auto keeps (the oldest are deleted).")
def backup(data_dir: Path | None, output: Path | None, auto_folder: str | None,
           keep: int) -> None:
    """Back up the stall's database now (-o FILE), or set the daily backup folder (--auto)."""
    from . import backup as backups
    if (output is None) == (auto_folder is None):
        raise click.UsageError("Give either -o FILE or --auto FOLDER|off.")
    data_dir = _data_dir(data_dir)
    conn, _ = _connect(data_dir)
    try:
        if auto_folder is not None:
            folder = None if auto_folder.lower() == "off" else auto_folder
            backups.configure(conn, folder, keep)
            click.echo(f"Daily backups into {backups.status(conn)['folder']}, keeping {keep}."
                       if folder else "Daily backups switched off.")
            return
    except backups.BackupError as exc:
        raise click.ClickException(str(exc))
    finally:
        conn.close()
    assert output is not None
    try:
        checked = backups.backup(stall.database_path(data_dir), output)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"Backup written to {output}: {checked.entries} entries, chain and database"
               " checked.")


@main.command()
@data_option
@click.argument("backup_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--force", is_flag=True,
              help="Replace the database even if it holds entries the backup lacks.")
def restore(data_dir: Path | None, backup_file: Path, force: bool) -> None:
    """Replace the stall's database with a backup, after checking the backup's chain."""
    from . import backup as backups
    data_dir = _data_dir(data_dir)
    try:
        checked, kept = backups.restore(backup_file, data_dir, force=force)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"Restored {checked.entries} entries from {backup_file}.")
    if kept is not None:
        click.echo(f"The replaced database was kept in {kept}.")


@main.command()
@data_option
@click.argument("sale_id")
@click.option("--width", type=click.Choice(["58", "80", "A5", "A4"]), default="80",
              show_default=True, help="Paper: 58 or 80 mm roll, or an A5/A4 sheet.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--copy", is_flag=True, help="Mark it as a copy (BẢN SAO), as for a reprint.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
def receipt(data_dir: Path | None, sale_id: str, width: str, output: Path, copy: bool,
            lang: str) -> None:
    """Write a sale's receipt as a PDF."""
    from . import printouts
    from sync.errors import AppError
    conn, _ = _connect(_data_dir(data_dir))
    try:
        pdf = printouts.document_pdf(conn, "receipt", sale_id, copy=copy, lang=lang, paper=width)
    except AppError as exc:
        raise click.ClickException(str(exc.message))
    finally:
        conn.close()
    output.write_bytes(pdf)
    click.echo(f"Receipt written to {output}")


@main.command("tax-book")
@data_option
@click.argument("kind", type=click.Choice(["s1a", "s2a"]))
@click.option("--from", "first_day", required=True, help="First business day, yyyy-mm-dd.")
@click.option("--to", "last_day", required=True, help="Last business day, yyyy-mm-dd.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="FILE.pdf (A4, Vietnamese) or FILE.csv.")
def tax_book(data_dir: Path | None, kind: str, first_day: str, last_day: str,
             output: Path) -> None:
    """Write the sales book S1a-HKD or S2a-HKD of a period, from the journal."""
    from sync.localtime import today
    from sync.money import format_number
    from .tax import books
    from .tax import settings as tax_settings
    if output.suffix.lower() not in (".pdf", ".csv"):
        raise click.ClickException("The output must end in .pdf or .csv.")
    try:
        books.check_period(first_day, last_day)
    except ValueError:
        raise click.ClickException("--from and --to must be days (yyyy-mm-dd), in order, at most"
                                   " five years apart.")
    conn, _ = _connect(_data_dir(data_dir))
    try:
        ts = tax_settings.load(conn)
        book = books.build(conn, kind, first_day, last_day, ts)
        data = books.to_csv(book) if output.suffix.lower() == ".csv" \
            else books.to_pdf(conn, book, ts, today())
    finally:
        conn.close()
    output.write_bytes(data)
    click.echo(f"{books.FORM_NAMES[kind]} ({format_number(book.total)} đồng) written to {output}")


@main.command()
@data_option
@click.option("--server", "server_url", required=True,
              help="The provincial server's address, e.g. https://sync.example.gov.vn")
@click.option("--code", required=True, help="The one-time pairing code (ABCD-EFGH).")
def pair(data_dir: Path | None, server_url: str, code: str) -> None:
    """Pair the stall with the provincial server using a one-time code."""
    from .sync.client import SyncClient
    from .sync.errors import PairingError
    data_dir = _data_dir(data_dir)
    conn, old_device = _connect(data_dir)
    conn.close()
    client = SyncClient(stall.database_path(data_dir), timeout=(5, 20))
    try:
        answer = client.pair(server_url, code)
        state = client.state()
    except PairingError as exc:
        raise click.ClickException(f"Pairing failed: {exc.message} ({exc.code})")
    finally:
        client.close()
    stall_name = (answer.get("stall") or {}).get("name") or ""
    click.echo(f"Paired with {state.server_url} as device {state.device_id}"
               + (f" ({stall_name})" if stall_name else "") + ".")
    if state.device_id != old_device:
        click.echo("This stall took the server's device id; restart `market-pos serve` if it"
                   " is running.")
    click.echo(f"{state.pending} entries to send: run `market-pos sync` (or wait for the"
               " stall to sync by itself).")


@main.command()
@data_option
@click.option("--server", "server_url", default=None,
              help="The provincial server's address (needed with --code).")
@click.option("--code", default=None,
              help="The pairing code the province issued again for this stall. Without it, an"
                   " interrupted recover continues.")
@click.option("--recovery-code", "recovery_code", default=None,
              help="The vendor's recovery code (Settings, Recovery code: 7KQ2-M9XD-…), needed"
                   " when the journal holds customers' personal data.")
@click.option("--without-personal-data", "names_lost", is_flag=True,
              help="The recovery code is lost: rebuild the figures; customers' names, phones"
                   " and notes stay sealed, unreadable for good.")
def recover(data_dir: Path | None, server_url: str | None, code: str | None,
            recovery_code: str | None, names_lost: bool) -> None:
    """Rebuild a stall that lost its storage from the journal the provincial server holds."""
    from .sync.recover import RecoverError
    from .sync.recover import recover as rebuild
    data_dir = _data_dir(data_dir)
    conn, _ = _connect(data_dir)
    conn.close()
    show, shown = _progress_bar(0)
    try:
        result = rebuild(stall.database_path(data_dir), server_url, code,
                         recovery_code=recovery_code, names_lost=names_lost, progress=show)
    except RecoverError as exc:
        raise click.ClickException(f"Recover stopped: {exc}")
    finally:
        if shown["on"]:
            click.echo("", err=True)
    click.echo(f"Recovered {result.entries} entries ({result.sales} sales) of device"
               f" {result.device_id}; the journal continues at seq {result.head_seq + 1}."
               " Restart `market-pos serve` if it is running.")
    if result.personal_data == "opened":
        click.echo("The recovery code opened the customers' personal data.")
    elif result.personal_data == "lost":
        click.echo("Customers' names, phones and notes stay sealed: without the recovery code"
                   " nobody can read them; the figures are all back.")
    elif result.personal_data == "kept":
        click.echo("The recovery code is kept: the journal holds no personal data yet to check"
                   " it against.")


def _progress_bar(start: int, width: int = 30):  # type: ignore[no-untyped-def]
    """A text progress bar on stderr for a backlog of more than one batch."""
    from sync.protocol import CLIENT_BATCH_ENTRIES
    shown = {"on": False}

    def show(acked: int, head: int) -> None:
        total = max(head - start, 0)
        if not shown["on"] and total <= CLIENT_BATCH_ENTRIES:
            return
        shown["on"] = True
        done = min(max(acked - start, 0), total)
        filled = int(width * done / total) if total else width
        click.echo(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", nl=False,
                   err=True)
    return show, shown


@main.command()
@data_option
@click.option("--wait", "lock_wait", default=30.0, show_default=True, type=float,
              help="Seconds to wait when another sync of this stall is running.")
def sync(data_dir: Path | None, lock_wait: float) -> None:
    """Sync with the provincial server now; exit 0 once nothing is pending."""
    from .sync.client import SyncClient
    from .sync.errors import SyncError, SyncRetryable
    data_dir = _data_dir(data_dir)
    conn, _ = _connect(data_dir)
    conn.close()
    client = SyncClient(stall.database_path(data_dir))
    start = client.state().acked_seq
    show, shown = _progress_bar(start)
    try:
        result = client.sync_once(progress=show, lock_wait=lock_wait)
    except SyncRetryable as exc:
        wait = f" (the server asks to wait {exc.retry_after:.0f} s)" if exc.retry_after else ""
        pending = client.state().pending
        raise click.ClickException(f"Sync incomplete: {exc.message}{wait}. {pending} entries"
                                   " still to send; try again later.")
    except SyncError as exc:
        raise click.ClickException(f"Sync failed: {exc.message}")
    finally:
        if shown["on"]:
            click.echo("", err=True)
        client.close()
    if result.status == "busy":
        raise click.ClickException("Another sync of this stall is running; try again shortly.")
    if result.status == "not_paired":
        raise click.ClickException(f"Not paired with a provincial server: run `market-pos pair"
                                   f" --server URL --code CODE` first ({result.pending} entries"
                                   " waiting).")
    if result.status == "needs_attention":
        attention = result.needs_attention or {}
        raise click.ClickException(
            f"Entry {attention.get('seq')} needs attention: the server says"
            f" {attention.get('code')}: {attention.get('message')}. {result.pending} entries are"
            " not sent; the provincial administrator must look at it.")
    catalogue = {"updated": "catalogue updated", "unchanged": "catalogue unchanged"}.get(
        result.catalogue or "", "")
    click.echo(f"Synced: {result.pushed} entries sent ({result.duplicates} already there),"
               f" server holds up to {result.acked_seq}; {catalogue}.")
    if result.pending:
        raise click.ClickException(f"{result.pending} entries recorded during the sync are"
                                   " still to send; run it again.")


@main.command("export-bundle")
@data_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The bundle file to write (e.g. on a USB stick).")
def export_bundle(data_dir: Path | None, output: Path) -> None:
    """Write every entry the server lacks into a signed bundle, for a USB stick."""
    from .sync.bundles import export_bundle as write_bundle
    from .sync.errors import SyncError
    data_dir = _data_dir(data_dir)
    conn, _ = _connect(data_dir)
    conn.close()
    try:
        summary = write_bundle(stall.database_path(data_dir), output)
    except (SyncError, OSError) as exc:
        raise click.ClickException(f"No bundle written: {getattr(exc, 'message', exc)}")
    if summary["entries"]:
        click.echo(f"Bundle written to {output}: {summary['entries']} entries (seq"
                   f" {summary['first_seq']} to {summary['last_seq']}).")
    else:
        click.echo(f"Bundle written to {output}: nothing is pending, it holds no entries.")


@main.group()
def vietqr() -> None:
    """Build and read VietQR (NAPAS 247) transfer codes."""


@vietqr.command("encode")
@click.option("--bank", required=True, help="The bank's 6-digit BIN.")
@click.option("--account", required=True)
@click.option("--amount", type=int, default=None)
@click.option("--message", default=None)
def vietqr_encode(bank: str, account: str, amount: int | None, message: str | None) -> None:
    """Print a VietQR payload."""
    from .vietqr import VietQRError, encode
    try:
        click.echo(encode(bank, account, amount, message))
    except VietQRError as exc:
        raise click.ClickException(str(exc))


@vietqr.command("decode")
@click.argument("payload")
def vietqr_decode(payload: str) -> None:
    """Print a VietQR payload's fields as JSON."""
    from .vietqr import VietQRError, decode
    try:
        click.echo(json.dumps(decode(payload).to_dict(), ensure_ascii=False))
    except VietQRError as exc:
        raise click.ClickException(str(exc))


if __name__ == "__main__":
    main()
