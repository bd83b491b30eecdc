"""The national roll-up: each provincial server's dashboard rollups copied into one national
PostgreSQL database by PostgreSQL's own logical replication (docs/SCALE.md, "The national
roll-up").

    market-server national publish --code 10            # on each provincial database
    market-server national subscribe --national URL --publisher CONNINFO   # on the national one
    market-server national status [--database URL] [--national URL]

**Province side** (`publish`). The rollup tables (market_periods, product_periods,
purchase_periods; stall_periods with `--with-stall-periods`) and the names of places (provinces,
communes, markets) gain a column `province_code` whose DEFAULT is the province's code (a
constant default: PostgreSQL adds it without rewriting the table, and every row the server
writes gets it without a line of the server changing), a unique index on (province_code, the
table's primary key) that becomes the table's REPLICA IDENTITY, and the tables join one
publication, `market_national`, publishing INSERT, UPDATE and DELETE but never TRUNCATE (a
province's TRUNCATE must not empty the other provinces' rows). Nothing about a person is
published: no stall names, no vendors, no journal; stall-level figures only on request.

**National side** (`subscribe`). For each published table a table of the same name, the
publisher's columns (nullable but for the key, so that a province still on an older schema
leaves a newer column NULL), keyed by (province_code, the province's key) and partitioned by
LIST (province_code): one partition per province, in the schema `national_provinces`. Then one
subscription per province, `national_<code>`, which first copies the province's rows and then
streams every committed change, in commit order, one provincial transaction at a time. The
views `national_periods` (the country per day, week and month), `national_province_periods`,
`national_product_periods` and `national_markets` sum and name the provinces.

Why keys carry the province: a market, commune or province id is a provincial server's own
counter, so market 1 of Lào Cai and market 1 of Yên Bái would collide in one table; with
`province_code` first in every national key, 34 provinces never do, and the partition of a
province can be emptied and copied again (`subscribe --resync`) without touching the others.

Idempotent: run either command again after an upgrade (a rollup table or column added on the
province) and it brings the publication and the national tables up to date (new columns are
added on the national side, the subscription is refreshed). Changing a province's code is not
done in place: it is a new province for the national database.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable

import click

from .cli_options import database_option

PUBLICATION = "market_national"
CODE_COLUMN = "province_code"
PARTITION_SCHEMA = "national_provinces"
PLACE_TABLES = ("provinces", "communes", "markets")
ROLLUP_TABLES = ("market_periods", "product_periods", "purchase_periods")
STALL_TABLE = "stall_periods"
# Columns that say where and when, not how much: never summed in the views.
KEY_COLUMNS = {CODE_COLUMN, "province_id", "commune_id", "market_id", "device_id", "kind",
               "period", "name", "unit", "category", "ocop_stars", "id"}
CODE_PATTERN = re.compile(r"^[A-Za-z0-9]{2,8}$")
NATIONAL_ENV = "MARKET_NATIONAL_DATABASE"


class NationalError(Exception):
    """Something the operator must fix; the message says what."""


# --- connections ---------------------------------------------------------------------------------

def libpq(url: str) -> str:
    """A libpq connection string from a server URL (postgresql+psycopg://… as market-server
    takes it), a plain postgresql:// URI, or a key=value conninfo (returned as it is)."""
    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix):]
    if url.startswith("sqlite"):
        raise NationalError("the national roll-up needs PostgreSQL (logical replication);"
                            f" this database is SQLite: {url}")
    return url


