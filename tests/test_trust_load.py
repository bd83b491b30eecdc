"""Load, shortened for the suite (the full runs are `python -m benchmarks.load_stall` and
`python -m benchmarks.load_server`): 20 API clients selling at once on the stall, and 200 devices
syncing at once on the server, with zero errors and zero "database is locked"."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import load_server, load_stall

pytestmark = pytest.mark.slow
FIGURES = Path(__file__).resolve().parent.parent / "test-output" / "trust"


def keep(name: str, result: dict[str, object]) -> None:
    FIGURES.mkdir(parents=True, exist_ok=True)
    (FIGURES / f"{name}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))


def test_20_clients_selling_at_once(tmp_path: Path) -> None:
    result = load_stall.run(clients=20, seconds=10, data=tmp_path / "stall")
    keep("load_stall", result)
    assert result["sales"] > 100, result
    assert load_stall.passed(result), result


def test_200_devices_syncing_at_once(tmp_path: Path) -> None:
    result = load_server.run(f"sqlite:///{tmp_path / 'server.sqlite3'}", devices_count=200,
                             entries=20, batch=10, workdir=tmp_path)
    keep("load_server", result)
    assert result["entries_stored"] == 200 * 20, result
    assert load_server.passed(result), result
