"""Attacks on the administrator's log-in (issue 15): lock-out answers that tell which user names
exist, guesses in parallel, lock-outs that never grow, and a session cookie copied before a
log-out that still worked after it. Run on SQLite and PostgreSQL."""
from __future__ import annotations

import re
import threading
from datetime import timedelta

import requests
from sqlalchemy import select

from sync.server import users as users_module
from sync.server.db import login_guard, utcnow, write_transaction
from sync.server.users import UserError, authenticate, create_user, delete_user, set_password

PASSWORD = "mật khẩu tỉnh 2026"
ERROR = re.compile(r'<p class="error" role="alert">([^<]*)</p>')


def _csrf(client) -> str:
    html = client.get("/admin/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _log_in(client, username: str, password: str):
    return client.post("/admin/login", data={"username": username, "password": password,
                                             "csrf_token": _csrf(client)})


def _error(response) -> tuple[int, str]:
    match = ERROR.search(response.get_data(as_text=True))
    return response.status_code, match.group(1) if match else ""


def _add_user(engine, username: str, role: str = "admin") -> int:
    with write_transaction(engine) as conn:
        return create_user(conn, username, PASSWORD, role,
                           province=None if role == "admin" else "Hà Giang").id


def test_unknown_and_known_names_get_identical_lock_out_answers(app, engine):
    """The attack: after five wrong passwords only a real name answered "too many wrong
    passwords", so the lock-out told which user names exist."""
    _add_user(engine, "quantri")
    answers = {}
    for name in ("quantri", "khong.co.ai"):
        client = app.test_client()
        answers[name] = [_error(_log_in(client, name, "sai mật khẩu")) for _ in range(6)]
        answers[name].append(_error(_log_in(client, name, PASSWORD)))
    assert answers["quantri"] == answers["khong.co.ai"]
    assert answers["quantri"][-1][0] == 401
    assert "quá nhiều lần" in answers["quantri"][-1][1]


def test_an_unknown_name_costs_a_password_hash_check(engine, monkeypatch):
    """The time of an answer must not tell a name exists: unknown names are hashed too."""
    _add_user(engine, "quantri")
    checked = []
    real_check = users_module.check_password_hash

    def counting_check(pwhash: str, password: str) -> bool:
        checked.append(password)
        return real_check(pwhash, password)

    monkeypatch.setattr(users_module, "check_password_hash", counting_check)
    for name in ("quantri", "khong.co.ai"):
        with write_transaction(engine) as conn:
            try:
                authenticate(conn, name, "sai mật khẩu")
            except UserError:
                pass
    assert len(checked) == 2


def test_lock_outs_grow_with_each_lock_out_of_a_streak(engine):
    """15 minutes, then an hour, then four hours: a password is not guessed 480 times a day."""
    _add_user(engine, "quantri")
    now = utcnow()
    waits = []
    for _lock_out in range(4):
        for _ in range(5):
            with write_transaction(engine) as conn:
                try:
                    authenticate(conn, "quantri", "sai mật khẩu", now=now)
                except UserError:
                    pass
        with write_transaction(engine) as conn:
            locked_until = conn.execute(select(login_guard.c.locked_until).where(
                login_guard.c.username == "quantri")).scalar()
        assert locked_until is not None
        waits.append(round((locked_until - now).total_seconds() / 60))
        now = locked_until + timedelta(seconds=1)
    assert waits == [15, 60, 240, 240]
    with write_transaction(engine) as conn:   # the right password opens once the lock ends
        assert authenticate(conn, "quantri", PASSWORD, now=now).username == "quantri"


def test_twenty_parallel_wrong_passwords_get_at_most_five_checks(app, engine, live_server,
                                                                 monkeypatch):
    """The attack: parallel guesses each read the count before any wrote it. Over real HTTP."""
    _add_user(engine, "quantri")
    checked = []
    real_check = users_module.check_password_hash

    def counting_check(pwhash: str, password: str) -> bool:
        checked.append(password)
        return real_check(pwhash, password)

    monkeypatch.setattr(users_module, "check_password_hash", counting_check)
    start = threading.Barrier(20, timeout=60)
    answers: list[str] = []

    def guess(n: int) -> None:
        with requests.Session() as browser:
            page = browser.get(live_server + "/admin/login", timeout=60).text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
            start.wait()
            answer = browser.post(live_server + "/admin/login", timeout=60, data={
                "username": "quantri", "password": f"sai mật khẩu {n}", "csrf_token": token})
            answers.append(ERROR.search(answer.text).group(1))

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(answers) == 20
    assert len(checked) == 5, f"{len(checked)} passwords were checked before the lock"
    assert sum("quá nhiều lần" in answer for answer in answers) == 15


def _copied_cookie(app, username: str):
    """A logged-in client, and a second client holding a copy of its session cookie."""
    client = app.test_client()
    assert _log_in(client, username, PASSWORD).status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    assert thief.get("/admin/stalls").status_code == 200, "the copy works while logged in"
    return client, thief


def _logged_out(client) -> bool:
    answer = client.get("/admin/stalls")
    return answer.status_code == 302 and answer.location.startswith("/admin/login")


def test_a_copied_cookie_stops_working_at_log_out(app, engine):
    _add_user(engine, "quantri")
    client, thief = _copied_cookie(app, "quantri")
    client.post("/admin/logout", data={"csrf_token": _csrf(client)})
    assert _logged_out(client)
    assert _logged_out(thief), "a cookie copied before log-out still worked after it"


def test_a_copied_cookie_stops_working_at_a_password_change(app, engine):
    user_id = _add_user(engine, "quantri")
    _client, thief = _copied_cookie(app, "quantri")
    with write_transaction(engine) as conn:
        assert set_password(conn, user_id, "một mật khẩu mới 2026")
    assert _logged_out(thief)


def test_a_removed_users_cookie_does_not_open_the_next_user_given_its_id(app, engine):
    """SQLite hands a removed user's id to the next user added: the old cookie must not open
    the new account."""
    _add_user(engine, "quantri")
    user_id = _add_user(engine, "tam.thoi")
    _client, thief = _copied_cookie(app, "tam.thoi")
    with write_transaction(engine) as conn:
        assert delete_user(conn, user_id)
    assert _logged_out(thief)
    _add_user(engine, "nguoi.moi")
    other = app.test_client()
    assert _log_in(other, "nguoi.moi", PASSWORD).status_code == 302
    assert _logged_out(thief), "a removed user's cookie opened another account"
