"""When the stall talks to the province: the push and poll schedule of the sync worker
(docs/SYNC.md, "How often a stall talks to the province").

Three kinds of round, each as few requests as it can be:
- **push**: `POST /api/v1/journal` only, of everything pending. Coalesced: when the stall has
  been quiet for `PUSH_QUIET` seconds (no new entry), or when entries have waited
  `PUSH_INTERVAL` seconds although sales keep coming; and never two pushes less than
  `PUSH_INTERVAL` apart. An entry of an `URGENT_KINDS` kind (the Z close) goes at once.
- **poll**: the full sync (bank notifications, the head when nothing was pushed since the last
  poll, the catalogue; the head and the catalogue with If-None-Match): every `POLL_INTERVAL`
  seconds on average, each gap drawn in `POLL_INTERVAL · [1 − POLL_JITTER, 1 + POLL_JITTER]`,
  the first after start in `[0, POLL_START_SPREAD]` (full jitter), so that stalls started
  together do not poll together.
- **bank**: `GET /api/v1/bank/notifications` only, every `QR_WATCH_INTERVAL` seconds while a QR
  code shown less than `QR_WATCH_FOR` seconds ago waits for the buyer's transfer, so that the
  bank's notification records the sale while the buyer is still at the stall.

`Schedule` is the policy alone, on a clock it is given (seconds, any origin): the worker
feeds it what it sees in the journal every `TICK` seconds and runs what it says is due; tests
drive it with a fake clock. Back-off after failures (pos/sync/backoff.py, Retry-After honoured)
is the worker's and comes on top: it delays every kind of round alike.

The promise, when the stall is online and the server answers: a push carrying an entry starts
at most `PUSH_BOUND` = `PUSH_INTERVAL` + `TICK` seconds after the entry was committed (the
worker sees it within a tick, and no condition holds a push back longer than `PUSH_INTERVAL`
after that); a lone sale, after a quiet minute, goes after `PUSH_QUIET` to `PUSH_QUIET` + `TICK`.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Callable

TICK = 2.0                 # the worker looks at the journal this often (a local SELECT)
PUSH_QUIET = 5.0           # no new entry for this long: the stall is quiet, push now
PUSH_INTERVAL = 60.0       # N: at most one push per N seconds; nothing waits longer than N
POLL_INTERVAL = 900.0      # bank, head and catalogue: every 15 minutes on average
POLL_JITTER = 0.5          # each gap uniform in [450, 1350] s
POLL_START_SPREAD = 60.0   # the first poll after start: uniform in [0, 60] s
QR_WATCH_INTERVAL = 15.0   # a QR code waiting for the transfer: ask for the bank's word this often
QR_WATCH_FOR = 300.0       # ... for codes shown less than 5 minutes ago
URGENT_KINDS = frozenset({"day_close"})   # pushed at once, past the coalescing
PUSH_BOUND = PUSH_INTERVAL + TICK         # the worst case, online: a push starts by then

NEVER = -math.inf


@dataclass(frozen=True)
class Seen:
    """What the worker saw in the stall's database on one tick."""

    head: int                 # the journal's last seq
    pending: int              # entries after the server's cursor
    urgent: bool = False      # a pending entry of an URGENT_KINDS kind appeared
    qr_waiting: bool = False  # a QR code shown less than QR_WATCH_FOR ago waits for the bank
    blocked: bool = False     # a refused entry waits for the province (no push until retried)


