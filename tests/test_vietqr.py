"""Tests for pos.vietqr against public VietQR vectors, NAPAS rules and random inputs."""
from __future__ import annotations

import io
import json
import shutil
import subprocess
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pos import vietqr
from pos.vietqr import VietQRError, crc16_ccitt_false, decode, encode, purpose_text

DATA = Path(__file__).parent / "data"
VECTORS = json.loads((DATA / "vietqr_vectors.json").read_text(encoding="utf-8"))["vectors"]
VALID = [v for v in VECTORS if v["valid"]]
INVALID = [v for v in VECTORS if not v["valid"]]
CANONICAL = [v for v in VECTORS if v["canonical"]]
BANKS_FILE = Path(vietqr.__file__).with_name("data") / "banks.json"

# Our error code for each negative vector; its `why_invalid` says why in words.
INVALID_CODES = {
    "napas-6.1.1-as-printed": "bad_structure",  # 38.01.01 says 12 characters, 13 follow
    "napas-6.1.4-headline-as-printed": "crc_mismatch",  # static body with the dynamic CRC
    "odoo-pr130806-old-accent": "bad_field",  # non-ASCII "đĐ" in ANS field 59
    "vietqr-ts-fixture-nested-service-code": "bad_structure",  # 02 inside 38.01, CRC valid
    "vietqr-ts-fixture-utf8-bytes": "bad_structure",  # lengths counted in UTF-8 bytes
    "subiz-readme-tutorial": "crc_mismatch",  # hand-written, no GUID, wrong CRC
}

VCB, ACB = "970436", "970416"
VIETNAMESE = ("aăâbcdđeêghiklmnoôơpqrstuưvxy AĂÂBCDĐEÊGHIKLMNOÔƠPQRSTUƯVXY 0123456789 "
              "àáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
              "ĐÀÁẢÃẠÈÉÌÍÒÓÙÚÝỲ.,/-#&+@_!?:;()'\"\t\n€😀")


def with_crc(body: str) -> str:
    """Close a hand-made payload body with a correct CRC, to test checks other than the CRC."""
    body += "6304"
    return body + crc16_ccitt_false(body)


def fields(v: dict) -> dict:
    """The vector's expected fields under our names."""
    other = v["other_fields"] or {}
    return {"bank_bin": v["bank_bin"], "account": v["account"], "amount": v["amount"],
            "message": v["message"], "point_of_initiation": v["point_of_initiation"],
            "service": v["service_code"], "bill_number": other.get("62.01")}


def reencode(v: dict) -> str:
    return encode(v["bank_bin"], v["account"], v["amount"], v["message"],
                  card=v["service_code"] == vietqr.SERVICE_CARD,
                  bill_number=(v["other_fields"] or {}).get("62.01"))


# --- vectors -------------------------------------------------------------------------------

@pytest.mark.parametrize("v", VALID, ids=lambda v: v["id"])
def test_valid_vector_decodes_to_listed_fields(v):
    got = decode(v["payload"]).to_dict()
    assert {k: got[k] for k in fields(v)} == fields(v)


@pytest.mark.parametrize("v", CANONICAL, ids=lambda v: v["id"])
def test_canonical_vector_reencodes_byte_for_byte(v):
    assert reencode(v) == v["payload"]


@pytest.mark.parametrize("v", [v for v in VALID if v.get("constructed")], ids=lambda v: v["id"])
def test_constructed_vectors_also_reencode(v):
    # vectors.json marks these canonical: false, yet they follow the canonical layout exactly.
    assert reencode(v) == v["payload"]


def test_every_invalid_vector_has_an_expected_code():
    assert {v["id"] for v in INVALID} == set(INVALID_CODES)


@pytest.mark.parametrize("v", INVALID, ids=lambda v: v["id"])
def test_invalid_vector_is_refused(v):
    with pytest.raises(VietQRError) as err:
        decode(v["payload"])
    assert err.value.code == INVALID_CODES[v["id"]]
    assert str(err.value)


