-- ===== after 0001_journal =====
-- PRAGMA user_version = 0
-- applied: market-pos/0001_journal
-- table _sqlite_migrations ON _sqlite_migrations
CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
);
-- index idx__sqlite_migrations_migration_set_name ON _sqlite_migrations
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");
-- table journal ON journal
CREATE TABLE journal (
            seq INTEGER PRIMARY KEY CHECK (seq >= 1),
            id TEXT NOT NULL UNIQUE CHECK (length(id) = 36),
            device_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            at TEXT NOT NULL CHECK (length(at) = 24),
            payload TEXT NOT NULL,
            prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
            hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64)
        ) STRICT;
-- index sqlite_autoindex_journal_1 ON journal
-- (no sql: an automatic index)
-- index sqlite_autoindex_journal_2 ON journal
-- (no sql: an automatic index)
-- trigger journal_no_update ON journal
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries are immutable'); END;
-- trigger journal_no_delete ON journal
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries cannot be deleted'); END;
-- trigger journal_append_only ON journal
CREATE TRIGGER journal_append_only BEFORE INSERT ON journal
        WHEN NEW.seq IS NOT (SELECT IFNULL(MAX(seq), 0) + 1 FROM journal)
          OR NEW.prev_hash IS NOT IFNULL((SELECT hash FROM journal WHERE seq = NEW.seq - 1),
                                         printf('%064d', 0))
        BEGIN SELECT RAISE(ABORT, 'journal entries must extend the chain'); END;
-- table settings ON settings
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
-- index sqlite_autoindex_settings_1 ON settings
-- (no sql: an automatic index)

-- ===== after 0002_catalog_and_sales =====
-- PRAGMA user_version = 0
-- applied: market-pos/0001_journal, market-pos/0002_catalog_and_sales
-- table _sqlite_migrations ON _sqlite_migrations
CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
);
-- index idx__sqlite_migrations_migration_set_name ON _sqlite_migrations
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");
-- table journal ON journal
CREATE TABLE journal (
            seq INTEGER PRIMARY KEY CHECK (seq >= 1),
            id TEXT NOT NULL UNIQUE CHECK (length(id) = 36),
            device_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            at TEXT NOT NULL CHECK (length(at) = 24),
            payload TEXT NOT NULL,
            prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
            hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64)
        ) STRICT;
-- index sqlite_autoindex_journal_1 ON journal
-- (no sql: an automatic index)
-- index sqlite_autoindex_journal_2 ON journal
-- (no sql: an automatic index)
-- trigger journal_no_update ON journal
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries are immutable'); END;
-- trigger journal_no_delete ON journal
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries cannot be deleted'); END;
-- trigger journal_append_only ON journal
CREATE TRIGGER journal_append_only BEFORE INSERT ON journal
        WHEN NEW.seq IS NOT (SELECT IFNULL(MAX(seq), 0) + 1 FROM journal)
          OR NEW.prev_hash IS NOT IFNULL((SELECT hash FROM journal WHERE seq = NEW.seq - 1),
                                         printf('%064d', 0))
        BEGIN SELECT RAISE(ABORT, 'journal entries must extend the chain'); END;
-- table settings ON settings
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
-- index sqlite_autoindex_settings_1 ON settings
-- (no sql: an automatic index)
-- table products ON products
CREATE TABLE products (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
            search_key TEXT NOT NULL,
            unit TEXT NOT NULL CHECK (length(unit) BETWEEN 1 AND 16),
            price INTEGER NOT NULL CHECK (price BETWEEN 0 AND 1000000000000),
            category TEXT NOT NULL DEFAULT '',
            barcode TEXT,
            ocop_stars INTEGER CHECK (ocop_stars BETWEEN 3 AND 5),
            trace_url TEXT,
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            journal_seq INTEGER NOT NULL REFERENCES journal(seq)
        ) STRICT;
-- index products_barcode ON products
CREATE UNIQUE INDEX products_barcode ON products(barcode) WHERE barcode IS NOT NULL;
-- table sales ON sales
CREATE TABLE sales (
            id TEXT PRIMARY KEY,
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            number INTEGER NOT NULL UNIQUE CHECK (number >= 1),
            at TEXT NOT NULL,
            business_day TEXT NOT NULL,
            total INTEGER NOT NULL CHECK (total >= 0),
            sold_by TEXT NOT NULL,
            voided_seq INTEGER REFERENCES journal(seq),
            void_reason TEXT
        ) STRICT;
-- index sqlite_autoindex_sales_1 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_2 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_3 ON sales
-- (no sql: an automatic index)
-- index sales_business_day ON sales
CREATE INDEX sales_business_day ON sales(business_day, number);
-- table sale_lines ON sale_lines
CREATE TABLE sale_lines (
            sale_id TEXT NOT NULL REFERENCES sales(id),
            line_no INTEGER NOT NULL,
            product_id INTEGER REFERENCES products(id),
            name TEXT NOT NULL,
            unit TEXT NOT NULL,
            quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
            unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            PRIMARY KEY (sale_id, line_no)
        ) STRICT;
-- index sqlite_autoindex_sale_lines_1 ON sale_lines
-- (no sql: an automatic index)
-- table payments ON payments
CREATE TABLE payments (
            sale_id TEXT NOT NULL REFERENCES sales(id),
            line_no INTEGER NOT NULL,
            method TEXT NOT NULL CHECK (method IN ('cash', 'qr')),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            tendered INTEGER CHECK (tendered >= amount),
            change INTEGER CHECK (change >= 0),
            PRIMARY KEY (sale_id, line_no)
        ) STRICT;
-- index sqlite_autoindex_payments_1 ON payments
-- (no sql: an automatic index)

-- ===== after 0003_access =====
-- PRAGMA user_version = 0
-- applied: market-pos/0001_journal, market-pos/0002_catalog_and_sales, market-pos/0003_access
-- table _sqlite_migrations ON _sqlite_migrations
CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
);
-- index idx__sqlite_migrations_migration_set_name ON _sqlite_migrations
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");
-- table journal ON journal
CREATE TABLE journal (
            seq INTEGER PRIMARY KEY CHECK (seq >= 1),
            id TEXT NOT NULL UNIQUE CHECK (length(id) = 36),
            device_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            at TEXT NOT NULL CHECK (length(at) = 24),
            payload TEXT NOT NULL,
            prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
            hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64)
        ) STRICT;
-- index sqlite_autoindex_journal_1 ON journal
-- (no sql: an automatic index)
-- index sqlite_autoindex_journal_2 ON journal
-- (no sql: an automatic index)
-- trigger journal_no_update ON journal
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries are immutable'); END;
-- trigger journal_no_delete ON journal
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries cannot be deleted'); END;
-- trigger journal_append_only ON journal
CREATE TRIGGER journal_append_only BEFORE INSERT ON journal
        WHEN NEW.seq IS NOT (SELECT IFNULL(MAX(seq), 0) + 1 FROM journal)
          OR NEW.prev_hash IS NOT IFNULL((SELECT hash FROM journal WHERE seq = NEW.seq - 1),
                                         printf('%064d', 0))
        BEGIN SELECT RAISE(ABORT, 'journal entries must extend the chain'); END;
-- table settings ON settings
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
-- index sqlite_autoindex_settings_1 ON settings
-- (no sql: an automatic index)
-- table products ON products
CREATE TABLE products (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
            search_key TEXT NOT NULL,
            unit TEXT NOT NULL CHECK (length(unit) BETWEEN 1 AND 16),
            price INTEGER NOT NULL CHECK (price BETWEEN 0 AND 1000000000000),
            category TEXT NOT NULL DEFAULT '',
            barcode TEXT,
            ocop_stars INTEGER CHECK (ocop_stars BETWEEN 3 AND 5),
            trace_url TEXT,
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            journal_seq INTEGER NOT NULL REFERENCES journal(seq)
        ) STRICT;
-- index products_barcode ON products
CREATE UNIQUE INDEX products_barcode ON products(barcode) WHERE barcode IS NOT NULL;
-- table sales ON sales
CREATE TABLE sales (
            id TEXT PRIMARY KEY,
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            number INTEGER NOT NULL UNIQUE CHECK (number >= 1),
            at TEXT NOT NULL,
            business_day TEXT NOT NULL,
            total INTEGER NOT NULL CHECK (total >= 0),
            sold_by TEXT NOT NULL,
            voided_seq INTEGER REFERENCES journal(seq),
            void_reason TEXT
        ) STRICT;
-- index sqlite_autoindex_sales_1 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_2 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_3 ON sales
-- (no sql: an automatic index)
-- index sales_business_day ON sales
CREATE INDEX sales_business_day ON sales(business_day, number);
-- table sale_lines ON sale_lines
CREATE TABLE sale_lines (
            sale_id TEXT NOT NULL REFERENCES sales(id),
            line_no INTEGER NOT NULL,
            product_id INTEGER REFERENCES products(id),
            name TEXT NOT NULL,
            unit TEXT NOT NULL,
            quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
            unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            PRIMARY KEY (sale_id, line_no)
        ) STRICT;
-- index sqlite_autoindex_sale_lines_1 ON sale_lines
-- (no sql: an automatic index)
-- table payments ON payments
CREATE TABLE payments (
            sale_id TEXT NOT NULL REFERENCES sales(id),
            line_no INTEGER NOT NULL,
            method TEXT NOT NULL CHECK (method IN ('cash', 'qr')),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            tendered INTEGER CHECK (tendered >= amount),
            change INTEGER CHECK (change >= 0),
            PRIMARY KEY (sale_id, line_no)
        ) STRICT;
-- index sqlite_autoindex_payments_1 ON payments
-- (no sql: an automatic index)
-- table pins ON pins
CREATE TABLE pins (
            role TEXT PRIMARY KEY CHECK (role IN ('owner', 'helper')),
            pin_hash TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_pins_1 ON pins
-- (no sql: an automatic index)
-- table pin_guard ON pin_guard
CREATE TABLE pin_guard (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            failures INTEGER NOT NULL DEFAULT 0,
            locked_until REAL NOT NULL DEFAULT 0
        ) STRICT;
-- table api_tokens ON api_tokens
CREATE TABLE api_tokens (
            token_hash TEXT PRIMARY KEY,
            label TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        ) STRICT;
-- index sqlite_autoindex_api_tokens_1 ON api_tokens
-- (no sql: an automatic index)

-- ===== after 0004_day_totals =====
-- PRAGMA user_version = 0
-- applied: market-pos/0001_journal, market-pos/0002_catalog_and_sales, market-pos/0003_access, market-pos/0004_day_totals
-- table _sqlite_migrations ON _sqlite_migrations
CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
);
-- index idx__sqlite_migrations_migration_set_name ON _sqlite_migrations
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");
-- table journal ON journal
CREATE TABLE journal (
            seq INTEGER PRIMARY KEY CHECK (seq >= 1),
            id TEXT NOT NULL UNIQUE CHECK (length(id) = 36),
            device_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            at TEXT NOT NULL CHECK (length(at) = 24),
            payload TEXT NOT NULL,
            prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
            hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64)
        ) STRICT;
-- index sqlite_autoindex_journal_1 ON journal
-- (no sql: an automatic index)
-- index sqlite_autoindex_journal_2 ON journal
-- (no sql: an automatic index)
-- trigger journal_no_update ON journal
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries are immutable'); END;
-- trigger journal_no_delete ON journal
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries cannot be deleted'); END;
-- trigger journal_append_only ON journal
CREATE TRIGGER journal_append_only BEFORE INSERT ON journal
        WHEN NEW.seq IS NOT (SELECT IFNULL(MAX(seq), 0) + 1 FROM journal)
          OR NEW.prev_hash IS NOT IFNULL((SELECT hash FROM journal WHERE seq = NEW.seq - 1),
                                         printf('%064d', 0))
        BEGIN SELECT RAISE(ABORT, 'journal entries must extend the chain'); END;
-- table settings ON settings
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
-- index sqlite_autoindex_settings_1 ON settings
-- (no sql: an automatic index)
-- table products ON products
CREATE TABLE products (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
            search_key TEXT NOT NULL,
            unit TEXT NOT NULL CHECK (length(unit) BETWEEN 1 AND 16),
            price INTEGER NOT NULL CHECK (price BETWEEN 0 AND 1000000000000),
            category TEXT NOT NULL DEFAULT '',
            barcode TEXT,
            ocop_stars INTEGER CHECK (ocop_stars BETWEEN 3 AND 5),
            trace_url TEXT,
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            journal_seq INTEGER NOT NULL REFERENCES journal(seq)
        ) STRICT;
-- index products_barcode ON products
CREATE UNIQUE INDEX products_barcode ON products(barcode) WHERE barcode IS NOT NULL;
-- table sales ON sales
CREATE TABLE sales (
            id TEXT PRIMARY KEY,
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            number INTEGER NOT NULL UNIQUE CHECK (number >= 1),
            at TEXT NOT NULL,
            business_day TEXT NOT NULL,
            total INTEGER NOT NULL CHECK (total >= 0),
            sold_by TEXT NOT NULL,
            voided_seq INTEGER REFERENCES journal(seq),
            void_reason TEXT
        ) STRICT;
-- index sqlite_autoindex_sales_1 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_2 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_3 ON sales
-- (no sql: an automatic index)
-- index sales_business_day ON sales
CREATE INDEX sales_business_day ON sales(business_day, number);
-- table sale_lines ON sale_lines
CREATE TABLE sale_lines (
            sale_id TEXT NOT NULL REFERENCES sales(id),
            line_no INTEGER NOT NULL,
            product_id INTEGER REFERENCES products(id),
            name TEXT NOT NULL,
            unit TEXT NOT NULL,
            quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
            unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            PRIMARY KEY (sale_id, line_no)
        ) STRICT;
-- index sqlite_autoindex_sale_lines_1 ON sale_lines
-- (no sql: an automatic index)
-- table payments ON payments
CREATE TABLE payments (
            sale_id TEXT NOT NULL REFERENCES sales(id),
            line_no INTEGER NOT NULL,
            method TEXT NOT NULL CHECK (method IN ('cash', 'qr')),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            tendered INTEGER CHECK (tendered >= amount),
            change INTEGER CHECK (change >= 0),
            PRIMARY KEY (sale_id, line_no)
        ) STRICT;
-- index sqlite_autoindex_payments_1 ON payments
-- (no sql: an automatic index)
-- table pins ON pins
CREATE TABLE pins (
            role TEXT PRIMARY KEY CHECK (role IN ('owner', 'helper')),
            pin_hash TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_pins_1 ON pins
-- (no sql: an automatic index)
-- table pin_guard ON pin_guard
CREATE TABLE pin_guard (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            failures INTEGER NOT NULL DEFAULT 0,
            locked_until REAL NOT NULL DEFAULT 0
        ) STRICT;
-- table api_tokens ON api_tokens
CREATE TABLE api_tokens (
            token_hash TEXT PRIMARY KEY,
            label TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        ) STRICT;
-- index sqlite_autoindex_api_tokens_1 ON api_tokens
-- (no sql: an automatic index)
-- table day_totals ON day_totals
CREATE TABLE day_totals (
            business_day TEXT PRIMARY KEY,
            sales_count INTEGER NOT NULL DEFAULT 0,
            revenue INTEGER NOT NULL DEFAULT 0,
            cash INTEGER NOT NULL DEFAULT 0,
            qr INTEGER NOT NULL DEFAULT 0,
            voids_count INTEGER NOT NULL DEFAULT 0,
            voided_amount INTEGER NOT NULL DEFAULT 0
        ) STRICT;
-- index sqlite_autoindex_day_totals_1 ON day_totals
-- (no sql: an automatic index)

-- ===== after 0005_cash_and_day_close =====
-- PRAGMA user_version = 0
-- applied: market-pos/0001_journal, market-pos/0002_catalog_and_sales, market-pos/0003_access, market-pos/0004_day_totals, market-pos/0005_cash_and_day_close
-- table _sqlite_migrations ON _sqlite_migrations
CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
);
-- index idx__sqlite_migrations_migration_set_name ON _sqlite_migrations
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");
-- table journal ON journal
CREATE TABLE journal (
            seq INTEGER PRIMARY KEY CHECK (seq >= 1),
            id TEXT NOT NULL UNIQUE CHECK (length(id) = 36),
            device_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            at TEXT NOT NULL CHECK (length(at) = 24),
            payload TEXT NOT NULL,
            prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
            hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64)
        ) STRICT;
-- index sqlite_autoindex_journal_1 ON journal
-- (no sql: an automatic index)
-- index sqlite_autoindex_journal_2 ON journal
-- (no sql: an automatic index)
-- trigger journal_no_update ON journal
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries are immutable'); END;
-- trigger journal_no_delete ON journal
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries cannot be deleted'); END;
-- trigger journal_append_only ON journal
CREATE TRIGGER journal_append_only BEFORE INSERT ON journal
        WHEN NEW.seq IS NOT (SELECT IFNULL(MAX(seq), 0) + 1 FROM journal)
          OR NEW.prev_hash IS NOT IFNULL((SELECT hash FROM journal WHERE seq = NEW.seq - 1),
                                         printf('%064d', 0))
        BEGIN SELECT RAISE(ABORT, 'journal entries must extend the chain'); END;
-- table settings ON settings
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
-- index sqlite_autoindex_settings_1 ON settings
-- (no sql: an automatic index)
-- table products ON products
CREATE TABLE products (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
            search_key TEXT NOT NULL,
            unit TEXT NOT NULL CHECK (length(unit) BETWEEN 1 AND 16),
            price INTEGER NOT NULL CHECK (price BETWEEN 0 AND 1000000000000),
            category TEXT NOT NULL DEFAULT '',
            barcode TEXT,
            ocop_stars INTEGER CHECK (ocop_stars BETWEEN 3 AND 5),
            trace_url TEXT,
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            journal_seq INTEGER NOT NULL REFERENCES journal(seq)
        ) STRICT;
-- index products_barcode ON products
CREATE UNIQUE INDEX products_barcode ON products(barcode) WHERE barcode IS NOT NULL;
-- table sales ON sales
CREATE TABLE sales (
            id TEXT PRIMARY KEY,
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            number INTEGER NOT NULL UNIQUE CHECK (number >= 1),
            at TEXT NOT NULL,
            business_day TEXT NOT NULL,
            total INTEGER NOT NULL CHECK (total >= 0),
            sold_by TEXT NOT NULL,
            voided_seq INTEGER REFERENCES journal(seq),
            void_reason TEXT
        ) STRICT;
-- index sqlite_autoindex_sales_1 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_2 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_3 ON sales
-- (no sql: an automatic index)
-- index sales_business_day ON sales
CREATE INDEX sales_business_day ON sales(business_day, number);
-- table sale_lines ON sale_lines
CREATE TABLE sale_lines (
            sale_id TEXT NOT NULL REFERENCES sales(id),
            line_no INTEGER NOT NULL,
            product_id INTEGER REFERENCES products(id),
            name TEXT NOT NULL,
            unit TEXT NOT NULL,
            quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
            unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            PRIMARY KEY (sale_id, line_no)
        ) STRICT;
-- index sqlite_autoindex_sale_lines_1 ON sale_lines
-- (no sql: an automatic index)
-- table payments ON payments
CREATE TABLE payments (
            sale_id TEXT NOT NULL REFERENCES sales(id),
            line_no INTEGER NOT NULL,
            method TEXT NOT NULL CHECK (method IN ('cash', 'qr')),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            tendered INTEGER CHECK (tendered >= amount),
            change INTEGER CHECK (change >= 0),
            PRIMARY KEY (sale_id, line_no)
        ) STRICT;
-- index sqlite_autoindex_payments_1 ON payments
-- (no sql: an automatic index)
-- table pins ON pins
CREATE TABLE pins (
            role TEXT PRIMARY KEY CHECK (role IN ('owner', 'helper')),
            pin_hash TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_pins_1 ON pins
-- (no sql: an automatic index)
-- table pin_guard ON pin_guard
CREATE TABLE pin_guard (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            failures INTEGER NOT NULL DEFAULT 0,
            locked_until REAL NOT NULL DEFAULT 0
        ) STRICT;
-- table api_tokens ON api_tokens
CREATE TABLE api_tokens (
            token_hash TEXT PRIMARY KEY,
            label TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        ) STRICT;
-- index sqlite_autoindex_api_tokens_1 ON api_tokens
-- (no sql: an automatic index)
-- table day_totals ON day_totals
CREATE TABLE day_totals (
            business_day TEXT PRIMARY KEY,
            sales_count INTEGER NOT NULL DEFAULT 0,
            revenue INTEGER NOT NULL DEFAULT 0,
            cash INTEGER NOT NULL DEFAULT 0,
            qr INTEGER NOT NULL DEFAULT 0,
            voids_count INTEGER NOT NULL DEFAULT 0,
            voided_amount INTEGER NOT NULL DEFAULT 0
        ) STRICT;
-- index sqlite_autoindex_day_totals_1 ON day_totals
-- (no sql: an automatic index)
-- table cash_moves ON cash_moves
CREATE TABLE cash_moves (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            business_day TEXT NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('float', 'in', 'out')),
            amount INTEGER NOT NULL CHECK (amount > 0),
            reason TEXT NOT NULL,
            at TEXT NOT NULL
        ) STRICT;
-- index cash_moves_day ON cash_moves
CREATE INDEX cash_moves_day ON cash_moves(business_day);
-- table day_closes ON day_closes
CREATE TABLE day_closes (
            business_day TEXT PRIMARY KEY,
            z_number INTEGER NOT NULL UNIQUE CHECK (z_number >= 1),
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            at TEXT NOT NULL,
            expected_cash INTEGER NOT NULL,
            counted_cash INTEGER NOT NULL CHECK (counted_cash >= 0),
            report TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_day_closes_1 ON day_closes
-- (no sql: an automatic index)
-- index sqlite_autoindex_day_closes_2 ON day_closes
-- (no sql: an automatic index)
-- index sqlite_autoindex_day_closes_3 ON day_closes
-- (no sql: an automatic index)

-- ===== after 0006_print_jobs =====
-- PRAGMA user_version = 0
-- applied: market-pos/0001_journal, market-pos/0002_catalog_and_sales, market-pos/0003_access, market-pos/0004_day_totals, market-pos/0005_cash_and_day_close, market-pos/0006_print_jobs
-- table _sqlite_migrations ON _sqlite_migrations
CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
);
-- index idx__sqlite_migrations_migration_set_name ON _sqlite_migrations
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");
-- table journal ON journal
CREATE TABLE journal (
            seq INTEGER PRIMARY KEY CHECK (seq >= 1),
            id TEXT NOT NULL UNIQUE CHECK (length(id) = 36),
            device_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            at TEXT NOT NULL CHECK (length(at) = 24),
            payload TEXT NOT NULL,
            prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
            hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64)
        ) STRICT;
-- index sqlite_autoindex_journal_1 ON journal
-- (no sql: an automatic index)
-- index sqlite_autoindex_journal_2 ON journal
-- (no sql: an automatic index)
-- trigger journal_no_update ON journal
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries are immutable'); END;
-- trigger journal_no_delete ON journal
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries cannot be deleted'); END;
-- trigger journal_append_only ON journal
CREATE TRIGGER journal_append_only BEFORE INSERT ON journal
        WHEN NEW.seq IS NOT (SELECT IFNULL(MAX(seq), 0) + 1 FROM journal)
          OR NEW.prev_hash IS NOT IFNULL((SELECT hash FROM journal WHERE seq = NEW.seq - 1),
                                         printf('%064d', 0))
        BEGIN SELECT RAISE(ABORT, 'journal entries must extend the chain'); END;
-- table settings ON settings
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
-- index sqlite_autoindex_settings_1 ON settings
-- (no sql: an automatic index)
-- table products ON products
CREATE TABLE products (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
            search_key TEXT NOT NULL,
            unit TEXT NOT NULL CHECK (length(unit) BETWEEN 1 AND 16),
            price INTEGER NOT NULL CHECK (price BETWEEN 0 AND 1000000000000),
            category TEXT NOT NULL DEFAULT '',
            barcode TEXT,
            ocop_stars INTEGER CHECK (ocop_stars BETWEEN 3 AND 5),
            trace_url TEXT,
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            journal_seq INTEGER NOT NULL REFERENCES journal(seq)
        ) STRICT;
-- index products_barcode ON products
CREATE UNIQUE INDEX products_barcode ON products(barcode) WHERE barcode IS NOT NULL;
-- table sales ON sales
CREATE TABLE sales (
            id TEXT PRIMARY KEY,
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            number INTEGER NOT NULL UNIQUE CHECK (number >= 1),
            at TEXT NOT NULL,
            business_day TEXT NOT NULL,
            total INTEGER NOT NULL CHECK (total >= 0),
            sold_by TEXT NOT NULL,
            voided_seq INTEGER REFERENCES journal(seq),
            void_reason TEXT
        ) STRICT;
-- index sqlite_autoindex_sales_1 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_2 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_3 ON sales
-- (no sql: an automatic index)
-- index sales_business_day ON sales
CREATE INDEX sales_business_day ON sales(business_day, number);
-- table sale_lines ON sale_lines
CREATE TABLE sale_lines (
            sale_id TEXT NOT NULL REFERENCES sales(id),
            line_no INTEGER NOT NULL,
            product_id INTEGER REFERENCES products(id),
            name TEXT NOT NULL,
            unit TEXT NOT NULL,
            quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
            unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            PRIMARY KEY (sale_id, line_no)
        ) STRICT;
-- index sqlite_autoindex_sale_lines_1 ON sale_lines
-- (no sql: an automatic index)
-- table payments ON payments
CREATE TABLE payments (
            sale_id TEXT NOT NULL REFERENCES sales(id),
            line_no INTEGER NOT NULL,
            method TEXT NOT NULL CHECK (method IN ('cash', 'qr')),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            tendered INTEGER CHECK (tendered >= amount),
            change INTEGER CHECK (change >= 0),
            PRIMARY KEY (sale_id, line_no)
        ) STRICT;
-- index sqlite_autoindex_payments_1 ON payments
-- (no sql: an automatic index)
-- table pins ON pins
CREATE TABLE pins (
            role TEXT PRIMARY KEY CHECK (role IN ('owner', 'helper')),
            pin_hash TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_pins_1 ON pins
-- (no sql: an automatic index)
-- table pin_guard ON pin_guard
CREATE TABLE pin_guard (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            failures INTEGER NOT NULL DEFAULT 0,
            locked_until REAL NOT NULL DEFAULT 0
        ) STRICT;
-- table api_tokens ON api_tokens
CREATE TABLE api_tokens (
            token_hash TEXT PRIMARY KEY,
            label TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        ) STRICT;
-- index sqlite_autoindex_api_tokens_1 ON api_tokens
-- (no sql: an automatic index)
-- table day_totals ON day_totals
CREATE TABLE day_totals (
            business_day TEXT PRIMARY KEY,
            sales_count INTEGER NOT NULL DEFAULT 0,
            revenue INTEGER NOT NULL DEFAULT 0,
            cash INTEGER NOT NULL DEFAULT 0,
            qr INTEGER NOT NULL DEFAULT 0,
            voids_count INTEGER NOT NULL DEFAULT 0,
            voided_amount INTEGER NOT NULL DEFAULT 0
        ) STRICT;
-- index sqlite_autoindex_day_totals_1 ON day_totals
-- (no sql: an automatic index)
-- table cash_moves ON cash_moves
CREATE TABLE cash_moves (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            business_day TEXT NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('float', 'in', 'out')),
            amount INTEGER NOT NULL CHECK (amount > 0),
            reason TEXT NOT NULL,
            at TEXT NOT NULL
        ) STRICT;
