"""Printing: the job queue, CUPS through a fake `lp`, ESC/POS to an emulated network printer and to
a USB device, paper-out, hung printers, stale jobs, and the worker thread.

Nothing of ours is mocked: the fakes are an `lp` shell script first on PATH, a TCP server on
127.0.0.1 and a pseudo-terminal (a character device, as /dev/usb/lp0 is); the database is a real
migrated SQLite file.
"""
from __future__ import annotations

import os
import random
import re
import shutil
import socket
import sqlite3
import stat
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from PIL import Image

from pos import db, sales, settings
from pos import migrations
from sync.errors import Conflict, InvalidInput, NotFound
from pos.printing import queue as print_queue
from pos.printing.backends import Rendered
from pos.printing.cups import CupsBackend, media_option
from pos.printing.config import KEY_AUTO_PRINT, KEY_HOST, KEY_PORT, KEY_STATUS_STATE, PrinterConfig
from pos.printing.escpos import escpos_raster, EscposDeviceBackend, fit_raster
from pos.printing.messages import PAPER_OUT, RENDER_FAILED, message_text, PrinterError
from pos.printing.queue import Job
from pos.printing.status import printer_status
from pos.printing.worker import MAX_RENDER_ATTEMPTS, backoff_seconds, PrintWorker
from tests.harness.usb_printer import PtyPrinter

DLE_EOT_4 = b"\x10\x04\x04"
TAIL = b"\x1bd\x04\x1dVB\x00"
# A generous deadline for something that should happen at once: waits return as soon as it has
# happened, so a long deadline costs a passing test nothing and a loaded machine no false failure.
DEADLINE = 10.0


# --- helpers --------------------------------------------------------------------------------------

