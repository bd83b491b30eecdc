"""How often a stall talks to the province (issue 21, docs/SYNC.md): coalesced pushes, the
promised bound on a sale's delay, polls of head and catalogue answered 304 when nothing changed,
jittered polls, Retry-After, the bank watched while a QR code waits, and the doc's numbers.

The live tests run a real stall (SQLite) against the real provincial server over HTTP (waitress,
tests/test_sync_client.py's LiveSyncServer, here counting the bytes of each answer's body), with
the sync worker driven tick by tick on a fake clock (`SyncWorker.step()`): no thread, no sleep;
sales are recorded at chosen fake times and every push is a real request.
"""
from __future__ import annotations

import math
import random
import re
import shutil
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests

from pos import daybook, settings
from pos.business_days import current_business_day
from pos.sync import schedule as sched
from pos.sync.backoff import RETRY_AFTER_SPREAD, Backoff
from pos.sync.client import SyncClient
from pos.sync.schedule import (PUSH_BOUND, PUSH_INTERVAL, PUSH_QUIET, QR_WATCH_INTERVAL, TICK,
                               Schedule, Seen)
from pos.sync.state import read_state
from pos.sync.worker import SyncWorker
from sync.protocol import utc_timestamp
from tests.test_sync_client import (LiveSyncServer, paired, sell, server_template,  # noqa: F401
                                    stall_hashes, unavailable)

DOC = Path(__file__).resolve().parent.parent / "docs" / "SYNC.md"


# --- a fake clock, and the live server counting what it sends -----------------------------------

class FakeClock:
    def __init__(self, now: float = 1_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


class CountingServer(LiveSyncServer):
    """LiveSyncServer that also notes each answer's status and body size."""

    def __init__(self, db_file: Path):
        super().__init__(db_file)
        self.answers: list[tuple[str, str, int, int]] = []   # method, path, status, body bytes

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        statuses: list[int] = []

        def record(status: str, headers: Any, *args: Any) -> Any:
            statuses.append(int(status.split()[0]))
            return start_response(status, headers, *args)
        body = b"".join(super()._wsgi(environ, record))
        self.answers.append((environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""),
                             statuses[0] if statuses else 0, len(body)))
        return [body]

    def count(self, path: str, method: str = "GET") -> int:
        return sum(1 for m, p, _s, _b in self.answers if p == path and m == method)


@pytest.fixture
def sync_server(server_template: Path, tmp_path: Path) -> Iterator[CountingServer]:  # noqa: F811
    path = tmp_path / "server.sqlite3"
    shutil.copy(server_template, path)
    server = CountingServer(path).start()
    yield server
    server.stop()


PUSH = "/api/v1/journal"


def make_worker(app: Any, clock: FakeClock, seed: int = 21, **schedule: Any) -> SyncWorker:
    rng = random.Random(seed)
    return SyncWorker(app.config["DATABASE"], lambda: SyncClient(app.config["DATABASE"]),
                      clock=clock, rand=rng.random,
                      schedule=Schedule(rand=rng.random, start=clock(), **schedule))


def run(worker: SyncWorker, clock: FakeClock, until: float,
        sales: list[float] | None = None, act: Callable[[float], None] | None = None,
        on_push: Callable[[float], None] | None = None) -> list[tuple[float, str]]:
    """Run the worker's loop on the fake clock until `until`: sleep as the loop sleeps
    (`next_wait`: a tick, or less when something falls due sooner), then step; an action at each
    time of `sales` happens during the sleep it falls in. Returns the rounds run (time, kind)."""
    pending = sorted(sales or [])
    rounds = []
    while clock.now < until:
        clock.now += worker.next_wait()
        while pending and pending[0] <= clock.now:
            at = pending.pop(0)
            (act or (lambda _at: None))(at)
        kind = worker.step()
        if kind is not None:
            rounds.append((clock.now, kind))
            if on_push and kind in ("push", "poll", "manual"):
                on_push(clock.now)
    return rounds


