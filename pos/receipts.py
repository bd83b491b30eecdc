"""Receipts: one sale as a paper document, printed as a PDF or as a raster image for ESC/POS.

A receipt is printed in the buyer's language, chosen at print time, so its words come from the
stall's catalogue with that language named (pos/paper_language.py), not the interface's.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from PIL import Image

from sync import checkcode
from sync.localtime import business_day, format_datetime, format_day
from sync.money import format_quantity, format_vnd
from .paper_language import decimal_mark, paper_translations
from .paper import (HUGE, LARGE, QR, SMALL, Block, Document, Item, Row, Rule, Space, Text,
                    Total, render_pdf, render_raster, small)

def words(lang: str) -> dict[str, Any]:
    """The words of a receipt or a bill in `lang` (en, else Vietnamese), from the stall's catalogue."""
    pgettext = paper_translations(lang).pgettext
    return {
        # Not an invoice, so it never says "hóa đơn" (issue 20): PHIẾU BÁN HÀNG in Vietnamese.
        # In MTT mode the paper is the e-invoice instead (pos/tax/receipt.py).
        "title": pgettext("paper", "SALES SLIP"),
        "copy": pgettext("paper", "COPY"),
        "voided": pgettext("paper", "VOIDED"),
        "reason": pgettext("paper", "Reason: {}"),
        "voided_at": pgettext("paper", "Voided at: {}"),
        "number": pgettext("paper", "No. {}"),
        "stall": pgettext("paper", "stall {}"),
        "phone": pgettext("paper", "Tel: {}"),
        "tax": pgettext("paper", "Tax code (MST): {}"),
        "total": pgettext("paper", "TOTAL"),
        "subtotal": pgettext("paper", "Goods"),
        "discount": pgettext("paper", "Discount ({})"),
        "list_price": pgettext("paper", "  listed at {}"),
        "cash": pgettext("paper", "Cash"),
        "tendered": pgettext("paper", "Tendered"),
        "change": pgettext("paper", "Change"),
        "qr": pgettext("paper", "Bank transfer"),
        "hash": pgettext("paper", "Check: {}"),
        "check_at": pgettext("paper", "Check it at {}"),
        "check_caption": pgettext("paper", "Scan to check this slip"),
        "pay_caption": pgettext("paper", "Scan to pay by bank transfer"),
        "thanks": pgettext("paper", "Thank you!"),
        "decimal": decimal_mark(lang),
        "qr_ref": pgettext("paper", "Transfer ref: {}"),
        "vendor_confirmed": pgettext("paper", "Confirmed by the vendor"),
        "bank_confirmed": pgettext("paper", "Confirmed by the bank"),
        "mismatch": pgettext("paper", "NOT MATCHED by the bank"),
        "bill_title": pgettext("paper", "BILL"),
        "unpaid": pgettext("paper", "NOT PAID YET"),
        "due_qr": pgettext("paper", "To pay by transfer"),
        "paid_cash": pgettext("paper", "Paid in cash"),
        "bank": pgettext("paper", "Bank: {}"),
        "account": pgettext("paper", "Account: {}"),
        "holder": pgettext("paper", "Holder: {}"),
        "write_ref": pgettext("paper", "Transfer message: {}"),
        "credit": pgettext("paper", "On credit"),
        "customer": pgettext("paper", "Customer: {}"),
        # The credit reminder slip (reminder_document)
        "reminder_title": pgettext("paper", "PAYMENT REMINDER"),
        "printed": pgettext("paper", "Printed: {}"),
        "owes": pgettext("paper", "OWES"),
        "since": pgettext("paper", "Owing since {}"),
        "latest": pgettext("paper", "Latest entries"),
        "entry_sale": pgettext("paper", "Bought on credit, no. {}"),
        "entry_repayment_cash": pgettext("paper", "Paid back in cash"),
        "entry_repayment_qr": pgettext("paper", "Paid back by transfer"),
        "entry_void": pgettext("paper", "Sale no. {} voided"),
        "entry_refund": pgettext("paper", "Goods returned, no. {}"),
        "repay_caption": pgettext("paper", "Scan to pay back by bank transfer"),
        # The grower's purchase slip (purchase_document)
        "purchase_title": pgettext("paper", "PURCHASE SLIP"),
        "seller": pgettext("paper", "Seller: {}"),
        "address": pgettext("paper", "Address: {}"),
        "paid_qr": pgettext("paper", "Paid by transfer"),
        "sign_seller": pgettext("paper", "Seller (signature)"),
        "sign_buyer": pgettext("paper", "Buyer (signature)"),
    }


