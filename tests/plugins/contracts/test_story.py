"""The issue's "done when": with only core and this plugin, a service manager
follows a contract from signing, through a charged fourth visit, to a renewal,
in Chinese, without touching the database (every step is an HTTP request)."""

from __future__ import annotations

import re
from datetime import timedelta

from .conftest import day, t

VERSION = re.compile(r'name="version" value="(\d+)"')


def test_from_signing_through_a_charged_fourth_visit_to_a_renewal(cweb):
    site, _app, browser = cweb
    b = browser("manager")
    today = site.day_of()
    page = b.get("/customers").text
    customer_id = re.search(r'href="/customers/(\d+)">上海浦江精密机械有限公司', page).group(1)
    manager_id = re.search(r'<option value="(\d+)"[^>]*>manager</option>', b.get("/contracts/new").text).group(1)

    # 1. signing, in core's contract form; the installation date is not known yet
    signed = today - timedelta(days=200)
    form = {"number": "FW-STORY-1", "kind": "service", "customer_id": "上海浦江精密机械有限公司",
            "signed_on": signed.isoformat(),
            "starts_on": signed.isoformat(), "ends_on": (signed + timedelta(days=364)).isoformat(),
            "amount": "3600", "signed_by_id": manager_id}
    r = b.submit("/contracts/new", form, page="/contracts/new")
    assert r.status_code == 303, r.text[:3000]
    core_page = r.headers["location"]
    contract_id = int(core_page.rsplit("/", 1)[1])
    detail = f"/contracts/service/{contract_id}"
    page = b.get(detail).text
    assert t(site, "Not known yet: the service period counts from the signing date (CON-1)") in page
    assert t(site, "In warranty") in page

    # the software is installed 10 days after signing: the period now starts then (CON-1)
    edit = b.get(f"{core_page}/edit").text
    r = b.submit(f"{core_page}/edit", {**form, "installed_on": (signed + timedelta(days=10)).isoformat(),
                                        "version": VERSION.search(edit).group(1)}, page=f"{core_page}/edit")
    assert r.status_code == 303
    periods = re.findall(r"<td[^>]*>(\d{4}年\d{1,2}月\d{1,2}日)</td><td[^>]*>(\d{4}年\d{1,2}月\d{1,2}日)</td>",
                         b.get(detail).text)
    installed = signed + timedelta(days=10)
    assert periods == [(f"{installed.year}年{installed.month}月{installed.day}日",
                        f"{(signed + timedelta(days=364)).year}年{(signed + timedelta(days=364)).month}月"
                        f"{(signed + timedelta(days=364)).day}日")]

    # 2. four on-site visits: three free, the fourth charged
    for n in range(1, 5):
        r = b.submit(f"{detail}/visits/new", {"visited_on": (installed + timedelta(days=20 * n)).isoformat(),
                                              "engineer_id": manager_id, "problem": "software",
                                              "summary": f"第{n}次上门处理", "fee": "300"},
                     page=f"{detail}/visits/new")
        assert r.status_code == 303
        message = (t(site, "Free visit %(n)s of %(limit)s", n=n, limit=3) if n <= 3 else
                   t(site, "Visit %(n)s is beyond the %(limit)s free visits: charged", n=n, limit=3))
        shown = b.get(r.headers["location"]).text
        assert message in shown[:shown.index('id="periods"')]  # the confirmation says why, at the top
        assert message in shown[shown.index('id="visits"'):]    # and so does the visit log
    page = b.get(detail).text
    assert page.count("visit-charged") == 1 and "¥300.00" in page
    assert t(site, "%(n)s free visits left", n=0) in page

    # 3. renewal: proposal, agreement, contact, software update, done
    new = b.get(f"{detail}/renewals/new").text
    fields = {name: re.search(rf'name="{name}" value="([^"]*)"', new).group(1)
              for name in ("starts_on", "ends_on", "amount")}
    r = b.submit(f"{detail}/renewals/new", {**fields, "assignee_id": manager_id, "notes": "客户同意续约一年"},
                 page=f"{detail}/renewals/new")
    assert r.status_code == 303
    renewal = r.headers["location"].split("?")[0]
    for step, comment in (("agree", "续约合同已盖章"), ("contact", "已电话通知"), ("update", "已升级软件"),
                          ("complete", "")):
        version = VERSION.search(b.get(renewal).text).group(1)
        r = b.submit(f"{renewal}/step", {"step": step, "comment": comment, "version": version}, page=renewal)
        assert r.status_code == 303, r.text[:2000]
    page = b.get(renewal).text
    assert 'id="renewal-state">' + t(site, "Done") in page
    customer = b.get(f"/customers/{customer_id}").text
    assert t(site, "Renewal of service contract %(number)s completed", number="FW-STORY-1") in customer
    assert t(site, "Charged on-site visit on %(day)s (contract %(number)s): %(summary)s",
             day=day(installed + timedelta(days=80)), number="FW-STORY-1", summary="第4次上门处理") in customer
    # the customer page: in warranty, no free visit left in this period, renewal done
    panel = customer[customer.index('id="contracts-panel"'):]
    assert t(site, "%(n)s of %(limit)s left", n=0, limit=3) in panel and t(site, "Done") in panel
    page = b.get(detail).text
    periods_table = page[page.index('id="periods"'):page.index('id="visits"')]
    assert len(re.findall(r"<tr", periods_table)) == 3  # header + the first period + the renewed one
