"""The stall's benchmark set: every figure of issue 8 with its in-run baseline and its target.

`run` measures everything once in this process (and the servers it starts, which inherit its CPU
affinity) and returns plain data: the runner calls it unpinned and, in a child process under
`taskset -c 0`, pinned to one core.
"""
from __future__ import annotations

import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from . import disk, paperwork, process, sale, sellpage, stalls
from .timing import Figure, Stat, machine, single


@dataclass(frozen=True)
class Sizes:
    """How much to measure: the full run fits in about ten minutes with the pinned one."""

    journals: tuple[int, ...] = (0, 100_000, 1_000_000)
    sale_samples: int = 300
    sale_rounds: int = sale.ROUNDS     # rounds of the sale's samples, sale.PAUSE_S apart
    receipt_samples: int = 100
    day_sales: int = 500
    close_samples: int = 15
    products: int = 500
    page_samples: int = 100
    start_samples: int = 7
    memory_sales: int = 10_000


PARTS = ("sale", "paper", "page", "process", "disk")
# How the figures are taken; a before/after across two methods says so (report.comparison).
# What changed at each method is in report.METHOD_CHANGES.
METHOD = 3
# Quick sizes; memory_sales also gives the bytes per sale, where each of the ten b-trees' first
# page (4 KB) is shared by all sales: over 200 sales that alone was 200 bytes a sale.
QUICK = Sizes(journals=(0, 5_000), sale_samples=30, sale_rounds=1, receipt_samples=10,
              day_sales=50, close_samples=3, page_samples=10, start_samples=2,
              memory_sales=2_000)


def journal_stall(work: Path, own: Path, entries: int) -> dict[str, Any]:
    """A stall holding `entries` past sales; the big ones are copied once into `work` and shared
    by the unpinned and the pinned run, the empty one is this run's own."""
    if entries == 0:
        return stalls.make_stall(own / "journal-0")
    folder = work / f"journal-{entries}"
    if not folder.exists():
        source = stalls.cached_journal(entries)
        folder.mkdir(parents=True)
        print(f"  copying the {entries:,}-sale journal ...", file=sys.stderr, flush=True)
        made = stalls.make_stall(folder, database=source)
        # The copy leaves up to 2 GB of dirty pages that the kernel writes back for a while
        # after: flushed now, so that they do not slow the fsyncs of the sales measured next.
        os.sync()
        return made
    return stalls.make_stall(folder)


def _by_round(rounds: list[dict[str, Stat]], top: str, bottom: str) -> str:
    """The ratio of each round of a sale figure (sale.ROUNDS), for the note ('' for one)."""
    if len(rounds) < 2:
        return ""
    ratios = ", ".join(f"{r[top].median / r[bottom].median:.2f}" for r in rounds)
    return (f" Its {len(rounds)} rounds, {sale.PAUSE_S:g} s apart, one by one (p50 ÷ p50):"
            f" {ratios}.")


def _checks(**named: bool) -> dict[str, bool]:
    return named


def _stat_figure(key: str, title: str, value: Stat, base_title: str, base: Stat,
                 target: str, checks: dict[str, bool], note: str = "",
                 ratio_label: str = "baseline p50 / p50") -> Figure:
    figure = Figure(key, title, "ms", value.to_dict(), base_title, base.to_dict(),
                    base.median / value.median, ratio_label, target, all(checks.values()), note)
    figure.extra["checks"] = checks
    return figure


