"""The sign-in history: who tried to sign in, from where, what came of it,
and who is paused now, for the holders of ``core.audit.view``; each person
sees the attempts on their own account on their profile."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from sqlalchemy import func, select

from fuwu import jobs
from fuwu.db import utcnow
from fuwu.models import Staff
from fuwu.web.sessions import LoginAttempt
from tests.web.test_security import login
from tests.web.test_performance import counting

ROW = re.compile(r"<tr>\s*<td class=\"date\">")


def _rows(page: str) -> list[str]:
    """The table's rows as text, each without its first cell (the time)."""
    body = re.search(r"<tbody>(.*?)</tbody>", page, re.S).group(1)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in re.findall(r"<tr>.*?</tr>", body, re.S)]
    text = lambda cell: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip()  # noqa: E731
    return [" ".join(text(c) for c in row[1:]) if len(row) > 1 else text(row[0]) for row in cells]


def test_the_history_lists_attempts_and_who_is_paused(web):
    site, app, browser = web(demo=False, users={"gm": ["general_manager"], "li": ["engineer"]},
                             settings={"core.login_max_failures_account": 3})
    guesser = browser()
    for _ in range(3):
        assert login(guesser, "li", "guess").status_code == 400
    assert login(guesser, "nobody", "guess").status_code == 400
    gm = browser("gm")  # signs in through the form too
    page = gm.get("/audit/sign-ins")
    assert page.status_code == 200 and "<h1>Sign-in history</h1>" in page.text
    rows = _rows(page.text)
    # newest first: gm's own sign-in, the unknown name, then li's three failures
    assert rows == [
        "gm gm testclient Signed in", "nobody No such account testclient Failed",
        "li li testclient Failed", "li li testclient Failed", "li li testclient Failed"], rows
    li = site.db.run(lambda s: s.scalar(select(Staff.id).where(Staff.username == "li")))
    assert f'<a href="/staff/{li}">' in page.text
    # li is paused right now, and the box links to li's attempts
    paused = re.search(r'<div class="flash flash-warning".*?</div>', page.text, re.S).group(0)
    assert "Paused now for too many failed sign-ins" in paused and ">li</a>" in paused and "nobody" not in paused
    # the filters: li's attempts, failures only, a day long past
    assert len(_rows(gm.get("/audit/sign-ins", params={"username": "li"}).text)) == 3
    failed = _rows(gm.get("/audit/sign-ins", params={"result": "failed"}).text)
    assert len(failed) == 4 and all("Failed" in r for r in failed)
    assert _rows(gm.get("/audit/sign-ins", params={"until": "2020-01-01"}).text) == ["No sign-ins match."]
    assert len(_rows(gm.get("/audit/sign-ins", params={"ip": "testclient"}).text)) == 5
    for odd in ({"result": "maybe"}, {"since": "2026-13-45"}, {"username": "x" * 500}, {"after": "garbage"}):
        assert gm.get("/audit/sign-ins", params=odd).status_code == 200, odd
    # the menu has it next to the audit log
    assert '<a href="/audit/sign-ins"' in gm.get("/").text


def test_the_history_is_for_those_granted_the_audit_log(web):
    site, app, browser = web(demo=False, users={"mgr": ["service_manager"]})
    mgr = browser("mgr")
    assert mgr.get("/audit/sign-ins").status_code == 403
    assert '<a href="/audit/sign-ins"' not in mgr.get("/").text


def test_the_history_reads_in_chinese_and_exports(web):
    site, app, browser = web(demo=False, users={"boss": ["admin"]})
    assert login(browser(), "boss", "guess").status_code == 400
    boss = browser("boss")
    page = boss.get("/audit/sign-ins", headers={"Accept-Language": "zh-CN"}).text
    assert "登录记录" in page and "IP 地址" in page and "登录成功" in page and "失败" in page
    exported = boss.get("/audit/sign-ins", params={"format": "csv", "result": "failed"})
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0] == ["Time", "Username", "Staff member", "IP address", "Result"]
    assert [r[1:] for r in rows[1:]] == [["boss", "boss", "testclient", "Failed"]]


def test_the_history_costs_the_same_for_10_and_200_rows(web):
    site, app, browser = web(demo=False, users={"boss": ["admin"]}, settings={"core.page_size": 200})
    boss = browser("boss")

    def add(count: int) -> None:
        site.db.run(lambda s: s.add_all([LoginAttempt(username=f"user{i}", ip="10.0.0.1", success=i % 2 == 0)
                                         for i in range(count)]))

    add(8)
    boss.get("/audit/sign-ins")
    with counting(site.db.engine) as few:
        page = boss.get("/audit/sign-ins")
    assert len(ROW.findall(page.text)) == 9  # boss's own sign-in too
    add(191)
    with counting(site.db.engine) as many:
        page = boss.get("/audit/sign-ins")
    assert len(ROW.findall(page.text)) == 200
    assert len(many) == len(few)