-- index cash_moves_day ON cash_moves
CREATE INDEX cash_moves_day ON cash_moves(business_day);
-- table day_closes ON day_closes
CREATE TABLE day_closes (
            business_day TEXT PRIMARY KEY,
            z_number INTEGER NOT NULL UNIQUE CHECK (z_number >= 1),
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            at TEXT NOT NULL,
            expected_cash INTEGER NOT NULL,
            counted_cash INTEGER NOT NULL CHECK (counted_cash >= 0),
            report TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_day_closes_1 ON day_closes
-- (no sql: an automatic index)
-- index sqlite_autoindex_day_closes_2 ON day_closes
-- (no sql: an automatic index)
-- index sqlite_autoindex_day_closes_3 ON day_closes
-- (no sql: an automatic index)
-- table print_jobs ON print_jobs
CREATE TABLE print_jobs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('receipt', 'report', 'selftest')),
            ref TEXT NOT NULL DEFAULT '',
            copy INTEGER NOT NULL DEFAULT 0 CHECK (copy IN (0, 1)),
            state TEXT NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'held', 'done', 'failed', 'cancelled')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at REAL NOT NULL,
            next_attempt_at REAL NOT NULL,
            updated_at REAL NOT NULL
        ) STRICT;
-- index print_jobs_due ON print_jobs
CREATE INDEX print_jobs_due ON print_jobs(state, next_attempt_at);

-- ===== after 0007_catalogue_from_server =====
-- PRAGMA user_version = 0
-- applied: market-pos/0001_journal, market-pos/0002_catalog_and_sales, market-pos/0003_access, market-pos/0004_day_totals, market-pos/0005_cash_and_day_close, market-pos/0006_print_jobs, market-pos/0007_catalogue_from_server
-- table _sqlite_migrations ON _sqlite_migrations
CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
);
-- index idx__sqlite_migrations_migration_set_name ON _sqlite_migrations
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");
-- table journal ON journal
CREATE TABLE journal (
            seq INTEGER PRIMARY KEY CHECK (seq >= 1),
            id TEXT NOT NULL UNIQUE CHECK (length(id) = 36),
            device_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            at TEXT NOT NULL CHECK (length(at) = 24),
            payload TEXT NOT NULL,
            prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
            hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64)
        ) STRICT;
-- index sqlite_autoindex_journal_1 ON journal
-- (no sql: an automatic index)
-- index sqlite_autoindex_journal_2 ON journal
-- (no sql: an automatic index)
-- trigger journal_no_update ON journal
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries are immutable'); END;
-- trigger journal_no_delete ON journal
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries cannot be deleted'); END;
-- trigger journal_append_only ON journal
CREATE TRIGGER journal_append_only BEFORE INSERT ON journal
        WHEN NEW.seq IS NOT (SELECT IFNULL(MAX(seq), 0) + 1 FROM journal)
          OR NEW.prev_hash IS NOT IFNULL((SELECT hash FROM journal WHERE seq = NEW.seq - 1),
                                         printf('%064d', 0))
        BEGIN SELECT RAISE(ABORT, 'journal entries must extend the chain'); END;
-- table settings ON settings
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
-- index sqlite_autoindex_settings_1 ON settings
-- (no sql: an automatic index)
-- table sales ON sales
CREATE TABLE sales (
            id TEXT PRIMARY KEY,
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            number INTEGER NOT NULL UNIQUE CHECK (number >= 1),
            at TEXT NOT NULL,
            business_day TEXT NOT NULL,
            total INTEGER NOT NULL CHECK (total >= 0),
            sold_by TEXT NOT NULL,
            voided_seq INTEGER REFERENCES journal(seq),
            void_reason TEXT
        ) STRICT;
-- index sqlite_autoindex_sales_1 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_2 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_3 ON sales
-- (no sql: an automatic index)
-- index sales_business_day ON sales
CREATE INDEX sales_business_day ON sales(business_day, number);
-- table sale_lines ON sale_lines
CREATE TABLE sale_lines (
            sale_id TEXT NOT NULL REFERENCES sales(id),
            line_no INTEGER NOT NULL,
            product_id INTEGER REFERENCES products(id),
            name TEXT NOT NULL,
            unit TEXT NOT NULL,
            quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
            unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            PRIMARY KEY (sale_id, line_no)
        ) STRICT;
-- index sqlite_autoindex_sale_lines_1 ON sale_lines
-- (no sql: an automatic index)
-- table payments ON payments
CREATE TABLE payments (
            sale_id TEXT NOT NULL REFERENCES sales(id),
            line_no INTEGER NOT NULL,
            method TEXT NOT NULL CHECK (method IN ('cash', 'qr')),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            tendered INTEGER CHECK (tendered >= amount),
            change INTEGER CHECK (change >= 0),
            PRIMARY KEY (sale_id, line_no)
        ) STRICT;
-- index sqlite_autoindex_payments_1 ON payments
-- (no sql: an automatic index)
-- table pins ON pins
CREATE TABLE pins (
            role TEXT PRIMARY KEY CHECK (role IN ('owner', 'helper')),
            pin_hash TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_pins_1 ON pins
-- (no sql: an automatic index)
-- table pin_guard ON pin_guard
CREATE TABLE pin_guard (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            failures INTEGER NOT NULL DEFAULT 0,
            locked_until REAL NOT NULL DEFAULT 0
        ) STRICT;
-- table api_tokens ON api_tokens
CREATE TABLE api_tokens (
            token_hash TEXT PRIMARY KEY,
            label TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        ) STRICT;
-- index sqlite_autoindex_api_tokens_1 ON api_tokens
-- (no sql: an automatic index)
-- table day_totals ON day_totals
CREATE TABLE day_totals (
            business_day TEXT PRIMARY KEY,
            sales_count INTEGER NOT NULL DEFAULT 0,
            revenue INTEGER NOT NULL DEFAULT 0,
            cash INTEGER NOT NULL DEFAULT 0,
            qr INTEGER NOT NULL DEFAULT 0,
            voids_count INTEGER NOT NULL DEFAULT 0,
            voided_amount INTEGER NOT NULL DEFAULT 0
        ) STRICT;
-- index sqlite_autoindex_day_totals_1 ON day_totals
-- (no sql: an automatic index)
-- table cash_moves ON cash_moves
CREATE TABLE cash_moves (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            business_day TEXT NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('float', 'in', 'out')),
            amount INTEGER NOT NULL CHECK (amount > 0),
            reason TEXT NOT NULL,
            at TEXT NOT NULL
        ) STRICT;
-- index cash_moves_day ON cash_moves
CREATE INDEX cash_moves_day ON cash_moves(business_day);
-- table day_closes ON day_closes
CREATE TABLE day_closes (
            business_day TEXT PRIMARY KEY,
            z_number INTEGER NOT NULL UNIQUE CHECK (z_number >= 1),
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            at TEXT NOT NULL,
            expected_cash INTEGER NOT NULL,
            counted_cash INTEGER NOT NULL CHECK (counted_cash >= 0),
            report TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_day_closes_1 ON day_closes
-- (no sql: an automatic index)
-- index sqlite_autoindex_day_closes_2 ON day_closes
-- (no sql: an automatic index)
-- index sqlite_autoindex_day_closes_3 ON day_closes
-- (no sql: an automatic index)
-- table print_jobs ON print_jobs
CREATE TABLE print_jobs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('receipt', 'report', 'selftest')),
            ref TEXT NOT NULL DEFAULT '',
            copy INTEGER NOT NULL DEFAULT 0 CHECK (copy IN (0, 1)),
            state TEXT NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'held', 'done', 'failed', 'cancelled')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at REAL NOT NULL,
            next_attempt_at REAL NOT NULL,
            updated_at REAL NOT NULL
        ) STRICT;
-- index print_jobs_due ON print_jobs
CREATE INDEX print_jobs_due ON print_jobs(state, next_attempt_at);
-- table products ON products
CREATE TABLE "products" (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
                    search_key TEXT NOT NULL,
                    unit TEXT NOT NULL CHECK (length(unit) BETWEEN 1 AND 16),
                    price INTEGER NOT NULL CHECK (price BETWEEN 0 AND 1000000000000),
                    category TEXT NOT NULL DEFAULT '',
                    barcode TEXT,
                    ocop_stars INTEGER CHECK (ocop_stars BETWEEN 3 AND 5),
                    trace_url TEXT,
                    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
                    journal_seq INTEGER REFERENCES journal(seq),
                    server_ref TEXT UNIQUE CHECK (length(server_ref) BETWEEN 1 AND 64),
                    binding INTEGER NOT NULL DEFAULT 0 CHECK (binding IN (0, 1)),
                    server_price INTEGER CHECK (server_price BETWEEN 0 AND 1000000000000),
                    server_active INTEGER CHECK (server_active IN (0, 1)),
                    CHECK (journal_seq IS NOT NULL OR server_ref IS NOT NULL)
                ) STRICT;
-- index sqlite_autoindex_products_1 ON products
-- (no sql: an automatic index)
-- index products_barcode ON products
CREATE UNIQUE INDEX products_barcode ON products(barcode) WHERE barcode IS NOT NULL;

-- ===== after 0008_qr_payments =====
-- PRAGMA user_version = 0
-- applied: market-pos/0001_journal, market-pos/0002_catalog_and_sales, market-pos/0003_access, market-pos/0004_day_totals, market-pos/0005_cash_and_day_close, market-pos/0006_print_jobs, market-pos/0007_catalogue_from_server, market-pos/0008_qr_payments
-- table _sqlite_migrations ON _sqlite_migrations
CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
);
-- index idx__sqlite_migrations_migration_set_name ON _sqlite_migrations
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");
-- table journal ON journal
CREATE TABLE journal (
            seq INTEGER PRIMARY KEY CHECK (seq >= 1),
            id TEXT NOT NULL UNIQUE CHECK (length(id) = 36),
            device_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            at TEXT NOT NULL CHECK (length(at) = 24),
            payload TEXT NOT NULL,
            prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
            hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64)
        ) STRICT;
-- index sqlite_autoindex_journal_1 ON journal
-- (no sql: an automatic index)
-- index sqlite_autoindex_journal_2 ON journal
-- (no sql: an automatic index)
-- trigger journal_no_update ON journal
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries are immutable'); END;
-- trigger journal_no_delete ON journal
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries cannot be deleted'); END;
-- trigger journal_append_only ON journal
CREATE TRIGGER journal_append_only BEFORE INSERT ON journal
        WHEN NEW.seq IS NOT (SELECT IFNULL(MAX(seq), 0) + 1 FROM journal)
          OR NEW.prev_hash IS NOT IFNULL((SELECT hash FROM journal WHERE seq = NEW.seq - 1),
                                         printf('%064d', 0))
        BEGIN SELECT RAISE(ABORT, 'journal entries must extend the chain'); END;
-- table settings ON settings
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
-- index sqlite_autoindex_settings_1 ON settings
-- (no sql: an automatic index)
-- table sales ON sales
CREATE TABLE sales (
            id TEXT PRIMARY KEY,
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            number INTEGER NOT NULL UNIQUE CHECK (number >= 1),
            at TEXT NOT NULL,
            business_day TEXT NOT NULL,
            total INTEGER NOT NULL CHECK (total >= 0),
            sold_by TEXT NOT NULL,
            voided_seq INTEGER REFERENCES journal(seq),
            void_reason TEXT
        ) STRICT;
-- index sqlite_autoindex_sales_1 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_2 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_3 ON sales
-- (no sql: an automatic index)
-- index sales_business_day ON sales
CREATE INDEX sales_business_day ON sales(business_day, number);
-- table sale_lines ON sale_lines
CREATE TABLE sale_lines (
            sale_id TEXT NOT NULL REFERENCES sales(id),
            line_no INTEGER NOT NULL,
            product_id INTEGER REFERENCES products(id),
            name TEXT NOT NULL,
            unit TEXT NOT NULL,
            quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
            unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            PRIMARY KEY (sale_id, line_no)
        ) STRICT;
-- index sqlite_autoindex_sale_lines_1 ON sale_lines
-- (no sql: an automatic index)
-- table payments ON payments
CREATE TABLE payments (
            sale_id TEXT NOT NULL REFERENCES sales(id),
            line_no INTEGER NOT NULL,
            method TEXT NOT NULL CHECK (method IN ('cash', 'qr')),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            tendered INTEGER CHECK (tendered >= amount),
            change INTEGER CHECK (change >= 0), reference TEXT, bank_bin TEXT, account TEXT, state TEXT, bank_txn TEXT,
            PRIMARY KEY (sale_id, line_no)
        ) STRICT;
-- index sqlite_autoindex_payments_1 ON payments
-- (no sql: an automatic index)
-- table pins ON pins
CREATE TABLE pins (
            role TEXT PRIMARY KEY CHECK (role IN ('owner', 'helper')),
            pin_hash TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_pins_1 ON pins
-- (no sql: an automatic index)
-- table pin_guard ON pin_guard
CREATE TABLE pin_guard (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            failures INTEGER NOT NULL DEFAULT 0,
            locked_until REAL NOT NULL DEFAULT 0
        ) STRICT;
-- table api_tokens ON api_tokens
CREATE TABLE api_tokens (
            token_hash TEXT PRIMARY KEY,
            label TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        ) STRICT;
-- index sqlite_autoindex_api_tokens_1 ON api_tokens
-- (no sql: an automatic index)
-- table day_totals ON day_totals
CREATE TABLE day_totals (
            business_day TEXT PRIMARY KEY,
            sales_count INTEGER NOT NULL DEFAULT 0,
            revenue INTEGER NOT NULL DEFAULT 0,
            cash INTEGER NOT NULL DEFAULT 0,
            qr INTEGER NOT NULL DEFAULT 0,
            voids_count INTEGER NOT NULL DEFAULT 0,
            voided_amount INTEGER NOT NULL DEFAULT 0
        ) STRICT;
-- index sqlite_autoindex_day_totals_1 ON day_totals
-- (no sql: an automatic index)
-- table cash_moves ON cash_moves
CREATE TABLE cash_moves (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            business_day TEXT NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('float', 'in', 'out')),
            amount INTEGER NOT NULL CHECK (amount > 0),
            reason TEXT NOT NULL,
            at TEXT NOT NULL
        ) STRICT;
-- index cash_moves_day ON cash_moves
CREATE INDEX cash_moves_day ON cash_moves(business_day);
-- table day_closes ON day_closes
CREATE TABLE day_closes (
            business_day TEXT PRIMARY KEY,
            z_number INTEGER NOT NULL UNIQUE CHECK (z_number >= 1),
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            at TEXT NOT NULL,
            expected_cash INTEGER NOT NULL,
            counted_cash INTEGER NOT NULL CHECK (counted_cash >= 0),
            report TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_day_closes_1 ON day_closes
-- (no sql: an automatic index)
-- index sqlite_autoindex_day_closes_2 ON day_closes
-- (no sql: an automatic index)
-- index sqlite_autoindex_day_closes_3 ON day_closes
-- (no sql: an automatic index)
-- table print_jobs ON print_jobs
CREATE TABLE print_jobs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('receipt', 'report', 'selftest')),
            ref TEXT NOT NULL DEFAULT '',
            copy INTEGER NOT NULL DEFAULT 0 CHECK (copy IN (0, 1)),
            state TEXT NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'held', 'done', 'failed', 'cancelled')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at REAL NOT NULL,
            next_attempt_at REAL NOT NULL,
            updated_at REAL NOT NULL
        ) STRICT;
-- index print_jobs_due ON print_jobs
CREATE INDEX print_jobs_due ON print_jobs(state, next_attempt_at);
-- table products ON products
CREATE TABLE "products" (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
                    search_key TEXT NOT NULL,
                    unit TEXT NOT NULL CHECK (length(unit) BETWEEN 1 AND 16),
                    price INTEGER NOT NULL CHECK (price BETWEEN 0 AND 1000000000000),
                    category TEXT NOT NULL DEFAULT '',
                    barcode TEXT,
                    ocop_stars INTEGER CHECK (ocop_stars BETWEEN 3 AND 5),
                    trace_url TEXT,
                    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
                    journal_seq INTEGER REFERENCES journal(seq),
                    server_ref TEXT UNIQUE CHECK (length(server_ref) BETWEEN 1 AND 64),
                    binding INTEGER NOT NULL DEFAULT 0 CHECK (binding IN (0, 1)),
                    server_price INTEGER CHECK (server_price BETWEEN 0 AND 1000000000000),
                    server_active INTEGER CHECK (server_active IN (0, 1)),
                    CHECK (journal_seq IS NOT NULL OR server_ref IS NOT NULL)
                ) STRICT;
-- index sqlite_autoindex_products_1 ON products
-- (no sql: an automatic index)
-- index products_barcode ON products
CREATE UNIQUE INDEX products_barcode ON products(barcode) WHERE barcode IS NOT NULL;
-- table bank_accounts ON bank_accounts
CREATE TABLE bank_accounts (
            id INTEGER PRIMARY KEY,
            bank_bin TEXT NOT NULL CHECK (length(bank_bin) = 6),
            account TEXT NOT NULL CHECK (length(account) BETWEEN 6 AND 19),
            holder TEXT NOT NULL CHECK (length(holder) BETWEEN 1 AND 50),
            is_card INTEGER NOT NULL DEFAULT 0 CHECK (is_card IN (0, 1)),
            is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            created_at TEXT NOT NULL
        ) STRICT;
-- index bank_accounts_number ON bank_accounts
CREATE UNIQUE INDEX bank_accounts_number ON bank_accounts(bank_bin, account);
-- table qr_pending ON qr_pending
CREATE TABLE qr_pending (
            id TEXT PRIMARY KEY,
            reference TEXT NOT NULL,
            amount INTEGER NOT NULL CHECK (amount > 0),
            total INTEGER NOT NULL CHECK (total >= amount),
            request TEXT NOT NULL,
            bank_bin TEXT NOT NULL,
            account TEXT NOT NULL,
            holder TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'recorded', 'cancelled')),
            sale_id TEXT REFERENCES sales(id)
        ) STRICT;
-- index sqlite_autoindex_qr_pending_1 ON qr_pending
-- (no sql: an automatic index)
-- index qr_pending_state ON qr_pending
CREATE INDEX qr_pending_state ON qr_pending(state, created_at);
-- index qr_pending_reference ON qr_pending
CREATE INDEX qr_pending_reference ON qr_pending(reference);
-- index payments_reference ON payments
CREATE INDEX payments_reference ON payments(reference) WHERE reference IS NOT NULL;
-- table bank_checks ON bank_checks
CREATE TABLE bank_checks (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            bank_txn TEXT NOT NULL UNIQUE,
            reference TEXT,
            sale_id TEXT REFERENCES sales(id),
            state TEXT NOT NULL CHECK (state IN ('bank_confirmed', 'mismatch')),
            reason TEXT,
            bank_amount INTEGER NOT NULL,
            expected INTEGER,
            source TEXT NOT NULL CHECK (source IN ('server', 'statement')),
            business_day TEXT NOT NULL,
            at TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_bank_checks_1 ON bank_checks
-- (no sql: an automatic index)
-- index bank_checks_day ON bank_checks
CREATE INDEX bank_checks_day ON bank_checks(business_day);

-- ===== after 0009_tax =====
-- PRAGMA user_version = 0
-- applied: market-pos/0001_journal, market-pos/0002_catalog_and_sales, market-pos/0003_access, market-pos/0004_day_totals, market-pos/0005_cash_and_day_close, market-pos/0006_print_jobs, market-pos/0007_catalogue_from_server, market-pos/0008_qr_payments, market-pos/0009_tax
-- table _sqlite_migrations ON _sqlite_migrations
CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
);
-- index idx__sqlite_migrations_migration_set_name ON _sqlite_migrations
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");
-- table journal ON journal
CREATE TABLE journal (
            seq INTEGER PRIMARY KEY CHECK (seq >= 1),
            id TEXT NOT NULL UNIQUE CHECK (length(id) = 36),
            device_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            at TEXT NOT NULL CHECK (length(at) = 24),
            payload TEXT NOT NULL,
            prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
            hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64)
        ) STRICT;
-- index sqlite_autoindex_journal_1 ON journal
-- (no sql: an automatic index)
-- index sqlite_autoindex_journal_2 ON journal
-- (no sql: an automatic index)
-- trigger journal_no_update ON journal
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries are immutable'); END;
-- trigger journal_no_delete ON journal
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries cannot be deleted'); END;
-- trigger journal_append_only ON journal
CREATE TRIGGER journal_append_only BEFORE INSERT ON journal
        WHEN NEW.seq IS NOT (SELECT IFNULL(MAX(seq), 0) + 1 FROM journal)
          OR NEW.prev_hash IS NOT IFNULL((SELECT hash FROM journal WHERE seq = NEW.seq - 1),
                                         printf('%064d', 0))
        BEGIN SELECT RAISE(ABORT, 'journal entries must extend the chain'); END;
-- table settings ON settings
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
-- index sqlite_autoindex_settings_1 ON settings
-- (no sql: an automatic index)
-- table sales ON sales
CREATE TABLE sales (
            id TEXT PRIMARY KEY,
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            number INTEGER NOT NULL UNIQUE CHECK (number >= 1),
            at TEXT NOT NULL,
            business_day TEXT NOT NULL,
            total INTEGER NOT NULL CHECK (total >= 0),
            sold_by TEXT NOT NULL,
            voided_seq INTEGER REFERENCES journal(seq),
            void_reason TEXT
        ) STRICT;
-- index sqlite_autoindex_sales_1 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_2 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_3 ON sales
-- (no sql: an automatic index)
-- index sales_business_day ON sales
CREATE INDEX sales_business_day ON sales(business_day, number);
-- table sale_lines ON sale_lines
CREATE TABLE sale_lines (
            sale_id TEXT NOT NULL REFERENCES sales(id),
            line_no INTEGER NOT NULL,
            product_id INTEGER REFERENCES products(id),
            name TEXT NOT NULL,
            unit TEXT NOT NULL,
            quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
            unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            PRIMARY KEY (sale_id, line_no)
        ) STRICT;
-- index sqlite_autoindex_sale_lines_1 ON sale_lines
-- (no sql: an automatic index)
-- table payments ON payments
CREATE TABLE payments (
            sale_id TEXT NOT NULL REFERENCES sales(id),
            line_no INTEGER NOT NULL,
            method TEXT NOT NULL CHECK (method IN ('cash', 'qr')),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            tendered INTEGER CHECK (tendered >= amount),
            change INTEGER CHECK (change >= 0), reference TEXT, bank_bin TEXT, account TEXT, state TEXT, bank_txn TEXT,
            PRIMARY KEY (sale_id, line_no)
        ) STRICT;
-- index sqlite_autoindex_payments_1 ON payments
-- (no sql: an automatic index)
-- table pins ON pins
CREATE TABLE pins (
            role TEXT PRIMARY KEY CHECK (role IN ('owner', 'helper')),
            pin_hash TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_pins_1 ON pins
-- (no sql: an automatic index)
-- table pin_guard ON pin_guard
CREATE TABLE pin_guard (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            failures INTEGER NOT NULL DEFAULT 0,
            locked_until REAL NOT NULL DEFAULT 0
        ) STRICT;
-- table api_tokens ON api_tokens
CREATE TABLE api_tokens (
            token_hash TEXT PRIMARY KEY,
            label TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        ) STRICT;
-- index sqlite_autoindex_api_tokens_1 ON api_tokens
-- (no sql: an automatic index)
-- table day_totals ON day_totals
CREATE TABLE day_totals (
            business_day TEXT PRIMARY KEY,
            sales_count INTEGER NOT NULL DEFAULT 0,
            revenue INTEGER NOT NULL DEFAULT 0,
            cash INTEGER NOT NULL DEFAULT 0,
            qr INTEGER NOT NULL DEFAULT 0,
            voids_count INTEGER NOT NULL DEFAULT 0,
            voided_amount INTEGER NOT NULL DEFAULT 0
        ) STRICT;
-- index sqlite_autoindex_day_totals_1 ON day_totals
-- (no sql: an automatic index)
-- table cash_moves ON cash_moves
CREATE TABLE cash_moves (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            business_day TEXT NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('float', 'in', 'out')),
            amount INTEGER NOT NULL CHECK (amount > 0),
            reason TEXT NOT NULL,
            at TEXT NOT NULL
        ) STRICT;
-- index cash_moves_day ON cash_moves
CREATE INDEX cash_moves_day ON cash_moves(business_day);
-- table day_closes ON day_closes
CREATE TABLE day_closes (
            business_day TEXT PRIMARY KEY,
            z_number INTEGER NOT NULL UNIQUE CHECK (z_number >= 1),
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            at TEXT NOT NULL,
            expected_cash INTEGER NOT NULL,
            counted_cash INTEGER NOT NULL CHECK (counted_cash >= 0),
            report TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_day_closes_1 ON day_closes
-- (no sql: an automatic index)
-- index sqlite_autoindex_day_closes_2 ON day_closes
-- (no sql: an automatic index)
-- index sqlite_autoindex_day_closes_3 ON day_closes
-- (no sql: an automatic index)
-- table print_jobs ON print_jobs
CREATE TABLE print_jobs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('receipt', 'report', 'selftest')),
            ref TEXT NOT NULL DEFAULT '',
            copy INTEGER NOT NULL DEFAULT 0 CHECK (copy IN (0, 1)),
            state TEXT NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'held', 'done', 'failed', 'cancelled')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at REAL NOT NULL,
            next_attempt_at REAL NOT NULL,
            updated_at REAL NOT NULL
        ) STRICT;