def measure_sales(work: Path, own: Path, sizes: Sizes,
                  log: Callable[[str], None]) -> list[Figure]:
    """(1) a sale over HTTP against the bare commit; (2) the same with big journals."""
    figures, empty, empty_stall = [], None, None
    for entries in sizes.journals:
        made = journal_stall(work, own, entries)
        log(f"sale over HTTP, journal of {made['entries']:,} entries")
        result = sale.measure(made, sizes.sale_samples, compare=empty is None,
                              reference=None if empty is None else empty_stall,
                              rounds=sizes.sale_rounds)
        api, bare = result["api"], result["bare"]
        ratio = bare.median / api.median
        if empty is None:
            empty, empty_stall = result, made
            figure = _stat_figure(
                "sale_http", "3-line cash sale, POST /api/sales over HTTP (durable)", api,
                "bare sqlite3 commit of one equivalent row (WAL, synchronous=FULL)", bare,
                "p50 ≤ 5 ms, p99 ≤ 20 ms; ratio ≥ 0.2 (aim 0.3)",
                _checks(p50=api.median <= 5, p99=api.p99 <= 20, ratio=ratio >= 0.2),
                note=f"journal of {made['entries']:,} entries; {result['locked']} 'database is"
                     f" locked' in the server log. Interleaved with it: the same body posted to"
                     f" a one-route Flask app on waitress that only makes the bare commit"
                     f" (benchmarks/stall/floor_app.py, the lowest this stack goes here):"
                     f" p50 {result['floor'].median:.2f} ms, ratio"
                     f" {bare.median / result['floor'].median:.2f}; the same sale with Python's"
                     f" `http.client` as the client: p50 {result['http.client'].median:.2f} ms,"
                     f" ratio {bare.median / result['http.client'].median:.2f}; with `requests`:"
                     f" p50 {result['requests'].median:.2f} ms, ratio"
                     f" {bare.median / result['requests'].median:.2f}."
                     + _by_round(result["rounds"], "bare", "api"))
            figure.extra.update(floor=result["floor"].to_dict(),
                                http_client=result["http.client"].to_dict(),
                                requests=result["requests"].to_dict())
            figures.append(figure)
            figures.append(Figure("sales_per_s", "sales per second, one client in sequence",
                                  "sales/s", single(result["sales_per_s"]),
                                  "bare commits per second", single(1000 / bare.median),
                                  result["sales_per_s"] / (1000 / bare.median),
                                  "sales/s ÷ bare commits/s"))
            continue
        # The empty stall is served beside the big one and its sales interleaved with theirs, so
        # both see the same load on the machine (measured minutes apart, they did not: the bare
        # commit alone moved by a third between the sizes).
        beside = result["reference"]
        flat = api.median / beside.median
        alone = sale.in_process(made, empty_stall, sizes.sale_samples)
        figure = Figure(
            f"sale_http_{entries}", f"the same sale with {made['entries']:,} entries already in"
            " the journal", "ms", api.to_dict(),
            "the same sale to the empty-journal stall, served and measured beside it",
            beside.to_dict(), flat, "p50 ÷ p50 of the empty journal beside it",
            "within 20% (ratio ≤ 1.2)", flat <= 1.2,
            note=f"bare commit beside them: p50 {bare.median:.2f} ms; the empty journal's sale"
            f" measured alone (row 1): p50 {empty['api'].median:.2f} ms; in process, without"
            f" HTTP (pos.sales.record_sale on both databases, interleaved): p50"
            f" {alone['big'].median:.3f} ms against {alone['empty'].median:.3f} ms, ratio"
            f" {alone['big'].median / alone['empty'].median:.2f}."
            + _by_round(result["rounds"], "api", "reference"))
        figure.extra.update(bare=bare.to_dict(), checks={"within 20%": flat <= 1.2},
                            in_process={k: v.to_dict() for k, v in alone.items()})
        figures.append(figure)
    return figures


def measure_paper(work: Path, sizes: Sizes, log: Callable[[str], None]) -> list[Figure]:
    """(3) a receipt PDF and the day close over 500 sales."""
    log("receipt PDF (80 mm, 5 lines, QR)")
    made = stalls.make_stall(work / "receipts")
    result = paperwork.receipts(made, sizes.receipt_samples)
    receipt, bare = result["receipt"], result["bare"]
    figures = [_stat_figure(
        "receipt_pdf", "receipt PDF, 80 mm, 5 lines and a QR code", receipt,
        "one-line 80 mm PDF with the same embedded font", bare, "p50 ≤ 20 ms",
        _checks(p50=receipt.median <= 20), note=f"{result['bytes']:,} bytes")]
    log(f"day close (Z) over {sizes.day_sales} sales, with its report PDF")
    made = stalls.make_stall(work / "dayclose")
    result = paperwork.day_close(made, sizes.day_sales, sizes.close_samples)
    close = result["close"]
    figures.append(_stat_figure(
        "day_close", f"day close (Z entry) and its 80 mm report PDF, {sizes.day_sales} sales",
        close, "one-line 80 mm PDF with the same embedded font", result["bare"],
        "≤ 200 ms", _checks(p50=close.median <= 200)))
    return figures


