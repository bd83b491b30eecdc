"""Which of the stall's invoices have not reached the tax authority yet.

Two reasons an invoice is still out: its journal entry has not reached the provincial server
(seq > acked_seq, known on the stall), or the server has not yet heard status 8 ("received by the
tax authority") from the e-invoice provider. The second comes from the server's
`GET /api/v1/einvoices/pending` (sync/server/einvoice), asked after a sync; the answer is kept as a
local setting, never journalled: it is a fact of the province, not of the stall.

An HTTP client of the server like the rest of `pos/sync/` (it was pos/tax/status.py): it reads the
tax settings (`pos.tax.settings`), and nothing in `pos/tax/` imports the sync package.
"""
from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass
from typing import Any

from pos import settings as stall_settings
from pos.db import write_transaction
from pos.tax import settings as tax_settings
from sync.protocol import utc_timestamp

from .errors import SyncError
from .http import ServerHttp
from .state import KEY_TOKEN, read_state

logger = logging.getLogger(__name__)
REMOTE_KEY = "tax.remote_pending"
TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Outstanding:
    """Invoices not received by the tax authority: not yet at the province, or at the province
    but not yet acknowledged (as of `checked_at`, when the province was last asked)."""

    not_sent: list[dict[str, Any]]
    at_province: list[str]
    checked_at: str | None

    @property
    def count(self) -> int:
        return len(self.not_sent) + len(self.at_province)

    def oldest_day(self) -> str | None:
        days = [row["business_day"] for row in self.not_sent]
        return min(days) if days else None


def outstanding(conn: sqlite3.Connection) -> Outstanding:
    """The invoices still out, from the stall's own knowledge."""
    acked = read_state(conn).acked_seq
    not_sent = [dict(r) for r in conn.execute(
        "SELECT code, business_day, total, seq FROM tax_invoices WHERE seq > ? ORDER BY seq",
        (acked,))]
    remote: dict[str, Any] = {}
    raw = stall_settings.read(conn, REMOTE_KEY)
    if raw:
        try:
            remote = json.loads(raw)
        except ValueError:
            remote = {}
    sent_codes = {row["code"] for row in not_sent}
    at_province = [code for code in remote.get("codes", []) if code not in sent_codes]
    return Outstanding(not_sent, at_province, remote.get("checked_at"))


def refresh(conn: sqlite3.Connection, http: ServerHttp | None = None) -> bool:
    """Ask the provincial server which of this stall's invoices still wait for the tax authority;
    False (and nothing changed) when it cannot be asked. Never raises for network trouble.
    `http` is the sync's own client when called after a sync; else one is made for this call."""
    state = read_state(conn)
    token = stall_settings.read(conn, KEY_TOKEN)
    if not state.server_url or not token:
        return False
    own = http is None
    client = ServerHttp(state.server_url, token, timeout=TIMEOUT_S) if http is None else http
    try:
        answer = client.get("/api/v1/einvoices/pending", base_url=state.server_url, token=token,
                            timeout=TIMEOUT_S)
    except SyncError as exc:
        logger.info("invoice status not refreshed: %s", exc.message)
        return False
    finally:
        if own:
            client.close()
    data = answer.data if answer.status == 200 else None
    if not isinstance(data, dict) or not isinstance(data.get("codes"), list):
        return False
    codes = [c for c in data["codes"] if isinstance(c, str)][:1000]
    with write_transaction(conn):
        stall_settings.write(conn, REMOTE_KEY, json.dumps(
            {"codes": codes, "checked_at": utc_timestamp()}, ensure_ascii=False))
    return True


def after_sync(conn: sqlite3.Connection, http: ServerHttp) -> None:
    """The sync client's one call into tax, after each sync: an MTT stall asks which of its
    e-invoices the tax office holds, over the sync's own connection."""
    if tax_settings.load(conn).mode == "mtt":
        refresh(conn, http)