-- index print_jobs_due ON print_jobs
CREATE INDEX print_jobs_due ON print_jobs(state, next_attempt_at);
-- table products ON products
CREATE TABLE "products" (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
                    search_key TEXT NOT NULL,
                    unit TEXT NOT NULL CHECK (length(unit) BETWEEN 1 AND 16),
                    price INTEGER NOT NULL CHECK (price BETWEEN 0 AND 1000000000000),
                    category TEXT NOT NULL DEFAULT '',
                    barcode TEXT,
                    ocop_stars INTEGER CHECK (ocop_stars BETWEEN 3 AND 5),
                    trace_url TEXT,
                    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
                    journal_seq INTEGER REFERENCES journal(seq),
                    server_ref TEXT UNIQUE CHECK (length(server_ref) BETWEEN 1 AND 64),
                    binding INTEGER NOT NULL DEFAULT 0 CHECK (binding IN (0, 1)),
                    server_price INTEGER CHECK (server_price BETWEEN 0 AND 1000000000000),
                    server_active INTEGER CHECK (server_active IN (0, 1)),
                    CHECK (journal_seq IS NOT NULL OR server_ref IS NOT NULL)
                ) STRICT;
-- index sqlite_autoindex_products_1 ON products
-- (no sql: an automatic index)
-- index products_barcode ON products
CREATE UNIQUE INDEX products_barcode ON products(barcode) WHERE barcode IS NOT NULL;
-- table bank_accounts ON bank_accounts
CREATE TABLE bank_accounts (
            id INTEGER PRIMARY KEY,
            bank_bin TEXT NOT NULL CHECK (length(bank_bin) = 6),
            account TEXT NOT NULL CHECK (length(account) BETWEEN 6 AND 19),
            holder TEXT NOT NULL CHECK (length(holder) BETWEEN 1 AND 50),
            is_card INTEGER NOT NULL DEFAULT 0 CHECK (is_card IN (0, 1)),
            is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            created_at TEXT NOT NULL
        ) STRICT;
-- index bank_accounts_number ON bank_accounts
CREATE UNIQUE INDEX bank_accounts_number ON bank_accounts(bank_bin, account);
-- table qr_pending ON qr_pending
CREATE TABLE qr_pending (
            id TEXT PRIMARY KEY,
            reference TEXT NOT NULL,
            amount INTEGER NOT NULL CHECK (amount > 0),
            total INTEGER NOT NULL CHECK (total >= amount),
            request TEXT NOT NULL,
            bank_bin TEXT NOT NULL,
            account TEXT NOT NULL,
            holder TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'recorded', 'cancelled')),
            sale_id TEXT REFERENCES sales(id)
        ) STRICT;
-- index sqlite_autoindex_qr_pending_1 ON qr_pending
-- (no sql: an automatic index)
-- index qr_pending_state ON qr_pending
CREATE INDEX qr_pending_state ON qr_pending(state, created_at);
-- index qr_pending_reference ON qr_pending
CREATE INDEX qr_pending_reference ON qr_pending(reference);
-- index payments_reference ON payments
CREATE INDEX payments_reference ON payments(reference) WHERE reference IS NOT NULL;
-- table bank_checks ON bank_checks
CREATE TABLE bank_checks (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            bank_txn TEXT NOT NULL UNIQUE,
            reference TEXT,
            sale_id TEXT REFERENCES sales(id),
            state TEXT NOT NULL CHECK (state IN ('bank_confirmed', 'mismatch')),
            reason TEXT,
            bank_amount INTEGER NOT NULL,
            expected INTEGER,
            source TEXT NOT NULL CHECK (source IN ('server', 'statement')),
            business_day TEXT NOT NULL,
            at TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_bank_checks_1 ON bank_checks
-- (no sql: an automatic index)
-- index bank_checks_day ON bank_checks
CREATE INDEX bank_checks_day ON bank_checks(business_day);
-- table mtt_counters ON mtt_counters
CREATE TABLE mtt_counters (
            mtt_range TEXT NOT NULL CHECK (length(mtt_range) = 5),
            year INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2099),
            block INTEGER NOT NULL CHECK (block BETWEEN 0 AND 99),
            last INTEGER NOT NULL CHECK (last BETWEEN 1 AND 999999999),
            PRIMARY KEY (mtt_range, year, block)
        ) STRICT;
-- index sqlite_autoindex_mtt_counters_1 ON mtt_counters
-- (no sql: an automatic index)
-- table tax_invoices ON tax_invoices
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
        ) STRICT;
-- index sqlite_autoindex_tax_invoices_1 ON tax_invoices
-- (no sql: an automatic index)
-- index sqlite_autoindex_tax_invoices_2 ON tax_invoices
-- (no sql: an automatic index)
-- index tax_invoices_sale ON tax_invoices
CREATE INDEX tax_invoices_sale ON tax_invoices(sale_id);
-- index tax_invoices_day ON tax_invoices
CREATE INDEX tax_invoices_day ON tax_invoices(business_day);
-- trigger tax_invoices_no_update ON tax_invoices
CREATE TRIGGER tax_invoices_no_update BEFORE UPDATE ON tax_invoices
        BEGIN SELECT RAISE(ABORT, 'issued invoices are immutable'); END;
-- trigger tax_invoices_no_delete ON tax_invoices
CREATE TRIGGER tax_invoices_no_delete BEFORE DELETE ON tax_invoices
        BEGIN SELECT RAISE(ABORT, 'issued invoices cannot be deleted'); END;
-- trigger tax_invoices_gap_free ON tax_invoices
CREATE TRIGGER tax_invoices_gap_free BEFORE INSERT ON tax_invoices
        WHEN NEW.number IS NOT IFNULL((SELECT last FROM mtt_counters WHERE
                 mtt_range = NEW.mtt_range AND year = NEW.year AND block = NEW.block), 0) + 1
        BEGIN SELECT RAISE(ABORT, 'MTT invoice numbers must be gap-free'); END;
-- trigger tax_invoices_count ON tax_invoices
CREATE TRIGGER tax_invoices_count AFTER INSERT ON tax_invoices
        BEGIN
            INSERT INTO mtt_counters (mtt_range, year, block, last)
            VALUES (NEW.mtt_range, NEW.year, NEW.block, NEW.number)
            ON CONFLICT (mtt_range, year, block) DO UPDATE SET last = excluded.last;
        END;
-- trigger journal_tax_invoice ON journal
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
        END;
-- table product_tax ON product_tax
CREATE TABLE product_tax (
            product_id INTEGER PRIMARY KEY REFERENCES products(id),
            tax_group TEXT NOT NULL CHECK (length(tax_group) BETWEEN 1 AND 20),
            vat TEXT NOT NULL CHECK (vat IN ('applies', 'KCT'))
        ) STRICT;

-- ===== after 0010_journal_child_indexes =====
-- PRAGMA user_version = 0
-- applied: market-pos/0001_journal, market-pos/0002_catalog_and_sales, market-pos/0003_access, market-pos/0004_day_totals, market-pos/0005_cash_and_day_close, market-pos/0006_print_jobs, market-pos/0007_catalogue_from_server, market-pos/0008_qr_payments, market-pos/0009_tax, market-pos/0010_journal_child_indexes
-- table _sqlite_migrations ON _sqlite_migrations
CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
);
-- index idx__sqlite_migrations_migration_set_name ON _sqlite_migrations
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");
-- table journal ON journal
CREATE TABLE journal (
            seq INTEGER PRIMARY KEY CHECK (seq >= 1),
            id TEXT NOT NULL UNIQUE CHECK (length(id) = 36),
            device_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            at TEXT NOT NULL CHECK (length(at) = 24),
            payload TEXT NOT NULL,
            prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
            hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64)
        ) STRICT;
-- index sqlite_autoindex_journal_1 ON journal
-- (no sql: an automatic index)
-- index sqlite_autoindex_journal_2 ON journal
-- (no sql: an automatic index)
-- trigger journal_no_update ON journal
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries are immutable'); END;
-- trigger journal_no_delete ON journal
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries cannot be deleted'); END;
-- trigger journal_append_only ON journal
CREATE TRIGGER journal_append_only BEFORE INSERT ON journal
        WHEN NEW.seq IS NOT (SELECT IFNULL(MAX(seq), 0) + 1 FROM journal)
          OR NEW.prev_hash IS NOT IFNULL((SELECT hash FROM journal WHERE seq = NEW.seq - 1),
                                         printf('%064d', 0))
        BEGIN SELECT RAISE(ABORT, 'journal entries must extend the chain'); END;
-- table settings ON settings
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
-- index sqlite_autoindex_settings_1 ON settings
-- (no sql: an automatic index)
-- table sales ON sales
CREATE TABLE sales (
            id TEXT PRIMARY KEY,
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            number INTEGER NOT NULL UNIQUE CHECK (number >= 1),
            at TEXT NOT NULL,
            business_day TEXT NOT NULL,
            total INTEGER NOT NULL CHECK (total >= 0),
            sold_by TEXT NOT NULL,
            voided_seq INTEGER REFERENCES journal(seq),
            void_reason TEXT
        ) STRICT;
-- index sqlite_autoindex_sales_1 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_2 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_3 ON sales
-- (no sql: an automatic index)
-- index sales_business_day ON sales
CREATE INDEX sales_business_day ON sales(business_day, number);
-- table sale_lines ON sale_lines
CREATE TABLE sale_lines (
            sale_id TEXT NOT NULL REFERENCES sales(id),
            line_no INTEGER NOT NULL,
            product_id INTEGER REFERENCES products(id),
            name TEXT NOT NULL,
            unit TEXT NOT NULL,
            quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
            unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            PRIMARY KEY (sale_id, line_no)
        ) STRICT;
-- index sqlite_autoindex_sale_lines_1 ON sale_lines
-- (no sql: an automatic index)
-- table payments ON payments
CREATE TABLE payments (
            sale_id TEXT NOT NULL REFERENCES sales(id),
            line_no INTEGER NOT NULL,
            method TEXT NOT NULL CHECK (method IN ('cash', 'qr')),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            tendered INTEGER CHECK (tendered >= amount),
            change INTEGER CHECK (change >= 0), reference TEXT, bank_bin TEXT, account TEXT, state TEXT, bank_txn TEXT,
            PRIMARY KEY (sale_id, line_no)
        ) STRICT;
-- index sqlite_autoindex_payments_1 ON payments
-- (no sql: an automatic index)
-- table pins ON pins
CREATE TABLE pins (
            role TEXT PRIMARY KEY CHECK (role IN ('owner', 'helper')),
            pin_hash TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_pins_1 ON pins
-- (no sql: an automatic index)
-- table pin_guard ON pin_guard
CREATE TABLE pin_guard (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            failures INTEGER NOT NULL DEFAULT 0,
            locked_until REAL NOT NULL DEFAULT 0
        ) STRICT;
-- table api_tokens ON api_tokens
CREATE TABLE api_tokens (
            token_hash TEXT PRIMARY KEY,
            label TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        ) STRICT;
-- index sqlite_autoindex_api_tokens_1 ON api_tokens
-- (no sql: an automatic index)
-- table day_totals ON day_totals
CREATE TABLE day_totals (
            business_day TEXT PRIMARY KEY,
            sales_count INTEGER NOT NULL DEFAULT 0,
            revenue INTEGER NOT NULL DEFAULT 0,
            cash INTEGER NOT NULL DEFAULT 0,
            qr INTEGER NOT NULL DEFAULT 0,
            voids_count INTEGER NOT NULL DEFAULT 0,
            voided_amount INTEGER NOT NULL DEFAULT 0
        ) STRICT;
-- index sqlite_autoindex_day_totals_1 ON day_totals
-- (no sql: an automatic index)
-- table cash_moves ON cash_moves
CREATE TABLE cash_moves (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            business_day TEXT NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('float', 'in', 'out')),
            amount INTEGER NOT NULL CHECK (amount > 0),
            reason TEXT NOT NULL,
            at TEXT NOT NULL
        ) STRICT;
-- index cash_moves_day ON cash_moves
CREATE INDEX cash_moves_day ON cash_moves(business_day);
-- table day_closes ON day_closes
CREATE TABLE day_closes (
            business_day TEXT PRIMARY KEY,
            z_number INTEGER NOT NULL UNIQUE CHECK (z_number >= 1),
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            at TEXT NOT NULL,
            expected_cash INTEGER NOT NULL,
            counted_cash INTEGER NOT NULL CHECK (counted_cash >= 0),
            report TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_day_closes_1 ON day_closes
-- (no sql: an automatic index)
-- index sqlite_autoindex_day_closes_2 ON day_closes
-- (no sql: an automatic index)
-- index sqlite_autoindex_day_closes_3 ON day_closes
-- (no sql: an automatic index)
-- table print_jobs ON print_jobs
CREATE TABLE print_jobs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('receipt', 'report', 'selftest')),
            ref TEXT NOT NULL DEFAULT '',
            copy INTEGER NOT NULL DEFAULT 0 CHECK (copy IN (0, 1)),
            state TEXT NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'held', 'done', 'failed', 'cancelled')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at REAL NOT NULL,
            next_attempt_at REAL NOT NULL,
            updated_at REAL NOT NULL
        ) STRICT;
-- index print_jobs_due ON print_jobs
CREATE INDEX print_jobs_due ON print_jobs(state, next_attempt_at);
-- table products ON products
CREATE TABLE "products" (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
                    search_key TEXT NOT NULL,
                    unit TEXT NOT NULL CHECK (length(unit) BETWEEN 1 AND 16),
                    price INTEGER NOT NULL CHECK (price BETWEEN 0 AND 1000000000000),
                    category TEXT NOT NULL DEFAULT '',
                    barcode TEXT,
                    ocop_stars INTEGER CHECK (ocop_stars BETWEEN 3 AND 5),
                    trace_url TEXT,
                    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
                    journal_seq INTEGER REFERENCES journal(seq),
                    server_ref TEXT UNIQUE CHECK (length(server_ref) BETWEEN 1 AND 64),
                    binding INTEGER NOT NULL DEFAULT 0 CHECK (binding IN (0, 1)),
                    server_price INTEGER CHECK (server_price BETWEEN 0 AND 1000000000000),
                    server_active INTEGER CHECK (server_active IN (0, 1)),
                    CHECK (journal_seq IS NOT NULL OR server_ref IS NOT NULL)
                ) STRICT;
-- index sqlite_autoindex_products_1 ON products
-- (no sql: an automatic index)
-- index products_barcode ON products
CREATE UNIQUE INDEX products_barcode ON products(barcode) WHERE barcode IS NOT NULL;
-- table bank_accounts ON bank_accounts
CREATE TABLE bank_accounts (
            id INTEGER PRIMARY KEY,
            bank_bin TEXT NOT NULL CHECK (length(bank_bin) = 6),
            account TEXT NOT NULL CHECK (length(account) BETWEEN 6 AND 19),
            holder TEXT NOT NULL CHECK (length(holder) BETWEEN 1 AND 50),
            is_card INTEGER NOT NULL DEFAULT 0 CHECK (is_card IN (0, 1)),
            is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            created_at TEXT NOT NULL
        ) STRICT;
-- index bank_accounts_number ON bank_accounts
CREATE UNIQUE INDEX bank_accounts_number ON bank_accounts(bank_bin, account);
-- table qr_pending ON qr_pending
CREATE TABLE qr_pending (
            id TEXT PRIMARY KEY,
            reference TEXT NOT NULL,
            amount INTEGER NOT NULL CHECK (amount > 0),
            total INTEGER NOT NULL CHECK (total >= amount),
            request TEXT NOT NULL,
            bank_bin TEXT NOT NULL,
            account TEXT NOT NULL,
            holder TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'recorded', 'cancelled')),
            sale_id TEXT REFERENCES sales(id)
        ) STRICT;
-- index sqlite_autoindex_qr_pending_1 ON qr_pending
-- (no sql: an automatic index)
-- index qr_pending_state ON qr_pending
CREATE INDEX qr_pending_state ON qr_pending(state, created_at);
-- index qr_pending_reference ON qr_pending
CREATE INDEX qr_pending_reference ON qr_pending(reference);
-- index payments_reference ON payments
CREATE INDEX payments_reference ON payments(reference) WHERE reference IS NOT NULL;
-- table bank_checks ON bank_checks
CREATE TABLE bank_checks (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            bank_txn TEXT NOT NULL UNIQUE,
            reference TEXT,
            sale_id TEXT REFERENCES sales(id),
            state TEXT NOT NULL CHECK (state IN ('bank_confirmed', 'mismatch')),
            reason TEXT,
            bank_amount INTEGER NOT NULL,
            expected INTEGER,
            source TEXT NOT NULL CHECK (source IN ('server', 'statement')),
            business_day TEXT NOT NULL,
            at TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_bank_checks_1 ON bank_checks
-- (no sql: an automatic index)
-- index bank_checks_day ON bank_checks
CREATE INDEX bank_checks_day ON bank_checks(business_day);
-- table mtt_counters ON mtt_counters
CREATE TABLE mtt_counters (
            mtt_range TEXT NOT NULL CHECK (length(mtt_range) = 5),
            year INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2099),
            block INTEGER NOT NULL CHECK (block BETWEEN 0 AND 99),
            last INTEGER NOT NULL CHECK (last BETWEEN 1 AND 999999999),
            PRIMARY KEY (mtt_range, year, block)
        ) STRICT;
-- index sqlite_autoindex_mtt_counters_1 ON mtt_counters
-- (no sql: an automatic index)
-- table tax_invoices ON tax_invoices
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
        ) STRICT;
-- index sqlite_autoindex_tax_invoices_1 ON tax_invoices
-- (no sql: an automatic index)
-- index sqlite_autoindex_tax_invoices_2 ON tax_invoices
-- (no sql: an automatic index)
-- index tax_invoices_sale ON tax_invoices
CREATE INDEX tax_invoices_sale ON tax_invoices(sale_id);
-- index tax_invoices_day ON tax_invoices
CREATE INDEX tax_invoices_day ON tax_invoices(business_day);
-- trigger tax_invoices_no_update ON tax_invoices
CREATE TRIGGER tax_invoices_no_update BEFORE UPDATE ON tax_invoices
        BEGIN SELECT RAISE(ABORT, 'issued invoices are immutable'); END;
-- trigger tax_invoices_no_delete ON tax_invoices
CREATE TRIGGER tax_invoices_no_delete BEFORE DELETE ON tax_invoices
        BEGIN SELECT RAISE(ABORT, 'issued invoices cannot be deleted'); END;
-- trigger tax_invoices_gap_free ON tax_invoices
CREATE TRIGGER tax_invoices_gap_free BEFORE INSERT ON tax_invoices
        WHEN NEW.number IS NOT IFNULL((SELECT last FROM mtt_counters WHERE
                 mtt_range = NEW.mtt_range AND year = NEW.year AND block = NEW.block), 0) + 1
        BEGIN SELECT RAISE(ABORT, 'MTT invoice numbers must be gap-free'); END;
-- trigger tax_invoices_count ON tax_invoices
CREATE TRIGGER tax_invoices_count AFTER INSERT ON tax_invoices
        BEGIN
            INSERT INTO mtt_counters (mtt_range, year, block, last)
            VALUES (NEW.mtt_range, NEW.year, NEW.block, NEW.number)
            ON CONFLICT (mtt_range, year, block) DO UPDATE SET last = excluded.last;
        END;
-- trigger journal_tax_invoice ON journal
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
        END;
-- table product_tax ON product_tax
CREATE TABLE product_tax (
            product_id INTEGER PRIMARY KEY REFERENCES products(id),
            tax_group TEXT NOT NULL CHECK (length(tax_group) BETWEEN 1 AND 20),
            vat TEXT NOT NULL CHECK (vat IN ('applies', 'KCT'))
        ) STRICT;
-- index products_journal_seq ON products
CREATE INDEX products_journal_seq ON products(journal_seq);
-- index sales_voided_seq ON sales
CREATE INDEX sales_voided_seq ON sales(voided_seq) WHERE voided_seq IS NOT NULL;
-- index tax_invoices_related ON tax_invoices
CREATE INDEX tax_invoices_related ON tax_invoices(related_code) WHERE related_code IS NOT NULL;

-- ===== after 0011_lines_and_payments_without_rowid =====
-- PRAGMA user_version = 0
-- applied: market-pos/0001_journal, market-pos/0002_catalog_and_sales, market-pos/0003_access, market-pos/0004_day_totals, market-pos/0005_cash_and_day_close, market-pos/0006_print_jobs, market-pos/0007_catalogue_from_server, market-pos/0008_qr_payments, market-pos/0009_tax, market-pos/0010_journal_child_indexes, market-pos/0011_lines_and_payments_without_rowid
-- table _sqlite_migrations ON _sqlite_migrations
CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
);
-- index idx__sqlite_migrations_migration_set_name ON _sqlite_migrations
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");
-- table journal ON journal
CREATE TABLE journal (
            seq INTEGER PRIMARY KEY CHECK (seq >= 1),
            id TEXT NOT NULL UNIQUE CHECK (length(id) = 36),
            device_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            at TEXT NOT NULL CHECK (length(at) = 24),
            payload TEXT NOT NULL,
            prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
            hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64)
        ) STRICT;
-- index sqlite_autoindex_journal_1 ON journal
-- (no sql: an automatic index)
-- index sqlite_autoindex_journal_2 ON journal
-- (no sql: an automatic index)
-- trigger journal_no_update ON journal
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries are immutable'); END;
-- trigger journal_no_delete ON journal
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries cannot be deleted'); END;
-- trigger journal_append_only ON journal
CREATE TRIGGER journal_append_only BEFORE INSERT ON journal
        WHEN NEW.seq IS NOT (SELECT IFNULL(MAX(seq), 0) + 1 FROM journal)
          OR NEW.prev_hash IS NOT IFNULL((SELECT hash FROM journal WHERE seq = NEW.seq - 1),
                                         printf('%064d', 0))
        BEGIN SELECT RAISE(ABORT, 'journal entries must extend the chain'); END;
-- table settings ON settings
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
-- index sqlite_autoindex_settings_1 ON settings
-- (no sql: an automatic index)
-- table sales ON sales
CREATE TABLE sales (
            id TEXT PRIMARY KEY,
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            number INTEGER NOT NULL UNIQUE CHECK (number >= 1),
            at TEXT NOT NULL,
            business_day TEXT NOT NULL,
            total INTEGER NOT NULL CHECK (total >= 0),
            sold_by TEXT NOT NULL,
            voided_seq INTEGER REFERENCES journal(seq),
            void_reason TEXT
        ) STRICT;
-- index sqlite_autoindex_sales_1 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_2 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_3 ON sales
-- (no sql: an automatic index)
-- index sales_business_day ON sales
CREATE INDEX sales_business_day ON sales(business_day, number);
-- table pins ON pins
CREATE TABLE pins (
            role TEXT PRIMARY KEY CHECK (role IN ('owner', 'helper')),
            pin_hash TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_pins_1 ON pins
-- (no sql: an automatic index)
-- table pin_guard ON pin_guard
CREATE TABLE pin_guard (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            failures INTEGER NOT NULL DEFAULT 0,
            locked_until REAL NOT NULL DEFAULT 0
        ) STRICT;
-- table api_tokens ON api_tokens
CREATE TABLE api_tokens (
            token_hash TEXT PRIMARY KEY,
            label TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        ) STRICT;
-- index sqlite_autoindex_api_tokens_1 ON api_tokens
-- (no sql: an automatic index)
-- table day_totals ON day_totals
CREATE TABLE day_totals (
            business_day TEXT PRIMARY KEY,
            sales_count INTEGER NOT NULL DEFAULT 0,
            revenue INTEGER NOT NULL DEFAULT 0,
            cash INTEGER NOT NULL DEFAULT 0,
            qr INTEGER NOT NULL DEFAULT 0,
            voids_count INTEGER NOT NULL DEFAULT 0,
            voided_amount INTEGER NOT NULL DEFAULT 0
        ) STRICT;
-- index sqlite_autoindex_day_totals_1 ON day_totals
-- (no sql: an automatic index)
-- table cash_moves ON cash_moves
CREATE TABLE cash_moves (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            business_day TEXT NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('float', 'in', 'out')),
            amount INTEGER NOT NULL CHECK (amount > 0),
            reason TEXT NOT NULL,
            at TEXT NOT NULL
        ) STRICT;
-- index cash_moves_day ON cash_moves
CREATE INDEX cash_moves_day ON cash_moves(business_day);
-- table day_closes ON day_closes
CREATE TABLE day_closes (
            business_day TEXT PRIMARY KEY,
            z_number INTEGER NOT NULL UNIQUE CHECK (z_number >= 1),
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            at TEXT NOT NULL,
            expected_cash INTEGER NOT NULL,
            counted_cash INTEGER NOT NULL CHECK (counted_cash >= 0),
            report TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_day_closes_1 ON day_closes
-- (no sql: an automatic index)
-- index sqlite_autoindex_day_closes_2 ON day_closes
-- (no sql: an automatic index)
-- index sqlite_autoindex_day_closes_3 ON day_closes
-- (no sql: an automatic index)
-- table print_jobs ON print_jobs
CREATE TABLE print_jobs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('receipt', 'report', 'selftest')),
            ref TEXT NOT NULL DEFAULT '',
            copy INTEGER NOT NULL DEFAULT 0 CHECK (copy IN (0, 1)),
            state TEXT NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'held', 'done', 'failed', 'cancelled')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at REAL NOT NULL,
            next_attempt_at REAL NOT NULL,
            updated_at REAL NOT NULL
        ) STRICT;
-- index print_jobs_due ON print_jobs
CREATE INDEX print_jobs_due ON print_jobs(state, next_attempt_at);
-- table products ON products
CREATE TABLE "products" (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
                    search_key TEXT NOT NULL,
                    unit TEXT NOT NULL CHECK (length(unit) BETWEEN 1 AND 16),
                    price INTEGER NOT NULL CHECK (price BETWEEN 0 AND 1000000000000),
                    category TEXT NOT NULL DEFAULT '',
                    barcode TEXT,
                    ocop_stars INTEGER CHECK (ocop_stars BETWEEN 3 AND 5),
                    trace_url TEXT,
                    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
                    journal_seq INTEGER REFERENCES journal(seq),
                    server_ref TEXT UNIQUE CHECK (length(server_ref) BETWEEN 1 AND 64),
                    binding INTEGER NOT NULL DEFAULT 0 CHECK (binding IN (0, 1)),
                    server_price INTEGER CHECK (server_price BETWEEN 0 AND 1000000000000),
                    server_active INTEGER CHECK (server_active IN (0, 1)),
                    CHECK (journal_seq IS NOT NULL OR server_ref IS NOT NULL)
                ) STRICT;
-- index sqlite_autoindex_products_1 ON products
-- (no sql: an automatic index)
-- index products_barcode ON products
CREATE UNIQUE INDEX products_barcode ON products(barcode) WHERE barcode IS NOT NULL;
-- table bank_accounts ON bank_accounts
CREATE TABLE bank_accounts (
            id INTEGER PRIMARY KEY,
            bank_bin TEXT NOT NULL CHECK (length(bank_bin) = 6),
            account TEXT NOT NULL CHECK (length(account) BETWEEN 6 AND 19),
            holder TEXT NOT NULL CHECK (length(holder) BETWEEN 1 AND 50),
            is_card INTEGER NOT NULL DEFAULT 0 CHECK (is_card IN (0, 1)),
            is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            created_at TEXT NOT NULL
        ) STRICT;
