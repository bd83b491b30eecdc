"""The short check code printed under a receipt's QR (sync/checkcode.py), typed into /check.

From the paper to the answer: a real stall sells and syncs with the real server over HTTP, its
receipt is rendered as the PDF it prints and read back with pdftotext, and the code found there
is typed (in lower case, with spaces) into /check over HTTP. Then what a short code must not
allow: a mistyped character passes for an unknown receipt, a miss tells anything about the
stall, a sweep of one stall's receipts, hostile text taking time. Both backends.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from pos import db as pos_db
from pos import printouts, receipts, sales, settings
from pos.app import create_app as create_stall
from sync import checkcode
from sync.server import store
from sync.server.db import utcnow, write_transaction
from tests.server.chain import Chain
from tests.server.conftest import push
from tests.server.test_trust_attack_check import answer, code as qr_code, result_part

client_module = pytest.importorskip("pos.sync.client")
needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"),
                                   reason="poppler-utils is not installed (CI installs it)")
SALE = {"lines": [{"name": "Chè Shan tuyết", "unit_price": 120_000, "quantity": "1.5"}],
        "payments": [{"method": "cash", "amount": 180_000, "tendered": 200_000}]}
TYPO = ("typing mistake", "gõ nhầm")   # English until the catalogue has it, then Vietnamese


def http_check(base: str, text: str) -> tuple[int, str]:
    """GET /check?c=text over real HTTP: status and page."""
    try:
        with urllib.request.urlopen(f"{base}/check?c={quote(text, safe='')}",
                                    timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def printed_code(pdf: bytes, tmp_path: Path) -> tuple[str, list[str]]:
    """The code as pdftotext reads it off the receipt: the line after "Mã kiểm tra:"."""
    path = tmp_path / "receipt.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(path), "-"],
                          capture_output=True, text=True, check=True, timeout=60).stdout
    lines = [line.strip() for line in text.splitlines()]
    return lines[lines.index("Mã kiểm tra:") + 1], lines


def other_code(code: checkcode.CheckCode, **changes: int | str) -> str:
    """A well-formed code (right check character) for other parts than `code`'s."""
    prefix = str(changes.get("device_prefix", code.device_prefix))
    seq = int(changes.get("seq", code.seq))
    bits = int(changes.get("hash_bits", code.hash_bits))
    return checkcode.make(prefix + "00000-0000-4000-8000-000000000000",
                          seq, f"{bits << (32 - checkcode.HASH_BITS):08x}" + "0" * 56)


@needs_poppler
def test_the_code_printed_on_the_receipt_typed_into_check_finds_the_sale(
        app, live_server, engine, tmp_path):
    app.extensions["market_server"]["check_limiter"].limit = 1000
    stall_app = create_stall({"DATA_DIR": tmp_path / "stall", "TESTING": True})
    device_id = stall_app.config["DEVICE_ID"]
    conn = pos_db.connect(stall_app.config["DATABASE"])
    with write_transaction(engine) as server_conn:
        _, _, pairing = store.add_stall(server_conn, "Hà Giang", "Phường Minh Khai",
                                        "Chợ Minh Khai", "Sạp chè cô Lan", now=utcnow())
    client = client_module.SyncClient(stall_app.config["DATABASE"])
    try:
        with stall_app.test_request_context():
            other = sales.record_sale(conn, device_id, SALE, "owner")
            sale = sales.record_sale(conn, device_id, dict(SALE, lines=[dict(
                SALE["lines"][0], quantity="2")], payments=[{"method": "cash",
                                                             "amount": 240_000}]), "owner")
        client.pair(live_server, pairing)
        assert client.sync_once().status == "ok"
        assert settings.read(conn, "sync_server_url") == live_server

        with stall_app.app_context():   # the PDF the printer gets, on the 58 mm roll
            pdf = printouts.document_pdf(conn, "receipt", sale["id"], copy=False, lang="vi",
                                         paper="58")
        typed, lines = printed_code(pdf, tmp_path)
        assert typed == receipts.typed_check_code(sale, device_id)
        assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4,5}",
                            typed)
        address = live_server.removeprefix("http://") + "/check"
        assert lines[lines.index(address) - 1] in ("Check it at", "Kiểm tra tại")

        # Typed as a person types it: lower case, spaces for dashes, a label pasted along.
        for as_typed in (typed, typed.lower().replace("-", " "), f"Mã kiểm tra: {typed}"):
            status, page = http_check(live_server, as_typed)
            assert status == 200 and 'data-state="registered"' in page, as_typed
            assert "Sạp chè cô Lan" in page and "240.000" in page and "180.000" not in page

        # One character changed: the check character says it is a typing mistake.
        wrong = typed[:5] + ("7" if typed[5] != "7" else "8") + typed[6:]
        status, page = http_check(live_server, wrong)
        assert status == 400 and 'role="alert"' in page and any(t in page for t in TYPO)
        assert "data-state" not in page
        # Well formed but not this sale's (the neighbouring sale's seq): not registered.
        parsed = checkcode.parse(typed)
        status, page = http_check(live_server, other_code(parsed, seq=other["seq"]))
        assert status == 200 and 'data-state="not_registered"' in page
        assert "Sạp chè cô Lan" not in page

        # Voided at the stall: the same printed code now says so.
        with stall_app.test_request_context():
            sales.void_sale(conn, device_id, sale["id"], "Khách trả hàng", "owner")
        assert client.sync_once().status == "ok"
        assert 'data-state="voided"' in http_check(live_server, typed)[1]
        # The QR of the same receipt (and of receipts printed before the short code) still works.
        qr = receipts.check_code(dict(sale, total=240_000), device_id)
        assert 'data-state="voided"' in http_check(live_server, qr)[1]
    finally:
        client.close()
        conn.close()