def test_nested_service_code_is_named_in_the_message():
    v = next(v for v in INVALID if v["id"] == "vietqr-ts-fixture-nested-service-code")
    with pytest.raises(VietQRError, match="38.02"):
        decode(v["payload"])


# --- CRC -----------------------------------------------------------------------------------

def test_crc_catalogue_check_value():
    assert crc16_ccitt_false("123456789") == "29B1"


def test_crc_is_zero_padded():
    v = next(v for v in VECTORS if v["id"] == "vnqrpay-tcb-crc-leading-zero")
    assert crc16_ccitt_false(v["payload"][:-4]) == "0283"
    assert reencode(v).endswith("63040283")


def test_wrong_crc_refused():
    payload = encode(VCB, "1234567890", 45000, "DH1")
    wrong = payload[:-4] + format((int(payload[-4:], 16) + 1) % 0x10000, "04X")
    with pytest.raises(VietQRError) as err:
        decode(wrong)
    assert err.value.code == "crc_mismatch"


def test_lower_case_crc_accepted():
    v = next(v for v in VECTORS if v["id"] == "napas-6.1.3")  # CRC 2E2E has letters
    lower = v["payload"][:-4] + v["payload"][-4:].lower()
    assert lower.endswith("2e2e")
    assert decode(lower) == decode(v["payload"])


@pytest.mark.parametrize("tail", ["", "6304", "6304XYZW", "630412"])
def test_missing_or_malformed_crc_refused(tail):
    body = encode(ACB, "257678859")[:-8]
    with pytest.raises(VietQRError) as err:
        decode(body + tail)
    assert err.value.code in {"bad_structure", "crc_mismatch"}


# --- structure and other QR kinds ------------------------------------------------------------

NAPAS38 = "38530010A0000007270123000697041601092576788590208QRIBFTTA"


def test_any_tag_order_after_00():
    shuffled = with_crc("000201" + "62150811Chuyen tien" + "5802VN" + "540510000"
                        + NAPAS38 + "5303704" + "010212")
    reference = decode(encode(ACB, "257678859", 10000, "Chuyen tien"))
    assert decode(shuffled) == reference


def test_vnpay_tag_26_is_not_vietqr():
    vnpay = with_crc("000201010211" + "26280010A0000007750110010531451152045812"
                     + "5303704" + "5802VN" + "5910CUA HANG A" + "6005HANOI")
    with pytest.raises(VietQRError) as err:
        decode(vnpay)
    assert err.value.code == "not_vietqr"
    assert "VNPAY" in str(err.value)


@pytest.mark.parametrize("payload", ["https://example.com/pay", "", "hello", "WIFI:S:cho;;"])
def test_non_emvco_text_is_not_vietqr(payload):
    with pytest.raises(VietQRError) as err:
        decode(payload)
    assert err.value.code == "not_vietqr"


@pytest.mark.parametrize("napas", [
    "38510010A0000007270123000697041601092576788590206QRPUSH",
    "38620010A00000072701340006970416010901234567802070001234" + "0206QRPUSH",  # merchant ids
])
def test_napas_merchant_qrpush_is_not_a_transfer(napas):
    with pytest.raises(VietQRError) as err:
        decode(with_crc("000201010211" + napas + "5303704" + "5802VN"))
    assert err.value.code == "not_vietqr"


def test_foreign_guid_in_tag_38_is_not_vietqr():
    other = NAPAS38.replace("A000000727", "A000000775")
    with pytest.raises(VietQRError) as err:
        decode(with_crc("000201010211" + other + "5303704" + "5802VN"))
    assert err.value.code == "not_vietqr"


