"""List pages cost the same whatever their length, and page through without gaps or repeats."""

import html
import re
from contextlib import contextmanager

from sqlalchemy import event, select

from fuwu.models import Customer, CustomerProduct, Department, Product, Staff

ROW = re.compile(r'<td><a href="/customers/(\d+)">')
NEXT = re.compile(r'<a href="([^"]*)" rel="next">')
PREVIOUS = re.compile(r'<a href="([^"]*)" rel="prev">')


@contextmanager
def counting(engine):
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def add_customers(site, count: int, *, start: int = 0, regions=("华东", "华北", "华南")) -> None:
    """Customers with everything a list row could be tempted to load lazily."""

    def work(s):
        department = s.scalar(select(Department).order_by(Department.id))
        sales = s.scalar(select(Staff).order_by(Staff.id))
        product = s.scalar(select(Product).order_by(Product.id))
        for i in range(start, start + count):
            customer = Customer(name=f"性能客户{i:04d}", region=regions[i % len(regions)],
                                account_type="key" if i % 4 == 0 else "retail",
                                department_id=department.id if department else None,
                                sales_staff_id=sales.id if sales else None)
            if product is not None:
                customer.products.append(CustomerProduct(product_id=product.id))
            s.add(customer)

    site.db.run(work)


def test_customer_list_queries_do_not_grow_with_rows(web):
    site, app, browser = web(demo=False, users={"boss": ["admin"]})
    site.db.run(lambda s: (s.add(Department(name="售后服务部")), s.add(Product(code="P1", name="ERP"))))
    b = browser("boss")
    assert b.submit("/settings/core.page_size", {"value": "200"}).status_code == 303
    add_customers(site, 10)
    b.get("/customers")  # warm caches (templates, settings) before counting

    with counting(site.db.engine) as few:
        page = b.get("/customers")
    assert len(ROW.findall(page.text)) == 10
    add_customers(site, 190, start=10)
    with counting(site.db.engine) as many:
        page = b.get("/customers")
    assert len(ROW.findall(page.text)) == 200
    assert len(many) == len(few), "\n".join(many)
    assert len(few) <= 12, "\n".join(few)


def test_htmx_gets_the_results_fragment_and_a_browser_the_page(web):
    site, app, browser = web(users={"boss": ["admin"]})
    b = browser("boss")
    full = b.get("/customers?q=上海")
    assert full.status_code == 200 and "<html" in full.text and 'id="results"' in full.text
    fragment = b.get("/customers?q=上海", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "<nav" in fragment.text and "<table" in fragment.text
    assert 'id="results"' not in fragment.text and 'class="sidebar"' not in fragment.text
    assert ROW.findall(fragment.text) == ROW.findall(full.text) != []
    # a boosted navigation (hx-boost) is a whole page again
    boosted = b.get("/customers", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in boosted.text


def walk(browser, url: str, pattern=NEXT) -> list[list[int]]:
    pages = []
    while url:
        page = browser.get(url)
        assert page.status_code == 200
        pages.append([int(i) for i in ROW.findall(page.text)])
        link = pattern.search(page.text)
        url = "/customers" + html.unescape(link.group(1)) if link else None
        assert len(pages) < 50, "paging does not end"
    return pages


def test_keyset_pages_cover_every_row_once_in_order(web):
    site, app, browser = web(demo=False, users={"boss": ["admin"]})
    # few regions (one empty), so sorting by region leans on the id tie-break
    add_customers(site, 130, regions=("华东", "华北", "华南", "西南", ""))
    b = browser("boss")
    assert b.submit("/settings/core.page_size", {"value": "25"}).status_code == 303
    orders = {
        "name": (Customer.name, Customer.id),
        "-name": (Customer.name.desc(), Customer.id.desc()),
        "region": (Customer.region, Customer.id),
        "-region": (Customer.region.desc(), Customer.id.desc()),
        # a time cursor must come back as an aware datetime, not text
        "-created": (Customer.created_at.desc(), Customer.id.desc()),
    }
    with site.db.session(write=False) as s:
        expected = {sort: list(s.scalars(select(Customer.id).order_by(*order))) for sort, order in orders.items()}
    for sort, want in expected.items():
        pages = walk(b, f"/customers?sort={sort}")
        assert [len(p) for p in pages] == [25, 25, 25, 25, 25, 5], sort
        seen = [i for p in pages for i in p]
        assert seen == want, sort  # same order, nothing missing, nothing twice
        # and back again from the last page with "previous"
        url = f"/customers?sort={sort}"
        for _ in range(5):
            url = "/customers" + html.unescape(NEXT.search(b.get(url).text).group(1))
        back = walk(b, url, PREVIOUS)
        assert [i for p in reversed(back) for i in p] == want, sort
    # a filtered list pages the same way
    with site.db.session(write=False) as s:
        east = list(s.scalars(select(Customer.id).where(Customer.region == "华东").order_by(Customer.name, Customer.id)))
    pages = walk(b, "/customers?region=华东")
    assert [i for p in pages for i in p] == east and len(east) == 26
    # a mangled cursor shows the first page instead of an error
    first = [int(i) for i in ROW.findall(b.get("/customers?after=not-a-cursor").text)]
    assert first == expected["name"][:25]
