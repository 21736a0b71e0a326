"""Every page names a permission; the GM office sends back with a reason;
a stale edit of a report keeps the engineer's input (409)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from fuwu.web.app import create_app, route_permissions
from fuwu.workflow import WorkflowTask
from fuwu_plugins.onsite_residency.models import ResidentReport

from .conftest import ids, residency
from .test_pages import make_report


def test_every_page_declares_a_known_permission(rweb):
    site, _browser, _ = rweb
    routes = [r for r in route_permissions(create_app(site)) if r[0].startswith("/onsite_residency")]
    assert len(routes) >= 14
    assert [r for r in routes if r[1] is None] == []
    assert all(r[1] in site.permissions for r in routes)


def test_gm_office_sends_back_with_a_reason_and_the_lead_is_asked_first(rweb):
    site, browser, _ = rweb
    rep = make_report(site, residency(site), date(2026, 10, 1), state="gm_review")
    url = f"/onsite_residency/reports/{rep}"
    gm = browser("gm")
    r = gm.submit(f"{url}/step", {"transition": "reject", "comment": "  "}, page=url)
    assert r.status_code == 422 and 'id="step-reject"' in r.text
    r = gm.submit(f"{url}/step", {"transition": "reject", "comment": "客户名称有误"}, page=url)
    assert r.status_code == 303
    page = browser("eng").get(url).text
    assert "客户名称有误" in page and "gm" in page and 'id="report-form"' in page
    assert site.db.run(lambda s: s.get(ResidentReport, rep).stamp_hash) == ""
    # resubmitted: the task waits on the site's group lead only
    assert browser("eng").submit(f"{url}/step", {"transition": "submit"}, page=url).status_code == 303
    lead_id, = ids(site, "lead")
    tasks = site.db.run(lambda s: [(t.state, t.assignee_id) for t in s.scalars(select(WorkflowTask))])
    assert tasks == [("lead_review", lead_id)]
    # a submitted report can no longer be edited by its engineer
    r = browser("eng").submit(f"{url}/edit", {"work_done": "改", "version": 99}, page=url)
    assert r.status_code == 422


def test_stale_report_edit_keeps_the_input(rweb):
    site, browser, _ = rweb
    rep = make_report(site, residency(site), date(2026, 10, 1))
    url = f"/onsite_residency/reports/{rep}"
    eng = browser("eng")
    version = site.db.run(lambda s: s.get(ResidentReport, rep).version)
    assert eng.submit(f"{url}/edit", {"work_done": "第一次", "version": version}, page=url).status_code == 303
    r = eng.submit(f"{url}/edit", {"work_done": "旧页面上的输入", "version": version}, page=url)
    assert r.status_code == 409 and "旧页面上的输入" in r.text
    assert site.db.run(lambda s: s.get(ResidentReport, rep).work_done) == "第一次"


def test_dashboard_shows_where_this_months_report_stands(rweb):
    site, browser, _ = rweb
    month = site.day_of().replace(day=1)
    make_report(site, residency(site), month, state="manager_review")
    home = browser("eng").get("/")
    assert home.status_code == 200 and "onsite-residency-widget" in home.text
    assert "Department manager review: 1" in home.text
    assert "onsite-residency-widget" not in browser("eng2").get("/").text


def test_demo_data_loads_twice_without_duplicates(make_site):
    from fuwu.demo import load_core
    from fuwu_plugins.onsite_residency.models import Residency, ResidentCall

    site = make_site(["onsite_residency"])
    site.db.run(lambda s: load_core(site, s))
    for _ in range(2):
        site.db.run(lambda s: site.plugins.hook.demo_data(session=s, site=site))
    counts = site.db.run(lambda s: (len(s.scalars(select(Residency)).all()),
                                    len(s.scalars(select(ResidentCall)).all())))
    assert counts == (2, 2)
