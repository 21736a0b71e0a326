"""Import of the installed base: dry run, all-or-nothing, duplicates, headers,
GBK, size limit, XLSX with formulas and empty rows (SK-1, SK-2)."""

from __future__ import annotations

import io
import re
import zipfile

from sqlalchemy import func, select

from .conftest import sign

HEADER = "客户名称,产品编码,序列号,服务码,加密锁号,安装日期,合同编号\n"


def _count(site):
    from fuwu_plugins.serial_keys.models import ProductKey

    return site.db.run(lambda s: s.scalar(select(func.count()).select_from(ProductKey)))


def _upload(b, name, content, **kw):
    token = b.csrf("/serial_keys/import")
    return b.post("/serial_keys/import", data={"csrf_token": token}, files={"file": (name, content)}, **kw)


def _confirm(b, page):
    action = re.search(r'action="(/serial_keys/import/\d+)"', page).group(1)
    return b.post(action, data={"csrf_token": b.csrf("/serial_keys/import")})


def _setup(site):
    contract_id, _cust = sign(site, customer="导入客户甲")
    number = site.db.run(lambda s: s.get(__import__("fuwu.models", fromlist=["Contract"]).Contract, contract_id).number)
    sign(site, customer="导入客户乙")
    return number


def test_a_good_csv_is_previewed_then_imported(skweb):
    site, _app, browser = skweb
    number = _setup(site)
    csv = (HEADER + f"导入客户甲,SK-ERP,ERP-IMP-0001,FWM-IMP-01,DG-IMP-01,2025-03-01,{number}\n"
           "导入客户乙,SK-ERP,erp-imp-0002,FWM-IMP-02,,2025/3/2,\n").encode("utf-8-sig")
    b = browser("manager")
    r = _upload(b, "base.csv", csv)
    assert r.status_code == 200 and 'id="import-preview"' in r.text
    assert "ERP-IMP-0002" in r.text and _count(site) == 0  # a dry run writes no key
    preview = r.text
    r = _confirm(b, preview)
    assert r.status_code == 303
    assert _count(site) == 2
    page = b.get("/serial_keys/", params={"q": "ERP-IMP"}).text
    assert "ERP-IMP-0001" in page and "DG-IMP-01" in page
    # the key under a contract is valid until its service period's end
    from fuwu_plugins.serial_keys.models import ProductKey

    expiry = site.db.run(lambda s: s.scalar(select(ProductKey.expires_on).where(
        ProductKey.serial_number == "ERP-IMP-0001")))
    assert expiry is not None
    # confirming the same dry run twice imports nothing more
    assert _confirm(b, preview).status_code == 404 and _count(site) == 2


def test_one_bad_row_imports_nothing_and_names_row_and_column(skweb):
    site, _app, browser = skweb
    _setup(site)
    csv = (HEADER + "导入客户甲,SK-ERP,ERP-BAD-0001,FWM-1,,2025-03-01,\n"
           "导入客户甲,NO-SUCH,ERP-BAD-0002,FWM-2,,2025-13-45,\n").encode()
    r = _upload(browser("manager"), "bad.csv", csv)
    assert r.status_code == 422 and 'id="import-errors"' in r.text and 'id="import-confirm"' not in r.text
    assert "<td>3</td><td>Product code</td><td>No product with code NO-SUCH.</td>" in r.text
    assert "<td>3</td><td>Installation date</td>" in r.text
    assert _count(site) == 0
    zh = _upload(browser("manager"), "bad.csv", csv, headers={"Accept-Language": "zh-CN"}).text
    assert "产品编码" in zh and "NO-SUCH" in zh


def test_duplicates_in_the_file_and_against_the_database(skweb):
    site, _app, browser = skweb
    _setup(site)
    b = browser("manager")
    first = (HEADER + "导入客户甲,SK-ERP,ERP-DUP-0001,FWM-1,DG-DUP-1,,\n").encode()
    assert _confirm(b, _upload(b, "a.csv", first).text).status_code == 303
    csv = (HEADER + "导入客户甲,SK-ERP,ERP-DUP-0001,FWM-1,,,\n"
           "导入客户甲,SK-ERP,ERP-DUP-0002,FWM-2,dg-dup-1,,\n"
           "导入客户乙,SK-ERP,ERP-DUP-0003,FWM-3,DG-DUP-3,,\n"
           "导入客户乙,SK-ERP,erp-dup-0003,FWM-4,DG-DUP-3,,\n").encode()
    r = _upload(b, "b.csv", csv)
    assert r.status_code == 422
    assert "Serial number ERP-DUP-0001 is already registered." in r.text
    assert "Dongle number DG-DUP-1 is already registered." in r.text
    assert "Serial number ERP-DUP-0003 also on row 4 of this file." in r.text
    assert "Dongle number DG-DUP-3 also on row 4 of this file." in r.text
    assert _count(site) == 1


def test_wrong_headers_are_refused_with_the_expected_columns(skweb):
    site, _app, browser = skweb
    r = _upload(browser("manager"), "x.csv", "name,code,number\n甲,SK-ERP,ERP-1\n".encode())
    assert r.status_code == 422
    assert "missing: Customer name, Product code, Serial number, and Service code" in r.text
    assert "not recognised: name, code, and number" in r.text.replace("&#39;", "'")


