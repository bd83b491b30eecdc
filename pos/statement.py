"""Reading a bank statement CSV, so that a stall with no connection can still reconcile QR payments.

Vietnamese banks export statements with different columns and number styles. This reads the
header row and finds the columns by their usual names (Vietnamese or English, any case, with or
without diacritics): a transaction id, the credit amount, the description and the date. Amounts
may be written "200,000", "200.000" or "200000". Debit rows (money going out) are skipped. A row
without a transaction id gets a stable one from its own content, so importing the same file twice
changes nothing.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Iterator

from .bankcheck import BankTransaction
from sync.localtime import VIETNAM
from sync.money import MAX_PRICE
from .text import fold
from sync.numbers import MAX_NUMBER_CHARS, excerpt, whole_number_or_none
from sync.protocol import utc_timestamp

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 20_000
_AMOUNT_CHARACTERS = re.compile(r"[0-9.,]+")
_GROUPED_AMOUNT = re.compile(r"[0-9]{1,3}([.,][0-9]{3})+")
_PLAIN_AMOUNT = re.compile(r"[0-9]+([.,]0{1,2})?")

# Folded header names (see pos/text.py fold) for each column we need.
_COLUMNS = {
    "txn_id": ("ma giao dich", "so giao dich", "so tham chieu", "ma gd", "so but toan",
               "transaction id", "transaction no", "reference no", "reference", "ref no", "id"),
    "credit": ("so tien ghi co", "ghi co", "so tien vao", "tien vao", "credit", "credit amount",
               "so tien", "amount"),
    "debit": ("so tien ghi no", "ghi no", "tien ra", "debit", "debit amount"),
    "description": ("noi dung", "noi dung giao dich", "dien giai", "mo ta", "description",
                    "details", "content", "remark", "transaction details"),
    "date": ("ngay giao dich", "ngay gd", "thoi gian", "ngay", "transaction date", "date",
             "time", "posting date"),
}
_DATE_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S",
                 "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d", "%d-%m-%Y %H:%M:%S", "%d-%m-%Y")


class StatementError(ValueError):
    """The file cannot be read as a statement; the message says why, in English (the view
    shows its own Vietnamese text for each `code`)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class StatementRow:
    line: int
    transaction: BankTransaction


def parse_amount_text(text: str) -> int | None:
    """ "200,000" / "200.000" / "200000" / "+200,000 VND" → 200000; None if not a whole amount.

    An amount written with more than MAX_NUMBER_CHARS characters, or above MAX_PRICE, is a
    StatementError: it is refused by its text before Python builds it (issue 15).
    """
    cleaned = re.sub(r"(?i)vn[dđ]|₫|\s|\+", "", text or "")
    if not cleaned or cleaned.startswith("-"):
        return None
    if len(cleaned) > MAX_NUMBER_CHARS:
        if _AMOUNT_CHARACTERS.fullmatch(cleaned):
            raise StatementError("bad_amount", f"The amount {excerpt(cleaned)} is too large.")
        return None
    if _GROUPED_AMOUNT.fullmatch(cleaned):
        digits = re.sub(r"[.,]", "", cleaned)
    elif _PLAIN_AMOUNT.fullmatch(cleaned):   # "200000.00": no fractions of a đồng
        digits = re.split(r"[.,]", cleaned)[0]
    else:
        return None
    amount = whole_number_or_none(digits)
    if amount is None or amount > MAX_PRICE:
        raise StatementError("bad_amount", f"The amount {excerpt(cleaned)} is too large.")
    return amount


def _parse_date(text: str) -> str | None:
    text = (text or "").strip()
    for fmt in _DATE_FORMATS:
        try:
            moment = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return utc_timestamp(moment.replace(tzinfo=VIETNAM))
    return None


def _columns(header: list[str]) -> dict[str, int]:
    folded = [fold(name.strip().strip("\ufeff")) for name in header]
    found: dict[str, int] = {}
    for column, names in _COLUMNS.items():
        for name in names:  # the most specific name first
            if name in folded and folded.index(name) not in found.values():
                found[column] = folded.index(name)
                break
    if "credit" not in found or "description" not in found:
        raise StatementError("no_columns", "The file needs an amount (credit) column and a"
                             " description column in its first row.")
    return found


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1258"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise StatementError("not_text", "The file is not a text (CSV) file.")


def read_statement(data: bytes) -> Iterator[StatementRow]:
    """The statement's incoming transfers, in file order."""
    if len(data) > MAX_BYTES:
        raise StatementError("too_large", "The file is larger than 2 MB.")
    text = _decode(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        yield from _transactions(rows)
    except csv.Error as exc:
        raise StatementError("not_csv", f"The file is not valid CSV: {exc}") from None


def _transactions(rows: Iterator[list[str]]) -> Iterator[StatementRow]:
    header = next(rows, None)
    if not header:
        raise StatementError("empty", "The file is empty.")
    columns = _columns(header)
    for number, row in enumerate(rows, start=2):
        if number > MAX_ROWS + 1:
            raise StatementError("too_many_rows", f"At most {MAX_ROWS} rows.")
        if not any(cell.strip() for cell in row):
            continue
        cell = lambda name: row[columns[name]].strip() if name in columns and \
            columns[name] < len(row) else ""  # noqa: E731
        amount = parse_amount_text(cell("credit"))
        if amount is None or amount == 0 or parse_amount_text(cell("debit")):
            continue
        description = " ".join(cell("description").split())
        txn_id = cell("txn_id") or "row-" + hashlib.sha256(
            f"{cell('date')}|{amount}|{description}".encode("utf-8")).hexdigest()[:24]
        yield StatementRow(number, BankTransaction(txn_id[:64], amount, description,
                                                   _parse_date(cell("date"))))
