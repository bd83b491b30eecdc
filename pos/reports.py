"""Printed day reports (X: the day so far; Z: the closed day) and the printer's self-test page.

Like receipts, a report is a paper document in the language the vendor prints it in
(pos/paper_language.py). The figures come from pos.daybook; a Z prints what its entry froze.
"""
from __future__ import annotations

from typing import Any

from sync.localtime import format_datetime, format_day
from sync.money import format_vnd
from .paper_language import paper_translations
from .paper import HUGE, LARGE, Block, Document, Row, Rule, Space, Text, Total, small
from .receipts import stall_header

def words(lang: str) -> dict[str, Any]:
    """The words of an X/Z report or the self-test page in `lang` (en, else Vietnamese), from the stall's catalogue."""
    pgettext = paper_translations(lang).pgettext
    return {
        "x": pgettext("paper", "X REPORT (DAY SO FAR)"),
        "z": pgettext("paper", "Z REPORT NO. {}"),
        "day": pgettext("paper", "Business day: {}"),
        "printed": pgettext("paper", "Printed: {}"),
        "closed": pgettext("paper", "Closed: {}"),
        "sales": pgettext("paper", "Sales"),
        "revenue": pgettext("paper", "REVENUE"),
        "cash": pgettext("paper", "Cash ({})"),
        "qr": pgettext("paper", "Bank transfer ({})"),
        "bank": pgettext("paper", "  bank-confirmed ({})"),
        "vendor": pgettext("paper", "  vendor-confirmed only ({})"),
        "mismatch": pgettext("paper", "  mismatched ({})"),
        "voids": pgettext("paper", "Voided sales ({})"),
        "discounts": pgettext("paper", "Discounts ({})"),
        "refunds": pgettext("paper", "Refunds ({})"),
        "refunded_cash": pgettext("paper", "− Refunded in cash"),
        "price_changes": pgettext("paper", "Below list price ({})"),
        "drawer": pgettext("paper", "CASH DRAWER"),
        "float": pgettext("paper", "Opening float"),
        "tendered": pgettext("paper", "+ Cash received"),
        "change": pgettext("paper", "− Change given"),
        "in": pgettext("paper", "+ Cash in"),
        "out": pgettext("paper", "− Cash out"),
        "expected": pgettext("paper", "Expected in drawer"),
        "counted": pgettext("paper", "Counted"),
        "difference": pgettext("paper", "Difference"),
        "entry": pgettext("paper", "Entry {} · {}"),
        "selftest": pgettext("paper", "PRINTER SELF-TEST"),
        # Printed as it is in every language: it tests the printer's diacritics.
        "selftest_line": "Đơn giá • Thành tiền • Cảm ơn quý khách",
        "selftest_ok": pgettext("paper", "The printer works."),
        "stall": pgettext("paper", "stall {}"),
        "phone": pgettext("paper", "Tel: {}"),
        "qr_check": pgettext("paper", "TRANSFERS TO CHECK"),
        "qr_line": pgettext("paper", "No. {} · {}"),
        "state_vendor_confirmed": pgettext("paper", "vendor-confirmed"),
        "state_mismatch": pgettext("paper", "mismatched"),
        "bank_line": pgettext("paper", "{} · received {}"),
        "reason_underpaid": pgettext("paper", "underpaid"),
        "reason_overpaid": pgettext("paper", "overpaid"),
        "reason_paid_twice": pgettext("paper", "paid twice"),
        "reason_unknown_reference": pgettext("paper", "unknown reference"),
        "tax": pgettext("paper", "Tax code (MST): {}"),
        "credit_sales": pgettext("paper", "Sales on credit ({})"),
        "credit_repaid": pgettext("paper", "Credit repaid ({})"),
        "repaid_in_cash": pgettext("paper", "  in cash"),
        "repaid_by_qr": pgettext("paper", "  by transfer"),
        "repaid_cash": pgettext("paper", "+ Credit repaid in cash"),
        "purchases": pgettext("paper", "Bought from growers ({})"),
        "purchases_cash": pgettext("paper", "− Paid to growers in cash"),
    }


