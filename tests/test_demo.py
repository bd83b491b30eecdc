"""The demo stall (`market-pos demo`): its morning of sales is recorded through the stall's own
writers at times spread over the morning in Vietnam (issue 17: they all had the same minute)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest

from pos import demo, journal
from pos.cli import _connect
from sync.localtime import VIETNAM
from sync.protocol import clock, parse_timestamp, utc_timestamp


def _seed(tmp_path: Path, now: datetime | None):
    conn, device_id = _connect(tmp_path / "demo")
    demo.seed(conn, device_id, now=now)
    return conn


def _local(at: str) -> datetime:
    return parse_timestamp(at).astimezone(VIETNAM)


def _check_morning(conn, day: date, latest: datetime) -> list[datetime]:
    """The demo's sales are real entries, one a minute at most, increasing, inside 06:00–10:30
    of `day` and not after `latest`; every entry before them is earlier still."""
    assert journal.verify(conn).ok
    entries = list(journal.entries(conn))
    ats = [parse_timestamp(e.at) for e in entries]
    assert ats == sorted(ats) and len(set(ats)) == len(ats)   # time follows seq
    sold = [_local(e.at) for e in entries if e.kind == "sale"]
    assert len(sold) == len(demo.DEMO_SALES) == 8
    minutes = [t.replace(second=0, microsecond=0) for t in sold]
    assert len(set(minutes)) == len(minutes)
    start = datetime.combine(day, time(6, 0), VIETNAM)
    assert start <= sold[0] and sold[-1] <= datetime.combine(day, time(10, 30), VIETNAM)
    assert sold[-1] < latest
    assert sold[-1] - sold[0] >= timedelta(minutes=20)       # spread, not bunched
    # Recorded by the stall's own writers: projections, business day and day totals agree.
    rows = conn.execute("SELECT business_day, total FROM sales ORDER BY seq").fetchall()
    assert {row["business_day"] for row in rows} == {day.isoformat()}
    totals = conn.execute("SELECT sales_count, revenue FROM day_totals WHERE business_day = ?",
                          (day.isoformat(),)).fetchone()
    assert (totals["sales_count"], totals["revenue"]) == (8, sum(r["total"] for r in rows))
    qr = conn.execute("SELECT COUNT(*) FROM payments WHERE method = 'qr'").fetchone()[0]
    assert qr == 2
    return sold


def test_a_demo_started_after_the_morning_sold_through_that_morning(tmp_path):
    now = datetime(2026, 12, 7, 15, 20, tzinfo=VIETNAM)
    conn = _seed(tmp_path, now)
    try:
        sold = _check_morning(conn, date(2026, 12, 7), now)
        assert sold[0].time() < time(6, 30) and sold[-1].time() > time(10, 0)
    finally:
        conn.close()


def test_a_demo_started_during_the_morning_sold_up_to_a_little_before_now(tmp_path):
    now = datetime(2026, 12, 7, 6, 40, tzinfo=VIETNAM)
    conn = _seed(tmp_path, now)
    try:
        sold = _check_morning(conn, date(2026, 12, 7), now)
        assert sold[-1] <= now - demo.QR_WAIT
    finally:
        conn.close()


def test_a_demo_started_before_dawn_sold_yesterday_morning(tmp_path):
    now = datetime(2026, 12, 7, 6, 10, tzinfo=VIETNAM)
    conn = _seed(tmp_path, now)
    try:
        _check_morning(conn, date(2026, 12, 6), now)
    finally:
        conn.close()


def test_the_demo_on_the_real_clock(tmp_path):
    before = datetime.now(timezone.utc)
    conn = _seed(tmp_path, None)
    try:
        today = before.astimezone(VIETNAM).date()
        sold_on = conn.execute("SELECT business_day FROM sales LIMIT 1").fetchone()[0]
        assert sold_on in (today.isoformat(), (today - timedelta(days=1)).isoformat())
        _check_morning(conn, date.fromisoformat(sold_on), datetime.now(timezone.utc))
        # Seeding twice changes nothing (the demo keeps its data from one start to the next).
        demo.seed(conn, "another-device")
        assert conn.execute("SELECT COUNT(*) FROM sales").fetchone()[0] == 8
    finally:
        conn.close()


@pytest.mark.parametrize("hour", [0, 6, 7, 10, 11, 23])
def test_sale_times_are_in_a_morning_never_ahead(hour):
    now = datetime(2026, 12, 7, hour, 45, tzinfo=VIETNAM)
    times = demo.sale_times(now)
    assert times == sorted(times) and times[-1] < now
    assert all(time(6, 0) <= t.astimezone(VIETNAM).time() <= time(10, 30) for t in times)


def test_the_clock_block_is_the_journals_only_in_its_block():
    moment = datetime(2026, 12, 7, 1, 2, 3, 456000, tzinfo=timezone.utc)
    with clock(lambda: moment):
        assert utc_timestamp() == "2026-12-07T01:02:03.456Z"
        assert utc_timestamp(moment + timedelta(seconds=1)) == "2026-12-07T01:02:04.456Z"
    outside = parse_timestamp(utc_timestamp())
    assert abs(outside - datetime.now(timezone.utc)) < timedelta(seconds=5)
