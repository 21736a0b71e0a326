"""A resident engineer's month, through HTTP: report -> group lead ->
manager -> GM office stamp -> key-account submits -> customer rates by
link -> month close books the allowance once (RES-3, RES-4, RES-6)."""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import select

from fuwu_plugins.onsite_residency.models import ResidentReport

from tests.conftest import zh

from .conftest import LINK, residency


def _report_id(site, rid):
    return site.db.run(lambda s: s.scalar(select(ResidentReport.id).where(ResidentReport.residency_id == rid)))


def test_month_goes_from_report_to_rating_to_allowance(rweb):
    site, browser, caught = rweb
    month = f"{site.day_of():%Y-%m}"  # documents handed in now are on time for this month
    rid = residency(site)
    eng, lead, manager, gm = browser("eng"), browser("lead"), browser("manager"), browser("gm")
    page = f"/onsite_residency/residencies/{rid}"
    r = eng.submit(f"/onsite_residency/residencies/{rid}/reports", {"month": month}, page=page)
    assert r.status_code == 303
    report = _report_id(site, rid)
    url = f"/onsite_residency/reports/{report}"
    version = site.db.run(lambda s: s.get(ResidentReport, report).version)
    r = eng.submit(f"{url}/edit", {"work_done": "巡检服务器 20 台", "problems": "", "suggestions": "增加备机",
                                   "evaluation": "良好", "version": version}, page=url)
    assert r.status_code == 303
    assert eng.submit(f"{url}/step", {"transition": "submit"}, page=url).status_code == 303
    # it waits on the lead, named with its month the reader's way
    day = site.day_of()
    waiting = re.search(rf'<a href="{url}">([^<]*)</a>', lead.get("/").text).group(1)
    assert waiting.startswith("eng at ") and waiting.endswith(f", {day:%b %Y}")

    # a send-back needs a reason, and the engineer hears why
    r = lead.submit(f"{url}/step", {"transition": "reject", "comment": ""}, page=url)
    assert r.status_code == 422
    r = lead.submit(f"{url}/step", {"transition": "reject", "comment": "补充故障明细"}, page=url)
    assert r.status_code == 303
    assert "补充故障明细" in eng.get(url).text
    for language, told in (("zh-CN", f"您的驻场月报 {day.year}年{day.month}月 被退回：补充故障明细"),
                           ("en", f"Your resident report {day:%b %Y} was sent back: 补充故障明细")):
        assert told in eng.get("/notifications", headers={"Accept-Language": language}).text
    assert eng.submit(f"{url}/step", {"transition": "submit"}, page=url).status_code == 303
    # the manager cannot skip the group lead
    assert manager.submit(f"{url}/step", {"transition": "approve"}, page=url).status_code == 403
    assert lead.submit(f"{url}/step", {"transition": "approve"}, page=url).status_code == 303
    r = manager.submit(f"{url}/step", {"transition": "reject", "comment": "数字不对"}, page=url)
    assert r.status_code == 303
    assert site.db.run(lambda s: s.get(ResidentReport, report).state) == "draft"
    for who, step in ((eng, "submit"), (lead, "approve"), (manager, "approve"), (gm, "stamp")):
        assert who.submit(f"{url}/step", {"transition": step}, page=url).status_code == 303
    text = manager.get(url).text
    stamp = site.db.run(lambda s: s.get(ResidentReport, report).stamp_hash)
    assert len(stamp) == 64 and stamp in text and 'id="stamp"' in text
    assert LINK.search(text) is None  # stamped, not yet submitted: no link

    assert lead.submit(f"{url}/step", {"transition": "send", "contact_name": "王主任"}, page=url).status_code == 303
    link = LINK.search(lead.get(url).text).group(1)

    customer = browser()
    form = customer.get(link)
    assert form.status_code == 200 and "巡检服务器 20 台" in form.text and 'id="rate-form"' in form.text
    r = customer.submit(link, {"satisfaction": "very_good", "rating": "good", "comments": "响应及时"}, page=link)
    assert r.status_code == 200 and 'id="rate-done"' in r.text
    assert customer.get(link).status_code == 410  # single use

    admin = browser("admin_dept")
    assert "响应及时" in admin.get(url).text
    close = "/onsite_residency/close"
    assert admin.submit(close, {"month": month}, page=close).status_code == 303
    assert admin.submit(close, {"month": month}, page=close).status_code == 303
    # the ledger keeps the sentence in the site's language
    reason = zh(site, "rated %(rating)s; documents on time -> %(amount)s", rating=zh(site, "good"), amount="300.00")
    assert caught == [("eng", Decimal("300.00"), reason, "RES-4", ("onsite_residency.report.engineer", report))]
    assert "300.00" in admin.get(f"{close}?month={month}").text