def test_my_profile_shows_the_attempts_on_my_account_only(web):
    site, app, browser = web(demo=False, users={"li": ["engineer"], "wang": ["engineer"]})
    assert login(browser(), "li", "guess").status_code == 400
    assert login(browser(), "wang", "guess").status_code == 400
    li = browser("li")
    panel = re.search(r'<section class="panel" id="sign-ins">.*?</section>', li.get("/profile").text, re.S).group(0)
    results = re.findall(r'<span class="tag[^"]*">([^<]+)</span>', panel)
    assert results == ["Signed in", "Failed"]  # the sign-in just now, then the guess; not wang's


def test_the_daily_job_forgets_old_attempts(web):
    site, app, browser = web(demo=False, users={"boss": ["admin"]}, settings={"core.sign_in_history_days": 30})
    now = utcnow()
    site.db.run(lambda s: s.add_all([LoginAttempt(username="old", ip="10.0.0.1", at=now - timedelta(days=31)),
                                     LoginAttempt(username="recent", ip="10.0.0.1", at=now - timedelta(days=29))]))
    assert jobs.run_due(site, only="core.prune_sign_ins", force=True, now=now) == [("core.prune_sign_ins", "done")]
    left = site.db.run(lambda s: set(s.scalars(select(LoginAttempt.username))))
    assert left == {"recent"}
    assert site.db.run(lambda s: s.scalar(select(func.count()).select_from(LoginAttempt))) == 1


def test_a_role_manager_lifts_a_pause_and_refused_tries_are_listed(web):
    site, app, browser = web(demo=False, users={"boss": ["admin"], "gm": ["general_manager"], "li": ["engineer"]},
                             settings={"core.login_max_failures_account": 2})
    li = browser()
    for _ in range(2):
        assert login(li, "li", "guess").status_code == 400
    assert login(li, "li").status_code == 429  # the right password, refused during the pause
    gm, boss = browser("gm"), browser("boss")
    # the refused try is listed as such, and does not count as a failure
    refused = _rows(gm.get("/audit/sign-ins", params={"result": "refused"}).text)
    assert refused == ["li li testclient Refused (paused)"], refused
    assert len(_rows(gm.get("/audit/sign-ins", params={"result": "failed"}).text)) == 2
    # the general manager reads the log but manages no accounts: no button, and the form is refused
    page = gm.get("/audit/sign-ins").text
    assert "Lift the pause" not in page and ">li</a>" in page
    assert gm.submit("/audit/sign-ins/lift", {"username": "li"}, page="/audit/sign-ins").status_code == 403
    assert login(browser(), "li").status_code == 429
    # the admin lifts it: li signs in at once, and the failures show who forgave them
    page = boss.get("/audit/sign-ins").text
    assert "Lift the pause" in page
    r = boss.submit("/audit/sign-ins/lift", {"username": "li"}, page="/audit/sign-ins")
    assert r.status_code == 303
    after = boss.get(r.headers["location"]).text
    assert "The pause on li is lifted" in after and 'id="paused"' not in after
    assert login(browser(), "li").status_code == 303
    failed = _rows(boss.get("/audit/sign-ins", params={"username": "li", "result": "failed"}).text)
    assert failed == ["li li testclient Failed forgiven by boss"] * 2, failed
    # nothing left to lift, and a form naming nothing, get a message, not a 500
    r = boss.submit("/audit/sign-ins/lift", {"username": "li"}, page="/audit/sign-ins")
    assert r.status_code == 303 and "li is not paused" in boss.get(r.headers["location"]).text
    assert boss.submit("/audit/sign-ins/lift", {}, page="/audit/sign-ins").status_code == 400


def test_lifting_an_address_pause_in_chinese(web):
    site, app, browser = web(demo=False, users={"boss": ["admin"], "li": ["engineer"]},
                             settings={"core.login_max_failures_address": 2, "core.login_max_failures_account": 50})
    boss = browser("boss")  # signed in before the guessing from this address
    guesser = browser()
    for name in ("alice", "bob"):
        assert login(guesser, name, "guess").status_code == 400
    assert login(browser(), "li").status_code == 429
    zh = {"Accept-Language": "zh-CN"}
    page = boss.get("/audit/sign-ins", headers=zh).text
    box = re.search(r'<div class="flash flash-warning".*?</div>', page, re.S).group(0)
    assert "因登录失败次数过多，当前暂停登录" in box and "地址" in box and ">testclient</a>" in box and "解除暂停" in box
    r = boss.submit("/audit/sign-ins/lift", {"ip": "testclient"}, page="/audit/sign-ins", headers=zh)
    assert r.status_code == 303
    assert "已解除对 testclient 的登录暂停" in boss.get(r.headers["location"], headers=zh).text
    assert login(browser(), "li").status_code == 303
