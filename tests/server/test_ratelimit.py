"""Rate limits counted in the database (sync/server/ratelimit.py), on SQLite and PostgreSQL: the
limit per window, Retry-After, a new window after the old one ended, old windows swept, long keys,
and hits from many engines at once (as from many processes) counted exactly once each."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from sync.server.db import make_engine, rate_limits, read_transaction
from sync.server.ratelimit import DatabaseRateLimiter


class Clock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def _rows(engine):
    with read_transaction(engine) as conn:
        return conn.execute(select(rate_limits).order_by(rate_limits.c.scope,
                                                          rate_limits.c.key)).all()


def test_the_limit_holds_per_key_and_window(server_db):
    engine = make_engine(server_db)
    clock = Clock()
    limiter = DatabaseRateLimiter(engine, "pair", 3, 60, clock=clock)
    try:
        assert [limiter.hit("10.0.0.1") for _ in range(3)] == [None, None, None]
        assert limiter.hit("10.0.0.1") == 60
        assert limiter.hit("10.0.0.2") is None           # another key is counted apart
        clock.now += 20.5
        assert limiter.hit("10.0.0.1") == 40             # whole seconds, rounded up
        for _ in range(50):                              # hammering does not lengthen it
            limiter.hit("10.0.0.1")
        clock.now += 39
        assert limiter.hit("10.0.0.1") == 1
        clock.now += 1                                   # the window has ended: a new one
        assert limiter.hit("10.0.0.1") is None
        row = [r for r in _rows(engine) if r.key == "10.0.0.1"][0]
        assert row.hits == 1 and row.window_start == int(clock.now * 1000)
    finally:
        engine.dispose()


def test_refused_hits_are_capped_and_scopes_are_apart(server_db):
    engine = make_engine(server_db)
    clock = Clock()
    pair = DatabaseRateLimiter(engine, "pair", 2, 60, clock=clock)
    check = DatabaseRateLimiter(engine, "check", 2, 60, clock=clock)
    try:
        for _ in range(10):
            pair.hit("a")
        assert check.hit("a") is None
        assert {(r.scope, r.hits) for r in _rows(engine)} == {("pair", 3), ("check", 1)}
    finally:
        engine.dispose()


def test_settings_are_read_at_each_hit_and_can_be_overridden(server_db):
    engine = make_engine(server_db)
    config = {"limit": 1, "window": 10}
    limiter = DatabaseRateLimiter(engine, "check", lambda: config["limit"],
                                  lambda: config["window"], clock=Clock())
    try:
        assert limiter.hit("k") is None and limiter.hit("k") == 10
        config["limit"] = 3
        assert limiter.limit == 3 and limiter.hit("k") is None
        limiter.limit = 0
        assert limiter.hit("k") == 10
    finally:
        engine.dispose()


def test_ended_windows_are_swept(server_db):
    engine = make_engine(server_db)
    clock = Clock()
    limiter = DatabaseRateLimiter(engine, "pair", 5, 60, clock=clock)
    other = DatabaseRateLimiter(engine, "check", 5, 3600, clock=clock)
    try:
        for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
            limiter.hit(address)
        other.hit("10.0.0.1")
        clock.now += 61
        limiter.hit("10.0.0.4")
        assert [(r.scope, r.key) for r in _rows(engine)] == [("check", "10.0.0.1"),
                                                             ("pair", "10.0.0.4")]
    finally:
        engine.dispose()


def test_a_long_key_is_kept_as_its_hash(server_db):
    engine = make_engine(server_db)
    limiter = DatabaseRateLimiter(engine, "pair", 1, 60, clock=Clock())
    try:
        key = "2001:db8::1," * 20
        assert limiter.hit(key) is None and limiter.hit(key) == 60
        assert limiter.hit(key + "x") is None
        assert all(len(r.key) == 64 for r in _rows(engine))
    finally:
        engine.dispose()


def test_hits_from_many_engines_at_once_are_each_counted_once(server_db):
    """Eight engines (as eight processes would have), each hitting from its own threads: exactly
    `limit` hits are let through, however they interleave."""
    limit, engines = 25, [make_engine(server_db) for _ in range(8)]
    allowed: list[int] = []
    lock, start = threading.Lock(), threading.Barrier(16)

    def hammer(engine) -> None:
        limiter = DatabaseRateLimiter(engine, "check", limit, 3600)
        start.wait(timeout=30)
        for _ in range(5):
            if limiter.hit("198.51.100.7") is None:
                with lock:
                    allowed.append(1)

    threads = [threading.Thread(target=hammer, args=(engines[i % 8],)) for i in range(16)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in threads)
        assert len(allowed) == limit
        with read_transaction(engines[0]) as conn:
            assert conn.execute(select(func.max(rate_limits.c.hits))).scalar() == limit + 1
    finally:
        for engine in engines:
            engine.dispose()
