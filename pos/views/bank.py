"""The owner's bank page: receiving accounts, the printed QR standee, and statement import."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from .. import bank_accounts, bankcheck, settings, standee
from ..db import get_db
from sync.errors import AppError, InvalidInput
from .api_qr import reconcile
from .guards import owner_required

bp = Blueprint("bank", __name__, url_prefix="/settings/bank")


def _reason_texts() -> dict[str, str]:
    return {"underpaid": _("paid less than the code asked"),
            "overpaid": _("paid more than the code asked"),
            "paid_twice": _("paid twice"),
            "unknown_reference": _("no QR payment of this stall has this reference")}


def _page(result: dict[str, Any] | None = None, error: str | None = None,
          status: int = 200) -> Any:
    conn = get_db()
    return render_template("pos/bank.html", accounts=bank_accounts.list_accounts(conn),
                           banks=bank_accounts.banks_by_name(), result=result, error=error,
                           mismatches=bankcheck.open_mismatches(conn),
                           reasons=_reason_texts(), form=request.form), status


@bp.get("")
@owner_required
def page() -> Any:
    """The accounts, the standee links, the statement form and recent mismatches."""
    return _page()


@bp.post("")
@owner_required
def change() -> Any:
    """Add an account, make one the default, or stop using one."""
    conn = get_db()
    form = request.form
    try:
        action = form.get("action")
        if action == "add":
            bank_accounts.add_account(conn, form.get("bank_bin"), form.get("account"),
                                      form.get("holder"), is_card=form.get("is_card") == "1",
                                      make_default=form.get("default") == "1")
            flash(_("Bank account saved."))
        elif action in ("default", "remove"):
            try:
                account_id = int(form.get("account_id", ""))
            except ValueError:
                raise InvalidInput(_("Choose an account."), field="account_id") from None
            if action == "default":
                bank_accounts.set_default(conn, account_id)
                flash(_("This account now receives QR payments."))
            else:
                bank_accounts.remove_account(conn, account_id)
                flash(_("Bank account removed."))
        else:
            raise InvalidInput(_("Unknown action."))
    except AppError as exc:
        return _page(error=str(exc.message), status=exc.status)
    return redirect(url_for("bank.page"))


@bp.post("/statement")
@owner_required
def statement() -> Any:
    """Reconcile QR payments with a bank statement CSV, offline."""
    upload = request.files.get("statement")
    if upload is None or not upload.filename:
        return _page(error=_("Choose the statement file (CSV) first."), status=400)
    try:
        result = reconcile(upload.read())
    except AppError as exc:
        return _page(error=str(exc.message), status=exc.status)
    return _page(result=result)


@bp.get("/<int:account_id>/standee.pdf")
@owner_required
def standee_pdf(account_id: int) -> Any:
    """The A6 card with the stall's static code, to print and stand on the stall."""
    conn = get_db()
    account = bank_accounts.get_account(conn, account_id)
    lang = "en" if str(get_locale()) == "en" else "vi"
    pdf = standee.standee_pdf(account, settings.stall_settings(conn), lang=lang)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": 'inline; filename="vietqr-stall.pdf"'})