def no_polls(schedule: Schedule) -> Schedule:
    schedule.next_poll_at = math.inf
    return schedule


# --- the schedule alone ---------------------------------------------------------------------------

def simulate(sale_times: list[float], until: float, schedule: Schedule,
             tick: float = TICK) -> tuple[list[float], dict[int, float]]:
    """The pushes (start times) of `schedule` as the worker runs it, and when each sale (by
    number) went up; pushes are answered at once."""
    head = acked = 0
    pushes: list[float] = []
    arrived: dict[int, float] = {}
    now = 0.0
    schedule.observe(now, Seen(0, 0))
    sales = sorted(sale_times)
    while now < until:
        now += tick
        while sales and sales[0] <= now:
            sales.pop(0)
            head += 1
        schedule.observe(now, Seen(head, head - acked))
        if schedule.push_due(now):
            pushes.append(now)
            for seq in range(acked + 1, head + 1):
                arrived[seq] = now
            acked = head
            schedule.done("push", now, pending=0)
    return pushes, arrived


@pytest.mark.parametrize("seed", range(30))
def test_a_burst_gives_at_most_ceil_burst_over_n_plus_one_pushes(seed):
    rng = random.Random(seed)
    start = rng.uniform(0, 600)
    gap = rng.uniform(0.2, PUSH_QUIET - 0.5)        # sales faster than the quiet gap
    count = rng.randint(2, 200)
    times = [start + i * gap + rng.uniform(0, 0.4) for i in range(count)]
    burst = times[-1] - times[0]
    pushes, arrived = simulate(times, times[-1] + 10 * PUSH_INTERVAL,
                               Schedule(poll_interval=math.inf, rand=rng.random))
    assert len(pushes) <= math.ceil(burst / PUSH_INTERVAL) + 1
    assert all(b - a >= PUSH_INTERVAL for a, b in zip(pushes, pushes[1:]))
    assert sorted(arrived) == list(range(1, count + 1))
    worst = max(arrived[i + 1] - t for i, t in enumerate(times))
    assert worst <= PUSH_BOUND


def test_the_bound_holds_for_a_sale_at_any_moment_after_a_push():
    """The worst case: a sale just after a push waits for the spacing, never longer."""
    assert PUSH_BOUND == PUSH_INTERVAL + TICK
    worst = 0.0
    for tenth in range(0, int(PUSH_INTERVAL * 10) + 50, 7):
        first, second = 100.0, 100.0 + tenth / 10 + 0.01
        _pushes, arrived = simulate([first, second], 1000.0,
                                    Schedule(poll_interval=math.inf, rand=lambda: 0.5))
        if second - first > PUSH_QUIET + TICK:          # the first alone: after the quiet gap
            assert arrived[1] - first <= PUSH_QUIET + TICK
        assert arrived[1] - first <= PUSH_BOUND
        worst = max(worst, arrived[2] - second)
    assert PUSH_INTERVAL - TICK <= worst <= PUSH_BOUND


def test_a_stall_that_never_stops_selling_pushes_once_per_interval():
    times = [i * 1.0 for i in range(3600)]           # a sale a second for an hour
    pushes, arrived = simulate(times, 3700.0, Schedule(poll_interval=math.inf))
    assert len(pushes) <= 3600 / PUSH_INTERVAL + 1
    assert len(arrived) == 3600 and max(arrived[i + 1] - t for i, t in enumerate(times)) \
        <= PUSH_BOUND


def test_an_urgent_entry_goes_at_once_even_right_after_a_push():
    s = no_polls(Schedule())
    s.observe(0.0, Seen(10, 0))
    s.observe(10.0, Seen(11, 1))
    s.observe(16.0, Seen(11, 1))
    assert s.due(16.0) == "push"
    s.done("push", 16.0, pending=0)
    s.observe(18.0, Seen(12, 1))                     # a sale: waits for the spacing
    assert s.due(18.0) is None and s.due(60.0) is None
    s.observe(20.0, Seen(13, 2, urgent=True))        # then the Z close: at once
    assert s.due(20.0) == "push"
    s.done("push", 20.0, pending=0)
    s.observe(22.0, Seen(13, 0))
    assert s.due(22.0) is None and not s.urgent


