"""The provincial server as a province runs it: several processes behind a real balancer, on
PostgreSQL (issue 21, docs/SCALE.md "Processes and the balancer").

Two `market-server serve --workers 2` instances (gunicorn, two worker processes each) stand
behind HAProxy, started from deploy/haproxy.cfg itself with loopback addresses in its
environment variables. Clients connect to the balancer from their own loopback addresses
(127.0.0.2 …), so the server can only know them from the X-Forwarded-For HAProxy sets. Each
worker writes the requests it served, with its pid, to its instance's access log; the tests
read there which processes served them.

- one device's pushes from many threads at once: every entry stored exactly once, no gap, the
  projections and rollups not doubled;
- a rate limit hit through different workers trips at the limit, not four times it, and counts
  the client's address (a forged X-Forwarded-For changes nothing);
- a dashboard log-in and CSRF-protected POSTs work whichever worker takes each request; the
  log-in guard counts wrong passwords across workers;
- catalogue versions committed by different workers at once are seen in order.

Nothing is installed here: without haproxy, gunicorn or PostgreSQL the tests are skipped with
the reason (CI's .ci/run installs all three). Processes are started in their own process groups
and stopped group by group; every wait polls for an event against a deadline.
"""
from __future__ import annotations

import csv
import importlib.util
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Iterator

import pytest
import requests
from requests.adapters import HTTPAdapter
from sqlalchemy import delete, func, select

from sync.protocol import new_signing_key, public_key_of
from sync.server.db import (catalogue_products, integrity_alerts, journal, make_engine,
                            rate_limits, read_transaction, sales, stall_periods,
                            write_transaction)

from . import pgcluster
from .chain import Chain

ROOT = Path(__file__).resolve().parents[2]
HAPROXY_CFG = ROOT / "deploy" / "haproxy.cfg"
BIN = Path(sys.executable).parent
HAPROXY = shutil.which("haproxy") or next(
    (p for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy") if os.path.exists(p)), None)
PROVINCE, COMMUNE, MARKET = "Lào Cai", "Phường Cốc Lếu", "Chợ Cốc Lếu"
PASSWORD = "mat-khau-dai-1"
START_DEADLINE = 90  # seconds for a server or the balancer to answer (two shared cores)


def missing_programs() -> str | None:
    """Why the province cannot be started here, if it cannot."""
    if HAPROXY is None:
        return "haproxy is not installed (Debian: apt-get install haproxy; .ci/run installs it)"
    if importlib.util.find_spec("gunicorn") is None:
        return "gunicorn is not installed in this environment (pip install '.[test]' installs it)"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], Any], what: str, deadline: float,
             alive: Callable[[], str | None] = lambda: None) -> Any:
    """Poll `condition` until it returns something true, failing at the deadline or as soon as
    `alive` says why waiting is pointless (a process that exited)."""
    end = time.monotonic() + deadline
    while True:
        result = condition()
        if result:
            return result
        reason = alive()
        if reason:
            raise AssertionError(f"{what}: {reason}")
        if time.monotonic() > end:
            raise AssertionError(f"{what}: not within {deadline} s")
        time.sleep(0.05)


class Process:
    """A child in its own process group, its output in a log file, stopped group and all."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path):
        self.name, self.log = name, log
        with log.open("wb") as out:
            self.popen = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, start_new_session=True)

    def exited(self) -> str | None:
        if self.popen.poll() is None:
            return None
        return (f"{self.name} exited with {self.popen.returncode}:\n"
                + self.log.read_text(errors="replace")[-3000:])

    def stop(self) -> None:
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        try:  # whatever is left of the group (a worker that outlived its master)
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.popen.wait(timeout=10)


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


class SourceAddress(HTTPAdapter):
    """Connections from a given loopback address (127.0.0.2, …), as another client's would."""

    def __init__(self, address: str):
        self.address = address
        super().__init__(pool_maxsize=4)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def client(address: str) -> requests.Session:
    session = requests.Session()
    session.mount("http://", SourceAddress(address))
    return session