def connect(url: str) -> Any:
    """An autocommit psycopg connection (CREATE SUBSCRIPTION and CREATE INDEX CONCURRENTLY
    cannot run inside a transaction)."""
    import psycopg
    try:
        return psycopg.connect(libpq(url), autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise NationalError(f"cannot connect: {str(exc).strip()}") from exc


def _ident(*parts: str) -> Any:
    from psycopg import sql
    return sql.Identifier(*parts)


def _literal(value: Any) -> Any:
    from psycopg import sql
    return sql.Literal(value)


def _sql(template: str, *args: Any, **kwargs: Any) -> Any:
    from psycopg import sql
    return sql.SQL(template).format(*args, **kwargs)


def _join(items: Iterable[Any], separator: str = ", ") -> Any:
    from psycopg import sql
    return sql.SQL(separator).join(list(items))


def normal_code(code: str) -> str:
    if not CODE_PATTERN.match(code or ""):
        raise NationalError(f"a province code is 2 to 8 letters or digits (the official two-digit"
                            f" code, e.g. 10 for Lào Cai), not {code!r}")
    return code.upper()


def subscription_name(code: str) -> str:
    return f"national_{code.lower()}"


def partition_name(table: str, code: str) -> str:
    return f"{table}_{code.lower()}"


def _index_name(table: str) -> str:
    return f"national_{table}_key"


# --- the province ----------------------------------------------------------------------------

def _primary_key(conn: Any, schema: str, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT a.attname FROM pg_index i"
        " JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
        " JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true"
        " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum"
        " WHERE n.nspname = %s AND c.relname = %s AND i.indisprimary ORDER BY k.ord",
        (schema, table)).fetchall()
    return [row[0] for row in rows]


def _code_default(conn: Any, schema: str, table: str) -> str | None | bool:
    """The province code a table's rows carry (its column's DEFAULT), None when the table has
    no such column, False when the table does not exist."""
    if conn.execute("SELECT to_regclass(%s)", (f'"{schema}"."{table}"',)).fetchone()[0] is None:
        return False
    row = conn.execute(
        "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a"
        " JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
        " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
        " WHERE n.nspname = %s AND c.relname = %s AND a.attname = %s AND NOT a.attisdropped",
        (schema, table, CODE_COLUMN)).fetchone()
    if row is None:
        return None
    match = re.match(r"^'([A-Za-z0-9]+)'", row[0] or "")
    return match.group(1) if match else ""


def _server_schema(conn: Any) -> str:
    """The schema the provincial server's tables live in (the first of its search_path that
    holds `markets`)."""
    row = conn.execute("SELECT n.nspname FROM pg_class c JOIN pg_namespace n"
                       " ON n.oid = c.relnamespace WHERE c.oid = to_regclass('markets')"
                       ).fetchone()
    if row is None:
        raise NationalError("no provincial server's tables here: run `market-server init`"
                            " on this database first")
    return str(row[0])


def _index_state(conn: Any, schema: str, name: str) -> bool | None:
    """True: the index exists and is valid; False: a failed CONCURRENTLY build left it invalid;
    None: absent."""
    row = conn.execute("SELECT i.indisvalid FROM pg_index i JOIN pg_class c"
                       " ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
                       " WHERE n.nspname = %s AND c.relname = %s", (schema, name)).fetchone()
    return None if row is None else bool(row[0])


def published_tables(with_stall_periods: bool) -> tuple[str, ...]:
    return PLACE_TABLES + ROLLUP_TABLES + ((STALL_TABLE,) if with_stall_periods else ())


def publish(url: str, code: str, *, with_stall_periods: bool = False,
            grant: str | None = None, lock_timeout: str = "10s") -> dict[str, Any]:
    """Make a provincial database publish its rollups under `code`; idempotent."""
    code = normal_code(code)
    tables = published_tables(with_stall_periods)
    with connect(url) as conn:
        schema = _server_schema(conn)
        for table in tables:
            found = _code_default(conn, schema, table)
            if found is False:
                raise NationalError(f"table {table} is missing: upgrade this server first"
                                    " (`market-server init`)")
            if found not in (None, code):
                raise NationalError(
                    f"this database already publishes as province {found!r} ({table});"
                    " a province's code is not changed in place: see docs/SCALE.md")
        conn.execute(_sql("SET lock_timeout = {}", _literal(lock_timeout)))
        for table in tables:
            key = _primary_key(conn, schema, table)
            if not key:
                raise NationalError(f"table {table} has no primary key")
            if _code_default(conn, schema, table) is None:
                # A constant default: a catalogue change only, no rewrite, existing rows read it.
                conn.execute(_sql("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} varchar(8)"
                                  " NOT NULL DEFAULT {}", _ident(schema, table),
                                  _ident(CODE_COLUMN), _literal(code)))
            index = _index_name(table)
            if _index_state(conn, schema, index) is False:
                conn.execute(_sql("DROP INDEX CONCURRENTLY {}", _ident(schema, index)))
            if _index_state(conn, schema, index) is None:
                # CONCURRENTLY: pushes keep writing the table while the index is built.
                conn.execute(_sql("CREATE UNIQUE INDEX CONCURRENTLY {} ON {} ({})",
                                  _ident(index), _ident(schema, table),
                                  _join(_ident(c) for c in [CODE_COLUMN, *key])))
            conn.execute(_sql("ALTER TABLE {} REPLICA IDENTITY USING INDEX {}",
                              _ident(schema, table), _ident(index)))
            if grant:
                conn.execute(_sql("GRANT SELECT ON {} TO {}", _ident(schema, table),
                                  _ident(grant)))
        names = _join(_ident(schema, t) for t in tables)
        exists = conn.execute("SELECT 1 FROM pg_publication WHERE pubname = %s",
                              (PUBLICATION,)).fetchone()
        if exists:
            conn.execute(_sql("ALTER PUBLICATION {} SET TABLE {}", _ident(PUBLICATION), names))
            conn.execute(_sql("ALTER PUBLICATION {} SET (publish = 'insert, update, delete')",
                              _ident(PUBLICATION)))
        else:
            conn.execute(_sql("CREATE PUBLICATION {} FOR TABLE {}"
                              " WITH (publish = 'insert, update, delete')",
                              _ident(PUBLICATION), names))
        wal_level = conn.execute("SHOW wal_level").fetchone()[0]
    warnings = []
    if wal_level != "logical":
        warnings.append(f"wal_level is {wal_level}: nothing is sent until it is logical"
                        " (ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL)")
    return {"code": code, "publication": PUBLICATION, "schema": schema, "tables": list(tables),
            "wal_level": wal_level, "warnings": warnings}


# --- the national database ---------------------------------------------------------------------

@dataclass
class PublishedTable:
    schema: str
    name: str
    columns: list[tuple[str, str]]   # (name, type) in the publisher's order
    key: list[str]                   # the replica identity: province_code first


def read_publisher(conninfo: str) -> tuple[str, list[PublishedTable]]:
    """The code and the published tables (columns, key) of a provincial database."""
    with connect(conninfo) as conn:
        rows = conn.execute("SELECT schemaname, tablename FROM pg_publication_tables"
                            " WHERE pubname = %s ORDER BY tablename", (PUBLICATION,)).fetchall()
        if not rows:
            raise NationalError("the publisher has no publication market_national: run"
                                " `market-server national publish --code …` on it first")
        codes = {_code_default(conn, schema, name) for schema, name in rows}
        if len(codes) != 1 or not isinstance(next(iter(codes)), str) or not next(iter(codes)):
            raise NationalError(f"the published tables disagree on the province code: {codes}")
        tables = []
        for schema, name in rows:
            columns = conn.execute(
                "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a"
                " JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n"
                " ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s"
                " AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                (schema, name)).fetchall()
            key = conn.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true"
                " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum"
                " WHERE n.nspname = %s AND c.relname = %s AND i.indisreplident"
                " ORDER BY k.ord", (schema, name)).fetchall()
            if not key or key[0][0] != CODE_COLUMN:
                raise NationalError(f"{name}: its replica identity is not ({CODE_COLUMN}, …):"
                                    " run `market-server national publish` again")
            tables.append(PublishedTable(schema, name, [(c, t) for c, t in columns],
                                         [k for (k,) in key]))
    return str(next(iter(codes))), tables


def _national_tables(conn: Any, code: str, tables: list[PublishedTable]) -> None:
    """Create or widen the national tables and the province's partitions."""
    conn.execute(_sql("CREATE SCHEMA IF NOT EXISTS {}", _ident(PARTITION_SCHEMA)))
    for table in tables:
        conn.execute(_sql("CREATE SCHEMA IF NOT EXISTS {}", _ident(table.schema)))
        definitions = [_sql("{} {}" + (" NOT NULL" if name in table.key else ""),
                            _ident(name), _sql(kind)) for name, kind in table.columns]
        conn.execute(_sql("CREATE TABLE IF NOT EXISTS {} ({}, PRIMARY KEY ({}))"
                          " PARTITION BY LIST ({})", _ident(table.schema, table.name),
                          _join(definitions), _join(_ident(k) for k in table.key),
                          _ident(CODE_COLUMN)))
        for name, kind in table.columns:   # a column the province gained since
            conn.execute(_sql("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}",
                              _ident(table.schema, table.name), _ident(name), _sql(kind)))
        conn.execute(_sql("CREATE TABLE IF NOT EXISTS {} PARTITION OF {} FOR VALUES IN ({})",
                          _ident(PARTITION_SCHEMA, partition_name(table.name, code)),
                          _ident(table.schema, table.name), _literal(code)))


def _columns(conn: Any, table: str) -> list[str]:
    return [row[0] for row in conn.execute(
        "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = to_regclass(%s)"
        " AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum", (table,)).fetchall()]


def _sums(columns: list[str]) -> list[Any]:
    return [_sql("sum({})::bigint AS {}", _ident(c), _ident(c))
            for c in columns if c not in KEY_COLUMNS]


def create_views(conn: Any) -> list[str]:
    """The national views, made again from the tables' current columns."""
    made = []
    with conn.transaction():
        for view in ("national_periods", "national_province_periods",
                     "national_product_periods", "national_markets"):
            conn.execute(_sql("DROP VIEW IF EXISTS {}", _ident(view)))
        market = _columns(conn, "market_periods")
        if market:
            figures = _sums(market)
            conn.execute(_sql(
                "CREATE VIEW national_periods AS SELECT kind, period,"
                " count(DISTINCT province_code) AS provinces, count(*) AS markets, {}"
                " FROM market_periods GROUP BY kind, period", _join(figures)))
            conn.execute(_sql(
                "CREATE VIEW national_province_periods AS SELECT m.province_code,"
                " m.province_id, p.name AS province, m.kind, m.period, count(*) AS markets, {}"
                " FROM market_periods m LEFT JOIN provinces p"
                " ON p.province_code = m.province_code AND p.id = m.province_id"
                " GROUP BY m.province_code, m.province_id, p.name, m.kind, m.period",
                _join(_sql("sum(m.{})::bigint AS {}", _ident(c), _ident(c))
                      for c in market if c not in KEY_COLUMNS)))
            made += ["national_periods", "national_province_periods"]
        products = _columns(conn, "product_periods")
        if products:
            conn.execute(_sql(
                "CREATE VIEW national_product_periods AS SELECT kind, period, name, unit,"
                " count(DISTINCT province_code) AS provinces, count(*) AS markets, {}"
                " FROM product_periods GROUP BY kind, period, name, unit",
                _join(_sums(products))))
            made.append("national_product_periods")
        if all(_columns(conn, t) for t in PLACE_TABLES):
            conn.execute(_sql(
                "CREATE VIEW national_markets AS SELECT m.province_code, p.id AS province_id,"
                " p.name AS province, c.id AS commune_id, c.name AS commune,"
                " m.id AS market_id, m.name AS market FROM markets m"
                " JOIN communes c ON c.province_code = m.province_code AND c.id = m.commune_id"
                " JOIN provinces p ON p.province_code = c.province_code"
                " AND p.id = c.province_id"))
            made.append("national_markets")
    return made


def _drop_subscription(conn: Any, name: str) -> None:
    """Drop a subscription; when its publisher is gone (or its slot was lost), without
    touching the publisher (then drop the slot there by hand, if the publisher lives)."""
    import psycopg
    try:
        conn.execute(_sql("DROP SUBSCRIPTION IF EXISTS {}", _ident(name)))
    except psycopg.Error:
        conn.execute(_sql("ALTER SUBSCRIPTION {} DISABLE", _ident(name)))
        conn.execute(_sql("ALTER SUBSCRIPTION {} SET (slot_name = NONE)", _ident(name)))
        conn.execute(_sql("DROP SUBSCRIPTION {}", _ident(name)))


def subscribe(national_url: str, publisher: str, *, resync: bool = False) -> dict[str, Any]:
    """Subscribe the national database to one province's publication; idempotent. With
    `resync`, the province's national rows are emptied and copied again (its slot was lost:
    a provincial failover, or a link down past max_slot_wal_keep_size)."""
    code, tables = read_publisher(publisher)
    name = subscription_name(code)
    with connect(national_url) as conn:
        _national_tables(conn, code, tables)
        exists = conn.execute("SELECT 1 FROM pg_subscription WHERE subname = %s",
                              (name,)).fetchone() is not None
        if exists and resync:
            _drop_subscription(conn, name)
            exists = False
        if exists:
            conn.execute(_sql("ALTER SUBSCRIPTION {} CONNECTION {}", _ident(name),
                              _literal(libpq(publisher))))
            conn.execute(_sql("ALTER SUBSCRIPTION {} ENABLE", _ident(name)))
            # Tables published since are copied; the others keep streaming.
            conn.execute(_sql("ALTER SUBSCRIPTION {} REFRESH PUBLICATION WITH"
                              " (copy_data = true)", _ident(name)))
            action = "refreshed"
        else:
            # The subscription copies the province whole: start from empty partitions.
            conn.execute(_sql("TRUNCATE {}", _join(
                _ident(PARTITION_SCHEMA, partition_name(t.name, code)) for t in tables)))
            import psycopg
            try:
                conn.execute(_sql("CREATE SUBSCRIPTION {} CONNECTION {} PUBLICATION {}"
                                  " WITH (copy_data = true)", _ident(name),
                                  _literal(libpq(publisher)), _ident(PUBLICATION)))
            except psycopg.Error as exc:
                message = str(exc).strip()
                if "already exists" in message:
                    # A slot left on the province by an earlier national database.
                    message += (": a national database subscribed to this province before; if"
                                " it is gone, drop its slot on the province (SELECT"
                                f" pg_drop_replication_slot('{name}')) and subscribe again")
                raise NationalError(message) from exc
            action = "resynced" if resync else "created"
        views = create_views(conn)
    return {"code": code, "subscription": name, "action": action,
            "tables": [t.name for t in tables], "views": views}


# --- status --------------------------------------------------------------------------------

def province_status(url: str) -> dict[str, Any]:
    """What a provincial database publishes and how far each subscriber has read."""
    with connect(url) as conn:
        wal_level = conn.execute("SHOW wal_level").fetchone()[0]
        keep = conn.execute("SHOW max_slot_wal_keep_size").fetchone()[0]
        tables = [row[0] for row in conn.execute(
            "SELECT tablename FROM pg_publication_tables WHERE pubname = %s ORDER BY 1",
            (PUBLICATION,)).fetchall()]
        code = None
        if tables:
            code = _code_default(conn, _server_schema(conn), tables[0]) or None
        slots = [dict(zip(("slot", "active", "wal_status", "lag_bytes", "retained_bytes"), row))
                 for row in conn.execute(
                     "SELECT slot_name, active, wal_status,"
                     " pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint,"
                     " pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint"
                     " FROM pg_replication_slots WHERE database = current_database()"
                     " AND slot_type = 'logical' ORDER BY slot_name").fetchall()]
    problems = []
    if not tables:
        problems.append("not published (run `market-server national publish`)")
    if wal_level != "logical":
        problems.append(f"wal_level is {wal_level}, not logical")
    for slot in slots:
        if slot["wal_status"] == "lost":
            problems.append(f"slot {slot['slot']} is lost: resubscribe with --resync")
        elif not slot["active"]:
            problems.append(f"slot {slot['slot']} has no subscriber connected")
    return {"role": "province", "code": code, "publication": PUBLICATION if tables else None,
            "tables": tables, "wal_level": wal_level, "max_slot_wal_keep_size": keep,
            "slots": slots, "problems": problems}


def national_status(url: str) -> dict[str, Any]:
    """Each province's subscription: running or not, how fresh, its tables' copy state, and
    its rows in the national tables."""
    with connect(url) as conn:
        subscriptions = []
        for name, enabled, worker, received, last_msg, latest_end, states, errors in \
                conn.execute(
                    "SELECT s.subname, s.subenabled,"
                    " (SELECT max(pid) FROM pg_stat_subscription w"
                    "   WHERE w.subid = s.oid AND w.relid IS NULL),"
                    " (SELECT max(received_lsn)::text FROM pg_stat_subscription w"
                    "   WHERE w.subid = s.oid AND w.relid IS NULL),"
                    " (SELECT max(last_msg_receipt_time) FROM pg_stat_subscription w"
                    "   WHERE w.subid = s.oid AND w.relid IS NULL),"
                    " (SELECT max(latest_end_time) FROM pg_stat_subscription w"
                    "   WHERE w.subid = s.oid AND w.relid IS NULL),"
                    " (SELECT string_agg(r.srsubstate::text, '' ORDER BY r.srrelid)"
                    "   FROM pg_subscription_rel r WHERE r.srsubid = s.oid),"
                    " (SELECT apply_error_count + sync_error_count"
                    "   FROM pg_stat_subscription_stats t WHERE t.subid = s.oid)"
                    " FROM pg_subscription s WHERE s.subname LIKE 'national\\_%%'"
                    " ORDER BY s.subname").fetchall():
            subscriptions.append({
                "subscription": name, "code": name[len("national_"):].upper(),
                "enabled": enabled, "running": worker is not None, "received_lsn": received,
                "last_message_at": last_msg.isoformat() if last_msg else None,
                "seconds_since_message": None, "tables": len(states or ""),
                "tables_ready": (states or "").count("r"), "errors": int(errors or 0)})
            if last_msg is not None:
                age = conn.execute("SELECT extract(epoch FROM now() - %s)", (last_msg,)
                                   ).fetchone()[0]
                subscriptions[-1]["seconds_since_message"] = round(float(age), 1)
        rows: dict[str, int] = {}
        if conn.execute("SELECT to_regclass('market_periods')").fetchone()[0] is not None:
            rows = {code: count for code, count in conn.execute(
                "SELECT province_code, count(*) FROM market_periods GROUP BY 1 ORDER BY 1")}
    problems = []
    for sub in subscriptions:
        if not sub["enabled"]:
            problems.append(f"{sub['subscription']} is disabled")
        elif not sub["running"]:
            problems.append(f"{sub['subscription']} has no worker (publisher unreachable?)")
        if sub["tables_ready"] < sub["tables"]:
            problems.append(f"{sub['subscription']}: {sub['tables'] - sub['tables_ready']}"
                            " table(s) still copying")
    if not subscriptions:
        problems.append("no province subscribed (run `market-server national subscribe`)")
    for sub in subscriptions:
        sub["market_period_rows"] = rows.get(sub["code"], 0)
    return {"role": "national", "subscriptions": subscriptions, "problems": problems}


# --- market-server national … ------------------------------------------------------------------

@click.group("national")
def national() -> None:
    """The national roll-up by logical replication (docs/SCALE.md, "The national roll-up")."""


@national.command("publish")
@database_option
@click.option("--code", required=True, help="The province's code (its official two digits).")
@click.option("--with-stall-periods", is_flag=True,
              help="Publish each stall's figures too (only markets' by default).")
@click.option("--grant", default=None, metavar="ROLE",
              help="GRANT SELECT on the published tables to the national subscriber's role"
                   " (a role WITH REPLICATION LOGIN).")
def publish_command(database: str | None, code: str, with_stall_periods: bool,
                    grant: str | None) -> None:
    """On a provincial database: publish its rollups to the national database."""
    from .db import default_database_url
    try:
        result = publish(database or default_database_url(), code,
                         with_stall_periods=with_stall_periods, grant=grant)
    except NationalError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"Province {result['code']}: publication {result['publication']} of"
               f" {', '.join(result['tables'])}.")
    for warning in result["warnings"]:
        click.echo(f"Warning: {warning}", err=True)


