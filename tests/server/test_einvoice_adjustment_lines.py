"""The server takes both shapes of adjustment line (issue 20): a refund's, with the goods given
back (unit, quantity_milli, unit_price), and the older {name, amount} one that journals written
before it still hold. Both are projected, queued with XML that validates against the form's
XSD, and received by the provider simulator; on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from lxml import etree
from sqlalchemy import select

from sync.invoice_xml import schema_path
from sync.server.db import einvoice_queue
from sync.server.einvoice.adapter import HttpAdapter
from tests.harness.provider_sim import Faults, ProviderSimulator
from tests.server.chain import Chain
from tests.server.conftest import push
from tests.server.test_einvoice import invoice, mtt_sales, run_until_settled, states

REFUND_LINE = {"name": "Trả lại Tôm khô", "amount": -450000, "unit": "kg",
               "quantity_milli": 500, "unit_price": 900000}
OLDER_LINE = {"name": "Giảm giá", "amount": -20000}


def adjustment(chain: Chain, original: Any, number: int, lines: list[dict[str, Any]]) -> Any:
    p = original.payload
    total = sum(line["amount"] for line in lines)
    return chain.append("invoice_correction", {
        "type": "adjustment", "sale_id": original.id, "business_day": p["business_day"],
        "original": {"code": p["invoice"]["code"], "form": 2, "symbol": "C26MAB",
                     "number": p["invoice"]["number"], "day": p["business_day"]},
        "invoice": invoice(number), "lines": lines, "total": total, "delta": total,
        "reason": "Tôm bị ẩm", "issued_by": "owner"})


def test_both_shapes_of_adjustment_line_are_queued_and_received(client, engine, stall, caplog):
    chain = Chain(stall.device_id)
    sold = mtt_sales(chain, 2)
    refund = adjustment(chain, sold[0], 3, [REFUND_LINE])
    older = adjustment(chain, sold[1], 4, [OLDER_LINE])
    mixed = adjustment(chain, sold[0], 5, [REFUND_LINE, OLDER_LINE])
    assert push(client, stall, chain.entries).status_code == 200
    assert "stored but not projected" not in caplog.text
    with engine.connect() as conn:
        rows = {r.seq: r for r in conn.execute(select(einvoice_queue))}
    with schema_path(2).open("rb") as f:
        xsd = etree.XMLSchema(etree.parse(f))
    items = {}
    for entry in (refund, older, mixed):
        document = etree.fromstring(rows[entry.seq].xml.encode("utf-8"))
        assert xsd.validate(document), xsd.error_log
        items[entry.seq] = [tuple(i.findtext(tag) for tag in ("DVTinh", "SLuong", "DGia",
                                                              "ThTien"))
                            for i in document.iter("HHDVu")]
    goods, occurrence = ("kg", "-0.5", "900000", "-450000"), ("lần", "-1", "20000", "-20000")
    assert items == {refund.seq: [goods], older.seq: [occurrence],
                     mixed.seq: [goods, occurrence]}
    assert rows[refund.seq].total == -450000 and rows[mixed.seq].total == -470000
    with ProviderSimulator(Faults(), schema_path=schema_path()) as sim:
        run_until_settled(engine, HttpAdapter(sim.url, "sim-key", timeout=5),
                          datetime.now(timezone.utc))
    assert set(states(engine).values()) == {"received"}
