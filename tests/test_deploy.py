"""deploy/: the kiosk scripts parse and lint; the autostart entry runs the kiosk script; the
installer is idempotent; start-kiosk.sh waits for the stall, starts the on-screen keyboard (and
the Telex input method on X11) and Chromium with the flags docs/KIOSK.md gives, and gives up
after its deadline when nothing answers.

start-kiosk.sh runs for real against a tiny HTTP server on 127.0.0.1, with stub `chromium`,
`onboard`, `squeekboard`, `fcitx5` and `gsettings` programs first on PATH that record their
arguments in files; the tests wait on those files with a deadline."""
from __future__ import annotations

import configparser
import http.server
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
START = DEPLOY / "start-kiosk.sh"
INSTALL = DEPLOY / "install-kiosk.sh"
DESKTOP = DEPLOY / "kiosk.desktop"
INSTALLED_START = "/opt/market-pos/deploy/start-kiosk.sh"
SHELLCHECK = Path("/usr/bin/shellcheck")
BASH = shutil.which("bash") or "/bin/bash"

# The flags the kiosk had before the keyboard work; they must all survive.
KIOSK_FLAGS = [
    "--kiosk",
    "--kiosk-printing",
    "--noerrdialogs",
    "--disable-infobars",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--overscroll-history-navigation=0",
    "--check-for-update-interval=31536000",
    "--lang=vi",
]
X11_FLAGS = ["--ozone-platform=x11", "--force-renderer-accessibility"]
WAYLAND_FLAGS = ["--ozone-platform=wayland", "--enable-wayland-ime", "--wayland-text-input-version=3"]

needs_curl = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


# --- the scripts themselves ---------------------------------------------------------------------


