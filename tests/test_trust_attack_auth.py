"""Attacks on the stall's PIN pad (issue 15): a helper guessing the owner's PIN between her own
unlocks, parallel guesses slipping past the count, and a lock-out that never grows."""
from __future__ import annotations

import re
import threading
from typing import Any

import requests

from pos import access
from tests.conftest import HELPER_PIN, OWNER_PIN, unlock

WRONG = "0000"


def _wait_out_the_lock(conn: Any) -> None:
    """Let the current lock-out end now, as if its minutes had passed (the streak stays)."""
    conn.execute("UPDATE pin_guard SET locked_until = 0")


def test_the_helpers_own_unlocks_do_not_reset_the_count_of_wrong_guesses(client, conn):
    """The attack: four guesses at the owner's PIN, then the helper's PIN, again and again, never
    met the lock-out (a 4-digit PIN fell in 35 tries). Now the fifth wrong guess locks, and the
    next lock-out of the same streak is longer."""
    for lock_out in range(2):
        for _guess in range(4):
            assert unlock(client, WRONG).status_code == 401
        assert unlock(client, HELPER_PIN).status_code == 302   # she unlocks, as she may
        locked = unlock(client, WRONG)
        assert locked.status_code == 429, "the 5th wrong guess must lock, helper unlock or not"
        assert unlock(client, HELPER_PIN).status_code == 429  # locked for everyone
        wait = access.seconds_locked(conn)
        assert 0 < wait <= 60 if lock_out == 0 else wait > 60, "the 2nd lock-out must be longer"
        _wait_out_the_lock(conn)


def test_twenty_parallel_wrong_pins_get_at_most_five_checks(app, monkeypatch):
    """The attack: parallel wrong PINs got 8 to 10 checks per lock-out instead of 5, because the
    lock check and the count were not one transaction. Over real HTTP, 20 at once."""
    from tests.harness.live import serve_in_thread
    checked: list[str] = []
    real_check = access.check_password_hash

    def counting_check(pin_hash: str, pin: str) -> bool:
        checked.append(pin)
        return real_check(pin_hash, pin)

    monkeypatch.setattr(access, "check_password_hash", counting_check)
    start = threading.Barrier(20, timeout=60)
    statuses: list[int] = []

    def guess(base: str, pin: str) -> None:
        with requests.Session() as browser:
            page = browser.get(base + "/unlock", timeout=60).text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
            start.wait()
            answer = browser.post(base + "/unlock", data={"pin": pin, "csrf_token": token},
                                  allow_redirects=False, timeout=60)
            statuses.append(answer.status_code)

    with serve_in_thread(app, threads=20) as base:
        threads = [threading.Thread(target=guess, args=(base, f"{1000 + n}"))
                   for n in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert len(statuses) == 20
    assert sorted(statuses) == [401] * 4 + [429] * 16, statuses
    guessed = {pin for pin in checked if pin != OWNER_PIN}
    assert len(guessed) == 5, f"{len(guessed)} different PINs were checked before the lock"


def test_lock_outs_grow_and_a_quiet_day_forgives(conn):
    """One minute, then 5, 15 and 60, staying at 60: a 4-digit PIN takes weeks, not hours."""
    now = 1_800_000_000.0

    def five_wrong() -> int:
        nonlocal now
        for _ in range(5):
            try:
                access.unlock(conn, WRONG, now=now)
            except access.TooManyAttempts:
                pass
            except access.NotAuthenticated:
                continue
            break
        wait = access.seconds_locked(conn, now=now)
        now += wait + 1
        return wait

    assert [five_wrong() for _ in range(6)] == [60, 300, 900, 3600, 3600, 3600]
    assert access.unlock(conn, HELPER_PIN, now=now) == "helper"   # forgives nothing
    assert five_wrong() == 3600
    now += 24 * 3600                                            # a day without a wrong PIN
    assert five_wrong() == 60
    assert five_wrong() == 300
    assert access.unlock(conn, OWNER_PIN, now=now) == "owner"     # the guessed PIN forgives
    assert five_wrong() == 60



def test_a_helper_who_keeps_the_pad_locked_is_undone_at_the_command_line(client, conn,
                                                                           data_dir):
    """Wrong PINs typed on purpose lock the owner out too, an hour at a time; the owner, who
    has the machine, opens the pad with `market-pos unlock-pad` and the streak starts over."""
    from click.testing import CliRunner

    from pos.cli import main
    for lock_out in range(4):
        for _guess in range(5):
            unlock(client, WRONG)
        if lock_out < 3:
            _wait_out_the_lock(conn)
    assert access.seconds_locked(conn) > 15 * 60
    assert unlock(client, OWNER_PIN).status_code == 429
    opened = CliRunner().invoke(main, ["unlock-pad", "--data", str(data_dir)])
    assert opened.exit_code == 0 and "PIN pad opened" in opened.output
    assert access.seconds_locked(conn) == 0
    assert unlock(client, OWNER_PIN).status_code == 302
    for _guess in range(5):                  # a fresh streak: back to the first, short lock-out
        unlock(client, WRONG)
    assert 0 < access.seconds_locked(conn) <= 60
