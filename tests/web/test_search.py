"""Search everything: the box at the top of every page finds customers,
contacts, contracts, staff and plugins' records the reader may see."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from fuwu.models import Contact, Contract, Customer, Department, Product

from .test_contracts import english

SECTION = re.compile(r'<section class="panel">\s*<h2>([^<]+)</h2>(.*?)</section>', re.S)


def sections(page: str) -> dict[str, list[str]]:
    """{section title: [hit titles]} of a search page."""
    return {title: [html.unescape(t) for t in re.findall(r'<li><a href="[^"]+">([^<]+)</a>', body)]
            for title, body in SECTION.findall(page)}


def test_one_box_finds_each_kind_of_record(web):
    site, app, browser = web(["contracts", "serial_keys"], users={"boss": ["admin"]})
    b = english(browser("boss"))
    home = b.get("/").text
    assert 'action="/search"' in home and 'name="q"' in home  # on every page

    def pick(s):
        contact = s.scalar(select(Contact).where(Contact.phone != "").order_by(Contact.id))
        contract = s.scalar(select(Contract).order_by(Contract.id))
        return contact.name, contact.phone, contact.customer.name, contract.number, contract.customer.name

    contact, phone, contact_customer, number, contract_customer = site.db.run(pick)

    def keys(s):
        from fuwu_plugins.serial_keys.models import ProductKey

        customer, product = s.scalar(select(Customer).order_by(Customer.id)), s.scalar(select(Product))
        s.add_all(ProductKey(customer_id=customer.id, product_id=product.id, serial_number=f"ERP-PRO-2026-00{n}",
                             service_code=f"SC-{n}") for n in range(10, 13))

    site.db.run(keys)
    found = sections(b.get("/search", params={"q": phone}).text)
    assert contact in found["Contacts"]
    page = b.get("/search", params={"q": number}).text
    assert number in sections(page)["Contracts"] and contract_customer in page
    assert sections(b.get("/search", params={"q": "wang.fang"}).text)["Staff"] == ["王芳"]
    found = sections(b.get("/search", params={"q": "ERP-PRO-2026"}).text)  # a plugin's records too
    assert found["Product keys"] == ["ERP-PRO-2026-0010", "ERP-PRO-2026-0011", "ERP-PRO-2026-0012"]

    # a software product leads to the customers who bought it
    found = b.get("/search", params={"q": "WMS"}).text
    wms = site.db.run(lambda s: s.scalar(select(Product.id).where(Product.code == "WMS")))
    assert f'<a href="/customers?product={wms}">仓储管理系统</a>' in found

    # many matches: the first five, and the list with all of them
    page = b.get("/search", params={"q": "有限公司"}).text
    assert len(sections(page)["Customers"]) == 5
    assert 'href="/customers?q=%E6%9C%89%E9%99%90%E5%85%AC%E5%8F%B8">All matches</a>' in page
    # typed on a full-width keyboard, found all the same
    assert sections(b.get("/search", params={"q": "ｗａｎｇ．ｆａｎｇ"}).text)["Staff"] == ["王芳"]
    nothing = b.get("/search", params={"q": "没有这个东西"})
    assert nothing.status_code == 200 and "Nothing matches" in nothing.text and not sections(nothing.text)
    fragment = b.get("/search", params={"q": "王芳"}, headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and sections(fragment.text)["Staff"] == ["王芳"]


def test_search_shows_only_what_the_reader_may_see(web, make_plugin):
    make_plugin("callcentre", plugin='''
        from fuwu.web.ui import SearchHit, SearchSection

        @hookimpl
        def search_results(request, text):
            if text != "HL-1":
                return []
            return [SearchSection.of("Hotline calls", [SearchHit("HL-1", "/", "a call")])]
    ''')
    site, app, browser = web(["callcentre"], demo=False, users={"eng": (["engineer"], "华东服务组"),
                                                              "nobody": ([], "华东服务组")})

    def setup(s):
        east = s.scalar(select(Department).filter_by(name="华东服务组"))
        north = Department(name="华北服务组")
        s.add(north)
        s.flush()
        for name, dept in (("东方电子有限公司", east), ("北方电子有限公司", north)):
            s.add(Customer(name=name, department_id=dept.id, contacts=[Contact(name=f"{name[:2]}联系人",
                                                                                phone="021-5555")]))

    site.db.run(setup)
    eng = english(browser("eng"))
    found = sections(eng.get("/search", params={"q": "电子"}).text)
    assert found["Customers"] == ["东方电子有限公司"]
    assert sections(eng.get("/search", params={"q": "021-5555"}).text)["Contacts"] == ["东方联系人"]
    assert sections(eng.get("/search", params={"q": "HL-1"}).text)["Hotline calls"] == ["HL-1"]
    # someone with no grants may search, and finds nothing of what they may not see
    nobody = english(browser("nobody"))
    assert sections(nobody.get("/search", params={"q": "电子"}).text) == {}
    assert sections(nobody.get("/search", params={"q": "eng"}).text) == {}  # no staff without core.staff.view
    anonymous = browser()
    assert anonymous.get("/search", params={"q": "电子"}).status_code in (302, 303)
