"""The JSON API of QR transfers: pending codes, confirming, the bank's word, receiving accounts.

Their own blueprint under /api, with the same authentication as pos/views/api.py (a bearer
token, or an unlocked session with its CSRF token: api_base.authenticate).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask_babel import gettext as _

from .. import bank_accounts, bankcheck, printouts, qrpay, statement, vietqr
from ..printing import queue as print_queue
from ..printing.config import PrinterConfig
from ..db import get_db
from sync.errors import InvalidInput
from .api_base import authenticate, json_object, read_json, require_owner

bp = Blueprint("api_qr", __name__, url_prefix="/api")
bp.before_request(authenticate)


def _device_id() -> str:
    return current_app.config["DEVICE_ID"]


@bp.post("/qr-payments")
def create_qr_payment() -> Any:
    """Show a dynamic VietQR code for a sale: checked, with a reference, pending until confirmed."""
    return jsonify(qrpay.create(get_db(), read_json(), created_by=g.api_role,
                                 owner=g.api_owner)), 201


@bp.get("/qr-payments")
def list_qr_payments() -> Any:
    """Codes still waiting for the buyer's transfer (they survive a restart)."""
    return jsonify({"qr_payments": qrpay.list_pending(get_db())})


@bp.get("/qr-payments/<pending_id>")
def get_qr_payment(pending_id: str) -> Any:
    """One code: pending, recorded (by the vendor or the bank) or cancelled, and any mismatch."""
    return jsonify(qrpay.get(get_db(), pending_id))


@bp.post("/qr-payments/<pending_id>/confirm")
def confirm_qr_payment(pending_id: str) -> Any:
    """The vendor saw the money in her bank: record the sale (once, however often it is sent)."""
    conn = get_db()
    sale, created = qrpay.confirm(conn, _device_id(), pending_id)
    if created and "customer_id" not in sale:   # a sale's receipt (not a repayment's)
        print_queue.enqueue_receipt_if_auto(conn, sale["id"])
    return jsonify(sale), 201 if created else 200


@bp.post("/qr-payments/<pending_id>/cancel")
def cancel_qr_payment(pending_id: str) -> Any:
    """The buyer will not transfer: drop the code, record nothing."""
    return jsonify(qrpay.cancel(get_db(), pending_id))


@bp.post("/qr-payments/<pending_id>/park")
def park_qr_payment(pending_id: str) -> Any:
    """Set a code aside while the buyer fetches her phone: the sell screen serves the next
    customer, and the bank's notification still records the sale."""
    return jsonify(qrpay.set_parked(get_db(), pending_id, True))


@bp.post("/qr-payments/<pending_id>/resume")
def resume_qr_payment(pending_id: str) -> Any:
    """Bring a parked code back to the screen (a reload then shows it again)."""
    return jsonify(qrpay.set_parked(get_db(), pending_id, False))


@bp.get("/qr-payments/<pending_id>/qr.svg")
def qr_payment_image(pending_id: str) -> Any:
    """The code as an SVG image for the screen."""
    pending = qrpay.get(get_db(), pending_id)
    return Response(vietqr.render_svg(pending["payload"]), mimetype="image/svg+xml",
                    headers={"Cache-Control": "private, max-age=3600"})


@bp.get("/qr-payments/<pending_id>/bill.pdf")
def qr_payment_bill(pending_id: str) -> Any:
    """The unpaid bill with its code, to print for a buyer who pays from the paper."""
    conn = get_db()
    qrpay.get(conn, pending_id)  # 404 before any rendering
    paper, lang = printouts.pdf_response_args(request.args.get("width"), request.args.get("lang"),
                                              PrinterConfig.load(conn).paper)
    pdf = printouts.document_pdf(conn, "bill", pending_id, copy=False, lang=lang, paper=paper)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="bill-{pending_id}.pdf"'})


@bp.get("/bank-accounts")
def list_bank_accounts() -> Any:
    """The receiving accounts, the default first."""
    return jsonify({"bank_accounts": bank_accounts.list_accounts(get_db())})


@bp.post("/bank-accounts")
def add_bank_account() -> Any:
    """Add a receiving account (owner)."""
    require_owner()
    body = json_object()
    for key in ("is_card", "default"):
        if not isinstance(body.get(key, False), bool):
            raise InvalidInput(_("%(name)s must be true or false.", name=key), field=key)
    account = bank_accounts.add_account(get_db(), body.get("bank_bin"), body.get("account"),
                                        body.get("holder"), is_card=body.get("is_card", False),
                                        make_default=body.get("default", False))
    return jsonify(account), 201


@bp.get("/bank/checks")
def bank_checks() -> Any:
    """What the bank said about QR payments, newest first (mismatches to look at)."""
    return jsonify({"checks": bankcheck.open_mismatches(get_db(), limit=100)})


@bp.post("/bank/statement")
def import_statement() -> Any:
    """Reconcile QR payments from a bank statement CSV (the body, or a file field `statement`)."""
    require_owner()
    upload = request.files.get("statement")
    data = upload.read(statement.MAX_BYTES + 1) if upload else request.get_data(cache=False)
    return jsonify(reconcile(data)), 200


def reconcile(data: bytes) -> dict[str, Any]:
    """Apply every incoming transfer of a statement; counts by outcome, and the rows that need a
    look (mismatches). Shared by the API and the settings page."""
    conn = get_db()
    try:
        rows = list(statement.read_statement(data))
    except statement.StatementError as exc:
        messages = {
            "too_large": _("The file is larger than 2 MB."),
            "not_text": _("This is not a CSV file. Export the statement as CSV."),
            "not_csv": _("This is not a CSV file. Export the statement as CSV."),
            "empty": _("The file is empty."),
            "no_columns": _("The first row must name the columns; an amount (credit) column and"
                            " a description column are needed."),
            "too_many_rows": _("The file has too many rows (at most 20,000)."),
            "bad_amount": _("An amount in the file is too large: amounts are whole đồng,"
                            " such as 200.000."),
        }
        raise InvalidInput(messages.get(exc.code, str(exc)), field="statement",
                           code=f"statement_{exc.code}") from None
    counts = {"bank_confirmed": 0, "mismatch": 0, "duplicate": 0, "not_ours": 0}
    problems, recorded = [], 0
    for row in rows:
        result = bankcheck.apply(conn, _device_id(), row.transaction, "statement", ours_only=True)
        counts[result.state] += 1
        recorded += result.recorded_sale
        if result.state == "mismatch":
            problems.append({"line": row.line, "reference": result.reference,
                             "reason": result.reason, "amount": row.transaction.amount,
                             "description": row.transaction.description})
    return {"rows": len(rows), "counts": counts, "mismatches": problems,
            "recorded_sales": recorded}