-- index bank_accounts_number ON bank_accounts
CREATE UNIQUE INDEX bank_accounts_number ON bank_accounts(bank_bin, account);
-- table qr_pending ON qr_pending
CREATE TABLE qr_pending (
            id TEXT PRIMARY KEY,
            reference TEXT NOT NULL,
            amount INTEGER NOT NULL CHECK (amount > 0),
            total INTEGER NOT NULL CHECK (total >= amount),
            request TEXT NOT NULL,
            bank_bin TEXT NOT NULL,
            account TEXT NOT NULL,
            holder TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'recorded', 'cancelled')),
            sale_id TEXT REFERENCES sales(id)
        ) STRICT;
-- index sqlite_autoindex_qr_pending_1 ON qr_pending
-- (no sql: an automatic index)
-- index qr_pending_state ON qr_pending
CREATE INDEX qr_pending_state ON qr_pending(state, created_at);
-- index qr_pending_reference ON qr_pending
CREATE INDEX qr_pending_reference ON qr_pending(reference);
-- table bank_checks ON bank_checks
CREATE TABLE bank_checks (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            bank_txn TEXT NOT NULL UNIQUE,
            reference TEXT,
            sale_id TEXT REFERENCES sales(id),
            state TEXT NOT NULL CHECK (state IN ('bank_confirmed', 'mismatch')),
            reason TEXT,
            bank_amount INTEGER NOT NULL,
            expected INTEGER,
            source TEXT NOT NULL CHECK (source IN ('server', 'statement')),
            business_day TEXT NOT NULL,
            at TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_bank_checks_1 ON bank_checks
-- (no sql: an automatic index)
-- index bank_checks_day ON bank_checks
CREATE INDEX bank_checks_day ON bank_checks(business_day);
-- table mtt_counters ON mtt_counters
CREATE TABLE mtt_counters (
            mtt_range TEXT NOT NULL CHECK (length(mtt_range) = 5),
            year INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2099),
            block INTEGER NOT NULL CHECK (block BETWEEN 0 AND 99),
            last INTEGER NOT NULL CHECK (last BETWEEN 1 AND 999999999),
            PRIMARY KEY (mtt_range, year, block)
        ) STRICT;
-- index sqlite_autoindex_mtt_counters_1 ON mtt_counters
-- (no sql: an automatic index)
-- table tax_invoices ON tax_invoices
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
        ) STRICT;
-- index sqlite_autoindex_tax_invoices_1 ON tax_invoices
-- (no sql: an automatic index)
-- index sqlite_autoindex_tax_invoices_2 ON tax_invoices
-- (no sql: an automatic index)
-- index tax_invoices_sale ON tax_invoices
CREATE INDEX tax_invoices_sale ON tax_invoices(sale_id);
-- index tax_invoices_day ON tax_invoices
CREATE INDEX tax_invoices_day ON tax_invoices(business_day);
-- trigger tax_invoices_no_update ON tax_invoices
CREATE TRIGGER tax_invoices_no_update BEFORE UPDATE ON tax_invoices
        BEGIN SELECT RAISE(ABORT, 'issued invoices are immutable'); END;
-- trigger tax_invoices_no_delete ON tax_invoices
CREATE TRIGGER tax_invoices_no_delete BEFORE DELETE ON tax_invoices
        BEGIN SELECT RAISE(ABORT, 'issued invoices cannot be deleted'); END;
-- trigger tax_invoices_gap_free ON tax_invoices
CREATE TRIGGER tax_invoices_gap_free BEFORE INSERT ON tax_invoices
        WHEN NEW.number IS NOT IFNULL((SELECT last FROM mtt_counters WHERE
                 mtt_range = NEW.mtt_range AND year = NEW.year AND block = NEW.block), 0) + 1
        BEGIN SELECT RAISE(ABORT, 'MTT invoice numbers must be gap-free'); END;
-- trigger tax_invoices_count ON tax_invoices
CREATE TRIGGER tax_invoices_count AFTER INSERT ON tax_invoices
        BEGIN
            INSERT INTO mtt_counters (mtt_range, year, block, last)
            VALUES (NEW.mtt_range, NEW.year, NEW.block, NEW.number)
            ON CONFLICT (mtt_range, year, block) DO UPDATE SET last = excluded.last;
        END;
-- trigger journal_tax_invoice ON journal
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
        END;
-- table product_tax ON product_tax
CREATE TABLE product_tax (
            product_id INTEGER PRIMARY KEY REFERENCES products(id),
            tax_group TEXT NOT NULL CHECK (length(tax_group) BETWEEN 1 AND 20),
            vat TEXT NOT NULL CHECK (vat IN ('applies', 'KCT'))
        ) STRICT;
-- index products_journal_seq ON products
CREATE INDEX products_journal_seq ON products(journal_seq);
-- index sales_voided_seq ON sales
CREATE INDEX sales_voided_seq ON sales(voided_seq) WHERE voided_seq IS NOT NULL;
-- index tax_invoices_related ON tax_invoices
CREATE INDEX tax_invoices_related ON tax_invoices(related_code) WHERE related_code IS NOT NULL;
-- table sale_lines ON sale_lines
CREATE TABLE "sale_lines" (
                    sale_id TEXT NOT NULL REFERENCES sales(id),
                    line_no INTEGER NOT NULL,
                    product_id INTEGER REFERENCES products(id),
                    name TEXT NOT NULL,
                    unit TEXT NOT NULL,
                    quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
                    unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
                    amount INTEGER NOT NULL CHECK (amount >= 0),
                    PRIMARY KEY (sale_id, line_no)
                ) STRICT, WITHOUT ROWID;
-- table payments ON payments
CREATE TABLE "payments" (
                    sale_id TEXT NOT NULL REFERENCES sales(id),
                    line_no INTEGER NOT NULL,
                    method TEXT NOT NULL CHECK (method IN ('cash', 'qr')),
                    amount INTEGER NOT NULL CHECK (amount >= 0),
                    tendered INTEGER CHECK (tendered >= amount),
                    change INTEGER CHECK (change >= 0),
                    reference TEXT,
                    bank_bin TEXT,
                    account TEXT,
                    state TEXT,
                    bank_txn TEXT,
                    PRIMARY KEY (sale_id, line_no)
                ) STRICT, WITHOUT ROWID;
-- index payments_reference ON payments
CREATE INDEX payments_reference ON payments(reference) WHERE reference IS NOT NULL;

-- ===== after 0012_sale_rows_keyed_by_seq =====
-- PRAGMA user_version = 0
-- applied: market-pos/0001_journal, market-pos/0002_catalog_and_sales, market-pos/0003_access, market-pos/0004_day_totals, market-pos/0005_cash_and_day_close, market-pos/0006_print_jobs, market-pos/0007_catalogue_from_server, market-pos/0008_qr_payments, market-pos/0009_tax, market-pos/0010_journal_child_indexes, market-pos/0011_lines_and_payments_without_rowid, market-pos/0012_sale_rows_keyed_by_seq
-- table _sqlite_migrations ON _sqlite_migrations
CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
);
-- index idx__sqlite_migrations_migration_set_name ON _sqlite_migrations
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");
-- table settings ON settings
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
-- index sqlite_autoindex_settings_1 ON settings
-- (no sql: an automatic index)
-- table sales ON sales
CREATE TABLE sales (
            id TEXT PRIMARY KEY,
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            number INTEGER NOT NULL UNIQUE CHECK (number >= 1),
            at TEXT NOT NULL,
            business_day TEXT NOT NULL,
            total INTEGER NOT NULL CHECK (total >= 0),
            sold_by TEXT NOT NULL,
            voided_seq INTEGER REFERENCES journal(seq),
            void_reason TEXT
        ) STRICT;
-- index sqlite_autoindex_sales_1 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_2 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_3 ON sales
-- (no sql: an automatic index)
-- index sales_business_day ON sales
CREATE INDEX sales_business_day ON sales(business_day, number);
-- table pins ON pins
CREATE TABLE pins (
            role TEXT PRIMARY KEY CHECK (role IN ('owner', 'helper')),
            pin_hash TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_pins_1 ON pins
-- (no sql: an automatic index)
-- table pin_guard ON pin_guard
CREATE TABLE pin_guard (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            failures INTEGER NOT NULL DEFAULT 0,
            locked_until REAL NOT NULL DEFAULT 0
        ) STRICT;
-- table api_tokens ON api_tokens
CREATE TABLE api_tokens (
            token_hash TEXT PRIMARY KEY,
            label TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        ) STRICT;
-- index sqlite_autoindex_api_tokens_1 ON api_tokens
-- (no sql: an automatic index)
-- table day_totals ON day_totals
CREATE TABLE day_totals (
            business_day TEXT PRIMARY KEY,
            sales_count INTEGER NOT NULL DEFAULT 0,
            revenue INTEGER NOT NULL DEFAULT 0,
            cash INTEGER NOT NULL DEFAULT 0,
            qr INTEGER NOT NULL DEFAULT 0,
            voids_count INTEGER NOT NULL DEFAULT 0,
            voided_amount INTEGER NOT NULL DEFAULT 0
        ) STRICT;
-- index sqlite_autoindex_day_totals_1 ON day_totals
-- (no sql: an automatic index)
-- table cash_moves ON cash_moves
CREATE TABLE cash_moves (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            business_day TEXT NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('float', 'in', 'out')),
            amount INTEGER NOT NULL CHECK (amount > 0),
            reason TEXT NOT NULL,
            at TEXT NOT NULL
        ) STRICT;
-- index cash_moves_day ON cash_moves
CREATE INDEX cash_moves_day ON cash_moves(business_day);
-- table day_closes ON day_closes
CREATE TABLE day_closes (
            business_day TEXT PRIMARY KEY,
            z_number INTEGER NOT NULL UNIQUE CHECK (z_number >= 1),
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            at TEXT NOT NULL,
            expected_cash INTEGER NOT NULL,
            counted_cash INTEGER NOT NULL CHECK (counted_cash >= 0),
            report TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_day_closes_1 ON day_closes
-- (no sql: an automatic index)
-- index sqlite_autoindex_day_closes_2 ON day_closes
-- (no sql: an automatic index)
-- index sqlite_autoindex_day_closes_3 ON day_closes
-- (no sql: an automatic index)
-- table print_jobs ON print_jobs
CREATE TABLE print_jobs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('receipt', 'report', 'selftest')),
            ref TEXT NOT NULL DEFAULT '',
            copy INTEGER NOT NULL DEFAULT 0 CHECK (copy IN (0, 1)),
            state TEXT NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'held', 'done', 'failed', 'cancelled')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at REAL NOT NULL,
            next_attempt_at REAL NOT NULL,
            updated_at REAL NOT NULL
        ) STRICT;
-- index print_jobs_due ON print_jobs
CREATE INDEX print_jobs_due ON print_jobs(state, next_attempt_at);
-- table products ON products
CREATE TABLE "products" (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
                    search_key TEXT NOT NULL,
                    unit TEXT NOT NULL CHECK (length(unit) BETWEEN 1 AND 16),
                    price INTEGER NOT NULL CHECK (price BETWEEN 0 AND 1000000000000),
                    category TEXT NOT NULL DEFAULT '',
                    barcode TEXT,
                    ocop_stars INTEGER CHECK (ocop_stars BETWEEN 3 AND 5),
                    trace_url TEXT,
                    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
                    journal_seq INTEGER REFERENCES journal(seq),
                    server_ref TEXT UNIQUE CHECK (length(server_ref) BETWEEN 1 AND 64),
                    binding INTEGER NOT NULL DEFAULT 0 CHECK (binding IN (0, 1)),
                    server_price INTEGER CHECK (server_price BETWEEN 0 AND 1000000000000),
                    server_active INTEGER CHECK (server_active IN (0, 1)),
                    CHECK (journal_seq IS NOT NULL OR server_ref IS NOT NULL)
                ) STRICT;
-- index sqlite_autoindex_products_1 ON products
-- (no sql: an automatic index)
-- index products_barcode ON products
CREATE UNIQUE INDEX products_barcode ON products(barcode) WHERE barcode IS NOT NULL;
-- table bank_accounts ON bank_accounts
CREATE TABLE bank_accounts (
            id INTEGER PRIMARY KEY,
            bank_bin TEXT NOT NULL CHECK (length(bank_bin) = 6),
            account TEXT NOT NULL CHECK (length(account) BETWEEN 6 AND 19),
            holder TEXT NOT NULL CHECK (length(holder) BETWEEN 1 AND 50),
            is_card INTEGER NOT NULL DEFAULT 0 CHECK (is_card IN (0, 1)),
            is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            created_at TEXT NOT NULL
        ) STRICT;
-- index bank_accounts_number ON bank_accounts
CREATE UNIQUE INDEX bank_accounts_number ON bank_accounts(bank_bin, account);
-- table qr_pending ON qr_pending
CREATE TABLE qr_pending (
            id TEXT PRIMARY KEY,
            reference TEXT NOT NULL,
            amount INTEGER NOT NULL CHECK (amount > 0),
            total INTEGER NOT NULL CHECK (total >= amount),
            request TEXT NOT NULL,
            bank_bin TEXT NOT NULL,
            account TEXT NOT NULL,
            holder TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'recorded', 'cancelled')),
            sale_id TEXT REFERENCES sales(id)
        ) STRICT;
-- index sqlite_autoindex_qr_pending_1 ON qr_pending
-- (no sql: an automatic index)
-- index qr_pending_state ON qr_pending
CREATE INDEX qr_pending_state ON qr_pending(state, created_at);
-- index qr_pending_reference ON qr_pending
CREATE INDEX qr_pending_reference ON qr_pending(reference);
-- table bank_checks ON bank_checks
CREATE TABLE bank_checks (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            bank_txn TEXT NOT NULL UNIQUE,
            reference TEXT,
            sale_id TEXT REFERENCES sales(id),
            state TEXT NOT NULL CHECK (state IN ('bank_confirmed', 'mismatch')),
            reason TEXT,
            bank_amount INTEGER NOT NULL,
            expected INTEGER,
            source TEXT NOT NULL CHECK (source IN ('server', 'statement')),
            business_day TEXT NOT NULL,
            at TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_bank_checks_1 ON bank_checks
-- (no sql: an automatic index)
-- index bank_checks_day ON bank_checks
CREATE INDEX bank_checks_day ON bank_checks(business_day);
-- table mtt_counters ON mtt_counters
CREATE TABLE mtt_counters (
            mtt_range TEXT NOT NULL CHECK (length(mtt_range) = 5),
            year INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2099),
            block INTEGER NOT NULL CHECK (block BETWEEN 0 AND 99),
            last INTEGER NOT NULL CHECK (last BETWEEN 1 AND 999999999),
            PRIMARY KEY (mtt_range, year, block)
        ) STRICT;
-- index sqlite_autoindex_mtt_counters_1 ON mtt_counters
-- (no sql: an automatic index)
-- table tax_invoices ON tax_invoices
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
        ) STRICT;
-- index sqlite_autoindex_tax_invoices_1 ON tax_invoices
-- (no sql: an automatic index)
-- index sqlite_autoindex_tax_invoices_2 ON tax_invoices
-- (no sql: an automatic index)
-- index tax_invoices_sale ON tax_invoices
CREATE INDEX tax_invoices_sale ON tax_invoices(sale_id);
-- index tax_invoices_day ON tax_invoices
CREATE INDEX tax_invoices_day ON tax_invoices(business_day);
-- trigger tax_invoices_no_update ON tax_invoices
CREATE TRIGGER tax_invoices_no_update BEFORE UPDATE ON tax_invoices
        BEGIN SELECT RAISE(ABORT, 'issued invoices are immutable'); END;
-- trigger tax_invoices_no_delete ON tax_invoices
CREATE TRIGGER tax_invoices_no_delete BEFORE DELETE ON tax_invoices
        BEGIN SELECT RAISE(ABORT, 'issued invoices cannot be deleted'); END;
-- trigger tax_invoices_gap_free ON tax_invoices
CREATE TRIGGER tax_invoices_gap_free BEFORE INSERT ON tax_invoices
        WHEN NEW.number IS NOT IFNULL((SELECT last FROM mtt_counters WHERE
                 mtt_range = NEW.mtt_range AND year = NEW.year AND block = NEW.block), 0) + 1
        BEGIN SELECT RAISE(ABORT, 'MTT invoice numbers must be gap-free'); END;
-- trigger tax_invoices_count ON tax_invoices
CREATE TRIGGER tax_invoices_count AFTER INSERT ON tax_invoices
        BEGIN
            INSERT INTO mtt_counters (mtt_range, year, block, last)
            VALUES (NEW.mtt_range, NEW.year, NEW.block, NEW.number)
            ON CONFLICT (mtt_range, year, block) DO UPDATE SET last = excluded.last;
        END;
-- table product_tax ON product_tax
CREATE TABLE product_tax (
            product_id INTEGER PRIMARY KEY REFERENCES products(id),
            tax_group TEXT NOT NULL CHECK (length(tax_group) BETWEEN 1 AND 20),
            vat TEXT NOT NULL CHECK (vat IN ('applies', 'KCT'))
        ) STRICT;
-- index products_journal_seq ON products
CREATE INDEX products_journal_seq ON products(journal_seq);
-- index sales_voided_seq ON sales
CREATE INDEX sales_voided_seq ON sales(voided_seq) WHERE voided_seq IS NOT NULL;
-- index tax_invoices_related ON tax_invoices
CREATE INDEX tax_invoices_related ON tax_invoices(related_code) WHERE related_code IS NOT NULL;
-- table journal ON journal
CREATE TABLE "journal" (
                    seq INTEGER PRIMARY KEY CHECK (seq >= 1),
                    id TEXT NOT NULL UNIQUE CHECK (length(id) = 36),
                    device_id TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    at TEXT NOT NULL CHECK (length(at) = 24),
                    payload TEXT NOT NULL,
                    prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
                    hash TEXT NOT NULL CHECK (length(hash) = 64)
                ) STRICT;
-- index sqlite_autoindex_journal_1 ON journal
-- (no sql: an automatic index)
-- trigger journal_no_update ON journal
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries are immutable'); END;
-- trigger journal_no_delete ON journal
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries cannot be deleted'); END;
-- trigger journal_append_only ON journal
CREATE TRIGGER journal_append_only BEFORE INSERT ON journal
        WHEN NEW.seq IS NOT (SELECT IFNULL(MAX(seq), 0) + 1 FROM journal)
          OR NEW.prev_hash IS NOT IFNULL((SELECT hash FROM journal WHERE seq = NEW.seq - 1),
                                         printf('%064d', 0))
        BEGIN SELECT RAISE(ABORT, 'journal entries must extend the chain'); END;
-- trigger journal_tax_invoice ON journal
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
        END;
-- table sale_lines ON sale_lines
CREATE TABLE "sale_lines" (
                    sale_seq INTEGER NOT NULL REFERENCES sales(seq),
                    line_no INTEGER NOT NULL,
                    product_id INTEGER REFERENCES products(id),
                    name TEXT NOT NULL,
                    unit TEXT NOT NULL,
                    quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
                    unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
                    amount INTEGER NOT NULL CHECK (amount >= 0),
                    PRIMARY KEY (sale_seq, line_no)
                ) STRICT, WITHOUT ROWID;
-- table payments ON payments
CREATE TABLE "payments" (
                    sale_seq INTEGER NOT NULL REFERENCES sales(seq),
                    line_no INTEGER NOT NULL,
                    method TEXT NOT NULL CHECK (method IN ('cash', 'qr')),
                    amount INTEGER NOT NULL CHECK (amount >= 0),
                    tendered INTEGER CHECK (tendered >= amount),
                    change INTEGER CHECK (change >= 0),
                    reference TEXT,
                    bank_bin TEXT,
                    account TEXT,
                    state TEXT,
                    bank_txn TEXT,
                    PRIMARY KEY (sale_seq, line_no)
                ) STRICT, WITHOUT ROWID;
-- index payments_reference ON payments
CREATE INDEX payments_reference ON payments(reference) WHERE reference IS NOT NULL;

-- ===== after 0013_pin_guard_lockouts =====
-- PRAGMA user_version = 0
-- applied: market-pos/0001_journal, market-pos/0002_catalog_and_sales, market-pos/0003_access, market-pos/0004_day_totals, market-pos/0005_cash_and_day_close, market-pos/0006_print_jobs, market-pos/0007_catalogue_from_server, market-pos/0008_qr_payments, market-pos/0009_tax, market-pos/0010_journal_child_indexes, market-pos/0011_lines_and_payments_without_rowid, market-pos/0012_sale_rows_keyed_by_seq, market-pos/0013_pin_guard_lockouts
-- table _sqlite_migrations ON _sqlite_migrations
CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
);
-- index idx__sqlite_migrations_migration_set_name ON _sqlite_migrations
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");
-- table settings ON settings
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
-- index sqlite_autoindex_settings_1 ON settings
-- (no sql: an automatic index)
-- table sales ON sales
CREATE TABLE sales (
            id TEXT PRIMARY KEY,
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            number INTEGER NOT NULL UNIQUE CHECK (number >= 1),
            at TEXT NOT NULL,
            business_day TEXT NOT NULL,
            total INTEGER NOT NULL CHECK (total >= 0),
            sold_by TEXT NOT NULL,
            voided_seq INTEGER REFERENCES journal(seq),
            void_reason TEXT
        ) STRICT;
-- index sqlite_autoindex_sales_1 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_2 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_3 ON sales
-- (no sql: an automatic index)
-- index sales_business_day ON sales
CREATE INDEX sales_business_day ON sales(business_day, number);
-- table pins ON pins
CREATE TABLE pins (
            role TEXT PRIMARY KEY CHECK (role IN ('owner', 'helper')),
            pin_hash TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_pins_1 ON pins
-- (no sql: an automatic index)
-- table pin_guard ON pin_guard
CREATE TABLE pin_guard (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            failures INTEGER NOT NULL DEFAULT 0,
            locked_until REAL NOT NULL DEFAULT 0
        , lockouts INTEGER NOT NULL DEFAULT 0, last_failure_at REAL NOT NULL DEFAULT 0) STRICT;
-- table api_tokens ON api_tokens
CREATE TABLE api_tokens (
            token_hash TEXT PRIMARY KEY,
            label TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        ) STRICT;
-- index sqlite_autoindex_api_tokens_1 ON api_tokens
-- (no sql: an automatic index)
-- table day_totals ON day_totals
CREATE TABLE day_totals (
            business_day TEXT PRIMARY KEY,
            sales_count INTEGER NOT NULL DEFAULT 0,
            revenue INTEGER NOT NULL DEFAULT 0,
            cash INTEGER NOT NULL DEFAULT 0,
            qr INTEGER NOT NULL DEFAULT 0,
            voids_count INTEGER NOT NULL DEFAULT 0,
            voided_amount INTEGER NOT NULL DEFAULT 0
        ) STRICT;
-- index sqlite_autoindex_day_totals_1 ON day_totals
-- (no sql: an automatic index)
-- table cash_moves ON cash_moves
CREATE TABLE cash_moves (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            business_day TEXT NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('float', 'in', 'out')),
            amount INTEGER NOT NULL CHECK (amount > 0),
            reason TEXT NOT NULL,
            at TEXT NOT NULL
        ) STRICT;
-- index cash_moves_day ON cash_moves
CREATE INDEX cash_moves_day ON cash_moves(business_day);
-- table day_closes ON day_closes
CREATE TABLE day_closes (
            business_day TEXT PRIMARY KEY,
            z_number INTEGER NOT NULL UNIQUE CHECK (z_number >= 1),
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            at TEXT NOT NULL,
            expected_cash INTEGER NOT NULL,
            counted_cash INTEGER NOT NULL CHECK (counted_cash >= 0),
            report TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_day_closes_1 ON day_closes
-- (no sql: an automatic index)
-- index sqlite_autoindex_day_closes_2 ON day_closes
-- (no sql: an automatic index)
-- index sqlite_autoindex_day_closes_3 ON day_closes
-- (no sql: an automatic index)
-- table print_jobs ON print_jobs
CREATE TABLE print_jobs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('receipt', 'report', 'selftest')),
            ref TEXT NOT NULL DEFAULT '',
            copy INTEGER NOT NULL DEFAULT 0 CHECK (copy IN (0, 1)),
            state TEXT NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'held', 'done', 'failed', 'cancelled')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at REAL NOT NULL,
            next_attempt_at REAL NOT NULL,
            updated_at REAL NOT NULL
        ) STRICT;
-- index print_jobs_due ON print_jobs
CREATE INDEX print_jobs_due ON print_jobs(state, next_attempt_at);
-- table products ON products
CREATE TABLE "products" (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
                    search_key TEXT NOT NULL,
                    unit TEXT NOT NULL CHECK (length(unit) BETWEEN 1 AND 16),
                    price INTEGER NOT NULL CHECK (price BETWEEN 0 AND 1000000000000),
                    category TEXT NOT NULL DEFAULT '',
                    barcode TEXT,
                    ocop_stars INTEGER CHECK (ocop_stars BETWEEN 3 AND 5),
                    trace_url TEXT,
                    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
                    journal_seq INTEGER REFERENCES journal(seq),
                    server_ref TEXT UNIQUE CHECK (length(server_ref) BETWEEN 1 AND 64),
                    binding INTEGER NOT NULL DEFAULT 0 CHECK (binding IN (0, 1)),
                    server_price INTEGER CHECK (server_price BETWEEN 0 AND 1000000000000),
                    server_active INTEGER CHECK (server_active IN (0, 1)),
                    CHECK (journal_seq IS NOT NULL OR server_ref IS NOT NULL)
                ) STRICT;
-- index sqlite_autoindex_products_1 ON products
-- (no sql: an automatic index)
-- index products_barcode ON products
CREATE UNIQUE INDEX products_barcode ON products(barcode) WHERE barcode IS NOT NULL;
-- table bank_accounts ON bank_accounts
CREATE TABLE bank_accounts (
            id INTEGER PRIMARY KEY,
            bank_bin TEXT NOT NULL CHECK (length(bank_bin) = 6),
            account TEXT NOT NULL CHECK (length(account) BETWEEN 6 AND 19),
            holder TEXT NOT NULL CHECK (length(holder) BETWEEN 1 AND 50),
            is_card INTEGER NOT NULL DEFAULT 0 CHECK (is_card IN (0, 1)),
            is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            created_at TEXT NOT NULL
        ) STRICT;
-- index bank_accounts_number ON bank_accounts
CREATE UNIQUE INDEX bank_accounts_number ON bank_accounts(bank_bin, account);
-- table qr_pending ON qr_pending
CREATE TABLE qr_pending (
            id TEXT PRIMARY KEY,
            reference TEXT NOT NULL,
            amount INTEGER NOT NULL CHECK (amount > 0),
            total INTEGER NOT NULL CHECK (total >= amount),
            request TEXT NOT NULL,
            bank_bin TEXT NOT NULL,
            account TEXT NOT NULL,
            holder TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'recorded', 'cancelled')),
            sale_id TEXT REFERENCES sales(id)
        ) STRICT;