def test_every_miss_of_a_typed_code_gets_the_same_answer(app, client, stall):
    """No such device, no such seq, another hash, an entry that is not a sale: one answer, byte
    for byte (the receipt check's rule since issue 15), so a short code tells nothing either."""
    app.extensions["market_server"]["check_limiter"].limit = 1000
    chain = Chain(stall.device_id)
    sold = chain.sales_run(2)
    move = chain.cash_move("float", 100_000)
    assert push(client, stall, chain.entries).status_code == 200
    good = checkcode.parse(checkcode.make(stall.device_id, sold[1].seq, sold[1].hash))
    status, page = answer(client, checkcode.make(stall.device_id, sold[1].seq, sold[1].hash))
    assert status == 200 and b'data-state="registered"' in page
    free_prefix = next(f"{n:03x}" for n in range(4096)
                       if not stall.device_id.startswith(f"{n:03x}"))
    misses = [other_code(good, hash_bits=good.hash_bits ^ 1),          # exists, another hash
              other_code(good, seq=10 ** 9),                           # no such seq
              other_code(good, device_prefix=free_prefix),             # no device there
              checkcode.make(stall.device_id, move.seq, move.hash),    # a cash move, not a sale
              other_code(good, seq=checkcode.MAX_SEQ)]                 # the largest seq
    answers = [answer(client, miss) for miss in misses]
    assert {status for status, _ in answers} == {200}
    assert len({result_part(body) for _, body in answers}) == 1
    assert b'data-state="not_registered"' in answers[0][1]
    # … and the same as a QR text that matches nothing.
    assert result_part(answer(client, qr_code(stall.device_id, sold[0], total=1))[1]) == \
        result_part(answers[0][1])


def test_typed_codes_are_rationed_per_device_tag_not_the_qr(app, client, stall):
    """A sweep of one stall's receipts by typed codes runs dry whoever sends it; the QR, and
    the codes of other stalls, are not held up by it."""
    app.config["CHECK_CODE_TAG_LIMIT"] = 3
    app.extensions["market_server"]["check_limiter"].limit = 1000
    chain = Chain(stall.device_id)
    sold = chain.sales_run(2)
    assert push(client, stall, chain.entries).status_code == 200
    good = checkcode.parse(checkcode.make(stall.device_id, sold[0].seq, sold[0].hash))
    for guess in range(3):
        status, _ = answer(client, other_code(good, hash_bits=guess))
        assert status == 200
    for address in ("203.0.113.7", "198.51.100.9"):   # from anywhere
        limited = client.get("/check", query_string={"c": checkcode.make(
            stall.device_id, sold[1].seq, sold[1].hash)}, environ_base={"REMOTE_ADDR": address})
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert answer(client, qr_code(stall.device_id, sold[1]))[0] == 200   # the QR: untouched
    elsewhere = other_code(good, device_prefix=f"{(int(good.device_prefix, 16) + 1) % 4096:03x}")
    assert answer(client, elsewhere)[0] == 200


HOSTILE = [
    "A" * 300, "-" * 300, " " * 299 + "x", "0" * 22, "Z" * 22, "Z" * 23, "ZZZZ-" * 60,
    "ＡＢＣＤ－ＥＦＧＨ－ＪＫＭＮ", "7KQ2-M9XD-4HR\u0000", "\u202e7KQ2-M9XD-4HRT", "ǅ" * 100,
    "٣٣٣٣-٣٣٣٣-٣٣٣٣", ":" * 300, "%3b" * 100, "?c=" * 100, "https://x/check?c=" + "Z" * 20,
    "MP1;" + ";" * 295, "mp1;" + "a" * 296, "7KQ2-M9XD-4HRT:" * 20, "1" * 12,
    "ZZZZZZZZZZZZZZZZZZZZZZ",   # the largest number 22 characters hold: a seq past 2**63
    "\U0001F600" * 75,
]


def test_hostile_text_is_answered_quickly_and_plainly(app, client, stall):
    """Nothing typed into /check takes time or fails: each answer is a page (200 or 400) within
    a quarter of a second, and the parser reads 20,000 random strings in well under a second."""
    app.extensions["market_server"]["check_limiter"].limit = 10_000
    app.config["CHECK_CODE_TAG_LIMIT"] = 10_000
    started = time.monotonic()
    for text in HOSTILE:
        begun = time.monotonic()
        response = client.get("/check", query_string={"c": text})
        assert response.status_code in (200, 400), text
        assert time.monotonic() - begun < 0.25, text
    assert time.monotonic() - started < 3.0
    import random
    rng = random.Random(17)
    alphabet = checkcode.ALPHABET + "oil-: \u00e0\u1ea1ZZ"
    started = time.monotonic()
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        try:
            found = checkcode.parse(text)
        except checkcode.CheckCodeError as exc:
            assert exc.reason in ("typo", "shape")
        else:
            assert 1 <= found.seq <= checkcode.MAX_SEQ and len(found.device_prefix) == 3
    assert time.monotonic() - started < 1.0
