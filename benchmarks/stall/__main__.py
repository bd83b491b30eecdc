"""Run the stall's benchmark set and write BENCHMARKS.md.

    python -m benchmarks.stall            # everything, on all cores and pinned to one (~10 min)
    python -m benchmarks.stall --quick    # smoke-test sizes (about a minute), written to
                                          # benchmarks/results/stall-quick.md

Options: --no-pinned skips the pinned run; --only sale,paper,page,process,disk measures a part;
--render writes BENCHMARKS.md again from the last run's data (benchmarks/results/stall.json);
--out FILE writes elsewhere than BENCHMARKS.md; --save-before LABEL keeps this run's data as the
"before" of a later comparison (benchmarks/results/stall-before.json), which every later run
then prints side by side with its own. The journals of 100,000 and 1,000,000 sales are built on
first use (a few minutes) and kept in benchmarks/.cache/.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from . import report, suite
from .stalls import CACHE

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"
BEFORE = RESULTS / "stall-before.json"
FINDINGS = Path(__file__).resolve().parent / "findings.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stall",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke-test sizes")
    parser.add_argument("--no-pinned", action="store_true", help="skip the taskset -c 0 run")
    parser.add_argument("--only", help="comma-separated parts: " + ",".join(suite.PARTS))
    parser.add_argument("--out", type=Path, help="default: BENCHMARKS.md, or with --quick"
                        " benchmarks/results/stall-quick.md (a smoke test never replaces it)")
    parser.add_argument("--save-before", metavar="LABEL",
                        help="keep this run as the 'before' of later comparisons")
    parser.add_argument("--render", action="store_true",
                        help="write BENCHMARKS.md again from the last run's data, measuring"
                             " nothing (after editing findings.md)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)   # the pinned run
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = suite.QUICK if args.quick else suite.Sizes()
    args.out = args.out or (RESULTS / "stall-quick.md" if args.quick else ROOT / "BENCHMARKS.md")
    only = set(args.only.split(",")) if args.only else None
    if only and only - set(suite.PARTS):
        parser.error(f"unknown part: {', '.join(sorted(only - set(suite.PARTS)))}")

    if args.child:  # inside taskset: measure and hand the data back
        data = suite.run(args.work, sizes, pinned=True, only=only)
        args.child.write_text(json.dumps(data))
        return 0

    saved = RESULTS / ("stall-quick.json" if args.quick else "stall.json")
    if args.render:
        data = json.loads(saved.read_text())
        runs = data["runs"]
    else:
        runs = measure(sizes, args)
        finished = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        for run in runs:
            run["finished"] = finished
        data = {"quick": args.quick, "finished": finished, "runs": runs}
        RESULTS.mkdir(exist_ok=True)
        saved.write_text(json.dumps(data, indent=1))
    if args.save_before:
        BEFORE.write_text(json.dumps({**data, "label": args.save_before}, indent=1))
    before = None
    if BEFORE.exists() and not args.save_before and not args.quick:
        before = json.loads(BEFORE.read_text())
    fixes = FINDINGS.read_text(encoding="utf-8") if FINDINGS.exists() else ""
    args.out.write_text(report.render(runs, quick=args.quick, fixes=fixes, before=before,
                                      measured=data["finished"]), encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    missed = [f["title"] for run in runs for f in run["figures"] if f.get("ok") is False]
    for title in missed:
        print(f"target missed: {title}", file=sys.stderr)
    return 0


def measure(sizes: suite.Sizes, args: argparse.Namespace) -> list[dict]:
    """The unpinned run here, then the pinned one in a child process, sharing the big journals."""
    only = set(args.only.split(",")) if args.only else None
    (CACHE / "work").mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="run-", dir=CACHE / "work"))
    try:
        runs = [suite.run(work, sizes, pinned=False, only=only)]
        if not args.no_pinned:
            runs.append(pinned_run(work, args))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return runs


def pinned_run(work: Path, args: argparse.Namespace) -> dict:
    """The same set in a child process pinned to CPU 0 (its servers inherit the pinning)."""
    out = work / "pinned.json"
    command = ["taskset", "-c", "0", sys.executable, "-m", "benchmarks.stall",
               "--child", str(out), "--work", str(work)]
    if args.quick:
        command.append("--quick")
    if args.only:
        command += ["--only", args.only]
    subprocess.run(command, check=True, cwd=ROOT)
    return json.loads(out.read_text())


if __name__ == "__main__":
    sys.exit(main())
