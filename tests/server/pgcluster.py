"""A throwaway PostgreSQL cluster for the server's tests: initdb and pg_ctl in a temporary folder.

Set MARKET_TEST_POSTGRES_URL (e.g. postgresql+psycopg://postgres@localhost:5432/postgres) to use
a running server instead (CI service containers). Without either, the PostgreSQL half of the
contract suite is skipped; CI installs the binaries (Debian: postgresql), so it runs there.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def find_bindir() -> Path | None:
    """The folder holding initdb and pg_ctl: $PG_BINDIR, the PATH, or Debian's versioned folder."""
    candidates = [os.environ.get("PG_BINDIR")]
    on_path = shutil.which("pg_ctl")
    candidates.append(str(Path(on_path).parent) if on_path else None)
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in filter(None, candidates):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """One cluster listening on 127.0.0.1:<free port>, owned by `postgres` when we are root
    (initdb refuses to run as root)."""

    def __init__(self, bindir: Path, *, fsync: bool = False):
        self.bindir = bindir
        self.fsync = fsync
        self.base = Path(tempfile.mkdtemp(prefix="market-pg-"))
        self.data = self.base / "data"
        self.port = _free_port()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.base, "postgres", "postgres")

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       cwd=self.base)

    def start(self) -> "Cluster":
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        options = (f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1"
                   " -c max_connections=200 -c shared_buffers=64MB")
        if not self.fsync:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.base / "log"), "-w",
                  "-o", options, "start")
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


def admin_execute(url: str, *statements: str) -> None:
    """Run statements outside a transaction (CREATE/DROP DATABASE) on the server of `url`."""
    import psycopg  # only needed when PostgreSQL is tested
    dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def with_database(url: str, database: str) -> str:
    """The same server URL, another database."""
    return url.rsplit("/", 1)[0] + "/" + database


# --- clusters with settings, stopped and started again on the same data (issue 21) -------------

# A provincial server publishing its rollups to the national database, or the national cluster
# subscribing to them (sync/server/national.py, tests/server/test_national_rollup.py).
LOGICAL = {"wal_level": "logical", "max_wal_senders": "20", "max_replication_slots": "20",
           "max_worker_processes": "32", "max_logical_replication_workers": "16",
           "max_sync_workers_per_subscription": "2",
           # a subscription whose publisher was away tries again after this (default 5 s)
           "wal_retrieve_retry_interval": "500ms"}


class RestartableCluster(Cluster):
    """A cluster started with extra `settings` (-c name=value), which `pause` stops (fast
    shutdown: committed work is kept) and `resume` starts again on the same data and port: a
    provincial database restarted, a national link down and up again. `stop` removes it."""

    def __init__(self, bindir: Path, *, fsync: bool = False,
                 settings: dict[str, str] | None = None):
        super().__init__(bindir, fsync=fsync)
        self.settings = dict(settings or {})

    def _options(self) -> str:
        options = (f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1"
                   " -c max_connections=200 -c shared_buffers=64MB")
        if not self.fsync:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        return options + "".join(f" -c {name}={value}" for name, value in self.settings.items())

    def start(self) -> "RestartableCluster":
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        return self.resume()

    def resume(self) -> "RestartableCluster":
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.base / "log"), "-w",
                  "-o", self._options(), "start")
        return self

    def pause(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            super().stop()
        else:  # paused: nothing to stop
            shutil.rmtree(self.base, ignore_errors=True)

    def log_text(self) -> str:
        """The server's log so far (for a failing test's message)."""
        try:
            return (self.base / "log").read_text(errors="replace")
        except OSError:
            return ""


# --- a streaming replica (issue 21: the dashboard reads from it) ---------------------------------

def start_standby(primary: Cluster) -> Cluster:
    """A hot standby of `primary` on its own port: pg_basebackup -R (which writes
    primary_conninfo and standby.signal) over the replication protocol on loopback, then
    started; it streams the primary's WAL from then on. Stop it with `stop()` as any cluster.
    The primary must accept replication connections: initdb's default pg_hba.conf (trust on
    127.0.0.1, `replication` included) and wal_level=replica do."""
    standby = Cluster(primary.bindir, fsync=primary.fsync)
    # The folder of the real binaries (the PATH may hold only pg_ctl and initdb links).
    basebackup = primary.bindir / "pg_basebackup"
    if not basebackup.exists():
        basebackup = (primary.bindir / "pg_ctl").resolve().parent / "pg_basebackup"
    standby._run(str(basebackup), "-D", str(standby.data), "-R", "-X", "stream",
                 "-c", "fast", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
                 "--no-sync")
    options = (f"-p {standby.port} -k {standby.base} -c listen_addresses=127.0.0.1"
               " -c max_connections=200 -c shared_buffers=64MB -c hot_standby=on")
    if not standby.fsync:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    standby._run("pg_ctl", "-D", str(standby.data), "-l", str(standby.base / "log"), "-w",
                 "-o", options, "start")
    return standby


def wait_for_replay(primary_url: str, standby_url: str, timeout: float = 30.0) -> None:
    """Until the standby has replayed everything the primary wrote before this call."""
    import time

    import psycopg
    dsn = primary_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn, autocommit=True) as conn:
        position = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
    dsn = standby_url.replace("postgresql+psycopg://", "postgresql://", 1)
    deadline = time.monotonic() + timeout
    with psycopg.connect(dsn, autocommit=True) as conn:
        while not conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn",
                               (str(position),)).fetchone()[0]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the standby did not replay up to {position}")
            time.sleep(0.05)
