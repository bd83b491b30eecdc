"""XML batches for upload by hand, when no provider can be reached from the server.

The export is a ZIP: one `<seller tax code>/<code>.xml` per invoice (the tax authority's HDon
structure; an invoice is its seller's tax code and its code, so two sellers' equal codes never
share a file) and a `manifest.csv`. Exported invoices leave the automatic queue (state `manual`), so an invoice is
never both uploaded by hand and sent by the adapter; `market-server einvoice-received` records
the tax authority's receipt of them afterwards.
"""
from __future__ import annotations

import csv
import io
import zipfile
from typing import Any, BinaryIO

from sqlalchemy import and_, select, update
from sqlalchemy.engine import Engine

from ..db import einvoice_queue, write_transaction

MANIFEST_FIELDS = ("seller_tax_code", "code", "device_id", "seq", "kind", "related_code", "business_day", "total")


def export_batch(engine: Engine, out: BinaryIO, *, device_id: str | None = None,
                 again: bool = False, limit: int = 5000) -> int:
    """Write queued invoices (with `again`, also those exported before) into a ZIP and mark them
    `manual`, in one transaction; the number exported."""
    states = ("queued", "manual") if again else ("queued",)
    with write_transaction(engine) as conn:
        query = select(einvoice_queue).where(einvoice_queue.c.state.in_(states))
        if device_id:
            query = query.where(einvoice_queue.c.device_id == device_id)
        rows = conn.execute(query.order_by(einvoice_queue.c.device_id, einvoice_queue.c.seq)
                            .limit(limit)).all()
        manifest = io.StringIO()
        writer = csv.writer(manifest)
        writer.writerow(MANIFEST_FIELDS)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for row in rows:
                archive.writestr(archive_name(row.seller_tax_code, row.code),
                                 row.xml.encode("utf-8"))
                writer.writerow([getattr(row, name) or "" for name in MANIFEST_FIELDS])
            archive.writestr("manifest.csv", manifest.getvalue().encode("utf-8"))
        for row in rows:
            conn.execute(update(einvoice_queue)
                         .where(and_(einvoice_queue.c.device_id == row.device_id,
                                     einvoice_queue.c.seq == row.seq,
                                     einvoice_queue.c.state.in_(states)))
                         .values(state="manual"))
    return len(rows)


def archive_name(seller_tax_code: str, code: str) -> str:
    """Where an invoice's XML sits in the export."""
    return f"{seller_tax_code or 'no-tax-code'}/{code}.xml"


def read_manifest(data: bytes) -> list[dict[str, Any]]:
    """The manifest of an export (for tests and for checking an upload)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        text = archive.read("manifest.csv").decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))