@pytest.mark.parametrize("script", [START, INSTALL], ids=lambda p: p.name)
def test_script_parses(script: Path) -> None:
    result = subprocess.run([BASH, "-n", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(
    not SHELLCHECK.exists(),
    reason="shellcheck is not installed (/usr/bin/shellcheck, Debian package 'shellcheck')",
)
@pytest.mark.parametrize("script", [START, INSTALL], ids=lambda p: p.name)
def test_script_passes_shellcheck(script: Path) -> None:
    result = subprocess.run([str(SHELLCHECK), str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_scripts_are_executable_in_the_repository() -> None:
    for script in (START, INSTALL):
        assert os.access(script, os.X_OK), f"{script.name} lost its executable bit"


def read_desktop_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser["Desktop Entry"]


def test_desktop_entry_runs_the_kiosk_script() -> None:
    entry = read_desktop_entry(DESKTOP)
    assert entry["Type"] == "Application"
    assert shlex.split(entry["Exec"]) == [INSTALLED_START]
    assert Path(INSTALLED_START).name == START.name


@pytest.mark.skipif(os.geteuid() != 0, reason="install-kiosk.sh runs as root (chown of the user's files)")
def test_installer_is_idempotent_and_installs_what_the_entry_names(tmp_path: Path) -> None:
    """With MARKET_POS_KIOSK_DESTDIR every file goes under tmp_path and apt, systemctl and
    raspi-config are left alone; a second run writes nothing new."""
    root = tmp_path / "root"
    user = pwd.getpwuid(0)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "MARKET_POS_KIOSK_DESTDIR": str(root),
        "MARKET_POS_KIOSK_USER": user.pw_name,
    }

    def run() -> tuple[str, dict[str, tuple[bytes, int]]]:
        result = subprocess.run(
            [BASH, str(INSTALL)], env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stdout + result.stderr
        files = {
            str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mode & 0o7777)
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }
        return result.stdout, files

    first_out, first = run()
    second_out, second = run()
    assert second == first
    assert "wrote:" in first_out and "already up to date" in second_out

    installed = root / INSTALLED_START.lstrip("/")
    assert installed.read_bytes() == START.read_bytes()
    assert installed.stat().st_mode & 0o777 == 0o755
    autostart = root / user.pw_dir.lstrip("/") / ".config/autostart/kiosk.desktop"
    assert shlex.split(read_desktop_entry(autostart)["Exec"]) == [INSTALLED_START]
    unit = (root / "etc/systemd/system/market-pos.service").read_text()
    assert f"User={user.pw_name}\n" in unit
    assert f"ExecStart={user.pw_dir}/market-pos/.venv/bin/market-pos serve" in unit
    profile = (root / user.pw_dir.lstrip("/") / ".config/fcitx5/profile").read_text()
    assert "DefaultIM=unikey" in profile


# --- start-kiosk.sh against a real server and stub programs --------------------------------------


class Stall:
    """A tiny HTTP server on an ephemeral loopback port that counts the requests it answers and
    can answer 503 to the first few, like a stall that is still starting."""

    def __init__(self, failures: int = 0) -> None:
        self.paths: list[str] = []
        self.failures = failures
        lock = threading.Lock()
        stall = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                with lock:
                    stall.paths.append(self.path)
                    status = 503 if len(stall.paths) <= stall.failures else 200
                body = b"ok"
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Stall:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


STUB = """#!/bin/sh
# Stub of {name}: records its environment and arguments, one a line, for tests/test_deploy.py.
out='{out}'
printf 'GTK_IM_MODULE=%s\\nXMODIFIERS=%s\\n' "${{GTK_IM_MODULE-}}" "${{XMODIFIERS-}}" > "$out.env"
: > "$out.tmp"
for arg in "$@"; do printf '%s\\n' "$arg" >> "$out.tmp"; done
mv "$out.tmp" "$out"
"""

APPENDING_STUB = """#!/bin/sh
# Stub of {name}: appends each call's arguments as one line, for tests/test_deploy.py.
printf '%s\\n' "$*" >> '{out}'
"""


class Stubs:
    def __init__(self, tmp_path: Path) -> None:
        self.bin = tmp_path / "bin"
        self.out = tmp_path / "calls"
        self.bin.mkdir()
        self.out.mkdir()
        for name in ("chromium", "onboard", "squeekboard", "fcitx5"):
            self._write(name, STUB)
        self._write("gsettings", APPENDING_STUB)

    def _write(self, name: str, template: str) -> None:
        path = self.bin / name
        path.write_text(template.format(name=name, out=self.out / name))
        path.chmod(0o755)

    def called(self, name: str) -> bool:
        return (self.out / name).exists()

    def wait_for(self, name: str, timeout: float = 20.0) -> list[str]:
        """The arguments of the stub's call, once its record appears (or fail at the deadline)."""
        path = self.out / name
        deadline = time.monotonic() + timeout
        while not path.exists():
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} was not started within {timeout} s")
            time.sleep(0.02)
        return path.read_text().splitlines()

    def env_of(self, name: str) -> dict[str, str]:
        lines = (self.out / f"{name}.env").read_text().splitlines()
        return dict(line.split("=", 1) for line in lines)


@pytest.fixture
def stubs(tmp_path: Path) -> Stubs:
    return Stubs(tmp_path)


def kiosk_env(stubs: Stubs, tmp_path: Path, **settings: str) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {
        "PATH": f"{stubs.bin}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(home),
        "LANG": "C.UTF-8",
    }
    env.update(settings)
    return env


def run_kiosk(env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BASH, str(START)], env=env, capture_output=True, text=True, timeout=timeout
    )


@needs_curl
def test_x11_waits_for_the_stall_then_starts_onboard_fcitx5_and_chromium(
    stubs: Stubs, tmp_path: Path
) -> None:
    with Stall(failures=2) as stall:
        env = kiosk_env(
            stubs,
            tmp_path,
            MARKET_POS_KIOSK_URL=stall.url,
            MARKET_POS_KIOSK_WAIT_SECONDS="30",
            MARKET_POS_KIOSK_MODE="x11",
        )
        result = run_kiosk(env)
        assert result.returncode == 0, result.stderr
        chromium = stubs.wait_for("chromium")
        keyboard = stubs.wait_for("onboard")
        # It kept asking until the stall answered 200, on the unlock page.
        assert len(stall.paths) >= 3
        assert set(stall.paths) == {"/unlock"}

    assert chromium[-1] == stall.url
    for flag in KIOSK_FLAGS + X11_FLAGS:
        assert flag in chromium, flag
    assert not set(WAYLAND_FLAGS) & set(chromium)
    # Chromium hands keys to fcitx5 (fcitx5-unikey: Telex) through GTK's input-method module.
    assert stubs.env_of("chromium")["GTK_IM_MODULE"] == "fcitx"
    assert stubs.env_of("chromium")["XMODIFIERS"] == "@im=fcitx"
    assert stubs.wait_for("fcitx5") == ["-d"]
    assert keyboard == []
    settings = stubs.wait_for("gsettings")
    assert "set org.onboard.auto-show enabled true" in settings
    assert "set org.onboard.window docking-enabled true" in settings


@needs_curl
@pytest.mark.parametrize(
    "settings",
    [{"MARKET_POS_KIOSK_MODE": "wayland"}, {"WAYLAND_DISPLAY": "wayland-1"}],
    ids=["wayland", "auto-detected-wayland"],
)
def test_wayland_starts_the_system_keyboard_and_chromium_with_text_input(
    stubs: Stubs, tmp_path: Path, settings: dict[str, str]
) -> None:
    with Stall() as stall:
        env = kiosk_env(
            stubs, tmp_path, MARKET_POS_KIOSK_URL=stall.url, MARKET_POS_KIOSK_WAIT_SECONDS="30",
            **settings,
        )
        result = run_kiosk(env)
        assert result.returncode == 0, result.stderr
        chromium = stubs.wait_for("chromium")
        assert stubs.wait_for("squeekboard") == []

    assert chromium[-1] == stall.url
    for flag in KIOSK_FLAGS + WAYLAND_FLAGS:
        assert flag in chromium, flag
    assert "--force-renderer-accessibility" not in chromium
    assert not stubs.called("fcitx5") and not stubs.called("onboard")


@needs_curl
def test_gives_up_after_its_deadline_when_nothing_listens(stubs: Stubs, tmp_path: Path) -> None:
    with socket.socket() as s:  # an ephemeral port that nothing listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = kiosk_env(
        stubs,
        tmp_path,
        MARKET_POS_KIOSK_URL=f"http://127.0.0.1:{port}/",
        MARKET_POS_KIOSK_WAIT_SECONDS="1",
        MARKET_POS_KIOSK_MODE="x11",
    )
    started = time.monotonic()
    result = run_kiosk(env, timeout=30)
    elapsed = time.monotonic() - started

    assert result.returncode != 0
    assert "giving up" in result.stderr
    assert elapsed < 15, elapsed
    for name in ("chromium", "onboard", "fcitx5"):
        assert not stubs.called(name), f"{name} was started although the stall never answered"


def test_refuses_a_deadline_that_is_not_a_number(stubs: Stubs, tmp_path: Path) -> None:
    env = kiosk_env(stubs, tmp_path, MARKET_POS_KIOSK_WAIT_SECONDS="soon")
    result = run_kiosk(env, timeout=30)
    assert result.returncode == 2
    assert "whole number" in result.stderr
    assert not stubs.called("chromium")
