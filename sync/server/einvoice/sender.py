"""Send queued invoices in batches and poll for the tax authority's answers.

Each step is its own short transaction, and every decision is written before the network is
touched: a batch is formed and committed as `sending`, then posted; a crash or a lost answer
leaves it `sending`, and the next run posts the very same batch (same id, same invoices) again,
which the provider treats as a repeat. An invoice is in at most one batch, and leaves the queue
only with an answer. Nothing is sent twice; nothing is dropped.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.engine import Engine

from ..db import einvoice_batches, einvoice_queue, utcnow, write_transaction
from .adapter import Adapter, ProviderError, TransactionUnknown

logger = logging.getLogger(__name__)
BATCH_SIZE = 100
POLL_FIRST = timedelta(seconds=30)
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)


@dataclass
class RunSummary:
    """What one run did."""

    posted: int = 0
    polled: int = 0
    received: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)


def _backoff(attempts: int) -> timedelta:
    return min(BACKOFF_FIRST * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)


def form_batches(engine: Engine, now: datetime, size: int = BATCH_SIZE) -> int:
    """Put queued invoices into new `sending` batches (committed before anything is posted)."""
    formed = 0
    while True:
        with write_transaction(engine) as conn:
            query = (select(einvoice_queue.c.device_id, einvoice_queue.c.seq,
                            einvoice_queue.c.code)
                     .where(einvoice_queue.c.state == "queued")
                     .order_by(einvoice_queue.c.queued_at, einvoice_queue.c.device_id,
                               einvoice_queue.c.seq).limit(size))
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            keys = _one_per_code(conn.execute(query).all())
            if not keys:
                return formed
            batch_id = str(uuid.uuid4())
            conn.execute(einvoice_batches.insert().values(
                batch_id=batch_id, state="sending", invoices=len(keys), attempts=0,
                next_attempt_at=now, created_at=now))
            for device_id, seq in keys:
                conn.execute(update(einvoice_queue)
                             .where(and_(einvoice_queue.c.device_id == device_id,
                                         einvoice_queue.c.seq == seq,
                                         einvoice_queue.c.state == "queued"))
                             .values(state="sending", batch_id=batch_id))
            formed += 1


def _one_per_code(rows: list[Any]) -> list[tuple[str, int]]:
    """The (device, seq) of the first invoice of each code: the provider answers a batch by
    code, so two sellers' invoices with one code go in different batches (the next one)."""
    first: dict[str, tuple[str, int]] = {}
    for row in rows:
        first.setdefault(row.code, (row.device_id, row.seq))
    return list(first.values())


def _due(engine: Engine, state: str, now: datetime) -> list[Any]:
    with write_transaction(engine) as conn:
        return conn.execute(select(einvoice_batches)
                            .where(and_(einvoice_batches.c.state == state,
                                        einvoice_batches.c.next_attempt_at <= now))
                            .order_by(einvoice_batches.c.created_at)).all()