class Province:
    """Two gunicorn instances of two workers each behind HAProxy, on one PostgreSQL database."""

    def __init__(self, database_url: str, folder: Path):
        self.database_url, self.folder = database_url, folder
        self.processes: list[Process] = []
        # The servers read their secret from the key file in their data folder (made once by
        # the first to start), not from the environment: one key for every worker.
        self.env = {key: value for key, value in os.environ.items()
                    if key != "MARKET_SERVER_SECRET_KEY"}
        self.env.update(MARKET_SERVER_DATA=str(folder / "data"),
                        MARKET_SERVER_DATABASE=database_url)
        self.app_ports = [free_port(), free_port()]
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.stats_socket = folder / "haproxy.sock"
        self.access_logs = [folder / f"access-{i + 1}.log" for i in range(2)]
        self.engine = make_engine(database_url)

    def start(self) -> "Province":
        for number, port in enumerate(self.app_ports, start=1):
            # One after the other: the second finds the schema upgraded and the key file made.
            app = Process(f"market-server {number}", [
                str(BIN / "market-server"), "serve", "--port", str(port), "--workers", "2",
                "--threads", "4", "--proxy-count", "1",
                "--access-log", str(self.access_logs[number - 1])],
                self.env, self.folder / f"server-{number}.log")
            self.processes.append(app)
            wait_for(lambda: answers(f"http://127.0.0.1:{port}/healthz"),
                     f"market-server {number} on port {port}", START_DEADLINE, app.exited)
        balancer = Process("haproxy", [HAPROXY, "-db", "-f", str(HAPROXY_CFG)], {
            **os.environ, "MARKET_LB_BIND": f"127.0.0.1:{self.port}",
            "MARKET_APP1": f"127.0.0.1:{self.app_ports[0]}",
            "MARKET_APP2": f"127.0.0.1:{self.app_ports[1]}",
            "MARKET_LB_STATS": str(self.stats_socket), "MARKET_LB_NO_CHROOT": "1"},
            self.folder / "haproxy.log")
        self.processes.append(balancer)
        wait_for(lambda: self.servers_up() == {"app1", "app2"}, "HAProxy with both servers UP",
                 START_DEADLINE, balancer.exited)
        return self

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.engine.dispose()

    def servers_up(self) -> set[str]:
        """The backend servers HAProxy's own health checks find UP (its admin socket)."""
        if not self.stats_socket.exists():
            return set()
        try:
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(2)
                sock.connect(str(self.stats_socket))
                sock.sendall(b"show stat\n")
                data = b""
                while chunk := sock.recv(65536):
                    data += chunk
        except OSError:
            return set()
        rows = csv.DictReader(io.StringIO(data.decode().lstrip("# ")))
        return {row["svname"] for row in rows
                if row["pxname"] == "market_servers" and row["svname"] != "BACKEND"
                and row["status"] == "UP"}

    def cli(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run([str(BIN / "market-server"), *args], input=stdin,
                                capture_output=True, text=True, env=self.env, timeout=120)
        assert result.returncode == 0, f"{args}: {result.stdout}{result.stderr}"
        return result.stdout

    def served(self, pattern: str, count: int) -> Counter[tuple[int, str]]:
        """(instance, worker pid) of each logged request matching `pattern`, once `count` of
        them are logged (a worker logs a request just after answering it)."""
        regex = re.compile(r"<(\d+)> \"" + pattern)

        def logged() -> Counter[tuple[int, str]] | None:
            found: Counter[tuple[int, str]] = Counter()
            for number, log in enumerate(self.access_logs, start=1):
                if log.exists():
                    for line in log.read_text(errors="replace").splitlines():
                        match = regex.search(line)
                        if match:
                            found[(number, match.group(1))] += 1
            return found if sum(found.values()) >= count else None

        return wait_for(logged, f"{count} requests like {pattern!r} in the access logs", 30)

    def new_stall(self, name: str, address: str) -> SimpleNamespace:
        """A stall added with the command line and paired through the balancer."""
        import json
        added = json.loads(self.cli("add-stall", "--province", PROVINCE, "--commune", COMMUNE,
                                    "--market", MARKET, "--name", name, "--json"))
        session = client(address)
        response = session.post(f"{self.url}/api/v1/pair", json={
            "code": added["pairing_code"], "head_seq": 0,
            "public_key": public_key_of(new_signing_key())}, timeout=30)
        assert response.status_code == 200, response.text
        token = response.json()["token"]
        return SimpleNamespace(device_id=added["device_id"], token=token,
                               headers={"Authorization": f"Bearer {token}"})


@pytest.fixture(scope="module")
def province(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[Province]:
    reason = missing_programs()
    if reason:
        pytest.skip(reason)
    postgres_server = request.getfixturevalue("postgres_server")  # or a skip with its reason
    name = f"multi_{uuid.uuid4().hex[:10]}"
    pgcluster.admin_execute(postgres_server, f'CREATE DATABASE "{name}"')
    setup = Province(pgcluster.with_database(postgres_server, name),
                     tmp_path_factory.mktemp("province"))
    try:
        setup.start()
        setup.cli("create-user", "--username", "admin", "--password-stdin", "--role", "admin",
                  stdin=PASSWORD + "\n")
        yield setup
    finally:
        setup.stop()
        pgcluster.admin_execute(postgres_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh_limits(province: Province) -> None:
    """Each test counts its own hits (pairing in other tests counts too)."""
    with write_transaction(province.engine) as conn:
        conn.execute(delete(rate_limits))


def processes(served: Counter[tuple[int, str]]) -> str:
    return ", ".join(f"instance {i} pid {pid}: {n}" for (i, pid), n in sorted(served.items()))


# --- pushes of one device ------------------------------------------------------------------------

def test_one_devices_pushes_from_many_threads_are_stored_once_without_gap(province, fresh_limits):
    stall = province.new_stall("Sạp gạo cô Hạnh", "127.0.0.2")
    chain = Chain(stall.device_id)
    chain.sales_run(240)
    entries = [entry.to_dict() for entry in chain.entries]
    threads, batch = 8, 10
    sessions = [client("127.0.0.2") for _ in range(threads)]
    results: list[tuple[str, int, dict[str, Any]]] = []   # (phase, first seq, answer)
    problems: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def push(session: requests.Session, phase: str, first: int, size: int
             ) -> dict[str, Any] | None:
        response = session.post(f"{province.url}/api/v1/journal", headers=stall.headers,
                                json={"device_id": stall.device_id,
                                      "entries": entries[first:first + size]}, timeout=120)
        with lock:
            if response.status_code != 200:
                problems.append(f"{response.status_code} {response.text[:300]}")
                return None
            results.append((phase, first, response.json()))
        return response.json()

    def same_batches(index: int) -> None:
        """Every thread pushes the same batch at the same moment, 12 times over."""
        for first in range(0, 120, batch):
            start.wait(timeout=120)
            push(sessions[index], "same", first, batch)

    def own_pace(index: int) -> None:
        """Then each from what the server last told it, in batches of its own size."""
        acked, size = 120, 3 + 4 * index
        while acked < 240:
            answer = push(sessions[index], "own", acked, size)
            if answer is None:
                return
            acked = answer["acked_seq"]

    for phase in (same_batches, own_pace):
        workers = [threading.Thread(target=phase, args=(i,)) for i in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=300)
        assert not any(worker.is_alive() for worker in workers)
        assert problems == []

    # Eight pushes of each batch at once: one stored it, the others found it there, whole.
    for first in range(0, 120, batch):
        answers_ = [answer for phase, f, answer in results if phase == "same" and f == first]
        assert len(answers_) == threads
        assert sum(a["stored"] for a in answers_) == batch, (first, answers_)
        assert all(a["stored"] + a["duplicates"] == batch for a in answers_), answers_
        assert all(a["acked_seq"] == first + batch for a in answers_), answers_
    assert sum(answer["stored"] for _, _, answer in results) == 240
    assert max(answer["acked_seq"] for _, _, answer in results) == 240
    with read_transaction(province.engine) as conn:
        seqs = conn.execute(select(journal.c.seq).where(journal.c.device_id == stall.device_id)
                            .order_by(journal.c.seq)).scalars().all()
        assert seqs == list(range(1, 241))                  # once each, no gap
        assert conn.execute(select(func.count()).select_from(sales)
                            .where(sales.c.device_id == stall.device_id)).scalar() == 240
        assert conn.execute(select(func.sum(stall_periods.c.sales))
                            .where(stall_periods.c.device_id == stall.device_id,
                                   stall_periods.c.kind == "d")).scalar() == 240
        assert conn.execute(select(func.count()).select_from(integrity_alerts)
                            .where(integrity_alerts.c.device_id == stall.device_id)
                            ).scalar() == 0
    served = province.served(r"POST /api/v1/journal", len(results))
    assert {instance for instance, _ in served} == {1, 2}, processes(served)


# --- rate limits ---------------------------------------------------------------------------------

def test_a_rate_limit_holds_across_workers_and_counts_the_clients_address(province,
                                                                         fresh_limits):
    session = client("127.0.0.3")
    statuses = []
    for attempt in range(14):   # PAIR_RATE_LIMIT: 10 a minute per address
        response = session.post(f"{province.url}/api/v1/pair?try={attempt}",
                                json={"code": "ABCD-EFGH", "head_seq": 0},
                                headers={"X-Forwarded-For": f"203.0.113.{attempt}"},
                                timeout=30)
        statuses.append(response.status_code)
    assert 429 not in statuses[:10] and statuses[10:] == [429] * 4, statuses
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    served = province.served(r"POST /api/v1/pair\?try=", 14)
    assert {instance for instance, _ in served} == {1, 2}, processes(served)
    # Another client is counted apart; the forged addresses were never believed.
    other = client("127.0.0.4").post(f"{province.url}/api/v1/pair",
                                     json={"code": "ABCD-EFGH", "head_seq": 0}, timeout=30)
    assert other.status_code != 429
    with read_transaction(province.engine) as conn:
        rows = conn.execute(select(rate_limits.c.key, rate_limits.c.hits)
                            .where(rate_limits.c.scope == "pair")).all()
    assert sorted(rows) == [("127.0.0.3", 11), ("127.0.0.4", 1)]


def test_receipt_checks_are_limited_across_workers_from_many_threads(province, fresh_limits):
    """CHECK_RATE_LIMIT (30 a minute per address) with 48 checks in flight at once."""
    statuses: list[int] = []
    lock = threading.Lock()

    def check(index: int) -> None:
        session = client("127.0.0.5")
        for attempt in range(6):
            response = session.get(f"{province.url}/check",
                                   params={"c": f"MP1;x{index}-{attempt}"}, timeout=60)
            with lock:
                statuses.append(response.status_code)

    workers = [threading.Thread(target=check, args=(i,)) for i in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert Counter(statuses) == {400: 30, 429: 18}
    served = province.served(r"GET /check\?c=MP1", 48)
    assert {instance for instance, _ in served} == {1, 2}, processes(served)


# --- sessions and CSRF ---------------------------------------------------------------------------

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=30)
    assert page.status_code == 200, page.status_code
    match = CSRF.search(page.text)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def log_in(province: Province, address: str, username: str = "admin",
           password: str = PASSWORD, tag: str = "") -> tuple[requests.Session, requests.Response]:
    session = client(address)
    token = csrf_token(session, f"{province.url}/admin/login")
    response = session.post(f"{province.url}/admin/login?t={tag}", timeout=30,
                            allow_redirects=False, data={"csrf_token": token,
                                                         "username": username,
                                                         "password": password})
    return session, response


def product_form(token: str, name: str) -> dict[str, str]:
    return {"csrf_token": token, "province": PROVINCE, "commune": "", "market": "",
            "name": name, "unit": "kg", "price": "25000", "category": "Rau", "ocop_stars": "",
            "active": "1"}


def test_a_dashboard_session_and_its_csrf_token_work_on_every_worker(province, fresh_limits):
    session, logged_in = log_in(province, "127.0.0.6")
    assert logged_in.status_code == 302, logged_in.text[:500]
    token = csrf_token(session, f"{province.url}/admin/catalogue")
    for number in range(12):
        response = session.post(f"{province.url}/admin/catalogue?n={number}", timeout=30,
                                data=product_form(token, f"Cải mèo {number}"),
                                allow_redirects=False)
        assert response.status_code == 302 and response.headers["Location"].endswith(
            "/admin/catalogue"), (response.status_code, response.text[:500])
    served = province.served(r"POST /admin/catalogue\?n=", 12)
    assert {instance for instance, _ in served} == {1, 2}, processes(served)
    # CSRF is still enforced behind the balancer, and the pages know who is logged in.
    forged = session.post(f"{province.url}/admin/catalogue", timeout=30,
                          data={**product_form(token, "Giả"), "csrf_token": "forged"})
    assert forged.status_code == 400
    anonymous = client("127.0.0.7").post(f"{province.url}/admin/catalogue", timeout=30,
                                         data=product_form(token, "Giả"), allow_redirects=False)
    assert anonymous.status_code in (302, 400)
    with read_transaction(province.engine) as conn:
        names = conn.execute(select(catalogue_products.c.name)).scalars().all()
    assert "Giả" not in names and {f"Cải mèo {n}" for n in range(12)} <= set(names)


def test_wrong_passwords_through_different_workers_lock_the_name_at_the_limit(province,
                                                                              fresh_limits):
    province.cli("create-user", "--username", "xem-so-lieu", "--password-stdin", "--role",
                 "viewer", "--province", PROVINCE, stdin=PASSWORD + "\n")
    session = client("127.0.0.8")
    token = csrf_token(session, f"{province.url}/admin/login")

    def attempt(password: str) -> int:
        return session.post(f"{province.url}/admin/login?t=guard", timeout=30,
                            allow_redirects=False, data={"csrf_token": token,
                                                         "username": "xem-so-lieu",
                                                         "password": password}).status_code

    assert [attempt(f"sai-{n}-mat-khau") for n in range(5)] == [401] * 5
    # The right password now fails too, whichever worker takes it: the name is locked.
    assert attempt(PASSWORD) == 401
    served = province.served(r"POST /admin/login\?t=guard", 6)
    assert {instance for instance, _ in served} == {1, 2}, processes(served)


# --- catalogue versions --------------------------------------------------------------------------

def test_catalogue_versions_committed_by_many_workers_are_seen_in_order(province, fresh_limits):
    """Four administrators add products at once through the balancer while a stall reads its
    catalogue again and again: every catalogue it gets holds every version up to its own (a
    version it saw can never be followed by an earlier one appearing)."""
    stall = province.new_stall("Sạp chè cô Mai", "127.0.0.9")
    admin, logged_in = log_in(province, "127.0.0.10")
    assert logged_in.status_code == 302
    cookies = admin.cookies
    writing = threading.Event()
    snapshots: list[tuple[int, set[str]]] = []   # (the catalogue's version, its products)
    problems: list[str] = []

    def write(index: int) -> None:
        session = client("127.0.0.10")
        session.cookies.update(cookies)
        token = csrf_token(session, f"{province.url}/admin/catalogue")
        for number in range(8):
            response = session.post(f"{province.url}/admin/catalogue", timeout=60,
                                    data=product_form(token, f"Chè {index}-{number}"),
                                    allow_redirects=False)
            if response.status_code != 302:
                problems.append(f"{response.status_code} {response.text[:300]}")

    def read() -> None:
        session = client("127.0.0.9")
        while writing.is_set():
            response = session.get(f"{province.url}/api/v1/catalogue", headers=stall.headers,
                                   timeout=60)
            if response.status_code != 200:
                problems.append(f"{response.status_code} {response.text[:300]}")
                return
            body = response.json()
            snapshots.append((body["version"], {product["name"] for product in body["products"]}))

    writing.set()
    readers = [threading.Thread(target=read) for _ in range(2)]
    writers = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=300)
    writing.clear()
    for thread in readers:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in readers + writers)
    assert problems == []
    with read_transaction(province.engine) as conn:
        version_of = dict(conn.execute(select(catalogue_products.c.name,
                                              catalogue_products.c.version)).all())
    # Every product of this database is province-wide and new (never changed): its version is
    # the one it was given. A catalogue in commit order holds every product up to its version,
    # and none beyond.
    assert sorted(version_of.values()) == list(range(1, len(version_of) + 1))
    assert len(version_of) >= 32 and len(snapshots) >= 5
    out_of_order = [(version, sorted(name for name, v in version_of.items()
                                     if (v <= version) != (name in names)))
                    for version, names in snapshots
                    if {name for name, v in version_of.items() if v <= version} != names]
    assert out_of_order == []
    assert len({version for version, _ in snapshots}) >= 3   # it saw the catalogue grow
    served = province.served(r"POST /admin/catalogue ", 32)
    assert {instance for instance, _ in served} == {1, 2}, processes(served)


# --- a database pool crosses no fork -------------------------------------------------------------

def test_a_forked_worker_opens_its_own_connections(server_db):
    """An engine used before a fork (as in a pre-fork server's master) hands the child an empty
    pool: the child's queries run on connections of its own, and the parent's still work."""
    engine = make_engine(server_db)
    try:
        with read_transaction(engine) as conn:
            parent_backend = conn.execute(select(func.count()).select_from(rate_limits)).scalar()
        assert engine.pool.checkedin() == 1
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: report, then leave without running the parent's clean-ups
            code = 1
            try:
                fresh = engine.pool.checkedin() == 0
                with read_transaction(engine) as conn:
                    conn.execute(select(func.count()).select_from(rate_limits)).scalar()
                code = 0 if fresh else 2
            finally:
                os.write(writer, bytes([code]))
                os._exit(0)
        os.close(writer)
        with os.fdopen(reader, "rb") as pipe:
            child = pipe.read(1)
        os.waitpid(pid, 0)
        assert child == bytes([0]), "the child inherited the parent's connections"
        with read_transaction(engine) as conn:
            assert conn.execute(select(func.count()).select_from(rate_limits)
                                ).scalar() == parent_backend
    finally:
        engine.dispose()


def test_serve_never_signs_with_an_empty_secret():
    """A key file another server has just created may be empty for a moment: serve waits for
    the key (and gives up with a message rather than sign cookies with nothing)."""
    import click

    from sync.server.cli import _secret
    reads = iter(["", "", "the-key"])
    assert _secret(lambda: next(reads)) == "the-key"
    with pytest.raises(click.ClickException, match="secret key file is empty"):
        _secret(lambda: "", deadline=0.2)


def _self_signed_pem(path: Path) -> None:
    """A certificate and its key in one PEM, as HAProxy's `crt` takes them."""
    from datetime import datetime, timedelta, timezone

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "market.example")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + timedelta(days=1))
            .sign(key, hashes.SHA256()))
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))


@pytest.mark.parametrize("form", ["production", "https"])
def test_the_haproxy_config_is_valid_as_shipped_and_with_https(form, tmp_path):
    """`haproxy -c` on deploy/haproxy.cfg: with its own defaults (as installed in /etc/haproxy)
    and with a certificate for HTTPS."""
    if HAPROXY is None:
        pytest.skip(missing_programs() or "haproxy is not installed")
    env = {key: value for key, value in os.environ.items() if not key.startswith("MARKET_LB")}
    if form == "https":
        _self_signed_pem(tmp_path / "market.pem")
        env.update(MARKET_LB_CERT=str(tmp_path / "market.pem"), MARKET_LB_NO_CHROOT="1")
    result = subprocess.run([HAPROXY, "-c", "-f", str(HAPROXY_CFG)], capture_output=True,
                            text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Configuration file is valid" in result.stdout + result.stderr