-- index sqlite_autoindex_qr_pending_1 ON qr_pending
-- (no sql: an automatic index)
-- index qr_pending_state ON qr_pending
CREATE INDEX qr_pending_state ON qr_pending(state, created_at);
-- index qr_pending_reference ON qr_pending
CREATE INDEX qr_pending_reference ON qr_pending(reference);
-- table bank_checks ON bank_checks
CREATE TABLE bank_checks (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            bank_txn TEXT NOT NULL UNIQUE,
            reference TEXT,
            sale_id TEXT REFERENCES sales(id),
            state TEXT NOT NULL CHECK (state IN ('bank_confirmed', 'mismatch')),
            reason TEXT,
            bank_amount INTEGER NOT NULL,
            expected INTEGER,
            source TEXT NOT NULL CHECK (source IN ('server', 'statement')),
            business_day TEXT NOT NULL,
            at TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_bank_checks_1 ON bank_checks
-- (no sql: an automatic index)
-- index bank_checks_day ON bank_checks
CREATE INDEX bank_checks_day ON bank_checks(business_day);
-- table mtt_counters ON mtt_counters
CREATE TABLE mtt_counters (
            mtt_range TEXT NOT NULL CHECK (length(mtt_range) = 5),
            year INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2099),
            block INTEGER NOT NULL CHECK (block BETWEEN 0 AND 99),
            last INTEGER NOT NULL CHECK (last BETWEEN 1 AND 999999999),
            PRIMARY KEY (mtt_range, year, block)
        ) STRICT;
-- index sqlite_autoindex_mtt_counters_1 ON mtt_counters
-- (no sql: an automatic index)
-- table tax_invoices ON tax_invoices
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
        ) STRICT;
-- index sqlite_autoindex_tax_invoices_1 ON tax_invoices
-- (no sql: an automatic index)
-- index sqlite_autoindex_tax_invoices_2 ON tax_invoices
-- (no sql: an automatic index)
-- index tax_invoices_sale ON tax_invoices
CREATE INDEX tax_invoices_sale ON tax_invoices(sale_id);
-- index tax_invoices_day ON tax_invoices
CREATE INDEX tax_invoices_day ON tax_invoices(business_day);
-- trigger tax_invoices_no_update ON tax_invoices
CREATE TRIGGER tax_invoices_no_update BEFORE UPDATE ON tax_invoices
        BEGIN SELECT RAISE(ABORT, 'issued invoices are immutable'); END;
-- trigger tax_invoices_no_delete ON tax_invoices
CREATE TRIGGER tax_invoices_no_delete BEFORE DELETE ON tax_invoices
        BEGIN SELECT RAISE(ABORT, 'issued invoices cannot be deleted'); END;
-- trigger tax_invoices_gap_free ON tax_invoices
CREATE TRIGGER tax_invoices_gap_free BEFORE INSERT ON tax_invoices
        WHEN NEW.number IS NOT IFNULL((SELECT last FROM mtt_counters WHERE
                 mtt_range = NEW.mtt_range AND year = NEW.year AND block = NEW.block), 0) + 1
        BEGIN SELECT RAISE(ABORT, 'MTT invoice numbers must be gap-free'); END;
-- trigger tax_invoices_count ON tax_invoices
CREATE TRIGGER tax_invoices_count AFTER INSERT ON tax_invoices
        BEGIN
            INSERT INTO mtt_counters (mtt_range, year, block, last)
            VALUES (NEW.mtt_range, NEW.year, NEW.block, NEW.number)
            ON CONFLICT (mtt_range, year, block) DO UPDATE SET last = excluded.last;
        END;
-- table product_tax ON product_tax
CREATE TABLE product_tax (
            product_id INTEGER PRIMARY KEY REFERENCES products(id),
            tax_group TEXT NOT NULL CHECK (length(tax_group) BETWEEN 1 AND 20),
            vat TEXT NOT NULL CHECK (vat IN ('applies', 'KCT'))
        ) STRICT;
-- index products_journal_seq ON products
CREATE INDEX products_journal_seq ON products(journal_seq);
-- index sales_voided_seq ON sales
CREATE INDEX sales_voided_seq ON sales(voided_seq) WHERE voided_seq IS NOT NULL;
-- index tax_invoices_related ON tax_invoices
CREATE INDEX tax_invoices_related ON tax_invoices(related_code) WHERE related_code IS NOT NULL;
-- table journal ON journal
CREATE TABLE "journal" (
                    seq INTEGER PRIMARY KEY CHECK (seq >= 1),
                    id TEXT NOT NULL UNIQUE CHECK (length(id) = 36),
                    device_id TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    at TEXT NOT NULL CHECK (length(at) = 24),
                    payload TEXT NOT NULL,
                    prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
                    hash TEXT NOT NULL CHECK (length(hash) = 64)
                ) STRICT;
-- index sqlite_autoindex_journal_1 ON journal
-- (no sql: an automatic index)
-- trigger journal_no_update ON journal
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries are immutable'); END;
-- trigger journal_no_delete ON journal
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries cannot be deleted'); END;
-- trigger journal_append_only ON journal
CREATE TRIGGER journal_append_only BEFORE INSERT ON journal
        WHEN NEW.seq IS NOT (SELECT IFNULL(MAX(seq), 0) + 1 FROM journal)
          OR NEW.prev_hash IS NOT IFNULL((SELECT hash FROM journal WHERE seq = NEW.seq - 1),
                                         printf('%064d', 0))
        BEGIN SELECT RAISE(ABORT, 'journal entries must extend the chain'); END;
-- trigger journal_tax_invoice ON journal
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
        END;
-- table sale_lines ON sale_lines
CREATE TABLE "sale_lines" (
                    sale_seq INTEGER NOT NULL REFERENCES sales(seq),
                    line_no INTEGER NOT NULL,
                    product_id INTEGER REFERENCES products(id),
                    name TEXT NOT NULL,
                    unit TEXT NOT NULL,
                    quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
                    unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
                    amount INTEGER NOT NULL CHECK (amount >= 0),
                    PRIMARY KEY (sale_seq, line_no)
                ) STRICT, WITHOUT ROWID;
-- table payments ON payments
CREATE TABLE "payments" (
                    sale_seq INTEGER NOT NULL REFERENCES sales(seq),
                    line_no INTEGER NOT NULL,
                    method TEXT NOT NULL CHECK (method IN ('cash', 'qr')),
                    amount INTEGER NOT NULL CHECK (amount >= 0),
                    tendered INTEGER CHECK (tendered >= amount),
                    change INTEGER CHECK (change >= 0),
                    reference TEXT,
                    bank_bin TEXT,
                    account TEXT,
                    state TEXT,
                    bank_txn TEXT,
                    PRIMARY KEY (sale_seq, line_no)
                ) STRICT, WITHOUT ROWID;
-- index payments_reference ON payments
CREATE INDEX payments_reference ON payments(reference) WHERE reference IS NOT NULL;

-- ===== after 0014_api_token_ids =====
-- PRAGMA user_version = 0
-- applied: market-pos/0001_journal, market-pos/0002_catalog_and_sales, market-pos/0003_access, market-pos/0004_day_totals, market-pos/0005_cash_and_day_close, market-pos/0006_print_jobs, market-pos/0007_catalogue_from_server, market-pos/0008_qr_payments, market-pos/0009_tax, market-pos/0010_journal_child_indexes, market-pos/0011_lines_and_payments_without_rowid, market-pos/0012_sale_rows_keyed_by_seq, market-pos/0013_pin_guard_lockouts, market-pos/0014_api_token_ids
-- table _sqlite_migrations ON _sqlite_migrations
CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
);
-- index idx__sqlite_migrations_migration_set_name ON _sqlite_migrations
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");
-- table settings ON settings
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
-- index sqlite_autoindex_settings_1 ON settings
-- (no sql: an automatic index)
-- table sales ON sales
CREATE TABLE sales (
            id TEXT PRIMARY KEY,
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            number INTEGER NOT NULL UNIQUE CHECK (number >= 1),
            at TEXT NOT NULL,
            business_day TEXT NOT NULL,
            total INTEGER NOT NULL CHECK (total >= 0),
            sold_by TEXT NOT NULL,
            voided_seq INTEGER REFERENCES journal(seq),
            void_reason TEXT
        ) STRICT;
-- index sqlite_autoindex_sales_1 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_2 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_3 ON sales
-- (no sql: an automatic index)
-- index sales_business_day ON sales
CREATE INDEX sales_business_day ON sales(business_day, number);
-- table pins ON pins
CREATE TABLE pins (
            role TEXT PRIMARY KEY CHECK (role IN ('owner', 'helper')),
            pin_hash TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_pins_1 ON pins
-- (no sql: an automatic index)
-- table pin_guard ON pin_guard
CREATE TABLE pin_guard (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            failures INTEGER NOT NULL DEFAULT 0,
            locked_until REAL NOT NULL DEFAULT 0
        , lockouts INTEGER NOT NULL DEFAULT 0, last_failure_at REAL NOT NULL DEFAULT 0) STRICT;
-- table day_totals ON day_totals
CREATE TABLE day_totals (
            business_day TEXT PRIMARY KEY,
            sales_count INTEGER NOT NULL DEFAULT 0,
            revenue INTEGER NOT NULL DEFAULT 0,
            cash INTEGER NOT NULL DEFAULT 0,
            qr INTEGER NOT NULL DEFAULT 0,
            voids_count INTEGER NOT NULL DEFAULT 0,
            voided_amount INTEGER NOT NULL DEFAULT 0
        ) STRICT;
-- index sqlite_autoindex_day_totals_1 ON day_totals
-- (no sql: an automatic index)
-- table cash_moves ON cash_moves
CREATE TABLE cash_moves (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            business_day TEXT NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('float', 'in', 'out')),
            amount INTEGER NOT NULL CHECK (amount > 0),
            reason TEXT NOT NULL,
            at TEXT NOT NULL
        ) STRICT;
-- index cash_moves_day ON cash_moves
CREATE INDEX cash_moves_day ON cash_moves(business_day);
-- table day_closes ON day_closes
CREATE TABLE day_closes (
            business_day TEXT PRIMARY KEY,
            z_number INTEGER NOT NULL UNIQUE CHECK (z_number >= 1),
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            at TEXT NOT NULL,
            expected_cash INTEGER NOT NULL,
            counted_cash INTEGER NOT NULL CHECK (counted_cash >= 0),
            report TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_day_closes_1 ON day_closes
-- (no sql: an automatic index)
-- index sqlite_autoindex_day_closes_2 ON day_closes
-- (no sql: an automatic index)
-- index sqlite_autoindex_day_closes_3 ON day_closes
-- (no sql: an automatic index)
-- table print_jobs ON print_jobs
CREATE TABLE print_jobs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('receipt', 'report', 'selftest')),
            ref TEXT NOT NULL DEFAULT '',
            copy INTEGER NOT NULL DEFAULT 0 CHECK (copy IN (0, 1)),
            state TEXT NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'held', 'done', 'failed', 'cancelled')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at REAL NOT NULL,
            next_attempt_at REAL NOT NULL,
            updated_at REAL NOT NULL
        ) STRICT;
-- index print_jobs_due ON print_jobs
CREATE INDEX print_jobs_due ON print_jobs(state, next_attempt_at);
-- table products ON products
CREATE TABLE "products" (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
                    search_key TEXT NOT NULL,
                    unit TEXT NOT NULL CHECK (length(unit) BETWEEN 1 AND 16),
                    price INTEGER NOT NULL CHECK (price BETWEEN 0 AND 1000000000000),
                    category TEXT NOT NULL DEFAULT '',
                    barcode TEXT,
                    ocop_stars INTEGER CHECK (ocop_stars BETWEEN 3 AND 5),
                    trace_url TEXT,
                    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
                    journal_seq INTEGER REFERENCES journal(seq),
                    server_ref TEXT UNIQUE CHECK (length(server_ref) BETWEEN 1 AND 64),
                    binding INTEGER NOT NULL DEFAULT 0 CHECK (binding IN (0, 1)),
                    server_price INTEGER CHECK (server_price BETWEEN 0 AND 1000000000000),
                    server_active INTEGER CHECK (server_active IN (0, 1)),
                    CHECK (journal_seq IS NOT NULL OR server_ref IS NOT NULL)
                ) STRICT;
-- index sqlite_autoindex_products_1 ON products
-- (no sql: an automatic index)
-- index products_barcode ON products
CREATE UNIQUE INDEX products_barcode ON products(barcode) WHERE barcode IS NOT NULL;
-- table bank_accounts ON bank_accounts
CREATE TABLE bank_accounts (
            id INTEGER PRIMARY KEY,
            bank_bin TEXT NOT NULL CHECK (length(bank_bin) = 6),
            account TEXT NOT NULL CHECK (length(account) BETWEEN 6 AND 19),
            holder TEXT NOT NULL CHECK (length(holder) BETWEEN 1 AND 50),
            is_card INTEGER NOT NULL DEFAULT 0 CHECK (is_card IN (0, 1)),
            is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            created_at TEXT NOT NULL
        ) STRICT;
-- index bank_accounts_number ON bank_accounts
CREATE UNIQUE INDEX bank_accounts_number ON bank_accounts(bank_bin, account);
-- table qr_pending ON qr_pending
CREATE TABLE qr_pending (
            id TEXT PRIMARY KEY,
            reference TEXT NOT NULL,
            amount INTEGER NOT NULL CHECK (amount > 0),
            total INTEGER NOT NULL CHECK (total >= amount),
            request TEXT NOT NULL,
            bank_bin TEXT NOT NULL,
            account TEXT NOT NULL,
            holder TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'recorded', 'cancelled')),
            sale_id TEXT REFERENCES sales(id)
        ) STRICT;
-- index sqlite_autoindex_qr_pending_1 ON qr_pending
-- (no sql: an automatic index)
-- index qr_pending_state ON qr_pending
CREATE INDEX qr_pending_state ON qr_pending(state, created_at);
-- index qr_pending_reference ON qr_pending
CREATE INDEX qr_pending_reference ON qr_pending(reference);
-- table bank_checks ON bank_checks
CREATE TABLE bank_checks (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            bank_txn TEXT NOT NULL UNIQUE,
            reference TEXT,
            sale_id TEXT REFERENCES sales(id),
            state TEXT NOT NULL CHECK (state IN ('bank_confirmed', 'mismatch')),
            reason TEXT,
            bank_amount INTEGER NOT NULL,
            expected INTEGER,
            source TEXT NOT NULL CHECK (source IN ('server', 'statement')),
            business_day TEXT NOT NULL,
            at TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_bank_checks_1 ON bank_checks
-- (no sql: an automatic index)
-- index bank_checks_day ON bank_checks
CREATE INDEX bank_checks_day ON bank_checks(business_day);
-- table mtt_counters ON mtt_counters
CREATE TABLE mtt_counters (
            mtt_range TEXT NOT NULL CHECK (length(mtt_range) = 5),
            year INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2099),
            block INTEGER NOT NULL CHECK (block BETWEEN 0 AND 99),
            last INTEGER NOT NULL CHECK (last BETWEEN 1 AND 999999999),
            PRIMARY KEY (mtt_range, year, block)
        ) STRICT;
-- index sqlite_autoindex_mtt_counters_1 ON mtt_counters
-- (no sql: an automatic index)
-- table tax_invoices ON tax_invoices
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
        ) STRICT;
-- index sqlite_autoindex_tax_invoices_1 ON tax_invoices
-- (no sql: an automatic index)
-- index sqlite_autoindex_tax_invoices_2 ON tax_invoices
-- (no sql: an automatic index)
-- index tax_invoices_sale ON tax_invoices
CREATE INDEX tax_invoices_sale ON tax_invoices(sale_id);
-- index tax_invoices_day ON tax_invoices
CREATE INDEX tax_invoices_day ON tax_invoices(business_day);
-- trigger tax_invoices_no_update ON tax_invoices
CREATE TRIGGER tax_invoices_no_update BEFORE UPDATE ON tax_invoices
        BEGIN SELECT RAISE(ABORT, 'issued invoices are immutable'); END;
-- trigger tax_invoices_no_delete ON tax_invoices
CREATE TRIGGER tax_invoices_no_delete BEFORE DELETE ON tax_invoices
        BEGIN SELECT RAISE(ABORT, 'issued invoices cannot be deleted'); END;
-- trigger tax_invoices_gap_free ON tax_invoices
CREATE TRIGGER tax_invoices_gap_free BEFORE INSERT ON tax_invoices
        WHEN NEW.number IS NOT IFNULL((SELECT last FROM mtt_counters WHERE
                 mtt_range = NEW.mtt_range AND year = NEW.year AND block = NEW.block), 0) + 1
        BEGIN SELECT RAISE(ABORT, 'MTT invoice numbers must be gap-free'); END;
-- trigger tax_invoices_count ON tax_invoices
CREATE TRIGGER tax_invoices_count AFTER INSERT ON tax_invoices
        BEGIN
            INSERT INTO mtt_counters (mtt_range, year, block, last)
            VALUES (NEW.mtt_range, NEW.year, NEW.block, NEW.number)
            ON CONFLICT (mtt_range, year, block) DO UPDATE SET last = excluded.last;
        END;
-- table product_tax ON product_tax
CREATE TABLE product_tax (
            product_id INTEGER PRIMARY KEY REFERENCES products(id),
            tax_group TEXT NOT NULL CHECK (length(tax_group) BETWEEN 1 AND 20),
            vat TEXT NOT NULL CHECK (vat IN ('applies', 'KCT'))
        ) STRICT;
-- index products_journal_seq ON products
CREATE INDEX products_journal_seq ON products(journal_seq);
-- index sales_voided_seq ON sales
CREATE INDEX sales_voided_seq ON sales(voided_seq) WHERE voided_seq IS NOT NULL;
-- index tax_invoices_related ON tax_invoices
CREATE INDEX tax_invoices_related ON tax_invoices(related_code) WHERE related_code IS NOT NULL;
-- table journal ON journal
CREATE TABLE "journal" (
                    seq INTEGER PRIMARY KEY CHECK (seq >= 1),
                    id TEXT NOT NULL UNIQUE CHECK (length(id) = 36),
                    device_id TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    at TEXT NOT NULL CHECK (length(at) = 24),
                    payload TEXT NOT NULL,
                    prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
                    hash TEXT NOT NULL CHECK (length(hash) = 64)
                ) STRICT;
-- index sqlite_autoindex_journal_1 ON journal
-- (no sql: an automatic index)
-- trigger journal_no_update ON journal
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries are immutable'); END;
-- trigger journal_no_delete ON journal
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries cannot be deleted'); END;
-- trigger journal_append_only ON journal
CREATE TRIGGER journal_append_only BEFORE INSERT ON journal
        WHEN NEW.seq IS NOT (SELECT IFNULL(MAX(seq), 0) + 1 FROM journal)
          OR NEW.prev_hash IS NOT IFNULL((SELECT hash FROM journal WHERE seq = NEW.seq - 1),
                                         printf('%064d', 0))
        BEGIN SELECT RAISE(ABORT, 'journal entries must extend the chain'); END;
-- trigger journal_tax_invoice ON journal
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
        END;
-- table sale_lines ON sale_lines
CREATE TABLE "sale_lines" (
                    sale_seq INTEGER NOT NULL REFERENCES sales(seq),
                    line_no INTEGER NOT NULL,
                    product_id INTEGER REFERENCES products(id),
                    name TEXT NOT NULL,
                    unit TEXT NOT NULL,
                    quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
                    unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
                    amount INTEGER NOT NULL CHECK (amount >= 0),
                    PRIMARY KEY (sale_seq, line_no)
                ) STRICT, WITHOUT ROWID;
-- table payments ON payments
CREATE TABLE "payments" (
                    sale_seq INTEGER NOT NULL REFERENCES sales(seq),
                    line_no INTEGER NOT NULL,
                    method TEXT NOT NULL CHECK (method IN ('cash', 'qr')),
                    amount INTEGER NOT NULL CHECK (amount >= 0),
                    tendered INTEGER CHECK (tendered >= amount),
                    change INTEGER CHECK (change >= 0),
                    reference TEXT,
                    bank_bin TEXT,
                    account TEXT,
                    state TEXT,
                    bank_txn TEXT,
                    PRIMARY KEY (sale_seq, line_no)
                ) STRICT, WITHOUT ROWID;
-- index payments_reference ON payments
CREATE INDEX payments_reference ON payments(reference) WHERE reference IS NOT NULL;
-- table api_tokens ON api_tokens
CREATE TABLE "api_tokens" (
            id INTEGER PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
            label TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        ) STRICT;
-- index sqlite_autoindex_api_tokens_1 ON api_tokens
-- (no sql: an automatic index)

-- ===== after 0015_haggled_sales =====
-- PRAGMA user_version = 0
-- applied: market-pos/0001_journal, market-pos/0002_catalog_and_sales, market-pos/0003_access, market-pos/0004_day_totals, market-pos/0005_cash_and_day_close, market-pos/0006_print_jobs, market-pos/0007_catalogue_from_server, market-pos/0008_qr_payments, market-pos/0009_tax, market-pos/0010_journal_child_indexes, market-pos/0011_lines_and_payments_without_rowid, market-pos/0012_sale_rows_keyed_by_seq, market-pos/0013_pin_guard_lockouts, market-pos/0014_api_token_ids, market-pos/0015_haggled_sales
-- table _sqlite_migrations ON _sqlite_migrations
CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
);
-- index idx__sqlite_migrations_migration_set_name ON _sqlite_migrations
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");
-- table settings ON settings
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
-- index sqlite_autoindex_settings_1 ON settings
-- (no sql: an automatic index)
-- table sales ON sales
CREATE TABLE sales (
            id TEXT PRIMARY KEY,
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            number INTEGER NOT NULL UNIQUE CHECK (number >= 1),
            at TEXT NOT NULL,
            business_day TEXT NOT NULL,
            total INTEGER NOT NULL CHECK (total >= 0),
            sold_by TEXT NOT NULL,
            voided_seq INTEGER REFERENCES journal(seq),
            void_reason TEXT
        , discount INTEGER NOT NULL DEFAULT 0 CHECK (discount >= 0), discount_reason TEXT) STRICT;
-- index sqlite_autoindex_sales_1 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_2 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_3 ON sales
-- (no sql: an automatic index)
-- index sales_business_day ON sales
CREATE INDEX sales_business_day ON sales(business_day, number);
-- table pins ON pins
CREATE TABLE pins (
            role TEXT PRIMARY KEY CHECK (role IN ('owner', 'helper')),
            pin_hash TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_pins_1 ON pins
-- (no sql: an automatic index)
-- table pin_guard ON pin_guard
CREATE TABLE pin_guard (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            failures INTEGER NOT NULL DEFAULT 0,
            locked_until REAL NOT NULL DEFAULT 0
        , lockouts INTEGER NOT NULL DEFAULT 0, last_failure_at REAL NOT NULL DEFAULT 0) STRICT;
-- table day_totals ON day_totals
CREATE TABLE day_totals (
            business_day TEXT PRIMARY KEY,
            sales_count INTEGER NOT NULL DEFAULT 0,
            revenue INTEGER NOT NULL DEFAULT 0,
            cash INTEGER NOT NULL DEFAULT 0,
            qr INTEGER NOT NULL DEFAULT 0,
            voids_count INTEGER NOT NULL DEFAULT 0,
            voided_amount INTEGER NOT NULL DEFAULT 0
        ) STRICT;
-- index sqlite_autoindex_day_totals_1 ON day_totals
-- (no sql: an automatic index)
-- table cash_moves ON cash_moves
CREATE TABLE cash_moves (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            business_day TEXT NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('float', 'in', 'out')),
            amount INTEGER NOT NULL CHECK (amount > 0),
            reason TEXT NOT NULL,
            at TEXT NOT NULL
        ) STRICT;
-- index cash_moves_day ON cash_moves
CREATE INDEX cash_moves_day ON cash_moves(business_day);
-- table day_closes ON day_closes
CREATE TABLE day_closes (
            business_day TEXT PRIMARY KEY,
            z_number INTEGER NOT NULL UNIQUE CHECK (z_number >= 1),
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            at TEXT NOT NULL,
            expected_cash INTEGER NOT NULL,
            counted_cash INTEGER NOT NULL CHECK (counted_cash >= 0),
            report TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_day_closes_1 ON day_closes
-- (no sql: an automatic index)
-- index sqlite_autoindex_day_closes_2 ON day_closes
-- (no sql: an automatic index)
-- index sqlite_autoindex_day_closes_3 ON day_closes
-- (no sql: an automatic index)
-- table print_jobs ON print_jobs
CREATE TABLE print_jobs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('receipt', 'report', 'selftest')),
            ref TEXT NOT NULL DEFAULT '',
            copy INTEGER NOT NULL DEFAULT 0 CHECK (copy IN (0, 1)),
            state TEXT NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'held', 'done', 'failed', 'cancelled')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at REAL NOT NULL,
            next_attempt_at REAL NOT NULL,
            updated_at REAL NOT NULL
        ) STRICT;
-- index print_jobs_due ON print_jobs
CREATE INDEX print_jobs_due ON print_jobs(state, next_attempt_at);
-- table products ON products
CREATE TABLE "products" (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
                    search_key TEXT NOT NULL,
                    unit TEXT NOT NULL CHECK (length(unit) BETWEEN 1 AND 16),
                    price INTEGER NOT NULL CHECK (price BETWEEN 0 AND 1000000000000),
                    category TEXT NOT NULL DEFAULT '',
                    barcode TEXT,
                    ocop_stars INTEGER CHECK (ocop_stars BETWEEN 3 AND 5),
                    trace_url TEXT,
                    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
                    journal_seq INTEGER REFERENCES journal(seq),
                    server_ref TEXT UNIQUE CHECK (length(server_ref) BETWEEN 1 AND 64),
                    binding INTEGER NOT NULL DEFAULT 0 CHECK (binding IN (0, 1)),
                    server_price INTEGER CHECK (server_price BETWEEN 0 AND 1000000000000),
                    server_active INTEGER CHECK (server_active IN (0, 1)),
                    CHECK (journal_seq IS NOT NULL OR server_ref IS NOT NULL)
                ) STRICT;
-- index sqlite_autoindex_products_1 ON products
-- (no sql: an automatic index)
-- index products_barcode ON products
CREATE UNIQUE INDEX products_barcode ON products(barcode) WHERE barcode IS NOT NULL;
-- table bank_accounts ON bank_accounts
CREATE TABLE bank_accounts (
            id INTEGER PRIMARY KEY,
            bank_bin TEXT NOT NULL CHECK (length(bank_bin) = 6),
            account TEXT NOT NULL CHECK (length(account) BETWEEN 6 AND 19),
            holder TEXT NOT NULL CHECK (length(holder) BETWEEN 1 AND 50),
            is_card INTEGER NOT NULL DEFAULT 0 CHECK (is_card IN (0, 1)),
            is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            created_at TEXT NOT NULL
        ) STRICT;
