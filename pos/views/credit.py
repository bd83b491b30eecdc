"""The credit book's pages (sổ nợ, issue 18): who owes, one customer's balance and history,
taking a repayment in cash or by a VietQR code, the owner's edit, and the reminder (a page to show
the buyer and a slip to print, with a code for the balance).

The book itself is pos/credit_book.py (the JSON API is api_credit.py); these pages call it and
pos/qrpay.py the same way, and show every refusal as the app's own message on the page. The
blueprint is nested in the sell screen's (pos/views/sell.py): selling on credit starts there.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import (Blueprint, Response, current_app, flash, redirect, render_template, request,
                   session, url_for)
from flask_babel import gettext as _

from .. import credit_book, printouts, qrpay
from ..db import get_db
from ..printing.config import PrinterConfig
from sync.errors import AppError, Conflict, InvalidInput, NotFound
from sync.localtime import business_day, today
from sync.money import format_number
from . import sync as sync_view
from .guards import is_owner_now, login_required, owner_required, safe_next

bp = Blueprint("credit", __name__, url_prefix="/credit")
HISTORY = 100          # entries on a customer's page
REMINDER_ENTRIES = 5   # her last entries on the reminder (page and slip)


def _role() -> str:
    return str(session.get("role") or "helper")


def _amount(text: str | None) -> str:
    """Let people type 200.000 or 200 000 as they read it (the number pad gives digits)."""
    return (text or "").replace(".", "").replace(" ", "").strip()


def _since(customer: dict[str, Any]) -> dict[str, Any]:
    """Her debt's first day (Vietnam) and how many days ago it was, for the list and the page."""
    owing = customer.get("owing_since")
    if not owing or customer["balance"] <= 0:
        return {**customer, "since": None, "days": None}
    day = business_day(owing)
    return {**customer, "since": day,
            "days": (date.fromisoformat(today()) - date.fromisoformat(day)).days}


def _paired() -> bool:
    """While a code waits, the page asks the province for the bank's word now and then."""
    return bool(sync_view.current_screen_state().get("paired"))


def _customer(conn: Any, customer_id: int, **kwargs: Any) -> dict[str, Any]:
    return _since(credit_book.get_customer(conn, customer_id, **kwargs))


@bp.route("/")
@login_required
def book() -> Any:
    """Everyone who owes, the oldest debt first; or the customers a search finds."""
    conn = get_db()
    query = (request.args.get("q") or "").strip()[:100]
    found = credit_book.find_customers(conn, query, limit=100) if query else \
        credit_book.debtors(conn)
    owing = conn.execute("SELECT COUNT(*), IFNULL(SUM(balance), 0) FROM customers"
                         " WHERE balance > 0").fetchone()
    return render_template("pos/credit_book.html", customers=[_since(c) for c in found],
                           query=query, owing_count=owing[0], owing_total=owing[1])


def _customer_page(conn: Any, customer_id: int, *, error: str | None = None,
                   amount: str = "") -> str:
    return render_template("pos/credit_customer.html",
                           customer=_customer(conn, customer_id, limit=HISTORY),
                           waiting=qrpay.list_pending(conn, customer_id),
                           can_edit=is_owner_now(), error=error, amount=amount)


@bp.route("/<int:customer_id>")
@login_required
def customer(customer_id: int) -> Any:
    """Her balance, large, her history, "Trả nợ" and the reminder."""
    return _customer_page(get_db(), customer_id)


@bp.post("/<int:customer_id>/repay")
@login_required
def repay(customer_id: int) -> Any:
    """Take a repayment: cash now (never more than she owes), or a VietQR code for the amount
    (her whole debt when none is typed), recorded when the money comes."""
    conn = get_db()
    row = credit_book.require_customer(conn, customer_id)
    typed = request.form.get("amount", "")
    method = request.form.get("method")
    try:
        amount = _amount(typed)
        if method == "qr":
            if not amount and row["balance"] <= 0:
                raise Conflict(_("%(name)s owes nothing now.", name=row["name"]),
                               code="nothing_owed")
            pending = qrpay.create_repayment(conn, customer_id, {
                "method": "qr", "amount": amount or row["balance"]}, _role())
            return redirect(url_for(".qr", customer_id=customer_id, pending_id=pending["id"]))
        if method != "cash":
            raise InvalidInput(_("Choose cash or transfer."), field="method")
        if not amount:
            raise InvalidInput(_("Tap the amount she pays back."), field="amount")
        done = credit_book.repay(conn, current_app.config["DEVICE_ID"], customer_id,
                                 {"method": "cash", "amount": amount}, _role())
    except AppError as exc:
        return _customer_page(conn, customer_id, error=str(exc.message), amount=typed), \
            exc.status
    flash(_("Received %(amount)s ₫ in cash. %(name)s still owes %(balance)s ₫.",
            amount=format_number(done["amount"]), name=row["name"],
            balance=format_number(done["balance"])))
    return redirect(url_for(".customer", customer_id=customer_id))


