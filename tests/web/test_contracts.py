"""Contracts pages (CORE-4) through HTTP: list, filters, export, forms, record rules."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import event, select

from fuwu.models import Contract, Customer, Department, Product, Staff

# --- helpers shared with the organisation and roles tests ----------------------------------------

FIELD = re.compile(
    r'<div class="field( invalid)?" id="field-(?P<name>[a-z_]+)">(?P<body>.*?)(?=<div class="field|</form>)', re.S)


CUSTOMER = "测试客户甲有限公司"


def english(browser):
    """Pages in English, so messages can be asserted whatever the site language."""
    browser.cookies.set("fuwu_lang", "en")
    return browser


def fields(page: str) -> dict[str, str]:
    return {m["name"]: m["body"] for m in FIELD.finditer(page)}


def field_error(page: str, name: str) -> str:
    """The message shown next to field ``name`` ('' if none)."""
    body = fields(page).get(name)
    assert body is not None, f"no field {name} on the page"
    match = re.search(r'<div class="error" role="alert">(.*?)</div>', body, re.S)
    return html.unescape(match.group(1)).strip() if match else ""


def field_value(page: str, name: str) -> str:
    body = fields(page)[name]
    match = re.search(r'value="([^"]*)"', body) if "<textarea" not in body else re.search(
        r"<textarea[^>]*>(.*?)</textarea>", body, re.S)
    return html.unescape(match.group(1)) if match else ""


def selected(page: str, name: str) -> list[str]:
    """The values chosen in a select, or ticked in a row of checkboxes."""
    return [a or b for a, b in re.findall(r'<option value="([^"]*)" selected>|value="([^"]*)" checked>',
                                         fields(page)[name])]


def version_of(page: str) -> str:
    return re.search(r'name="version" value="(\d+)"', page).group(1)


def row_of(page: str, text: str) -> str:
    """The table row that shows ``text``."""
    for row in re.findall(r"<tr>.*?</tr>", page, re.S):
        if text in row:
            return row
    raise AssertionError(f"no row with {text}")


def local_today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


class QueryCounter:
    def __init__(self, engine):
        self.engine = engine
        self.count = 0

    def _count(self, *args, **kwargs):
        self.count += 1

    def __enter__(self):
        self.count = 0
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._count)


# --- fixtures ------------------------------------------------------------------------------------

USERS = {
    "boss": ["admin"],
    "mgr": (["service_manager"], "售后服务部"),
    "eng": (["engineer"], "售后服务部"),
    "eng2": (["engineer"], "实施部"),
    "rep": (["sales"], "实施部"),
    "nobody": ([], "售后服务部"),
}


def _add_contracts(site):
    """Contracts with known dates, for the filters and the warranty column."""
    today = local_today()

    def work(s):
        dept = s.scalar(select(Department).where(Department.name == "售后服务部"))
        customer = Customer(name="测试客户甲有限公司", department_id=dept.id)
        s.add(customer)
        s.flush()
        product = s.scalar(select(Product).where(Product.code == "ERP-STD"))
        rows = [
            ("T-VALID", "service", today - timedelta(days=100), today + timedelta(days=200)),
            ("T-SOON", "service", today - timedelta(days=300), today + timedelta(days=10)),
            ("T-ENDED", "service", today - timedelta(days=400), today - timedelta(days=5)),
            ("T-SALE", "sales", None, None),
        ]
        for number, kind, starts, ends in rows:
            s.add(Contract(number=number, kind=kind, customer_id=customer.id, signed_on=today - timedelta(days=400),
                           starts_on=starts, ends_on=ends, amount=Decimal("1000.00"), products=[product]))
        return customer.id

    return site.db.run(work)


def _contract_id(site, number):
    return site.db.run(lambda s: s.scalar(select(Contract.id).where(Contract.number == number)))


def _foreign_customer(site):
    """A customer of 实施部: invisible to 售后服务部's engineers and vice versa."""

    def work(s):
        dept = s.scalar(select(Department).where(Department.name == "实施部"))
        customer = Customer(name="实施部自己的客户", department_id=dept.id)
        s.add(customer)
        s.flush()
        s.add(Contract(number="SS-0001", kind="sales", customer_id=customer.id, signed_on=local_today(),
                       amount=Decimal("500.00")))
        return customer.id

    return site.db.run(work)