@national.command("subscribe")
@click.option("--national", "national_url", envvar=NATIONAL_ENV, required=True, metavar="URL",
              help=f"The national database (or ${NATIONAL_ENV}).")
@click.option("--publisher", required=True, metavar="CONNINFO",
              help="How the national server reaches the provincial database: a libpq"
                   " string or URL (host=… port=… dbname=… user=…), kept in the subscription.")
@click.option("--resync", is_flag=True,
              help="Empty the province's national rows and copy them again (a lost slot).")
def subscribe_command(national_url: str, publisher: str, resync: bool) -> None:
    """On the national database: subscribe to one province (once per province)."""
    try:
        result = subscribe(national_url, publisher, resync=resync)
    except NationalError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"Province {result['code']}: subscription {result['subscription']}"
               f" {result['action']} ({', '.join(result['tables'])}); views:"
               f" {', '.join(result['views'])}.")


@national.command("status")
@click.option("--database", "database", default=None, metavar="URL",
              help="A provincial database: its publication and replication slots.")
@click.option("--national", "national_url", envvar=NATIONAL_ENV, default=None, metavar="URL",
              help=f"The national database: its subscriptions (or ${NATIONAL_ENV}).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def status_command(database: str | None, national_url: str | None, as_json: bool) -> None:
    """Where the roll-up stands; exit status 1 when something needs the operator."""
    if not database and not national_url:
        raise click.UsageError("give --database (a province), --national, or both")
    try:
        results = ([province_status(database)] if database else []) + \
            ([national_status(national_url)] if national_url else [])
    except NationalError as exc:
        raise click.ClickException(str(exc))
    if as_json:
        click.echo(json.dumps(results if len(results) > 1 else results[0], indent=2,
                              default=str))
    else:
        for result in results:
            click.echo(_describe(result))
    if any(result["problems"] for result in results):
        raise SystemExit(1)


def _describe(result: dict[str, Any]) -> str:
    if result["role"] == "province":
        lines = [f"Province {result['code'] or '(no code)'}: wal_level {result['wal_level']},"
                 f" publication {result['publication'] or '(none)'}"
                 f" of {len(result['tables'])} table(s), max_slot_wal_keep_size"
                 f" {result['max_slot_wal_keep_size']}"]
        lines += [f"  slot {s['slot']}: {'active' if s['active'] else 'INACTIVE'},"
                  f" {s['wal_status']}, {s['lag_bytes']} bytes behind,"
                  f" {s['retained_bytes']} bytes of WAL kept" for s in result["slots"]]
    else:
        lines = ["National:"]
        lines += [f"  {s['subscription']}: {'running' if s['running'] else 'NOT RUNNING'},"
                  f" tables {s['tables_ready']}/{s['tables']} ready, last message"
                  f" {s['seconds_since_message']} s ago, {s['errors']} error(s),"
                  f" {s['market_period_rows']} market rows" for s in result["subscriptions"]]
    lines += [f"  problem: {p}" for p in result["problems"]]
    return "\n".join(lines)
