"""The sell screen with 500 products: how long the server takes to answer it, and what it weighs.

The page is fetched from `market-pos serve` over a keep-alive loopback session unlocked with the
owner's PIN, as the stall's browser does. The baseline, in the same run and on the same server,
is a small static file (the framework's and HTTP's floor for any answer). The weight is the
HTML plus every stylesheet and script the page links, as served (no compression).
"""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from .stalls import Served, unlocked_session
from .timing import Stat

BASELINE_PATH = "/static/pos/keypad.js"


def linked_assets(html: str) -> list[str]:
    """Stylesheets and scripts the page loads."""
    styles = re.findall(r'<link[^>]+rel="stylesheet"[^>]*href="([^"]+)"', html)
    styles += re.findall(r'<link[^>]+href="([^"]+)"[^>]*rel="stylesheet"', html)
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', html)
    return list(dict.fromkeys(styles + scripts))


def measure(made: dict[str, Any], samples: int, warmup: int = 5) -> dict[str, Any]:
    """p50/p99 of the sell page and of the static baseline, interleaved; the page's weight."""
    with Served(Path(made["folder"])) as served:
        served.wait_first_page()
        http = unlocked_session(served.url)
        page_ms: list[float] = []
        base_ms: list[float] = []
        html = ""
        for n in range(warmup + samples):
            started = time.perf_counter()
            answer = http.get(served.url + "/", timeout=30)
            elapsed = (time.perf_counter() - started) * 1000
            if answer.status_code != 200 or 'class="tile"' not in answer.text:
                raise RuntimeError(f"sell page: {answer.status_code}")
            html = answer.text
            started = time.perf_counter()
            static = http.get(served.url + BASELINE_PATH, timeout=30)
            static_ms = (time.perf_counter() - started) * 1000
            static.raise_for_status()
            if n >= warmup:
                page_ms.append(elapsed)
                base_ms.append(static_ms)
        weights = {"html": len(answer.content)}
        for asset in linked_assets(html):
            body = http.get(urljoin(served.url + "/", asset), timeout=30)
            body.raise_for_status()
            kind = "css" if asset.split("?")[0].endswith(".css") else "js"
            weights[kind] = weights.get(kind, 0) + len(body.content)
        tiles = html.count('class="tile"')
    return {"page": Stat(page_ms), "static": Stat(base_ms), "weights": weights,
            "total_bytes": sum(weights.values()), "tiles": tiles,
            "assets": linked_assets(html)}
