"""What a print job prints: turns a queued job into the PDF and the raster of its page.

The print worker calls `render_job` from its own thread and connection, long after the sale was
committed, so everything is read back from the database, never passed from the request.
"""
from __future__ import annotations

import sqlite3

from flask_babel import lazy_gettext as _l

from . import daybook, qrpay, receipts, reports, sales, settings
from sync.errors import InvalidInput
from .tax import receipt as tax_receipt
from .paper import Document, render_pdf, render_raster
from .printing.backends import Rendered
from .printing.config import PrinterConfig
from .printing.queue import Job
from sync.protocol import utc_timestamp

PRINT_LANG_KEY = "print_lang"


def print_language(conn: sqlite3.Connection) -> str:
    """The language of printed paper at this stall (Vietnamese unless set to English)."""
    return "en" if settings.read(conn, PRINT_LANG_KEY) == "en" else "vi"


def job_document(conn: sqlite3.Connection, kind: str, ref: str, *, copy: bool, lang: str,
                 paper: str) -> Document:
    """The document of a receipt (ref: sale id), an unpaid bill with its QR code (ref: pending
    QR payment id), a report (ref: x:<day> or z:<number>) or the self-test page."""
    stall = settings.stall_settings(conn)
    if kind == "receipt":
        sale = sales.get_sale(conn, ref)
        invoice = tax_receipt.document_for_sale(conn, sale, lang=lang, copy=copy)
        if invoice is not None:  # sold in MTT mode: the e-invoice is the buyer's paper
            return invoice
        return receipts.receipt_document(sale, stall, settings.read(conn, "device_id") or "",
                                         lang=lang, copy=copy,
                                         server_url=settings.read(conn, "sync_server_url"))
    if kind == "bill":
        bill = qrpay.get(conn, ref)
        checked = sales.prepare_sale(conn, bill["request"])
        bill["lines"], bill["discount"] = checked["lines"], checked["discount"]
        return receipts.bill_document(bill, stall, lang=lang)
    if kind == "report":
        which, _, value = ref.partition(":")
        report = (daybook.z_report(conn, int(value)) if which == "z"
                  else daybook.day_report(conn, value))
        return reports.report_document(report, stall, lang=lang, printed_at=utc_timestamp())
    return reports.selftest_document(stall, paper, lang=lang)


PAPERS = ("58", "80", "A5", "A4")


def pdf_response_args(paper: str | None, lang: str | None, default_paper: str) -> tuple[str, str]:
    """Check the paper and language asked for a PDF download; raise InvalidInput otherwise."""
    paper = (paper or default_paper).upper().removesuffix("MM")
    if paper not in PAPERS:
        raise InvalidInput(_l("Paper must be 58, 80, A5 or A4."), field="width")
    lang = lang or "vi"
    if lang not in ("vi", "en"):
        raise InvalidInput(_l("Language must be vi or en."), field="lang")
    return paper, lang


def document_pdf(conn: sqlite3.Connection, kind: str, ref: str, *, copy: bool, lang: str,
                 paper: str) -> bytes:
    """A job's document as a PDF on the given paper, for download or the browser's print dialog;
    a roll as wide as the stall's printer prints on it."""
    return render_pdf(job_document(conn, kind, ref, copy=copy, lang=lang, paper=paper), paper,
                      PrinterConfig.load(conn).printable_for(paper))


def render_job(conn: sqlite3.Connection, job: Job) -> Rendered:
    """The print worker's renderer: the same document as PDF (for CUPS) and raster (ESC/POS)."""
    config = PrinterConfig.load(conn)
    doc = job_document(conn, job.kind, job.ref, copy=job.copy, lang=print_language(conn),
                       paper=config.paper)
    return Rendered(pdf=render_pdf(doc, config.paper, config.printable_mm),
                    raster=render_raster(doc, config.dots))