def check_code(sale: dict[str, Any], device_id: str, server_url: str | None = None) -> str:
    """The verification QR text: enough to find the journal entry and check it was not altered.

    Once the stall is paired it is a link to the provincial server's public receipt check, so
    that any phone camera opens it; before that, the bare text (an inspector's tool reads it).
    """
    code = f"MP1;{sale['id']};{device_id};{sale['seq']};{sale['hash'][:16]};{sale['total']}"
    if server_url:
        return f"{server_url.rstrip('/')}/check?c={quote(code, safe=';')}"
    return code


def typed_check_code(sale: dict[str, Any], device_id: str) -> str | None:
    """The short code printed under the QR, which the server's /check takes when typed
    (sync/checkcode.py); None for a device id that cannot make one (never a real stall's)."""
    try:
        return checkcode.make(device_id, sale["seq"], sale["hash"])
    except ValueError:
        return None


def check_address(server_url: str) -> str:
    """Where to type the code, as short as a person can copy it: `tinh.example.vn/check`."""
    parts = urlsplit(server_url)
    return f"{parts.netloc}{parts.path.rstrip('/')}/check" if parts.netloc else ""


def stall_header(name: str, stall: dict[str, str], w: dict[str, str]) -> list[Block]:
    """Who sold: the buyer needs it to come back, and a tax inspector to know whose receipt."""
    blocks: list[Block] = [Text(name, HUGE, bold=True, align="center")]
    if stall.get("stall_name") and stall.get("vendor_name"):
        blocks.append(Text(stall["vendor_name"], align="center"))
    number = w["stall"].format(stall["stall_number"]) if stall.get("stall_number") else ""
    market = ", ".join(filter(None, [stall.get("market", ""), number]))
    place = ", ".join(filter(None, [stall.get("commune", ""), stall.get("province", "")]))
    for text in (market, place):
        if text:
            blocks.append(Text(text, align="center"))
    if stall.get("phone"):
        blocks.append(Text(w["phone"].format(stall["phone"]), align="center"))
    if stall.get("tax_code"):
        blocks.append(Text(w["tax"].format(stall["tax_code"]), align="center"))
    return blocks


def _payments(sale: dict[str, Any], w: dict[str, str]) -> list[Block]:
    """How it was paid; for cash, what was handed over and the change, to settle disputes."""
    blocks: list[Block] = []
    for payment in sale["payments"]:
        if payment["method"] == "cash":
            blocks.append(Row(w["cash"], format_vnd(payment["amount"])))
            if payment.get("tendered") is not None:
                blocks.append(Row(w["tendered"], format_vnd(payment["tendered"])))
                blocks.append(Row(w["change"], format_vnd(payment.get("change") or 0), bold=True))
        elif payment["method"] == "credit":   # on her account in the stall's credit book
            blocks.append(Row(w["credit"], format_vnd(payment["amount"]), bold=True))
            if payment.get("customer_name"):
                blocks.append(small(w["customer"].format(payment["customer_name"]),
                                    align="left"))
        else:
            blocks.append(Row(w["qr"], format_vnd(payment["amount"])))
            state = w.get(payment.get("state") or "vendor_confirmed", "")
            if payment.get("reference"):
                blocks.append(small(w["qr_ref"].format(payment["reference"]), align="left"))
            blocks.append(small(state, align="left"))
    return blocks


def _lines(lines: list[dict[str, Any]], discount: dict[str, Any] | None,
           w: dict[str, str]) -> list[Block]:
    """The goods: each line, its list price under it when it was haggled, then the discount."""
    blocks: list[Block] = []
    for line in lines:
        quantity = format_quantity(line["quantity_milli"], w["decimal"])
        blocks.append(Item(line["name"], f"{quantity} {line['unit']} × "
                           f"{format_vnd(line['unit_price'])}", format_vnd(line["amount"])))
        if line.get("list_price") is not None:
            blocks.append(small(w["list_price"].format(format_vnd(line["list_price"])),
                                align="left"))
    if discount:
        subtotal = sum(line["amount"] for line in lines)
        blocks += [Rule(), Row(w["subtotal"], format_vnd(subtotal)),
                   Row(w["discount"].format(discount["reason"]),
                       "−" + format_vnd(discount["amount"]))]
    return blocks


