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
    return [" ".join(re.sub(r"<[^>]+>", "", c).strip() for c in row[1:]) if len(row) > 1 else
            re.sub(r"<[^>]+>", "", row[0]).strip() for row in cells]


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
