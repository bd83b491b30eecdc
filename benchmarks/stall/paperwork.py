"""Paper the vendor waits for: a receipt PDF and the day close (Z) with its report over 500 sales.

Both go through the code the stall runs (pos.printouts.document_pdf, pos.daybook.close_day) on a
real database. Each receipt is of a different sale, so the QR code (cached per payload) is drawn
afresh every time, as at the stall. The baseline, measured in the same run, is the floor of the
same library: a one-line 80 mm PDF with the same embedded DejaVu font.
"""
from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

from pos import daybook, db, paper, printouts, sales, stall
from pos.app import create_app
from sync.localtime import business_day
from sync.money import line_amount, parse_quantity
from sync.protocol import utc_timestamp

from .timing import repeat

FIVE_LINES = [(1, "1"), (4, "0.25"), (6, "3"), (8, "1.5"), (14, "1")]


def bare_pdf() -> bytes:
    """The least a receipt PDF can cost: one line of Vietnamese in the embedded font."""
    from reportlab.pdfgen.canvas import Canvas
    paper._register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(80 * paper.MM, 60 * paper.MM), pageCompression=1)
    canvas.setFont(paper.FONTS[False][0], paper.BODY)
    canvas.drawString(10, 100, "Cảm ơn quý khách!")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _sale(prices: dict[int, int], lines: list[tuple[int, str]]) -> dict[str, Any]:
    total = sum(line_amount(parse_quantity(q), prices[p]) for p, q in lines)
    return {"lines": [{"product_id": p, "quantity": q} for p, q in lines],
            "payments": [{"method": "cash", "amount": total, "tendered": total + 50_000}]}


def receipts(made: dict[str, Any], samples: int) -> dict[str, Any]:
    """p50/p99 of a 5-line 80 mm receipt PDF with its QR, read back from the database."""
    app = create_app({"DATA_DIR": made["folder"]})
    conn = db.connect(stall.database_path(made["folder"]))
    try:
        with app.app_context():
            ids = [sales.record_sale(conn, made["device_id"], _sale(made["prices"], FIVE_LINES),
                                     "owner")["id"] for _ in range(samples + 3)]
            queue = iter(ids)

            def receipt() -> None:
                pdf = printouts.document_pdf(conn, "receipt", next(queue), copy=False,
                                             lang="vi", paper="80")
                assert pdf.startswith(b"%PDF")

            stat = repeat(receipt, samples, warmup=3)
            base = repeat(bare_pdf, samples, warmup=3)
            size = len(printouts.document_pdf(conn, "receipt", ids[0], copy=False, lang="vi",
                                              paper="80"))
    finally:
        conn.close()
    return {"receipt": stat, "bare": base, "bytes": size}


def day_close(made: dict[str, Any], sales_count: int, samples: int) -> dict[str, Any]:
    """p50/p99 of closing a day of `sales_count` sales (Z entry) and printing its report PDF.

    Each close runs on its own copy of the same day (a day closes once).
    """
    folder = Path(made["folder"])
    app = create_app({"DATA_DIR": folder})
    path = stall.database_path(folder)
    conn = db.connect(path)
    day = business_day(utc_timestamp())
    with app.app_context():
        for n in range(sales_count):
            lines = [FIVE_LINES[n % 5], FIVE_LINES[(n + 2) % 5]]
            sales.record_sale(conn, made["device_id"], _sale(made["prices"], lines), "owner")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    copies = []
    for n in range(samples + 2):
        copy = folder / f"close-{n}.sqlite3"
        shutil.copyfile(path, copy)
        copies.append(copy)
    queue = iter(copies)

    def close() -> None:
        conn = db.connect(next(queue))
        try:
            z = daybook.close_day(conn, made["device_id"], day, 1_000_000, "owner")
            assert z["sales_count"] >= sales_count, z["sales_count"]
            pdf = printouts.document_pdf(conn, "report", f"z:{z['z_number']}", copy=False,
                                         lang="vi", paper="80")
            assert pdf.startswith(b"%PDF")
        finally:
            conn.close()

    with app.app_context():
        stat = repeat(close, samples, warmup=2)
    base = repeat(bare_pdf, samples, warmup=3)
    for copy in copies:
        copy.unlink(missing_ok=True)
        for suffix in ("-wal", "-shm"):
            Path(str(copy) + suffix).unlink(missing_ok=True)
    return {"close": stat, "bare": base}
