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