def receipt_document(sale: dict[str, Any], stall: dict[str, str], device_id: str, *,
                     lang: str = "vi", copy: bool = False,
                     qr_payload: str | None = None, server_url: str | None = None) -> Document:
    """The receipt of a sale (as returned by pos.sales.get_sale), independent of the paper.

    `lang` is "vi" or "en" (anything else prints Vietnamese); `qr_payload`, if given, replaces
    the verification code (check_code) with another QR, such as a VietQR for a balance due.
    """
    w = words(lang)
    name = stall.get("stall_name") or stall.get("vendor_name") or ""
    blocks = stall_header(name, stall, w)
    blocks += [Space(1.5), Text(w["title"], LARGE, bold=True, align="center")]
    if copy:
        blocks += [Space(1), Text(w["copy"], LARGE, bold=True, align="center", boxed=True)]
    if sale.get("status") == "voided" and sale.get("void"):
        void = sale["void"]
        blocks += [Space(1), Text(w["voided"], HUGE, bold=True, align="center", boxed=True),
                   Text(w["reason"].format(void.get("reason") or ""), align="center")]
        if void.get("at"):
            blocks.append(Text(w["voided_at"].format(format_datetime(void["at"])),
                               align="center"))
    blocks += [Space(1), Row(w["number"].format(sale["number"]), format_datetime(sale["at"])),
               Rule()]
    blocks += _lines(sale["lines"], sale.get("discount"), w)
    blocks += [Rule(dashed=False), Total(w["total"], format_vnd(sale["total"])), Rule()]
    blocks += _payments(sale, w)
    blocks.append(Space(3))
    if qr_payload:
        blocks.append(QR(qr_payload, caption=w["pay_caption"]))
    else:
        blocks.append(QR(check_code(sale, device_id, server_url), caption=w["check_caption"]))
    # The code to type when the QR cannot be scanned: one line, whole, however narrow the roll.
    typed = typed_check_code(sale, device_id)
    if typed:
        blocks += [Text(w["hash"].format("").strip(), align="center"),
                   Text(typed, LARGE, bold=True, align="center", one_line=True)]
    if typed and server_url and check_address(server_url):
        blocks += [small(w["check_at"].format("").strip()),
                   Text(check_address(server_url), SMALL, align="center", one_line=True)]
    blocks += [Space(2), Text(w["thanks"], LARGE, bold=True, align="center")]
    return Document(blocks, title=f"{w['title'].capitalize()} {sale['number']} – {name}")


def bill_document(bill: dict[str, Any], stall: dict[str, str], *,
                  lang: str = "vi") -> Document:
    """A bill not yet paid (a pending QR payment, pos/qrpay.py) carrying its dynamic VietQR code,
    so that the buyer can pay from the paper; its reference lets the vendor match the transfer."""
    w = words(lang)
    name = stall.get("stall_name") or stall.get("vendor_name") or ""
    blocks = stall_header(name, stall, w)
    blocks += [Space(1.5), Text(w["bill_title"], LARGE, bold=True, align="center"),
               Space(1), Text(w["unpaid"], LARGE, bold=True, align="center", boxed=True),
               Space(1), Row("", format_datetime(bill["created_at"])), Rule()]
    blocks += _lines(bill["lines"], bill.get("discount"), w)
    blocks += [Rule(dashed=False), Total(w["total"], format_vnd(bill["total"])), Rule()]
    if bill["total"] > bill["amount"]:
        blocks.append(Row(w["paid_cash"], format_vnd(bill["total"] - bill["amount"])))
    blocks += [Row(w["due_qr"], format_vnd(bill["amount"]), bold=True), Space(2),
               QR(bill["payload"], caption=w["pay_caption"]),
               Text(w["write_ref"].format(""), align="center"),
               Text(bill["reference"], HUGE, bold=True, align="center"),
               Text(w["bank"].format(bill["bank_name"]), align="center"),
               Text(w["account"].format(bill["account"]), align="center"),
               Text(w["holder"].format(bill["holder"]), align="center")]
    return Document(blocks, title=f"{w['bill_title'].capitalize()} {bill['reference']} – {name}")


def _entry_label(entry: dict[str, Any], w: dict[str, str]) -> str:
    """One line of her history as the slip says it: what, and which sale."""
    if entry["kind"] == "repayment":
        return w["entry_repayment_qr" if entry.get("method") == "qr" else "entry_repayment_cash"]
    return w[f"entry_{entry['kind']}"].format(entry.get("sale_number") or "")


