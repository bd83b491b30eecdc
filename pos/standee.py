"""The stall's printed QR standee: an A6 card with the static VietQR code (no amount) for buyers
who would rather type the amount themselves, and the names a buyer checks before sending money."""
from __future__ import annotations

from typing import Any

from .paper_language import paper_translations
from .paper import HUGE, LARGE, QR, Document, Space, Text, render_pdf
from .qrpay import static_payload

def words(lang: str) -> dict[str, Any]:
    """The words of the QR standee in `lang` (en, else Vietnamese), from the stall's catalogue."""
    pgettext = paper_translations(lang).pgettext
    return {
        "stall": pgettext("paper", "stall {}"),
        "scan": pgettext("paper", "Scan to pay by bank transfer"),
        "bank": pgettext("paper", "Bank: {}"),
        "account": pgettext("paper", "Account: {}"),
        "holder": pgettext("paper", "Holder: {}"),
        "check": pgettext("paper", "Check the holder's name before you send"),
        "show": pgettext("paper", "After paying, show the vendor your confirmation"),
    }


def standee_document(account: dict[str, Any], stall: dict[str, str], *,
                     lang: str = "vi") -> Document:
    """The card's content: who is paid, the code, and how to check it is the right account."""
    w = words(lang)
    name = stall.get("stall_name") or stall.get("vendor_name") or ""
    number = w["stall"].format(stall["stall_number"]) if stall.get("stall_number") else ""
    place = ", ".join(filter(None, [stall.get("market", ""), number]))
    blocks = [Text(name, HUGE, bold=True, align="center")]
    if place:
        blocks.append(Text(place, align="center"))
    blocks += [Space(1), Text(w["scan"], LARGE, bold=True, align="center"), Space(1),
               QR(static_payload(account), size_mm=64.0), Space(1),
               Text(w["holder"].format(account["holder"]), LARGE, bold=True, align="center"),
               Text(w["bank"].format(account["bank_name"]), align="center"),
               Text(w["account"].format(account["account"]), align="center"), Space(1),
               Text(w["check"], align="center"), Text(w["show"], align="center")]
    return Document(blocks, title=f"VietQR – {name}")


def standee_pdf(account: dict[str, Any], stall: dict[str, str], *, lang: str = "vi") -> bytes:
    """The A6 card as a PDF."""
    return render_pdf(standee_document(account, stall, lang=lang), "A6")