# --- tests ---------------------------------------------------------------------------------------

def test_list_filters_and_warranty(web):
    site, app, browser = web(users=USERS)
    _add_contracts(site)
    b = english(browser("boss"))
    r = b.get("/contracts")
    assert r.status_code == 200
    assert "上海浦江精密机械有限公司" in r.text and "T-VALID" in r.text
    assert "warranty-in" in row_of(r.text, "T-VALID") and "In warranty" in row_of(r.text, "T-VALID")
    assert "warranty-out" in row_of(r.text, "T-ENDED") and "Out of warranty" in row_of(r.text, "T-ENDED")
    assert "warranty" not in row_of(r.text, "T-SALE").replace("Warranty", "")

    def numbers(**params):
        page = b.get("/contracts", params={**params, "customer": "测试客户甲"})
        assert page.status_code == 200
        return set(re.findall(r">(T-[A-Z]+)</a>", page.text))

    assert numbers() == {"T-VALID", "T-SOON", "T-ENDED", "T-SALE"}
    assert numbers(kind="sales") == {"T-SALE"}
    assert numbers(kind="service") == {"T-VALID", "T-SOON", "T-ENDED"}
    assert numbers(expiring="30") == {"T-SOON"}
    assert numbers(expiring="365") == {"T-SOON", "T-VALID"}
    assert numbers(expired="1") == {"T-ENDED"}
    assert numbers(q="T-SO") == {"T-SOON"}
    # other customers are filtered out by the customer search
    assert "上海浦江精密机械有限公司" not in b.get("/contracts", params={"customer": "测试客户甲"}).text
    # htmx asks for the results only
    fragment = b.get("/contracts", params={"kind": "sales"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text and "<table" in fragment.text


def test_sort_and_keyset_pages(web):
    site, app, browser = web(users=USERS, settings={"core.page_size": 5})
    _add_contracts(site)
    b = browser("boss")
    seen, url, pages = [], "/contracts?sort=ends", 0
    while url and pages < 20:
        page = b.get(url)
        assert page.status_code == 200
        seen += re.findall(r'href="/contracts/(\d+)"', page.text)
        following = re.search(r'href="(\?[^"]*)" rel="next"', page.text)
        url = "/contracts" + html.unescape(following.group(1)) if following else None
        pages += 1
    total = site.db.run(lambda s: len(s.scalars(select(Contract.id)).all()))
    assert len(seen) == total == len(set(seen))  # every contract once, sales (no end date) included
    ends = site.db.run(lambda s: dict(s.execute(select(Contract.id, Contract.ends_on)).all()))
    dated = [ends[int(i)] for i in seen if ends[int(i)] is not None]
    assert dated == sorted(dated)
    assert all(ends[int(i)] is None for i in seen[len(dated):])
    by_customer = b.get("/contracts?sort=-customer")
    names = re.findall(r'href="/customers/\d+">([^<]+)</a>', by_customer.text)
    assert names == sorted(names, reverse=True)


def test_export_csv_and_xlsx(web):
    site, app, browser = web(users=USERS)
    _add_contracts(site)
    b = browser("boss")
    r = b.get("/contracts", params={"format": "csv", "kind": "service"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    body = {row[0]: row for row in rows[1:]}
    assert "T-VALID" in body and "T-SALE" not in body
    assert body["T-VALID"][2] == "测试客户甲有限公司"
    assert any(row[2] == "上海浦江精密机械有限公司" for row in rows[1:])
    assert "企业管理软件 标准版" in body["T-VALID"][3]
    r = b.get("/contracts", params={"format": "xlsx", "customer": "测试客户甲"})
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == 1 + 4
    assert {row[0] for row in values[1:]} == {"T-VALID", "T-SOON", "T-ENDED", "T-SALE"}
    assert all(row[2] == "测试客户甲有限公司" for row in values[1:])


def test_create_invalid_then_valid(web):
    site, app, browser = web(users=USERS)
    customer_id = _add_contracts(site)
    b = english(browser("mgr"))
    form = b.get(f"/contracts/new?customer_id={customer_id}")
    assert form.status_code == 200
    assert field_value(form.text, "customer_id") == CUSTOMER  # from the customer's page
    product_id = site.db.run(lambda s: s.scalar(select(Product.id).where(Product.code == "WMS")))
    data = {"number": "T-VALID", "kind": "service", "customer_id": CUSTOMER, "products": [str(product_id)],
            "signed_on": "2026-01-05", "starts_on": "2026-02-01", "ends_on": "2026-01-31", "amount": "-5",
            "service_level": "金牌", "notes": "第二年续约"}
    r = b.submit("/contracts/new", data)
    assert r.status_code == 422
    assert "already has this number" in field_error(r.text, "number")
    # the same number typed in full-width mode is the same number
    wide = b.submit("/contracts/new", {**data, "number": "Ｔ－ＶＡＬＩＤ"})
    assert "already has this number" in field_error(wide.text, "number")
    assert "cannot end before it starts" in field_error(r.text, "ends_on")
    assert "negative" in field_error(r.text, "amount")
    assert field_error(r.text, "starts_on") == ""
    assert field_value(r.text, "service_level") == "金牌" and field_value(r.text, "notes") == "第二年续约"
    assert field_value(r.text, "ends_on") == "2026-01-31"
    assert selected(r.text, "products") == [str(product_id)]
    # a service contract needs its period
    r = b.submit("/contracts/new", {**data, "number": "T-NEW", "amount": "1", "starts_on": "", "ends_on": ""})
    assert r.status_code == 422 and "service period" in field_error(r.text, "ends_on")

    # from htmx, only the form comes back
    r = b.submit("/contracts/new", data, headers={"HX-Request": "true"})
    assert r.status_code == 422 and "<html" not in r.text and field_error(r.text, "ends_on")

    wang_fang = site.db.run(lambda s: s.scalar(select(Staff.id).where(Staff.code == "S003")))
    r = b.submit("/contracts/new", {**data, "number": "FW-2026-0901", "ends_on": "2027-01-31",
                                    "amount": "12,800.50", "signed_by_id": str(wang_fang)})
    assert r.status_code == 303, r.text
    detail = b.get(r.headers["location"])
    assert detail.status_code == 200
    assert "FW-2026-0901" in detail.text and "测试客户甲有限公司" in detail.text and "仓储管理系统" in detail.text
    assert "data-print" in detail.text
    saved = site.db.run(lambda s: s.scalar(select(Contract).where(Contract.number == "FW-2026-0901")))
    assert saved.amount == Decimal("12800.50") and saved.ends_on == date(2027, 1, 31)
    assert "FW-2026-0901" in b.get("/contracts").text
    assert "FW-2026-0901" in b.get("/contracts", params={"q": "ｆｗ－２０２６－０９０１"}).text
    # the customer's service history records it
    history = b.get(f"/customers/{customer_id}").text.split('id="timeline"')[1]
    assert "FW-2026-0901" in history and "mgr" in history

    # the signer leaves; the contract can still be edited without choosing someone else
    site.db.run(lambda s: setattr(s.get(Staff, wang_fang), "active", False))
    edit = b.get(f"/contracts/{saved.id}/edit")
    assert selected(edit.text, "signed_by_id") == [str(wang_fang)]
    r = b.submit(f"/contracts/{saved.id}/edit", {**data, "number": "FW-2026-0901", "ends_on": "2027-01-31",
                                                 "amount": "12800.50", "signed_by_id": str(wang_fang),
                                                 "notes": "已续约", "version": version_of(edit.text)})
    assert r.status_code == 303
    assert site.db.run(lambda s: s.get(Contract, saved.id).notes) == "已续约"


def test_stale_edit_shows_saved_values_and_keeps_input(web):
    site, app, browser = web(users=USERS)
    _add_contracts(site)
    contract_id = _contract_id(site, "T-VALID")
    ours, theirs = english(browser("mgr")), browser("boss")
    our_form = ours.get(f"/contracts/{contract_id}/edit")
    their_form = theirs.get(f"/contracts/{contract_id}/edit")
    assert our_form.status_code == their_form.status_code == 200

    def posted(page, **changes):
        data = {name: field_value(page, name) for name in
                ("number", "signed_on", "installed_on", "starts_on", "ends_on", "amount", "service_level")}
        data.update(kind="service", customer_id=field_value(page, "customer_id"), version=version_of(page))
        data.update(changes)
        return data

    r = theirs.submit(f"/contracts/{contract_id}/edit", posted(their_form.text, service_level="白金服务"))
    assert r.status_code == 303
    r = ours.submit(f"/contracts/{contract_id}/edit", posted(our_form.text, service_level="银牌服务"))
    assert r.status_code == 409
    conflict = re.search(r'<div class="conflict".*?</div>', r.text, re.S).group(0)
    assert "白金服务" in conflict
    assert field_value(r.text, "service_level") == "银牌服务"
    # saving again (the page now carries the current version) replaces their value
    again = ours.submit(f"/contracts/{contract_id}/edit", posted(r.text, service_level="银牌服务"))
    assert again.status_code == 303
    assert site.db.run(lambda s: s.get(Contract, contract_id).service_level) == "银牌服务"


def test_record_rules_hide_other_departments_contracts(web):
    site, app, browser = web(users=USERS)
    _add_contracts(site)
    foreign_customer = _foreign_customer(site)
    ours = _contract_id(site, "T-VALID")
    theirs = _contract_id(site, "SS-0001")
    eng, eng2, rep = browser("eng"), browser("eng2"), browser("rep")
    assert eng.get(f"/contracts/{ours}").status_code == 200
    assert eng.get(f"/contracts/{theirs}").status_code == 404
    assert eng2.get(f"/contracts/{ours}").status_code == 404
    assert eng2.get(f"/contracts/{theirs}").status_code == 200
    assert "T-VALID" not in eng2.get("/contracts").text
    assert "T-VALID" not in eng2.get("/contracts?format=csv").content.decode("utf-8-sig")
    # writing: rep (sales, 实施部) may edit contracts, but not those of 售后服务部's customers
    assert rep.get(f"/contracts/{ours}/edit").status_code == 404
    foreign_name = site.db.run(lambda s: s.get(Customer, foreign_customer).name)
    r = rep.submit(f"/contracts/{ours}/edit", {"number": "HACKED", "kind": "sales", "signed_on": "2026-01-01",
                                               "amount": "1", "customer_id": foreign_name, "version": "1"})
    assert r.status_code == 404
    assert site.db.run(lambda s: s.get(Contract, ours).number) == "T-VALID"
    # nor attach a new contract to such a customer
    r = english(rep).submit("/contracts/new", {"number": "SS-0002", "kind": "sales", "signed_on": "2026-01-01",
                                               "amount": "1", "customer_id": CUSTOMER})
    assert r.status_code == 422 and field_error(r.text, "customer_id")
    assert site.db.run(lambda s: s.scalar(select(Contract.id).where(Contract.number == "SS-0002"))) is None
    # and it is never suggested to them, while their own customer is
    assert CUSTOMER not in rep.get("/customers/suggest?for=customer_id&customer_id=客户").text
    assert foreign_name in rep.get("/customers/suggest?for=customer_id&customer_id=自己").text


def test_permissions(web):
    site, app, browser = web(users=USERS)
    _add_contracts(site)
    contract_id = _contract_id(site, "T-VALID")
    eng, nobody = browser("eng"), browser("nobody")
    assert eng.get("/contracts").status_code == 200
    assert eng.get("/contracts/new").status_code == 403
    assert eng.get(f"/contracts/{contract_id}/edit").status_code == 403
    r = eng.submit(f"/contracts/{contract_id}/edit", {"number": "X", "version": "1"})
    assert r.status_code == 403
    assert "Edit" not in english(eng).get(f"/contracts/{contract_id}").text.split("<main")[1].split("data-print")[0]
    for path in ("/contracts", f"/contracts/{contract_id}", "/contracts?format=csv"):
        assert nobody.get(path).status_code == 403
    assert browser().get("/contracts").status_code == 303  # anonymous: to the sign-in page


def test_list_query_count_does_not_grow_with_rows(web):
    site, app, browser = web(users={"boss": ["admin"]})

    def add(n, start):
        def work(s):
            customers = s.scalars(select(Customer).order_by(Customer.id)).all()
            products = s.scalars(select(Product)).all()
            for i in range(start, start + n):
                s.add(Contract(number=f"Q-{i:04d}", kind="service", customer=customers[i % len(customers)],
                               signed_on=date(2025, 1, 1), starts_on=date(2025, 1, 1), ends_on=date(2026, 12, 31),
                               amount=Decimal("100.00"), products=products[: 1 + i % 3]))
        site.db.run(work)

    b = browser("boss")
    site.db.run(lambda s: s.execute(Contract.__table__.delete()))  # demo contracts out: known row counts
    add(10, 0)
    b.get("/contracts")  # warm caches (settings, templates)
    with QueryCounter(site.db.engine) as few:
        assert b.get("/contracts").text.count('href="/contracts/') >= 10
    add(50, 10)
    with QueryCounter(site.db.engine) as many:
        page = b.get("/contracts")
        assert len(set(re.findall(r'href="/contracts/(\d+)"', page.text))) == 50
    assert few.count == many.count, (few.count, many.count)
    with QueryCounter(site.db.engine) as export:
        rows = b.get("/contracts?format=csv").content.decode("utf-8-sig").splitlines()
    assert len(rows) == 61 and export.count <= few.count + 1


def test_the_customer_is_typed_with_suggestions_not_picked_from_every_customer(web):
    """A form's customer is typed by name with suggestions while typing:
    the page stays the same size however many customers there are."""
    site, app, browser = web(users=USERS)
    _add_contracts(site)
    b = english(browser("mgr"))
    before = b.get("/contracts/new").text
    site.db.run(lambda s: s.add_all(Customer(name=f"批量客户{i:04d}有限公司") for i in range(300)))
    page = b.get("/contracts/new").text
    assert "批量客户" not in page and abs(len(page) - len(before)) < 200
    field = fields(page)["customer_id"]
    assert 'list="f-customer_id-options"' in field and "/customers/suggest?for=customer_id" in field

    def suggested(typed: str) -> list[str]:
        r = b.get("/customers/suggest", params={"for": "customer_id", "customer_id": typed})
        assert r.status_code == 200
        return [html.unescape(v) for v in re.findall(r'<option value="([^"]*)">', r.text)]

    assert suggested("客户甲") == [CUSTOMER]
    assert len(suggested("批量")) == 20 and suggested("批量")[0] == "批量客户0000有限公司"
    assert suggested("") == [] and suggested("%") == []  # a wildcard is a character like any other
    # a name nobody has is refused next to the field, with what was typed kept
    data = {"number": "T-TYPED", "kind": "sales", "signed_on": "2026-01-05", "amount": "1", "customer_id": "客户甲"}
    r = b.submit("/contracts/new", data)
    assert r.status_code == 422 and "客户甲" in field_error(r.text, "customer_id")
    assert field_value(r.text, "customer_id") == "客户甲"
    r = b.submit("/contracts/new", {**data, "customer_id": "批量客户0299有限公司"})
    assert r.status_code == 303
    saved = site.db.run(lambda s: s.scalar(select(Contract).where(Contract.number == "T-TYPED")))
    assert site.db.run(lambda s: s.get(Customer, saved.customer_id).name) == "批量客户0299有限公司"
    # the edit page shows the saved customer by name
    assert field_value(b.get(f"/contracts/{saved.id}/edit").text, "customer_id") == "批量客户0299有限公司"