@bp.route("/<int:customer_id>/edit", methods=["GET", "POST"])
@owner_required
def edit(customer_id: int) -> Any:
    """The owner's: name, phone, note, credit limit, and hiding her from the sell screen."""
    conn = get_db()
    current = credit_book.get_customer(conn, customer_id, entries=False)
    form = {"name": current["name"], "phone": current["phone"] or "",
            "note": current["note"] or "", "credit_limit": "" if current["credit_limit"] is None
            else str(current["credit_limit"]), "hidden": not current["active"]}
    error, status = None, 200
    if request.method == "POST":
        form = {key: request.form.get(key, "") for key in ("name", "phone", "note",
                                                           "credit_limit")}
        form["hidden"] = request.form.get("hidden") == "1"
        try:
            if not form["name"].strip():   # the book's own message would name a product's field
                raise InvalidInput(_("Type the customer's name."), field="name")
            credit_book.update_customer(conn, current_app.config["DEVICE_ID"], customer_id, {
                "name": form["name"], "phone": form["phone"], "note": form["note"],
                "credit_limit": _amount(form["credit_limit"]) or None,
                "active": not form["hidden"]})
        except AppError as exc:
            error, status = str(exc.message), exc.status
        else:
            flash(_("Saved."))
            return redirect(url_for(".customer", customer_id=customer_id))
    return render_template("pos/credit_edit.html", customer=current, form=form,
                           error=error), status


# --- "Trả nợ" by transfer: the code full-screen, until the vendor's tap or the bank's word -----

def _pending(conn: Any, customer_id: int, pending_id: str) -> dict[str, Any]:
    """One of her repayment codes (another customer's, or a sale's, is not found here)."""
    pending = qrpay.get(conn, pending_id)
    if pending["customer_id"] != customer_id:
        raise NotFound(_("No such QR payment."), code="unknown_qr_payment")
    return pending


def _received(conn: Any, customer_id: int, pending: dict[str, Any]) -> None:
    row = credit_book.require_customer(conn, customer_id)
    flash(_("Transfer of %(amount)s ₫ received. %(name)s still owes %(balance)s ₫.",
            amount=format_number(pending["amount"]), name=row["name"],
            balance=format_number(row["balance"])))


def _qr_page(conn: Any, customer_id: int, pending: dict[str, Any], *,
             error: str | None = None) -> str:
    mismatch = pending.get("mismatch")
    problem = None
    if mismatch and mismatch.get("bank_amount") is not None:
        problem = _("The bank received %(paid)s ₫ instead of %(due)s ₫: nothing was recorded."
                    " Check your bank.", paid=format_number(mismatch["bank_amount"]),
                    due=format_number(pending["amount"]))
    return render_template("pos/credit_qr.html", pending=pending, error=error or problem,
                           customer=credit_book.get_customer(conn, customer_id, entries=False),
                           paired=_paired())


@bp.get("/<int:customer_id>/qr/<pending_id>")
@login_required
def qr(customer_id: int, pending_id: str) -> Any:
    """The code, the amount and the reference, large; a reload shows it again."""
    conn = get_db()
    pending = _pending(conn, customer_id, pending_id)
    if pending["state"] == "recorded":
        _received(conn, customer_id, pending)
    if pending["state"] != "pending":
        return redirect(url_for(".customer", customer_id=customer_id))
    return _qr_page(conn, customer_id, pending)


@bp.post("/<int:customer_id>/qr/<pending_id>/confirm")
@login_required
def qr_confirm(customer_id: int, pending_id: str) -> Any:
    """The vendor saw the money in HER bank: record the repayment (once)."""
    conn = get_db()
    pending = _pending(conn, customer_id, pending_id)
    try:
        qrpay.confirm(conn, current_app.config["DEVICE_ID"], pending_id)
    except AppError as exc:
        return _qr_page(conn, customer_id, pending, error=str(exc.message)), exc.status
    _received(conn, customer_id, pending)
    return redirect(url_for(".customer", customer_id=customer_id))


