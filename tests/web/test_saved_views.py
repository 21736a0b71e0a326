"""Saved views: a list page kept as it was filtered and sorted, under one's
own name, opened from the dashboard, one's own only."""

from __future__ import annotations

import html
import re
from urllib.parse import urlencode

from .test_contracts import english


def _save_link(page: str) -> str:
    return html.unescape(re.search(r'<a class="button secondary" href="(/views/new\?[^"]+)"', page).group(1))


def test_a_filtered_list_is_saved_and_opened_from_the_dashboard(web):
    site, app, browser = web(["complaints"], users={"mgr": (["service_manager"], "售后服务部")})
    mgr = english(browser("mgr"))
    listing = mgr.get("/customers", params={"region": "华南", "sort": "-name", "after": "abc"}).text
    link = _save_link(listing)  # every list page offers it, beside its exports
    page = mgr.get(link)
    assert page.status_code == 200
    # the page of the list and its exports are not part of the view
    assert 'name="query" value="region=%E5%8D%8E%E5%8D%97&amp;sort=-name"' in page.text
    r = mgr.submit("/views/new", {"path": "/customers", "query": "region=%E5%8D%8E%E5%8D%97&sort=-name",
                                  "name": "华南客户"})
    assert r.status_code == 303 and r.headers["location"] == "/customers?region=%E5%8D%8E%E5%8D%97&sort=-name"
    dashboard = mgr.get("/").text
    assert '<a href="/customers?region=%E5%8D%8E%E5%8D%97&amp;sort=-name">华南客户</a>' in dashboard
    # a plugin's list is saved the same way
    assert _save_link(mgr.get("/complaints/", params={"state": "open"}).text).startswith("/views/new?path=%2Fcomplaints")
    again = mgr.submit("/views/new", {"path": "/customers", "query": "", "name": "华南客户"})
    assert again.status_code == 422 and "already have a view of this name" in again.text
    # only a page of this app: never another site's address
    for path in ("https://elsewhere.example/x", "//elsewhere.example/x", "/\\elsewhere.example/x", "customers"):
        assert mgr.get("/views/new?" + urlencode({"path": path})).status_code == 404, path


def test_views_are_ones_own(web):
    site, app, browser = web(users={"a": (["engineer"], "售后服务部"), "b": (["engineer"], "售后服务部")})
    a, b = english(browser("a")), english(browser("b"))
    a.submit("/views/new", {"path": "/customers", "query": "q=%E6%9D%AD", "name": "杭州"})
    view_id = re.search(r'action="/views/(\d+)/delete"', a.get("/views").text).group(1)
    assert "杭州" not in b.get("/views").text and "杭州" not in b.get("/").text
    assert b.submit(f"/views/{view_id}/delete").status_code == 404
    assert "杭州" in a.get("/views").text
    assert a.submit(f"/views/{view_id}/delete").status_code == 303
    assert "No saved views yet" in a.get("/views").text and ">杭州<" not in a.get("/views").text



def test_a_view_shared_with_a_department_or_everyone_is_found_by_them_and_changed_only_by_its_owner(web):
    site, app, browser = web(users={"lead": (["service_manager"], "售后服务部"), "mate": (["engineer"], "售后服务部"),
                                    "far": (["engineer"], "财务部")})
    lead, mate, far = english(browser("lead")), english(browser("mate")), english(browser("far"))
    lead.submit("/views/new", {"path": "/customers", "query": "region=%E5%8D%8E%E4%B8%9C", "name": "华东客户",
                               "shared": "department"})
    link = '<a href="/customers?region=%E5%8D%8E%E4%B8%9C">华东客户</a>'
    assert link in mate.get("/").text and link in mate.get("/views").text
    assert "lead" in mate.get("/views").text.split("Shared with me")[1]
    assert "华东客户" not in far.get("/").text  # another department
    view_id = re.search(r'href="/views/(\d+)/edit"', lead.get("/views").text).group(1)
    assert mate.get(f"/views/{view_id}/edit").status_code == 404  # shared, not theirs to change
    assert mate.submit(f"/views/{view_id}/delete").status_code == 404

    form = lead.get(f"/views/{view_id}/edit").text
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    r = lead.submit(f"/views/{view_id}/edit", {"name": "华东重点客户", "shared": "everyone", "version": version})
    assert r.status_code == 303
    assert "华东重点客户" in far.get("/").text and "Shared with: Everyone" in lead.get("/views").text
    stale = lead.submit(f"/views/{view_id}/edit", {"name": "旧窗口", "shared": "me", "version": version})
    assert stale.status_code == 409 and 'value="旧窗口"' in stale.text
    lead.submit("/views/new", {"path": "/contracts", "query": "", "name": "全部合同"})
    clash = lead.submit(f"/views/{view_id}/edit", {"name": "全部合同", "shared": "me",
                                                   "version": str(int(version) + 1)})
    assert clash.status_code == 422 and "already have a view of this name" in clash.text
    r = lead.submit(f"/views/{view_id}/edit", {"name": "华东重点客户", "shared": "me", "version": str(int(version) + 1)})
    assert r.status_code == 303 and "华东重点客户" not in far.get("/").text and "华东重点客户" not in mate.get("/").text
