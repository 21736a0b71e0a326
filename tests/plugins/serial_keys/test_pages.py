"""Pages: list (filters, export, no query per row), record rules, the key
form, revocation, written applications (SK-5), first-visit checks (SK-4),
the customer panel, Chinese pages."""

from __future__ import annotations

import io
import re

from sqlalchemy import event, select

from .conftest import add_key, sign

VERSION = re.compile(r'name="version" value="(\d+)"')
PDF = b"%PDF-1.4\n% scanned application\n"


def test_main_list_runs_the_same_queries_for_10_and_50_rows(skweb):
    site, _app, browser = skweb
    b = browser("manager")

    def count():
        n = [0]

        def counter(*_a, **_k):
            n[0] += 1

        b.get("/serial_keys/")  # warm: the sign-in is cached from here on
        event.listen(site.db.engine, "before_cursor_execute", counter)
        try:
            r = b.get("/serial_keys/")
        finally:
            event.remove(site.db.engine, "before_cursor_execute", counter)
        return n[0], len(re.findall(r'href="/serial_keys/keys/\d+"', r.text))

    def add(n, start):
        contract_id, _c = sign(site, customer=f"批量客户{start}")
        for i in range(n):
            add_key(site, contract_id, f"ERP-BULK-{start + i:04d}", dongle=f"DG-B-{start + i}" if i % 2 else None)

    add(10, 0)
    small = count()
    add(40, 100)
    large = count()
    assert small[1] == 10 and large[1] == 50
    assert small[0] == large[0]


def test_list_filters_and_xlsx_export(skweb):
    from openpyxl import load_workbook

    site, _app, browser = skweb
    contract_id, _c = sign(site, customer="导出客户")
    add_key(site, contract_id, "ERP-EXP-0001", dongle="DG-EXP-1")
    add_key(site, contract_id, "ERP-EXP-0002", revoked=True)
    b = browser("engineer")
    page = b.get("/serial_keys/", params={"state": "revoked"}).text
    assert "ERP-EXP-0002" in page and "ERP-EXP-0001" not in page
    r = b.get("/serial_keys/", params={"q": "DG-EXP", "format": "xlsx"})
    assert r.status_code == 200
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[0][3] == "Serial number" and [row[3] for row in rows[1:]] == ["ERP-EXP-0001"]
    r = b.get("/serial_keys/", params={"q": "ERP-EXP", "format": "csv"})
    assert "ERP-EXP-0002" in r.content.decode("utf-8-sig")


def test_another_departments_key_is_not_found_on_read_and_write(skweb):
    site, _app, browser = skweb
    contract_id, _c = sign(site, customer="隐私客户")
    key_id = add_key(site, contract_id, "ERP-IDOR-0001")
    out = browser("outside_manager")
    assert out.get(f"/serial_keys/keys/{key_id}").status_code == 404
    assert out.get(f"/serial_keys/keys/{key_id}/edit").status_code == 404
    assert out.submit(f"/serial_keys/keys/{key_id}/revoke", {"reason": "x"}).status_code == 404
    assert out.get(f"/serial_keys/keys/{key_id}/licence").status_code == 404
    assert "ERP-IDOR-0001" not in out.get("/serial_keys/").text
    assert browser("lead").get(f"/serial_keys/keys/{key_id}").status_code == 200


def test_register_edit_and_revoke_a_key_with_history(skweb):
    site, _app, browser = skweb
    contract_id, customer_id = sign(site, customer="登记客户")
    add_key(site, contract_id, "ERP-TAKEN-01", dongle="DG-TAKEN-1")
    from fuwu.models import Contract, Product

    number = site.db.run(lambda s: s.get(Contract, contract_id).number)
    product_id = site.db.run(lambda s: s.scalar(select(Product.id).where(Product.code == "SK-ERP")))
    b = browser("lead")
    form = {"customer_name": "登记客户", "product_id": product_id, "serial_number": "erp-taken-01",
            "service_code": "FWM-NEW-1", "dongle_number": "dg-taken-1", "installed_on": "2025-03-01",
            "contract_number": number, "notes": ""}
    r = b.submit("/serial_keys/keys/new", form, page="/serial_keys/keys/new")
    assert r.status_code == 422
    assert "Serial number ERP-TAKEN-01 is already registered." in r.text
    assert "Dongle number DG-TAKEN-1 is already registered." in r.text and "FWM-NEW-1" in r.text
    r = b.submit("/serial_keys/keys/new", {**form, "serial_number": "ERP-NEW-0001", "dongle_number": ""},
                 page="/serial_keys/keys/new")
    assert r.status_code == 303
    detail = r.headers["location"]
    page = b.get(detail).text
    assert "ERP-NEW-0001" in page and "Issued" in page and "key-active" in page and 'class="signature"' in page
    # edit with a stale version: 409, input kept
    version = VERSION.search(b.get(f"{detail}/edit").text).group(1)
    ok = b.submit(f"{detail}/edit", {**form, "serial_number": "ERP-NEW-0001", "dongle_number": "DG-NEW-1",
                                     "version": version}, page=f"{detail}/edit")
    assert ok.status_code == 303
    stale = b.submit(f"{detail}/edit", {**form, "serial_number": "ERP-NEW-0001", "dongle_number": "DG-NEW-2",
                                        "version": version}, page=f"{detail}/edit")
    assert stale.status_code == 409 and "DG-NEW-2" in stale.text and "DG-NEW-1" in stale.text
    # revoke: a reason is required; then the state and the history say so
    assert b.submit(f"{detail}/revoke", {"reason": ""}, page=detail).status_code == 422
    assert b.submit(f"{detail}/revoke", {"reason": "客户退货"}, page=detail).status_code == 303
    page = b.get(detail).text
    assert "key-revoked" in page and "客户退货" in page and "Revoked" in page
    timeline = b.get(f"/customers/{customer_id}").text
    assert "ERP-NEW-0001" in timeline


