"""Customers through HTTP: record rules (IDOR), search, contacts, export, app isolation."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy import select

from fuwu.models import Customer, Department, Staff


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


def _contact_ids(site, cid):
    from fuwu.models import Contact

    with site.db.session(write=False) as s:
        return {c.name: c.id for c in s.scalars(select(Contact).where(Contact.customer_id == cid))}


def test_a_contacts_details_are_corrected_in_place(web):
    """A contact's new phone is typed over the old one: the same contact (and
    any link issued to it), the primary mark moved, the change in the history."""
    site, app, browser = web(users={"boss": ["admin"]})
    b = browser("boss")
    cid = _customer(site, "联系人修改公司", "售后服务部")
    b.submit(f"/customers/{cid}/contacts", {"name": "张三", "phone": "0571-8888", "is_primary": "on"})
    b.submit(f"/customers/{cid}/contacts", {"name": "李四", "phone": "0571-9999"})
    ids = _contact_ids(site, cid)
    detail = b.get(f"/customers/{cid}").text
    edit_url = f"/customers/{cid}/contacts/{ids['李四']}/edit"
    assert f'href="{edit_url}"' in detail
    form = b.get(edit_url)
    assert form.status_code == 200 and 'value="0571-9999"' in form.text
    version = re.search(r'name="version" value="(\d+)"', form.text).group(1)

    bad = b.submit(edit_url, {"name": "李四", "email": "not-an-email", "version": version})
    assert bad.status_code == 422 and 'value="not-an-email"' in bad.text

    ok = b.submit(edit_url, {"name": "李四", "title": "信息科科长", "phone": "0571-7777",
                             "is_primary": "on", "version": version})
    assert ok.status_code == 303 and ok.headers["location"] == f"/customers/{cid}"
    assert _contact_ids(site, cid) == ids  # corrected, not replaced
    page = b.get(f"/customers/{cid}").text
    assert "0571-7777" in page and "0571-9999" not in page and "信息科科长" in page
    with site.db.session(write=False) as s:
        from fuwu.models import Contact

        primary = {c.name: c.is_primary for c in s.scalars(select(Contact).where(Contact.customer_id == cid))}
    assert primary == {"张三": False, "李四": True}
    assert page.count("Contact 李四 updated") == 1
    audit = b.get("/audit", params={"table": "contact", "row": ids["李四"]}).text
    assert "0571-9999" in audit and "0571-7777" in audit

    # saving the form unchanged writes no history entry
    again = b.get(edit_url).text
    version = re.search(r'name="version" value="(\d+)"', again).group(1)
    b.submit(edit_url, {"name": "李四", "title": "信息科科长", "phone": "0571-7777", "is_primary": "on",
                        "version": version})
    assert b.get(f"/customers/{cid}").text.count("Contact 李四 updated") == 1


def test_a_contact_saved_by_someone_else_meanwhile_is_not_overwritten(web):
    site, app, browser = web(users={"boss": ["admin"], "mgr": ["service_manager"]})
    boss, mgr = browser("boss"), browser("mgr")
    cid = _customer(site, "并发联系人公司", "售后服务部")
    boss.submit(f"/customers/{cid}/contacts", {"name": "王五", "phone": "010-1111"})
    url = f"/customers/{cid}/contacts/{_contact_ids(site, cid)['王五']}/edit"
    mine = re.search(r'name="version" value="(\d+)"', boss.get(url).text).group(1)
    theirs = re.search(r'name="version" value="(\d+)"', mgr.get(url).text).group(1)
    assert mgr.submit(url, {"name": "王五", "phone": "010-2222", "version": theirs}).status_code == 303
    stale = boss.submit(url, {"name": "王五", "phone": "010-3333", "version": mine})
    assert stale.status_code == 409
    assert "010-2222" in stale.text and 'value="010-3333"' in stale.text  # theirs shown, mine kept
    assert "010-2222" in boss.get(f"/customers/{cid}").text
    newer = re.search(r'name="version" value="(\d+)"', stale.text).group(1)
    assert boss.submit(url, {"name": "王五", "phone": "010-3333", "version": newer}).status_code == 303
    assert "010-3333" in boss.get(f"/customers/{cid}").text


def test_contacts_are_edited_and_removed_only_through_their_own_customer(web):
    site, app, browser = web(demo=False, users={"sales": (["sales"], "华东服务组"), "eng": (["engineer"], "华东服务组")})
    own = _customer(site, "本组联系人公司", "华东服务组")
    other = _customer(site, "别组联系人公司", "华北服务组")

    def add(s):
        from fuwu.models import Contact

        s.add_all([Contact(customer_id=own, name="本组联系人"), Contact(customer_id=other, name="别组联系人")])

    site.db.run(add)
    mine, theirs = _contact_ids(site, own)["本组联系人"], _contact_ids(site, other)["别组联系人"]
    sales, eng = browser("sales"), browser("eng")
    # another department's customer, or another customer's contact under mine: 404 on read and write
    assert sales.get(f"/customers/{other}/contacts/{theirs}/edit").status_code == 404
    assert sales.get(f"/customers/{own}/contacts/{theirs}/edit").status_code == 404
    assert sales.submit(f"/customers/{own}/contacts/{theirs}/edit",
                        {"name": "改名", "version": "1"}).status_code == 404
    assert sales.submit(f"/customers/{own}/contacts/{theirs}/delete").status_code == 404
    # an engineer sees the customer but may not change its contacts
    assert eng.get(f"/customers/{own}").status_code == 200
    assert eng.get(f"/customers/{own}/contacts/{mine}/edit").status_code == 403
    assert _contact_ids(site, other) == {"别组联系人": theirs}

    removed = sales.submit(f"/customers/{own}/contacts/{mine}/delete")
    assert removed.status_code == 303 and _contact_ids(site, own) == {}
    page = sales.get(f"/customers/{own}").text
    assert "Contact 本组联系人 removed" in page


def test_anyone_who_sees_a_customer_adds_a_note_to_its_service_history(web):
    site, app, browser = web(demo=False, users={"eng": (["engineer"], "华东服务组"),
                                                "other": (["engineer"], "华北服务组"), "nobody": ([], "华东服务组")})
    cid = _customer(site, "记录测试公司", "华东服务组")
    eng = browser("eng")
    page = eng.get(f"/customers/{cid}").text
    assert f'action="/customers/{cid}/notes"' in page  # an engineer may not edit the customer, but may note
    note = "电话回访：客户反映打印模板错位\n已远程修复 <script>alert(1)</script>"
    r = eng.submit(f"/customers/{cid}/notes", {"text": note})
    assert r.status_code == 303 and r.headers["location"] == f"/customers/{cid}#timeline"
    page = eng.get(f"/customers/{cid}").text
    assert "Note added to the service history." in page
    entry = re.search(r'<li class="staff-note">.*?</li>', page, re.S).group(0)
    assert "eng noted: 电话回访：客户反映打印模板错位\n已远程修复 &lt;script&gt;" in entry and "<script>" not in entry

    empty = eng.submit(f"/customers/{cid}/notes", {"text": "   "})
    assert empty.status_code == 422 and "<title>" in empty.text
    long_text = "很长" * 1001
    too_long = eng.submit(f"/customers/{cid}/notes", {"text": long_text})
    assert too_long.status_code == 422 and long_text in too_long.text  # kept to shorten, not lost
    assert eng.get(f"/customers/{cid}").text.count('class="staff-note"') == 1

    assert browser("other").submit(f"/customers/{cid}/notes", {"text": "越权"}).status_code == 404
    assert browser("nobody").submit(f"/customers/{cid}/notes", {"text": "越权"}).status_code == 403
    assert "越权" not in eng.get(f"/customers/{cid}").text


def test_a_leaving_salespersons_customers_are_reassigned_at_once(web):
    site, app, browser = web(demo=False, users={"coord": (["coordinator"], "华东服务组"),
                                                "leaver": (["sales"], "华东服务组"), "heir": (["sales"], "华东服务组"),
                                                "eng": (["engineer"], "华东服务组")})
    ids = site.db.run(lambda s: {s_.username: s_.id for s_ in s.scalars(select(Staff))})

    def setup(s):
        east = s.scalar(select(Department).filter_by(name="华东服务组"))
        for n in range(3):
            s.add(Customer(name=f"离职销售客户{n}", sales_staff_id=ids["leaver"], department_id=east.id))
        s.add(Customer(name="别人的客户", sales_staff_id=ids["heir"], department_id=east.id))

    site.db.run(setup)
    coord = browser("coord")
    staff_page = coord.get(f"/staff/{ids['leaver']}").text
    assert f'href="/customers?sales={ids["leaver"]}">3</a>' in staff_page
    listing = coord.get("/customers", params={"sales": ids["leaver"]}).text
    assert listing.count('<td><a href="/customers/') == 3 and "别人的客户" not in listing
    assert f'href="/customers/reassign?sales={ids["leaver"]}"' in listing

    url = f"/customers/reassign?sales={ids['leaver']}"
    page = coord.get(url)
    assert page.status_code == 200 and all(f"离职销售客户{n}" in page.text for n in range(3))
    assert coord.submit(url, {}).status_code == 422  # neither a person nor a department chosen
    done = coord.submit(url, {"to_sales": str(ids["heir"])})
    assert done.status_code == 303 and done.headers["location"] == f"/customers?sales={ids['heir']}"
    with site.db.session(write=False) as s:
        owners = {c.name: c.sales_staff_id for c in s.scalars(select(Customer))}
    assert owners == {**{f"离职销售客户{n}": ids["heir"] for n in range(3)}, "别人的客户": ids["heir"]}
    detail = coord.get(f"/customers/{site.db.run(lambda s: s.scalar(select(Customer.id).filter_by(name='离职销售客户0')))}")
    assert "Salesperson changed to heir by coord" in detail.text
    assert coord.get(url).status_code == 200 and coord.submit(url, {"to_sales": str(ids["heir"])}).status_code == 422

    east = site.db.run(lambda s: s.scalar(select(Department.id).filter_by(name="华东服务组")))
    assert f'href="/customers?department={east}">4</a>' in coord.get(f"/departments/{east}").text
    by_department = coord.get("/customers", params={"department": east}).text
    assert by_department.count('<td><a href="/customers/') == 4 and "Responsible department: 华东服务组" in by_department

    # only editors, and only from a salesperson's or a department's customers
    assert browser("eng").submit(url, {"to_sales": str(ids["eng"])}).status_code == 403
    assert coord.get("/customers/reassign").status_code == 404


def test_typing_a_new_customers_name_shows_the_customers_named_like_it(web):
    site, app, browser = web(users={"boss": ["admin"]})
    b = browser("boss")
    form = b.get("/customers/new").text
    assert 'hx-get="/customers/similar"' in form and 'hx-include="#f-name"' in form
    found = b.get("/customers/similar", params={"name": "杭州西湖丝绸有限公司"}, headers={"HX-Request": "true"})
    assert found.status_code == 200 and "杭州西湖丝绸集团" in found.text and "<html" not in found.text
    own = site.db.run(lambda s: s.scalar(select(Customer.id).filter_by(name="杭州西湖丝绸集团")))
    # the customer being edited is not its own duplicate; a name too short to compare says nothing
    assert "杭州西湖丝绸集团" not in b.get("/customers/similar", params={"name": "杭州西湖丝绸集团",
                                                                        "exclude": own}).text
    assert b.get("/customers/similar", params={"name": "公司"}).text.strip() == ""


def test_similar_names_the_reader_may_not_see_are_counted_not_named(web):
    site, app, browser = web(demo=False, users={"sales": (["sales"], "华东服务组")})
    _customer(site, "恒通电子科技有限公司", "华东服务组")
    _customer(site, "恒通电子科技集团", "华北服务组")
    page = browser("sales").get("/customers/similar", params={"name": "恒通电子科技股份有限公司"}).text
    assert "恒通电子科技有限公司" in page and "恒通电子科技集团" not in page and "and 1 more you may not see" in page