def post_batches(engine: Engine, adapter: Adapter, now: datetime, summary: RunSummary) -> None:
    """Post every `sending` batch that is due (new ones, and those whose answer was lost)."""
    for batch in _due(engine, "sending", now):
        with write_transaction(engine) as conn:
            invoices = [(r.code, r.xml) for r in conn.execute(
                select(einvoice_queue.c.code, einvoice_queue.c.xml)
                .where(einvoice_queue.c.batch_id == batch.batch_id)
                .order_by(einvoice_queue.c.device_id, einvoice_queue.c.seq))]
        try:
            transaction_id = adapter.send_batch(batch.batch_id, invoices)
        except ProviderError as exc:
            summary.errors.append(str(exc))
            logger.warning("batch %s not posted (attempt %d): %s", batch.batch_id,
                           batch.attempts + 1, exc)
            with write_transaction(engine) as conn:
                if exc.retry:
                    conn.execute(update(einvoice_batches)
                                 .where(einvoice_batches.c.batch_id == batch.batch_id)
                                 .values(attempts=batch.attempts + 1, last_error=str(exc)[:500],
                                         next_attempt_at=now + _backoff(batch.attempts + 1)))
                else:   # refused as a whole: every invoice of it is rejected, visibly
                    conn.execute(update(einvoice_queue)
                                 .where(einvoice_queue.c.batch_id == batch.batch_id)
                                 .values(state="rejected", message=str(exc)[:500]))
                    conn.execute(update(einvoice_batches)
                                 .where(einvoice_batches.c.batch_id == batch.batch_id)
                                 .values(state="done", done_at=now, last_error=str(exc)[:500]))
            continue
        with write_transaction(engine) as conn:
            conn.execute(update(einvoice_batches)
                         .where(einvoice_batches.c.batch_id == batch.batch_id)
                         .values(state="sent", transaction_id=transaction_id, sent_at=now,
                                 attempts=0, next_attempt_at=now + POLL_FIRST, last_error=None))
            conn.execute(update(einvoice_queue)
                         .where(and_(einvoice_queue.c.batch_id == batch.batch_id,
                                     einvoice_queue.c.state == "sending"))
                         .values(state="sent", sent_at=now))
        summary.posted += 1


def poll_batches(engine: Engine, adapter: Adapter, now: datetime, summary: RunSummary) -> None:
    """Ask about every posted batch that is due; record each invoice's answer."""
    for batch in _due(engine, "sent", now):
        try:
            result = adapter.poll(batch.transaction_id)
        except TransactionUnknown as exc:
            logger.warning("batch %s: %s; posting it again", batch.batch_id, exc)
            with write_transaction(engine) as conn:
                conn.execute(update(einvoice_batches)
                             .where(einvoice_batches.c.batch_id == batch.batch_id)
                             .values(state="sending", transaction_id=None, next_attempt_at=now,
                                     last_error=str(exc)[:500]))
                conn.execute(update(einvoice_queue)
                             .where(and_(einvoice_queue.c.batch_id == batch.batch_id,
                                         einvoice_queue.c.state == "sent"))
                             .values(state="sending"))
            summary.errors.append(str(exc))
            continue
        except ProviderError as exc:
            summary.errors.append(str(exc))
            with write_transaction(engine) as conn:
                conn.execute(update(einvoice_batches)
                             .where(einvoice_batches.c.batch_id == batch.batch_id)
                             .values(attempts=batch.attempts + 1, last_error=str(exc)[:500],
                                     next_attempt_at=now + _backoff(batch.attempts + 1)))
            continue
        summary.polled += 1
        with write_transaction(engine) as conn:
            in_batch = and_(einvoice_queue.c.batch_id == batch.batch_id,
                            einvoice_queue.c.state == "sent")
            for item in result.results:
                if item.outcome == "pending":
                    continue
                values: dict[str, Any] = {"state": item.outcome, "provider_status": item.status,
                                          "message": item.message or None}
                if item.outcome == "received":
                    values["received_at"] = now
                done = conn.execute(update(einvoice_queue)
                                    .where(and_(in_batch, einvoice_queue.c.code == item.code))
                                    .values(**values)).rowcount
                if item.outcome == "received":
                    summary.received += done
                else:
                    summary.rejected += done
            waiting = conn.execute(select(einvoice_queue.c.seq).where(in_batch).limit(1)).first()
            conn.execute(update(einvoice_batches)
                         .where(einvoice_batches.c.batch_id == batch.batch_id)
                         .values(**({"state": "done", "done_at": now} if waiting is None else
                                    {"attempts": batch.attempts + 1,
                                     "next_attempt_at": now + _backoff(batch.attempts + 1)})))


def run_once(engine: Engine, adapter: Adapter, now: datetime | None = None,
             batch_size: int = BATCH_SIZE) -> RunSummary:
    """One pass: form batches, post those due, poll those due."""
    now = now or utcnow()
    summary = RunSummary()
    form_batches(engine, now, batch_size)
    post_batches(engine, adapter, now, summary)
    poll_batches(engine, adapter, now, summary)
    return summary
