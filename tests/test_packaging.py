"""Packaging: build the wheel from a copy of the sources, install it into a fresh virtualenv and
run the stall from the installed copy (templates, static files, data and translations included).

The wheel is built from a copy so that the repository gets no build/, dist/ or *.egg-info.
Installing pulls the dependencies from the package index, so this takes a minute or two.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Iterator

import pytest
import requests

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
OWNER_PIN = "1234"
BIN = "Scripts" if os.name == "nt" else "bin"
ARTIFACT = re.compile(r"^(build|dist|.*\.egg-info)$")


def clean_env() -> dict[str, str]:
    """The environment without anything that would let the repository leak onto sys.path."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run(args: list[str], *, cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=clean_env(), capture_output=True, text=True,
                          timeout=timeout)


def source_files() -> list[str]:
    """The files a checkout would have: tracked ones plus new, not ignored ones."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], cwd=REPO, capture_output=True, check=True,
                             timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        out = b""
    names = [n for n in out.decode("utf-8").split("\0") if n]
    if names:
        return [n for n in names if (REPO / n).is_file()]
    skip = {".git", "build", "dist", "__pycache__", ".venv", "test-output", ".pytest_cache",
            ".hypothesis", "market-pos-demo"}
    return [str(p.relative_to(REPO)) for p in REPO.rglob("*")
            if p.is_file() and not skip & set(p.relative_to(REPO).parts)
            and not any(part.endswith(".egg-info") for part in p.parts) and p.suffix != ".pyc"]


def repo_artifacts() -> dict[str, float]:
    return {p.name: p.stat().st_mtime for p in REPO.iterdir() if ARTIFACT.match(p.name)}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- fixtures --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def source_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("source") / "market-pos"
    for name in source_files():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)
    assert (dest / "setup.cfg").is_file(), "the copy of the sources has no setup.cfg"
    return dest


@pytest.fixture(scope="module")
def built(source_copy: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Build the wheel with `python -m build --wheel` from the copy, into a temporary folder."""
    before = repo_artifacts()
    outdir = tmp_path_factory.mktemp("dist")
    result = run([sys.executable, "-m", "build", "--wheel", "--outdir", str(outdir),
                  str(source_copy)], cwd=source_copy, timeout=600)
    assert result.returncode == 0, f"python -m build failed:\n{result.stdout}\n{result.stderr}"
    wheels = list(outdir.glob("market_pos-*.whl"))
    assert len(wheels) == 1, f"expected one wheel, found {sorted(outdir.iterdir())}"
    return {"wheel": wheels[0], "artifacts_before": before, "artifacts_after": repo_artifacts()}