@bp.post("/<int:customer_id>/qr/<pending_id>/cancel")
@login_required
def qr_cancel(customer_id: int, pending_id: str) -> Any:
    """She will not transfer after all: drop the code (if the bank was faster, say so)."""
    conn = get_db()
    pending = _pending(conn, customer_id, pending_id)
    try:
        qrpay.cancel(conn, pending_id)
    except Conflict:
        _received(conn, customer_id, pending)
    return redirect(url_for(".customer", customer_id=customer_id))


# --- the reminder: a page to show her and a slip to print, with a code for her balance ---------

def reminder_code(conn: Any, customer: dict[str, Any]) -> dict[str, Any] | None:
    """A waiting code for her whole balance: one made before for that amount (a slip already
    handed out keeps working), else a new one; None without a bank account (the reminder goes
    without a code)."""
    for pending in qrpay.list_pending(conn, customer["id"]):
        if pending["amount"] == customer["balance"]:
            return pending
    try:
        return qrpay.create_repayment(conn, customer["id"], {
            "method": "qr", "amount": customer["balance"]}, _role())
    except AppError as exc:
        if exc.code in ("no_bank_account", "amount_too_large"):
            return None
        raise


def _reminder_pending(conn: Any, customer_id: int) -> dict[str, Any] | None:
    """The code named by ?code= (or the form's), if it is hers and still waiting."""
    pending_id = request.values.get("code")
    if not pending_id:
        return None
    pending = _pending(conn, customer_id, pending_id)
    return pending if pending["state"] == "pending" else None


@bp.post("/<int:customer_id>/reminder")
@login_required
def make_reminder(customer_id: int) -> Any:
    """Make (or reuse) the code for her balance, then show the reminder."""
    conn = get_db()
    customer = credit_book.get_customer(conn, customer_id, entries=False)
    if customer["balance"] <= 0:
        flash(_("%(name)s owes nothing now.", name=customer["name"]))
        return redirect(url_for(".customer", customer_id=customer_id))
    pending = reminder_code(conn, customer)
    return redirect(url_for(".reminder", customer_id=customer_id,
                            **({"code": pending["id"]} if pending else {})))


@bp.get("/<int:customer_id>/reminder")
@login_required
def reminder(customer_id: int) -> Any:
    """What she owes, her last entries and the code for the balance: to show her on screen."""
    conn = get_db()
    pending = _reminder_pending(conn, customer_id)
    return render_template("pos/credit_reminder.html", pending=pending,
                           customer=_customer(conn, customer_id, limit=REMINDER_ENTRIES),
                           code_id=pending["id"] if pending else None, paired=_paired())


def _slip_ref(customer_id: int, pending: dict[str, Any] | None) -> str:
    return f"{customer_id}:{pending['id'] if pending else ''}"


@bp.get("/<int:customer_id>/reminder.pdf")
@login_required
def reminder_pdf(customer_id: int) -> Any:
    """The reminder slip as a PDF (the stall's roll, or ?width=58|80|A5|A4; ?lang=vi|en)."""
    conn = get_db()
    credit_book.require_customer(conn, customer_id)
    pending = _reminder_pending(conn, customer_id)
    paper, lang = printouts.pdf_response_args(request.args.get("width"), request.args.get("lang")
                                              or printouts.print_language(conn),
                                              PrinterConfig.load(conn).paper)
    pdf = printouts.document_pdf(conn, "reminder", _slip_ref(customer_id, pending), copy=False,
                                 lang=lang, paper=paper)
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="reminder-{customer_id}.pdf"'})


@bp.post("/<int:customer_id>/reminder/print")
@login_required
def print_reminder(customer_id: int) -> Any:
    """Send the slip to the printer; without one, open it for the browser's print dialog."""
    conn = get_db()
    credit_book.require_customer(conn, customer_id)
    pending = _reminder_pending(conn, customer_id)
    code = {"code": pending["id"]} if pending else {}
    if PrinterConfig.load(conn).backend == "none":
        return redirect(url_for(".reminder_print_view", customer_id=customer_id, **code))
    printouts.enqueue_reminder(conn, _slip_ref(customer_id, pending))
    flash(_("Reminder sent to the printer."))
    return redirect(url_for(".reminder", customer_id=customer_id, **code))


@bp.get("/<int:customer_id>/reminder/print-view")
@login_required
def reminder_print_view(customer_id: int) -> Any:
    """Without a printer: the slip's PDF and the browser's print dialog."""
    conn = get_db()
    credit_book.require_customer(conn, customer_id)
    pending = _reminder_pending(conn, customer_id)
    code = {"code": pending["id"]} if pending else {}
    back = url_for(".reminder", customer_id=customer_id, **code)
    return render_template("pos/print_view.html", back=safe_next(back),
                           pdf_url=url_for(".reminder_pdf", customer_id=customer_id, **code))