def page_image(width: int, height: int, seed: int = 1) -> Image.Image:
    """A 1-bit image with every kind of byte in it (deterministic noise plus a black frame)."""
    noise = random.Random(seed).randbytes(((width + 7) // 8) * height)
    image = Image.frombytes("1", (width, height), noise)
    for x in range(width):
        image.putpixel((x, 0), 0)
        image.putpixel((x, height - 1), 0)
    return image


class FakeRenderer:
    """Stands in for the receipt renderer: a PDF-ish byte string and a real 1-bit image."""

    def __init__(self, width: int = 384, height: int = 120):
        self.width, self.height = width, height
        self.calls: list[Job] = []
        self.fail = False
        self.images: dict[int, Image.Image] = {}

    def __call__(self, conn: sqlite3.Connection, job: Job) -> Rendered:
        self.calls.append(job)
        if self.fail:
            raise RuntimeError("template missing")
        image = page_image(self.width, self.height, seed=job.id)
        self.images[job.id] = image
        return Rendered(pdf=b"%PDF-1.4\n% fake " + job.kind.encode() + b" " + job.ref.encode(),
                        raster=image)


def decode_escpos(data: bytes) -> tuple[Image.Image, list[tuple[int, int]]]:
    """Read back what an ESC/POS printer would print: ESC @, GS v 0 bands, feed and cut."""
    assert data[:2] == b"\x1b@", data[:16]
    pos, headers, rows = 2, [], bytearray()
    while data[pos:pos + 4] == b"\x1dv0\x00":
        x_l, x_h, y_l, y_h = data[pos + 4:pos + 8]
        width_bytes, height = x_l + 256 * x_h, y_l + 256 * y_h
        headers.append((width_bytes, height))
        pos += 8
        rows += data[pos:pos + width_bytes * height]
        pos += width_bytes * height
    assert headers, "no GS v 0 band"
    assert data[pos:] == TAIL
    assert len({w for w, _h in headers}) == 1
    width_bytes = headers[0][0]
    inverted = bytes(255 - b for b in rows)  # ESC/POS: 1 = black; PIL mode "1": 1 = white
    return Image.frombytes("1", (width_bytes * 8, sum(h for _w, h in headers)), inverted), headers


def same_pixels(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and a.convert("L").tobytes() == b.convert("L").tobytes()


class FakePrinter:
    """An ESC/POS printer on 127.0.0.1: mode 'ok' (answers the paper sensor, records the job),
    'silent' (never answers the sensor, records), 'paper_out' (answers 0x72), 'hang' (accepts and
    never reads, with a tiny receive buffer).

    A hung printer stays hung until the test switches it off with `close()`: held connections
    are then reset and new ones refused. Nothing about it runs on a clock."""

    def __init__(self, mode: str = "ok"):
        self.mode = mode
        self.jobs: list[bytes] = []
        self.status_queries = 0
        self.accepted = threading.Event()
        self._held: list[socket.socket] = []
        self._closed = False
        self.listener = socket.socket()
        if mode == "hang":
            self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self._closed:
            try:
                conn, _addr = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            self.accepted.set()
            if self.mode == "hang":
                self._held.append(conn)
                continue
            with conn:
                self._handle(conn)

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        data = b""
        while len(data) < 3:
            chunk = conn.recv(3 - len(data))
            if not chunk:
                break
            data += chunk
        if data == DLE_EOT_4:
            self.status_queries += 1
            data = b""
            if self.mode == "paper_out":
                conn.sendall(b"\x72")  # fixed bits 0x12 + paper end 0x60
            elif self.mode == "ok":
                conn.sendall(b"\x12")  # paper present
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        if data:
            self.jobs.append(data)

    def close(self) -> None:
        """Switch the printer off (again: nothing happens): refuse new connections, then reset
        the held ones, after the serving thread has stopped so that none is accepted late."""
        self._closed = True
        self.listener.close()
        self.thread.join(DEADLINE)
        assert not self.thread.is_alive(), "the fake printer did not stop"
        for conn in self._held:
            conn.close()


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (connections are refused)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


FAKE_LP = """#!/bin/sh
d="$FAKE_LP_DIR"
printf '%s\\n' "$@" > "$d/args"
cat > "$d/stdin"
echo x >> "$d/calls"
mode=$(cat "$d/mode" 2>/dev/null)
case "$mode" in
  fail) echo "lp: The printer or class does not exist." >&2; exit 1 ;;
  hang) sleep 30 & echo $! > "$d/sleep_pid"; wait; exit 0 ;;
  *) echo "request id is POS58-7 (1 file(s))"; exit 0 ;;
esac
"""


class FakeLp:
    def __init__(self, folder: Path):
        self.dir = folder

    def mode(self, mode: str) -> None:
        (self.dir / "mode").write_text(mode)

    @property
    def calls(self) -> int:
        path = self.dir / "calls"
        return len(path.read_text().split()) if path.exists() else 0

    @property
    def args(self) -> list[str]:
        return (self.dir / "args").read_text().splitlines()

    @property
    def stdin(self) -> bytes:
        return (self.dir / "stdin").read_bytes()


def process_gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def wait_for(predicate: Any, timeout: float = DEADLINE) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


# --- fixtures -------------------------------------------------------------------------------------

@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "pos.sqlite3"
    migrations.migrate(path)
    return path


@pytest.fixture
def conn(db_path: Path) -> Iterator[sqlite3.Connection]:
    connection = db.connect(db_path)
    yield connection
    connection.close()


@pytest.fixture
def renderer() -> FakeRenderer:
    return FakeRenderer()


@pytest.fixture
def worker(db_path: Path, renderer: FakeRenderer) -> Iterator[PrintWorker]:
    w = PrintWorker(db_path, renderer, poll_seconds=30)
    yield w
    w.stop()
    w.close()


@pytest.fixture
def fake_lp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeLp:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    lp = bin_dir / "lp"
    lp.write_text(FAKE_LP)
    lp.chmod(lp.stat().st_mode | stat.S_IXUSR)
    record = tmp_path / "lp-record"
    record.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("FAKE_LP_DIR", str(record))
    return FakeLp(record)


@pytest.fixture
def printer() -> Iterator[FakePrinter]:
    server = FakePrinter("ok")
    yield server
    server.close()


def use_network(conn: sqlite3.Connection, port: int, **extra: Any) -> None:
    PrinterConfig.save(conn, {"backend": "escpos-net", "host": "127.0.0.1", "port": port,
                              "timeout": 1, "status_timeout": 0.2, **extra})


def job(conn: sqlite3.Connection, job_id: int) -> Job:
    found = print_queue.get_job(conn, job_id)
    assert found is not None
    return found


LATER = 600.0  # look ten minutes ahead: every back-off (at most ~66 s) has run out, and no job
#                is stale yet (30 minutes)


# --- ESC/POS encoding -----------------------------------------------------------------------------

@pytest.mark.parametrize("paper, dots, width_bytes", [("58", 384, 48), ("80", 576, 72)])
def test_raster_bands_decode_to_the_rendered_image(paper: str, dots: int, width_bytes: int) -> None:
    image = page_image(dots, 600)
    data = escpos_raster(image)
    decoded, headers = decode_escpos(data)
    assert headers == [(width_bytes, 255), (width_bytes, 255), (width_bytes, 90)]
    assert same_pixels(decoded, image)
    assert PrinterConfig(paper=paper).dots == dots


def test_raster_pads_the_width_to_whole_bytes_with_white() -> None:
    image = page_image(100, 3)
    decoded, headers = decode_escpos(escpos_raster(image))
    assert headers == [(13, 3)]
    assert same_pixels(decoded.crop((0, 0, 100, 3)), image)
    assert decoded.crop((100, 0, 104, 3)).convert("L").getextrema() == (255, 255)


def test_pages_are_fitted_to_the_printer_width() -> None:
    wide = fit_raster(Image.new("L", (768, 200), 0), 384)
    assert (wide.mode, wide.size) == ("1", (384, 100))
    narrow = fit_raster(page_image(300, 10), 384)
    assert narrow.size == (384, 10)
    assert narrow.crop((0, 0, 42, 10)).convert("L").getextrema() == (255, 255)  # centred
    assert same_pixels(narrow.crop((42, 0, 342, 10)), page_image(300, 10))


# --- settings -------------------------------------------------------------------------------------

def test_config_defaults_and_round_trip(conn: sqlite3.Connection) -> None:
    config = PrinterConfig.load(conn)
    assert (config.backend, config.port, config.paper, config.dots, config.auto_print,
            config.stale_minutes) == ("none", 9100, "58", 384, False, 30)
    saved = PrinterConfig.save(conn, {"backend": "escpos-net", "host": "192.168.1.50",
                                      "port": "9100", "paper": "80", "auto_print": "on",
                                      "stale_minutes": "45", "timeout": "2,5"})
    assert PrinterConfig.load(conn) == saved
    assert (saved.dots, saved.auto_print, saved.stale_minutes, saved.timeout) == (
        576, True, 45, 2.5)
    assert conn.execute("SELECT value FROM settings WHERE key = ?",
                        (KEY_HOST,)).fetchone()[0] == "192.168.1.50"
    # A partial change keeps the rest.
    assert PrinterConfig.save(conn, {"auto_print": False}).host == "192.168.1.50"


@pytest.mark.parametrize("values, field", [
    ({"backend": "bluetooth"}, "backend"),
    ({"backend": "cups"}, "cups_queue"),
    ({"backend": "cups", "cups_queue": "-o evil"}, "cups_queue"),
    ({"backend": "cups", "cups_queue": "my printer"}, "cups_queue"),
    ({"backend": "escpos-net"}, "host"),
    ({"host": "printer;rm -rf"}, "host"),
    ({"port": 70000}, "port"),
    ({"port": True}, "port"),
    ({"device": "lp0"}, "device"),
    ({"backend": "escpos-usb", "device": ""}, "device"),
    ({"paper": "57"}, "paper"),
    ({"printable_58": "39"}, "printable_58"),
    ({"printable_58": "59"}, "printable_58"),
    ({"printable_58": "47,5"}, "printable_58"),
    ({"printable_58": True}, "printable_58"),
    ({"printable_80": "59"}, "printable_80"),
    ({"printable_80": "81"}, "printable_80"),
    ({"printable_80": "ba mươi"}, "printable_80"),
    ({"auto_print": "maybe"}, "auto_print"),
    ({"stale_minutes": 0}, "stale_minutes"),
    ({"stale_minutes": "1.5"}, "stale_minutes"),
    ({"timeout": 0.1}, "timeout"),
    ({"status_timeout": "x"}, "status_timeout"),
    ({"colour": "red"}, "colour"),
])
def test_bad_settings_are_refused_and_change_nothing(conn: sqlite3.Connection,
                                                     values: dict[str, Any], field: str) -> None:
    before = conn.execute("SELECT * FROM settings ORDER BY key").fetchall()
    with pytest.raises(InvalidInput) as refused:
        PrinterConfig.save(conn, values)
    assert refused.value.field == field
    assert str(refused.value.message)  # a readable English sentence outside a request
    assert conn.execute("SELECT * FROM settings ORDER BY key").fetchall() == before


def test_the_printable_width_is_a_setting_of_each_roll(conn: sqlite3.Connection) -> None:
    """48 mm on 58 mm paper and 72 on 80 unless the stall says otherwise; the raster is as many
    dots wide at 203 dpi (8 a mm), so the defaults keep the 384 and 576 dots of the heads."""
    config = PrinterConfig.load(conn)
    assert (config.printable_58, config.printable_80, config.printable_mm) == (48, 72, 48)
    assert (config.printable_for("58"), config.printable_for("80"),
            config.printable_for("A4")) == (48, 72, None)
    saved = PrinterConfig.save(conn, {"printable_58": "46", "printable_80": 70.0})
    assert (saved.printable_58, saved.printable_80, saved.dots) == (46, 70, 368)
    assert PrinterConfig.load(conn) == saved
    assert PrinterConfig.save(conn, {"paper": "80"}).dots == 560
    # An emptied field is the usual width again, as an emptied port is 9100.
    assert PrinterConfig.save(conn, {"printable_80": ""}).printable_80 == 72


def test_a_damaged_stored_value_falls_back_to_its_default(conn: sqlite3.Connection) -> None:
    with db.write_transaction(conn):
        conn.execute("INSERT INTO settings VALUES (?, 'lots')", (KEY_PORT,))
    assert PrinterConfig.load(conn).port == 9100


# --- the queue ------------------------------------------------------------------------------------

def test_enqueue_list_cancel_retry_release(conn: sqlite3.Connection) -> None:
    first = print_queue.enqueue(conn, "receipt", "sale-1")
    second = print_queue.enqueue(conn, "receipt", "sale-1", copy=True)
    third = print_queue.enqueue(conn, "selftest", "")
    jobs = print_queue.list_jobs(conn)
    assert [j.id for j in jobs] == [third, second, first]
    assert (jobs[1].kind, jobs[1].ref, jobs[1].copy, jobs[1].state) == (
        "receipt", "sale-1", True, "queued")
    assert [j.id for j in print_queue.list_jobs(conn, limit=1)] == [third]

    assert print_queue.cancel(conn, second).state == "cancelled"
    with pytest.raises(Conflict):
        print_queue.cancel(conn, second)
    with pytest.raises(Conflict):
        print_queue.release(conn, first)  # only a held job waits for a release
    with pytest.raises(NotFound):
        print_queue.retry(conn, 9999)
    with pytest.raises(InvalidInput):
        print_queue.enqueue(conn, "poster", "x")
    assert [j.id for j in print_queue.list_jobs(conn, states=["queued"])] == [third, first]


def test_auto_print_queues_the_receipt_only_when_switched_on(conn: sqlite3.Connection) -> None:
    assert print_queue.enqueue_receipt_if_auto(conn, "sale-1") is None
    PrinterConfig.save(conn, {"backend": "cups", "cups_queue": "POS58", "auto_print": True})
    job_id = print_queue.enqueue_receipt_if_auto(conn, "sale-1")
    assert job_id is not None and job(conn, job_id).ref == "sale-1"
    PrinterConfig.save(conn, {"auto_print": False})
    assert print_queue.enqueue_receipt_if_auto(conn, "sale-2") is None
    settings.write(conn, KEY_AUTO_PRINT, "maybe")   # a damaged value reads as off
    assert print_queue.enqueue_receipt_if_auto(conn, "sale-2") is None
    settings.write(conn, KEY_AUTO_PRINT, " ON ")
    assert print_queue.enqueue_receipt_if_auto(conn, "sale-2") is not None


def test_messages_are_translatable() -> None:
    assert str(message_text(PAPER_OUT)) == "Printer out of paper"
    assert str(message_text("Print command failed: lp: no queue")) == \
        "Print command failed: lp: no queue"
    assert message_text(None) == ""


# --- CUPS -----------------------------------------------------------------------------------------

def test_cups_sends_the_pdf_to_lp_with_the_queue(conn: sqlite3.Connection, worker: PrintWorker,
                                                 fake_lp: FakeLp) -> None:
    PrinterConfig.save(conn, {"backend": "cups", "cups_queue": "POS58", "timeout": 1})
    job_id = print_queue.enqueue(conn, "receipt", "sale-42")
    assert printer_status(conn)["state"] == "unknown"
    assert worker.run_once() == 1
    assert job(conn, job_id).state == "done"
    assert fake_lp.args[:2] == ["-d", "POS58"]
    assert fake_lp.stdin == b"%PDF-1.4\n% fake receipt sale-42"
    status = printer_status(conn)
    assert (status["state"], status["message"], status["queued"]) == ("ok", "Printer ready", 0)
    assert status["at"] == pytest.approx(time.time(), abs=5)


@pytest.mark.parametrize("paper", ["58", "80", "A4"])
def test_lp_asks_for_the_pdfs_own_page_size(paper: str, tmp_path: Path,
                                            fake_lp: FakeLp) -> None:
    """A receipt is as long as its content: `lp -o media=Custom.WxHmm` with the size pdfinfo
    (poppler, not our code) reads from the same PDF, rounded up to a tenth of a millimetre."""
    if shutil.which("pdfinfo") is None:
        pytest.skip("pdfinfo is not installed (apt-get install poppler-utils)")
    from pos.paper import render_pdf
    from pos.reports import selftest_document
    pdf = render_pdf(selftest_document({"stall_name": "Sạp chè cô Lan"}, paper), paper)
    path = tmp_path / "page.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True,
                          check=True).stdout
    width_pt, height_pt = map(float, re.search(r"Page size:\s+([0-9.]+) x ([0-9.]+) pts",
                                                info).groups())
    CupsBackend("POS58", timeout=5).send(Rendered(pdf=pdf, raster=Image.new("1", (8, 8))))
    args = fake_lp.args
    assert args[:3] == ["-d", "POS58", "-o"] and len(args) == 4, args
    width_mm, height_mm = map(float, re.fullmatch(r"media=Custom\.([0-9.]+)x([0-9.]+)mm",
                                                  args[3]).groups())
    for asked, actual_pt in ((width_mm, width_pt), (height_mm, height_pt)):
        actual = actual_pt * 25.4 / 72
        assert actual - 0.01 <= asked <= actual + 0.11, (asked, actual)
    if paper == "A4":
        assert (width_mm, height_mm) == (210, 297)
    else:   # a roll: the printable width of the roll, the length of what is printed
        assert width_mm < int(paper) and height_mm > 20
    assert fake_lp.stdin == pdf


def test_lp_gets_no_media_when_the_pdf_has_no_page_size() -> None:
    assert media_option(b"%PDF-1.4 no page here") == []
    assert media_option(b"/MediaBox [0 0 1 1]") == []          # 0.35 mm: not a page


def test_lp_failure_is_retried_until_lp_succeeds(conn: sqlite3.Connection, worker: PrintWorker,
                                                 fake_lp: FakeLp) -> None:
    PrinterConfig.save(conn, {"backend": "cups", "cups_queue": "POS58", "timeout": 1})
    fake_lp.mode("fail")
    job_id = print_queue.enqueue(conn, "receipt", "sale-1")
    started = time.time()
    assert worker.run_once() == 0
    failed = job(conn, job_id)
    assert (failed.state, failed.attempts) == ("queued", 1)
    assert failed.last_error == "Print command failed: lp: The printer or class does not exist."
    assert 2 <= failed.next_attempt_at - started <= 2.2 + (time.time() - started)
    status = printer_status(conn)
    assert (status["state"], status["message"], status["queued"]) == (
        "error", failed.last_error, 1)

    assert worker.run_once() == 0  # not due yet: lp is not called again at once
    assert fake_lp.calls == 1
    fake_lp.mode("ok")
    assert worker.run_once(now=time.time() + LATER) == 1
    assert job(conn, job_id).state == "done"
    assert printer_status(conn)["state"] == "ok"


def test_a_hung_lp_is_killed_at_the_timeout_and_retried(conn: sqlite3.Connection,
                                                        worker: PrintWorker,
                                                        fake_lp: FakeLp) -> None:
    PrinterConfig.save(conn, {"backend": "cups", "cups_queue": "POS58", "timeout": 1})
    fake_lp.mode("hang")
    job_id = print_queue.enqueue(conn, "receipt", "sale-1")
    started = time.monotonic()
    worker.run_once()
    assert time.monotonic() - started < DEADLINE  # the fake lp would take 30 s: it was killed
    hung = job(conn, job_id)
    assert (hung.state, hung.attempts) == ("queued", 1)
    assert hung.last_error is not None
    assert hung.last_error.startswith("Print command failed: lp did not finish in 1 s")
    sleeper = int((fake_lp.dir / "sleep_pid").read_text())
    assert wait_for(lambda: process_gone(sleeper)), "lp's children were left running"

    fake_lp.mode("ok")
    assert worker.run_once(now=time.time() + LATER) == 1
    assert job(conn, job_id).state == "done"
    assert fake_lp.stdin.startswith(b"%PDF")


def test_missing_lp_is_a_clear_error(conn: sqlite3.Connection, worker: PrintWorker,
                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    PrinterConfig.save(conn, {"backend": "cups", "cups_queue": "POS58"})
    job_id = print_queue.enqueue(conn, "selftest")
    worker.run_once()
    assert job(conn, job_id).last_error == "Print command failed: lp not found (is CUPS installed?)"


# --- ESC/POS over the network ---------------------------------------------------------------------

@pytest.mark.parametrize("paper, dots, width_bytes", [("58", 384, 48), ("80", 576, 72)])
def test_network_printer_receives_the_raster(conn: sqlite3.Connection, db_path: Path,
                                             printer: FakePrinter, paper: str, dots: int,
                                             width_bytes: int) -> None:
    renderer = FakeRenderer(width=dots, height=300)
    worker = PrintWorker(db_path, renderer)
    try:
        use_network(conn, printer.port, paper=paper)
        job_id = print_queue.enqueue(conn, "receipt", "sale-1")
        assert worker.run_once() == 1
    finally:
        worker.close()
    assert job(conn, job_id).state == "done"
    assert printer.status_queries == 1
    [data] = printer.jobs
    assert data.startswith(b"\x1b@")
    decoded, headers = decode_escpos(data)
    assert {w for w, _h in headers} == {width_bytes}
    assert same_pixels(decoded, renderer.images[job_id])
    assert printer_status(conn)["state"] == "ok"


def test_a_printer_that_never_answers_the_paper_sensor_still_prints(
        conn: sqlite3.Connection, worker: PrintWorker, renderer: FakeRenderer) -> None:
    server = FakePrinter("silent")
    try:
        use_network(conn, server.port)
        job_id = print_queue.enqueue(conn, "receipt", "sale-1")
        assert worker.run_once() == 1
        [data] = server.jobs
    finally:
        server.close()
    assert job(conn, job_id).state == "done"
    assert same_pixels(decode_escpos(data)[0], renderer.images[job_id])


def test_refused_connection_is_printer_not_connected(conn: sqlite3.Connection,
                                                     worker: PrintWorker) -> None:
    use_network(conn, closed_port())
    job_id = print_queue.enqueue(conn, "receipt", "sale-1")
    assert worker.run_once() == 0
    assert (job(conn, job_id).state, job(conn, job_id).last_error) == (
        "queued", "Printer not connected")
    status = printer_status(conn)
    assert (status["state"], status["message"]) == ("error", "Printer not connected")


def test_a_hung_printer_times_out_and_the_job_waits(conn: sqlite3.Connection,
                                                    db_path: Path) -> None:
    server = FakePrinter("hang")
    # A long page, so that it cannot all vanish into the kernel's socket buffers.
    worker = PrintWorker(db_path, FakeRenderer(width=576, height=80_000))
    try:
        use_network(conn, server.port, paper="80")
        job_id = print_queue.enqueue(conn, "report", "2024-05-01")
        started = time.monotonic()
        assert worker.run_once() == 0
        # The printer hangs until closed; only the 1 s timeout can end the attempt this soon.
        assert time.monotonic() - started < DEADLINE
    finally:
        worker.close()
        server.close()
    assert (job(conn, job_id).state, job(conn, job_id).last_error) == (
        "queued", "Printer did not answer")
    assert printer_status(conn)["message"] == "Printer did not answer"


def test_paper_out_waits_and_prints_after_recovery(conn: sqlite3.Connection, worker: PrintWorker,
                                                   renderer: FakeRenderer) -> None:
    server = FakePrinter("paper_out")
    try:
        use_network(conn, server.port)
        first = print_queue.enqueue(conn, "receipt", "sale-1")
        second = print_queue.enqueue(conn, "receipt", "sale-2")
        assert worker.run_once() == 0
        status = printer_status(conn)
        assert (status["state"], status["message"], status["queued"]) == (
            "error", "Printer out of paper", 2)
        assert server.jobs == []
        # One attempt for the whole printer: the second job waits behind the first's back-off.
        assert (job(conn, first).attempts, job(conn, second).attempts) == (1, 0)
        assert job(conn, second).next_attempt_at == job(conn, first).next_attempt_at
        assert worker.run_once() == 0 and server.status_queries == 1

        server.mode = "ok"  # the vendor loads a new roll
        assert worker.run_once(now=time.time() + LATER) == 2
        assert [job(conn, j).state for j in (first, second)] == ["done", "done"]
        assert [same_pixels(decode_escpos(d)[0], renderer.images[j])
                for d, j in zip(server.jobs, (first, second))] == [True, True]
        assert printer_status(conn)["state"] == "ok"
    finally:
        server.close()


def test_backoff_grows_to_a_minute() -> None:
    delays = [backoff_seconds(n) for n in range(1, 10)]
    assert all(2 ** n <= d <= 2 ** n * 1.1 for n, d in zip((1, 2, 3, 4, 5), delays))
    assert all(60 <= d <= 66 for d in delays[5:])


def test_success_brings_the_waiting_jobs_forward(conn: sqlite3.Connection, worker: PrintWorker,
                                                 printer: FakePrinter) -> None:
    use_network(conn, printer.port)
    waiting = print_queue.enqueue(conn, "receipt", "sale-1")
    with db.write_transaction(conn):  # as if it had failed a few times while the printer was off
        conn.execute("UPDATE print_jobs SET attempts = 5, next_attempt_at = ? WHERE id = ?",
                     (time.time() + 60, waiting))
    new = print_queue.enqueue(conn, "receipt", "sale-2")
    assert worker.run_once() == 2
    assert [job(conn, j).state for j in (waiting, new)] == ["done", "done"]


# --- stale jobs -----------------------------------------------------------------------------------

def test_old_jobs_are_held_until_the_vendor_releases_them(conn: sqlite3.Connection,
                                                          worker: PrintWorker,
                                                          printer: FakePrinter) -> None:
    use_network(conn, printer.port)
    old = print_queue.enqueue(conn, "receipt", "sale-morning")
    fresh = print_queue.enqueue(conn, "receipt", "sale-now")
    with db.write_transaction(conn):
        conn.execute("UPDATE print_jobs SET created_at = created_at - 7200 WHERE id = ?", (old,))
    assert worker.run_once() == 1
    assert (job(conn, old).state, job(conn, fresh).state) == ("held", "done")
    assert len(printer.jobs) == 1
    status = printer_status(conn)
    assert (status["held"], status["queued"]) == (1, 0)

    assert worker.run_once(now=time.time() + 120) == 0  # held means held, however often we look
    assert len(printer.jobs) == 1

    released = print_queue.release(conn, old)
    assert released.state == "queued"
    assert worker.run_once() == 1
    assert job(conn, old).state == "done"
    assert len(printer.jobs) == 2


def test_jobs_become_held_even_while_printing_is_off(conn: sqlite3.Connection,
                                                     worker: PrintWorker,
                                                     renderer: FakeRenderer) -> None:
    job_id = print_queue.enqueue(conn, "receipt", "sale-1")
    assert worker.run_once() == 0
    assert job(conn, job_id).state == "queued"
    assert renderer.calls == []
    status = printer_status(conn)
    assert (status["state"], status["message"], status["queued"]) == ("off", "Printing is off", 1)
    assert conn.execute("SELECT value FROM settings WHERE key = ?",
                        (KEY_STATUS_STATE,)).fetchone()[0] == "off"
    assert worker.run_once(now=time.time() + 31 * 60) == 0
    assert job(conn, job_id).state == "held"  # a printer set up tonight will not print it


# --- status and errors of a job -------------------------------------------------------------------

def test_status_follows_each_state_and_the_configured_printer(conn: sqlite3.Connection,
                                                              worker: PrintWorker,
                                                              printer: FakePrinter) -> None:
    assert printer_status(conn)["state"] == "off"
    use_network(conn, closed_port())
    assert printer_status(conn)["state"] == "unknown"
    print_queue.enqueue(conn, "selftest")
    worker.run_once()
    assert printer_status(conn)["state"] == "error"
    use_network(conn, printer.port)  # another printer: what we knew is about the old one
    status = printer_status(conn)
    assert (status["state"], status["message"], status["at"]) == (
        "unknown", "Printer not tried yet", None)
    worker.run_once(now=time.time() + LATER)
    assert printer_status(conn)["state"] == "ok"


def test_a_render_error_fails_the_job_not_the_printer(conn: sqlite3.Connection,
                                                      worker: PrintWorker, renderer: FakeRenderer,
                                                      printer: FakePrinter) -> None:
    use_network(conn, printer.port)
    renderer.fail = True
    job_id = print_queue.enqueue(conn, "receipt", "no-such-sale")
    for n in range(MAX_RENDER_ATTEMPTS):
        worker.run_once(now=time.time() + LATER * n / 10)
    broken = job(conn, job_id)
    assert (broken.state, broken.attempts, broken.last_error) == (
        "failed", MAX_RENDER_ATTEMPTS, RENDER_FAILED)
    status = printer_status(conn)
    assert (status["state"], status["failed"]) == ("unknown", 1)
    assert printer.jobs == []

    renderer.fail = False
    assert print_queue.retry(conn, job_id).state == "queued"
    assert worker.run_once() == 1
    assert job(conn, job_id).state == "done"


def test_a_job_cancelled_while_printing_stays_cancelled(conn: sqlite3.Connection, db_path: Path,
                                                        printer: FakePrinter) -> None:
    def cancelling_renderer(c: sqlite3.Connection, j: Job) -> Rendered:
        print_queue.cancel(db.connect(db_path), j.id)  # the vendor, from another connection
        return Rendered(pdf=b"%PDF", raster=page_image(384, 8))

    worker = PrintWorker(db_path, cancelling_renderer)
    try:
        use_network(conn, printer.port)
        job_id = print_queue.enqueue(conn, "receipt", "sale-1")
        worker.run_once()
    finally:
        worker.close()
    assert job(conn, job_id).state == "cancelled"


# --- ESC/POS on a USB device (a pseudo-terminal stands in for /dev/usb/lp0) -----------------------

def test_device_backend_writes_to_a_character_device() -> None:
    image = page_image(384, 50)
    expected = escpos_raster(image)
    with PtyPrinter() as printer:
        EscposDeviceBackend(printer.path, dots=384, timeout=1).send(Rendered(b"", image))
        assert printer.wait_for(len(expected)) == expected


def test_device_backend_missing_device_is_not_connected(tmp_path: Path) -> None:
    with pytest.raises(PrinterError) as error:
        EscposDeviceBackend(tmp_path / "nothing", timeout=1).send(
            Rendered(b"", page_image(384, 8)))
    assert error.value.message == "Printer not connected"
    assert not (tmp_path / "nothing").exists()


def test_device_backend_unplugged_printer_is_not_connected() -> None:
    printer = PtyPrinter()
    path = printer.path
    printer.close()
    with pytest.raises(PrinterError) as error:
        EscposDeviceBackend(path, timeout=1).send(Rendered(b"", page_image(384, 8)))
    assert error.value.message == "Printer not connected"


def test_device_backend_gives_up_on_a_printer_that_stops_reading() -> None:
    image = page_image(384, 4000)  # 192 kB: more than the terminal's buffer holds
    with PtyPrinter(reading=False) as printer:
        started = time.monotonic()
        with pytest.raises(PrinterError) as error:  # lid open: the write waits, then gives up
            EscposDeviceBackend(printer.path, dots=384, timeout=1).send(Rendered(b"", image))
        assert error.value.message == "Printer did not answer"
        assert time.monotonic() - started < DEADLINE  # it never reads: the 1 s timeout gave up
        assert 0 < len(printer.received()) < len(escpos_raster(image))


def test_worker_prints_to_a_usb_device_path(conn: sqlite3.Connection, worker: PrintWorker,
                                            renderer: FakeRenderer) -> None:
    printer = PtyPrinter()
    try:
        PrinterConfig.save(conn, {"backend": "escpos-usb", "device": printer.path, "timeout": 1})
        job_id = print_queue.enqueue(conn, "selftest")
        assert worker.run_once() == 1
        size = len(escpos_raster(renderer.images[job_id]))
        assert same_pixels(decode_escpos(printer.wait_for(size))[0], renderer.images[job_id])
    finally:
        printer.close()  # unplugged
    missing = print_queue.enqueue(conn, "selftest")
    worker.run_once()
    assert job(conn, missing).last_error == "Printer not connected"


# --- the worker thread ----------------------------------------------------------------------------

def test_the_thread_prints_at_once_when_woken_and_stops_promptly(
        conn: sqlite3.Connection, worker: PrintWorker, printer: FakePrinter) -> None:
    use_network(conn, printer.port)
    worker.start()  # polls only every 30 s: a print within 2 s comes from wake()
    job_id = print_queue.enqueue(conn, "receipt", "sale-1")
    worker.wake()
    assert wait_for(lambda: job(conn, job_id).state == "done")  # < 30 s: woken, not polled
    started = time.monotonic()
    worker.stop(timeout=DEADLINE)
    assert time.monotonic() - started < 5  # not the 30 s poll: stop() wakes the idle thread
    assert not worker.running


def test_a_hung_printer_never_blocks_a_sale(conn: sqlite3.Connection, db_path: Path) -> None:
    def receipt(c: sqlite3.Connection, j: Job) -> Rendered:
        sale = sales.get_sale(c, j.ref)  # read through the worker's own connection
        return Rendered(pdf=f"%PDF sale {sale['number']}".encode(),
                        raster=page_image(576, 80_000))

    # The printer hangs until the test switches it off, and the printer timeout (120 s, the
    # most allowed) is far beyond every wait below: while the test looks, the worker is stuck in
    # the first receipt, whatever the load of the machine. (It once used a 3 s timeout and a
    # 3 s stop(); a second receipt then started a second hang that raced the stop.)
    server = FakePrinter("hang")
    worker = PrintWorker(db_path, receipt, poll_seconds=30)
    try:
        use_network(conn, server.port, paper="80", auto_print=True, timeout=120)
        worker.start()
        request = {"lines": [{"name": "Chè Shan tuyết", "unit_price": 120000, "quantity": "1"}],
                   "payments": [{"method": "cash", "amount": 120000, "tendered": 200000}]}
        first = sales.record_sale(conn, "device-1", request, "owner")
        assert print_queue.enqueue_receipt_if_auto(conn, first["id"]) is not None
        assert server.accepted.wait(DEADLINE)  # the worker is now talking to the hung printer

        # A second sale, in a thread so that a sale that waited for the printer fails the test
        # (after DEADLINE) instead of hanging it.
        sold: dict[str, Any] = {}
        done = threading.Event()

        def sell() -> None:
            sold["sale"] = sales.record_sale(conn, "device-1", request, "owner")
            sold["job"] = print_queue.enqueue_receipt_if_auto(conn, sold["sale"]["id"])
            done.set()

        threading.Thread(target=sell, daemon=True).start()
        assert done.wait(DEADLINE), "a sale waited for the hung printer"
        assert sold["job"] is not None
        assert sold["sale"]["number"] == first["number"] + 1
        status = printer_status(conn)
        assert (status["state"], status["queued"]) == ("unknown", 2)  # still stuck in the first

        # The printer is switched off: the stuck attempt ends, and both receipts wait.
        server.close()
        assert wait_for(lambda: printer_status(conn)["state"] == "error"
                        and all(j.attempts >= 1 for j in print_queue.list_jobs(conn)))
        status = printer_status(conn)
        assert (status["message"], status["queued"]) == ("Printer not connected", 2)
    finally:
        server.close()
        worker.stop(timeout=DEADLINE)  # idle by now (or, at worst, in a refused connection)
    assert not worker.running


def test_only_one_worker_prints_from_a_database(conn: sqlite3.Connection, db_path: Path,
                                                printer: FakePrinter) -> None:
    use_network(conn, printer.port)
    first, second = (PrintWorker(db_path, FakeRenderer()) for _ in range(2))
    try:
        print_queue.enqueue(conn, "receipt", "sale-1")
        assert first.run_once() == 1
        print_queue.enqueue(conn, "receipt", "sale-2")
        assert second.run_once() == 0  # the first holds the printing lock
        first.close()
        assert second.run_once() == 1
    finally:
        first.close()
        second.close()
    assert len(printer.jobs) == 2
