"""Attack: one stall pushes an amount near 2**63 and blocks its whole market (issue 15 review).

The server projected any whole number that fits a signed 64-bit column. The market and product
rollups add each sale to a shared running total, so one sale of 2**63 - 1 made the next sale of
any stall in that market overflow `revenue + excluded.revenue` on PostgreSQL, and every later
push in the market answered 500. Amounts past the business bound (MAX_AMOUNT đồng) are kept in
the journal and not projected, so the neighbour's push goes through and the figures stay true.
Runs on SQLite and PostgreSQL.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from sync.numbers import MAX_AMOUNT
from sync.server.db import journal, read_transaction, sales
from tests.server.chain import Chain, sale_payload
from tests.server.conftest import pair_stall, push

HOSTILE = [2**63 - 1, MAX_AMOUNT + 1, -(2**63) + 1]


@pytest.mark.parametrize("amount", HOSTILE)
def test_a_huge_amount_is_kept_but_does_not_block_the_neighbour(client, engine, amount):
    attacker = pair_stall(client, engine, "Sạp A")
    neighbour = pair_stall(client, engine, "Sạp B")
    a, b = Chain(attacker.device_id), Chain(neighbour.device_id)
    for chain in (a, b):  # both stalls have sold once: the rollup rows exist
        chain.sales += 1
        chain.append("sale", sale_payload(chain.sales))
    assert push(client, attacker, a.entries).status_code == 200
    assert push(client, neighbour, b.entries).status_code == 200

    a.sales += 1
    hostile = sale_payload(a.sales)
    hostile["total"] = amount
    hostile["lines"] = [dict(hostile["lines"][0], amount=amount, unit_price=amount)]
    hostile["payments"] = [{"method": "cash", "amount": amount, "tendered": amount, "change": 0}]
    a.append("sale", hostile)
    assert push(client, attacker, a.entries).status_code == 200  # stored, not projected

    b.sales += 1
    b.append("sale", sale_payload(b.sales))
    reply = push(client, neighbour, b.entries)
    assert reply.status_code == 200, reply.get_json()

    with read_transaction(engine) as conn:
        stored = conn.execute(select(journal.c.seq).where(
            journal.c.device_id == attacker.device_id)).scalars().all()
        totals = conn.execute(select(sales.c.device_id, sales.c.total)).all()
    assert len(stored) == 2, "the hostile sale is still in the journal"
    assert all(abs(total) <= MAX_AMOUNT for _, total in totals)
    assert sum(1 for device, _ in totals if device == neighbour.device_id) == 2