def test_a_gbk_csv_with_chinese_names_is_read(skweb):
    site, _app, browser = skweb
    _setup(site)
    csv = (HEADER + "导入客户甲,SK-ERP,ERP-GBK-0001,FWM-GBK-1,,2025-03-01,\n").encode("gbk")
    b = browser("manager")
    r = _upload(b, "gbk.csv", csv)
    assert r.status_code == 200, r.text[-3000:]
    assert "导入客户甲" in r.text
    assert _confirm(b, r.text).status_code == 303 and _count(site) == 1


def test_an_oversized_file_gets_a_clear_message(web):
    from .conftest import PLUGINS, USERS

    site, _app, browser = web(plugins=PLUGINS, users=USERS, settings={"serial_keys.import_max_kb": 1})
    csv = (HEADER + "导入客户甲,SK-ERP,ERP-BIG-0001,FWM-1,,,\n" * 100).encode()
    r = _upload(browser("manager"), "big.csv", csv)
    assert r.status_code == 422
    assert "the limit is 1 KB" in r.text and _count(site) == 0


def _xlsx_with_cached_values(rows, cached):
    """An XLSX as Excel saves it: formulas with their last computed value."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                for ref, value in cached.items():
                    text = re.sub(rf'<c r="{ref}"([^>]*)><f>(.*?)</f><v\s*/?>(</v>)?',
                                  rf'<c r="{ref}" t="str"><f>\2</f><v>{value}</v>', text)
                    text = re.sub(rf'<c r="{ref}"([^>]*)><f>(.*?)</f></c>',
                                  rf'<c r="{ref}" t="str"><f>\2</f><v>{value}</v></c>', text)
                data = text.encode()
            dst.writestr(item, data)
    return out.getvalue()


def test_an_xlsx_with_formulas_and_empty_rows(skweb):
    site, _app, browser = skweb
    _setup(site)
    rows = [["客户名称", "产品编码", "序列号", "服务码", "加密锁号", "安装日期", "合同编号"],
            ["导入客户甲", "SK-ERP", '="ERP-XL-"&"0001"', "FWM-XL-1", None, "2025-03-01", None],
            [None] * 7,
            ["导入客户乙", "SK-ERP", "ERP-XL-0002", 778899, None, None, None],
            [None] * 7]
    content = _xlsx_with_cached_values(rows, {"C2": "ERP-XL-0001"})
    b = browser("manager")
    r = _upload(b, "base.xlsx", content)
    assert r.status_code == 200, re.findall(r"<td>.*?</td>", r.text)[:12]
    assert "ERP-XL-0001" in r.text and ">778899</td>" in r.text
    assert _confirm(b, r.text).status_code == 303 and _count(site) == 2
    # a formula Excel never computed is named, not silently imported empty
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(rows[0])
    book.active.append(["导入客户甲", "SK-ERP", '="ERP-XL-"&"0009"', "FWM-XL-9", None, None, None])
    buf = io.BytesIO()
    book.save(buf)
    r = _upload(b, "raw.xlsx", buf.getvalue())
    assert r.status_code == 422 and "formula without a saved result" in r.text


def test_import_needs_its_permission(skweb):
    _site, _app, browser = skweb
    assert browser("engineer").get("/serial_keys/import").status_code == 403


def test_unconfirmed_upload_is_purged_by_the_daily_job(skweb):
    from datetime import UTC, datetime, timedelta

    from fuwu.importing import ImportFile
    from fuwu.jobs import run_due

    site, _app, browser = skweb
    _setup(site)
    b = browser("manager")
    page = _upload(b, "a.csv", (HEADER + "导入客户甲,SK-ERP,ERP-PURGE-01,FWM-1,,,\n").encode()).text
    assert site.db.run(lambda s: len(s.scalars(select(ImportFile)).all())) == 1
    run_due(site, only="core.prune_import_files", now=datetime.now(UTC) + timedelta(days=2))
    assert site.db.run(lambda s: len(s.scalars(select(ImportFile)).all())) == 0
    assert _confirm(b, page).status_code == 404 and _count(site) == 0


def test_the_downloaded_template_comes_back_as_an_import(skweb):
    from openpyxl import load_workbook

    site, _app, browser = skweb
    _setup(site)
    b = browser("manager")
    b.headers["Accept-Language"] = "zh-TW"
    r = b.get("/serial_keys/import/template", params={"format": "xlsx"})
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(r.content))
    sheet = book.active
    assert [c.value for c in sheet[1]][:3] == ["客戶名稱", "產品編碼", "序列號"]
    sheet.append(["导入客户甲", "SK-ERP", "ERP-TPL-0001", "FWM-TPL-1", None, None, None])
    buf = io.BytesIO()
    book.save(buf)
    page = _upload(b, "filled.xlsx", buf.getvalue())
    assert page.status_code == 200 and _confirm(b, page.text).status_code == 303 and _count(site) == 1
    english = browser("manager").get("/serial_keys/import/template", params={"format": "csv"})
    assert english.content.decode("utf-8-sig").startswith("Customer name,Product code,Serial number")
