"""VietQR (NAPAS 247 bank transfer) payloads: build, parse, validate and draw them offline.

A VietQR code is an EMVCo Merchant-Presented QR string of TLV objects (2-digit tag, 2-digit
length counted in characters, value). NAPAS's profile, as used here:

    00 "01" | 01 "11" static / "12" dynamic | 38 [00 GUID A000000727, 01 [00 BIN, 01 account],
    02 QRIBFTTA to an account / QRIBFTTC to a card] | 53 "704" | 54 amount | 58 "VN" |
    62 [01 bill number, 08 purpose] | 63 CRC-16/CCITT-FALSE

We write tags in the order of the NAPAS examples so that their strings are reproduced byte for
byte, and we read tags in any order, as the spec allows. Decoding checks the structure as well as
the CRC, because CRC-valid but malformed codes circulate. The bank list lives in data/banks.json.
"""
from __future__ import annotations

import io
import json
import re
import unicodedata
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

NAPAS_GUID = "A000000727"
SERVICE_ACCOUNT = "QRIBFTTA"
SERVICE_CARD = "QRIBFTTC"
STATIC, DYNAMIC = "11", "12"
MAX_AMOUNT = 499_999_999  # NAPAS-VN 8.1.1: a transfer must be *under* 500 million dong.
PURPOSE_MAX = 25  # 62.08 is ANS with at most 25 characters.

_ACCOUNT_RE = re.compile(r"[A-Za-z0-9]{6,19}")  # wallets use letters (e.g. 99ZP24009M07248267)
_CARD_RE = re.compile(r"[0-9]{16,19}")
_AMOUNT_RE = re.compile(r"[0-9]+\.?")  # VND has no decimals; NAPAS accepts "50000." too
_ANS_RE = re.compile(r"[\x20-\x7e]*")  # EMV common character set: printable ASCII
_ANS_ROOT_TAGS = {"59", "60", "61"}
_FOREIGN_GUIDS = {"A000000775": "VNPAY-QR"}


class VietQRError(ValueError):
    """A payload or input we refuse. `code` is stable for the caller; the message is English.

    Codes: not_vietqr (another kind of QR), bad_structure (TLV, required or misplaced tags),
    crc_mismatch, bad_field (other field values), bad_currency, bad_country, bad_amount,
    amount_too_large, bad_bin (not 6 digits), unknown_bank, bad_account.
    """

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Bank:
    """A NAPAS 247 member: the BIN that goes into tag 38.01.00 and names to show people."""

    bin: str
    short_name: str
    name: str


@lru_cache(maxsize=1)
def load_banks() -> dict[str, Bank]:
    """The bank list keyed by BIN, read once from pos/data/banks.json next to this module."""
    path = Path(__file__).with_name("data") / "banks.json"
    rows = json.loads(path.read_text(encoding="utf-8"))
    return {row["bin"]: Bank(row["bin"], row["short_name"], row["name"]) for row in rows}