def report_document(report: dict[str, Any], stall: dict[str, str], *, lang: str = "vi",
                    printed_at: str | None = None) -> Document:
    """An X report (no z_number) or a Z report (from its frozen entry), ready for any paper."""
    w = words(lang)
    name = stall.get("stall_name") or stall.get("vendor_name") or ""
    closed = "z_number" in report
    title = w["z"].format(report["z_number"]) if closed else w["x"]
    blocks: list[Block] = [*stall_header(name, stall, w), Space(),
                           Text(title, LARGE, bold=True, align="center"),
                           Text(w["day"].format(format_day(report["business_day"])),
                                align="center")]
    if closed:
        blocks.append(Text(w["closed"].format(format_datetime(report["at"])), align="center"))
    elif printed_at:
        blocks.append(Text(w["printed"].format(format_datetime(printed_at)), align="center"))
    pay, qr_state, drawer = report["payments"], report["qr_by_state"], report["cash_drawer"]
    blocks += [
        Rule(),
        Row(w["sales"], str(report["sales_count"])),
        Total(w["revenue"], format_vnd(report["revenue"]), HUGE),
        Rule(),
        Row(w["cash"].format(pay["cash"]["count"]), format_vnd(pay["cash"]["amount"])),
        Row(w["qr"].format(pay["qr"]["count"]), format_vnd(pay["qr"]["amount"])),
        Row(w["bank"].format(qr_state["bank_confirmed"]["count"]),
            format_vnd(qr_state["bank_confirmed"]["amount"])),
        Row(w["vendor"].format(qr_state["vendor_confirmed"]["count"]),
            format_vnd(qr_state["vendor_confirmed"]["amount"])),
        Row(w["mismatch"].format(qr_state["mismatched"]["count"]),
            format_vnd(qr_state["mismatched"]["amount"])),
        *_credit(report, w),
        *_purchases(report, w),
        Row(w["voids"].format(report["voids_count"]), format_vnd(report["voided_amount"])),
        *_refunds(report, w),
        *_haggling(report, w),
        *_transfers_to_check(report, w),
        Rule(),
        Text(w["drawer"], bold=True),
        Row(w["float"], format_vnd(drawer["opening_float"])),
        Row(w["tendered"], format_vnd(drawer["tendered"])),
        Row(w["change"], format_vnd(drawer["change"])),
        Row(w["in"], format_vnd(drawer["cash_in"])),
        Row(w["out"], format_vnd(drawer["cash_out"])),
        *([Row(w["refunded_cash"], format_vnd(drawer["refunded_cash"]))]
          if drawer.get("refunded_cash") else []),
        # What customers paid back in cash is in the drawer: the expected cash adds up on paper.
        *([Row(w["repaid_cash"], format_vnd(drawer["repaid_cash"]))]
          if drawer.get("repaid_cash") else []),
        # Growers paid in cash were paid out of the drawer (issue 19).
        *([Row(w["purchases_cash"], format_vnd(drawer["purchases_cash"]))]
          if drawer.get("purchases_cash") else []),
        Row(w["expected"], format_vnd(drawer["expected"]), bold=True),
    ]
    if closed:
        blocks += [Row(w["counted"], format_vnd(report["counted_cash"]), bold=True),
                   Row(w["difference"], format_vnd(report["difference"]), bold=True),
                   Rule(), small(w["entry"].format(report["seq"], report["hash"][:8]))]
    return Document(blocks, title=title)


def _credit(report: dict[str, Any], w: dict[str, str]) -> list[Block]:
    """The credit book's day (older Z entries, and days without it, print nothing): sales put on
    credit (revenue, not cash) and debts paid back, in cash and by transfer."""
    credit = report.get("credit")
    if not credit or not (credit["sales"]["count"] or credit["repaid"]["count"]):
        return []
    sold, repaid = credit["sales"], credit["repaid"]
    return [Row(w["credit_sales"].format(sold["count"]), format_vnd(sold["amount"])),
            Row(w["credit_repaid"].format(repaid["count"]), format_vnd(repaid["amount"])),
            Row(w["repaid_in_cash"], format_vnd(repaid["cash"])),
            Row(w["repaid_by_qr"], format_vnd(repaid["qr"]))]


