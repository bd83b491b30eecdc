"""The printer: its settings, state and queue, a self-test page, and printing a receipt or report."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import business_days, daybook, printouts, qrpay, sales, settings
from ..printing import queue as print_queue
from ..printing.config import BACKENDS, PrinterConfig
from ..printing.messages import message_text
from ..printing.status import printer_status
from ..db import get_db
from ..db import write_transaction
from sync.errors import AppError, InvalidInput
from sync.numbers import whole_number_or_none
from sync.protocol import utc_timestamp
from .guards import login_required, owner_required, safe_next

bp = Blueprint("printer", __name__)
FORM_FIELDS = ("backend", "cups_queue", "host", "port", "device", "paper", "printable_58",
               "printable_80", "stale_minutes")


def status_for_screen() -> dict[str, Any]:
    """The printer state with its message in the interface language."""
    status = printer_status(get_db())
    return {**status, "text": str(message_text(status["message"]))}


@bp.route("/printer", methods=["GET", "POST"])
@owner_required
def settings_page() -> Any:
    """Set up the printer, see its state and its waiting jobs."""
    conn = get_db()
    error, status = None, 200
    config = PrinterConfig.load(conn)
    values = {field: getattr(config, field) for field in FORM_FIELDS}
    values["auto_print"] = config.auto_print
    if request.method == "POST":
        values = {field: request.form.get(field, "") for field in FORM_FIELDS}
        values["auto_print"] = "1" if request.form.get("auto_print") else "0"
        try:
            if request.form.get("print_lang") not in ("vi", "en"):
                raise InvalidInput(_("Choose the language of printed paper."))
            PrinterConfig.save(conn, values)
            with write_transaction(conn):
                settings.write(conn, printouts.PRINT_LANG_KEY, request.form["print_lang"])
        except AppError as exc:
            error, status = str(exc.message), exc.status
        else:
            flash(_("Printer settings saved."))
            return redirect(url_for("printer.settings_page"))
    jobs = [{**job.__dict__, "error_text": str(message_text(job.last_error))
             if job.last_error else ""} for job in print_queue.list_jobs(conn, 15)]
    return render_template("pos/printer.html", values=values, error=error, jobs=jobs,
                           printer=status_for_screen(), backends=BACKENDS,
                           print_lang=printouts.print_language(conn)), status


@bp.post("/printer/test")
@owner_required
def self_test() -> Any:
    """Queue the self-test page."""
    conn = get_db()
    if PrinterConfig.load(conn).backend == "none":
        return redirect(url_for("printer.selftest_pdf"))
    print_queue.enqueue(conn, "selftest")
    flash(_("Test page sent to the printer."))
    return redirect(url_for("printer.settings_page"))


@bp.get("/printer/test.pdf")
@login_required
def selftest_pdf() -> Any:
    """The self-test page as a PDF, for the browser's print dialog."""
    conn = get_db()
    paper = PrinterConfig.load(conn).paper
    return _pdf(printouts.document_pdf(conn, "selftest", "", copy=False,
                                       lang=printouts.print_language(conn), paper=paper),
                "selftest.pdf")


@bp.post("/printer/jobs/<int:job_id>/<action>")
@login_required
def job_action(job_id: int, action: str) -> Any:
    """Print a held job after all, try a failed one again, or cancel one."""
    actions = {"release": print_queue.release, "retry": print_queue.retry,
               "cancel": print_queue.cancel}
    if action not in actions:
        raise InvalidInput(_("Unknown action."))
    actions[action](get_db(), job_id)
    return redirect(request.referrer or url_for("sell.index"))


def _pdf(data: bytes, name: str) -> Response:
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}"'})


