"""Files kept with a customer or a contract: attached, listed, downloaded and
deleted through the pages, with the record rules of their customer."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import date
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from fuwu.attachments import Attachment
from fuwu.audit import AuditEntry
from fuwu.errors import ConfigError
from fuwu.models import Contract, Customer, Department
from fuwu.web.app import create_app
from fuwu.web.sessions import COOKIE

from tests.conftest import another_process

from .test_performance import counting

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" + b"\0" * 40
USERS = {"rep": (["sales"], "华东服务组"), "eng": (["engineer"], "华东服务组"),
         "north": (["engineer"], "华北服务组"), "nobody": ([], "华东服务组")}


def _customer_with_contract(site) -> tuple[int, int]:
    def work(s):
        east = s.scalar(select(Department).filter_by(name="华东服务组"))
        customer = Customer(name="附件测试有限公司", department_id=east.id)
        s.add(customer)
        s.flush()
        contract = Contract(number="HT-FJ-001", customer_id=customer.id, signed_on=date(2026, 3, 1))
        s.add(contract)
        s.flush()
        return customer.id, contract.id

    return site.db.run(work)


def _files(site) -> list[tuple[str, int | None, bytes]]:
    with site.db.session(write=False) as s:
        return [(a.file_name, a.contract_id, a.data) for a in s.scalars(select(Attachment).order_by(Attachment.id))]


def test_a_signed_contract_scan_is_attached_listed_and_downloaded_by_who_sees_the_customer(web):
    site, app, browser = web(demo=False, users=USERS)
    cid, kid = _customer_with_contract(site)
    rep, eng = browser("rep"), browser("eng")

    assert 'action="/contracts/%d/files"' % kid in rep.get(f"/contracts/{kid}").text
    sent = rep.submit(f"/contracts/{kid}/files", {"description": "双方盖章 <b>原件</b>"},
                      files={"file": ("销售合同 HT-FJ-001.pdf", PDF, "application/pdf")})
    assert sent.status_code == 303 and sent.headers["location"] == f"/contracts/{kid}#files"
    page = rep.get(f"/contracts/{kid}").text
    assert "File 销售合同 HT-FJ-001.pdf attached." in page
    assert "双方盖章 &lt;b&gt;原件&lt;/b&gt;" in page and "<b>原件" not in page
    file_id = int(re.search(r'href="/files/(\d+)"', page).group(1))

    # the customer's page lists its contracts' files too, naming the contract
    customer_page = eng.get(f"/customers/{cid}").text
    row = re.search(r'<tr>\s*<td><a href="/files/%d".*?</tr>' % file_id, customer_page, re.S).group(0)
    assert "销售合同 HT-FJ-001.pdf" in row and "HT-FJ-001</a>" in row and "rep" in row
    assert "rep attached the file 销售合同 HT-FJ-001.pdf to contract HT-FJ-001" in customer_page

    got = eng.get(f"/files/{file_id}")
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"].startswith("attachment;")  # never shown as a page of the site
    assert "filename*=UTF-8''" + quote("销售合同 HT-FJ-001.pdf", safe="") in got.headers["content-disposition"]

    # an engineer may not attach to a contract, but may to the customer (a site photo)
    assert 'action="/contracts/%d/files"' % kid not in eng.get(f"/contracts/{kid}").text
    refused = eng.submit(f"/contracts/{kid}/files", files={"file": ("x.pdf", PDF, "application/pdf")})
    assert refused.status_code == 403
    photo = eng.submit(f"/customers/{cid}/files", files={"file": ("机房照片.png", PNG, "image/png")})
    assert photo.status_code == 303 and photo.headers["location"] == f"/customers/{cid}#files"
    assert [(name, contract) for name, contract, _data in _files(site)] == [
        ("销售合同 HT-FJ-001.pdf", kid), ("机房照片.png", None)]
    # the contract's page shows its own files only
    contract_page = rep.get(f"/contracts/{kid}").text
    assert "销售合同 HT-FJ-001.pdf" in contract_page and "机房照片.png" not in contract_page

    # another department's engineer, and someone without grants, get nothing
    north, nobody = browser("north"), browser("nobody")
    assert north.get(f"/files/{file_id}").status_code == 404
    assert north.submit(f"/files/{file_id}/delete").status_code == 404
    assert north.submit(f"/customers/{cid}/files", files={"file": ("y.pdf", PDF, "application/pdf")}).status_code == 404
    assert nobody.get(f"/files/{file_id}").status_code == 403
    assert len(_files(site)) == 2


def test_a_file_that_is_not_what_it_says_too_large_or_empty_is_refused_and_nothing_is_kept(web):
    site, app, browser = web(demo=False, users=USERS)
    cid, kid = _customer_with_contract(site)
    eng = browser("eng")
    site.db.run(lambda s: site.settings.set(s, "core.attachment_max_kb", 16))

    cases = {
        "程序.exe": (b"MZ\x90\0", "Files of this type are not accepted."),
        "改名的程序.pdf": (b"MZ\x90\0" + b"\0" * 100, "The file's content is not what its name says (.pdf)."),
        "说明.txt": (b"\0\0binary", "The file's content is not what its name says (.txt)."),
        "空文件.pdf": (b"", "The file is empty."),
        "大图.png": (PNG + b"\0" * 17 * 1024, "The file is larger than 16 KB."),
    }
    for name, (data, message) in cases.items():
        r = eng.submit(f"/customers/{cid}/files", {"description": "留着的说明"},
                       files={"file": (name, data, "application/octet-stream")})
        assert r.status_code == 422, name
        assert message in html.unescape(r.text), name
        assert "附件测试有限公司" in r.text and 'value="留着的说明"' in r.text  # the page, the description kept
    none_chosen = eng.submit(f"/customers/{cid}/files", {"description": ""})
    assert none_chosen.status_code == 422 and "Choose a file to upload." in none_chosen.text
    assert _files(site) == []

    # the deployer decides the types: text files no longer, then accepted again
    site.db.run(lambda s: site.settings.set(s, "core.attachment_types", "pdf, png"))
    r = eng.submit(f"/customers/{cid}/files", files={"file": ("清单.csv", "名称,数量\n".encode(), "text/csv")})
    assert r.status_code == 422 and "Accepted: pdf, png." in r.text
    site.db.run(lambda s: site.settings.set(s, "core.attachment_types", "pdf, png, csv"))
    r = eng.submit(f"/customers/{cid}/files", files={"file": ("C:\\报表\\清单.csv", "名称,数量\n".encode(), "text/csv")})
    assert r.status_code == 303
    assert [name for name, _c, _d in _files(site)] == ["清单.csv"]  # no folder from the sender's machine


def test_a_file_over_the_servers_upload_limit_gets_413_and_nothing_is_kept(web):
    site, app, browser = web(demo=False, users=USERS)
    cid, _kid = _customer_with_contract(site)
    eng = browser("eng")
    # an app process whose fuwu.toml sets max_upload_bytes lower than the attachment setting allows
    with another_process(site, eng.cookies.get(COOKIE), config=replace(site.config, max_upload_bytes=128 * 1024)) as small:
        token = small.csrf(f"/customers/{cid}")
        r = small.post(f"/customers/{cid}/files", data={"csrf_token": token}, headers={"Accept-Language": "en"},
                       files={"file": ("大扫描件.pdf", PDF + b"0" * 200_000, "application/pdf")})
        assert r.status_code == 413 and "What you sent is too large." in r.text
        r = small.post(f"/customers/{cid}/files", data={"csrf_token": token},
                       files={"file": ("小扫描件.pdf", PDF + b"0" * 60_000, "application/pdf")})
        assert r.status_code == 303
    assert [name for name, _c, _d in _files(site)] == ["小扫描件.pdf"]


def test_a_file_is_deleted_by_who_attached_it_or_may_edit_its_record_and_the_history_says_so(web):
    site, app, browser = web(demo=False, users={**USERS, "eng2": (["engineer"], "华东服务组")})
    cid, kid = _customer_with_contract(site)
    rep, eng, eng2 = browser("rep"), browser("eng"), browser("eng2")
    eng.submit(f"/customers/{cid}/files", files={"file": ("现场照片.png", PNG, "image/png")})
    rep.submit(f"/contracts/{kid}/files", files={"file": ("合同扫描件.pdf", PDF, "application/pdf")})
    with site.db.session(write=False) as s:
        photo, scan = s.scalars(select(Attachment.id).order_by(Attachment.id)).all()

    # another engineer sees both files and may delete neither
    page = eng2.get(f"/customers/{cid}").text
    assert "现场照片.png" in page and f'action="/files/{photo}/delete"' not in page
    assert eng2.submit(f"/files/{photo}/delete").status_code == 403
    # the engineer may delete their own photo, not the contract's scan
    page = eng.get(f"/customers/{cid}").text
    assert f'action="/files/{photo}/delete"' in page and f'action="/files/{scan}/delete"' not in page
    assert eng.submit(f"/files/{scan}/delete").status_code == 403
    gone = eng.submit(f"/files/{photo}/delete")
    assert gone.status_code == 303 and gone.headers["location"] == f"/customers/{cid}#files"
    assert eng.get(f"/files/{photo}").status_code == 404
    # who edits contracts deletes a contract's file, and is sent back to the contract
    assert rep.submit(f"/files/{scan}/delete").headers["location"] == f"/contracts/{kid}#files"
    assert _files(site) == []

    page = eng.get(f"/customers/{cid}").text
    assert "eng deleted the file 现场照片.png" in page and "rep deleted the file 合同扫描件.pdf" in page
    with site.db.session(write=False) as s:
        logged = s.scalars(select(AuditEntry.action).where(AuditEntry.table_name == "core_attachment")
                           .order_by(AuditEntry.id)).all()
    assert logged.count("create") >= 2 and logged.count("delete") >= 2


def test_the_files_panel_costs_the_same_queries_for_one_file_or_ten(web):
    site, app, browser = web(demo=False, users=USERS)
    cid, kid = _customer_with_contract(site)
    rep = browser("rep")

    def attach(n):
        for i in range(n):
            rep.submit(f"/contracts/{kid}/files" if i % 2 else f"/customers/{cid}/files",
                       files={"file": (f"文件{i}.pdf", PDF, "application/pdf")})

    def queries(path):
        rep.get(path)  # warm
        with counting(site.db.engine) as statements:
            assert rep.get(path).status_code == 200
        return len(statements)

    attach(1)
    few = queries(f"/customers/{cid}"), queries(f"/contracts/{kid}")
    attach(9)
    assert (queries(f"/customers/{cid}"), queries(f"/contracts/{kid}")) == few
    with site.db.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Attachment)) == 10


def test_the_search_box_finds_a_file_by_its_name_or_description_for_who_sees_its_customer(web):
    site, app, browser = web(demo=False, users=USERS)
    cid, kid = _customer_with_contract(site)
    rep = browser("rep")
    rep.submit(f"/contracts/{kid}/files", {"description": "年度维护协议盖章页"},
               files={"file": ("scan-0042.pdf", PDF, "application/pdf")})
    for text in ("scan-0042", "维护协议"):
        page = rep.get("/search", params={"q": text}).text
        hit = re.search(r'<a href="/contracts/%d#files">scan-0042.pdf</a>' % kid, page)
        assert hit and "附件测试有限公司 · 年度维护协议盖章页" in page, text
    assert "scan-0042.pdf" not in browser("north").get("/search", params={"q": "scan-0042"}).text


def test_a_plugin_keeps_a_file_with_a_customer_through_the_documented_calls(web, make_plugin):
    make_plugin("callshots", plugin='''
        from sqlalchemy import select
        from starlette.responses import PlainTextResponse
        from starlette.routing import Route

        from fuwu import attachments
        from fuwu.errors import NotFound
        from fuwu.models import Customer
        from fuwu.web import scope
        from fuwu.web.endpoint import requires

        @requires("core.customer.view")
        def screenshot(request):
            db, user = request.state.db, request.state.user
            customer = db.scalar(select(Customer).where(Customer.id == request.path_params["customer_id"],
                                                        scope.customers(user)))
            if customer is None:
                raise NotFound()
            max_kb, types = attachments.limits(request.state.site, db)
            upload = attachments.checked(request.state.form.get("file"), max_kb=max_kb, types=types)
            if isinstance(upload, str):
                return PlainTextResponse(upload, status_code=422)
            kept = attachments.keep(db, upload, customer_id=customer.id, staff_id=user.id,
                                    description="hotline screenshot")
            return PlainTextResponse(str(kept.id), status_code=201)

        @hookimpl
        def register_routes():
            return [Route("/{customer_id:int}/screenshot", screenshot, methods=["POST"])]
    ''')
    site, app, browser = web(["callshots"], demo=False, users=USERS)
    cid, _kid = _customer_with_contract(site)
    eng = browser("eng")
    sent = eng.submit(f"/callshots/{cid}/screenshot", files={"file": ("报错截图.png", PNG, "image/png")})
    assert sent.status_code == 201
    refused = eng.submit(f"/callshots/{cid}/screenshot", files={"file": ("报错截图.png", PDF, "image/png")})
    assert refused.status_code == 422 and "not what its name says (.png)" in html.unescape(refused.text)
    page = eng.get(f"/customers/{cid}").text
    assert re.search(r'<a href="/files/%s" hx-boost="false" download>报错截图.png</a>' % sent.text, page)
    assert "hotline screenshot" in page and eng.get(f"/files/{sent.text}").content == PNG
    assert browser("north").submit(f"/callshots/{cid}/screenshot",
                                   files={"file": ("x.png", PNG, "image/png")}).status_code == 404


def test_a_plugin_keeps_files_with_its_own_records_through_the_file_owner_hook(web, make_plugin):
    make_plugin("desk", plugin='''
        from sqlalchemy import Boolean, ForeignKey, String, select
        from sqlalchemy.orm import Mapped, mapped_column
        from starlette.routing import Route

        from fuwu.attachments import FileOwner
        from fuwu.db import Model
        from fuwu.web.attachment_panel import record_panel
        from fuwu.web.endpoint import AUTHENTICATED, requires

        class Ticket(Model):
            __tablename__ = "test_desk_ticket"
            owner_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
            title: Mapped[str] = mapped_column(String(50))
            closed: Mapped[bool] = mapped_column(Boolean, default=False)

        def visible(request, ticket_id):
            user = request.state.user
            ticket = request.state.db.get(Ticket, ticket_id)
            return ticket if ticket is not None and (ticket.owner_id == user.id or user.can("core.customer.edit")) else None

        @requires(AUTHENTICATED)
        def ticket_page(request):
            ticket = visible(request, request.path_params["ticket_id"])
            return request.app.state.templates.render(request, "core/attachments/panel.html",
                                                      {"files": record_panel(request, ticket)})

        @hookimpl
        def register_routes():
            return [Route("/{ticket_id:int}", ticket_page, name="ticket")]

        @hookimpl
        def register_file_owners():
            return [FileOwner(model=Ticket, visible=visible, url=lambda request, t: f"/desk/{t.id}",
                              may_attach=lambda request, t: not t.closed, hint="Screenshots of the error")]
    ''')
    site, app, browser = web(["desk"], demo=False, users=USERS)
    from fuwu_test_desk.plugin import Ticket

    Ticket.__table__.create(site.db.engine)  # what the plugin's migration would make

    def add_ticket(s):
        from fuwu.models import Staff

        ticket = Ticket(owner_id=s.scalar(select(Staff.id).filter_by(username="eng")), title="登录报错")
        s.add(ticket)
        s.flush()
        return ticket.id

    tid = site.db.run(add_ticket)
    eng, rep, north = browser("eng"), browser("rep"), browser("north")
    assert "Screenshots of the error" in eng.get(f"/desk/{tid}").text
    sent = eng.submit(f"/records/test_desk_ticket/{tid}/files", {"description": "报错界面"},
                      files={"file": ("报错.png", PNG, "image/png")})
    assert sent.status_code == 303 and sent.headers["location"] == f"/desk/{tid}#files"
    [file_id] = [int(i) for i in re.findall(r'href="/files/(\d+)"', eng.get(f"/desk/{tid}").text)]
    assert rep.get(f"/files/{file_id}").content == PNG  # who edits customers sees every ticket here
    assert north.get(f"/files/{file_id}").status_code == 404
    assert north.submit(f"/records/test_desk_ticket/{tid}/files",
                        files={"file": ("x.png", PNG, "image/png")}).status_code == 404
    # the plugin gave no page to show a refusal on: the error page says why, in the reader's language
    refused = eng.submit(f"/records/test_desk_ticket/{tid}/files", headers={"Accept-Language": "zh-CN"},
                         files={"file": ("x.png", PDF, "image/png")})
    assert refused.status_code == 422 and "文件内容与其扩展名（.png）不符" in refused.text
    # the ticket's files are not the customer's: they are in no customer's list or search
    assert "报错.png" not in rep.get("/search", params={"q": "报错"}).text

    site.db.run(lambda s: setattr(s.get(Ticket, tid), "closed", True))
    assert eng.submit(f"/records/test_desk_ticket/{tid}/files",
                      files={"file": ("y.png", PNG, "image/png")}).status_code == 403
    assert eng.submit(f"/files/{file_id}/delete").status_code == 403
    # a ticket deleted through the ORM takes its files along
    site.db.run(lambda s: s.delete(s.get(Ticket, tid)))
    assert _files(site) == []


def test_two_plugins_declaring_files_for_one_table_stop_start_up(make_site, make_plugin):
    for name in ("deska", "deskb"):
        make_plugin(name, plugin='''
            from fuwu.attachments import FileOwner
            from fuwu.models import Customer

            @hookimpl
            def register_file_owners():
                return [FileOwner(model=Customer, visible=lambda request, i: None, url=lambda request, c: "/")]
        ''')
    with pytest.raises(ConfigError, match="Files of customer are declared twice"):
        create_app(make_site(["deska", "deskb"]))