def test_a_refused_entry_holds_pushes_back_but_not_polls():
    s = Schedule(poll_interval=900, poll_start_spread=0)
    s.observe(0.0, Seen(5, 3, blocked=True))
    assert not s.push_due(1000.0) and s.due(0.0) == "poll"


def test_polls_come_every_interval_on_average_within_the_jitter():
    rng = random.Random(7)
    s = Schedule(rand=rng.random)
    gaps = [s.poll_gap() for _ in range(20_000)]
    low, high = sched.POLL_INTERVAL * (1 - sched.POLL_JITTER), \
        sched.POLL_INTERVAL * (1 + sched.POLL_JITTER)
    assert low <= min(gaps) and max(gaps) <= high
    assert abs(sum(gaps) / len(gaps) - sched.POLL_INTERVAL) < 0.01 * sched.POLL_INTERVAL
    assert 0 <= s.next_poll_at - 0.0 <= sched.POLL_START_SPREAD


def poll_times(stalls: int, hours: float, seed: int, **schedule: Any) -> list[float]:
    """When `stalls` stalls started at the same instant (a market's power back) poll."""
    rng = random.Random(seed)
    times = []
    for _ in range(stalls):
        s = Schedule(rand=rng.random, start=0.0, **schedule)
        while s.next_poll_at < hours * 3600:
            times.append(s.next_poll_at)
            s.done("poll", s.next_poll_at)
    return times