-- index bank_accounts_number ON bank_accounts
CREATE UNIQUE INDEX bank_accounts_number ON bank_accounts(bank_bin, account);
-- table qr_pending ON qr_pending
CREATE TABLE qr_pending (
            id TEXT PRIMARY KEY,
            reference TEXT NOT NULL,
            amount INTEGER NOT NULL CHECK (amount > 0),
            total INTEGER NOT NULL CHECK (total >= amount),
            request TEXT NOT NULL,
            bank_bin TEXT NOT NULL,
            account TEXT NOT NULL,
            holder TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'recorded', 'cancelled')),
            sale_id TEXT REFERENCES sales(id)
        ) STRICT;
-- index sqlite_autoindex_qr_pending_1 ON qr_pending
-- (no sql: an automatic index)
-- index qr_pending_state ON qr_pending
CREATE INDEX qr_pending_state ON qr_pending(state, created_at);
-- index qr_pending_reference ON qr_pending
CREATE INDEX qr_pending_reference ON qr_pending(reference);
-- table bank_checks ON bank_checks
CREATE TABLE bank_checks (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            bank_txn TEXT NOT NULL UNIQUE,
            reference TEXT,
            sale_id TEXT REFERENCES sales(id),
            state TEXT NOT NULL CHECK (state IN ('bank_confirmed', 'mismatch')),
            reason TEXT,
            bank_amount INTEGER NOT NULL,
            expected INTEGER,
            source TEXT NOT NULL CHECK (source IN ('server', 'statement')),
            business_day TEXT NOT NULL,
            at TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_bank_checks_1 ON bank_checks
-- (no sql: an automatic index)
-- index bank_checks_day ON bank_checks
CREATE INDEX bank_checks_day ON bank_checks(business_day);
-- table mtt_counters ON mtt_counters
CREATE TABLE mtt_counters (
            mtt_range TEXT NOT NULL CHECK (length(mtt_range) = 5),
            year INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2099),
            block INTEGER NOT NULL CHECK (block BETWEEN 0 AND 99),
            last INTEGER NOT NULL CHECK (last BETWEEN 1 AND 999999999),
            PRIMARY KEY (mtt_range, year, block)
        ) STRICT;
-- index sqlite_autoindex_mtt_counters_1 ON mtt_counters
-- (no sql: an automatic index)
-- table tax_invoices ON tax_invoices
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
        ) STRICT;
-- index sqlite_autoindex_tax_invoices_1 ON tax_invoices
-- (no sql: an automatic index)
-- index sqlite_autoindex_tax_invoices_2 ON tax_invoices
-- (no sql: an automatic index)
-- index tax_invoices_sale ON tax_invoices
CREATE INDEX tax_invoices_sale ON tax_invoices(sale_id);
-- index tax_invoices_day ON tax_invoices
CREATE INDEX tax_invoices_day ON tax_invoices(business_day);
-- trigger tax_invoices_no_update ON tax_invoices
CREATE TRIGGER tax_invoices_no_update BEFORE UPDATE ON tax_invoices
        BEGIN SELECT RAISE(ABORT, 'issued invoices are immutable'); END;
-- trigger tax_invoices_no_delete ON tax_invoices
CREATE TRIGGER tax_invoices_no_delete BEFORE DELETE ON tax_invoices
        BEGIN SELECT RAISE(ABORT, 'issued invoices cannot be deleted'); END;
-- trigger tax_invoices_gap_free ON tax_invoices
CREATE TRIGGER tax_invoices_gap_free BEFORE INSERT ON tax_invoices
        WHEN NEW.number IS NOT IFNULL((SELECT last FROM mtt_counters WHERE
                 mtt_range = NEW.mtt_range AND year = NEW.year AND block = NEW.block), 0) + 1
        BEGIN SELECT RAISE(ABORT, 'MTT invoice numbers must be gap-free'); END;
-- trigger tax_invoices_count ON tax_invoices
CREATE TRIGGER tax_invoices_count AFTER INSERT ON tax_invoices
        BEGIN
            INSERT INTO mtt_counters (mtt_range, year, block, last)
            VALUES (NEW.mtt_range, NEW.year, NEW.block, NEW.number)
            ON CONFLICT (mtt_range, year, block) DO UPDATE SET last = excluded.last;
        END;
-- table product_tax ON product_tax
CREATE TABLE product_tax (
            product_id INTEGER PRIMARY KEY REFERENCES products(id),
            tax_group TEXT NOT NULL CHECK (length(tax_group) BETWEEN 1 AND 20),
            vat TEXT NOT NULL CHECK (vat IN ('applies', 'KCT'))
        ) STRICT;
-- index products_journal_seq ON products
CREATE INDEX products_journal_seq ON products(journal_seq);
-- index sales_voided_seq ON sales
CREATE INDEX sales_voided_seq ON sales(voided_seq) WHERE voided_seq IS NOT NULL;
-- index tax_invoices_related ON tax_invoices
CREATE INDEX tax_invoices_related ON tax_invoices(related_code) WHERE related_code IS NOT NULL;
-- table journal ON journal
CREATE TABLE "journal" (
                    seq INTEGER PRIMARY KEY CHECK (seq >= 1),
                    id TEXT NOT NULL UNIQUE CHECK (length(id) = 36),
                    device_id TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    at TEXT NOT NULL CHECK (length(at) = 24),
                    payload TEXT NOT NULL,
                    prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
                    hash TEXT NOT NULL CHECK (length(hash) = 64)
                ) STRICT;
-- index sqlite_autoindex_journal_1 ON journal
-- (no sql: an automatic index)
-- trigger journal_no_update ON journal
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries are immutable'); END;
-- trigger journal_no_delete ON journal
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries cannot be deleted'); END;
-- trigger journal_append_only ON journal
CREATE TRIGGER journal_append_only BEFORE INSERT ON journal
        WHEN NEW.seq IS NOT (SELECT IFNULL(MAX(seq), 0) + 1 FROM journal)
          OR NEW.prev_hash IS NOT IFNULL((SELECT hash FROM journal WHERE seq = NEW.seq - 1),
                                         printf('%064d', 0))
        BEGIN SELECT RAISE(ABORT, 'journal entries must extend the chain'); END;
-- trigger journal_tax_invoice ON journal
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
        END;
-- table sale_lines ON sale_lines
CREATE TABLE "sale_lines" (
                    sale_seq INTEGER NOT NULL REFERENCES sales(seq),
                    line_no INTEGER NOT NULL,
                    product_id INTEGER REFERENCES products(id),
                    name TEXT NOT NULL,
                    unit TEXT NOT NULL,
                    quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
                    unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
                    amount INTEGER NOT NULL CHECK (amount >= 0), list_price INTEGER CHECK (list_price >= 0),
                    PRIMARY KEY (sale_seq, line_no)
                ) STRICT, WITHOUT ROWID;
-- table payments ON payments
CREATE TABLE "payments" (
                    sale_seq INTEGER NOT NULL REFERENCES sales(seq),
                    line_no INTEGER NOT NULL,
                    method TEXT NOT NULL CHECK (method IN ('cash', 'qr')),
                    amount INTEGER NOT NULL CHECK (amount >= 0),
                    tendered INTEGER CHECK (tendered >= amount),
                    change INTEGER CHECK (change >= 0),
                    reference TEXT,
                    bank_bin TEXT,
                    account TEXT,
                    state TEXT,
                    bank_txn TEXT,
                    PRIMARY KEY (sale_seq, line_no)
                ) STRICT, WITHOUT ROWID;
-- index payments_reference ON payments
CREATE INDEX payments_reference ON payments(reference) WHERE reference IS NOT NULL;
-- table api_tokens ON api_tokens
CREATE TABLE "api_tokens" (
            id INTEGER PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
            label TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        ) STRICT;
-- index sqlite_autoindex_api_tokens_1 ON api_tokens
-- (no sql: an automatic index)

-- ===== after 0016_refunds =====
-- PRAGMA user_version = 0
-- applied: market-pos/0001_journal, market-pos/0002_catalog_and_sales, market-pos/0003_access, market-pos/0004_day_totals, market-pos/0005_cash_and_day_close, market-pos/0006_print_jobs, market-pos/0007_catalogue_from_server, market-pos/0008_qr_payments, market-pos/0009_tax, market-pos/0010_journal_child_indexes, market-pos/0011_lines_and_payments_without_rowid, market-pos/0012_sale_rows_keyed_by_seq, market-pos/0013_pin_guard_lockouts, market-pos/0014_api_token_ids, market-pos/0015_haggled_sales, market-pos/0016_refunds
-- table _sqlite_migrations ON _sqlite_migrations
CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
);
-- index idx__sqlite_migrations_migration_set_name ON _sqlite_migrations
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");
-- table settings ON settings
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
-- index sqlite_autoindex_settings_1 ON settings
-- (no sql: an automatic index)
-- table sales ON sales
CREATE TABLE sales (
            id TEXT PRIMARY KEY,
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            number INTEGER NOT NULL UNIQUE CHECK (number >= 1),
            at TEXT NOT NULL,
            business_day TEXT NOT NULL,
            total INTEGER NOT NULL CHECK (total >= 0),
            sold_by TEXT NOT NULL,
            voided_seq INTEGER REFERENCES journal(seq),
            void_reason TEXT
        , discount INTEGER NOT NULL DEFAULT 0 CHECK (discount >= 0), discount_reason TEXT) STRICT;
-- index sqlite_autoindex_sales_1 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_2 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_3 ON sales
-- (no sql: an automatic index)
-- index sales_business_day ON sales
CREATE INDEX sales_business_day ON sales(business_day, number);
-- table pins ON pins
CREATE TABLE pins (
            role TEXT PRIMARY KEY CHECK (role IN ('owner', 'helper')),
            pin_hash TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_pins_1 ON pins
-- (no sql: an automatic index)
-- table pin_guard ON pin_guard
CREATE TABLE pin_guard (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            failures INTEGER NOT NULL DEFAULT 0,
            locked_until REAL NOT NULL DEFAULT 0
        , lockouts INTEGER NOT NULL DEFAULT 0, last_failure_at REAL NOT NULL DEFAULT 0) STRICT;
-- table day_totals ON day_totals
CREATE TABLE day_totals (
            business_day TEXT PRIMARY KEY,
            sales_count INTEGER NOT NULL DEFAULT 0,
            revenue INTEGER NOT NULL DEFAULT 0,
            cash INTEGER NOT NULL DEFAULT 0,
            qr INTEGER NOT NULL DEFAULT 0,
            voids_count INTEGER NOT NULL DEFAULT 0,
            voided_amount INTEGER NOT NULL DEFAULT 0
        , refunds_count INTEGER NOT NULL DEFAULT 0, refunded_amount INTEGER NOT NULL DEFAULT 0) STRICT;
-- index sqlite_autoindex_day_totals_1 ON day_totals
-- (no sql: an automatic index)
-- table cash_moves ON cash_moves
CREATE TABLE cash_moves (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            business_day TEXT NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('float', 'in', 'out')),
            amount INTEGER NOT NULL CHECK (amount > 0),
            reason TEXT NOT NULL,
            at TEXT NOT NULL
        ) STRICT;
-- index cash_moves_day ON cash_moves
CREATE INDEX cash_moves_day ON cash_moves(business_day);
-- table day_closes ON day_closes
CREATE TABLE day_closes (
            business_day TEXT PRIMARY KEY,
            z_number INTEGER NOT NULL UNIQUE CHECK (z_number >= 1),
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            at TEXT NOT NULL,
            expected_cash INTEGER NOT NULL,
            counted_cash INTEGER NOT NULL CHECK (counted_cash >= 0),
            report TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_day_closes_1 ON day_closes
-- (no sql: an automatic index)
-- index sqlite_autoindex_day_closes_2 ON day_closes
-- (no sql: an automatic index)
-- index sqlite_autoindex_day_closes_3 ON day_closes
-- (no sql: an automatic index)
-- table print_jobs ON print_jobs
CREATE TABLE print_jobs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('receipt', 'report', 'selftest')),
            ref TEXT NOT NULL DEFAULT '',
            copy INTEGER NOT NULL DEFAULT 0 CHECK (copy IN (0, 1)),
            state TEXT NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'held', 'done', 'failed', 'cancelled')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at REAL NOT NULL,
            next_attempt_at REAL NOT NULL,
            updated_at REAL NOT NULL
        ) STRICT;
-- index print_jobs_due ON print_jobs
CREATE INDEX print_jobs_due ON print_jobs(state, next_attempt_at);
-- table products ON products
CREATE TABLE "products" (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
                    search_key TEXT NOT NULL,
                    unit TEXT NOT NULL CHECK (length(unit) BETWEEN 1 AND 16),
                    price INTEGER NOT NULL CHECK (price BETWEEN 0 AND 1000000000000),
                    category TEXT NOT NULL DEFAULT '',
                    barcode TEXT,
                    ocop_stars INTEGER CHECK (ocop_stars BETWEEN 3 AND 5),
                    trace_url TEXT,
                    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
                    journal_seq INTEGER REFERENCES journal(seq),
                    server_ref TEXT UNIQUE CHECK (length(server_ref) BETWEEN 1 AND 64),
                    binding INTEGER NOT NULL DEFAULT 0 CHECK (binding IN (0, 1)),
                    server_price INTEGER CHECK (server_price BETWEEN 0 AND 1000000000000),
                    server_active INTEGER CHECK (server_active IN (0, 1)),
                    CHECK (journal_seq IS NOT NULL OR server_ref IS NOT NULL)
                ) STRICT;
-- index sqlite_autoindex_products_1 ON products
-- (no sql: an automatic index)
-- index products_barcode ON products
CREATE UNIQUE INDEX products_barcode ON products(barcode) WHERE barcode IS NOT NULL;
-- table bank_accounts ON bank_accounts
CREATE TABLE bank_accounts (
            id INTEGER PRIMARY KEY,
            bank_bin TEXT NOT NULL CHECK (length(bank_bin) = 6),
            account TEXT NOT NULL CHECK (length(account) BETWEEN 6 AND 19),
            holder TEXT NOT NULL CHECK (length(holder) BETWEEN 1 AND 50),
            is_card INTEGER NOT NULL DEFAULT 0 CHECK (is_card IN (0, 1)),
            is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            created_at TEXT NOT NULL
        ) STRICT;
-- index bank_accounts_number ON bank_accounts
CREATE UNIQUE INDEX bank_accounts_number ON bank_accounts(bank_bin, account);
-- table qr_pending ON qr_pending
CREATE TABLE qr_pending (
            id TEXT PRIMARY KEY,
            reference TEXT NOT NULL,
            amount INTEGER NOT NULL CHECK (amount > 0),
            total INTEGER NOT NULL CHECK (total >= amount),
            request TEXT NOT NULL,
            bank_bin TEXT NOT NULL,
            account TEXT NOT NULL,
            holder TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'recorded', 'cancelled')),
            sale_id TEXT REFERENCES sales(id)
        ) STRICT;
-- index sqlite_autoindex_qr_pending_1 ON qr_pending
-- (no sql: an automatic index)
-- index qr_pending_state ON qr_pending
CREATE INDEX qr_pending_state ON qr_pending(state, created_at);
-- index qr_pending_reference ON qr_pending
CREATE INDEX qr_pending_reference ON qr_pending(reference);
-- table bank_checks ON bank_checks
CREATE TABLE bank_checks (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            bank_txn TEXT NOT NULL UNIQUE,
            reference TEXT,
            sale_id TEXT REFERENCES sales(id),
            state TEXT NOT NULL CHECK (state IN ('bank_confirmed', 'mismatch')),
            reason TEXT,
            bank_amount INTEGER NOT NULL,
            expected INTEGER,
            source TEXT NOT NULL CHECK (source IN ('server', 'statement')),
            business_day TEXT NOT NULL,
            at TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_bank_checks_1 ON bank_checks
-- (no sql: an automatic index)
-- index bank_checks_day ON bank_checks
CREATE INDEX bank_checks_day ON bank_checks(business_day);
-- table mtt_counters ON mtt_counters
CREATE TABLE mtt_counters (
            mtt_range TEXT NOT NULL CHECK (length(mtt_range) = 5),
            year INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2099),
            block INTEGER NOT NULL CHECK (block BETWEEN 0 AND 99),
            last INTEGER NOT NULL CHECK (last BETWEEN 1 AND 999999999),
            PRIMARY KEY (mtt_range, year, block)
        ) STRICT;
-- index sqlite_autoindex_mtt_counters_1 ON mtt_counters
-- (no sql: an automatic index)
-- table tax_invoices ON tax_invoices
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
        ) STRICT;
-- index sqlite_autoindex_tax_invoices_1 ON tax_invoices
-- (no sql: an automatic index)
-- index sqlite_autoindex_tax_invoices_2 ON tax_invoices
-- (no sql: an automatic index)
-- index tax_invoices_sale ON tax_invoices
CREATE INDEX tax_invoices_sale ON tax_invoices(sale_id);
-- index tax_invoices_day ON tax_invoices
CREATE INDEX tax_invoices_day ON tax_invoices(business_day);
-- trigger tax_invoices_no_update ON tax_invoices
CREATE TRIGGER tax_invoices_no_update BEFORE UPDATE ON tax_invoices
        BEGIN SELECT RAISE(ABORT, 'issued invoices are immutable'); END;
-- trigger tax_invoices_no_delete ON tax_invoices
CREATE TRIGGER tax_invoices_no_delete BEFORE DELETE ON tax_invoices
        BEGIN SELECT RAISE(ABORT, 'issued invoices cannot be deleted'); END;
-- trigger tax_invoices_gap_free ON tax_invoices
CREATE TRIGGER tax_invoices_gap_free BEFORE INSERT ON tax_invoices
        WHEN NEW.number IS NOT IFNULL((SELECT last FROM mtt_counters WHERE
                 mtt_range = NEW.mtt_range AND year = NEW.year AND block = NEW.block), 0) + 1
        BEGIN SELECT RAISE(ABORT, 'MTT invoice numbers must be gap-free'); END;
-- trigger tax_invoices_count ON tax_invoices
CREATE TRIGGER tax_invoices_count AFTER INSERT ON tax_invoices
        BEGIN
            INSERT INTO mtt_counters (mtt_range, year, block, last)
            VALUES (NEW.mtt_range, NEW.year, NEW.block, NEW.number)
            ON CONFLICT (mtt_range, year, block) DO UPDATE SET last = excluded.last;
        END;
-- table product_tax ON product_tax
CREATE TABLE product_tax (
            product_id INTEGER PRIMARY KEY REFERENCES products(id),
            tax_group TEXT NOT NULL CHECK (length(tax_group) BETWEEN 1 AND 20),
            vat TEXT NOT NULL CHECK (vat IN ('applies', 'KCT'))
        ) STRICT;
-- index products_journal_seq ON products
CREATE INDEX products_journal_seq ON products(journal_seq);
-- index sales_voided_seq ON sales
CREATE INDEX sales_voided_seq ON sales(voided_seq) WHERE voided_seq IS NOT NULL;
-- index tax_invoices_related ON tax_invoices
CREATE INDEX tax_invoices_related ON tax_invoices(related_code) WHERE related_code IS NOT NULL;
-- table journal ON journal
CREATE TABLE "journal" (
                    seq INTEGER PRIMARY KEY CHECK (seq >= 1),
                    id TEXT NOT NULL UNIQUE CHECK (length(id) = 36),
                    device_id TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    at TEXT NOT NULL CHECK (length(at) = 24),
                    payload TEXT NOT NULL,
                    prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
                    hash TEXT NOT NULL CHECK (length(hash) = 64)
                ) STRICT;
-- index sqlite_autoindex_journal_1 ON journal
-- (no sql: an automatic index)
-- trigger journal_no_update ON journal
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries are immutable'); END;
-- trigger journal_no_delete ON journal
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries cannot be deleted'); END;
-- trigger journal_append_only ON journal
CREATE TRIGGER journal_append_only BEFORE INSERT ON journal
        WHEN NEW.seq IS NOT (SELECT IFNULL(MAX(seq), 0) + 1 FROM journal)
          OR NEW.prev_hash IS NOT IFNULL((SELECT hash FROM journal WHERE seq = NEW.seq - 1),
                                         printf('%064d', 0))
        BEGIN SELECT RAISE(ABORT, 'journal entries must extend the chain'); END;
-- trigger journal_tax_invoice ON journal
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
        END;
-- table sale_lines ON sale_lines
CREATE TABLE "sale_lines" (
                    sale_seq INTEGER NOT NULL REFERENCES sales(seq),
                    line_no INTEGER NOT NULL,
                    product_id INTEGER REFERENCES products(id),
                    name TEXT NOT NULL,
                    unit TEXT NOT NULL,
                    quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
                    unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
                    amount INTEGER NOT NULL CHECK (amount >= 0), list_price INTEGER CHECK (list_price >= 0),
                    PRIMARY KEY (sale_seq, line_no)
                ) STRICT, WITHOUT ROWID;
-- table payments ON payments
CREATE TABLE "payments" (
                    sale_seq INTEGER NOT NULL REFERENCES sales(seq),
                    line_no INTEGER NOT NULL,
                    method TEXT NOT NULL CHECK (method IN ('cash', 'qr')),
                    amount INTEGER NOT NULL CHECK (amount >= 0),
                    tendered INTEGER CHECK (tendered >= amount),
                    change INTEGER CHECK (change >= 0),
                    reference TEXT,
                    bank_bin TEXT,
                    account TEXT,
                    state TEXT,
                    bank_txn TEXT,
                    PRIMARY KEY (sale_seq, line_no)
                ) STRICT, WITHOUT ROWID;
-- index payments_reference ON payments
CREATE INDEX payments_reference ON payments(reference) WHERE reference IS NOT NULL;
-- table api_tokens ON api_tokens
CREATE TABLE "api_tokens" (
            id INTEGER PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
            label TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        ) STRICT;
-- index sqlite_autoindex_api_tokens_1 ON api_tokens
-- (no sql: an automatic index)
-- table refunds ON refunds
CREATE TABLE refunds (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            id TEXT NOT NULL UNIQUE,
            sale_seq INTEGER NOT NULL REFERENCES sales(seq),
            business_day TEXT NOT NULL,
            at TEXT NOT NULL,
            total INTEGER NOT NULL CHECK (total > 0),
            cash INTEGER NOT NULL CHECK (cash >= 0),
            qr INTEGER NOT NULL CHECK (qr >= 0),
            reason TEXT NOT NULL,
            refunded_by TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_refunds_1 ON refunds
-- (no sql: an automatic index)
-- index refunds_by_sale ON refunds
CREATE INDEX refunds_by_sale ON refunds(sale_seq);
-- index refunds_by_day ON refunds
CREATE INDEX refunds_by_day ON refunds(business_day);
-- table refund_lines ON refund_lines
CREATE TABLE refund_lines (
            refund_seq INTEGER NOT NULL REFERENCES refunds(seq),
            line_no INTEGER NOT NULL CHECK (line_no >= 1),
            quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            PRIMARY KEY (refund_seq, line_no)
        ) STRICT, WITHOUT ROWID;

-- ===== after 0017_parked =====
-- PRAGMA user_version = 0
-- applied: market-pos/0001_journal, market-pos/0002_catalog_and_sales, market-pos/0003_access, market-pos/0004_day_totals, market-pos/0005_cash_and_day_close, market-pos/0006_print_jobs, market-pos/0007_catalogue_from_server, market-pos/0008_qr_payments, market-pos/0009_tax, market-pos/0010_journal_child_indexes, market-pos/0011_lines_and_payments_without_rowid, market-pos/0012_sale_rows_keyed_by_seq, market-pos/0013_pin_guard_lockouts, market-pos/0014_api_token_ids, market-pos/0015_haggled_sales, market-pos/0016_refunds, market-pos/0017_parked
-- table _sqlite_migrations ON _sqlite_migrations
CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
);
-- index idx__sqlite_migrations_migration_set_name ON _sqlite_migrations
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");
-- table settings ON settings
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
-- index sqlite_autoindex_settings_1 ON settings
-- (no sql: an automatic index)
-- table sales ON sales
CREATE TABLE sales (
            id TEXT PRIMARY KEY,
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            number INTEGER NOT NULL UNIQUE CHECK (number >= 1),
            at TEXT NOT NULL,
            business_day TEXT NOT NULL,
            total INTEGER NOT NULL CHECK (total >= 0),
            sold_by TEXT NOT NULL,
            voided_seq INTEGER REFERENCES journal(seq),
            void_reason TEXT
        , discount INTEGER NOT NULL DEFAULT 0 CHECK (discount >= 0), discount_reason TEXT) STRICT;
-- index sqlite_autoindex_sales_1 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_2 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_3 ON sales
-- (no sql: an automatic index)
-- index sales_business_day ON sales
CREATE INDEX sales_business_day ON sales(business_day, number);
-- table pins ON pins
CREATE TABLE pins (
            role TEXT PRIMARY KEY CHECK (role IN ('owner', 'helper')),
            pin_hash TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_pins_1 ON pins
-- (no sql: an automatic index)
-- table pin_guard ON pin_guard
CREATE TABLE pin_guard (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            failures INTEGER NOT NULL DEFAULT 0,
            locked_until REAL NOT NULL DEFAULT 0
        , lockouts INTEGER NOT NULL DEFAULT 0, last_failure_at REAL NOT NULL DEFAULT 0) STRICT;
-- table day_totals ON day_totals
CREATE TABLE day_totals (
            business_day TEXT PRIMARY KEY,
            sales_count INTEGER NOT NULL DEFAULT 0,
            revenue INTEGER NOT NULL DEFAULT 0,
            cash INTEGER NOT NULL DEFAULT 0,
            qr INTEGER NOT NULL DEFAULT 0,
            voids_count INTEGER NOT NULL DEFAULT 0,
            voided_amount INTEGER NOT NULL DEFAULT 0
        , refunds_count INTEGER NOT NULL DEFAULT 0, refunded_amount INTEGER NOT NULL DEFAULT 0) STRICT;
-- index sqlite_autoindex_day_totals_1 ON day_totals
-- (no sql: an automatic index)
-- table cash_moves ON cash_moves
CREATE TABLE cash_moves (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            business_day TEXT NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('float', 'in', 'out')),
            amount INTEGER NOT NULL CHECK (amount > 0),
            reason TEXT NOT NULL,
            at TEXT NOT NULL
        ) STRICT;
