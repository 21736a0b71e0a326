"""Every page of the contracts plugin over HTTP: permissions, record rules,
validation, the visit and renewal flows, lists, exports, query counts."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, select

from fuwu.models import Contract, Staff
from fuwu_plugins.contracts import rules, services
from fuwu_plugins.contracts.models import Renewal, ServicePeriod, SlaLevel, Visit

from .conftest import day, sign, t

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d+)"')


def post(b, path, data):
    """Submit a form the way its page does (CSRF token from the page itself)."""
    return b.submit(path, data, page=path if not path.endswith("/step") else path.rsplit("/", 1)[0])


def version_on(b, path):
    return VERSION.search(b.get(path).text).group(1)


def setup_records(site):
    """A contract with a period, a visit and a renewal: ids for every page."""
    cid = sign(site, customer="页面测试客户", started_days_ago=300, ends_in=20)

    def work(s):
        contract = s.get(Contract, cid)
        manager = s.scalar(select(Staff).where(Staff.username == "manager"))
        visit = services.record_visit(site, s, contract, Visit(visited_on=site.day_of(), engineer_id=manager.id,
                                                               summary="检查", fee=Decimal("0")))
        period = s.scalar(select(ServicePeriod).where(ServicePeriod.contract_id == cid))
        start, end = rules.renewal_proposal(period.ends_on, 12)
        renewal = services.propose(site, s, contract, manager, starts_on=start, ends_on=end, amount=Decimal("10"),
                                   assignee_id=manager.id)
        level = s.scalar(select(SlaLevel).where(SlaLevel.code == "warranty"))
        return {"contract_id": cid, "period_id": period.id, "visit_id": visit.id, "renewal_id": renewal.id,
                "level_id": level.id}

    return site.db.run(work)


PAGES = [
    # path, permission that opens it (None: contracts.contract.view)
    ("/contracts/expiring", None),
    ("/contracts/service", None),
    ("/contracts/service/{contract_id}", None),
    ("/contracts/service/{contract_id}/summary", None),
    ("/contracts/service/{contract_id}/deadlines", None),
    ("/contracts/service/{contract_id}/terms", "contracts.contract.edit"),
    ("/contracts/service/{contract_id}/periods/new", "contracts.contract.edit"),
    ("/contracts/periods/{period_id}/edit", "contracts.contract.edit"),
    ("/contracts/service/{contract_id}/visits/new", "contracts.visit.record"),
    ("/contracts/visits", None),
    ("/contracts/visits/{visit_id}/edit", "contracts.visit.record"),
    ("/contracts/visits/{visit_id}/decision", "contracts.visit.decide"),
    ("/contracts/service/{contract_id}/renewals/new", "contracts.renewal.propose"),
    ("/contracts/renewals/{renewal_id}", None),
    ("/contracts/plan", "contracts.plan.view"),
    ("/contracts/levels", None),
    ("/contracts/levels/new", "contracts.sla.manage"),
    ("/contracts/levels/{level_id}/edit", "contracts.sla.manage"),
]


def test_every_plugin_route_declares_a_permission(cweb):
    site, _app, _browser = cweb
    routes = dict(site.plugins.collect_by_plugin("register_routes"))["contracts"]
    assert len(routes) == 19
    for route in routes:
        assert getattr(route.endpoint, "__fuwu_permission__", "").startswith("contracts."), route.path
        assert not hasattr(route.endpoint, "__fuwu_public__"), route.path


@pytest.mark.parametrize("user, allowed", [
    ("manager", {p for p, _perm in PAGES}),
    ("engineer", {p for p, perm in PAGES if perm in (None, "contracts.visit.record")}),
    ("sales", {p for p, perm in PAGES if perm in (None, "contracts.visit.decide", "contracts.renewal.propose")}),
    ("lead", {p for p, perm in PAGES if perm in (None, "contracts.visit.record", "contracts.renewal.propose",
                                                 "contracts.plan.view")}),
    ("boss", {p for p, perm in PAGES if perm in (None, "contracts.plan.view")}),
    ("trainer", set()),
])
def test_pages_and_permissions(cweb, user, allowed):
    site, _app, browser = cweb
    ids = setup_records(site)
    b = browser(user)
    for path, _perm in PAGES:
        r = b.get(path.format(**ids))
        expected = 200 if path in allowed else 403
        assert r.status_code == expected, (user, path, r.status_code)
    anonymous = browser()
    for path, _perm in PAGES:
        r = anonymous.get(path.format(**ids))
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path


def test_menu_and_dashboard_card(cweb):
    site, _app, browser = cweb
    sign(site, customer="仪表盘客户", ends_in=10)
    page = browser("engineer").get("/").text
    assert 'href="/contracts/expiring"' in page and "仪表盘客户" in page
    assert 'href="/contracts/plan"' not in page  # engineers do not make the monthly plan
    assert 'href="/contracts/plan"' in browser("lead").get("/").text
    assert "/contracts/expiring" not in browser("trainer").get("/").text


def test_dashboard_card_counts_each_band_and_lists_the_soonest_first(cweb):
    """CON-5 bands of the dashboard card (ended, 15, 30, 60 days by default),
    counted by the database, and the five soonest contracts by their end."""
    site, _app, browser = cweb

    def bands():
        page = browser("engineer").get("/").text
        card = re.search(r'<p class="contracts-widget">(.*?)</p>', page, re.S).group(1)
        return [int(n) for n in re.findall(r"[:：]\s*(\d+)</span>", card)], page

    before, _page = bands()
    for ends_in in (-3, 0, 7, 15, 16, 30, 31, 59, 61, 200):
        sign(site, ends_in=ends_in, customer=f"看板客户{ends_in + 100}")
    after, page = bands()
    # ended -3; urgent 0, 7, 15; soon 16, 30; later 31, 59 (61 and 200 are outside the 60-day window)
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 3, 2, 2]
    ours = [int(n) - 100 for n in re.findall(r"看板客户(\d+)", page.split('class="contracts-widget"', 1)[1])]
    assert ours and ours == [-3, 0, 7, 15, 16][:len(ours)]  # the soonest first (demo contracts may come between)


def test_record_rules_other_departments_get_404(cweb):
    site, _app, browser = cweb
    ids = setup_records(site)
    outsider = browser("outsider")
    for path in ("/contracts/service/{contract_id}", "/contracts/service/{contract_id}/summary",
                 "/contracts/service/{contract_id}/deadlines", "/contracts/renewals/{renewal_id}",
                 "/contracts/service/{contract_id}/visits/new"):
        assert outsider.get(path.format(**ids)).status_code == 404, path
    r = post(outsider, "/contracts/service/{contract_id}/visits/new".format(**ids),
             {"visited_on": "2026-01-05", "engineer_id": "1", "problem": "software", "summary": "x"})
    assert r.status_code == 404
    r = outsider.submit("/contracts/renewals/{renewal_id}/step".format(**ids), {"step": "contact", "version": "1"})
    assert r.status_code == 404
    far_sales = browser("far_sales")
    assert far_sales.get("/contracts/visits/{visit_id}/decision".format(**ids)).status_code == 404
    r = far_sales.submit("/contracts/visits/{visit_id}/decision".format(**ids),
                         {"decision": "waive", "comment": "x", "version": "1"})
    assert r.status_code == 404
    for path in ("/contracts/service", "/contracts/expiring", "/contracts/visits", "/contracts/plan"):
        page = browser("boss" if path.endswith("plan") else "outsider").get(path)
        if not path.endswith("plan"):
            assert "页面测试客户" not in page.text, path
    assert "页面测试客户" in browser("engineer").get("/contracts/expiring").text


def test_period_form_validation_and_stale_edit(cweb):
    site, _app, browser = cweb
    ids = setup_records(site)
    b = browser("manager")
    new = "/contracts/service/{contract_id}/periods/new".format(**ids)
    period = site.db.run(lambda s: s.get(ServicePeriod, ids["period_id"]))
    r = post(b, new, {"starts_on": "2030-05-01", "ends_on": "2030-04-30", "amount": "100"})
    assert r.status_code == 422 and t(site, "The period must end on or after the day it starts.") in r.text
    assert 'value="2030-04-30"' in r.text  # the user's input is kept
    r = post(b, new, {"starts_on": (period.ends_on - timedelta(days=5)).isoformat(),
                      "ends_on": (period.ends_on + timedelta(days=300)).isoformat(), "amount": "100"})
    assert r.status_code == 422 and t(site, "This overlaps the period %(start)s – %(end)s of the same contract.", start=day(period.starts_on), end=day(period.ends_on)) in r.text
    r = post(b, new, {"starts_on": "2030-05-01", "ends_on": "2031-04-30", "amount": "-5"})
    assert r.status_code == 422 and t(site, "The amount cannot be negative.") in r.text
    r = post(b, new, {"starts_on": "2030-05-01", "ends_on": "2031-04-30", "amount": "1,200.50"})
    assert r.status_code == 303
    amounts = site.db.run(lambda s: sorted(p.amount for p in s.scalars(select(ServicePeriod).where(
        ServicePeriod.contract_id == ids["contract_id"]))))
    assert Decimal("1200.50") in amounts

    edit = "/contracts/periods/{period_id}/edit".format(**ids)
    version = version_on(b, edit)
    site.db.run(lambda s: setattr(s.get(ServicePeriod, ids["period_id"]), "notes", "someone else"))
    r = post(b, edit, {"starts_on": period.starts_on.isoformat(), "ends_on": period.ends_on.isoformat(),
                       "amount": "5", "notes": "mine", "version": version})
    assert r.status_code == 409 and t(site, "Someone else saved this period after you opened it.") in r.text and ">mine</textarea>" in r.text
    r = post(b, edit, {"starts_on": period.starts_on.isoformat(), "ends_on": period.ends_on.isoformat(),
                       "amount": "5", "notes": "mine", "version": version_on(b, edit)})
    assert r.status_code == 303


def test_terms_follow_settings_until_chosen(cweb):
    site, _app, browser = cweb
    ids = setup_records(site)
    b = browser("manager")
    path = "/contracts/service/{contract_id}/terms".format(**ids)
    r = post(b, path, {"visit_policy": "days", "free_days": "-1"})
    assert r.status_code == 422 and t(site, "Must be at least %(min)s.", min=0) in r.text
    r = post(b, path, {"visit_policy": "days", "free_days": "20", "sla_level_id": str(ids["level_id"])})
    assert r.status_code == 303
    page = b.get("/contracts/service/{contract_id}".format(**ids)).text
    assert t(site, "%(label)s: %(value)s", label=t(site, "Free during the first N working days of normal use"),
             value="N = 20") in page
    # a visit under that policy says until when visits are free, in the reader's date format
    engineer_id = site.db.run(lambda s: s.scalar(select(Staff.id).where(Staff.username == "manager")))
    visit = "/contracts/service/{contract_id}/visits/new".format(**ids)
    assert post(b, visit, {"visited_on": site.day_of().isoformat(), "engineer_id": str(engineer_id),
                           "problem": "software", "summary": "按天计免费"}).status_code == 303
    visits = b.get("/contracts/visits").text
    reason = re.search(r"按天计免费.*?<div class=\"muted\">([^<]*)</div>", visits, re.S).group(1)
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", reason) and "20" in reason, reason
    version = version_on(b, path)

    def meanwhile(s):
        from fuwu_plugins.contracts.models import ContractTerms

        s.scalar(select(ContractTerms).where(ContractTerms.contract_id == ids["contract_id"])).notes = "改了"

    site.db.run(meanwhile)
    stale = post(b, path, {"visit_policy": "visits", "version": version})
    assert stale.status_code == 409 and t(site, "Someone else saved these terms after you opened them.") in stale.text


def test_fourth_visit_is_charged_and_the_salesperson_decides_a_dispute(cweb):
    site, _app, browser = cweb
    cid = sign(site, customer="上门服务客户", started_days_ago=100, ends_in=200)
    today = site.day_of()
    engineer = browser("engineer")
    path = f"/contracts/service/{cid}/visits/new"
    engineer_id = site.db.run(lambda s: s.scalar(select(Staff.id).where(Staff.username == "engineer")))
    r = post(engineer, path, {"visited_on": today.isoformat(), "engineer_id": str(engineer_id),
                              "problem": "software", "summary": ""})
    assert r.status_code == 422 and t(site, "This field is required.") in r.text
    for n in range(4):
        r = post(engineer, path, {"visited_on": (today - timedelta(days=40 - n)).isoformat(),
                                  "engineer_id": str(engineer_id), "problem": "software",
                                  "summary": f"第{n + 1}次上门", "fee": "300", "disputed": "on" if n == 3 else ""})
        assert r.status_code == 303
    visits = site.db.run(lambda s: [(v.summary, v.free, v.ordinal) for v in s.scalars(
        select(Visit).where(Visit.contract_id == cid).order_by(Visit.visited_on))])
    assert visits == [("第1次上门", True, 1), ("第2次上门", True, 2), ("第3次上门", True, 3), ("第4次上门", False, 4)]
    page = engineer.get(f"/contracts/service/{cid}").text
    assert page.count("visit-charged") == 1 and t(site, "Visit %(n)s is beyond the %(limit)s free visits: charged", n=4, limit=3) in page
    assert t(site, "Disputed: waiting for the salesperson's decision") in page
    charged = engineer.get("/contracts/visits?charged=yes").text
    assert "第4次上门" in charged and "第1次上门" not in charged
    fourth = site.db.run(lambda s: s.scalar(select(Visit.id).where(Visit.contract_id == cid, Visit.ordinal == 4)))

    def asked(s):
        from fuwu.notifications import Notification

        return [(n.url, n.text(site.catalogs.get("zh_Hans").gettext)) for n in s.scalars(select(Notification).join(
            Staff, Staff.id == Notification.staff_id).where(Staff.username == "manager"))]

    # the contract's responsible person is asked to decide, with a link to the form
    [(url, text)] = site.db.run(asked)
    assert url == f"/contracts/visits/{fourth}/decision" and day(today - timedelta(days=37)) in text  # the reader's date
    decision = f"/contracts/visits/{fourth}/decision"
    assert engineer.get(decision).status_code == 403  # the engineer follows, does not decide
    sales = browser("sales")
    r = post(sales, decision, {"decision": "waive", "comment": "", "version": version_on(sales, decision)})
    assert r.status_code == 422
    r = post(sales, decision, {"decision": "waive", "comment": "老客户，本次免收", "version": version_on(sales, decision)})
    assert r.status_code == 303
    page = engineer.get(f"/contracts/service/{cid}").text
    assert "visit-charged" not in page and t(site, "Decision by %(staff)s: %(decision)s", staff="sales", decision=t(site, "Waive the charge")) in page
    customer_id, number = site.db.run(lambda s: (s.get(Contract, cid).customer_id, s.get(Contract, cid).number))
    customer_page = engineer.get(f"/customers/{customer_id}").text
    # the customer page: period, SLA, free visits left, and both entries in the timeline
    assert t(site, "%(n)s of %(limit)s left", n=0, limit=3) in customer_page and t(site, "Within warranty") in customer_page
    assert t(site, "Charged on-site visit on %(day)s (contract %(number)s): %(summary)s", day=day(today - timedelta(days=37)), number=number, summary="第4次上门") in customer_page
    assert t(site, "Charge for the visit on %(day)s waived by %(staff)s: %(comment)s", day=day(today - timedelta(days=37)), staff="sales", comment="老客户，本次免收") in customer_page
    # a visit entered with the wrong date is corrected: the count follows the dates
    first = site.db.run(lambda s: s.scalar(select(Visit.id).where(Visit.contract_id == cid, Visit.ordinal == 1)))
    edit = f"/contracts/visits/{first}/edit"
    r = post(engineer, edit, {"visited_on": (today - timedelta(days=1)).isoformat(), "engineer_id": str(engineer_id),
                              "problem": "software", "summary": "第1次上门（改期）", "version": "0"})
    assert r.status_code == 409 and t(site, "Someone else saved this visit after you opened it.") in r.text
    r = post(engineer, edit, {"visited_on": (today - timedelta(days=1)).isoformat(), "engineer_id": str(engineer_id),
                              "problem": "software", "summary": "第1次上门（改期）", "version": version_on(engineer, edit)})
    assert r.status_code == 303
    ordinals = site.db.run(lambda s: {v.summary: v.ordinal for v in s.scalars(select(Visit).where(
        Visit.contract_id == cid))})
    assert ordinals == {"第2次上门": 1, "第3次上门": 2, "第4次上门": 3, "第1次上门（改期）": 4}
    # the corrected visit is now the 4th: charged; the waived one keeps its decision
    page = engineer.get(f"/contracts/service/{cid}").text
    assert page.count("visit-charged") == 1 and "第1次上门（改期）" in page


def test_renewal_from_proposal_to_done_over_http(cweb):
    site, _app, browser = cweb
    cid = sign(site, customer="续约客户", started_days_ago=340, ends_in=25)
    number = site.db.run(lambda s: s.get(Contract, cid).number)
    lead, sales, engineer = browser("lead"), browser("sales"), browser("engineer")
    engineer_id = site.db.run(lambda s: s.scalar(select(Staff.id).where(Staff.username == "engineer")))
    new = f"/contracts/service/{cid}/renewals/new"
    form = lead.get(new).text
    start = re.search(r'name="starts_on" value="([^"]+)"', form).group(1)
    end = re.search(r'name="ends_on" value="([^"]+)"', form).group(1)
    assert start == (site.day_of() + timedelta(days=26)).isoformat()
    r = post(lead, new, {"starts_on": end, "ends_on": start, "amount": "800", "assignee_id": str(engineer_id)})
    assert r.status_code == 422
    r = post(lead, new, {"starts_on": start, "ends_on": end, "amount": "800", "assignee_id": str(engineer_id)})
    assert r.status_code == 303
    page_path, notice = r.headers["location"].split("?")
    assert notice == "notice=renewal_proposed"
    rid = int(page_path.rsplit("/", 1)[1])
    assert post(lead, new, {"starts_on": start, "ends_on": end, "amount": "800",
                            "assignee_id": str(engineer_id)}).status_code == 422  # one open renewal at a time
    step = f"{page_path}/step"

    def take(b, name, comment="", expect=303):
        version = site.db.run(lambda s: s.get(Renewal, int(page_path.rsplit("/", 1)[1])).version)
        r = b.submit(step, {"step": name, "comment": comment, "version": str(version)}, page=page_path)
        assert r.status_code == expect, r.text[:2000]
        return r

    take(engineer, "agree", expect=403)           # only sales or the manager agree with the customer
    r = take(sales, "agree", "客户已盖章")
    assert t(site, "Renewal moved on: %(state)s.", state=t(site, "Agreed with the customer")) in sales.get(
        r.headers["location"]).text
    take(sales, "update", expect=422)             # steps go in order
    take(engineer, "contact", "已电话通知")
    take(engineer, "update", "已升级到 5.2 并更新序列号")
    r = engineer.submit(step, {"step": "complete", "version": "1"}, page=page_path)
    assert r.status_code == 409                    # an old page cannot move it on
    take(engineer, "complete")
    page = engineer.get(page_path).text
    assert 'id="renewal-state">' + t(site, "Done") in page and "renewal-actions" not in page
    for who, comment in (("sales", "客户已盖章"), ("engineer", "已电话通知"), ("engineer", "已升级到 5.2 并更新序列号")):
        assert who in page and comment in page
    assert site.db.run(lambda s: s.get(Renewal, rid).state) == "done"
    assert site.db.run(lambda s: [p.source for p in s.scalars(select(ServicePeriod).where(
        ServicePeriod.contract_id == cid).order_by(ServicePeriod.starts_on))]) == ["signing", "renewal"]
    customer_id = site.db.run(lambda s: s.get(Contract, cid).customer_id)
    history = engineer.get(f"/customers/{customer_id}").text
    assert t(site, "Renewal of service contract %(number)s completed", number=number) in history
    new_end = site.db.run(lambda s: s.get(Contract, cid).ends_on)
    assert day(new_end) in history
    # a proposal the customer declines needs a reason
    other = sign(site, customer="拒绝续约客户", started_days_ago=340, ends_in=25)
    r = post(lead, f"/contracts/service/{other}/renewals/new",
             {"starts_on": start, "ends_on": end, "amount": "800", "assignee_id": str(engineer_id)})
    page_path = r.headers["location"].split("?")[0]
    step = f"{page_path}/step"
    take(sales, "decline", "", expect=422)
    take(sales, "decline", "客户改用其他服务商")
    assert "客户改用其他服务商" in sales.get(page_path).text


def test_expiry_board_filters_and_urgency_colours(cweb):
    site, _app, browser = cweb
    sign(site, customer="红色客户", ends_in=5, account_type="retail", region="西南")
    sign(site, customer="琥珀客户", ends_in=25, account_type="key", region="华东")
    sign(site, customer="绿色客户", ends_in=50, account_type="key", region="华东")
    sign(site, customer="过期客户", ends_in=-10, account_type="retail", region="华东")
    sign(site, customer="远期客户", ends_in=200)
    sign(site, customer="久远客户", ends_in=-200)
    b = browser("engineer")
    page = b.get("/contracts/expiring").text

    def row(name):
        match = re.search(r'<tr class="urgency-(\w+)"[^>]*>(?:(?!</tr>).)*' + name, page, re.S)
        return match.group(1) if match else None

    assert (row("红色客户"), row("琥珀客户"), row("绿色客户"), row("过期客户")) == ("urgent", "soon", "later", "expired")
    assert row("远期客户") is None and row("久远客户") is None
    assert 'tag danger">' + t(site, "Urgent") in page and 'tag warn">' + t(site, "Soon") in page
    assert page.index("过期客户") < page.index("红色客户") < page.index("琥珀客户")  # soonest end first
    only_retail = b.get("/contracts/expiring?account_type=retail").text
    assert "红色客户" in only_retail and "琥珀客户" not in only_retail
    region = b.get("/contracts/expiring?region=西南").text
    assert "红色客户" in region and "绿色客户" not in region
    within = b.get("/contracts/expiring?expiring=30").text
    assert "琥珀客户" in within and "绿色客户" not in within
    everything = b.get("/contracts/service").text
    assert "远期客户" in everything and "久远客户" in everything
    out = b.get("/contracts/service?warranty=out").text
    assert "久远客户" in out and "远期客户" not in out
    # renewal state filter
    cid = sign(site, customer="已提议客户", ends_in=20)
    post(browser("lead"), f"/contracts/service/{cid}/renewals/new",
         {"starts_on": (site.day_of() + timedelta(days=21)).isoformat(),
          "ends_on": (site.day_of() + timedelta(days=400)).isoformat(), "amount": "1",
          "assignee_id": str(site.db.run(lambda s: s.scalar(select(Staff.id).where(Staff.username == "lead"))))})
    proposed = b.get("/contracts/expiring?renewal=proposed").text
    assert "已提议客户" in proposed and "红色客户" not in proposed
    none = b.get("/contracts/expiring?renewal=none").text
    assert "红色客户" in none and "已提议客户" not in none
    fragment = b.get("/contracts/expiring?renewal=open", headers={"HX-Request": "true"}).text
    assert "已提议客户" in fragment and "<html" not in fragment


def test_exports(cweb):
    site, _app, browser = cweb
    ids = setup_records(site)
    b = browser("lead")
    for path, title in (("/contracts/service?format=xlsx", t(site, "Contract number")),
                        ("/contracts/expiring?format=xlsx", t(site, "Days left")),
                        ("/contracts/visits?format=xlsx", t(site, "Free or charged")),
                        (f"/contracts/plan?format=xlsx&month={site.day_of() + timedelta(days=20):%Y-%m}",
                         t(site, "Progress"))):
        r = b.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats"), path
        rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
        assert title in rows[0] and len(rows) >= 2, path
        assert any("页面测试客户" in [str(c) for c in row] for row in rows[1:]), path
    csv = b.get("/contracts/service?format=csv")
    assert csv.headers["content-type"].startswith("text/csv") and "页面测试客户" in csv.text
    assert ids


def test_expiry_page_costs_the_same_queries_for_10_and_50_contracts(cweb):
    site, _app, browser = cweb
    site.db.run(lambda s: site.settings.set(s, "core.page_size", "100"))  # all rows on one page
    b = browser("manager")
    b.get("/contracts/expiring")  # warm up (first request after start-up)

    def queries() -> tuple[int, int]:
        count = [0]

        def counter(*_args):
            count[0] += 1

        event.listen(site.db.engine, "before_cursor_execute", counter)
        try:
            r = b.get("/contracts/expiring")
        finally:
            event.remove(site.db.engine, "before_cursor_execute", counter)
        return count[0], len(re.findall(r'data-contract="', r.text))

    def add(n, start):
        for i in range(n):
            cid = sign(site, customer=f"批量客户{start + i:03d}", ends_in=1 + (start + i) % 50,
                       account_type="key" if i % 2 else "retail")
            if i % 3 == 0:  # some with terms, visits and renewals, so every relation is loaded
                def extra(s, cid=cid):
                    contract = s.get(Contract, cid)
                    staff = s.scalar(select(Staff).where(Staff.username == "manager"))
                    services.terms_row(s, contract).responsible_id = staff.id
                    period = s.scalar(select(ServicePeriod).where(ServicePeriod.contract_id == cid))
                    start_on, end_on = rules.renewal_proposal(period.ends_on, 12)
                    services.propose(site, s, contract, staff, starts_on=start_on, ends_on=end_on,
                                     amount=Decimal("1"), assignee_id=staff.id)

                site.db.run(extra)

    base = len(re.findall(r'data-contract="', b.get("/contracts/expiring").text))
    add(10, 0)
    ten, shown = queries()
    assert shown == base + 10
    add(40, 10)
    fifty, shown = queries()
    assert shown == base + 50
    assert ten == fifty, (ten, fifty)
    print(f"expiry page: {ten} queries for {base + 10} and {base + 50} rows")


def test_monthly_plan_lists_this_months_due_periods(cweb):
    site, _app, browser = cweb
    today = site.day_of()
    first = today.replace(day=1)
    end_of_month = rules.month_end(first)
    due = sign(site, customer="本月到期客户", ends_in=(end_of_month - today).days)
    sign(site, customer="下月到期客户", ends_in=(end_of_month - today).days + 3)
    carried = sign(site, customer="上月未续客户", ends_in=(first - today).days - 2)
    lead = browser("lead")
    page = lead.get("/contracts/plan").text
    assert "本月到期客户" in page and "上月未续客户" in page and "下月到期客户" not in page
    assert t(site, "carried over") in page and 'class="signature"' in page and "data-print" in page
    r = post(lead, f"/contracts/service/{due}/renewals/new",
             {"starts_on": (end_of_month + timedelta(days=1)).isoformat(),
              "ends_on": (end_of_month + timedelta(days=365)).isoformat(), "amount": "1",
              "assignee_id": str(site.db.run(lambda s: s.scalar(select(Staff.id).where(Staff.username == "lead"))))})
    assert r.status_code == 303
    page = lead.get("/contracts/plan").text
    assert t(site, "Proposed") in page and 'value="0"' in page  # progress 0 of 4
    following = lead.get(f"/contracts/plan?month={rules.add_months(first, 1):%Y-%m}").text
    # next month the unrenewed one is carried over; the one due then is listed normally
    assert re.search(r"本月到期客户(?:(?!</tr>).)*" + t(site, "carried over"), following, re.S)
    assert "下月到期客户" in following and not re.search(r"下月到期客户(?:(?!</tr>).)*" + t(site, "carried over"), following, re.S)
    assert carried


def test_deadlines_page_and_fragment(cweb):
    site, _app, browser = cweb
    today = site.day_of()
    from datetime import date

    cid = sign(site, started_days_ago=(today - date(2026, 9, 1)).days, ends_in=(date(2027, 8, 31) - today).days)
    b = browser("engineer")
    r = b.get(f"/contracts/service/{cid}/deadlines?started_at=2026-09-30T17:00")
    assert r.status_code == 200
    assert '<tr data-milestone="respond">' in r.text and 'datetime="2026-10-08T10:00:00+08:00"' in r.text
    assert 'datetime="2026-10-15T11:00:00+08:00"' in r.text
    r = b.get(f"/contracts/service/{cid}/deadlines?started_at=2026-09-30T17:00&level=factory_repair",
              headers={"HX-Request": "true"})
    assert "<html" not in r.text and 'datetime="2026-10-13T17:00:00+08:00"' in r.text
    assert b.get(f"/contracts/service/{cid}/deadlines?started_at=yesterday").status_code == 422


def test_sla_levels_are_edited_in_the_ui(cweb):
    site, _app, browser = cweb
    b = browser("manager")
    level_id = site.db.run(lambda s: s.scalar(select(SlaLevel.id).where(SlaLevel.code == "warranty")))
    path = f"/contracts/levels/{level_id}/edit"
    form = b.get(path).text
    assert 'placeholder="2"' in form  # the regulation's value, from the setting
    data = {"name": "Within warranty", "clock": "24x7", "in_warranty": "on", "active": "on", "sequence": "10",
            "m0-label": "Respond", "m0-amount": "1", "m0-unit": "hours",
            "m1-label": "Technician dispatched", "m1-amount": "", "m1-unit": "hours",
            "m2-label": "On site", "m2-amount": "", "m2-unit": "hours",
            "m3-label": "Resolved", "m3-amount": "abc", "m3-unit": "hours",
            "version": version_on(b, path)}
    r = post(b, path, data)
    assert r.status_code == 422 and t(site, "Enter a whole number.") in r.text
    data.update({"m3-amount": "", "m3-remove": "on", "m4-key": "report", "m4-label": "书面报告", "m4-amount": "3",
                 "m4-unit": "days"})
    assert post(b, path, data).status_code == 303
    levels = b.get("/contracts/levels").text
    assert "书面报告" in levels and t(site, "Round the clock (7x24)") in levels
    keys = site.db.run(lambda s: [(m.key, m.amount) for m in s.get(SlaLevel, level_id).milestones])
    assert keys == [("respond", 1), ("dispatch", None), ("on_site", None), ("report", 3)]
    r = post(b, "/contracts/levels/new", {"code": "Bad Code", "name": "金牌", "clock": "working"})
    assert r.status_code == 422 and t(site, "Use lower-case letters, digits and _ (e.g. gold_24x7).") in r.text
    r = post(b, "/contracts/levels/new", {"code": "gold", "name": "金牌服务", "clock": "24x7", "active": "on",
                                          "in_warranty": "on", "sequence": "5", "m0-key": "respond",
                                          "m0-label": "响应", "m0-amount": "1", "m0-unit": "hours"})
    assert r.status_code == 303 and "金牌服务" in b.get("/contracts/levels").text
    assert browser("engineer").get(path).status_code == 403


def test_summary_and_detail_are_printable(cweb):
    site, _app, browser = cweb
    ids = setup_records(site)
    b = browser("engineer")
    for path in ("/contracts/service/{contract_id}", "/contracts/service/{contract_id}/summary",
                 "/contracts/renewals/{renewal_id}", "/contracts/visits/{visit_id}/decision"):
        page = (browser("manager") if "decision" in path else b).get(path.format(**ids)).text
        assert "data-print" in page and 'class="signature"' in page, path
    summary = b.get("/contracts/service/{contract_id}/summary".format(**ids)).text
    assert t(site, "In warranty") in summary and t(site, "Customer (seal)") in summary


@pytest.mark.parametrize("language, title, label", [
    ("zh_Hans", "即将到期的服务合同", "质保期内"),
    ("zh_Hant", "即將到期的服務合同", "質保期內"),
    ("en", "Expiring service contracts", "In warranty"),
])
def test_pages_speak_the_readers_language(cweb, language, title, label):
    site, _app, browser = cweb
    sign(site, customer="语言客户", ends_in=10)
    b = browser("engineer")
    b.cookies.set("fuwu_lang", language)
    page = b.get("/contracts/expiring").text
    assert f"<h1>{title}</h1>" in page and label in page


def test_every_link_on_the_plugin_pages_leads_somewhere(cweb):
    site, _app, browser = cweb
    ids = setup_records(site)
    b = browser("manager")
    seen: set[str] = set()
    for page in ("/contracts/expiring", "/contracts/service/{contract_id}", "/contracts/renewals/{renewal_id}",
                 "/contracts/plan", "/contracts/levels", "/contracts/visits", "/"):
        html = b.get(page.format(**ids)).text
        if page != "/":  # the plugin's own content; the frame (menu) is core's
            html = html[html.index('<main id="main">'):html.index("</main>")]
        for href in set(re.findall(r'href="(/[^"#]*)"', html)) - seen:
            seen.add(href)
            r = b.get(href)
            assert r.status_code in (200, 303), (page, href, r.status_code)
    assert "/contracts/service/{contract_id}/renewals/new".format(**ids) not in seen  # a renewal is open
    assert "/contracts/service/{contract_id}/summary".format(**ids) in seen