def test_jitter_spreads_the_polls_of_stalls_started_together():
    """2,000 stalls switched on in the same second: their polls spread over the period instead
    of coming as one wave every POLL_INTERVAL (fixed seed: the same numbers every run)."""
    stalls, minute = 2000, 60.0
    start, end = 3 * sched.POLL_INTERVAL, 8 * 3600.0
    buckets = int((end - start) // minute)

    def counts(times: list[float]) -> list[int]:
        c = [0] * buckets
        for t in times:
            if start <= t < start + buckets * minute:
                c[int((t - start) // minute)] += 1
        return c
    jittered = counts(poll_times(stalls, 8, seed=21))
    mean = sum(jittered) / buckets
    assert abs(mean - stalls * minute / sched.POLL_INTERVAL) < 0.05 * mean   # the same rate
    assert max(jittered) < 1.5 * mean and min(jittered) > 0.5 * mean
    # Pearson's chi-squared against a flat rate: below the 0.1 % critical value
    # (Wilson–Hilferty), so the spread is as even as chance allows.
    chi2 = sum((c - mean) ** 2 / mean for c in jittered)
    df = buckets - 1
    critical = df * (1 - 2 / (9 * df) + 3.09 * math.sqrt(2 / (9 * df))) ** 3
    assert chi2 < critical
    # Without jitter, the same stalls poll in one wave: every one in the same minute.
    waves = counts(poll_times(stalls, 8, seed=21, poll_jitter=0.0, poll_start_spread=0.0))
    assert max(waves) == stalls and sum(1 for c in waves if c) <= buckets * minute \
        / sched.POLL_INTERVAL + 1


def test_retry_after_is_a_floor_spread_above_it():
    rng = random.Random(3)
    backoff = Backoff(rand=rng.random)
    waits = [backoff.failure(retry_after=30) for _ in range(3)]   # ceilings 1, 2, 4 s: RA wins
    draws = [Backoff(rand=rng.random).failure(retry_after=30) for _ in range(2000)]
    assert all(30 <= w <= 30 * (1 + RETRY_AFTER_SPREAD) for w in waits + draws)
    assert max(draws) - min(draws) > 0.9 * 30 * RETRY_AFTER_SPREAD   # spread, not one instant


# --- live: a real stall, the real server over HTTP, the worker on a fake clock --------------------

def test_a_burst_of_sales_is_coalesced_and_every_entry_arrives_once(app, conn, paired,
                                                                   sync_server):
    paired.sync_once()
    before = read_state(conn).acked_seq
    clock = FakeClock()
    worker = make_worker(app, clock)
    t0 = clock.now + 30
    burst = [t0 + 3.0 * i for i in range(40)]        # a queue: a sale every 3 s for 2 minutes
    results = []
    pushes_before = sync_server.count(PUSH, "POST")
    rounds = run(worker, clock, burst[-1] + 3 * PUSH_INTERVAL, burst,
                 act=lambda _at: sell(conn, 1),
                 on_push=lambda _t: results.append(worker.last_result))
    pushes = sync_server.count(PUSH, "POST") - pushes_before
    duration = burst[-1] - burst[0]
    assert pushes <= math.ceil(duration / PUSH_INTERVAL) + 1, rounds
    assert pushes < len(burst) / 10
    state = read_state(conn)
    assert state.pending == 0 and state.head_seq == before + 40
    assert sync_server.hashes(app.config["DEVICE_ID"]) == stall_hashes(conn)   # each once
    assert sum(r.pushed for r in results if r) == 40
    assert sum(r.duplicates for r in results if r) == 0


def test_a_lone_sale_arrives_within_the_promised_bound(app, conn, paired, sync_server):
    paired.sync_once()
    clock = FakeClock()
    worker = make_worker(app, clock)
    run(worker, clock, clock.now + 10)               # idle: nothing to push
    device = app.config["DEVICE_ID"]
    arrived: dict[int, float] = {}

    def note(_t: float) -> None:
        for seq in sync_server.hashes(device):
            arrived.setdefault(seq, clock.now)
    sold: dict[int, float] = {}

    def sale(at: float) -> None:
        sell(conn, 1)
        sold[read_state(conn).head_seq] = at
    lone = clock.now + 100.5
    run(worker, clock, lone + 30, [lone], act=sale, on_push=note)
    (seq,) = sold
    assert arrived[seq] - lone <= PUSH_QUIET + TICK          # quiet stall: after the gap
    # The worst case: a sale just after a push waits for the spacing, within the bound.
    first = clock.now + PUSH_INTERVAL + 0.5
    second = first + PUSH_QUIET + TICK + 0.1
    run(worker, clock, second + PUSH_BOUND + 10, [first, second], act=sale, on_push=note)
    for seq, at in sold.items():
        assert arrived[seq] - at <= PUSH_BOUND, (seq, at, arrived[seq])
    assert arrived[max(sold)] - sold[max(sold)] > PUSH_INTERVAL / 2   # it did wait


def test_a_lone_sale_arrives_within_the_bound_with_the_worker_thread(app, conn, paired,
                                                                    sync_server):
    """The same promise with the real thread and clock, on a schedule scaled down (N = 1 s)."""
    paired.sync_once()
    schedule = Schedule(push_interval=1.0, push_quiet=0.2, poll_interval=3600,
                        poll_start_spread=3600, start=time.monotonic())
    worker = SyncWorker(app.config["DATABASE"], poll_seconds=0.05, schedule=schedule)
    bound = 1.0 + 0.05 + 2.0          # N + tick + the request itself (the p95 target)
    worker.start()
    try:
        for _ in range(3):
            sell(conn, 1)
            sold, seq = time.monotonic(), read_state(conn).head_seq
            deadline = sold + bound
            while seq not in sync_server.hashes(app.config["DEVICE_ID"]):
                assert time.monotonic() < deadline, "the sale did not arrive within the bound"
                time.sleep(0.02)
    finally:
        worker.stop()


def test_unchanged_head_and_catalogue_are_answered_304_with_no_body(app, conn, paired,
                                                                   sync_server):
    sync_server.set_product(name="Chè Shan tuyết", unit="kg", price=350_000)
    paired.sync_once()                      # pushes the demo catalogue, pulls the catalogue
    clock = FakeClock()
    worker = make_worker(app, clock)
    sync_server.answers.clear()
    worker.wake()
    worker.step()                           # a full sync: nothing pending, so the head is asked
    worker.wake()
    worker.step()                           # again: nothing changed anywhere
    heads = [a for a in sync_server.answers if a[1] == "/api/v1/journal/head"]
    catalogues = [a for a in sync_server.answers if a[1] == "/api/v1/catalogue"]
    assert [a[2] for a in heads] == [200, 304]
    assert [a[2] for a in catalogues] == [304, 304]
    assert heads[0][3] > 0 and heads[1][3] == 0 and catalogues[1][3] == 0
    assert sync_server.count(PUSH, "POST") == 0
    # A change on the server: a new tag and the body again.
    sync_server.set_product(name="Mật ong bạc hà", unit="lít", price=400_000)
    worker.wake()
    worker.step()
    assert [a[2] for a in sync_server.answers if a[1] == "/api/v1/catalogue"][-1] == 200
    assert conn.execute("SELECT 1 FROM products WHERE name = 'Mật ong bạc hà'").fetchone()


def test_the_head_etag_over_http(app, conn, paired, sync_server):
    token = settings.read(conn, "sync_token")
    url = f"{sync_server.url}/api/v1/journal/head"
    auth = {"Authorization": f"Bearer {token}"}
    first = requests.get(url, headers=auth, timeout=10)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag.startswith('"')
    assert first.headers["Cache-Control"] == "no-cache"
    for sent in (etag, "W/" + etag, f'"other", {etag}'):
        again = requests.get(url, headers={**auth, "If-None-Match": sent}, timeout=10)
        assert again.status_code == 304 and again.content == b""
        assert again.headers["ETag"] == etag and again.headers["X-Server-Time"]
    later = requests.get(url, headers=auth, timeout=10)     # another server_time, the same tag
    assert later.headers["ETag"] == etag
    sell(conn, 1)
    paired.sync_once()                                       # the head moves: a new tag
    moved = requests.get(url, headers={**auth, "If-None-Match": etag}, timeout=10)
    assert moved.status_code == 200 and moved.headers["ETag"] != etag
    stranger = requests.get(url, headers={"If-None-Match": etag}, timeout=10)
    assert stranger.status_code == 401


def test_a_head_etag_is_never_sent_for_a_cursor_it_does_not_describe(app, conn, paired,
                                                                    sync_server, tmp_path):
    """A server restored to exactly the head of an older tag must still be noticed: the stall
    sends a tag only while its cursor is the one the tag came with."""
    paired.sync_once()
    paired.sync_once()                          # nothing pending: asks the head, keeps its tag
    assert settings.read(conn, "sync_head_etag")
    sync_server.snapshot(tmp_path / "backup.sqlite3")
    old_acked = read_state(conn).acked_seq
    sell(conn, 3)
    paired.sync_once()                          # a push moves the cursor: the tag is stale
    assert settings.read(conn, "sync_head_etag") is None
    sync_server.restore(tmp_path / "backup.sqlite3")
    sync_server.answers.clear()
    result = paired.sync_once()
    heads = [a for a in sync_server.answers if a[1] == "/api/v1/journal/head"]
    assert heads and heads[0][2] == 200         # asked without a tag, so not a 304
    assert result.pushed == 3 and result.pending == 0 and result.acked_seq == old_acked + 3
    assert sync_server.hashes(app.config["DEVICE_ID"]) == stall_hashes(conn)


def test_the_worker_honours_retry_after_on_polls_and_pushes(app, conn, paired, sync_server):
    paired.sync_once()
    sync_server.answers.clear()
    clock = FakeClock()
    worker = make_worker(app, clock, poll_start_spread=0.0)
    sync_server.faults.append(("/api/v1/catalogue", unavailable(30)))
    assert worker.step() == "poll"                        # bank, head, then the catalogue: 503
    failed_at = clock.now
    assert worker.next_attempt_at - failed_at >= 30
    asked = len(sync_server.answers)
    run(worker, clock, failed_at + 29)
    assert len(sync_server.answers) == asked, "nothing asked before Retry-After"
    rounds = run(worker, clock, failed_at + 30 * (1 + RETRY_AFTER_SPREAD) + TICK)
    assert [kind for _t, kind in rounds] == ["poll"]
    assert sync_server.answers[-1][1] == "/api/v1/catalogue" and sync_server.answers[-1][2] == 304
    # A push told to wait by a 429.
    sync_server.faults.append((PUSH, unavailable(40, "429 Too Many Requests")))
    sale_at = clock.now + 0.5
    rounds = run(worker, clock, sale_at + 30, [sale_at], act=lambda _at: sell(conn, 1))
    assert [kind for _t, kind in rounds] == ["push"] and read_state(conn).pending == 1
    refused_at = rounds[0][0]
    rounds = run(worker, clock, refused_at + 39)
    assert rounds == [] and read_state(conn).pending == 1
    rounds = run(worker, clock, refused_at + 40 * (1 + RETRY_AFTER_SPREAD) + TICK)
    assert [kind for _t, kind in rounds] == ["push"] and read_state(conn).pending == 0
    assert [s for m, p, s, _b in sync_server.answers if p == PUSH] == [429, 200]


def test_a_z_close_goes_up_at_once(app, conn, paired, sync_server):
    paired.sync_once()
    clock = FakeClock()
    worker = make_worker(app, clock)
    sale_at = clock.now + 1
    run(worker, clock, sale_at + 10, [sale_at], act=lambda _at: sell(conn, 1))
    assert read_state(conn).pending == 0                  # the sale went after the quiet gap
    sell(conn, 1)                                          # the next one waits for the spacing
    day = current_business_day(conn, utc_timestamp())
    daybook.close_day(conn, app.config["DEVICE_ID"], day, 40_000, "owner")
    rounds = run(worker, clock, clock.now + TICK)
    assert [kind for _t, kind in rounds] == ["push"]      # at the next tick, not a minute later
    assert read_state(conn).pending == 0
    kinds = [k for (k,) in conn.execute("SELECT kind FROM journal ORDER BY seq DESC LIMIT 1")]
    assert kinds == ["day_close"]


def test_the_bank_is_watched_while_a_qr_code_waits(app, api, conn, paired, sync_server):
    api.post("/api/bank-accounts", json={"bank_bin": "970436", "account": "0011001932418",
                                         "holder": "Nguyen Thi Dao"})
    paired.sync_once()
    clock = FakeClock()
    worker = make_worker(app, clock, poll_start_spread=0.0)
    run(worker, clock, clock.now + 5 * TICK)              # the first poll, then nothing waits
    bank = "/api/v1/bank/notifications"
    quiet = sync_server.count(bank)
    run(worker, clock, clock.now + 10 * QR_WATCH_INTERVAL)
    assert sync_server.count(bank) == quiet, "no code waiting: the bank is not asked"
    response = api.post("/api/qr-payments", json={
        "lines": [{"product_id": 1, "quantity": "1"}],
        "payments": [{"method": "qr", "amount": 120000}]})
    assert response.status_code == 201
    shown = clock.now
    rounds = run(worker, clock, shown + 6 * QR_WATCH_INTERVAL + TICK)
    watched = [t for t, kind in rounds if kind == "bank"]
    assert len(watched) == 6 and sync_server.count(bank) == quiet + 6
    assert all(abs((b - a) - QR_WATCH_INTERVAL) <= TICK for a, b in zip(watched, watched[1:]))
    # The buyer pays: the bank's word arrives, the next look records the sale, and it goes up.
    secret = _bank_secret(sync_server)
    reference = response.get_json()["reference"]
    answer = requests.post(f"{sync_server.url}{bank}", timeout=10,
                           headers={"Authorization": f"Bearer {secret}"},
                           json={"error": 0, "data": [
                               {"id": 1, "tid": "FT1", "amount": 120000,
                                "when": "2026-11-23 10:15:00", "description": reference,
                                "bank_sub_acc_id": "0011001932418"}]})
    assert answer.status_code == 200
    head = read_state(conn).head_seq
    run(worker, clock, clock.now + QR_WATCH_INTERVAL + PUSH_QUIET + 2 * TICK)
    state = read_state(conn)
    assert state.head_seq == head + 2 and state.pending == 0    # the sale and its bank check
    before = sync_server.count(bank)
    run(worker, clock, clock.now + 5 * QR_WATCH_INTERVAL)
    assert sync_server.count(bank) == before, "the code is paid: no more watching"


def _bank_secret(server: CountingServer) -> str:
    from sync.server import bank
    from sync.server.db import utcnow, write_transaction
    with write_transaction(server.engine) as conn:
        return bank.create_secret(conn, "casso", utcnow())


# --- the numbers of docs/SYNC.md ------------------------------------------------------------------

def _section() -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("## How often a stall talks to the province")
    end = text.find("\n## ", start + 10)
    return text[start:end if end > 0 else None]


def test_the_docs_constants_are_the_codes():
    from pos.sync import backoff
    rows = dict(re.findall(r"^\| `([A-Z_]+)` \| ([0-9.,]+) \|", _section(), re.M))
    names = ["TICK", "PUSH_QUIET", "PUSH_INTERVAL", "PUSH_BOUND", "POLL_INTERVAL", "POLL_JITTER",
             "POLL_START_SPREAD", "QR_WATCH_INTERVAL", "QR_WATCH_FOR", "STALLS",
             "SALES_PER_DAY", "QR_SHARE", "QR_WAIT"]
    code = {name: getattr(sched, name) for name in names}
    code |= {"CAP": backoff.CAP, "RETRY_AFTER_SPREAD": backoff.RETRY_AFTER_SPREAD}
    assert sorted(rows) == sorted(code)
    for name, value in code.items():
        assert float(rows[name].replace(",", "")) == value, name
    urgent = re.search(r"^\| `URGENT_KINDS` \| ([^|]+)\|", _section(), re.M)
    assert urgent and set(re.findall(r"`(\w+)`", urgent.group(1))) == set(sched.URGENT_KINDS)
    assert re.search(rf"`FIRST` = {backoff.FIRST:.0f} s", _section())
    assert f"= {sched.PUSH_BOUND:.0f} s after the entry" in _section()
    assert f"`PUSH_QUIET` + `TICK` = {sched.PUSH_QUIET + sched.TICK:.0f} s" in _section()


def test_the_docs_figures_are_computed_from_the_constants():
    load = sched.peak_load()
    figures = dict(re.findall(r"^\| ([^|`]+?) \| \*\*([0-9.,]+)\*\*", _section(), re.M))
    expected = {
        "Sales per stall per hour at the peak": load.sales_per_hour,
        "Pushes per stall per hour at the peak, at most": load.pushes_per_hour_max,
        "Pushes per stall per hour at the peak, Poisson sales": load.pushes_per_hour,
        "Polls per stall per hour": load.polls_per_hour,
        "Poll requests per stall per hour": load.poll_requests_per_hour,
        "Bank watch requests per stall per hour": load.bank_watch_per_hour,
        "Requests per stall per hour at the peak": load.requests_per_hour,
        "Requests per stall per hour at the peak, before": load.old_requests_per_hour,
        "Requests/s for the province at the peak": load.province_per_second(),
        "Requests/s for the province at the peak, before": load.old_province_per_second(),
        "Pushes/s for the province at the peak": load.pushes_per_hour * sched.STALLS / 3600,
        "Pushes/s for the province at the peak, before": load.sales_per_hour * sched.STALLS
        / 3600,
    }
    assert sorted(figures) == sorted(expected)
    for label, value in expected.items():
        shown = float(figures[label].replace(",", ""))
        assert shown == pytest.approx(round(value, 1), abs=0.051), label
