"""Stall schema migration 0009: tax.

Shipped: never edit it; a change to the schema is a new migration (pos/migrations/__init__.py).
"""
from __future__ import annotations

import sqlite_utils


def migrate(db: sqlite_utils.Database) -> None:
    # MTT e-invoices (pos/tax): a projection of the journal, written by triggers from the very
    # entry that carries the invoice, so an invoice exists exactly when its entry does. The
    # 11-digit number is gap-free per (range, year, device block): the counter row moves in the
    # same transaction, and a number that is not the next one is refused (no gap, no reuse).
    db.execute("""
        CREATE TABLE mtt_counters (
            mtt_range TEXT NOT NULL CHECK (length(mtt_range) = 5),
            year INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2099),
            block INTEGER NOT NULL CHECK (block BETWEEN 0 AND 99),
            last INTEGER NOT NULL CHECK (last BETWEEN 1 AND 999999999),
            PRIMARY KEY (mtt_range, year, block)
        ) STRICT""")
    db.execute("""
        CREATE TABLE tax_invoices (
            code TEXT PRIMARY KEY CHECK (length(code) = 23),
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            sale_id TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('original', 'adjustment', 'replacement')),
            related_code TEXT REFERENCES tax_invoices(code),
            form INTEGER NOT NULL CHECK (form IN (1, 2)),
            symbol TEXT NOT NULL CHECK (length(symbol) = 6),
            mtt_range TEXT NOT NULL,
            year INTEGER NOT NULL,
            block INTEGER NOT NULL,
            number INTEGER NOT NULL CHECK (number BETWEEN 1 AND 999999999),
            business_day TEXT NOT NULL,
            total INTEGER NOT NULL,
            at TEXT NOT NULL,
            CHECK ((kind = 'original') = (related_code IS NULL)),
            CHECK (code = printf('M%d-%02d-%s-%02d%09d', form, year % 100, mtt_range, block,
                                 number))
        ) STRICT""")
    db.execute("CREATE INDEX tax_invoices_sale ON tax_invoices(sale_id)")
    db.execute("CREATE INDEX tax_invoices_day ON tax_invoices(business_day)")
    db.execute("""
        CREATE TRIGGER tax_invoices_no_update BEFORE UPDATE ON tax_invoices
        BEGIN SELECT RAISE(ABORT, 'issued invoices are immutable'); END""")
    db.execute("""
        CREATE TRIGGER tax_invoices_no_delete BEFORE DELETE ON tax_invoices
        BEGIN SELECT RAISE(ABORT, 'issued invoices cannot be deleted'); END""")
    db.execute("""
        CREATE TRIGGER tax_invoices_gap_free BEFORE INSERT ON tax_invoices
        WHEN NEW.number IS NOT IFNULL((SELECT last FROM mtt_counters WHERE
                 mtt_range = NEW.mtt_range AND year = NEW.year AND block = NEW.block), 0) + 1
        BEGIN SELECT RAISE(ABORT, 'MTT invoice numbers must be gap-free'); END""")
    db.execute("""
        CREATE TRIGGER tax_invoices_count AFTER INSERT ON tax_invoices
        BEGIN
            INSERT INTO mtt_counters (mtt_range, year, block, last)
            VALUES (NEW.mtt_range, NEW.year, NEW.block, NEW.number)
            ON CONFLICT (mtt_range, year, block) DO UPDATE SET last = excluded.last;
        END""")
    db.execute("""
        CREATE TRIGGER journal_tax_invoice AFTER INSERT ON journal
        WHEN NEW.kind IN ('sale', 'invoice_correction')
         AND json_extract(NEW.payload, '$.invoice.code') IS NOT NULL
        BEGIN
            INSERT INTO tax_invoices (code, seq, sale_id, kind, related_code, form, symbol,
                                      mtt_range, year, block, number, business_day, total, at)
            VALUES (json_extract(NEW.payload, '$.invoice.code'), NEW.seq,
                    IFNULL(json_extract(NEW.payload, '$.sale_id'), NEW.id),
                    IFNULL(json_extract(NEW.payload, '$.type'), 'original'),
                    json_extract(NEW.payload, '$.original.code'),
                    json_extract(NEW.payload, '$.invoice.form'),
                    json_extract(NEW.payload, '$.invoice.symbol'),
                    json_extract(NEW.payload, '$.invoice.range'),
                    json_extract(NEW.payload, '$.invoice.year'),
                    json_extract(NEW.payload, '$.invoice.block'),
                    json_extract(NEW.payload, '$.invoice.number'),
                    json_extract(NEW.payload, '$.business_day'),
                    json_extract(NEW.payload, '$.total'), NEW.at);
        END""")
    # Per-product tax group and VAT applicability: the vendor's settings, copied into each sale
    # entry's payload when the sale is made (so the books never depend on today's settings).
    db.execute("""
        CREATE TABLE product_tax (
            product_id INTEGER PRIMARY KEY REFERENCES products(id),
            tax_group TEXT NOT NULL CHECK (length(tax_group) BETWEEN 1 AND 20),
            vat TEXT NOT NULL CHECK (vat IN ('applies', 'KCT'))
        ) STRICT""")
