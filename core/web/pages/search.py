"""Search everything (the box at the top of every page): customers, their
contacts and files, contracts, software products and staff by name, number or phone,
then whatever the enabled plugins find (``search_results``), each kind as a
section of a few hits with a link to its list for the rest.

Each section asks only for what the reader may see, one query apiece.
"""

from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy import or_, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...attachments import Attachment
from ...i18n import gettext as _
from ...models import Contact, Contract, Customer, Department, Product, Staff
from .. import scope
from ..endpoint import AUTHENTICATED, requires
from ..forms import search_text
from ..ui import SEARCH_HITS, SearchHit, SearchSection


def _more(request: Request, route: str, text: str) -> str:
    return request.app.state.templates.path_for(request, route) + "?" + urlencode({"q": text})


def _customers(request: Request, text: str) -> list[SearchSection]:
    db, user, like = request.state.db, request.state.user, f"%{text}%"
    if not user.can("core.customer.view"):
        return []
    customers = db.execute(
        select(Customer.id, Customer.name, Customer.region, Customer.phone)
        .where(scope.customers(user), or_(Customer.name.ilike(like), Customer.phone.ilike(like),
                                          Customer.address.ilike(like)))
        .order_by(Customer.name).limit(SEARCH_HITS + 1)).all()
    contacts = db.execute(
        select(Contact.name, Contact.phone, Contact.email, Customer.id, Customer.name.label("customer"))
        .join(Customer, Customer.id == Contact.customer_id)
        .where(scope.customers(user), or_(Contact.name.ilike(like), Contact.phone.ilike(like),
                                          Contact.email.ilike(like)))
        .order_by(Contact.name, Contact.id).limit(SEARCH_HITS + 1)).all()
    prefix = request.app.state.templates.path_prefix(request, "customer")
    return [
        SearchSection.of(_("Customers"), [SearchHit.of(c.name, f"{prefix}{c.id}", c.region, c.phone)
                                          for c in customers],
                         more_url=_more(request, "customers", text), order=10),
        # a contact has no list of its own: the first few, on their customers' pages
        SearchSection.of(_("Contacts"), [SearchHit.of(c.name, f"{prefix}{c.id}", c.customer, c.phone, c.email)
                                         for c in contacts], order=20),
    ]


def _contracts(request: Request, text: str) -> list[SearchSection]:
    db, user, like = request.state.db, request.state.user, f"%{text}%"
    if not user.can("core.contract.view"):
        return []
    rows = db.execute(
        select(Contract.id, Contract.number, Customer.name.label("customer"))
        .join(Customer, Customer.id == Contract.customer_id)
        .where(scope.contracts(user), or_(Contract.number.ilike(like), Contract.service_level.ilike(like)))
        .order_by(Contract.number).limit(SEARCH_HITS + 1)).all()
    prefix = request.app.state.templates.path_prefix(request, "contract")
    return [SearchSection.of(_("Contracts"), [SearchHit(r.number, f"{prefix}{r.id}", r.customer) for r in rows],
                             more_url=_more(request, "contracts", text), order=30)]


def _files(request: Request, text: str) -> list[SearchSection]:
    """Files by name or description, on their customer's or contract's page."""
    db, user, like = request.state.db, request.state.user, f"%{text}%"
    if not user.can("core.customer.view"):
        return []
    rows = db.execute(
        select(Attachment.file_name, Attachment.description, Attachment.contract_id, Customer.id,
               Customer.name.label("customer"))
        .join(Customer, Customer.id == Attachment.customer_id)
        .where(scope.customers(user), or_(Attachment.file_name.ilike(like), Attachment.description.ilike(like)))
        .order_by(Attachment.id.desc()).limit(SEARCH_HITS + 1)).all()
    customer = request.app.state.templates.path_prefix(request, "customer")
    contract = request.app.state.templates.path_prefix(request, "contract")
    # a file has no list of its own: the newest few, on the pages that show them
    return [SearchSection.of(_("Files"), [
        SearchHit.of(r.file_name, f"{contract}{r.contract_id}#files" if r.contract_id else f"{customer}{r.id}#files",
                     r.customer, r.description) for r in rows], order=25)]


def _staff(request: Request, text: str) -> list[SearchSection]:
    db, user, like = request.state.db, request.state.user, f"%{text}%"
    if not user.can("core.staff.view"):
        return []
    rows = db.execute(
        select(Staff.id, Staff.name, Staff.code, Staff.phone, Department.name.label("department"))
        .outerjoin(Department, Department.id == Staff.department_id)
        .where(or_(Staff.name.ilike(like), Staff.code.ilike(like), Staff.username.ilike(like),
                   Staff.phone.ilike(like), Staff.email.ilike(like)))
        .order_by(Staff.active.desc(), Staff.name, Staff.id).limit(SEARCH_HITS + 1)).all()
    prefix = request.app.state.templates.path_prefix(request, "staff_detail")
    return [SearchSection.of(_("Staff"), [SearchHit.of(r.name, f"{prefix}{r.id}", r.code, r.department, r.phone)
                                          for r in rows],
                             more_url=_more(request, "staff", text), order=40)]


def _products(request: Request, text: str) -> list[SearchSection]:
    """Software products by code or name, leading to the customers who bought one."""
    db, user, like = request.state.db, request.state.user, f"%{text}%"
    if not user.can("core.customer.view"):
        return []
    rows = db.execute(select(Product.id, Product.code, Product.name)
                      .where(or_(Product.code.ilike(like), Product.name.ilike(like)))
                      .order_by(Product.name, Product.id).limit(SEARCH_HITS + 1)).all()
    customers = request.app.state.templates.path_for(request, "customers")
    return [SearchSection.of(_("Software products"),
                             [SearchHit(r.name, f"{customers}?product={r.id}", r.code) for r in rows],
                             more_url=_more(request, "products", text), order=35)]


@requires(AUTHENTICATED)
def search_page(request: Request) -> Response:
    text = search_text(request.query_params)
    sections: list[SearchSection] = []
    if text:
        sections = (_customers(request, text) + _files(request, text) + _contracts(request, text)
                    + _products(request, text) + _staff(request, text))
        sections += request.app.state.site.plugins.collect("search_results", request=request, text=text)
        sections = sorted((s for s in sections if s.hits), key=lambda s: s.order)
    return request.app.state.templates.render(
        request, "core/search.html",
        {"text": text, "sections": sections, "title": _("Search") if not text else _("Search: %(text)s", text=text)},
        fragment="results")


def routes() -> list:
    return [Route("/search", search_page, name="search")]