@pytest.mark.parametrize("body, code", [
    ("000201010211" + NAPAS38 + "5802VN", "bad_structure"),  # no 53
    ("000201010211" + NAPAS38 + "5303704", "bad_structure"),  # no 58
    ("000201" + NAPAS38 + "5303704" + "5802VN", "bad_structure"),  # no 01
    ("000201010211" + NAPAS38 + "5303704" + "5802VN" + "5802VN", "bad_structure"),  # repeated
    ("000201010211" + NAPAS38 + "5303840" + "5802VN", "bad_currency"),
    ("000201010211" + NAPAS38 + "5303704" + "5802TH", "bad_country"),
    ("000201010213" + NAPAS38 + "5303704" + "5802VN", "bad_field"),
    ("000201010211" + NAPAS38 + "5303704" + "5802VN" + "6200", "bad_structure"),  # empty 62
    ("000201010211" + NAPAS38.replace("0208QRIBFTTA", "").replace("3853", "3841")
     + "5303704" + "5802VN", "bad_structure"),  # no service code
    ("000201010212" + NAPAS38 + "5303704" + "5802VN" + "6230" + "0826" + "x" * 26,
     "bad_field"),  # purpose over 25 characters
    ("000201010212" + NAPAS38 + "5303704" + "5802VN" + "62150811Chuyển tiền", "bad_field"),
])
def test_structural_problems_refused(body, code):
    with pytest.raises(VietQRError) as err:
        decode(with_crc(body))
    assert err.value.code == code


def test_other_fields_are_kept():
    payload = with_crc("000201010212" + NAPAS38 + "52040000" + "5303704" + "540510000"
                       + "5802VN" + "5913CHO BEN THANH" + "62200107NPS68690505REF01")
    got = decode(payload)
    assert got.bill_number == "NPS6869" and got.message is None
    assert got.to_dict()["extra"] == {"52": "0000", "59": "CHO BEN THANH", "62.05": "REF01"}


# --- amounts -------------------------------------------------------------------------------

def test_amount_limits_on_encode():
    assert decode(encode(VCB, "1234567890", 1)).amount == 1
    assert decode(encode(VCB, "1234567890", 499_999_999)).amount == 499_999_999
    for amount, code in [(500_000_000, "amount_too_large"), (10**12, "amount_too_large"),
                         (0, "bad_amount"), (-5, "bad_amount"), (1000.0, "bad_amount"),
                         ("1000", "bad_amount"), (True, "bad_amount")]:
        with pytest.raises(VietQRError) as err:
            encode(VCB, "1234567890", amount)
        assert err.value.code == code, amount


def test_amount_presence_sets_point_of_initiation():
    assert decode(encode(VCB, "1234567890")).point_of_initiation == "11"
    dynamic = decode(encode(VCB, "1234567890", 20000))
    assert dynamic.point_of_initiation == "12" and dynamic.is_dynamic


@pytest.mark.parametrize("raw, result", [
    ("50000", 50000), ("50000.", 50000),  # NAPAS lists both as valid
    ("50 000", "bad_amount"), ("100.0", "bad_amount"), ("1,000", "bad_amount"),
    ("0", "bad_amount"), ("500000000", "amount_too_large"), ("499999999", 499_999_999),
])
def test_amount_formats_on_decode(raw, result):
    payload = with_crc("000201010212" + NAPAS38 + "5303704" + f"54{len(raw):02d}{raw}" + "5802VN")
    if isinstance(result, int):
        assert decode(payload).amount == result
    else:
        with pytest.raises(VietQRError) as err:
            decode(payload)
        assert err.value.code == result


def test_static_code_with_amount_is_read():
    # Several public libraries write 11 with an amount; we read it and report it as static.
    got = decode(with_crc("000201010211" + NAPAS38 + "5303704" + "540510000" + "5802VN"))
    assert got.amount == 10000 and got.point_of_initiation == "11"


# --- banks and accounts --------------------------------------------------------------------

def test_unknown_bin_refused():
    assert "970499" not in vietqr.load_banks()
    with pytest.raises(VietQRError) as err:
        encode("970499", "1234567890")
    assert err.value.code == "unknown_bank"
    with pytest.raises(VietQRError) as err:
        decode(with_crc("000201010211" + NAPAS38.replace("970416", "970499")
                        + "5303704" + "5802VN"))
    assert err.value.code == "unknown_bank"


@pytest.mark.parametrize("bank_bin", ["97043", "9704366", "VCB", "", None, "９７０４３６"])
def test_malformed_bin_refused(bank_bin):
    with pytest.raises(VietQRError) as err:
        encode(bank_bin, "1234567890")
    assert err.value.code == "bad_bin"


