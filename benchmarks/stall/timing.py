"""The timing loop and the figures it yields: median and p99 of repeated runs, and the machine."""
from __future__ import annotations

import os
import platform
import sqlite3
import statistics
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from typing import Any, Callable

KEY_PACKAGES = ("flask", "werkzeug", "jinja2", "waitress", "reportlab", "qrcode", "pillow",
                "requests")


@dataclass
class Stat:
    """Repeated measurements of one thing, in its unit (ms, bytes, MB)."""

    samples: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p99(self) -> float:
        """The 99th percentile (nearest rank): the slowest run but one in a hundred."""
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, max(0, -(-99 * len(ordered) // 100) - 1))]

    def to_dict(self) -> dict[str, Any]:
        return {"median": self.median, "p99": self.p99, "n": len(self.samples)}


@dataclass
class Figure:
    """One line of BENCHMARKS.md: a measurement, its in-run baseline and what it is held to.

    `ratio` is given by the benchmark (its meaning is in `ratio_label`); `ok` says whether the
    figure meets the issue's target on this machine (None when there is no target).
    """

    key: str
    title: str
    unit: str
    value: dict[str, Any]
    baseline_title: str = ""
    baseline: dict[str, Any] | None = None
    ratio: float | None = None
    ratio_label: str = ""
    target: str = ""
    ok: bool | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def repeat(run: Callable[[], Any], times: int, *, warmup: int = 3) -> Stat:
    """Time `run` `times` times (after `warmup` untimed runs), in milliseconds."""
    for _ in range(warmup):
        run()
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return Stat(samples)


def single(value: float) -> dict[str, Any]:
    """A figure measured once (a size, a count): median and p99 are the value itself."""
    return {"median": value, "p99": value, "n": 1}


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (platform.processor() is empty on Linux)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    """What the figures were measured on, for the head of BENCHMARKS.md."""
    versions = {}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "-"
    try:
        allowed = len(os.sched_getaffinity(0))
    except AttributeError:
        allowed = os.cpu_count() or 0
    return {"cpu": cpu_model(), "arch": platform.machine(), "cpus": os.cpu_count(),
            "cpus_allowed": allowed, "os": f"{platform.system()} {platform.release()}",
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "packages": versions, "load": os.getloadavg()}