def reminder_document(customer: dict[str, Any], stall: dict[str, str],
                      pending: dict[str, Any] | None, *, lang: str = "vi",
                      printed_at: str | None = None) -> Document:
    """A credit reminder for the buyer (pos/credit_book.py get_customer, with her latest
    entries): what she owes, since when, her last entries, and a dynamic VietQR code with the
    amount and a reference (`pending`, pos/qrpay.py create_repayment) so that the bank's
    notification lowers the debt by itself.

    Her name is printed whole: the slip is handed to her, and a name tells her (and whoever she
    passes it to at home) whose debt it is. Her phone number and the vendor's note never are:
    the paper leaves the stall, and they are not needed to pay."""
    w = words(lang)
    name = stall.get("stall_name") or stall.get("vendor_name") or ""
    blocks = stall_header(name, stall, w)
    blocks += [Space(1.5), Text(w["reminder_title"], LARGE, bold=True, align="center")]
    if printed_at:
        blocks.append(Text(w["printed"].format(format_datetime(printed_at)), align="center"))
    blocks += [Rule(), Text(w["customer"].format(customer["name"]), LARGE, bold=True),
               Total(w["owes"], format_vnd(customer["balance"]))]
    if customer.get("owing_since") and customer["balance"] > 0:
        blocks.append(Text(w["since"].format(format_day(business_day(customer["owing_since"])))))
    entries = customer.get("entries") or []
    if entries:
        blocks += [Rule(), Text(w["latest"], bold=True)]
        for entry in entries:
            sign = "+" if entry["amount"] > 0 else "−"
            blocks.append(Row(f"{format_datetime(entry['at'])[:5]} {_entry_label(entry, w)}",
                              sign + format_vnd(abs(entry["amount"]))))
    if pending:
        blocks += [Rule(), Row(w["due_qr"], format_vnd(pending["amount"]), bold=True), Space(2),
                   QR(pending["payload"], caption=w["repay_caption"]),
                   Text(w["write_ref"].format(""), align="center"),
                   Text(pending["reference"], HUGE, bold=True, align="center", one_line=True),
                   Text(w["bank"].format(pending["bank_name"]), align="center"),
                   Text(w["account"].format(pending["account"]), align="center"),
                   Text(w["holder"].format(pending["holder"]), align="center")]
    blocks += [Space(2), Text(w["thanks"], LARGE, bold=True, align="center")]
    return Document(blocks, title=f"{w['reminder_title'].capitalize()} – {customer['name']}")


def purchase_document(purchase: dict[str, Any], supplier: dict[str, Any],
                      stall: dict[str, str], *, lang: str = "vi") -> Document:
    """The slip a grower keeps (PHIẾU THU MUA, issue 19; docs/research/purchase_list.md): what
    was bought, the amount, how it was paid, and lines to sign. Her name and address are printed,
    her ID number never: the paper leaves the stall and the 02/TNDN list holds it."""
    w = words(lang)
    name = stall.get("stall_name") or stall.get("vendor_name") or ""
    blocks = stall_header(name, stall, w)
    blocks += [Space(1.5), Text(w["purchase_title"], LARGE, bold=True, align="center"),
               Space(1), Row(w["number"].format(purchase["number"]),
                             format_datetime(purchase["at"])), Rule(),
               Text(w["seller"].format(supplier["name"]), bold=True)]
    if supplier.get("address"):
        blocks.append(Text(w["address"].format(supplier["address"])))
    blocks.append(Rule())
    for line in purchase["lines"]:
        quantity = format_quantity(_milli(line["quantity"]), w["decimal"])
        blocks.append(Item(line["name"], f"{quantity} {line['unit']} × "
                           f"{format_vnd(line['unit_price'])}", format_vnd(line["amount"])))
    blocks += [Rule(dashed=False), Total(w["total"], format_vnd(purchase["total"])), Rule()]
    for payment in purchase["payments"]:
        blocks.append(Row(w["paid_cash"] if payment["method"] == "cash" else w["paid_qr"],
                          format_vnd(payment["amount"])))
    blocks += [Space(3), Row(w["sign_seller"], w["sign_buyer"]), Space(12)]
    return Document(blocks, title=f"{w['purchase_title'].capitalize()} {purchase['number']}")


def _milli(quantity: str) -> int:
    whole, _, frac = quantity.partition(".")
    return int(whole) * 1000 + int((frac + "000")[:3])


def receipt_pdf(sale: dict[str, Any], stall: dict[str, str], device_id: str, paper: str = "80",
                *, lang: str = "vi", copy: bool = False, qr_payload: str | None = None,
                printable_mm: float | None = None, server_url: str | None = None) -> bytes:
    """The receipt as a PDF for a 58/80 mm roll (`printable_mm` wide) or an A5/A4 sheet."""
    return render_pdf(receipt_document(sale, stall, device_id, lang=lang, copy=copy,
                                       qr_payload=qr_payload, server_url=server_url), paper,
                      printable_mm)


def receipt_raster(sale: dict[str, Any], stall: dict[str, str], device_id: str, dots: int = 576,
                   *, lang: str = "vi", copy: bool = False, qr_payload: str | None = None,
                   server_url: str | None = None) -> Image.Image:
    """The receipt as a 1-bit image `dots` wide (384 for 58 mm, 576 for 80 mm printers)."""
    return render_raster(receipt_document(sale, stall, device_id, lang=lang, copy=copy,
                                          qr_payload=qr_payload, server_url=server_url), dots)