def _purchases(report: dict[str, Any], w: dict[str, str]) -> list[Block]:
    """Goods bought from growers that day (Z entries from before issue 19 print nothing): how
    many and for how much, in cash and by transfer."""
    bought = report.get("purchases")
    if not bought or not bought["count"]:
        return []
    return [Row(w["purchases"].format(bought["count"]), format_vnd(bought["amount"])),
            Row(w["repaid_in_cash"], format_vnd(bought["cash"])),
            Row(w["repaid_by_qr"], format_vnd(bought["qr"]))]


def _refunds(report: dict[str, Any], w: dict[str, str]) -> list[Block]:
    """Refunds given that day (older Z entries do not have them)."""
    refunds = report.get("refunds")
    if not refunds or not refunds["count"]:
        return []
    return [Row(w["refunds"].format(refunds["count"]), format_vnd(refunds["amount"]))]


def _haggling(report: dict[str, Any], w: dict[str, str]) -> list[Block]:
    """Discounts and price changes given at the till (older Z entries do not have them)."""
    haggling = report.get("haggling")
    if not haggling:
        return []
    discounts, changes = haggling["discounts"], haggling["price_changes"]
    return [Row(w["discounts"].format(discounts["count"]), format_vnd(discounts["amount"])),
            Row(w["price_changes"].format(changes["count"]), format_vnd(changes["given"]))]


def _transfers_to_check(report: dict[str, Any], w: dict[str, str]) -> list[Block]:
    """QR payments the bank has not confirmed, and bank transfers that matched nothing: what the
    vendor should compare with her bank statement before trusting the day's figure."""
    unconfirmed = [p for p in report.get("qr_payments", []) if p["state"] != "bank_confirmed"]
    problems = report.get("bank_problems", [])
    if not unconfirmed and not problems:
        return []
    blocks: list[Block] = [Rule(), Text(w["qr_check"], bold=True)]
    for p in unconfirmed:
        blocks.append(Row(w["qr_line"].format(p["number"], p.get("reference") or "—"),
                          format_vnd(p["amount"])))
        blocks.append(small(w.get(f"state_{p['state']}", p["state"]), align="left"))
    for p in problems:
        blocks.append(Row(w["bank_line"].format(p.get("reference") or "—",
                                                format_vnd(p["bank_amount"])),
                          format_vnd(p["expected"]) if p.get("expected") else ""))
        blocks.append(small(w.get(f"reason_{p['reason']}", p["reason"] or ""), align="left"))
    return blocks


def selftest_document(stall: dict[str, str], paper: str, *, lang: str = "vi") -> Document:
    """A self-test page: Vietnamese with every tricky diacritic, rules, a total and a QR."""
    from .paper import QR
    w = words(lang)
    name = stall.get("stall_name") or stall.get("vendor_name") or "Market 4.0"
    return Document([
        Text(w["selftest"], LARGE, bold=True, align="center"),
        Text(name, align="center"), Rule(),
        Text(w["selftest_line"], bold=True, align="center"),
        Text("Chè Shan tuyết · Tôm khô · Rau cải mèo · Mật ong bạc hà", align="center"),
        Text("ắ ằ ẳ ẵ ặ ấ ầ ẩ ẫ ậ ế ề ể ễ ệ ố ồ ổ ỗ ộ ớ ờ ở ỡ ợ ứ ừ ử ữ ự đ Đ", align="center"),
        Rule(), Total("TỔNG CỘNG", format_vnd(180000)), Row(f"Paper {paper} mm", "OK"),
        QR("MP1;selftest", 30.0), Text(w["selftest_ok"], align="center")], title=w["selftest"])
