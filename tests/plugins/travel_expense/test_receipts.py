"""The receipts of a claim (TRV-6): files a plugin keeps with its own record
through core's ``register_file_owners`` hook. The traveller adds them while
the claim is a draft; whoever may open the claim downloads them; nobody
else learns they exist."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from fuwu.attachments import Attachment

from .conftest import DEPT, STANDARD_LINES, USERS, approved_trip, created_id, step

PNG = b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" + b"\0" * 40
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def tweb(web):
    """The cast of a trip, and an administrator who reads the audit log."""
    return web(plugins=["travel_expense"], users={**USERS, "auditor": (["admin"], DEPT)})


def draft_claim(site, browser) -> int:
    trip = approved_trip(site, browser)
    data = {"departed_at": "2026-03-02T09:00", "returned_at": "2026-03-04T10:30", **STANDARD_LINES}
    return created_id(browser("eng").submit(f"/travel_expense/trip/{trip}/claim", data,
                                            page=f"/travel_expense/trip/{trip}"))


def attach(b, claim: int, name: str, data: bytes, description: str = ""):
    return b.submit(f"/records/travel_expense_claim/{claim}/files", {"description": description},
                    files={"file": (name, data, "application/octet-stream")}, page=f"/travel_expense/claim/{claim}")


def file_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/files/(\d+)"', page)]


def stored(site) -> int:
    return site.db.run(lambda s: s.scalar(select(func.count()).select_from(Attachment)))


def test_receipts_are_added_to_a_draft_and_read_by_whoever_may_open_the_claim(tweb):
    site, _app, browser = tweb
    claim = draft_claim(site, browser)
    eng, manager, finance, other = browser("eng"), browser("manager"), browser("finance"), browser("eng2")
    page = eng.get(f"/travel_expense/claim/{claim}").text
    assert f'action="/records/travel_expense_claim/{claim}/files"' in page
    assert "Scans or photos of the invoices and tickets" in page

    sent = attach(eng, claim, "汉庭酒店发票.png", PNG, "住宿 2 晚")
    assert sent.status_code == 303 and sent.headers["location"] == f"/travel_expense/claim/{claim}#files"
    page = eng.get(f"/travel_expense/claim/{claim}").text
    assert "File 汉庭酒店发票.png attached." in page and "住宿 2 晚" in page
    [receipt] = file_ids(page)
    assert f'action="/files/{receipt}/delete"' in page  # the traveller may still take it back

    # the service manager reviewing it and finance download it; neither may add or delete one
    for reader in (manager, finance):
        got = reader.get(f"/files/{receipt}")
        assert got.status_code == 200 and got.content == PNG
        assert got.headers["content-disposition"].startswith("attachment;")
        shown = reader.get(f"/travel_expense/claim/{claim}").text
        assert "汉庭酒店发票.png" in shown
        assert "/records/travel_expense_claim/" not in shown and f"/files/{receipt}/delete" not in shown
    assert attach(manager, claim, "x.png", PNG).status_code == 403
    assert manager.submit(f"/files/{receipt}/delete", {}).status_code == 403

    # another traveller: not found, whether reading, adding or deleting
    assert other.get(f"/files/{receipt}").status_code == 404
    assert attach(other, claim, "x.png", PNG).status_code == 404
    assert other.submit(f"/files/{receipt}/delete", {}).status_code == 404
    # a record type that keeps no files, and a claim that does not exist
    assert eng.submit("/records/travel_expense_trip/1/files", {},
                      files={"file": ("x.png", PNG, "image/png")}).status_code == 404
    assert attach(eng, claim + 1000, "x.png", PNG).status_code == 404
    assert stored(site) == 1

    # submitted: what the approvers read stays as it is
    assert step(eng, "claim", claim, "submit").status_code == 303
    page = eng.get(f"/travel_expense/claim/{claim}").text
    assert "汉庭酒店发票.png" in page and "/records/travel_expense_claim/" not in page
    refused = attach(eng, claim, "补充.png", PNG)
    assert refused.status_code == 403 and "Files cannot be attached to this record now." in refused.text
    assert eng.submit(f"/files/{receipt}/delete", {}).status_code == 403
    assert stored(site) == 1

    # sent back: a draft again, so the traveller may replace the receipt
    assert step(manager, "claim", claim, "reject", "发票金额看不清").status_code == 303
    gone = eng.submit(f"/files/{receipt}/delete", {}, page=f"/travel_expense/claim/{claim}")
    assert gone.status_code == 303 and gone.headers["location"] == f"/travel_expense/claim/{claim}#files"
    assert "File 汉庭酒店发票.png deleted." in eng.get(gone.headers["location"]).text
    assert eng.get(f"/files/{receipt}").status_code == 404 and stored(site) == 0

    # the claim's history in the audit log lists the receipt's coming and going
    log = browser("auditor").get(f"/audit?table=travel_expense_claim&row={claim}").text
    rows = [r for r in re.findall(r"<tr>.*?</tr>", log, re.S) if f"File #{receipt}" in r]
    assert ["Record deleted" in r for r in rows] == [True, False]
    assert ["Record created" in r for r in rows] == [False, True]


def test_a_refused_file_shows_its_reason_on_the_claim_page_and_keeps_nothing(tweb):
    site, _app, browser = tweb
    claim = draft_claim(site, browser)
    eng = browser("eng")
    refused = attach(eng, claim, "车票.pdf", b"MZ\x90\x00 not a pdf", "高铁票")
    assert refused.status_code == 422
    assert "The file&#39;s content is not what its name says (.pdf)." in refused.text
    assert 'id="claim-lines"' in refused.text  # the claim's own page, not an error page
    assert 'value="高铁票"' in refused.text  # what was typed is kept
    zh = eng.submit(f"/records/travel_expense_claim/{claim}/files", {}, headers={"Accept-Language": "zh-CN"},
                    files={"file": ("车票.exe", b"MZ", "application/octet-stream")},
                    page=f"/travel_expense/claim/{claim}")
    assert zh.status_code == 422 and "不接受此类型的文件" in zh.text
    assert stored(site) == 0
    assert attach(eng, claim, "车票.pdf", PDF).status_code == 303 and stored(site) == 1


def test_the_claim_page_costs_the_same_queries_for_one_receipt_or_six(tweb):
    from tests.web.test_performance import counting

    site, _app, browser = tweb
    claim = draft_claim(site, browser)
    eng = browser("eng")

    def queries():
        eng.get(f"/travel_expense/claim/{claim}")  # warm
        with counting(site.db.engine) as statements:
            assert eng.get(f"/travel_expense/claim/{claim}").status_code == 200
        return len(statements)

    assert attach(eng, claim, "发票1.pdf", PDF).status_code == 303
    one = queries()
    for i in range(2, 7):
        assert attach(eng, claim, f"发票{i}.pdf", PDF).status_code == 303
    assert queries() == one and stored(site) == 6
