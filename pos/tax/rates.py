"""The dated table of household-business tax rates (pos/data/tax_rates.json), and the estimate.

The law changed on 1 January 2026 and will change again, so rates and thresholds are data, one
period per law, chosen by the date. Rates are integer basis points and tax is rounded half up to
whole đồng: no float anywhere. Where the sources disagree (is VAT above 500 million due on the
whole revenue or on the part above it?) the estimate gives both and says so.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

KCT = "KCT"            # "không chịu thuế": goods not subject to VAT
VAT_KINDS = ("applies", KCT)


@cache
def table() -> dict[str, Any]:
    """The whole rate table, read once."""
    return json.loads(resources.files("pos.data").joinpath("tax_rates.json").read_text("utf-8"))


def group_codes() -> tuple[str, ...]:
    """The tax groups (goods, services, production, other)."""
    return tuple(table()["groups"])


def group_label(code: str, lang: str = "vi") -> str:
    """A group's name in Vietnamese or English."""
    return table()["groups"].get(code, {}).get("en" if lang == "en" else "vi", code)


def period(day: str) -> dict[str, Any]:
    """The period of the table in force on an ISO day (the latest that has started)."""
    chosen = None
    for candidate in table()["periods"]:
        if candidate["from"] <= day and (candidate["to"] is None or day <= candidate["to"]):
            chosen = candidate
    if chosen is None:
        raise LookupError(f"no tax period covers {day}")
    return chosen


def _apply(amount: int, basis_points: int) -> int:
    """amount × rate, rounded half up to whole đồng."""
    return (amount * basis_points + 5000) // 10000


@dataclass(frozen=True)
class Estimate:
    """What the household might owe for a year; `vat_low`/`vat_high` differ while the VAT base is
    an open question."""

    revenue: int
    exempt_up_to: int
    pit: int
    vat_low: int
    vat_high: int
    vat_base_open: bool


def estimate(day: str, revenue_by_group: dict[tuple[str, str], int]) -> Estimate:
    """The tax estimate for a year's revenue, split by (group, VAT kind).

    PIT (revenue method) is the group rate on the revenue above the exempt amount, shared out in
    proportion to each group's revenue; VAT is the group rate on revenue that is subject to VAT,
    either on all of it or only above the exempt amount (the open question), nothing at or below it.
    """
    p = period(day)
    revenue = sum(revenue_by_group.values())
    exempt = p["exempt_up_to"]
    if revenue <= exempt:
        return Estimate(revenue, exempt, 0, 0, 0, p["vat_base"] == "open_question")
    taxable_share = revenue - exempt
    pit = vat_all = vat_above = 0
    for (group, vat_kind), amount in revenue_by_group.items():
        rate = p["rates"].get(group, p["rates"]["other"])
        above = amount * taxable_share // revenue if revenue else 0
        pit_base = above if p["pit_base"] == "above_exempt" else amount
        pit += _apply(pit_base, rate["pit_bp"])
        if vat_kind != KCT:
            vat_all += _apply(amount, rate["vat_bp"])
            vat_above += _apply(above, rate["vat_bp"])
    if p["vat_base"] == "all":
        return Estimate(revenue, exempt, pit, vat_all, vat_all, False)
    return Estimate(revenue, exempt, pit, vat_above, vat_all, True)