-- index cash_moves_day ON cash_moves
CREATE INDEX cash_moves_day ON cash_moves(business_day);
-- table day_closes ON day_closes
CREATE TABLE day_closes (
            business_day TEXT PRIMARY KEY,
            z_number INTEGER NOT NULL UNIQUE CHECK (z_number >= 1),
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            at TEXT NOT NULL,
            expected_cash INTEGER NOT NULL,
            counted_cash INTEGER NOT NULL CHECK (counted_cash >= 0),
            report TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_day_closes_1 ON day_closes
-- (no sql: an automatic index)
-- index sqlite_autoindex_day_closes_2 ON day_closes
-- (no sql: an automatic index)
-- index sqlite_autoindex_day_closes_3 ON day_closes
-- (no sql: an automatic index)
-- table print_jobs ON print_jobs
CREATE TABLE print_jobs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('receipt', 'report', 'selftest')),
            ref TEXT NOT NULL DEFAULT '',
            copy INTEGER NOT NULL DEFAULT 0 CHECK (copy IN (0, 1)),
            state TEXT NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'held', 'done', 'failed', 'cancelled')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at REAL NOT NULL,
            next_attempt_at REAL NOT NULL,
            updated_at REAL NOT NULL
        ) STRICT;
-- index print_jobs_due ON print_jobs
CREATE INDEX print_jobs_due ON print_jobs(state, next_attempt_at);
-- table products ON products
CREATE TABLE "products" (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
                    search_key TEXT NOT NULL,
                    unit TEXT NOT NULL CHECK (length(unit) BETWEEN 1 AND 16),
                    price INTEGER NOT NULL CHECK (price BETWEEN 0 AND 1000000000000),
                    category TEXT NOT NULL DEFAULT '',
                    barcode TEXT,
                    ocop_stars INTEGER CHECK (ocop_stars BETWEEN 3 AND 5),
                    trace_url TEXT,
                    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
                    journal_seq INTEGER REFERENCES journal(seq),
                    server_ref TEXT UNIQUE CHECK (length(server_ref) BETWEEN 1 AND 64),
                    binding INTEGER NOT NULL DEFAULT 0 CHECK (binding IN (0, 1)),
                    server_price INTEGER CHECK (server_price BETWEEN 0 AND 1000000000000),
                    server_active INTEGER CHECK (server_active IN (0, 1)),
                    CHECK (journal_seq IS NOT NULL OR server_ref IS NOT NULL)
                ) STRICT;
-- index sqlite_autoindex_products_1 ON products
-- (no sql: an automatic index)
-- index products_barcode ON products
CREATE UNIQUE INDEX products_barcode ON products(barcode) WHERE barcode IS NOT NULL;
-- table bank_accounts ON bank_accounts
CREATE TABLE bank_accounts (
            id INTEGER PRIMARY KEY,
            bank_bin TEXT NOT NULL CHECK (length(bank_bin) = 6),
            account TEXT NOT NULL CHECK (length(account) BETWEEN 6 AND 19),
            holder TEXT NOT NULL CHECK (length(holder) BETWEEN 1 AND 50),
            is_card INTEGER NOT NULL DEFAULT 0 CHECK (is_card IN (0, 1)),
            is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            created_at TEXT NOT NULL
        ) STRICT;
-- index bank_accounts_number ON bank_accounts
CREATE UNIQUE INDEX bank_accounts_number ON bank_accounts(bank_bin, account);
-- table qr_pending ON qr_pending
CREATE TABLE qr_pending (
            id TEXT PRIMARY KEY,
            reference TEXT NOT NULL,
            amount INTEGER NOT NULL CHECK (amount > 0),
            total INTEGER NOT NULL CHECK (total >= amount),
            request TEXT NOT NULL,
            bank_bin TEXT NOT NULL,
            account TEXT NOT NULL,
            holder TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'recorded', 'cancelled')),
            sale_id TEXT REFERENCES sales(id)
        , parked_at TEXT) STRICT;
-- index sqlite_autoindex_qr_pending_1 ON qr_pending
-- (no sql: an automatic index)
-- index qr_pending_state ON qr_pending
CREATE INDEX qr_pending_state ON qr_pending(state, created_at);
-- index qr_pending_reference ON qr_pending
CREATE INDEX qr_pending_reference ON qr_pending(reference);
-- table bank_checks ON bank_checks
CREATE TABLE bank_checks (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            bank_txn TEXT NOT NULL UNIQUE,
            reference TEXT,
            sale_id TEXT REFERENCES sales(id),
            state TEXT NOT NULL CHECK (state IN ('bank_confirmed', 'mismatch')),
            reason TEXT,
            bank_amount INTEGER NOT NULL,
            expected INTEGER,
            source TEXT NOT NULL CHECK (source IN ('server', 'statement')),
            business_day TEXT NOT NULL,
            at TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_bank_checks_1 ON bank_checks
-- (no sql: an automatic index)
-- index bank_checks_day ON bank_checks
CREATE INDEX bank_checks_day ON bank_checks(business_day);
-- table mtt_counters ON mtt_counters
CREATE TABLE mtt_counters (
            mtt_range TEXT NOT NULL CHECK (length(mtt_range) = 5),
            year INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2099),
            block INTEGER NOT NULL CHECK (block BETWEEN 0 AND 99),
            last INTEGER NOT NULL CHECK (last BETWEEN 1 AND 999999999),
            PRIMARY KEY (mtt_range, year, block)
        ) STRICT;
-- index sqlite_autoindex_mtt_counters_1 ON mtt_counters
-- (no sql: an automatic index)
-- table tax_invoices ON tax_invoices
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
        ) STRICT;
-- index sqlite_autoindex_tax_invoices_1 ON tax_invoices
-- (no sql: an automatic index)
-- index sqlite_autoindex_tax_invoices_2 ON tax_invoices
-- (no sql: an automatic index)
-- index tax_invoices_sale ON tax_invoices
CREATE INDEX tax_invoices_sale ON tax_invoices(sale_id);
-- index tax_invoices_day ON tax_invoices
CREATE INDEX tax_invoices_day ON tax_invoices(business_day);
-- trigger tax_invoices_no_update ON tax_invoices
CREATE TRIGGER tax_invoices_no_update BEFORE UPDATE ON tax_invoices
        BEGIN SELECT RAISE(ABORT, 'issued invoices are immutable'); END;
-- trigger tax_invoices_no_delete ON tax_invoices
CREATE TRIGGER tax_invoices_no_delete BEFORE DELETE ON tax_invoices
        BEGIN SELECT RAISE(ABORT, 'issued invoices cannot be deleted'); END;
-- trigger tax_invoices_gap_free ON tax_invoices
CREATE TRIGGER tax_invoices_gap_free BEFORE INSERT ON tax_invoices
        WHEN NEW.number IS NOT IFNULL((SELECT last FROM mtt_counters WHERE
                 mtt_range = NEW.mtt_range AND year = NEW.year AND block = NEW.block), 0) + 1
        BEGIN SELECT RAISE(ABORT, 'MTT invoice numbers must be gap-free'); END;
-- trigger tax_invoices_count ON tax_invoices
CREATE TRIGGER tax_invoices_count AFTER INSERT ON tax_invoices
        BEGIN
            INSERT INTO mtt_counters (mtt_range, year, block, last)
            VALUES (NEW.mtt_range, NEW.year, NEW.block, NEW.number)
            ON CONFLICT (mtt_range, year, block) DO UPDATE SET last = excluded.last;
        END;
-- table product_tax ON product_tax
CREATE TABLE product_tax (
            product_id INTEGER PRIMARY KEY REFERENCES products(id),
            tax_group TEXT NOT NULL CHECK (length(tax_group) BETWEEN 1 AND 20),
            vat TEXT NOT NULL CHECK (vat IN ('applies', 'KCT'))
        ) STRICT;
-- index products_journal_seq ON products
CREATE INDEX products_journal_seq ON products(journal_seq);
-- index sales_voided_seq ON sales
CREATE INDEX sales_voided_seq ON sales(voided_seq) WHERE voided_seq IS NOT NULL;
-- index tax_invoices_related ON tax_invoices
CREATE INDEX tax_invoices_related ON tax_invoices(related_code) WHERE related_code IS NOT NULL;
-- table journal ON journal
CREATE TABLE "journal" (
                    seq INTEGER PRIMARY KEY CHECK (seq >= 1),
                    id TEXT NOT NULL UNIQUE CHECK (length(id) = 36),
                    device_id TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    at TEXT NOT NULL CHECK (length(at) = 24),
                    payload TEXT NOT NULL,
                    prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
                    hash TEXT NOT NULL CHECK (length(hash) = 64)
                ) STRICT;
-- index sqlite_autoindex_journal_1 ON journal
-- (no sql: an automatic index)
-- trigger journal_no_update ON journal
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries are immutable'); END;
-- trigger journal_no_delete ON journal
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries cannot be deleted'); END;
-- trigger journal_append_only ON journal
CREATE TRIGGER journal_append_only BEFORE INSERT ON journal
        WHEN NEW.seq IS NOT (SELECT IFNULL(MAX(seq), 0) + 1 FROM journal)
          OR NEW.prev_hash IS NOT IFNULL((SELECT hash FROM journal WHERE seq = NEW.seq - 1),
                                         printf('%064d', 0))
        BEGIN SELECT RAISE(ABORT, 'journal entries must extend the chain'); END;
-- trigger journal_tax_invoice ON journal
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
        END;
-- table sale_lines ON sale_lines
CREATE TABLE "sale_lines" (
                    sale_seq INTEGER NOT NULL REFERENCES sales(seq),
                    line_no INTEGER NOT NULL,
                    product_id INTEGER REFERENCES products(id),
                    name TEXT NOT NULL,
                    unit TEXT NOT NULL,
                    quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
                    unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
                    amount INTEGER NOT NULL CHECK (amount >= 0), list_price INTEGER CHECK (list_price >= 0),
                    PRIMARY KEY (sale_seq, line_no)
                ) STRICT, WITHOUT ROWID;
-- table payments ON payments
CREATE TABLE "payments" (
                    sale_seq INTEGER NOT NULL REFERENCES sales(seq),
                    line_no INTEGER NOT NULL,
                    method TEXT NOT NULL CHECK (method IN ('cash', 'qr')),
                    amount INTEGER NOT NULL CHECK (amount >= 0),
                    tendered INTEGER CHECK (tendered >= amount),
                    change INTEGER CHECK (change >= 0),
                    reference TEXT,
                    bank_bin TEXT,
                    account TEXT,
                    state TEXT,
                    bank_txn TEXT,
                    PRIMARY KEY (sale_seq, line_no)
                ) STRICT, WITHOUT ROWID;
-- index payments_reference ON payments
CREATE INDEX payments_reference ON payments(reference) WHERE reference IS NOT NULL;
-- table api_tokens ON api_tokens
CREATE TABLE "api_tokens" (
            id INTEGER PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
            label TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        ) STRICT;
-- index sqlite_autoindex_api_tokens_1 ON api_tokens
-- (no sql: an automatic index)
-- table refunds ON refunds
CREATE TABLE refunds (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            id TEXT NOT NULL UNIQUE,
            sale_seq INTEGER NOT NULL REFERENCES sales(seq),
            business_day TEXT NOT NULL,
            at TEXT NOT NULL,
            total INTEGER NOT NULL CHECK (total > 0),
            cash INTEGER NOT NULL CHECK (cash >= 0),
            qr INTEGER NOT NULL CHECK (qr >= 0),
            reason TEXT NOT NULL,
            refunded_by TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_refunds_1 ON refunds
-- (no sql: an automatic index)
-- index refunds_by_sale ON refunds
CREATE INDEX refunds_by_sale ON refunds(sale_seq);
-- index refunds_by_day ON refunds
CREATE INDEX refunds_by_day ON refunds(business_day);
-- table refund_lines ON refund_lines
CREATE TABLE refund_lines (
            refund_seq INTEGER NOT NULL REFERENCES refunds(seq),
            line_no INTEGER NOT NULL CHECK (line_no >= 1),
            quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            PRIMARY KEY (refund_seq, line_no)
        ) STRICT, WITHOUT ROWID;
-- table parked_carts ON parked_carts
CREATE TABLE parked_carts (
            id TEXT PRIMARY KEY,
            label TEXT NOT NULL CHECK (length(label) BETWEEN 1 AND 40),
            cart TEXT NOT NULL,
            total INTEGER NOT NULL CHECK (total > 0),
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_parked_carts_1 ON parked_carts
-- (no sql: an automatic index)
-- index parked_carts_created ON parked_carts
CREATE INDEX parked_carts_created ON parked_carts(created_at);

-- ===== after 0018_credit_book =====
-- PRAGMA user_version = 0
-- applied: market-pos/0001_journal, market-pos/0002_catalog_and_sales, market-pos/0003_access, market-pos/0004_day_totals, market-pos/0005_cash_and_day_close, market-pos/0006_print_jobs, market-pos/0007_catalogue_from_server, market-pos/0008_qr_payments, market-pos/0009_tax, market-pos/0010_journal_child_indexes, market-pos/0011_lines_and_payments_without_rowid, market-pos/0012_sale_rows_keyed_by_seq, market-pos/0013_pin_guard_lockouts, market-pos/0014_api_token_ids, market-pos/0015_haggled_sales, market-pos/0016_refunds, market-pos/0017_parked, market-pos/0018_credit_book
-- table _sqlite_migrations ON _sqlite_migrations
CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
);
-- index idx__sqlite_migrations_migration_set_name ON _sqlite_migrations
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");
-- table settings ON settings
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
-- index sqlite_autoindex_settings_1 ON settings
-- (no sql: an automatic index)
-- table sales ON sales
CREATE TABLE sales (
            id TEXT PRIMARY KEY,
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            number INTEGER NOT NULL UNIQUE CHECK (number >= 1),
            at TEXT NOT NULL,
            business_day TEXT NOT NULL,
            total INTEGER NOT NULL CHECK (total >= 0),
            sold_by TEXT NOT NULL,
            voided_seq INTEGER REFERENCES journal(seq),
            void_reason TEXT
        , discount INTEGER NOT NULL DEFAULT 0 CHECK (discount >= 0), discount_reason TEXT) STRICT;
-- index sqlite_autoindex_sales_1 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_2 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_3 ON sales
-- (no sql: an automatic index)
-- index sales_business_day ON sales
CREATE INDEX sales_business_day ON sales(business_day, number);
-- table pins ON pins
CREATE TABLE pins (
            role TEXT PRIMARY KEY CHECK (role IN ('owner', 'helper')),
            pin_hash TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_pins_1 ON pins
-- (no sql: an automatic index)
-- table pin_guard ON pin_guard
CREATE TABLE pin_guard (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            failures INTEGER NOT NULL DEFAULT 0,
            locked_until REAL NOT NULL DEFAULT 0
        , lockouts INTEGER NOT NULL DEFAULT 0, last_failure_at REAL NOT NULL DEFAULT 0) STRICT;
-- table day_totals ON day_totals
CREATE TABLE day_totals (
            business_day TEXT PRIMARY KEY,
            sales_count INTEGER NOT NULL DEFAULT 0,
            revenue INTEGER NOT NULL DEFAULT 0,
            cash INTEGER NOT NULL DEFAULT 0,
            qr INTEGER NOT NULL DEFAULT 0,
            voids_count INTEGER NOT NULL DEFAULT 0,
            voided_amount INTEGER NOT NULL DEFAULT 0
        , refunds_count INTEGER NOT NULL DEFAULT 0, refunded_amount INTEGER NOT NULL DEFAULT 0, credit INTEGER NOT NULL DEFAULT 0) STRICT;
-- index sqlite_autoindex_day_totals_1 ON day_totals
-- (no sql: an automatic index)
-- table cash_moves ON cash_moves
CREATE TABLE cash_moves (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            business_day TEXT NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('float', 'in', 'out')),
            amount INTEGER NOT NULL CHECK (amount > 0),
            reason TEXT NOT NULL,
            at TEXT NOT NULL
        ) STRICT;
-- index cash_moves_day ON cash_moves
CREATE INDEX cash_moves_day ON cash_moves(business_day);
-- table day_closes ON day_closes
CREATE TABLE day_closes (
            business_day TEXT PRIMARY KEY,
            z_number INTEGER NOT NULL UNIQUE CHECK (z_number >= 1),
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            at TEXT NOT NULL,
            expected_cash INTEGER NOT NULL,
            counted_cash INTEGER NOT NULL CHECK (counted_cash >= 0),
            report TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_day_closes_1 ON day_closes
-- (no sql: an automatic index)
-- index sqlite_autoindex_day_closes_2 ON day_closes
-- (no sql: an automatic index)
-- index sqlite_autoindex_day_closes_3 ON day_closes
-- (no sql: an automatic index)
-- table print_jobs ON print_jobs
CREATE TABLE print_jobs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('receipt', 'report', 'selftest')),
            ref TEXT NOT NULL DEFAULT '',
            copy INTEGER NOT NULL DEFAULT 0 CHECK (copy IN (0, 1)),
            state TEXT NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'held', 'done', 'failed', 'cancelled')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at REAL NOT NULL,
            next_attempt_at REAL NOT NULL,
            updated_at REAL NOT NULL
        ) STRICT;
-- index print_jobs_due ON print_jobs
CREATE INDEX print_jobs_due ON print_jobs(state, next_attempt_at);
-- table products ON products
CREATE TABLE "products" (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
                    search_key TEXT NOT NULL,
                    unit TEXT NOT NULL CHECK (length(unit) BETWEEN 1 AND 16),
                    price INTEGER NOT NULL CHECK (price BETWEEN 0 AND 1000000000000),
                    category TEXT NOT NULL DEFAULT '',
                    barcode TEXT,
                    ocop_stars INTEGER CHECK (ocop_stars BETWEEN 3 AND 5),
                    trace_url TEXT,
                    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
                    journal_seq INTEGER REFERENCES journal(seq),
                    server_ref TEXT UNIQUE CHECK (length(server_ref) BETWEEN 1 AND 64),
                    binding INTEGER NOT NULL DEFAULT 0 CHECK (binding IN (0, 1)),
                    server_price INTEGER CHECK (server_price BETWEEN 0 AND 1000000000000),
                    server_active INTEGER CHECK (server_active IN (0, 1)),
                    CHECK (journal_seq IS NOT NULL OR server_ref IS NOT NULL)
                ) STRICT;
-- index sqlite_autoindex_products_1 ON products
-- (no sql: an automatic index)
-- index products_barcode ON products
CREATE UNIQUE INDEX products_barcode ON products(barcode) WHERE barcode IS NOT NULL;
-- table bank_accounts ON bank_accounts
CREATE TABLE bank_accounts (
            id INTEGER PRIMARY KEY,
            bank_bin TEXT NOT NULL CHECK (length(bank_bin) = 6),
            account TEXT NOT NULL CHECK (length(account) BETWEEN 6 AND 19),
            holder TEXT NOT NULL CHECK (length(holder) BETWEEN 1 AND 50),
            is_card INTEGER NOT NULL DEFAULT 0 CHECK (is_card IN (0, 1)),
            is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            created_at TEXT NOT NULL
        ) STRICT;
-- index bank_accounts_number ON bank_accounts
CREATE UNIQUE INDEX bank_accounts_number ON bank_accounts(bank_bin, account);
-- table qr_pending ON qr_pending
CREATE TABLE qr_pending (
            id TEXT PRIMARY KEY,
            reference TEXT NOT NULL,
            amount INTEGER NOT NULL CHECK (amount > 0),
            total INTEGER NOT NULL CHECK (total >= amount),
            request TEXT NOT NULL,
            bank_bin TEXT NOT NULL,
            account TEXT NOT NULL,
            holder TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'recorded', 'cancelled')),
            sale_id TEXT REFERENCES sales(id)
        , parked_at TEXT, customer_id INTEGER REFERENCES customers(id), credit_seq INTEGER REFERENCES journal(seq)) STRICT;
-- index sqlite_autoindex_qr_pending_1 ON qr_pending
-- (no sql: an automatic index)
-- index qr_pending_state ON qr_pending
CREATE INDEX qr_pending_state ON qr_pending(state, created_at);
-- index qr_pending_reference ON qr_pending
CREATE INDEX qr_pending_reference ON qr_pending(reference);
-- table bank_checks ON bank_checks
CREATE TABLE bank_checks (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            bank_txn TEXT NOT NULL UNIQUE,
            reference TEXT,
            sale_id TEXT REFERENCES sales(id),
            state TEXT NOT NULL CHECK (state IN ('bank_confirmed', 'mismatch')),
            reason TEXT,
            bank_amount INTEGER NOT NULL,
            expected INTEGER,
            source TEXT NOT NULL CHECK (source IN ('server', 'statement')),
            business_day TEXT NOT NULL,
            at TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_bank_checks_1 ON bank_checks
-- (no sql: an automatic index)
-- index bank_checks_day ON bank_checks
CREATE INDEX bank_checks_day ON bank_checks(business_day);
-- table mtt_counters ON mtt_counters
CREATE TABLE mtt_counters (
            mtt_range TEXT NOT NULL CHECK (length(mtt_range) = 5),
            year INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2099),
            block INTEGER NOT NULL CHECK (block BETWEEN 0 AND 99),
            last INTEGER NOT NULL CHECK (last BETWEEN 1 AND 999999999),
            PRIMARY KEY (mtt_range, year, block)
        ) STRICT;
-- index sqlite_autoindex_mtt_counters_1 ON mtt_counters
-- (no sql: an automatic index)
-- table tax_invoices ON tax_invoices
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
        ) STRICT;
-- index sqlite_autoindex_tax_invoices_1 ON tax_invoices
-- (no sql: an automatic index)
-- index sqlite_autoindex_tax_invoices_2 ON tax_invoices
-- (no sql: an automatic index)
-- index tax_invoices_sale ON tax_invoices
CREATE INDEX tax_invoices_sale ON tax_invoices(sale_id);
-- index tax_invoices_day ON tax_invoices
CREATE INDEX tax_invoices_day ON tax_invoices(business_day);
-- trigger tax_invoices_no_update ON tax_invoices
CREATE TRIGGER tax_invoices_no_update BEFORE UPDATE ON tax_invoices
        BEGIN SELECT RAISE(ABORT, 'issued invoices are immutable'); END;
-- trigger tax_invoices_no_delete ON tax_invoices
CREATE TRIGGER tax_invoices_no_delete BEFORE DELETE ON tax_invoices
        BEGIN SELECT RAISE(ABORT, 'issued invoices cannot be deleted'); END;
-- trigger tax_invoices_gap_free ON tax_invoices
CREATE TRIGGER tax_invoices_gap_free BEFORE INSERT ON tax_invoices
        WHEN NEW.number IS NOT IFNULL((SELECT last FROM mtt_counters WHERE
                 mtt_range = NEW.mtt_range AND year = NEW.year AND block = NEW.block), 0) + 1
        BEGIN SELECT RAISE(ABORT, 'MTT invoice numbers must be gap-free'); END;
-- trigger tax_invoices_count ON tax_invoices
CREATE TRIGGER tax_invoices_count AFTER INSERT ON tax_invoices
        BEGIN
            INSERT INTO mtt_counters (mtt_range, year, block, last)
            VALUES (NEW.mtt_range, NEW.year, NEW.block, NEW.number)
            ON CONFLICT (mtt_range, year, block) DO UPDATE SET last = excluded.last;
        END;
-- table product_tax ON product_tax
CREATE TABLE product_tax (
            product_id INTEGER PRIMARY KEY REFERENCES products(id),
            tax_group TEXT NOT NULL CHECK (length(tax_group) BETWEEN 1 AND 20),
            vat TEXT NOT NULL CHECK (vat IN ('applies', 'KCT'))
        ) STRICT;
-- index products_journal_seq ON products
CREATE INDEX products_journal_seq ON products(journal_seq);
-- index sales_voided_seq ON sales
CREATE INDEX sales_voided_seq ON sales(voided_seq) WHERE voided_seq IS NOT NULL;
-- index tax_invoices_related ON tax_invoices
CREATE INDEX tax_invoices_related ON tax_invoices(related_code) WHERE related_code IS NOT NULL;
-- table journal ON journal
CREATE TABLE "journal" (
                    seq INTEGER PRIMARY KEY CHECK (seq >= 1),
                    id TEXT NOT NULL UNIQUE CHECK (length(id) = 36),
                    device_id TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    at TEXT NOT NULL CHECK (length(at) = 24),
                    payload TEXT NOT NULL,
                    prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
                    hash TEXT NOT NULL CHECK (length(hash) = 64)
                ) STRICT;
-- index sqlite_autoindex_journal_1 ON journal
-- (no sql: an automatic index)
-- trigger journal_no_update ON journal
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries are immutable'); END;
-- trigger journal_no_delete ON journal
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries cannot be deleted'); END;
-- trigger journal_append_only ON journal
CREATE TRIGGER journal_append_only BEFORE INSERT ON journal
        WHEN NEW.seq IS NOT (SELECT IFNULL(MAX(seq), 0) + 1 FROM journal)
          OR NEW.prev_hash IS NOT IFNULL((SELECT hash FROM journal WHERE seq = NEW.seq - 1),
                                         printf('%064d', 0))
        BEGIN SELECT RAISE(ABORT, 'journal entries must extend the chain'); END;
-- trigger journal_tax_invoice ON journal
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
        END;
-- table sale_lines ON sale_lines
CREATE TABLE "sale_lines" (
                    sale_seq INTEGER NOT NULL REFERENCES sales(seq),
                    line_no INTEGER NOT NULL,
                    product_id INTEGER REFERENCES products(id),
                    name TEXT NOT NULL,
                    unit TEXT NOT NULL,
                    quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
                    unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
                    amount INTEGER NOT NULL CHECK (amount >= 0), list_price INTEGER CHECK (list_price >= 0),
                    PRIMARY KEY (sale_seq, line_no)
                ) STRICT, WITHOUT ROWID;
-- table api_tokens ON api_tokens
CREATE TABLE "api_tokens" (
            id INTEGER PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
            label TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        ) STRICT;
-- index sqlite_autoindex_api_tokens_1 ON api_tokens
-- (no sql: an automatic index)
-- table refunds ON refunds
CREATE TABLE refunds (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            id TEXT NOT NULL UNIQUE,
            sale_seq INTEGER NOT NULL REFERENCES sales(seq),
            business_day TEXT NOT NULL,
            at TEXT NOT NULL,
            total INTEGER NOT NULL CHECK (total > 0),
            cash INTEGER NOT NULL CHECK (cash >= 0),
            qr INTEGER NOT NULL CHECK (qr >= 0),
            reason TEXT NOT NULL,
            refunded_by TEXT NOT NULL
        , credit INTEGER NOT NULL DEFAULT 0 CHECK (credit >= 0)) STRICT;