@pytest.mark.parametrize("account", ["12345", "1" * 20, "12345/678", "Tài khoản1", "", None])
def test_bad_account_refused(account):
    with pytest.raises(VietQRError) as err:
        encode(VCB, account)
    assert err.value.code == "bad_account"


def test_account_accepts_letters_and_drops_separators():
    assert decode(encode("970422", "99ZP24009M07248267")).account == "99ZP24009M07248267"
    assert decode(encode(VCB, " 0011-0019 32418 ")).account == "0011001932418"


def test_card_transfer():
    got = decode(encode("970403", "9704031101234567", card=True))
    assert got.service == "QRIBFTTC" and got.is_card
    with pytest.raises(VietQRError) as err:
        encode("970403", "PSP123456789000000", card=True)
    assert err.value.code == "bad_account"


def test_bank_list_is_clean():
    rows = json.loads(BANKS_FILE.read_text(encoding="utf-8"))
    assert isinstance(rows, list) and len(rows) > 50
    assert all(set(r) == {"bin", "short_name", "name"} for r in rows)
    bins = [r["bin"] for r in rows]
    assert len(bins) == len(set(bins)) and all(len(b) == 6 and b.isdigit() for b in bins)
    assert all(unicodedata.is_normalized("NFC", r["name"]) for r in rows)
    banks = vietqr.load_banks()
    assert banks[VCB].short_name == "Vietcombank"
    # SPEC.md 4.13: renamed banks keep their BIN.
    assert banks["970414"].short_name == "MBV"
    assert banks["970406"].short_name == "Vikki Bank"
    assert banks["970449"].short_name == "LPBank"
    assert banks["970454"].short_name == "BVBank"
    assert decode(encode(VCB, "1234567890")).bank == banks[VCB]


# --- purpose (62.08) -----------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("Trả tiền đậu phộng Đà Lạt", "Tra tien dau phong Da Lat"),
    ("Thanh toán hóa đơn", "Thanh toan hoa don"),
    ("ủng hộ lũ lụt", "ung ho lu lut"),
    ("INV/TEST/0001", "INVTEST0001"),
    ("  bún\tbò\nHuế  ", "bun bo Hue"),
    ("Cà phê ☕ #12 & bánh mì!", "Ca phe 12 banh mi"),
    ("Bàn １２", "Ban 12"),
    ("Đơn hàng số 123 của chị Hương ở chợ Bến Thành", "Don hang so 123 cua chi H"),
    ("Mua 24 bó rau muống xanh ngon", "Mua 24 bo rau muong xanh"),  # no trailing space
    ("!!!", ""), ("", ""),
])
def test_purpose_text(text, expected):
    assert purpose_text(text) == expected


def test_message_is_sanitised_into_62_08():
    payload = encode(VCB, "1234567890", 35000, "Trả tiền đậu phộng Đà Lạt")
    assert "0825Tra tien dau phong Da Lat" in payload
    assert decode(payload).message == "Tra tien dau phong Da Lat"
    nothing_left = decode(encode(VCB, "1234567890", 35000, "???"))  # no empty tag 62
    assert nothing_left.message is None and nothing_left.extra == ()


# --- property tests ------------------------------------------------------------------------

accounts = st.from_regex(r"[A-Za-z0-9]{6,19}", fullmatch=True)
cards = st.from_regex(r"[0-9]{16,19}", fullmatch=True)
amounts = st.none() | st.integers(min_value=1, max_value=vietqr.MAX_AMOUNT)
messages = st.none() | st.text(alphabet=VIETNAMESE, max_size=60) | st.text(max_size=30)
bins = st.sampled_from(sorted(vietqr.load_banks()))


@st.composite
def transfers(draw):
    card = draw(st.booleans())
    return dict(bank_bin=draw(bins), account=draw(cards if card else accounts),
                amount=draw(amounts), message=draw(messages), card=card)


