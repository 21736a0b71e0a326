"""The software product list: the choices of customers' purchased software
and contracts' software, kept by those with ``core.product.edit``."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy import select

from fuwu.models import Contract, Customer, CustomerProduct, Department, Product

from .test_contracts import english, field_error, field_value, version_of
from .test_performance import counting

USERS = {"mgr": (["service_manager"], "售后服务部"), "eng": (["engineer"], "售后服务部"), "boss": ["admin"]}


def _product_id(site, **where):
    return site.db.run(lambda s: s.scalar(select(Product.id).filter_by(**where)))


def test_a_new_product_is_offered_on_customers_and_contracts_and_renamed_everywhere(web):
    site, app, browser = web(users=USERS)
    mgr = english(browser("mgr"))
    assert 'href="/products"' in mgr.get("/").text  # in the menu
    taken = site.db.run(lambda s: s.scalar(select(Product).order_by(Product.id)))
    r = mgr.submit("/products/new", {"code": taken.code.lower(), "name": ""})
    assert r.status_code == 422
    assert "already exists" in field_error(r.text, "code") and field_error(r.text, "name")
    assert field_value(r.text, "code") == taken.code.lower()
    r = mgr.submit("/products/new", {"code": "CRM-STD", "name": "客户关系管理软件 标准版"})
    assert r.status_code == 303 and r.headers["location"] == "/products"
    assert "客户关系管理软件 标准版" in mgr.get("/products").text
    new_id = _product_id(site, code="CRM-STD")
    for form in ("/customers/new", "/contracts/new"):
        assert f'value="{new_id}"' in mgr.get(form).text, form

    customer_id = site.db.run(lambda s: s.scalar(select(Customer.id).order_by(Customer.id)))
    site.db.run(lambda s: s.add(CustomerProduct(customer_id=customer_id, product_id=new_id)))
    page = mgr.get(f"/products/{new_id}/edit")
    theirs = english(browser("boss")).get(f"/products/{new_id}/edit")
    r = mgr.submit(f"/products/{new_id}/edit", {"code": "CRM-STD", "name": "客户关系管理软件 标准版 V2",
                                                "version": version_of(page.text)})
    assert r.status_code == 303
    assert "客户关系管理软件 标准版 V2" in mgr.get(f"/customers/{customer_id}").text
    stale = english(browser("boss")).submit(f"/products/{new_id}/edit", {
        "code": "CRM-STD", "name": "CRM", "version": version_of(theirs.text)})
    assert stale.status_code == 409 and "标准版 V2" in stale.text and field_value(stale.text, "name") == "CRM"

    # the list counts what uses each product, and a product in use stays
    listing = mgr.get("/products", params={"q": "crm-std"}).text
    row = re.search(r"<tr>\s*<td[^>]*><code>CRM-STD</code>.*?</tr>", listing, re.S).group(0)
    assert re.findall(r'<td class="num">(?:<a [^>]*>)?(\d+)', row) == ["1", "0"]
    refused = mgr.submit(f"/products/{new_id}/delete")
    assert refused.status_code == 409 and "Purchased software (1)" in refused.text
    site.db.run(lambda s: [s.delete(link) for link in s.scalars(select(CustomerProduct).filter_by(product_id=new_id))])
    assert mgr.submit(f"/products/{new_id}/delete").status_code == 303
    assert _product_id(site, code="CRM-STD") is None
    exported = mgr.get("/products", params={"format": "csv"})
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0] == ["Product code", "Product name", "Customers", "Contracts"]
    assert taken.code in {r[0] for r in rows[1:]} and "CRM-STD" not in {r[0] for r in rows[1:]}


def test_everyone_reads_the_list_counting_only_their_customers_and_only_editors_change_it(web):
    site, app, browser = web(demo=False, users={"eng": (["engineer"], "华东服务组"), "mgr": (["service_manager"], "华北服务组")})

    def setup(s):
        east, north = (s.scalar(select(Department).filter_by(name=name)) for name in ("华东服务组", "华北服务组"))
        product = Product(code="ERP", name="企业管理软件")
        s.add(product)
        s.flush()
        for name, dept in (("东一", east), ("东二", east), ("北一", north)):
            s.add(Customer(name=name, department_id=dept.id, products=[CustomerProduct(product_id=product.id)]))
        return product.id

    product_id = site.db.run(setup)
    eng, mgr = english(browser("eng")), english(browser("mgr"))

    def customers_count(b):
        row = re.search(r"<code>ERP</code>.*?</tr>", b.get("/products").text, re.S).group(0)
        return re.findall(r'<td class="num">(?:<a [^>]*>)?(\d+)', row)[0]

    assert customers_count(eng) == "2"  # an engineer's rule: his department's customers
    assert customers_count(mgr) == "3"
    listing = eng.get("/products").text
    assert "/products/new" not in listing and f"/products/{product_id}/edit" not in listing
    for path in ("/products/new", f"/products/{product_id}/edit"):
        assert eng.get(path).status_code == 403, path
    for path in ("/products/new", f"/products/{product_id}/edit", f"/products/{product_id}/delete"):
        assert eng.submit(path, {"code": "X", "name": "X", "version": "1"}).status_code == 403, path
    assert mgr.get("/products/999999/edit").status_code == 404
    assert site.db.run(lambda s: s.get(Product, product_id).name) == "企业管理软件"


def test_the_product_list_costs_the_same_for_many_rows(web):
    site, app, browser = web(demo=False, users={"mgr": ["service_manager"]})
    b = browser("mgr")

    def add(count):
        site.db.run(lambda s: s.add_all(Product(code=f"P{count}-{i}", name=f"产品{count}-{i}") for i in range(count)))

    add(3)
    b.get("/products")  # signed in once: later pages take the sign-in from the cache
    with counting(site.db.engine) as few:
        assert b.get("/products").status_code == 200
    add(40)
    with counting(site.db.engine) as many:
        assert b.get("/products").status_code == 200
    assert len(many) == len(few)


def test_a_products_counts_lead_to_the_customers_and_contracts_that_have_it(web):
    site, app, browser = web(users=USERS)
    mgr = english(browser("mgr"))

    def owners(s):
        product = s.scalar(select(Product).where(Product.code == "WMS"))
        customers = {c.name for c in s.scalars(select(Customer).join(CustomerProduct)
                                               .where(CustomerProduct.product_id == product.id))}
        contracts = {k.number for k in s.scalars(select(Contract)) if product in k.products}
        return product, customers, contracts

    product, customers, contracts = site.db.run(owners)
    assert customers and contracts
    row = re.search(r"<code>WMS</code>.*?</tr>", mgr.get("/products").text, re.S).group(0)
    assert f'href="/customers?product={product.id}">{len(customers)}</a>' in row
    assert f'href="/contracts?product={product.id}">{len(contracts)}</a>' in row

    page = mgr.get("/customers", params={"product": product.id}).text
    assert set(re.findall(r'<td><a href="/customers/\d+">([^<]+)</a>', page)) == customers
    assert f"Purchased software: {product.name}" in page  # the filter is shown, and can be taken off
    assert 'href="?" title="Remove this filter"' in page
    searched = mgr.get("/customers", params={"product": product.id, "q": "有限公司"},
                       headers={"HX-Request": "true"}).text
    assert set(re.findall(r'<td><a href="/customers/\d+">([^<]+)</a>', searched)) == {
        name for name in customers if "有限公司" in name}
    exported = mgr.get("/customers", params={"product": product.id, "format": "csv"})
    assert {r[0] for r in list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))[1:]} == customers

    page = mgr.get("/contracts", params={"product": product.id}).text
    assert set(re.findall(r'<a href="/contracts/\d+">([^<]+)</a>', page)) == contracts
    assert f"Software: {product.name}" in page
    # an id no product has filters nothing out and says nothing
    assert "Purchased software:" not in mgr.get("/customers", params={"product": "abc"}).text