@pytest.fixture(scope="module")
def venv_dir(built: dict[str, object], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel installed (not editable)."""
    probe = run([sys.executable, "-c", "import venv, ensurepip"], cwd=Path.home(), timeout=60)
    if probe.returncode != 0:
        pytest.skip(f"python -m venv is unavailable here (no venv/ensurepip): {probe.stderr}")
    target = tmp_path_factory.mktemp("venv") / "env"
    made = run([sys.executable, "-m", "venv", str(target)], cwd=target.parent, timeout=300)
    if made.returncode != 0:
        pytest.skip(f"python -m venv failed: {made.stderr.strip()}")
    python = target / BIN / "python"
    if run([str(python), "-m", "pip", "--version"], cwd=target.parent, timeout=60).returncode:
        pytest.skip("pip is not available in a fresh virtualenv")
    installed = run([str(python), "-m", "pip", "install", "--no-input", str(built["wheel"])],
                    cwd=target.parent, timeout=900)
    assert installed.returncode == 0, \
        f"pip install of the wheel failed:\n{installed.stdout[-4000:]}\n{installed.stderr[-4000:]}"
    return target


@pytest.fixture
def server(venv_dir: Path, tmp_path: Path) -> Iterator[str]:
    """`market-pos init --pin` then `market-pos serve` from the installed console script."""
    data = tmp_path / "stall-data"
    cli = str(venv_dir / BIN / "market-pos")
    init = run([cli, "init", "--data", str(data), "--pin", OWNER_PIN], cwd=tmp_path, timeout=120)
    assert init.returncode == 0, f"market-pos init failed:\n{init.stdout}\n{init.stderr}"
    assert "Stall ready" in init.stdout and data.is_dir()

    port = free_port()
    log_path = tmp_path / "serve.log"
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen([cli, "serve", "--data", str(data), "--port", str(port)],
                                cwd=tmp_path, env=clean_env(), stdout=log,
                                stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"market-pos serve exited with {proc.returncode}:\n"
                            f"{log_path.read_text(encoding='utf-8')}")
            try:
                requests.get(base + "/unlock", timeout=2)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    pytest.fail("market-pos serve did not answer within 60 s:\n"
                                + log_path.read_text(encoding="utf-8"))
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# --- tests -----------------------------------------------------------------------------------

def test_wheel_contains_package_data(built: dict[str, object], source_copy: Path) -> None:
    wheel = built["wheel"]
    assert isinstance(wheel, Path)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next((archive.read(n).decode("utf-8") for n in names
                             if n.endswith(".dist-info/entry_points.txt")), "")
        mo = archive.read("pos/translations/vi/LC_MESSAGES/messages.mo") \
            if "pos/translations/vi/LC_MESSAGES/messages.mo" in names else b""

    # Each program ships its own templates and static files (under pos/ and server/), the core
    # its fonts, and each its own catalogue.
    expected = set()
    for package, folder, part in (("pos", "templates", "pos"), ("pos", "static", "pos"),
                                  ("sync/server", "templates", "server"),
                                  ("sync/server", "static", "server")):
        files = [p for p in (source_copy / folder / part).rglob("*") if p.is_file()]
        assert files, f"no files under {folder}/{part}/ in the sources"
        expected |= {f"{package}/{folder}/{p.relative_to(source_copy / folder).as_posix()}"
                     for p in files}
    expected |= {f"sync/fonts/{p.name}" for p in (source_copy / "static/fonts").iterdir()}
    expected |= {"pos/data/banks.json", "sync/data/mtt_invoice.xsd"}
    expected |= {"pos/static/favicon.ico", "sync/server/static/favicon.ico"}   # one icon, both
    expected |= {f"{folder}/vi/LC_MESSAGES/messages.mo"
                 for folder in ("pos/translations", "sync/translations",
                                "sync/server/translations")}
    assert not [n for n in names if n.startswith(("pos/templates/server", "pos/static/server",
                                                  "sync/server/templates/pos"))], \
        "one program's pages ended up in the other's package"
    schemas = sorted((source_copy / "sync/payloads").glob("*.schema.json"))
    assert schemas, "no payload schemas under sync/payloads/ in the sources"
    expected |= {p.relative_to(source_copy).as_posix() for p in schemas}
    for package in ("pos", "sync"):
        expected |= {p.relative_to(source_copy).as_posix()
                     for p in (source_copy / package).rglob("*.py")}
    missing = sorted(expected - names)
    assert not missing, f"the wheel lacks {missing}"
    assert mo == (source_copy / "pos/translations/vi/LC_MESSAGES/messages.mo").read_bytes()
    assert not [n for n in names if n.startswith(("tests/", "templates/", "static/"))], \
        "tests or unmapped template/static folders ended up in the wheel"
    assert re.search(r"^market-pos\s*=\s*pos\.cli:main$", entry_points, re.M), entry_points

    # Building from a copy left nothing behind in the repository.
    assert built["artifacts_after"] == built["artifacts_before"]


def test_installed_package_is_not_the_repository(venv_dir: Path, tmp_path: Path) -> None:
    result = run([str(venv_dir / BIN / "python"), "-c",
                  "import pos, pos.app; from sync.web import asset_folder; "
                  "print(pos.__file__); here = pos.app.PACKAGE_DIR; "
                  "print(asset_folder(here, 'templates', here.parent)); "
                  "print(asset_folder(here, 'static', here.parent))"],
                 cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    module, templates, static = (Path(line).resolve() for line in result.stdout.split())
    for path in (module, templates, static):
        assert path.is_relative_to(venv_dir.resolve()), f"{path} is not inside the virtualenv"
        assert not path.is_relative_to(REPO), f"{path} comes from the repository"
    assert templates.name == "templates" and (templates / "pos" / "sell.html").is_file()
    assert (static / "pos" / "pos.css").is_file()


def test_installed_stall_serves_the_sell_page(server: str, source_copy: Path) -> None:
    session = requests.Session()
    page = session.get(server + "/unlock", timeout=10)
    assert page.status_code == 200
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, "no CSRF token on /unlock"

    sell = session.post(server + "/unlock", data={"pin": OWNER_PIN, "csrf_token": match.group(1)},
                        timeout=10)
    assert sell.status_code == 200
    assert sell.url == server + "/", f"unlocking ended on {sell.url}"
    assert "Bán hàng" in sell.text and 'id="tiles"' in sell.text
    assert session.get(server + "/", timeout=10).status_code == 200

    css_href = re.search(r'<link rel="stylesheet" href="([^"]+)"', sell.text)
    assert css_href, "the sell page links no stylesheet"
    css = session.get(server + css_href.group(1), timeout=10)
    assert css.status_code == 200
    assert css.headers["Content-Type"].startswith("text/css")
    assert css.content and css.content == (source_copy / "static/pos/pos.css").read_bytes()

    js_src = re.search(r'<script src="([^"]*sell\.js)"', sell.text)
    assert js_src, "the sell page loads no sell.js"
    js = session.get(server + js_src.group(1), timeout=10)
    assert js.status_code == 200
    assert "javascript" in js.headers["Content-Type"]
    assert "/api/sales" in js.text
