"""`market-pos`: the stall's command line, a thin shell over the library."""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from . import stall

logger = logging.getLogger(__name__)
data_option = click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path),
                           envvar="MARKET_POS_DATA", default=None,
                           help="Data directory (default: $MARKET_POS_DATA or ~/.local/share/market-pos).")


def _data_dir(data_dir: Path | None) -> Path:
    return data_dir or stall.default_data_dir()


def _connect(data_dir: Path):  # type: ignore[no-untyped-def]
    from . import db
    device_id = stall.prepare(data_dir)
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
    from .errors import PosError
    data_dir = _data_dir(data_dir)
    conn, device_id = _connect(data_dir)
    try:
        if pin:
            access.set_pin(conn, "owner", pin)
    except PosError as exc:
        raise click.ClickException(str(exc.message))
    finally:
        conn.close()
    click.echo(f"Stall ready in {data_dir} (device {device_id}).")


def _serve(data_dir: Path, host: str, port: int) -> None:
    import atexit
    from waitress import serve as waitress_serve
    from .app import create_app
    from .printing import PrintWorker
    from .printouts import render_job
    app = create_app({"DATA_DIR": data_dir})
    worker = PrintWorker(app.config["DATABASE"], render_job)  # prints beside, never in, a sale
    worker.start()
    atexit.register(worker.stop)
    click.echo(f"Serving the stall on http://{host}:{port}/ (data in {data_dir})")
    waitress_serve(app, host=host, port=port, threads=8, ident="market-pos")


@main.command()
@data_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
def serve(data_dir: Path | None, host: str, port: int) -> None:
    """Serve the stall with waitress."""
    _serve(_data_dir(data_dir), host, port)


@main.command()
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("market-pos-demo"), show_default=True, help="Demo data directory.")
@click.option("--port", default=8080, show_default=True, type=int)
def demo(data_dir: Path, port: int) -> None:
    """Run a demo stall with a catalogue and a morning of sales."""
    from . import demo as demo_data
    conn, device_id = _connect(data_dir)
    try:
        demo_data.seed(conn, device_id)
    finally:
        conn.close()
    click.echo(f"Demo stall: owner PIN {demo_data.DEMO_OWNER_PIN}, helper PIN"
               f" {demo_data.DEMO_HELPER_PIN}")
    _serve(data_dir, "127.0.0.1", port)


@main.command()
@data_option
@click.option("--label", default="api", show_default=True)
def token(data_dir: Path | None, label: str) -> None:
    """Print a new API bearer token."""
    from . import access
    conn, _ = _connect(_data_dir(data_dir))
    try:
        click.echo(access.issue_token(conn, label))
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
    from .errors import PosError
    conn, _ = _connect(_data_dir(data_dir))
    try:
        pdf = printouts.document_pdf(conn, "receipt", sale_id, copy=copy, lang=lang, paper=width)
    except PosError as exc:
        raise click.ClickException(str(exc.message))
    finally:
        conn.close()
    output.write_bytes(pdf)
    click.echo(f"Receipt written to {output}")


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
