"""Printed day reports (X: the day so far; Z: the closed day) and the printer's self-test page.

Like receipts, the words are literal per language: a report is a paper document in the language
the vendor prints it in. The figures come from pos.daybook; a Z prints what its entry froze.
"""
from __future__ import annotations

from typing import Any

from sync.localtime import format_datetime, format_day
from sync.money import format_vnd
from .paper import HUGE, LARGE, Block, Document, Row, Rule, Space, Text, Total, small
from .receipts import stall_header

WORDS: dict[str, dict[str, str]] = {
    "vi": {
        "x": "BÁO CÁO X (TẠM TÍNH)", "z": "BÁO CÁO Z SỐ {}", "day": "Ngày kinh doanh: {}",
        "printed": "In lúc: {}", "closed": "Chốt lúc: {}", "sales": "Số đơn bán",
        "revenue": "DOANH THU", "cash": "Tiền mặt ({})", "qr": "Chuyển khoản ({})",
        "bank": "  ngân hàng xác nhận ({})", "vendor": "  người bán xác nhận ({})",
        "mismatch": "  không khớp ({})", "voids": "Đơn đã hủy ({})", "drawer": "KÉT TIỀN",
        "float": "Tiền lẻ đầu ngày", "tendered": "+ Tiền khách đưa", "change": "− Tiền thối",
        "in": "+ Nộp thêm", "out": "− Rút ra", "expected": "Két phải có", "counted": "Đếm được",
        "difference": "Chênh lệch", "entry": "Bút toán {} · {}",
        "selftest": "TRANG IN THỬ", "selftest_line": "Đơn giá • Thành tiền • Cảm ơn quý khách",
        "selftest_ok": "Máy in hoạt động tốt.", "stall": "sạp {}", "phone": "ĐT: {}",
        "tax": "MST: {}", "qr_check": "CHUYỂN KHOẢN CẦN KIỂM TRA",
        "qr_line": "Số {} · {}", "state_vendor_confirmed": "người bán xác nhận",
        "state_mismatch": "không khớp", "bank_line": "{} · nhận {}",
        "reason_underpaid": "thiếu tiền", "reason_overpaid": "thừa tiền",
        "reason_paid_twice": "trả hai lần", "reason_unknown_reference": "mã lạ",
    },
    "en": {
        "x": "X REPORT (DAY SO FAR)", "z": "Z REPORT NO. {}", "day": "Business day: {}",
        "printed": "Printed: {}", "closed": "Closed: {}", "sales": "Sales",
        "revenue": "REVENUE", "cash": "Cash ({})", "qr": "Bank transfer ({})",
        "bank": "  bank-confirmed ({})", "vendor": "  vendor-confirmed only ({})",
        "mismatch": "  mismatched ({})", "voids": "Voided sales ({})", "drawer": "CASH DRAWER",
        "float": "Opening float", "tendered": "+ Cash received", "change": "− Change given",
        "in": "+ Cash in", "out": "− Cash out", "expected": "Expected in drawer",
        "counted": "Counted", "difference": "Difference", "entry": "Entry {} · {}",
        "selftest": "PRINTER SELF-TEST", "selftest_line": "Đơn giá • Thành tiền • Cảm ơn quý khách",
        "selftest_ok": "The printer works.", "stall": "stall {}", "phone": "Tel: {}",
        "qr_check": "TRANSFERS TO CHECK", "qr_line": "No. {} · {}",
        "state_vendor_confirmed": "vendor-confirmed", "state_mismatch": "mismatched",
        "bank_line": "{} · received {}", "reason_underpaid": "underpaid",
        "reason_overpaid": "overpaid", "reason_paid_twice": "paid twice",
        "reason_unknown_reference": "unknown reference",
        "tax": "Tax code (MST): {}",
    },
}


def report_document(report: dict[str, Any], stall: dict[str, str], *, lang: str = "vi",
                    printed_at: str | None = None) -> Document:
    """An X report (no z_number) or a Z report (from its frozen entry), ready for any paper."""
    w = WORDS.get(lang, WORDS["vi"])
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
        Row(w["voids"].format(report["voids_count"]), format_vnd(report["voided_amount"])),
        *_transfers_to_check(report, w),
        Rule(),
        Text(w["drawer"], bold=True),
        Row(w["float"], format_vnd(drawer["opening_float"])),
        Row(w["tendered"], format_vnd(drawer["tendered"])),
        Row(w["change"], format_vnd(drawer["change"])),
        Row(w["in"], format_vnd(drawer["cash_in"])),
        Row(w["out"], format_vnd(drawer["cash_out"])),
        Row(w["expected"], format_vnd(drawer["expected"]), bold=True),
    ]
    if closed:
        blocks += [Row(w["counted"], format_vnd(report["counted_cash"]), bold=True),
                   Row(w["difference"], format_vnd(report["difference"]), bold=True),
                   Rule(), small(w["entry"].format(report["seq"], report["hash"][:8]))]
    return Document(blocks, title=title)


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
    w = WORDS.get(lang, WORDS["vi"])
    name = stall.get("stall_name") or stall.get("vendor_name") or "Market 4.0"
    return Document([
        Text(w["selftest"], LARGE, bold=True, align="center"),
        Text(name, align="center"), Rule(),
        Text(w["selftest_line"], bold=True, align="center"),
        Text("Chè Shan tuyết · Tôm khô · Rau cải mèo · Mật ong bạc hà", align="center"),
        Text("ắ ằ ẳ ẵ ặ ấ ầ ẩ ẫ ậ ế ề ể ễ ệ ố ồ ổ ỗ ộ ớ ờ ở ỡ ợ ứ ừ ử ữ ự đ Đ", align="center"),
        Rule(), Total("TỔNG CỘNG", format_vnd(180000)), Row(f"Paper {paper} mm", "OK"),
        QR("MP1;selftest", 30.0), Text(w["selftest_ok"], align="center")], title=w["selftest"])
