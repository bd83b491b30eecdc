"""The lowest a sale over Flask and waitress can cost here: one route, the bare commit, no layers.

    python -m benchmarks.stall.floor_app DATABASE PORT

A one-route Flask app served by waitress (eight threads, like `market-pos serve`) that reads the
sale's JSON body, makes the bare durable commit of `sale.py` (one row of the sale's size, WAL,
synchronous=FULL) and answers 201 with a JSON body of the size of the stall's answer. The sale
benchmark posts the same body to it, interleaved with the real sale: the difference between the
two is what the stall's own layers cost (checks, journal, projections, receipts queue, auth).
"""
from __future__ import annotations

import sqlite3
import sys
import threading

from flask import Flask, request
from waitress import serve

ANSWER_BYTES = 1100   # about the stall's answer to a 3-line cash sale


def make_app(database: str) -> Flask:
    app = Flask("floor")
    local = threading.local()

    def connection() -> sqlite3.Connection:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = sqlite3.connect(database, isolation_level=None,
                                                check_same_thread=False)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
        return conn

    connection().execute("CREATE TABLE IF NOT EXISTS floor (seq INTEGER PRIMARY KEY,"
                         " payload TEXT)")

    @app.post("/api/sales")
    def sale() -> tuple[dict[str, str], int]:
        body = request.get_json()
        conn = connection()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO floor (payload) VALUES (?)", (str(body).ljust(520),))
        conn.execute("COMMIT")
        return {"answer": "x" * ANSWER_BYTES}, 201

    return app


if __name__ == "__main__":
    serve(make_app(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), threads=8,
          ident="floor")
