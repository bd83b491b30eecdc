"""Bank notifications pulled from the server (docs/SYNC.md) and applied by pos/bankcheck.py."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from pos import bankcheck, settings

from .errors import SyncRefused, SyncRetryable
from .state import KEY_BANK_CURSOR, SyncState, as_int

if TYPE_CHECKING:
    from .session import SyncSession

logger = logging.getLogger(__name__)
BANK_PAGES_PER_SYNC = 20


def pull_bank(client: "SyncSession", state: SyncState) -> int:
    """Apply the bank notifications the server routed to this stall. Each is applied once: the
    stall remembers every bank transaction id it has seen, so the cursor may lag behind after a
    crash without anything being counted twice. Returns how many were new."""
    http = client.http
    cursor = as_int(settings.read(client.conn, KEY_BANK_CURSOR))
    applied = 0
    for _page in range(BANK_PAGES_PER_SYNC):
        answer = http.get("/api/v1/bank/notifications", params={"after": cursor})
        if answer.status == 404:
            return applied          # a server without bank notifications
        http.raise_for_transient(answer)
        data = answer.data
        if answer.status in (401, 403):
            raise SyncRefused(f"The server refused this stall (HTTP {answer.status});"
                              " pair it again", code="unauthorised")
        if answer.status != 200 or not isinstance(data, dict) \
                or not isinstance(data.get("notifications"), list):
            raise SyncRetryable(f"Bank notifications could not be read (HTTP"
                                f" {answer.status})", code="bad_answer")
        for item in data["notifications"]:
            txn = bank_transaction(item)
            if txn is None:
                logger.warning("bank notification skipped: %r", item)
            else:
                http.check_cancelled()
                outcome = bankcheck.apply(client.conn, state.device_id or "", txn, "server")
                applied += outcome.state != "duplicate"
            if isinstance(item, dict) and isinstance(item.get("id"), int) \
                    and not isinstance(item.get("id"), bool):
                cursor = max(cursor, item["id"])
        with client.writing() as conn:
            settings.write(conn, KEY_BANK_CURSOR, str(cursor))
        if not data.get("more"):
            break
    return applied


def bank_transaction(item: Any) -> bankcheck.BankTransaction | None:
    """A notification from the server as a bank transaction, or None if it is malformed."""
    if not isinstance(item, dict):
        return None
    txn_id, amount = item.get("txn_id"), item.get("amount")
    description, paid_at = item.get("description") or "", item.get("paid_at")
    if not isinstance(txn_id, str) or not txn_id or isinstance(amount, bool) \
            or not isinstance(amount, int) or amount <= 0 or not isinstance(description, str):
        return None
    return bankcheck.BankTransaction(txn_id[:64], amount, description,
                                     paid_at if isinstance(paid_at, str) else None)