def measure_sell_page(work: Path, sizes: Sizes, log: Callable[[str], None]) -> list[Figure]:
    """(4) the sell screen with 500 products: server time and weight."""
    log(f"sell page with {sizes.products} products")
    made = stalls.make_stall(work / "sellpage", products=sizes.products - 16)
    result = sellpage.measure(made, sizes.page_samples)
    page = result["page"]
    weight = result["total_bytes"] / 1024
    figures = [_stat_figure(
        "sell_page", f"sell page with {result['tiles']} products, GET / over HTTP", page,
        "a static file from the same server", result["static"], "p50 ≤ 30 ms",
        _checks(p50=page.median <= 30))]
    parts = ", ".join(f"{k.upper()} {v / 1024:.1f} KB" for k, v in result["weights"].items())
    figure = Figure("sell_page_weight", "sell page weight (HTML + CSS + JS, uncompressed)", "KB",
                    single(weight), target="≤ 150 KB", ok=weight <= 150, note=parts)
    figure.extra["checks"] = {"≤ 150 KB": weight <= 150}
    figures.append(figure)
    return figures


def measure_process(work: Path, sizes: Sizes, log: Callable[[str], None]) -> tuple[
        list[Figure], dict[str, Any]]:
    """(5) start time and memory of `market-pos serve`; returns the used stall for (6)."""
    log("start: `market-pos serve` to the first page")
    made = stalls.make_stall(work / "process")
    started = process.start_time(made, sizes.start_samples)
    serve = started["serve"]
    figures = [_stat_figure(
        "start", "from `market-pos serve` to the first page answered", serve,
        "a one-route Flask app served by waitress, same timing", started["bare"],
        "≤ 1.5 s", _checks(p50=serve.median <= 1500))]
    log(f"memory after {sizes.memory_sales:,} sales")
    memory = process.memory(made, sizes.memory_sales)
    after = memory["after_mb"]
    figure = Figure("rss", f"RSS of the serving process after {memory['sales']:,} sales"
                    " (and a sell page, a receipt PDF, an X report)", "MB", single(after),
                    "RSS right after its first page", single(memory["start_mb"]),
                    after / memory["start_mb"], "after / at start", "≤ 80 MB", after <= 80,
                    f"peak (VmHWM) {memory['peak_mb']:.1f} MB; {memory['clients']} clients at"
                    f" {memory['sales_per_s']:.0f} sales/s")
    figure.extra["checks"] = {"≤ 80 MB": after <= 80}
    figures.append(figure)
    return figures, made


def measure_disk(made: dict[str, Any], sizes: Sizes,
                 log: Callable[[str], None]) -> list[Figure]:
    """(6) bytes per sale: the stall that served the memory run, and a generated big journal."""
    log("bytes per sale on disk (dbstat)")
    figures = []
    sources = [("real sales through the API", stalls.stall.database_path(made["folder"]))]
    bigger = [n for n in sizes.journals if n > 0]
    if bigger:
        sources.append(("generated sales (the cached journal)", stalls.cached_journal(bigger[0])))
    for label, path in sources:
        result = disk.bytes_per_sale(path)
        value = result["bytes_per_sale"]
        parts = "; ".join(f"{t} {v['data']:.0f} + {v['indexes']:.0f} idx"
                          for t, v in result["by_table"].items())
        figure = Figure(f"disk_{len(figures)}", f"bytes per sale on disk, {result['sales']:,}"
                        f" {label}", "bytes", single(value),
                        "the sale's canonical JSON payload", single(result["payload_bytes"]),
                        value / result["payload_bytes"], "bytes / payload bytes",
                        "≤ 1,500", value <= 1500, f"dbstat pages of {parts}")
        figure.extra["checks"] = {"≤ 1,500": value <= 1500}
        figures.append(figure)
    return figures


def run(work: Path, sizes: Sizes, *, pinned: bool, only: set[str] | None = None) -> dict[str, Any]:
    """Measure the whole set; returns the machine and the figures as plain data."""
    label = "pinned" if pinned else "all cores"
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{label} {time.perf_counter() - started:5.0f} s] {message}", file=sys.stderr,
              flush=True)

    figures: list[Figure] = []
    own = work / ("pinned" if pinned else "free")
    shutil.rmtree(own, ignore_errors=True)
    wanted = only or set(PARTS)
    try:
        if "sale" in wanted:
            figures += measure_sales(work, own, sizes, log)
        if "paper" in wanted:
            figures += measure_paper(own, sizes, log)
        if "page" in wanted:
            figures += measure_sell_page(own, sizes, log)
        if wanted & {"process", "disk"}:
            process_figures, made = measure_process(own, sizes, log)
            if "process" in wanted:
                figures += process_figures
            if "disk" in wanted:
                figures += measure_disk(made, sizes, log)
    finally:
        shutil.rmtree(own, ignore_errors=True)
    return {"machine": machine(), "pinned": pinned, "seconds": time.perf_counter() - started,
            "method": METHOD, "figures": [f.to_dict() for f in figures]}