@dataclass(frozen=True)
class VietQRPayload:
    """What a VietQR transfer code says.

    `point_of_initiation` is the raw EMVCo value, "11" (static, reusable) or "12" (dynamic, one
    transaction), so it compares directly with other tools; see `is_dynamic`. `extra` keeps any
    other objects as (tag, value) pairs, sub-objects of 62 written "62.05", so nothing is lost.
    """

    bank_bin: str
    account: str
    amount: int | None
    message: str | None
    point_of_initiation: str
    service: str
    bill_number: str | None = None
    extra: tuple[tuple[str, str], ...] = ()

    @property
    def is_dynamic(self) -> bool:
        return self.point_of_initiation == DYNAMIC

    @property
    def is_card(self) -> bool:
        return self.service == SERVICE_CARD

    @property
    def bank(self) -> Bank | None:
        """The bank's names for display; None only if the list changed since decoding."""
        return load_banks().get(self.bank_bin)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready fields, for templates and the API."""
        data = asdict(self)
        data["extra"] = dict(self.extra)
        return data


def crc16_ccitt_false(data: str) -> str:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) of the UTF-8 bytes, as 4 upper-case hex."""
    crc = 0xFFFF
    for byte in data.encode("utf-8"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return format(crc, "04X")  # zero-padded: 0x0283 must be "0283", not "283"


def purpose_text(text: str) -> str:
    """Fold free text into what 62.08 (purpose of transaction) may safely carry.

    Bank apps refuse or mangle anything beyond plain ASCII, so: compatibility-decompose (NFKD),
    drop the combining marks, map đ/Đ to d/D by hand (they do not decompose), turn any run of
    whitespace into one space, and *remove* every other character (punctuation, emoji, other
    scripts), as Odoo and subiz do. The result is cut to 25 characters rather than refused, so a
    long note never blocks a sale: "Trả tiền đậu phộng Đà Lạt" -> "Tra tien dau phong Da Lat".
    """
    decomposed = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    kept = []
    for ch in decomposed:
        if ch.isspace():
            kept.append(" ")
        elif ch.isascii() and ch.isalnum():
            kept.append(ch)
    return " ".join("".join(kept).split())[:PURPOSE_MAX].rstrip()


def _tlv(tag: str, value: str) -> str:
    if not 1 <= len(value) <= 99:
        raise VietQRError("bad_field", f"Field {tag} must hold 1 to 99 characters.")
    return f"{tag}{len(value):02d}{value}"


def _check_bank(bank_bin: str) -> None:
    if not (isinstance(bank_bin, str) and len(bank_bin) == 6 and bank_bin.isdecimal()
            and bank_bin.isascii()):
        raise VietQRError("bad_bin", "The bank BIN must be exactly 6 digits.")
    if bank_bin not in load_banks():
        raise VietQRError("unknown_bank", f"BIN {bank_bin} is not a known NAPAS 247 bank.")


def _check_account(account: str, card: bool) -> None:
    if card and not (isinstance(account, str) and _CARD_RE.fullmatch(account)):
        raise VietQRError("bad_account", "A card number must be 16 to 19 digits.")
    if not (isinstance(account, str) and _ACCOUNT_RE.fullmatch(account)):
        raise VietQRError("bad_account",
                          "An account number must be 6 to 19 letters or digits, without spaces.")


def _check_amount(amount: object) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise VietQRError("bad_amount", "The amount must be a whole number of dong.")
    if amount < 1:
        raise VietQRError("bad_amount", "The amount must be at least 1 dong.")
    if amount > MAX_AMOUNT:
        raise VietQRError("amount_too_large",
                          "NAPAS 247 transfers must be under 500,000,000 dong.")
    return amount


def _check_ans(tag: str, value: str, max_len: int = 99) -> None:
    if not _ANS_RE.fullmatch(value):
        raise VietQRError("bad_field", f"Field {tag} may only hold plain ASCII characters.")
    if len(value) > max_len:
        raise VietQRError("bad_field", f"Field {tag} is longer than {max_len} characters.")


def encode(bank_bin: str, account: str, amount: int | None = None, message: str | None = None,
           *, card: bool = False, bill_number: str | None = None) -> str:
    """Build the payload for a transfer to `account` (or a card number with `card=True`).

    With an amount the code is dynamic (01 = "12", one order, one code); without one it is
    static ("11", a stall's reusable code and the customer types the amount). `message` goes
    through `purpose_text` into 62.08, where bank apps show it; empty after folding means none.
    `bill_number` (62.01) is optional, plain ASCII, at most 25 characters.
    """
    _check_bank(bank_bin)
    if isinstance(account, str):
        account = re.sub(r"[\s\-]", "", account)  # "0011 0019 32418" is still one account
    _check_account(account, card)
    service = SERVICE_CARD if card else SERVICE_ACCOUNT
    beneficiary = _tlv("00", bank_bin) + _tlv("01", account)
    parts = [_tlv("00", "01"), _tlv("01", DYNAMIC if amount is not None else STATIC),
             _tlv("38", _tlv("00", NAPAS_GUID) + _tlv("01", beneficiary) + _tlv("02", service)),
             _tlv("53", "704")]
    if amount is not None:
        parts.append(_tlv("54", str(_check_amount(amount))))
    parts.append(_tlv("58", "VN"))
    additional = ""
    if bill_number is not None:
        if not isinstance(bill_number, str) or not bill_number:
            raise VietQRError("bad_field", "The bill number must be non-empty text.")
        _check_ans("62.01", bill_number, PURPOSE_MAX)
        additional += _tlv("01", bill_number)
    if message is not None:
        if not isinstance(message, str):
            raise VietQRError("bad_field", "The message must be text.")
        if purpose := purpose_text(message):
            additional += _tlv("08", purpose)
    if additional:
        parts.append(_tlv("62", additional))
    body = "".join(parts) + "6304"
    return body + crc16_ccitt_false(body)


def _parse_tlv(data: str, where: str) -> dict[str, str]:
    """Split `data` into {tag: value}, refusing truncation, bad headers and repeated tags."""
    objects: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        header = data[pos:pos + 4]
        if len(header) < 4 or not (header.isascii() and header.isdecimal()):
            raise VietQRError("bad_structure", f"{where}: broken tag/length at position {pos}.")
        tag, length = header[:2], int(header[2:])
        value = data[pos + 4:pos + 4 + length]
        if length == 0 or len(value) != length:
            raise VietQRError("bad_structure", f"{where}: tag {tag} has a wrong length.")
        if tag in objects:
            raise VietQRError("bad_structure", f"{where}: tag {tag} appears twice.")
        objects[tag] = value
        pos += 4 + length
    return objects


def decode(payload: str) -> VietQRPayload:
    """Parse and fully validate a scanned VietQR transfer code; raise VietQRError otherwise.

    Tags may come in any order after 00, the CRC may be lower case (some bank apps write it so)
    and surrounding whitespace from a scanner is ignored. Beyond the CRC we check the structure,
    since CRC-valid malformed codes circulate, and the bank must be in our list, as in `encode`.
    """
    if not isinstance(payload, str):
        raise VietQRError("not_vietqr", "A QR payload must be text.")
    payload = payload.strip()
    if not payload.startswith("000201"):
        raise VietQRError("not_vietqr", "This is not an EMVCo payment QR code.")
    if len(payload) < 8 or payload[-8:-4] != "6304":
        raise VietQRError("bad_structure", "The CRC (tag 63) is missing or not the last field.")
    expected, given = crc16_ccitt_false(payload[:-4]), payload[-4:]
    if not re.fullmatch(r"[0-9A-Fa-f]{4}", given):
        raise VietQRError("bad_structure", "The CRC (tag 63) must be 4 hexadecimal digits.")
    if given.upper() != expected:  # some bank apps write the CRC in lower case
        raise VietQRError("crc_mismatch", "The checksum does not match: the code is damaged.")
    root = _parse_tlv(payload, "root")
    if next(iter(root)) != "00" or list(root)[-1] != "63":
        raise VietQRError("bad_structure", "Tag 00 must come first and tag 63 last.")

    if "38" not in root:
        guid = _parse_tlv(root["26"], "tag 26").get("00", "") if "26" in root else ""
        scheme = _FOREIGN_GUIDS.get(guid.upper(), "another payment scheme")
        raise VietQRError("not_vietqr", f"This is a {scheme} code, not a VietQR bank transfer.")
    napas = _parse_tlv(root["38"], "tag 38")
    if napas.get("00", "").upper() != NAPAS_GUID:
        raise VietQRError("not_vietqr", "Tag 38 does not carry the NAPAS VietQR GUID.")
    service = napas.get("02", "")
    if service and service not in (SERVICE_ACCOUNT, SERVICE_CARD):  # e.g. QRPUSH, QRCASH
        raise VietQRError("not_vietqr", f"Service {service!r} is not a VietQR bank transfer.")
    beneficiary = _parse_tlv(napas.get("01", ""), "tag 38.01")
    if "02" in beneficiary:
        raise VietQRError("bad_structure", "The service code is nested inside 38.01; "
                          "it belongs in 38.02.")
    if set(beneficiary) != {"00", "01"}:
        raise VietQRError("bad_structure", "Tag 38.01 must hold the BIN (00) and account (01).")
    if set(napas) != {"00", "01", "02"}:
        raise VietQRError("bad_structure", "Tag 38 must hold exactly sub-tags 00, 01 and 02.")

    missing = {"01", "53", "58"} - set(root)
    if missing:
        raise VietQRError("bad_structure", f"Required tags missing: {', '.join(sorted(missing))}.")
    if root["01"] not in (STATIC, DYNAMIC):
        raise VietQRError("bad_field", "Tag 01 (point of initiation) must be 11 or 12.")
    if root["53"] != "704":
        raise VietQRError("bad_currency", "The currency (tag 53) must be 704, Vietnamese dong.")
    if root["58"] != "VN":
        raise VietQRError("bad_country", "The country (tag 58) must be VN.")
    _check_bank(beneficiary["00"])
    _check_account(beneficiary["01"], service == SERVICE_CARD)

    amount = None
    if "54" in root:
        if len(root["54"]) > 13 or not _AMOUNT_RE.fullmatch(root["54"]):
            raise VietQRError("bad_amount", "The amount must be whole dong, digits only.")
        amount = _check_amount(int(root["54"].rstrip(".")))
    for tag in _ANS_ROOT_TAGS & set(root):
        _check_ans(tag, root[tag])
    extra = [(tag, value) for tag, value in root.items()
             if tag not in {"00", "01", "38", "53", "54", "58", "62", "63"}]
    additional = _parse_tlv(root["62"], "tag 62") if "62" in root else {}
    for sub, value in additional.items():
        if "01" <= sub <= "08":
            _check_ans(f"62.{sub}", value, PURPOSE_MAX)
        elif sub == "09" and not re.fullmatch(r"[AME]{1,3}", value):
            raise VietQRError("bad_field", "Tag 62.09 may only hold the letters A, M and E.")
        if sub not in ("01", "08"):
            extra.append((f"62.{sub}", value))
    return VietQRPayload(bank_bin=beneficiary["00"], account=beneficiary["01"], amount=amount,
                         message=additional.get("08"), point_of_initiation=root["01"],
                         service=service, bill_number=additional.get("01"), extra=tuple(extra))


def _qr(payload: str, box_size: int = 8) -> Any:
    import qrcode  # imported here so parsing works on a till without the imaging stack

    if not isinstance(payload, str) or not payload:
        raise VietQRError("bad_field", "Nothing to draw: the payload is empty.")
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4,
                         box_size=box_size)
    code.add_data(payload)
    code.make(fit=True)
    return code


def render_png(payload: str, *, box_size: int = 8) -> bytes:
    """Draw the payload as a PNG (error correction M, 4-module quiet zone) for screen or print."""
    code = _qr(payload, box_size)
    buffer = io.BytesIO()
    code.make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def render_svg(payload: str) -> str:
    """Draw the payload as a standalone SVG, which scales sharply on any receipt printer."""
    from qrcode.image.svg import SvgPathImage

    image = _qr(payload).make_image(image_factory=SvgPathImage)
    return str(image.to_string(encoding="unicode"))
