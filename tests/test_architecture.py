"""The shape of the house, checked on every run (issue 16): the stall (`pos`) and the provincial
server (`sync.server`) import only the shared core and themselves, the core imports neither,
and no module of the stall or the server is in an import cycle. The contracts are in
`.importlinter`; import-linter checks every import, those inside functions included."""
from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_import_contracts_hold() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint), "--config", str(ROOT / ".importlinter")], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "BROKEN" not in result.stdout and result.stdout.count("KEPT") >= 4


def test_every_core_module_is_under_the_core_contract() -> None:
    """A new module under sync/ is either the server or core, and the core's contract names it."""
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    listed = set(config["importlinter:contract:core"]["source_modules"].split())
    found = {f"sync.{p.stem}" for p in (ROOT / "sync").glob("*.py") if p.stem != "__init__"}
    found |= {f"sync.{p.name}" for p in (ROOT / "sync").iterdir()
              if p.is_dir() and p.name not in ("server", "__pycache__")
              and (p / "__init__.py").exists()}
    assert found <= listed, f"core modules missing from .importlinter: {sorted(found - listed)}"