-- index sqlite_autoindex_refunds_1 ON refunds
-- (no sql: an automatic index)
-- index refunds_by_sale ON refunds
CREATE INDEX refunds_by_sale ON refunds(sale_seq);
-- index refunds_by_day ON refunds
CREATE INDEX refunds_by_day ON refunds(business_day);
-- table refund_lines ON refund_lines
CREATE TABLE refund_lines (
            refund_seq INTEGER NOT NULL REFERENCES refunds(seq),
            line_no INTEGER NOT NULL CHECK (line_no >= 1),
            quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            PRIMARY KEY (refund_seq, line_no)
        ) STRICT, WITHOUT ROWID;
-- table parked_carts ON parked_carts
CREATE TABLE parked_carts (
            id TEXT PRIMARY KEY,
            label TEXT NOT NULL CHECK (length(label) BETWEEN 1 AND 40),
            cart TEXT NOT NULL,
            total INTEGER NOT NULL CHECK (total > 0),
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_parked_carts_1 ON parked_carts
-- (no sql: an automatic index)
-- index parked_carts_created ON parked_carts
CREATE INDEX parked_carts_created ON parked_carts(created_at);
-- table customers ON customers
CREATE TABLE customers (
            id INTEGER PRIMARY KEY,
            entry_seq INTEGER NOT NULL REFERENCES journal(seq),
            name TEXT NOT NULL,
            search_key TEXT NOT NULL,
            phone TEXT,
            note TEXT,
            credit_limit INTEGER CHECK (credit_limit >= 0),
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            balance INTEGER NOT NULL DEFAULT 0,
            owing_since TEXT,
            created_at TEXT NOT NULL
        ) STRICT;
-- index customers_entry ON customers
CREATE INDEX customers_entry ON customers(entry_seq);
-- index customers_search ON customers
CREATE INDEX customers_search ON customers(search_key);
-- index customers_phone ON customers
CREATE INDEX customers_phone ON customers(phone) WHERE phone IS NOT NULL;
-- index customers_owing ON customers
CREATE INDEX customers_owing ON customers(owing_since) WHERE balance > 0;
-- table credit_moves ON credit_moves
CREATE TABLE credit_moves (
            seq INTEGER NOT NULL REFERENCES journal(seq),
            customer_id INTEGER NOT NULL REFERENCES customers(id),
            kind TEXT NOT NULL CHECK (kind IN ('sale', 'repayment', 'void', 'refund')),
            amount INTEGER NOT NULL CHECK (amount != 0),
            method TEXT CHECK (method IN ('cash', 'qr')),
            sale_seq INTEGER REFERENCES sales(seq),
            business_day TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (seq, customer_id)
        ) STRICT, WITHOUT ROWID;
-- index credit_moves_customer ON credit_moves
CREATE INDEX credit_moves_customer ON credit_moves(customer_id, seq);
-- index credit_moves_day ON credit_moves
CREATE INDEX credit_moves_day ON credit_moves(business_day);
-- table payments ON payments
CREATE TABLE "payments" (
            sale_seq INTEGER NOT NULL REFERENCES sales(seq),
            line_no INTEGER NOT NULL,
            method TEXT NOT NULL CHECK (method IN ('cash', 'qr', 'credit')),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            tendered INTEGER CHECK (tendered >= amount),
            change INTEGER CHECK (change >= 0),
            reference TEXT,
            bank_bin TEXT,
            account TEXT,
            state TEXT,
            bank_txn TEXT,
            customer_id INTEGER REFERENCES customers(id),
            PRIMARY KEY (sale_seq, line_no),
            CHECK ((method = 'credit') = (customer_id IS NOT NULL))
        ) STRICT, WITHOUT ROWID;
-- index payments_reference ON payments
CREATE INDEX payments_reference ON payments(reference) WHERE reference IS NOT NULL;
-- index qr_pending_credit ON qr_pending
CREATE INDEX qr_pending_credit ON qr_pending(credit_seq) WHERE credit_seq IS NOT NULL;

-- ===== after 0019_purchases_and_stock =====
-- PRAGMA user_version = 0
-- applied: market-pos/0001_journal, market-pos/0002_catalog_and_sales, market-pos/0003_access, market-pos/0004_day_totals, market-pos/0005_cash_and_day_close, market-pos/0006_print_jobs, market-pos/0007_catalogue_from_server, market-pos/0008_qr_payments, market-pos/0009_tax, market-pos/0010_journal_child_indexes, market-pos/0011_lines_and_payments_without_rowid, market-pos/0012_sale_rows_keyed_by_seq, market-pos/0013_pin_guard_lockouts, market-pos/0014_api_token_ids, market-pos/0015_haggled_sales, market-pos/0016_refunds, market-pos/0017_parked, market-pos/0018_credit_book, market-pos/0019_purchases_and_stock
-- table _sqlite_migrations ON _sqlite_migrations
CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
);
-- index idx__sqlite_migrations_migration_set_name ON _sqlite_migrations
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name");
-- table settings ON settings
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
-- index sqlite_autoindex_settings_1 ON settings
-- (no sql: an automatic index)
-- table sales ON sales
CREATE TABLE sales (
            id TEXT PRIMARY KEY,
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            number INTEGER NOT NULL UNIQUE CHECK (number >= 1),
            at TEXT NOT NULL,
            business_day TEXT NOT NULL,
            total INTEGER NOT NULL CHECK (total >= 0),
            sold_by TEXT NOT NULL,
            voided_seq INTEGER REFERENCES journal(seq),
            void_reason TEXT
        , discount INTEGER NOT NULL DEFAULT 0 CHECK (discount >= 0), discount_reason TEXT) STRICT;
-- index sqlite_autoindex_sales_1 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_2 ON sales
-- (no sql: an automatic index)
-- index sqlite_autoindex_sales_3 ON sales
-- (no sql: an automatic index)
-- index sales_business_day ON sales
CREATE INDEX sales_business_day ON sales(business_day, number);
-- table pins ON pins
CREATE TABLE pins (
            role TEXT PRIMARY KEY CHECK (role IN ('owner', 'helper')),
            pin_hash TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_pins_1 ON pins
-- (no sql: an automatic index)
-- table pin_guard ON pin_guard
CREATE TABLE pin_guard (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            failures INTEGER NOT NULL DEFAULT 0,
            locked_until REAL NOT NULL DEFAULT 0
        , lockouts INTEGER NOT NULL DEFAULT 0, last_failure_at REAL NOT NULL DEFAULT 0) STRICT;
-- table day_totals ON day_totals
CREATE TABLE day_totals (
            business_day TEXT PRIMARY KEY,
            sales_count INTEGER NOT NULL DEFAULT 0,
            revenue INTEGER NOT NULL DEFAULT 0,
            cash INTEGER NOT NULL DEFAULT 0,
            qr INTEGER NOT NULL DEFAULT 0,
            voids_count INTEGER NOT NULL DEFAULT 0,
            voided_amount INTEGER NOT NULL DEFAULT 0
        , refunds_count INTEGER NOT NULL DEFAULT 0, refunded_amount INTEGER NOT NULL DEFAULT 0, credit INTEGER NOT NULL DEFAULT 0) STRICT;
-- index sqlite_autoindex_day_totals_1 ON day_totals
-- (no sql: an automatic index)
-- table cash_moves ON cash_moves
CREATE TABLE cash_moves (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            business_day TEXT NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('float', 'in', 'out')),
            amount INTEGER NOT NULL CHECK (amount > 0),
            reason TEXT NOT NULL,
            at TEXT NOT NULL
        ) STRICT;
-- index cash_moves_day ON cash_moves
CREATE INDEX cash_moves_day ON cash_moves(business_day);
-- table day_closes ON day_closes
CREATE TABLE day_closes (
            business_day TEXT PRIMARY KEY,
            z_number INTEGER NOT NULL UNIQUE CHECK (z_number >= 1),
            seq INTEGER NOT NULL UNIQUE REFERENCES journal(seq),
            at TEXT NOT NULL,
            expected_cash INTEGER NOT NULL,
            counted_cash INTEGER NOT NULL CHECK (counted_cash >= 0),
            report TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_day_closes_1 ON day_closes
-- (no sql: an automatic index)
-- index sqlite_autoindex_day_closes_2 ON day_closes
-- (no sql: an automatic index)
-- index sqlite_autoindex_day_closes_3 ON day_closes
-- (no sql: an automatic index)
-- table print_jobs ON print_jobs
CREATE TABLE print_jobs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('receipt', 'report', 'selftest')),
            ref TEXT NOT NULL DEFAULT '',
            copy INTEGER NOT NULL DEFAULT 0 CHECK (copy IN (0, 1)),
            state TEXT NOT NULL DEFAULT 'queued'
                CHECK (state IN ('queued', 'held', 'done', 'failed', 'cancelled')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at REAL NOT NULL,
            next_attempt_at REAL NOT NULL,
            updated_at REAL NOT NULL
        ) STRICT;
-- index print_jobs_due ON print_jobs
CREATE INDEX print_jobs_due ON print_jobs(state, next_attempt_at);
-- table products ON products
CREATE TABLE "products" (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
                    search_key TEXT NOT NULL,
                    unit TEXT NOT NULL CHECK (length(unit) BETWEEN 1 AND 16),
                    price INTEGER NOT NULL CHECK (price BETWEEN 0 AND 1000000000000),
                    category TEXT NOT NULL DEFAULT '',
                    barcode TEXT,
                    ocop_stars INTEGER CHECK (ocop_stars BETWEEN 3 AND 5),
                    trace_url TEXT,
                    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
                    journal_seq INTEGER REFERENCES journal(seq),
                    server_ref TEXT UNIQUE CHECK (length(server_ref) BETWEEN 1 AND 64),
                    binding INTEGER NOT NULL DEFAULT 0 CHECK (binding IN (0, 1)),
                    server_price INTEGER CHECK (server_price BETWEEN 0 AND 1000000000000),
                    server_active INTEGER CHECK (server_active IN (0, 1)),
                    CHECK (journal_seq IS NOT NULL OR server_ref IS NOT NULL)
                ) STRICT;
-- index sqlite_autoindex_products_1 ON products
-- (no sql: an automatic index)
-- index products_barcode ON products
CREATE UNIQUE INDEX products_barcode ON products(barcode) WHERE barcode IS NOT NULL;
-- table bank_accounts ON bank_accounts
CREATE TABLE bank_accounts (
            id INTEGER PRIMARY KEY,
            bank_bin TEXT NOT NULL CHECK (length(bank_bin) = 6),
            account TEXT NOT NULL CHECK (length(account) BETWEEN 6 AND 19),
            holder TEXT NOT NULL CHECK (length(holder) BETWEEN 1 AND 50),
            is_card INTEGER NOT NULL DEFAULT 0 CHECK (is_card IN (0, 1)),
            is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            created_at TEXT NOT NULL
        ) STRICT;
-- index bank_accounts_number ON bank_accounts
CREATE UNIQUE INDEX bank_accounts_number ON bank_accounts(bank_bin, account);
-- table qr_pending ON qr_pending
CREATE TABLE qr_pending (
            id TEXT PRIMARY KEY,
            reference TEXT NOT NULL,
            amount INTEGER NOT NULL CHECK (amount > 0),
            total INTEGER NOT NULL CHECK (total >= amount),
            request TEXT NOT NULL,
            bank_bin TEXT NOT NULL,
            account TEXT NOT NULL,
            holder TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'recorded', 'cancelled')),
            sale_id TEXT REFERENCES sales(id)
        , parked_at TEXT, customer_id INTEGER REFERENCES customers(id), credit_seq INTEGER REFERENCES journal(seq)) STRICT;
-- index sqlite_autoindex_qr_pending_1 ON qr_pending
-- (no sql: an automatic index)
-- index qr_pending_state ON qr_pending
CREATE INDEX qr_pending_state ON qr_pending(state, created_at);
-- index qr_pending_reference ON qr_pending
CREATE INDEX qr_pending_reference ON qr_pending(reference);
-- table bank_checks ON bank_checks
CREATE TABLE bank_checks (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            bank_txn TEXT NOT NULL UNIQUE,
            reference TEXT,
            sale_id TEXT REFERENCES sales(id),
            state TEXT NOT NULL CHECK (state IN ('bank_confirmed', 'mismatch')),
            reason TEXT,
            bank_amount INTEGER NOT NULL,
            expected INTEGER,
            source TEXT NOT NULL CHECK (source IN ('server', 'statement')),
            business_day TEXT NOT NULL,
            at TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_bank_checks_1 ON bank_checks
-- (no sql: an automatic index)
-- index bank_checks_day ON bank_checks
CREATE INDEX bank_checks_day ON bank_checks(business_day);
-- table mtt_counters ON mtt_counters
CREATE TABLE mtt_counters (
            mtt_range TEXT NOT NULL CHECK (length(mtt_range) = 5),
            year INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2099),
            block INTEGER NOT NULL CHECK (block BETWEEN 0 AND 99),
            last INTEGER NOT NULL CHECK (last BETWEEN 1 AND 999999999),
            PRIMARY KEY (mtt_range, year, block)
        ) STRICT;
-- index sqlite_autoindex_mtt_counters_1 ON mtt_counters
-- (no sql: an automatic index)
-- table tax_invoices ON tax_invoices
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
        ) STRICT;
-- index sqlite_autoindex_tax_invoices_1 ON tax_invoices
-- (no sql: an automatic index)
-- index sqlite_autoindex_tax_invoices_2 ON tax_invoices
-- (no sql: an automatic index)
-- index tax_invoices_sale ON tax_invoices
CREATE INDEX tax_invoices_sale ON tax_invoices(sale_id);
-- index tax_invoices_day ON tax_invoices
CREATE INDEX tax_invoices_day ON tax_invoices(business_day);
-- trigger tax_invoices_no_update ON tax_invoices
CREATE TRIGGER tax_invoices_no_update BEFORE UPDATE ON tax_invoices
        BEGIN SELECT RAISE(ABORT, 'issued invoices are immutable'); END;
-- trigger tax_invoices_no_delete ON tax_invoices
CREATE TRIGGER tax_invoices_no_delete BEFORE DELETE ON tax_invoices
        BEGIN SELECT RAISE(ABORT, 'issued invoices cannot be deleted'); END;
-- trigger tax_invoices_gap_free ON tax_invoices
CREATE TRIGGER tax_invoices_gap_free BEFORE INSERT ON tax_invoices
        WHEN NEW.number IS NOT IFNULL((SELECT last FROM mtt_counters WHERE
                 mtt_range = NEW.mtt_range AND year = NEW.year AND block = NEW.block), 0) + 1
        BEGIN SELECT RAISE(ABORT, 'MTT invoice numbers must be gap-free'); END;
-- trigger tax_invoices_count ON tax_invoices
CREATE TRIGGER tax_invoices_count AFTER INSERT ON tax_invoices
        BEGIN
            INSERT INTO mtt_counters (mtt_range, year, block, last)
            VALUES (NEW.mtt_range, NEW.year, NEW.block, NEW.number)
            ON CONFLICT (mtt_range, year, block) DO UPDATE SET last = excluded.last;
        END;
-- table product_tax ON product_tax
CREATE TABLE product_tax (
            product_id INTEGER PRIMARY KEY REFERENCES products(id),
            tax_group TEXT NOT NULL CHECK (length(tax_group) BETWEEN 1 AND 20),
            vat TEXT NOT NULL CHECK (vat IN ('applies', 'KCT'))
        ) STRICT;
-- index products_journal_seq ON products
CREATE INDEX products_journal_seq ON products(journal_seq);
-- index sales_voided_seq ON sales
CREATE INDEX sales_voided_seq ON sales(voided_seq) WHERE voided_seq IS NOT NULL;
-- index tax_invoices_related ON tax_invoices
CREATE INDEX tax_invoices_related ON tax_invoices(related_code) WHERE related_code IS NOT NULL;
-- table journal ON journal
CREATE TABLE "journal" (
                    seq INTEGER PRIMARY KEY CHECK (seq >= 1),
                    id TEXT NOT NULL UNIQUE CHECK (length(id) = 36),
                    device_id TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    at TEXT NOT NULL CHECK (length(at) = 24),
                    payload TEXT NOT NULL,
                    prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
                    hash TEXT NOT NULL CHECK (length(hash) = 64)
                ) STRICT;
-- index sqlite_autoindex_journal_1 ON journal
-- (no sql: an automatic index)
-- trigger journal_no_update ON journal
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries are immutable'); END;
-- trigger journal_no_delete ON journal
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
        BEGIN SELECT RAISE(ABORT, 'journal entries cannot be deleted'); END;
-- trigger journal_append_only ON journal
CREATE TRIGGER journal_append_only BEFORE INSERT ON journal
        WHEN NEW.seq IS NOT (SELECT IFNULL(MAX(seq), 0) + 1 FROM journal)
          OR NEW.prev_hash IS NOT IFNULL((SELECT hash FROM journal WHERE seq = NEW.seq - 1),
                                         printf('%064d', 0))
        BEGIN SELECT RAISE(ABORT, 'journal entries must extend the chain'); END;
-- trigger journal_tax_invoice ON journal
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
        END;
-- table sale_lines ON sale_lines
CREATE TABLE "sale_lines" (
                    sale_seq INTEGER NOT NULL REFERENCES sales(seq),
                    line_no INTEGER NOT NULL,
                    product_id INTEGER REFERENCES products(id),
                    name TEXT NOT NULL,
                    unit TEXT NOT NULL,
                    quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
                    unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
                    amount INTEGER NOT NULL CHECK (amount >= 0), list_price INTEGER CHECK (list_price >= 0),
                    PRIMARY KEY (sale_seq, line_no)
                ) STRICT, WITHOUT ROWID;
-- table api_tokens ON api_tokens
CREATE TABLE "api_tokens" (
            id INTEGER PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
            label TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        ) STRICT;
-- index sqlite_autoindex_api_tokens_1 ON api_tokens
-- (no sql: an automatic index)
-- table refunds ON refunds
CREATE TABLE refunds (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            id TEXT NOT NULL UNIQUE,
            sale_seq INTEGER NOT NULL REFERENCES sales(seq),
            business_day TEXT NOT NULL,
            at TEXT NOT NULL,
            total INTEGER NOT NULL CHECK (total > 0),
            cash INTEGER NOT NULL CHECK (cash >= 0),
            qr INTEGER NOT NULL CHECK (qr >= 0),
            reason TEXT NOT NULL,
            refunded_by TEXT NOT NULL
        , credit INTEGER NOT NULL DEFAULT 0 CHECK (credit >= 0)) STRICT;
-- index sqlite_autoindex_refunds_1 ON refunds
-- (no sql: an automatic index)
-- index refunds_by_sale ON refunds
CREATE INDEX refunds_by_sale ON refunds(sale_seq);
-- index refunds_by_day ON refunds
CREATE INDEX refunds_by_day ON refunds(business_day);
-- table refund_lines ON refund_lines
CREATE TABLE refund_lines (
            refund_seq INTEGER NOT NULL REFERENCES refunds(seq),
            line_no INTEGER NOT NULL CHECK (line_no >= 1),
            quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            PRIMARY KEY (refund_seq, line_no)
        ) STRICT, WITHOUT ROWID;
-- table parked_carts ON parked_carts
CREATE TABLE parked_carts (
            id TEXT PRIMARY KEY,
            label TEXT NOT NULL CHECK (length(label) BETWEEN 1 AND 40),
            cart TEXT NOT NULL,
            total INTEGER NOT NULL CHECK (total > 0),
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_parked_carts_1 ON parked_carts
-- (no sql: an automatic index)
-- index parked_carts_created ON parked_carts
CREATE INDEX parked_carts_created ON parked_carts(created_at);
-- table customers ON customers
CREATE TABLE customers (
            id INTEGER PRIMARY KEY,
            entry_seq INTEGER NOT NULL REFERENCES journal(seq),
            name TEXT NOT NULL,
            search_key TEXT NOT NULL,
            phone TEXT,
            note TEXT,
            credit_limit INTEGER CHECK (credit_limit >= 0),
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            balance INTEGER NOT NULL DEFAULT 0,
            owing_since TEXT,
            created_at TEXT NOT NULL
        ) STRICT;
-- index customers_entry ON customers
CREATE INDEX customers_entry ON customers(entry_seq);
-- index customers_search ON customers
CREATE INDEX customers_search ON customers(search_key);
-- index customers_phone ON customers
CREATE INDEX customers_phone ON customers(phone) WHERE phone IS NOT NULL;
-- index customers_owing ON customers
CREATE INDEX customers_owing ON customers(owing_since) WHERE balance > 0;
-- table credit_moves ON credit_moves
CREATE TABLE credit_moves (
            seq INTEGER NOT NULL REFERENCES journal(seq),
            customer_id INTEGER NOT NULL REFERENCES customers(id),
            kind TEXT NOT NULL CHECK (kind IN ('sale', 'repayment', 'void', 'refund')),
            amount INTEGER NOT NULL CHECK (amount != 0),
            method TEXT CHECK (method IN ('cash', 'qr')),
            sale_seq INTEGER REFERENCES sales(seq),
            business_day TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (seq, customer_id)
        ) STRICT, WITHOUT ROWID;
-- index credit_moves_customer ON credit_moves
CREATE INDEX credit_moves_customer ON credit_moves(customer_id, seq);
-- index credit_moves_day ON credit_moves
CREATE INDEX credit_moves_day ON credit_moves(business_day);
-- table payments ON payments
CREATE TABLE "payments" (
            sale_seq INTEGER NOT NULL REFERENCES sales(seq),
            line_no INTEGER NOT NULL,
            method TEXT NOT NULL CHECK (method IN ('cash', 'qr', 'credit')),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            tendered INTEGER CHECK (tendered >= amount),
            change INTEGER CHECK (change >= 0),
            reference TEXT,
            bank_bin TEXT,
            account TEXT,
            state TEXT,
            bank_txn TEXT,
            customer_id INTEGER REFERENCES customers(id),
            PRIMARY KEY (sale_seq, line_no),
            CHECK ((method = 'credit') = (customer_id IS NOT NULL))
        ) STRICT, WITHOUT ROWID;
-- index payments_reference ON payments
CREATE INDEX payments_reference ON payments(reference) WHERE reference IS NOT NULL;
-- index qr_pending_credit ON qr_pending
CREATE INDEX qr_pending_credit ON qr_pending(credit_seq) WHERE credit_seq IS NOT NULL;
-- table suppliers ON suppliers
CREATE TABLE suppliers (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            search_key TEXT NOT NULL,
            id_number TEXT,
            address TEXT,
            phone TEXT,
            first_seq INTEGER NOT NULL REFERENCES journal(seq),
            last_seq INTEGER NOT NULL REFERENCES journal(seq)
        ) STRICT;
-- index suppliers_first ON suppliers
CREATE INDEX suppliers_first ON suppliers(first_seq);
-- index suppliers_last ON suppliers
CREATE INDEX suppliers_last ON suppliers(last_seq);
-- index suppliers_key ON suppliers
CREATE UNIQUE INDEX suppliers_key ON suppliers(search_key, IFNULL(id_number, ''));
-- table purchases ON purchases
CREATE TABLE purchases (
            seq INTEGER PRIMARY KEY REFERENCES journal(seq),
            id TEXT NOT NULL UNIQUE,
            number INTEGER NOT NULL UNIQUE CHECK (number >= 1),
            at TEXT NOT NULL,
            business_day TEXT NOT NULL,
            supplier_id INTEGER NOT NULL REFERENCES suppliers(id),
            total INTEGER NOT NULL CHECK (total > 0),
            cash INTEGER NOT NULL CHECK (cash >= 0),
            qr INTEGER NOT NULL CHECK (qr >= 0),
            bought_by TEXT NOT NULL
        ) STRICT;
-- index sqlite_autoindex_purchases_1 ON purchases
-- (no sql: an automatic index)
-- index sqlite_autoindex_purchases_2 ON purchases
-- (no sql: an automatic index)
-- index purchases_day ON purchases
CREATE INDEX purchases_day ON purchases(business_day);
-- index purchases_supplier ON purchases
CREATE INDEX purchases_supplier ON purchases(supplier_id, business_day);
-- table purchase_lines ON purchase_lines
CREATE TABLE purchase_lines (
            purchase_seq INTEGER NOT NULL REFERENCES purchases(seq),
            line_no INTEGER NOT NULL,
            product_id INTEGER REFERENCES products(id),
            name TEXT NOT NULL,
            unit TEXT NOT NULL,
            quantity_milli INTEGER NOT NULL CHECK (quantity_milli > 0),
            unit_price INTEGER NOT NULL CHECK (unit_price > 0),
            amount INTEGER NOT NULL CHECK (amount > 0),
            PRIMARY KEY (purchase_seq, line_no)
        ) STRICT, WITHOUT ROWID;
-- index purchase_lines_product ON purchase_lines
CREATE INDEX purchase_lines_product ON purchase_lines(product_id);
-- table purchase_payments ON purchase_payments
CREATE TABLE purchase_payments (
            purchase_seq INTEGER NOT NULL REFERENCES purchases(seq),
            line_no INTEGER NOT NULL,
            method TEXT NOT NULL CHECK (method IN ('cash', 'qr')),
            amount INTEGER NOT NULL CHECK (amount > 0),
            PRIMARY KEY (purchase_seq, line_no)
        ) STRICT, WITHOUT ROWID;
-- table stock ON stock
CREATE TABLE stock (
            product_id INTEGER PRIMARY KEY REFERENCES products(id),
            tracked INTEGER NOT NULL DEFAULT 1 CHECK (tracked IN (0, 1)),
            on_hand_milli INTEGER NOT NULL DEFAULT 0,
            low_milli INTEGER CHECK (low_milli >= 0),
            since_seq INTEGER NOT NULL REFERENCES journal(seq)
        ) STRICT;
-- index stock_since ON stock
CREATE INDEX stock_since ON stock(since_seq);
-- table stock_moves ON stock_moves
CREATE TABLE stock_moves (
            seq INTEGER NOT NULL REFERENCES journal(seq),
            product_id INTEGER NOT NULL REFERENCES products(id),
            kind TEXT NOT NULL CHECK (kind IN ('purchase', 'sale', 'void', 'refund', 'count')),
            quantity_milli INTEGER NOT NULL,
            business_day TEXT NOT NULL,
            PRIMARY KEY (seq, product_id)
        ) STRICT, WITHOUT ROWID;
-- index stock_moves_product ON stock_moves
CREATE INDEX stock_moves_product ON stock_moves(product_id, seq);
-- table stock_counts ON stock_counts
CREATE TABLE stock_counts (
            seq INTEGER NOT NULL REFERENCES journal(seq),
            product_id INTEGER NOT NULL REFERENCES products(id),
            counted_milli INTEGER NOT NULL CHECK (counted_milli >= 0),
            before_milli INTEGER,
            reason TEXT NOT NULL,
            business_day TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (seq, product_id)
        ) STRICT, WITHOUT ROWID;
-- index stock_counts_product ON stock_counts
CREATE INDEX stock_counts_product ON stock_counts(product_id, seq);
