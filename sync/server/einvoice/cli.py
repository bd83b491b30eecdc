"""`market-server einvoice-*`: send, watch, export and record MTT e-invoices (docs/TAX.md)."""
from __future__ import annotations

import json
import os
import time

import click
from sqlalchemy import and_, select

from sync.protocol import Entry

from ..cli_options import database_option, migrated_engine
from ..db import einvoice_queue, journal, read_transaction, write_transaction

PROVIDER_URL_ENV = "MARKET_EINVOICE_URL"
PROVIDER_KEY_ENV = "MARKET_EINVOICE_KEY"


@click.command("einvoice-send")
@database_option
@click.option("--provider-url", envvar=PROVIDER_URL_ENV, required=True, metavar="URL",
              help=f"The provider's base URL (or ${PROVIDER_URL_ENV}).")
@click.option("--batch-size", default=100, show_default=True, type=click.IntRange(1, 1000))
@click.option("--loop", "interval", default=0, type=click.IntRange(0, 3600), metavar="SECONDS",
              help="Keep running, one pass every SECONDS (0: one pass and exit).")
def send(database: str | None, provider_url: str, batch_size: int, interval: int) -> None:
    """Send queued invoices to the provider and poll for the tax authority's answers.

    The API key is read from $MARKET_EINVOICE_KEY (never from the command line)."""
    from .adapter import HttpAdapter
    from .sender import run_once
    engine = migrated_engine(database)
    adapter = HttpAdapter(provider_url, os.environ.get(PROVIDER_KEY_ENV, ""))
    try:
        while True:
            summary = run_once(engine, adapter, batch_size=batch_size)
            click.echo(f"posted {summary.posted} batch(es), polled {summary.polled},"
                       f" received {summary.received}, rejected {summary.rejected}"
                       + (f"; {len(summary.errors)} error(s): {summary.errors[-1]}"
                          if summary.errors else ""))
            if not interval:
                break
            time.sleep(interval)
    finally:
        engine.dispose()


@click.command("einvoice-status")
@database_option
@click.option("--device", default=None, help="Only this device.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
def status(database: str | None, device: str | None, as_json: bool) -> None:
    """Invoices by state, and those not yet received by the tax authority."""
    from . import queue
    engine = migrated_engine(database)
    try:
        with read_transaction(engine) as conn:
            counts = queue.counts(conn, device)
            rows = queue.outstanding(conn, device_id=device)
    finally:
        engine.dispose()
    if as_json:
        for row in rows:
            for key in ("queued_at", "sent_at", "received_at"):
                row[key] = row[key].isoformat() if row[key] else None
        click.echo(json.dumps({"counts": counts, "outstanding": rows}, ensure_ascii=False))
        return
    click.echo(", ".join(f"{state}: {n}" for state, n in sorted(counts.items())) or "no invoices")
    for row in rows:
        click.echo(f"{row['code']}  {row['business_day']}  {row['total']:>14}  {row['state']:<9}"
                   f"  {row['device_id']}  {row['message'] or ''}")


@click.command("einvoice-export")
@database_option
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False),
              help="The ZIP to write.")
@click.option("--device", default=None, help="Only this device.")
@click.option("--again", is_flag=True, help="Also invoices exported before.")
def export(database: str | None, output: str, device: str | None, again: bool) -> None:
    """Write queued invoices as XML files in a ZIP for upload by hand (they leave the queue)."""
    from .export import export_batch
    engine = migrated_engine(database)
    try:
        with open(output, "wb") as out:
            count = export_batch(engine, out, device_id=device, again=again)
    finally:
        engine.dispose()
    click.echo(f"{count} invoice(s) written to {output}.")


@click.command("einvoice-received")
@database_option
@click.option("--seller", "seller_tax_code", default=None, metavar="TAX_CODE",
              help="The seller's tax code (needed when two sellers' invoices share a code).")
@click.argument("codes", nargs=-1, required=True)
def received(database: str | None, seller_tax_code: str | None, codes: tuple[str, ...]) -> None:
    """Record that the tax authority received invoices uploaded by hand (status 8)."""
    from .queue import AmbiguousCode, mark_received_by_hand
    engine = migrated_engine(database)
    try:
        with write_transaction(engine) as conn:
            count = mark_received_by_hand(conn, list(codes), seller_tax_code=seller_tax_code)
    except AmbiguousCode as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()
    click.echo(f"{count} invoice(s) recorded as received.")
    if count < len(codes):
        raise click.ClickException(f"{len(codes) - count} code(s) unknown, in flight with the"
                                   " provider, or already received.")


@click.command("einvoice-holder")
@database_option
@click.option("--by", "officer", required=True, metavar="NAME",
              help="Who confirmed the holder (kept with the binding).")
@click.argument("tax_code")
@click.argument("device_id")
def holder(database: str | None, officer: str, tax_code: str, device_id: str) -> None:
    """Name the device that a seller's tax code belongs to; its invoices held back by another
    device's use of the same codes are queued again (docs/TAX.md)."""
    from datetime import datetime, timezone

    from .holders import bind
    engine = migrated_engine(database)
    try:
        with write_transaction(engine) as conn:
            requeued = bind(conn, tax_code.strip(), device_id.strip(), officer.strip()[:100],
                            datetime.now(timezone.utc))
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()
    click.echo(f"Tax code {tax_code} belongs to device {device_id};"
               f" {requeued} invoice(s) queued again.")


@click.command("einvoice-requeue")
@database_option
def requeue(database: str | None) -> None:
    """Queue the invoices of entries stored before the e-invoice queue existed (safe to repeat)."""
    from .queue import INVOICE_KINDS, insert, rows_for
    engine = migrated_engine(database)
    queued = 0
    try:
        with write_transaction(engine) as conn:
            missing = conn.execute(
                select(journal).outerjoin(einvoice_queue, and_(
                    einvoice_queue.c.device_id == journal.c.device_id,
                    einvoice_queue.c.seq == journal.c.seq))
                .where(and_(journal.c.kind.in_(INVOICE_KINDS), einvoice_queue.c.seq.is_(None)))
                .order_by(journal.c.device_id, journal.c.seq)).all()
            rows = []
            for r in missing:
                entry = Entry(r.device_id, r.seq, r.id, r.kind, r.at, json.loads(r.payload),
                              r.prev_hash, r.hash)
                rows.extend(rows_for(entry))
            insert(conn, rows)
            queued = len(rows)
    finally:
        engine.dispose()
    click.echo(f"{queued} invoice(s) queued.")


COMMANDS = (send, status, export, received, holder, requeue)