@settings(deadline=None)
@given(transfers())
def test_encode_decode_round_trip(t):
    payload = encode(**t)
    got = decode(payload)
    assert (got.bank_bin, got.account, got.amount) == (t["bank_bin"], t["account"], t["amount"])
    assert got.message == (purpose_text(t["message"] or "") or None)
    assert got.point_of_initiation == ("12" if t["amount"] is not None else "11")
    assert got.service == ("QRIBFTTC" if t["card"] else "QRIBFTTA")
    assert payload.isascii() and payload == payload.strip()
    assert encode(got.bank_bin, got.account, got.amount, got.message, card=got.is_card) == payload


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transfers(), st.data())
def test_any_single_changed_character_is_refused(t, data):
    payload = encode(**t)
    i = data.draw(st.integers(min_value=0, max_value=len(payload) - 1))
    new = data.draw(st.characters(codec="utf-8") | st.sampled_from("0123456789ABCDEFabcdef "))
    assume(new != payload[i])
    if i >= len(payload) - 4:  # the CRC is read case-insensitively on purpose
        assume(new.upper() != payload[i].upper())
    with pytest.raises(VietQRError):
        decode(payload[:i] + new + payload[i + 1:])


@settings(deadline=None)
@given(st.text(alphabet="0123456789ABQRFTV ", max_size=120) | st.text(max_size=120))
def test_decode_only_ever_raises_vietqr_error(junk):
    for candidate in (junk, "000201" + junk, with_crc("000201" + junk)):
        try:
            decode(candidate)
        except VietQRError as err:
            assert err.code and str(err)


@given(st.text())
def test_purpose_text_is_always_safe(text):
    out = purpose_text(text)
    assert len(out) <= 25 and out == out.strip() and "  " not in out
    assert all(ch == " " or (ch.isascii() and ch.isalnum()) for ch in out)
    assert purpose_text(out) == out


# --- rendering -----------------------------------------------------------------------------

def zbar_read(png: bytes, tmp_path: Path) -> list[str]:
    try:
        from PIL import Image
        from pyzbar.pyzbar import decode as pyzbar_decode

        return [s.data.decode("utf-8") for s in pyzbar_decode(Image.open(io.BytesIO(png)))]
    except ImportError:  # pyzbar missing, or installed without libzbar
        pass
    if not shutil.which("zbarimg"):
        pytest.skip("zbar is not installed: need pyzbar+libzbar0 or zbarimg (apt zbar-tools)")
    path = tmp_path / "code.png"
    path.write_bytes(png)
    done = subprocess.run(["zbarimg", "--raw", "-q", str(path)], capture_output=True,
                          check=True, timeout=30)
    return done.stdout.decode("utf-8").splitlines()


@pytest.mark.parametrize("payload", [
    next(v["payload"] for v in VECTORS if v["id"] == "napas-6.1.3"),
    encode(VCB, "1234567890", 45000, "Trả tiền đậu phộng Đà Lạt"),
    encode("970422", "99ZP24009M07248267", 499_999_999, "x" * 40, bill_number="DH-2024-000001"),
    encode(ACB, "257678859"),
])
def test_png_scans_back_to_the_payload(payload, tmp_path):
    png = vietqr.render_png(payload)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert zbar_read(png, tmp_path) == [payload]


def test_png_has_quiet_zone_and_box_size():
    from PIL import Image

    payload = encode(ACB, "257678859")
    image = Image.open(io.BytesIO(vietqr.render_png(payload, box_size=5))).convert("L")
    assert image.width == image.height and image.width % 5 == 0
    modules = image.width // 5 - 8  # 4 white modules on each side
    assert (modules - 17) % 4 == 0  # a real QR size: 21, 25, 29, ...
    border = [image.getpixel((x, y)) for x in range(image.width) for y in range(20)]
    assert set(border) == {255}
    assert image.getpixel((20, 20)) == 0  # finder pattern starts right after the quiet zone


def test_svg_is_standalone_xml():
    svg = vietqr.render_svg(encode(ACB, "257678859", 10000, "Chuyen tien"))
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg") and "viewBox" in root.attrib
    assert root.attrib["viewBox"].split()[0:2] == ["0", "0"]


def test_render_refuses_empty_payload():
    with pytest.raises(VietQRError):
        vietqr.render_png("")
