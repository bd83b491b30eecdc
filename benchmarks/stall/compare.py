"""The same sale over HTTP against two versions of the stall, interleaved: a fix's before/after.

    python -m benchmarks.stall.compare OLD_TREE NEW_TREE [--rounds 40]

Each tree is a checkout of this repository that has benchmarks/stall (`git worktree add /tmp/old
<commit>`), and makes its own stall, so each runs on the schema it expects. Both are served
at once by `market-pos serve` with the tree first on PYTHONPATH, each on its own fresh stall, and
the 3-line cash sale is posted to them in alternating blocks of ten, with the bare commit of
sale.py between them, so all three see the same load on the machine. Prints p50/p99 of each and
each one's ratio to the bare commit.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from . import sale, stalls
from .timing import Stat


# The stall is made by the tree's own code, so that its schema is the one that tree expects.
MAKE_STALL = """
import json, sys
from pathlib import Path
from benchmarks.stall import stalls
made = stalls.make_stall(Path(sys.argv[1]))
print(json.dumps({"folder": str(made["folder"]), "token": made["token"],
                  "prices": made["prices"]}))
"""


def _serve(tree: Path, stack: contextlib.ExitStack) -> Callable[[], bytes]:
    env = {**os.environ, "PYTHONPATH": str(tree.resolve())}
    made = json.loads(subprocess.run(
        [sys.executable, "-c", MAKE_STALL, str(stalls.work_dir(f"compare-{tree.name}"))],
        env=env, cwd=tree, check=True, capture_output=True, text=True).stdout)
    made["prices"] = {int(k): v for k, v in made["prices"].items()}
    served = stack.enter_context(stalls.Served(Path(made["folder"]), env=env))
    served.wait_first_page()
    body = json.dumps(stalls.sale_request(made["prices"])).encode("utf-8")
    headers = {"Authorization": f"Bearer {made['token']}", "Content-Type": "application/json"}
    return sale.poster(served.port, headers, body, stack)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stall.compare",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs=2, type=Path)
    parser.add_argument("--rounds", type=int, default=40, help="blocks of ten sales per tree")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        runs = [(str(tree), _serve(tree, stack)) for tree in args.trees]
        bare, conn = sale.bare_commit(stalls.work_dir("compare-bare"), 520)
        stack.callback(conn.close)
        runs.append(("bare commit", bare))
        for _ in range(20):
            for _, run in runs:
                run()
        times: dict[str, list[float]] = {name: [] for name, _ in runs}
        for _ in range(args.rounds):
            for name, run in runs:
                for _ in range(sale.BLOCK):
                    started = time.perf_counter()
                    run()
                    times[name].append((time.perf_counter() - started) * 1000)
    base = Stat(times["bare commit"]).median
    for name, values in times.items():
        stat = Stat(values)
        print(f"{name:40s} p50 {stat.median:6.3f} ms  p99 {stat.p99:6.2f} ms"
              f"  ratio {base / stat.median:.3f}  (n={len(values)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
