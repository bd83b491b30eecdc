"""What a print job prints: turns a queued job into the PDF and the raster of its page.

The print worker calls `render_job` from its own thread and connection, long after the sale was
committed, so everything is read back from the database, never passed from the request.
"""
from __future__ import annotations

import sqlite3

from flask_babel import lazy_gettext as _l

from . import credit_book, daybook, purchases, qrpay, receipts, reports, sales, settings
from sync.errors import InvalidInput
from sync.numbers import whole_number_or_none
from .tax import receipt as tax_receipt
from .paper import Document, render_pdf, render_raster
from .printing.backends import Rendered
from .printing.config import PrinterConfig
from .printing import queue as print_queue
from .printing.queue import Job
from sync.protocol import utc_timestamp

PRINT_LANG_KEY = "print_lang"
# The print queue's kinds are fixed by its table (receipt, report, selftest): a credit reminder
# slip and a grower's slip are queued as a report whose ref starts with one of these, and
# printed as the slip.
REMINDER_PREFIX = "reminder:"
PURCHASE_PREFIX = "purchase:"
REMINDER_ENTRIES = 5   # her latest entries on the slip


def print_language(conn: sqlite3.Connection) -> str:
    """The language of printed paper at this stall (Vietnamese unless set to English)."""
    return "en" if settings.read(conn, PRINT_LANG_KEY) == "en" else "vi"


def job_document(conn: sqlite3.Connection, kind: str, ref: str, *, copy: bool, lang: str,
                 paper: str) -> Document:
    """The document of a receipt (ref: sale id), an unpaid bill with its QR code (ref: pending
    QR payment id), a report (ref: x:<day> or z:<number>), a credit reminder (ref:
    <customer id>:<pending QR payment id or nothing>; queued as a report, ref reminder:…) or
    the self-test page."""
    stall = settings.stall_settings(conn)
    if kind == "report" and ref.startswith(REMINDER_PREFIX):
        kind, ref = "reminder", ref[len(REMINDER_PREFIX):]
    if kind == "report" and ref.startswith(PURCHASE_PREFIX):
        number = whole_number_or_none(ref[len(PURCHASE_PREFIX):])
        bought, grower = purchases.purchase_with_supplier(conn, number or 0)
        return receipts.purchase_document(bought, grower, stall, lang=lang)
    if kind == "reminder":
        return _reminder(conn, ref, stall, lang)
    if kind == "receipt":
        sale = sales.get_sale(conn, ref)
        invoice = tax_receipt.document_for_sale(conn, sale, lang=lang, copy=copy)
        if invoice is not None:  # sold in MTT mode: the e-invoice is the buyer's paper
            return invoice
        _name_customers(conn, sale)
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


def _name_customers(conn: sqlite3.Connection, sale: dict) -> None:
    """A credit payment prints whose account it went on (the buyer's own receipt)."""
    for payment in sale["payments"]:
        if payment["method"] == "credit":
            row = conn.execute("SELECT name FROM customers WHERE id = ?",
                               (payment["customer_id"],)).fetchone()
            payment["customer_name"] = row["name"] if row else ""


def _reminder(conn: sqlite3.Connection, ref: str, stall: dict, lang: str) -> Document:
    """A customer's reminder slip: her balance, her last entries, and the waiting code for the
    balance if it is still waiting (else the slip goes without a code)."""
    customer_id, _sep, pending_id = ref.partition(":")
    if not customer_id.isdigit():
        raise InvalidInput(_l("Unknown reminder."), field="ref")
    customer = credit_book.get_customer(conn, int(customer_id), limit=REMINDER_ENTRIES)
    pending = qrpay.get(conn, pending_id) if pending_id else None
    if pending is not None and (pending["state"] != "pending"
                                or pending["customer_id"] != customer["id"]):
        pending = None
    return receipts.reminder_document(customer, stall, pending, lang=lang,
                                      printed_at=utc_timestamp())


def enqueue_reminder(conn: sqlite3.Connection, ref: str) -> int:
    """Queue a reminder slip (ref: <customer id>:<pending id or nothing>) for the printer."""
    return print_queue.enqueue(conn, "report", REMINDER_PREFIX + ref)


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
