"""The server's schema (SQLAlchemy Core) and engines for SQLite and PostgreSQL.

Every table that grows with sales is keyed by `device_id` first, and nothing hands out numbers
across devices, so that the journal can later be distributed by `device_id` (Citus) without
changing a query. Money and quantities are integers (BigInteger); there is no float column.
Times the server keeps are aware UTC datetimes in Python, `timestamptz` on PostgreSQL and the
journal's own `2026-11-22T08:15:30.123Z` text on SQLite (which sorts and compares correctly).
"""
from __future__ import annotations

import logging
import os
import threading
import weakref
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Column, Date, DateTime, Engine,
                        FetchedValue, ForeignKey, Index, Integer, MetaData,
                        PrimaryKeyConstraint, String, Table, Text, UniqueConstraint,
                        create_engine, event, false, text, true)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import TypeDecorator

from sync.protocol import GENESIS_HASH, parse_timestamp, utc_timestamp

logger = logging.getLogger(__name__)

DATABASE_ENV = "MARKET_SERVER_DATABASE"
DATA_ENV = "MARKET_SERVER_DATA"
DATABASE_FILE = "market-server.sqlite3"
BUSY_TIMEOUT_MS = 30_000
CLOCK_FLAGS = ("ahead", "behind")
ALERT_KINDS = ("conflict", "broken_chain", "bad_hash", "clock", "einvoice_range", "einvoice_seller")


