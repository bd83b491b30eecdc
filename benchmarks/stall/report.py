"""BENCHMARKS.md from the measured data: nothing in it is typed in by hand."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

INTRO = """\
Written by `python -m benchmarks.stall` (see README.md); every figure below comes from that run.

This machine is shared: two cores, and other programs (test suites, other benchmarks) ran
during the measurement, so absolute figures are noisy. That is why each figure has a baseline
measured in the same run, interleaved with it where it is a time: the ratio between the two
moves much less with the load than either figure. The set is run twice: on all cores, and in a
child process pinned to one core with `taskset -c 0` (its servers inherit the pinning), which
stands in for a slower board such as a Raspberry Pi 3/4. Times are the median (p50) and the
99th percentile (p99, nearest rank) of n repeated runs.
"""


def _number(value: float, unit: str) -> str:
    if unit in ("bytes", "sales/s"):
        return f"{value:,.0f}"
    if unit in ("MB", "KB"):
        return f"{value:,.1f}"
    return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"


def _cell(stat: dict[str, Any] | None, unit: str) -> str:
    if not stat:
        return "–"
    if stat["n"] == 1:
        return f"{_number(stat['median'], unit)} {unit}"
    return (f"{_number(stat['median'], unit)} / {_number(stat['p99'], unit)} {unit}"
            f" (n={stat['n']})")


def _verdict(figure: dict[str, Any]) -> str:
    checks = figure.get("extra", {}).get("checks") or {}
    if not checks and figure.get("ok") is None:
        return ""
    if not checks:
        return "met" if figure["ok"] else "**missed**"
    missed = [name for name, ok in checks.items() if not ok]
    return "met" if not missed else "**missed**: " + ", ".join(missed)


def machine_lines(machine: dict[str, Any], pinned: bool) -> list[str]:
    packages = ", ".join(f"{k} {v}" for k, v in machine["packages"].items())
    load = ", ".join(f"{x:.2f}" for x in machine["load"])
    return [f"- CPU: {machine['cpu']} ({machine['arch']}), {machine['cpus']} CPUs,"
            f" {machine['cpus_allowed']} usable by this run"
            f"{' (taskset -c 0)' if pinned else ''}; load average at the end {load}",
            f"- {machine['os']}; Python {machine['python']}; SQLite {machine['sqlite']}",
            f"- {packages}"]


def table(run: dict[str, Any]) -> list[str]:
    lines = ["| # | figure | p50 / p99 | baseline (same run) | baseline p50 / p99 | ratio |"
             " target | verdict |",
             "| --- | --- | ---: | --- | ---: | ---: | --- | --- |"]
    for n, figure in enumerate(run["figures"], 1):
        ratio = (f"{figure['ratio']:.2f} ({figure['ratio_label']})"
                 if figure.get("ratio") is not None else "–")
        lines.append(f"| {n} | {figure['title']} | {_cell(figure['value'], figure['unit'])} |"
                     f" {figure.get('baseline_title') or '–'} |"
                     f" {_cell(figure.get('baseline'), figure['unit'])} | {ratio} |"
                     f" {figure.get('target') or '–'} | {_verdict(figure)} |")
    notes = [f"- {n}: {f['note']}" for n, f in enumerate(run["figures"], 1) if f.get("note")]
    return lines + ([""] + notes if notes else [])


def comparison(before: dict[str, Any], after: dict[str, Any], label: str) -> list[str]:
    """Before/after of every figure both runs have (p50 and ratio)."""
    old = {f["key"]: f for f in before["figures"]}
    lines = ["| figure | before p50 | after p50 | before ratio | after ratio |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for figure in after["figures"]:
        was = old.get(figure["key"])
        if was is None:
            continue
        unit = figure["unit"]
        ratio = lambda f: f"{f['ratio']:.2f}" if f.get("ratio") is not None else "–"  # noqa: E731
        lines.append(f"| {figure['title']} | {_number(was['value']['median'], unit)} {unit} |"
                     f" {_number(figure['value']['median'], unit)} {unit} | {ratio(was)} |"
                     f" {ratio(figure)} |")
    stamp = before.get("finished", "an earlier run")
    head = [f"Before: {label} ({stamp}); after: this run, same machine, same sizes."]
    first, last = before.get("method", 1), after.get("method", 1)
    if first != last:
        changes = " ".join(METHOD_CHANGES[m] for m in range(min(first, last) + 1,
                                                              max(first, last) + 1)
                           if m in METHOD_CHANGES)
        head.append(f"The two runs measured some figures differently (method {first} then"
                    f" {last}, benchmarks/stall/suite.py METHOD). {changes} Compare those rows'"
                    " p50 with care and not their ratios.")
    return [" ".join(head), ""] + lines


# How each method of measuring (suite.METHOD) differs from the one before it.
METHOD_CHANGES = {
    2: "Method 2: the sale's client became `http.client` (was `requests`), and the big journals"
       " are compared with an empty one served beside them (were measured minutes apart).",
    3: "Method 3: the sale's client became a keep-alive socket that reads the answer by its"
       " Content-Length (was `http.client`, which parses each answer's headers in Python), and"
       " the sale's samples are taken in five rounds three seconds apart (one in --quick; were"
       " taken in one go, which a burst of load from other programs could cover whole).",
}


def render(runs: list[dict[str, Any]], *, quick: bool, fixes: str = "",
           before: dict[str, Any] | None = None, measured: str = "") -> str:
    """The whole BENCHMARKS.md."""
    now = measured or datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = ["# Benchmarks: the stall on a Raspberry Pi budget", "",
           f"Measured {now}{' (--quick: smoke-test sizes, not the real figures)' if quick else ''}.",
           "", INTRO]
    for run in runs:
        title = ("Pinned to one core (`taskset -c 0`)" if run["pinned"]
                 else "All cores")
        out += [f"## {title}", "", *machine_lines(run["machine"], run["pinned"]),
                f"- measured in {run['seconds']:.0f} s", "", *table(run), ""]
    if before:
        out += ["## Before and after the fixes", ""]
        for run in runs:
            match = next((b for b in before.get("runs", []) if b["pinned"] == run["pinned"]),
                         None)
            if match:
                out += [f"### {'Pinned to one core' if run['pinned'] else 'All cores'}", "",
                        *comparison(match, run, before.get("label", "before the fixes")), ""]
    if fixes:
        out += [fixes.strip(), ""]
    return "\n".join(out)