class Schedule:
    """The push and poll policy of one stall, on the clock the caller passes in.

    The caller calls `observe(now, seen)` on every tick, then `due(now)`: "poll", "push",
    "bank" or None; after running a round, `done(kind, started, pushed=…)` (only when it
    succeeded: a failed round stays due, and the worker's back-off says when to try again)."""

    def __init__(self, *, push_interval: float = PUSH_INTERVAL, push_quiet: float = PUSH_QUIET,
                 poll_interval: float = POLL_INTERVAL, poll_jitter: float = POLL_JITTER,
                 poll_start_spread: float = POLL_START_SPREAD,
                 qr_watch_interval: float = QR_WATCH_INTERVAL,
                 rand: Callable[[], float] = random.random, start: float = 0.0):
        self.push_interval = push_interval
        self.push_quiet = push_quiet
        self.poll_interval = poll_interval
        self.poll_jitter = poll_jitter
        self.qr_watch_interval = qr_watch_interval
        self.rand = rand
        self.seen_head: int | None = None
        self.changed_at = NEVER        # when the journal last grew
        self.pending_since: float | None = None   # when unpushed entries were first seen
        self.urgent = False
        self.blocked = False
        self.qr_waiting = False
        self.last_push_at = NEVER      # when the last push started
        self.pushed_since_poll = True  # a push answer since the last poll (it gave the head)
        self.next_poll_at = start + poll_start_spread * rand()
        self.next_bank_at = NEVER

    # what the worker saw

    def observe(self, now: float, seen: Seen) -> None:
        if self.seen_head is None:
            # Entries already there at start have been quiet for as long as the stall was off.
            self.changed_at = NEVER
            self.pushed_since_poll = False
        elif seen.head != self.seen_head:
            self.changed_at = now
        self.seen_head = seen.head
        if seen.pending > 0:
            if self.pending_since is None:
                self.pending_since = now if self.changed_at != NEVER else NEVER
            self.urgent = self.urgent or seen.urgent
        else:
            self.pending_since, self.urgent = None, False
        self.blocked = seen.blocked
        if seen.qr_waiting and not self.qr_waiting:
            self.next_bank_at = now + self.qr_watch_interval   # the buyer needs a moment
        self.qr_waiting = seen.qr_waiting

    # what is due

    def push_due(self, now: float) -> bool:
        if self.pending_since is None or self.blocked:
            return False
        if self.urgent:
            return True
        if now - self.last_push_at < self.push_interval:
            return False
        return now - self.changed_at >= self.push_quiet \
            or now - self.pending_since >= self.push_interval

    def poll_due(self, now: float) -> bool:
        return now >= self.next_poll_at

    def bank_due(self, now: float) -> bool:
        return self.qr_waiting and now >= self.next_bank_at

    def due(self, now: float) -> str | None:
        """The round to run now, if any: a poll (which also pushes when a push is due), a
        push, or a look at the bank's notifications."""
        if self.poll_due(now):
            return "poll"
        if self.push_due(now):
            return "push"
        if self.bank_due(now):
            return "bank"
        return None

    def next_deadline(self, now: float) -> float:
        """The soonest time something may fall due without anything new being seen (the
        worker sleeps until then, or a tick, whichever comes first)."""
        times = [self.next_poll_at]
        if self.pending_since is not None and not self.blocked:
            if self.urgent:
                times.append(now)
            else:
                earliest = self.last_push_at + self.push_interval
                ready = min(self.changed_at + self.push_quiet,
                            self.pending_since + self.push_interval)
                times.append(max(earliest, ready))
        if self.qr_waiting:
            times.append(self.next_bank_at)
        return min(times)

    # what was done

    def done(self, kind: str, started: float, *, pushed: bool = False,
             pending: int | None = None) -> None:
        """A round that started at `started` succeeded. `pushed`: it sent the journal (a push
        round, or a poll that pushed); `pending`: what still waits after it, if known."""
        if pushed or kind == "push":
            self.last_push_at = started
            self.pushed_since_poll = True
            self.urgent = False
            # Entries committed during the push wait from its start at the latest.
            self.pending_since = started if pending else None
        if kind == "poll":
            self.next_poll_at = started + self.poll_gap()
            self.pushed_since_poll = False
        if kind in ("poll", "bank"):
            self.next_bank_at = started + self.qr_watch_interval

    def poll_gap(self) -> float:
        """The time to the next poll: POLL_INTERVAL ± POLL_JITTER of it, uniformly."""
        return self.poll_interval * (1.0 - self.poll_jitter + 2.0 * self.poll_jitter * self.rand())


# --- the province's load, from the constants above (docs/SYNC.md) --------------------------------