class UtcTimestamp(TypeDecorator[datetime]):
    """An aware UTC datetime: `timestamptz` on PostgreSQL, fixed-width ISO text on SQLite."""

    impl = String(24)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(DateTime(timezone=True))
        return dialect.type_descriptor(String(24))

    def process_bind_param(self, value: datetime | None, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: pass an aware UTC time")
        return value.astimezone(timezone.utc) if dialect.name == "postgresql" \
            else utc_timestamp(value)

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.astimezone(timezone.utc)
        return parse_timestamp(value)


def _id() -> Any:
    """An auto-numbered key for the small administrative tables (never for per-device data)."""
    return BigInteger().with_variant(Integer(), "sqlite")


def _month() -> Column[date]:
    """The month (UTC, its first day) in which the server stored the entry: on PostgreSQL the
    partition key of the journal and of the tables projected from it (PARTITIONED_TABLES;
    revision 0016 and docs/SCALE.md, "PostgreSQL partitions and the read replica"). The
    database fills it (FetchedValue: no INSERT names it): PostgreSQL's column default is the
    month of transaction_timestamp(), so an entry and every row projected from it, written in
    one transaction, share a month and an archive takes them together. SQLite, never
    partitioned, has the column only so that one schema serves both backends (1970-01-01;
    nothing reads it there)."""
    return Column("month", Date(), nullable=False, server_default=FetchedValue())


metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

# --- places and stalls (small reference tables) ------------------------------------------------

provinces = Table(
    "provinces", metadata,
    Column("id", _id(), primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
)

communes = Table(
    "communes", metadata,
    Column("id", _id(), primary_key=True, autoincrement=True),
    Column("province_id", _id(), ForeignKey("provinces.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("district", String(100)),
    UniqueConstraint("province_id", "name"),
)

markets = Table(
    "markets", metadata,
    Column("id", _id(), primary_key=True, autoincrement=True),
    Column("commune_id", _id(), ForeignKey("communes.id"), nullable=False),
    Column("name", String(100), nullable=False),
    UniqueConstraint("commune_id", "name"),
)

stalls = Table(
    "stalls", metadata,
    Column("id", _id(), primary_key=True, autoincrement=True),
    Column("market_id", _id(), ForeignKey("markets.id"), nullable=False, index=True),
    Column("name", String(120), nullable=False),
    Column("vendor_name", String(120)),
    Column("created_at", UtcTimestamp(), nullable=False),
    Column("revoked_at", UtcTimestamp()),
)

# --- devices, pairing and tokens ----------------------------------------------------------------

devices = Table(
    "devices", metadata,
    Column("device_id", String(36), primary_key=True),
    Column("stall_id", _id(), ForeignKey("stalls.id"), nullable=False, unique=True),
    Column("acked_seq", BigInteger(), nullable=False, server_default="0"),
    Column("head_hash", String(64), nullable=False, server_default=GENESIS_HASH),
    Column("paired_at", UtcTimestamp()),
    Column("last_sync_at", UtcTimestamp()),
    Column("clock_offset_ms", BigInteger()),
    CheckConstraint("acked_seq >= 0", name="acked_seq"),
)

pairing_codes = Table(
    "pairing_codes", metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("stall_id", _id(), ForeignKey("stalls.id"), nullable=False, index=True),
    Column("device_id", String(36), nullable=False),
    Column("created_at", UtcTimestamp(), nullable=False),
    Column("expires_at", UtcTimestamp(), nullable=False),
    Column("used_at", UtcTimestamp()),
)

device_tokens = Table(
    "device_tokens", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("device_id", String(36), nullable=False, index=True),
    Column("created_at", UtcTimestamp(), nullable=False),
    Column("revoked_at", UtcTimestamp()),
    # The stall's Ed25519 public key for USB bundles (hex), registered with this token; the
    # private half never leaves the stall, so a copy of this table cannot sign a bundle.
    Column("signing_key", String(64)),
)

# --- the journal, exactly as the stalls wrote it -----------------------------------------------

journal = Table(
    "journal", metadata,
    Column("device_id", String(36), nullable=False),
    Column("seq", BigInteger(), nullable=False),
    Column("id", String(36), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("at", String(24), nullable=False),        # the device's time, as hashed
    Column("payload", Text(), nullable=False),       # canonical JSON, as hashed
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("received_at", UtcTimestamp(), nullable=False),
    Column("clock_flag", String(8)),
    _month(),
    PrimaryKeyConstraint("device_id", "seq"),
    CheckConstraint("seq >= 1", name="seq"),
    CheckConstraint("clock_flag IS NULL OR clock_flag IN ('ahead', 'behind')", name="clock_flag"),
)

# --- projections of the journal, keyed like it -------------------------------------------------

sales = Table(
    "sales", metadata,
    Column("device_id", String(36), nullable=False),
    Column("seq", BigInteger(), nullable=False),
    Column("sale_id", String(36), nullable=False),
    Column("number", BigInteger(), nullable=False),
    Column("at", String(24), nullable=False),
    Column("business_day", String(10), nullable=False),
    Column("total", BigInteger(), nullable=False),
    Column("cash", BigInteger(), nullable=False),
    Column("qr", BigInteger(), nullable=False),
    Column("sold_by", String(40)),
    Column("voided_seq", BigInteger()),
    _month(),
    PrimaryKeyConstraint("device_id", "seq"),
    Index(None, "device_id", "business_day"),
)

sale_lines = Table(
    "sale_lines", metadata,
    Column("device_id", String(36), nullable=False),
    Column("seq", BigInteger(), nullable=False),
    Column("line_no", Integer(), nullable=False),
    Column("product_id", BigInteger()),
    Column("name", String(200), nullable=False),
    Column("unit", String(32), nullable=False),
    Column("quantity_milli", BigInteger(), nullable=False),
    Column("unit_price", BigInteger(), nullable=False),
    Column("amount", BigInteger(), nullable=False),
    # The product's category and OCOP stars as the stall had them when it sold (the latest
    # `product` entry of that product before the sale; else the reference catalogue's product of
    # that name in the stall's scope; '' and 0 for a line typed without a product), frozen at
    # projection so that later changes of the product do not rewrite past figures.
    Column("category", String(40), nullable=False, server_default=""),
    Column("ocop_stars", Integer(), nullable=False, server_default="0"),
    _month(),
    PrimaryKeyConstraint("device_id", "seq", "line_no"),
)

# The stall's own products as its `product` entries described them, one row per entry (a
# product's history): what a sale line's category and OCOP stars are read from.
product_entries = Table(
    "product_entries", metadata,
    Column("device_id", String(36), nullable=False),
    Column("seq", BigInteger(), nullable=False),
    Column("product_id", BigInteger(), nullable=False),
    Column("name", String(200), nullable=False),
    Column("unit", String(32), nullable=False),
    Column("category", String(40), nullable=False),
    Column("ocop_stars", Integer(), nullable=False),
    PrimaryKeyConstraint("device_id", "seq"),
    Index(None, "device_id", "product_id", "seq"),
)

payments = Table(
    "payments", metadata,
    Column("device_id", String(36), nullable=False),
    Column("seq", BigInteger(), nullable=False),
    Column("line_no", Integer(), nullable=False),
    Column("method", String(16), nullable=False),
    Column("amount", BigInteger(), nullable=False),
    Column("tendered", BigInteger()),
    Column("change", BigInteger()),
    Column("reference", String(16)),                 # QR payments: the code's payment reference
    Column("state", String(16)),                     # QR: vendor_confirmed|bank_confirmed|mismatch
    # Credit (the stall's credit book, issue 18): the stall's own number of the customer who
    # owes it. Never her name: that travels sealed in `customer` entries and is not projected.
    Column("customer_id", BigInteger()),
    _month(),
    PrimaryKeyConstraint("device_id", "seq", "line_no"),
)

# The credit parts of sales (few among many payments), for the rollups' rebuild and voids.
CREDIT_PAYMENTS = text("method = 'credit'")
Index("ix_payments_credit", payments.c.device_id, payments.c.seq, sqlite_where=CREDIT_PAYMENTS,
      postgresql_where=CREDIT_PAYMENTS)

voids = Table(
    "voids", metadata,
    Column("device_id", String(36), nullable=False),
    Column("seq", BigInteger(), nullable=False),
    Column("sale_id", String(36), nullable=False),
    Column("sale_seq", BigInteger(), nullable=False),
    Column("reason", String(400), nullable=False),
    Column("amount", BigInteger(), nullable=False),
    Column("business_day", String(10)),
    Column("at", String(24), nullable=False),
    _month(),
    PrimaryKeyConstraint("device_id", "seq"),
    Index(None, "device_id", "sale_seq"),
)

# Refunds of part of a sale (the stall's `refund` entries): counted on the refund's own day.
refunds = Table(
    "refunds", metadata,
    Column("device_id", String(36), nullable=False),
    Column("seq", BigInteger(), nullable=False),
    Column("sale_id", String(36), nullable=False),
    Column("sale_seq", BigInteger(), nullable=False),
    Column("business_day", String(10), nullable=False),
    Column("total", BigInteger(), nullable=False),
    Column("cash", BigInteger(), nullable=False),
    Column("qr", BigInteger(), nullable=False),
    Column("reason", String(400), nullable=False),
    Column("at", String(24), nullable=False),
    # Given back off the debt of the customer the sale was put on credit for (issue 18).
    Column("credit", BigInteger(), nullable=False, server_default="0"),
    _month(),
    PrimaryKeyConstraint("device_id", "seq"),
    Index(None, "device_id", "sale_seq"),
    Index(None, "business_day"),
)

refund_lines = Table(
    "refund_lines", metadata,
    Column("device_id", String(36), nullable=False),
    Column("seq", BigInteger(), nullable=False),
    Column("line_no", Integer(), nullable=False),      # the sale line's position
    Column("name", String(200), nullable=False),
    Column("unit", String(32), nullable=False),
    Column("quantity_milli", BigInteger(), nullable=False),
    Column("amount", BigInteger(), nullable=False),
    _month(),
    PrimaryKeyConstraint("device_id", "seq", "line_no"),
)

# The credit book (issue 18): repayments of the stalls' `credit_payment` entries, counted on
# their own business day, and which customer numbers each stall has. A buyer's name, phone and
# note travel only sealed with the vendor's key (docs/SYNC.md, "Personal data"): they stay in
# the journal's payload as pushed and are projected nowhere; the server has no key to open them.
credit_payments = Table(
    "credit_payments", metadata,
    Column("device_id", String(36), nullable=False),
    Column("seq", BigInteger(), nullable=False),
    Column("customer_id", BigInteger(), nullable=False),   # the stall's own number of her
    Column("amount", BigInteger(), nullable=False),
    Column("method", String(16), nullable=False),           # cash | qr
    Column("business_day", String(10), nullable=False),
    Column("at", String(24), nullable=False),
    PrimaryKeyConstraint("device_id", "seq"),
    CheckConstraint("method IN ('cash', 'qr')", name="method"),
    Index(None, "device_id", "business_day"),
)

# The lines of the goods a stall bought from growers (issue 19), per product and business day:
# figures only. The grower's name, ID number, address and phone travel sealed with the vendor's
# key and stay in the journal as pushed; `stock_count` entries are projected nowhere.
purchase_lines = Table(
    "purchase_lines", metadata,
    Column("device_id", String(36), nullable=False),
    Column("seq", BigInteger(), nullable=False),
    Column("line_no", Integer(), nullable=False),
    Column("product_id", BigInteger(), nullable=False),     # the stall's own product number
    Column("name", String(120), nullable=False),
    Column("unit", String(16), nullable=False),
    Column("quantity_milli", BigInteger(), nullable=False),
    Column("amount", BigInteger(), nullable=False),
    Column("business_day", String(10), nullable=False),
    _month(),
    PrimaryKeyConstraint("device_id", "seq", "line_no"),
    Index(None, "device_id", "business_day"),
)

# Only that a customer exists at a stall: her number and the entry that first named her.
credit_customers = Table(
    "credit_customers", metadata,
    Column("device_id", String(36), nullable=False),
    Column("customer_id", BigInteger(), nullable=False),
    Column("seq", BigInteger(), nullable=False),
    PrimaryKeyConstraint("device_id", "customer_id"),
)

cash_moves = Table(
    "cash_moves", metadata,
    Column("device_id", String(36), nullable=False),
    Column("seq", BigInteger(), nullable=False),
    Column("business_day", String(10), nullable=False),
    Column("type", String(16), nullable=False),
    Column("amount", BigInteger(), nullable=False),
    Column("reason", String(400)),
    Column("at", String(24), nullable=False),
    _month(),
    PrimaryKeyConstraint("device_id", "seq"),
    Index(None, "device_id", "business_day"),
)

day_closes = Table(
    "day_closes", metadata,
    Column("device_id", String(36), nullable=False),
    Column("seq", BigInteger(), nullable=False),
    Column("business_day", String(10), nullable=False),
    Column("z_number", BigInteger(), nullable=False),
    Column("expected_cash", BigInteger(), nullable=False),
    Column("counted_cash", BigInteger(), nullable=False),
    Column("difference", BigInteger(), nullable=False),
    Column("at", String(24), nullable=False),
    _month(),
    PrimaryKeyConstraint("device_id", "seq"),
    Index(None, "device_id", "business_day"),
)

integrity_alerts = Table(
    "integrity_alerts", metadata,
    Column("device_id", String(36), nullable=False),
    Column("id", String(36), nullable=False),        # a UUID: no cross-device counter
    Column("seq", BigInteger(), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("message", Text(), nullable=False),
    Column("stored_entry", Text()),                  # canonical JSON of our copy, if any
    Column("received_entry", Text(), nullable=False),
    Column("created_at", UtcTimestamp(), nullable=False),
    Column("resolved_at", UtcTimestamp()),
    Column("resolved_by", String(100)),
    Column("note", Text()),
    PrimaryKeyConstraint("device_id", "id"),
    CheckConstraint("kind IN ('conflict', 'broken_chain', 'bad_hash', 'clock', 'einvoice_range',"
                    " 'einvoice_seller')", name="kind"),
    Index(None, "device_id", "seq"),
)

# --- QR-transfer payments: bank notifications in, confirmations down (sync/server/bank.py) ----

webhook_secrets = Table(
    "webhook_secrets", metadata,
    Column("id", _id(), primary_key=True),
    Column("name", String(40), nullable=False),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcTimestamp(), nullable=False),
    Column("revoked_at", UtcTimestamp()),
)

bank_notifications = Table(
    "bank_notifications", metadata,
    Column("id", _id(), primary_key=True, autoincrement=True),
    Column("txn_id", String(64), nullable=False, unique=True),   # the bank's; a resend is a no-op
    Column("amount", BigInteger(), nullable=False),
    Column("description", String(500), nullable=False),
    Column("account", String(32)),
    Column("paid_at", UtcTimestamp()),
    Column("received_at", UtcTimestamp(), nullable=False),
    Column("reference", String(16)),                            # e.g. "SAP12 0457", if found
    Column("device_id", String(36), index=True),                # the stall it was routed to
    Column("acknowledged_at", UtcTimestamp()),                  # an unrouted one, seen by an admin
    Column("acknowledged_by", String(100)),
)

qr_checks = Table(
    "qr_checks", metadata,
    Column("device_id", String(36), nullable=False),
    Column("seq", BigInteger(), nullable=False),
    Column("reference", String(16)),
    Column("sale_id", String(36)),
    Column("state", String(16), nullable=False),
    Column("reason", String(32)),
    Column("bank_txn", String(64)),
    Column("bank_amount", BigInteger()),
    Column("expected", BigInteger()),
    Column("source", String(16), nullable=False),
    Column("business_day", String(10)),
    Column("at", String(24), nullable=False),
    _month(),
    PrimaryKeyConstraint("device_id", "seq"),
    CheckConstraint("state IN ('bank_confirmed', 'mismatch')", name="state"),
    Index(None, "device_id", "sale_id"),
)

# The tables that grow with every entry, partitioned by `month` on PostgreSQL (revision 0016):
# the journal and its per-entry projections. Not partitioned: `product_entries` (a product's
# history decides the category of sales years later), `credit_customers` (one row a customer),
# `credit_payments` (a few repayments: its columns are the credit book's promise of what the
# server keeps), `integrity_alerts` (an administrator's work list) and `einvoice_queue` (a
# queue whose rows change state, found by ON CONFLICT (device_id, seq)). On PostgreSQL each
# partitioned table's stored primary key is its key here plus `month` (PostgreSQL requires the
# partition key in it); (device_id, seq) stays unique across months because the push stores
# only seq = acked_seq + 1 under the device's row lock (sync/server/store.py push), and a
# restored month is checked against the live ones before it is attached (partitions.py).
PARTITIONED_TABLES = (journal, sales, sale_lines, payments, voids, refunds, refund_lines,
                      cash_moves, day_closes, qr_checks, purchase_lines)


# --- the reference catalogue, flowing down ------------------------------------------------------

catalogue_products = Table(
    "catalogue_products", metadata,
    Column("id", _id(), primary_key=True, autoincrement=True),
    Column("province_id", _id(), ForeignKey("provinces.id"), nullable=False, index=True),
    Column("commune_id", _id(), ForeignKey("communes.id")),
    Column("market_id", _id(), ForeignKey("markets.id")),
    Column("name", String(120), nullable=False),
    Column("unit", String(16), nullable=False),
    Column("price", BigInteger(), nullable=False),
    Column("category", String(40)),
    Column("binding", Boolean(), nullable=False, server_default=false()),
    Column("active", Boolean(), nullable=False, server_default=true()),
    Column("ocop_stars", Integer()),
    Column("version", BigInteger(), nullable=False),
    CheckConstraint("price >= 0", name="price"),
    CheckConstraint("ocop_stars IS NULL OR ocop_stars IN (3, 4, 5)", name="ocop_stars"),
)

catalogue_state = Table(
    "catalogue_state", metadata,
    Column("id", Integer(), primary_key=True, autoincrement=False),
    Column("version", BigInteger(), nullable=False, server_default="0"),
    CheckConstraint("id = 1", name="single_row"),
)


# --- people who use the server (sync/server/users.py) ---------------------------------------

users = Table(
    "users", metadata,
    Column("id", _id(), primary_key=True),
    Column("username", String(40), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(10), nullable=False),
    Column("province_id", _id(), ForeignKey("provinces.id")),
    Column("commune_id", _id(), ForeignKey("communes.id")),
    Column("created_at", UtcTimestamp(), nullable=False),
    Column("session_key", String(32)),  # in the session cookie; changed at log-out
    CheckConstraint("role IN ('admin', 'viewer')", name="role"),
)

# Wrong passwords per user name, existing or not (sync/lockout.py keeps the rule).
login_guard = Table(
    "login_guard", metadata,
    Column("username", String(40), primary_key=True),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("lockouts", Integer, nullable=False, server_default="0"),
    Column("locked_until", UtcTimestamp()),
    Column("last_failure_at", UtcTimestamp(), index=True),
)

# Hits per scope ("pair", "check", "check_code") and key (a client address or a device tag) in
# the current window, shared by every server process (sync/server/ratelimit.py). A window starts
# at the key's first hit after the last one ended; times are milliseconds since the epoch.
rate_limits = Table(
    "rate_limits", metadata,
    Column("scope", String(16), nullable=False),
    Column("key", String(64), nullable=False),
    Column("window_start", BigInteger(), nullable=False),
    Column("hits", Integer(), nullable=False),
    PrimaryKeyConstraint("scope", "key"),
    Index(None, "scope", "window_start"),
)


# --- dashboard rollups, maintained as entries are projected (sync/server/rollups.py) ----------
# One row per stall and period, and per market and period (a province's page then sums a few
# hundred rows, never one per stall). Figures are net of voids: a voided sale leaves `sales`,
# `revenue`, `cash`, `qr`, `qr_sales` and `credit` of its own business day and is counted in
# `voids`/`voided` instead; a refund takes what it gave back out of `revenue`, `cash`, `qr` and
# `credit` of the refund's own day and counts in `refunds`/`refunded`. `credit` is the part of
# sales put on the buyers' accounts (revenue, neither cash nor transfer); `repaid` what buyers
# paid back of their debts on that day (`repaid_cash` + `repaid_qr`; not revenue: it was counted
# when sold). `purchases` is how many times the stalls bought from growers on that day (issue 19,
# `purchase` entries) and `purchased` what they paid for it in đồng: a cost, never in revenue.
# `kind` is d (a business day, period "2026-11-22"), w (an ISO week, "2026-W47") or m (a month,
# "2026-11").

def _figures() -> list[Column[Any]]:
    return [Column(name, BigInteger(), nullable=False, server_default="0")
            for name in ("sales", "revenue", "cash", "qr", "qr_sales", "voids", "voided",
                         "refunds", "refunded", "credit", "repaid", "repaid_cash",
                         "repaid_qr", "purchases", "purchased")]


stall_periods = Table(
    "stall_periods", metadata,
    Column("device_id", String(36), nullable=False),
    Column("kind", String(1), nullable=False),
    Column("period", String(10), nullable=False),
    Column("province_id", _id(), nullable=False),
    Column("commune_id", _id(), nullable=False),
    Column("market_id", _id(), nullable=False),
    *_figures(),
    PrimaryKeyConstraint("device_id", "kind", "period"),
    CheckConstraint("kind IN ('d', 'w', 'm')", name="kind"),
    Index(None, "kind", "period", "province_id", "commune_id", "market_id"),
)

market_periods = Table(
    "market_periods", metadata,
    Column("market_id", _id(), nullable=False),
    Column("kind", String(1), nullable=False),
    Column("period", String(10), nullable=False),
    Column("province_id", _id(), nullable=False),
    Column("commune_id", _id(), nullable=False),
    *_figures(),
    Column("active", BigInteger(), nullable=False, server_default="0"),  # stalls with sales
    PrimaryKeyConstraint("market_id", "kind", "period"),
    CheckConstraint("kind IN ('d', 'w', 'm')", name="kind"),
    Index(None, "kind", "period", "province_id", "commune_id"),
)

# The dashboard's alerts read the QR mismatches of a period (qr_checks is one row per QR payment).
Index("ix_qr_checks_state_business_day", qr_checks.c.state, qr_checks.c.business_day)

product_periods = Table(
    "product_periods", metadata,
    Column("market_id", _id(), nullable=False),
    Column("kind", String(1), nullable=False),
    Column("period", String(10), nullable=False),
    Column("name", String(200), nullable=False),
    Column("unit", String(32), nullable=False),
    Column("category", String(40), nullable=False),   # the sale lines' ('' for none)
    Column("ocop_stars", Integer(), nullable=False),  # the sale lines' (0 for none)
    Column("province_id", _id(), nullable=False),
    Column("commune_id", _id(), nullable=False),
    Column("quantity_milli", BigInteger(), nullable=False, server_default="0"),
    Column("revenue", BigInteger(), nullable=False, server_default="0"),
    Column("lines", BigInteger(), nullable=False, server_default="0"),
    PrimaryKeyConstraint("market_id", "kind", "period", "name", "unit", "category",
                         "ocop_stars"),
    CheckConstraint("kind IN ('d', 'w', 'm')", name="kind"),
    Index(None, "kind", "period", "province_id", "commune_id"),
)

# Produce the stalls bought from growers (issue 19), per market, period and product (name and
# unit as the purchase lines froze them): the quantity, what was paid for it, and in how many
# purchases it was bought (a purchase of two lines of one product counts once). Never a grower.
purchase_periods = Table(
    "purchase_periods", metadata,
    Column("market_id", _id(), nullable=False),
    Column("kind", String(1), nullable=False),
    Column("period", String(10), nullable=False),
    Column("name", String(120), nullable=False),
    Column("unit", String(16), nullable=False),
    Column("province_id", _id(), nullable=False),
    Column("commune_id", _id(), nullable=False),
    Column("quantity_milli", BigInteger(), nullable=False, server_default="0"),
    Column("amount", BigInteger(), nullable=False, server_default="0"),
    Column("purchases", BigInteger(), nullable=False, server_default="0"),
    PrimaryKeyConstraint("market_id", "kind", "period", "name", "unit"),
    CheckConstraint("kind IN ('d', 'w', 'm')", name="kind"),
    Index(None, "kind", "period", "province_id", "commune_id"),
)


# --- MTT e-invoices on their way to the provider (sync/server/einvoice) -------------------------
# One row per invoice-carrying entry, keyed like the journal. `state`: queued → sending (in a batch
# being posted) → sent (the provider has it: poll) → received (status 8, the tax authority has
# it) | rejected (the provider refused it: correct it at the stall); manual (exported for upload
# by hand); duplicate (another device of the same seller already sent this code: never sent).
# An invoice is its seller's tax code and its code: another seller's use of a code (or of a whole
# range, `code_range`, which raises an `einvoice_range` alert) never stops this seller's invoice.

NOT_DUPLICATE = text("state <> 'duplicate'")

einvoice_queue = Table(
    "einvoice_queue", metadata,
    Column("device_id", String(36), nullable=False),
    Column("seq", BigInteger(), nullable=False),
    Column("code", String(23), nullable=False),
    Column("seller_tax_code", String(14), nullable=False, server_default=""),
    Column("code_range", String(11), nullable=False, server_default=""),   # M2-26-A1B2C
    Column("kind", String(32), nullable=False),
    Column("related_code", String(23)),
    Column("business_day", String(10), nullable=False),
    Column("total", BigInteger(), nullable=False),
    Column("xml", Text(), nullable=False),
    Column("state", String(10), nullable=False),
    Column("batch_id", String(36)),
    Column("provider_status", Integer()),
    Column("message", Text()),
    Column("queued_at", UtcTimestamp(), nullable=False),
    Column("sent_at", UtcTimestamp()),
    Column("received_at", UtcTimestamp()),
    PrimaryKeyConstraint("device_id", "seq"),
    CheckConstraint("state IN ('queued', 'sending', 'sent', 'received', 'rejected', 'manual',"
                    " 'duplicate')", name="state"),
    Index(None, "state", "queued_at"),
    Index(None, "batch_id"),
    Index(None, "seller_tax_code", "code", unique=True, sqlite_where=NOT_DUPLICATE,
          postgresql_where=NOT_DUPLICATE),
    Index(None, "code_range", "seller_tax_code"),
)

# The device whose invoices a tax code's codes belong to: the first to send invoices under it, or
# the one an officer named (`market-server einvoice-holder`). When another device sends a code of
# that tax code, the holder's invoice keeps it (one not yet sent is taken back from the other),
# and an `einvoice_seller` alert names both: a stall that copied a neighbour's tax code and range
# cannot silence the neighbour's invoices (issue 15).
tax_code_holders = Table(
    "tax_code_holders", metadata,
    Column("seller_tax_code", String(14), primary_key=True),
    Column("device_id", String(36), nullable=False),
    Column("seq", BigInteger(), nullable=False),          # its first invoice entry (0: none yet)
    Column("bound_by", String(100), nullable=False),      # "first use" or the officer's name
    Column("bound_at", UtcTimestamp(), nullable=False),
)

einvoice_batches = Table(
    "einvoice_batches", metadata,
    Column("batch_id", String(36), primary_key=True),    # a UUID, also the idempotency key
    Column("state", String(10), nullable=False),
    Column("transaction_id", String(100)),
    Column("invoices", Integer(), nullable=False),
    Column("attempts", Integer(), nullable=False, server_default="0"),
    Column("next_attempt_at", UtcTimestamp(), nullable=False),
    Column("last_error", Text()),
    Column("created_at", UtcTimestamp(), nullable=False),
    Column("sent_at", UtcTimestamp()),
    Column("done_at", UtcTimestamp()),
    CheckConstraint("state IN ('sending', 'sent', 'done')", name="state"),
    Index(None, "state", "next_attempt_at"),
)


# --- engines -------------------------------------------------------------------------------------

def default_data_dir() -> Path:
    """MARKET_SERVER_DATA, else the user's data folder (like the stall's)."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(base) / "market-server"


def default_database_url() -> str:
    """MARKET_SERVER_DATABASE, else a SQLite file in the server's data folder."""
    return os.environ.get(DATABASE_ENV) or f"sqlite:///{default_data_dir() / DATABASE_FILE}"


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for plain `postgresql://` URLs."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str | None = None, *, pool_size: int | None = None) -> Engine:
    """An engine for `url`: SQLite with the durability pragmas, or PostgreSQL through psycopg.

    On SQLite every transaction starts with BEGIN IMMEDIATE (it takes the write lock up front, so
    concurrent writers queue on the busy timeout instead of failing half-way); readers that want
    to run beside a writer use `read_transaction`, which begins DEFERRED.

    Each process keeps its own pool; on PostgreSQL `pool_size` connections (one per serving
    thread; 10 by default) and twice as many in overflow. A process forked from one that used
    the engine (a pre-fork server's worker) starts with an empty pool of its own, never the
    parent's sockets or SQLite handles (docs/SCALE.md, "Processes and the balancer").
    """
    url = normalise_url(url or default_database_url())
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000,
                                                  "check_same_thread": False})
        _prepare_sqlite(engine)
        _fresh_pool_after_fork(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        size = pool_size or 10
        engine = create_engine(url, pool_pre_ping=True, pool_size=size, max_overflow=2 * size)
        _fresh_pool_after_fork(engine)
        return engine
    raise ValueError(f"unsupported database {parsed.get_backend_name()!r}: use SQLite or "
                     "PostgreSQL")


def _fresh_pool_after_fork(engine: Engine) -> None:
    """In a forked child, drop the pool inherited from the parent without closing its sockets
    (they are the parent's: SQLAlchemy's "Using Connection Pools with Multiprocessing")."""
    ref = weakref.ref(engine)

    def _after_fork_in_child() -> None:
        inherited = ref()
        if inherited is not None:
            inherited.dispose(close=False)

    os.register_at_fork(after_in_child=_after_fork_in_child)


def _prepare_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One all-or-nothing write: BEGIN IMMEDIATE on SQLite, a plain transaction on PostgreSQL."""
    with engine.begin() as conn:
        yield conn


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A read-only snapshot that does not take SQLite's write lock."""
    with engine.connect() as conn:
        conn = conn.execution_options(sqlite_begin="DEFERRED")
        with conn.begin():
            yield conn


def insert_ignoring_duplicates(conn: Connection, table: Table,
                               on: list[str] | None = None) -> Any:
    """INSERT … ON CONFLICT DO NOTHING in the connection's dialect; with `on`, only a row
    already there under those columns is skipped, and breaking another unique key raises."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing(index_elements=on)


def utcnow() -> datetime:
    """The server's clock, as an aware UTC datetime."""
    return datetime.now(timezone.utc)


def get_engine() -> Engine:
    """The web app's database engine, for views: `with write_transaction(get_engine()) as conn`."""
    from flask import current_app
    return current_app.extensions["market_server"]["engine"]


# --- the dashboard's reads: a streaming replica, or the primary ---------------------------------
# MARKET_SERVER_READ_DATABASE (or the app's READ_DATABASE_URL) names a PostgreSQL hot standby
# that streams from the primary. The dashboard's figures (dashboard.py, figures.py) read there;
# everything that must see what was just written (logins, who may see which place, the admin
# pages, the sync API) reads the primary. "Correct" with a lagging replica means: a page is one
# snapshot (REPEATABLE READ: its totals, tables and alerts agree with one another), and it says
# the moment its figures are complete up to. Before reading, the primary's WAL position is
# taken; if the replica has replayed up to it, the figures hold every commit made before the
# page was asked for. Otherwise they hold every commit up to the last transaction the replica
# replayed (pg_last_xact_replay_timestamp()), and the page says so and by how much it lags. A
# replica further behind than MARKET_SERVER_READ_MAX_LAG seconds (default 60), or unreachable,
# is not used: the primary answers, current.

READ_DATABASE_ENV = "MARKET_SERVER_READ_DATABASE"
READ_MAX_LAG_ENV = "MARKET_SERVER_READ_MAX_LAG"
READ_MAX_LAG = 60.0
_READ_ENGINE_LOCK = threading.Lock()


@dataclass(frozen=True)
class Freshness:
    """How current a page's figures are."""

    source: str                   # "primary" or "replica"
    as_of: datetime               # every change committed before this moment is in them
    lag_seconds: float = 0.0      # how far behind the replica read was (0: caught up)
    fallback: str | None = None   # replica_behind | replica_unavailable: the primary answered


def get_read_engine() -> Engine | None:
    """The app's replica engine (made at first use), or None when none is configured."""
    from flask import current_app
    extensions = current_app.extensions["market_server"]
    if "read_engine" not in extensions:
        with _READ_ENGINE_LOCK:
            if "read_engine" not in extensions:
                url = (current_app.config.get("READ_DATABASE_URL")
                       or os.environ.get(READ_DATABASE_ENV))
                engine = None
                if url:
                    engine = make_engine(url, pool_size=current_app.config.get(
                        "DATABASE_POOL_SIZE"))
                    if engine.dialect.name != "postgresql" \
                            or get_engine().dialect.name != "postgresql":
                        logger.warning("%s is only used with PostgreSQL on both sides: the"
                                       " dashboard reads the primary", READ_DATABASE_ENV)
                        engine.dispose()
                        engine = None
                extensions["read_engine"] = engine
    return extensions["read_engine"]


def replica_freshness(primary: Engine, replica: Engine, now: datetime) -> Freshness:
    """How far `replica` is behind `primary`, measured before a read on it begins (so the
    snapshot the read then takes holds at least this much)."""
    with primary.connect() as conn:
        position = conn.execute(text("SELECT CAST(pg_current_wal_lsn() AS text)")).scalar_one()
    with replica.connect() as conn:
        row = conn.execute(text(
            "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() >= CAST(:position AS pg_lsn),"
            " pg_last_xact_replay_timestamp(), clock_timestamp()"),
            {"position": position}).one()
    standby, caught_up, replayed_at, replica_now = row
    if not standby or caught_up:
        return Freshness("replica", now)
    if replayed_at is None:  # nothing replayed since the standby started: no bound at all
        return Freshness("replica", now, float("inf"))
    lag = max(0.0, (replica_now - replayed_at).total_seconds())
    return Freshness("replica", replayed_at.astimezone(timezone.utc), lag)


@contextmanager
def snapshot_transaction(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction that sees one snapshot for all its queries (REPEATABLE READ on
    PostgreSQL, which a hot standby serves too, with partition-wise joins; a DEFERRED
    transaction on SQLite)."""
    if engine.dialect.name != "postgresql":
        with read_transaction(engine) as conn:
            yield conn
        return
    with engine.connect() as conn:
        # (Not postgresql_readonly: resetting it to read-write as the connection goes back
        # to the pool fails on a standby. A standby refuses writes by itself.)
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            # A join of two partitioned tables on their keys and `month` (a sale and its
            # lines) is then made month by month, and months with nothing to join cost
            # nothing: a stall's page stays as fast with years of months kept.
            conn.exec_driver_sql("SET LOCAL enable_partitionwise_join = on")
            yield conn


@contextmanager
def figures_transaction(now: datetime) -> Iterator[tuple[Connection, Freshness]]:
    """The dashboard's figures: one snapshot on the replica when it is close enough behind,
    else on the primary; with how current they are."""
    from flask import current_app
    engine, freshness = get_engine(), Freshness("primary", now)
    replica = get_read_engine()
    if replica is not None:
        max_lag = float(current_app.config.get("READ_MAX_LAG")
                        or os.environ.get(READ_MAX_LAG_ENV) or READ_MAX_LAG)
        try:
            measured = replica_freshness(engine, replica, now)
        except DBAPIError as exc:
            logger.warning("the read replica is not answering (%s): the primary answers",
                           exc.orig)
            freshness = Freshness("primary", now, fallback="replica_unavailable")
        else:
            if measured.lag_seconds > max_lag:
                logger.warning("the read replica is %.1f s behind (over %.0f s): the primary"
                               " answers", measured.lag_seconds, max_lag)
                freshness = Freshness("primary", now, fallback="replica_behind")
            else:
                engine, freshness = replica, measured
    with snapshot_transaction(engine) as conn:
        yield conn, freshness