@bp.post("/sales/<sale_id>/print")
@login_required
def print_sale(sale_id: str) -> Any:
    """Print the receipt (a reprint is marked as a copy); without a printer, open the PDF."""
    conn = get_db()
    sales.get_sale(conn, sale_id)
    copy = request.form.get("copy") == "1"
    if PrinterConfig.load(conn).backend == "none":
        return redirect(url_for("printer.print_view", sale_id=sale_id, copy=int(copy)))
    print_queue.enqueue(conn, "receipt", sale_id, copy=copy)
    flash(_("Receipt sent to the printer."))
    return redirect(url_for("sales.detail", sale_id=sale_id))


@bp.get("/sales/<sale_id>/print-view")
@login_required
def print_view(sale_id: str) -> Any:
    """Without a printer: show the receipt PDF and open the browser's print dialog on it."""
    sales.get_sale(get_db(), sale_id)
    pdf_url = url_for("printer.receipt_pdf", sale_id=sale_id,
                      copy="1" if request.args.get("copy") == "1" else "0")
    back = safe_next(request.args.get("back"), url_for("sales.detail", sale_id=sale_id))
    return render_template("pos/print_view.html", pdf_url=pdf_url, back=back)


@bp.get("/qr/<pending_id>/print-view")
@login_required
def bill_print_view(pending_id: str) -> Any:
    """An unpaid bill with its transfer code, for the browser's print dialog."""
    qrpay.get(get_db(), pending_id)
    pdf_url = url_for("api_qr.qr_payment_bill", pending_id=pending_id)
    return render_template("pos/print_view.html", pdf_url=pdf_url,
                           back=safe_next(request.args.get("back"), url_for("sell.index")))


@bp.get("/sales/<sale_id>/receipt.pdf")
@login_required
def receipt_pdf(sale_id: str) -> Any:
    """The receipt as a PDF on the stall's paper (or ?width=), for viewing or the browser print."""
    conn = get_db()
    sales.get_sale(conn, sale_id)
    paper, lang = printouts.pdf_response_args(request.args.get("width"), request.args.get("lang")
                                              or printouts.print_language(conn),
                                              PrinterConfig.load(conn).paper)
    return _pdf(printouts.document_pdf(conn, "receipt", sale_id,
                                       copy=request.args.get("copy") == "1", lang=lang,
                                       paper=paper), f"receipt-{sale_id}.pdf")


@bp.get("/day/report.pdf")
@owner_required
def report_pdf() -> Any:
    """The X report (?day=) or a Z report (?z=) as a PDF: 58/80 mm roll or A4, vi or en."""
    conn = get_db()
    paper, lang = printouts.pdf_response_args(request.args.get("paper"), request.args.get("lang")
                                              or printouts.print_language(conn),
                                              PrinterConfig.load(conn).paper)
    ref = _report_ref(conn)
    return _pdf(printouts.document_pdf(conn, "report", ref, copy=False, lang=lang, paper=paper),
                f"report-{ref.replace(':', '-')}.pdf")


@bp.post("/day/report/print")
@owner_required
def print_report() -> Any:
    """Send the X or Z report to the printer (or open its PDF without one)."""
    conn = get_db()
    ref = _report_ref(conn)
    if PrinterConfig.load(conn).backend == "none":
        which, _sep, value = ref.partition(":")
        return redirect(url_for("printer.report_pdf", **{"z" if which == "z" else "day": value}))
    print_queue.enqueue(conn, "report", ref)
    flash(_("Report sent to the printer."))
    return redirect(request.referrer or url_for("sales.day"))


def _report_ref(conn: Any) -> str:
    """x:<day> or z:<number> from the request, checked."""
    z = request.values.get("z")
    if z:
        number = whole_number_or_none(z)
        if number is None or number < 1:
            raise InvalidInput(_("Unknown report."))
        daybook.z_report(conn, number)  # 404 for an unknown number
        return f"z:{number}"
    day = request.values.get("day") or business_days.current_business_day(conn, utc_timestamp())
    try:
        date.fromisoformat(day)
    except ValueError:
        raise InvalidInput(_("Unknown report."))
    return f"x:{day}"