def test_engineer_cannot_register_keys(skweb):
    _site, _app, browser = skweb
    b = browser("engineer")
    assert b.get("/serial_keys/keys/new").status_code == 403
    assert b.submit("/serial_keys/keys/new", {}).status_code == 403


def _apply(b, data, scan=("scan.pdf", PDF), **kw):
    token = b.csrf("/serial_keys/applications/new")
    files = {"scan": scan} if scan else None
    return b.post("/serial_keys/applications/new", data={**data, "csrf_token": token}, files=files, **kw)


def test_written_application_with_scan_on_the_timeline(skweb):
    site, _app, browser = skweb
    contract_id, customer_id = sign(site, customer="书面申请客户")
    add_key(site, contract_id, "ERP-APP-0001")
    from fuwu.models import Staff

    approver = site.db.run(lambda s: s.scalar(select(Staff.id).where(Staff.username == "manager")))
    b = browser("lead")
    data = {"customer_name": "书面申请客户", "kind": "password", "received_on": "2026-11-20", "applicant": "王经理",
            "approver_id": approver, "contact_name": "李会计", "done_on": "2026-11-21",
            "serial_number": "ERP-APP-0001", "notes": ""}
    # type checked by content, size by the setting
    r = _apply(b, data, scan=("scan.pdf", b"MZ\x90\x00 not a scan"))
    assert r.status_code == 422 and "Upload a PDF, JPEG or PNG scan." in r.text and "王经理" in r.text
    assert _apply(b, data, scan=None).status_code == 422
    r = _apply(b, data, scan=("scan.pdf", PDF + b"0" * (5121 * 1024)))
    assert r.status_code in (413, 422)
    r = _apply(b, {**data, "password": "secret123"})
    assert r.status_code == 303
    detail = r.headers["location"]
    page = b.get(detail).text
    assert "李会计" in page and "王经理" in page and "ERP-APP-0001" in page and 'class="signature"' in page
    assert "secret123" not in page
    scan = b.get(f"{detail}/file")
    assert scan.status_code == 200 and scan.content == PDF and scan.headers["content-type"] == "application/pdf"
    assert "李会计" in b.get(f"/customers/{customer_id}").text  # in the customer's timeline
    assert "书面申请客户" in b.get("/serial_keys/applications", params={"kind": "password"}).text
    # no column anywhere holds the password
    from fuwu_plugins.serial_keys.models import Application

    assert "password" not in {c.name for c in Application.__table__.columns}
    # another department sees nothing
    out = browser("outside_manager")
    assert out.get(detail).status_code == 404 and out.get(f"{detail}/file").status_code == 404
    assert "书面申请客户" not in out.get("/serial_keys/applications").text


def test_first_visit_checklist_gets_service_code_and_dongle_items(skweb):
    from fuwu.first_visit import checklist
    from fuwu.models import Customer

    site, _app, _browser = skweb
    customer = site.db.run(lambda s: s.scalars(select(Customer)).first())
    keys = [k for k, _label in checklist(site, customer)]
    assert "serial_keys.service_code" in keys and "serial_keys.dongle" in keys


def test_customer_panel_and_chinese_pages(skweb):
    site, _app, browser = skweb
    contract_id, customer_id = sign(site, customer="面板客户")
    add_key(site, contract_id, "ERP-PANEL-01", dongle="DG-PANEL-1")
    b = browser("engineer")
    page = b.get(f"/customers/{customer_id}").text
    assert 'id="serial-keys-panel"' in page and "ERP-PANEL-01" in page and "key-active" in page
    zh = b.get("/serial_keys/lookup", params={"q": "DG-PANEL-1"}, headers={"Accept-Language": "zh-CN"}).text
    assert "加密锁号" in zh and "质保期内" in zh
    assert "序列号" in b.get("/serial_keys/", headers={"Accept-Language": "zh-CN"}).text


def test_demo_data_loads_twice_without_duplicates(skweb):
    from fuwu.demo import load
    from fuwu_plugins.serial_keys.models import ProductKey

    site, _app, _browser = skweb
    load(site)
    first = site.db.run(lambda s: len(s.scalars(select(ProductKey)).all()))
    load(site)
    assert first > 0 and site.db.run(lambda s: len(s.scalars(select(ProductKey)).all())) == first


def test_every_page_opens_in_traditional_chinese_and_settings_list_the_rules(skweb):
    site, _app, browser = skweb
    contract_id, customer_id = sign(site, customer="繁體客戶")
    key_id = add_key(site, contract_id, "ERP-HANT-01", dongle="DG-HANT-1")
    b = browser("manager")
    b.headers["Accept-Language"] = "zh-TW"
    for path in ("/serial_keys/", "/serial_keys/lookup?q=DG-HANT-1", f"/serial_keys/keys/{key_id}",
                 f"/serial_keys/keys/{key_id}/edit", "/serial_keys/keys/new", "/serial_keys/import",
                 "/serial_keys/applications", "/serial_keys/applications/new", "/serial_keys/tokens",
                 "/serial_keys/licence/public-keys", f"/customers/{customer_id}"):
        r = b.get(path)
        assert r.status_code == 200, (path, r.status_code)
        assert "加密鎖" in r.text or "裝機資料" in r.text, path
    admin_page = browser("sysadmin").get("/settings")
    assert admin_page.status_code == 200
    for key in ("serial_keys.renewal_numbering", "serial_keys.serial_scheme", "serial_keys.import_max_kb",
                "serial_keys.application_max_kb"):
        assert key in admin_page.text, key
    assert "SK-3" in admin_page.text and "SK-5" in admin_page.text