# The design point of issue 21: a merged province at its morning peak.
STALLS = 60_000
SALES_PER_DAY = 50
PEAK_SHARE, PEAK_HOURS, PEAK_BURST = 0.5, 3, 3   # half the sales in 6–9 h, bursts of 3×
# Before issue 21, each sale woke a full sync within a 2 s look: bank notifications, the push and
# the catalogue (3 requests), and an idle stall synced every 300 s.
OLD_REQUESTS_PER_SALE = 3
OLD_PULL_INTERVAL = 300.0
POLL_REQUESTS = 3          # bank, head, catalogue (the head is left out after a push)
POLL_REQUESTS_AFTER_PUSH = 2
# Assumptions for the bank watch (not measured): the share of sales paid by QR and how long a
# code waits for the buyer's transfer.
QR_SHARE = 0.3
QR_WAIT = 40.0


def peak_sales_per_hour(sales_per_day: float = SALES_PER_DAY) -> float:
    """One stall's sales per hour at the peak: half the day's in three hours, bursts of 3×."""
    return sales_per_day * PEAK_SHARE / PEAK_HOURS * PEAK_BURST


def simulate_pushes(rate_per_hour: float, hours: float = 200.0, seed: int = 21,
                    schedule: Schedule | None = None, tick: float = TICK) -> float:
    """Pushes per hour of one stall whose sales come as a Poisson stream of `rate_per_hour`,
    under `Schedule` as the worker runs it (a look every `tick`, pushes answered at once)."""
    rng = random.Random(seed)
    schedule = schedule or Schedule(poll_interval=math.inf, rand=rng.random)
    schedule.next_poll_at = math.inf
    end = hours * 3600.0
    next_sale = rng.expovariate(rate_per_hour / 3600.0)
    head = acked = pushes = 0
    schedule.observe(0.0, Seen(head, 0))
    now = 0.0
    while now < end:
        now += tick
        while next_sale <= now:
            head += 1
            next_sale += rng.expovariate(rate_per_hour / 3600.0)
        schedule.observe(now, Seen(head, head - acked))
        if schedule.due(now) == "push":
            acked = head
            pushes += 1
            schedule.done("push", now, pending=0)
    return pushes / hours


@dataclass(frozen=True)
class Load:
    """Requests of one stall per hour at the peak, and of the province per second."""

    sales_per_hour: float
    pushes_per_hour_max: float
    pushes_per_hour: float
    polls_per_hour: float
    poll_requests_per_hour: float
    bank_watch_per_hour: float
    old_requests_per_hour: float

    @property
    def requests_per_hour(self) -> float:
        return self.pushes_per_hour + self.poll_requests_per_hour + self.bank_watch_per_hour

    def province_per_second(self, stalls: int = STALLS) -> float:
        return stalls * self.requests_per_hour / 3600.0

    def old_province_per_second(self, stalls: int = STALLS) -> float:
        return stalls * self.old_requests_per_hour / 3600.0


def peak_load(sales_per_day: float = SALES_PER_DAY) -> Load:
    """The figures of docs/SYNC.md, from this module's constants."""
    sales = peak_sales_per_hour(sales_per_day)
    pushes = simulate_pushes(sales)
    polls = 3600.0 / POLL_INTERVAL
    # Before: a full sync per sale, and an idle pull whenever 300 s passed without one
    # (Poisson sales: a gap that long has probability e^(−rate·300)).
    old_idle = sales * math.exp(-sales * OLD_PULL_INTERVAL / 3600.0)
    return Load(
        sales_per_hour=sales,
        pushes_per_hour_max=min(sales, 3600.0 / PUSH_INTERVAL),
        pushes_per_hour=pushes,
        polls_per_hour=polls,
        poll_requests_per_hour=polls * (POLL_REQUESTS_AFTER_PUSH if pushes >= polls
                                        else POLL_REQUESTS),
        bank_watch_per_hour=sales * QR_SHARE * math.ceil(QR_WAIT / QR_WATCH_INTERVAL),
        old_requests_per_hour=(sales + old_idle) * OLD_REQUESTS_PER_SALE)
