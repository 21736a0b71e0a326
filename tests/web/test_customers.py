"""Customers through HTTP: record rules (IDOR), search, contacts, export, app isolation."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy import select

from fuwu.models import Customer, Department


def _customer(site, name, dept_name):
    def work(s):
        dept = s.scalar(select(Department).where(Department.name == dept_name)) or Department(name=dept_name)
        c = Customer(name=name, region="华北")
        s.add_all([dept, c])
        s.flush()
        c.department_id = dept.id
        return c.id

    return site.db.run(work)


def test_engineer_sees_only_his_departments_customers_on_read_and_write(web):
    site, app, browser = web(demo=False, users={"eng": (["engineer"], "华东服务组"),
                                                "mgr": (["service_manager"], "华北服务组")})
    own = _customer(site, "本组客户", "华东服务组")
    other = _customer(site, "别组客户", "华北服务组")
    eng = browser("eng")
    assert eng.get(f"/customers/{own}").status_code == 200
    assert eng.get(f"/customers/{other}").status_code == 404
    listing = eng.get("/customers").text
    assert "本组客户" in listing and "别组客户" not in listing
    # engineers may not edit at all; an editor of another department gets 404, not the record
    assert eng.submit(f"/customers/{other}/edit", {"name": "改名"}).status_code in (403, 404)
    mgr = browser("mgr")  # service managers see every department (core.customer.view_all)
    assert mgr.get(f"/customers/{own}").status_code == 200
    with site.db.session(write=False) as s:
        assert s.get(Customer, other).name == "别组客户"


def test_editor_of_another_department_cannot_write_by_id(web):
    site, app, browser = web(demo=False, users={"sales": (["sales"], "华东服务组")})
    other = _customer(site, "别组客户", "华北服务组")
    sales = browser("sales")
    r = sales.submit(f"/customers/{other}/contacts", {"name": "偷偷加的联系人"})
    assert r.status_code == 404
    r = sales.submit(f"/customers/{other}/edit", {"name": "改名", "account_type": "retail", "version": "1"})
    assert r.status_code == 404
    with site.db.session(write=False) as s:
        c = s.get(Customer, other)
        assert c.name == "别组客户" and c.contacts == []


def test_live_search_and_csv_export(web):
    site, app, browser = web(users={"boss": ["admin"]})
    b = browser("boss")
    found = b.get("/customers/search", params={"q": "杭州"})
    assert "杭州西湖丝绸集团" in found.text and "北京" not in found.text and "<html" not in found.text
    exported = b.get("/customers", params={"format": "csv", "region": "华南"})
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert {r[2] for r in rows[1:]} == {"华南"} and len(rows) == 4


def test_contact_add_validates_and_keeps_input(web):
    site, app, browser = web(users={"boss": ["admin"]})
    b = browser("boss")
    cid = _customer(site, "联系人测试公司", "售后服务部")
    bad = b.submit(f"/customers/{cid}/contacts", {"name": "张三", "email": "not-an-email"})
    assert bad.status_code == 422 and 'value="张三"' in bad.text
    ok = b.submit(f"/customers/{cid}/contacts", {"name": "张三", "email": "zhang@example.com",
                                                 "is_primary": "on"})
    assert ok.status_code == 303
    page = b.get(f"/customers/{cid}").text
    assert "张三" in page and "zhang@example.com" in page


def test_numbers_typed_in_full_width_are_read_as_numbers(web):
    """A Chinese keyboard in full-width mode types "（０５７１）８８８８－１２３４"; the
    number is kept as the digits it is, so it can be found and dialled."""
    site, app, browser = web(users={"boss": ["admin"]})
    b = browser("boss")
    cid = _customer(site, "全角号码公司", "售后服务部")
    ok = b.submit(f"/customers/{cid}/contacts", {"name": "李四", "phone": "（０５７１）８８８８－１２３４",
                                                 "email": "ｌｉ＠ｅｘａｍｐｌｅ．ｃｏｍ"})
    assert ok.status_code == 303, ok.text[:300]
    page = b.get(f"/customers/{cid}").text
    assert "(0571)8888-1234" in page and "li@example.com" in page
    version = re.search(r'name="version" value="(\d+)"', b.get(f"/customers/{cid}/edit").text).group(1)
    r = b.submit(f"/customers/{cid}/edit", {"name": "全角号码公司", "account_type": "key", "phone": "０２１－６４８８１２３４",
                                            "version": version})
    assert r.status_code == 303, r.text[:300]
    assert "全角号码公司" in b.get("/customers", params={"q": "021-6488"}).text


def test_the_search_box_reads_what_a_full_width_keyboard_types(web):
    """Phone numbers are stored in ASCII; typed into the search box in full-width
    mode ("０２１－６４８８") they still find the customer, on the list and as you
    type. Chinese brackets are not folded: a name keeps them as typed."""
    site, _app, browser = web(users={"boss": ["admin"]})
    b = browser("boss")
    cid = _customer(site, "杭州（集团）全角检索公司", "售后服务部")
    site.db.run(lambda s: setattr(s.get(Customer, cid), "phone", "021-64881234"))
    for q in ("０２１－６４８８", "（集团）"):
        assert "全角检索公司" in b.get("/customers", params={"q": q}).text, q
        assert "全角检索公司" in b.get("/customers/search", params={"q": q}).text, q
    assert "全角检索公司" not in b.get("/customers", params={"q": "０２１－６４８９"}).text


def test_two_apps_in_one_process_share_nothing(web):
    site_a, app_a, browser_a = web(users={"boss": ["admin"]}, settings={"core.page_size": 5})
    site_b, app_b, browser_b = web(users={"boss": ["admin"]})
    a, b = browser_a("boss"), browser_b("boss")
    assert a.get("/customers").text.count('href="/customers/') - b.get("/customers").text.count(
        'href="/customers/') < 0
    # a session of one site is unknown to the other
    stranger = browser_b()
    stranger.cookies.set("fuwu_session", a.cookies.get("fuwu_session"))
    assert stranger.get("/customers").status_code == 303
    assert app_a.state.site is not app_b.state.site
    assert app_a.state.templates.env is not app_b.state.templates.env


def test_an_engineers_searched_filtered_pages_keep_to_his_rows(web):
    """The list's statements are built once per combination of filters and
    rule; whose rows they are is bound per request, so two engineers (and
    the admin before them) must still each see only their own."""
    from tests.web.test_performance import walk

    site, app, browser = web(demo=False, users={"boss": ["admin"], "east": (["engineer"], "华东服务组"),
                                                "north": (["engineer"], "华北服务组")})
    east = [_customer(site, f"杭州客户{i:02d}", "华东服务组") for i in range(7)]
    north = [_customer(site, f"杭州北方客户{i:02d}", "华北服务组") for i in range(6)]
    boss = browser("boss")
    assert boss.submit("/settings/core.page_size", {"value": "5"}).status_code == 303
    assert sorted(i for p in walk(boss, "/customers?q=杭州&region=华北") for i in p) == sorted(east + north)
    for who, own in (("east", east), ("north", north)):
        pages = walk(browser(who), "/customers?q=杭州&region=华北")
        assert sorted(i for p in pages for i in p) == own, who
        assert [len(p) for p in pages] == [5, len(own) - 5], who
