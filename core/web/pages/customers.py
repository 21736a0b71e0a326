"""Customers (CORE-1): list with search/filter/sort/keyset pages/export, detail, create/edit, contacts."""

from __future__ import annotations

import functools

from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.orm import selectinload
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ... import timeline
from ...errors import NotFound
from ...first_visit import STATUSES as FIRST_VISIT_STATUSES
from ...first_visit import FirstVisitCall
from ...i18n import N_
from ...i18n import gettext as _
from ...i18n import lazy_gettext as _l
from ...models import (ACCOUNT_TYPES, Contact, Contract, Customer, CustomerProduct, Department, Product, Staff,
                      customer_regions)
from .. import lookups, scope
from ..endpoint import requires
from ..export import MAX_ROWS, export_response
from ..forms import Field, Form, record_id, search_text
from ..pagination import keyset_page
from ..shell import flash_redirect
from ..templating import is_fragment_request

SORTS = {"name": Customer.name, "region": Customer.region, "created": Customer.created_at}
#: a row of the list: plain values, not whole customers, unpacked in this order by
#: ``core/customers/list.html``, which shows the first six
LIST_COLUMNS = (Customer.id, Customer.name, Customer.account_type, Customer.region, Customer.office,
                Customer.phone)


def customer_form(db) -> Form:
    return Form([
        Field("name", _l("Company name"), required=True),
        Field("account_type", _l("Account type"), kind="choice", required=True,
              choices=lambda: [(k, v) for k, v in ACCOUNT_TYPES.items()]),
        Field("region", _l("Region"), max_length=100),
        Field("office", _l("Office"), max_length=100),
        Field("address", _l("Address"), max_length=300),
        Field("phone", _l("Phone"), kind="phone", max_length=40),
        Field("department_id", _l("Responsible department"), kind="choice",
              choices=lambda: [(d.id, d.name) for d in db.scalars(select(Department).order_by(Department.name))]),
        Field("sales_staff_id", _l("Salesperson"), kind="choice",
              choices=lambda: [(s.id, s.name) for s in db.scalars(
                  select(Staff).where(Staff.active.is_(True)).order_by(Staff.name))]),
        Field("products", _l("Purchased software"), kind="multi",
              choices=lambda: [(p.id, p.name) for p in db.scalars(select(Product).order_by(Product.name))]),
        Field("notes", _l("Notes"), kind="textarea"),
    ])


def contact_form() -> Form:
    return Form([
        Field("name", _l("Full name"), required=True, max_length=100),  # a person's: 姓名, not a thing's 名称
        Field("title", _l("Position"), max_length=100),
        Field("phone", _l("Phone"), kind="phone", max_length=40),
        Field("email", _l("E-mail"), kind="email"),
        Field("is_primary", _l("Primary contact"), kind="bool"),
    ])


def visible_customer(request: Request, customer_id: int) -> Customer:
    db = request.state.db
    customer = db.scalar(select(Customer).where(Customer.id == customer_id, scope.customers(request.state.user))
                         .options(selectinload(Customer.contacts), selectinload(Customer.products)))
    if customer is None:
        raise NotFound()
    return customer


def filtered_query(request: Request, *columns) -> tuple[Select, dict]:
    """The customers the user may see that match the search and filters, as
    ``select(*columns)`` (default: whole customers), and the values to bind."""
    params = request.query_params
    rule, values = scope.customer_rule(request.state.user)
    q = search_text(params)
    if q:
        values["like"] = f"%{q}%"
    if params.get("region"):
        values["region"] = params["region"]
    if params.get("account_type") in ACCOUNT_TYPES:
        values["account_type"] = params["account_type"]
    if record_id(params.get("product")):
        values["product"] = record_id(params["product"])
    return _prepared_query(columns or (Customer,), rule, bool(q), "region" in values, "account_type" in values,
                           "product" in values), values


@functools.lru_cache(maxsize=128)
def _prepared_query(columns: tuple, rule: str, search: bool, region: bool, account_type: bool,
                    product: bool = False) -> Select:
    """The list's statement for one combination of filters, built once."""
    query = select(*columns)
    if scope.CUSTOMER_RULES[rule] is not None:
        query = query.where(scope.CUSTOMER_RULES[rule])
    if search:
        like = bindparam("like")
        query = query.where(or_(Customer.name.ilike(like), Customer.address.ilike(like),
                                Customer.phone.ilike(like), Customer.region.ilike(like)))
    if region:
        query = query.where(Customer.region == bindparam("region"))
    if account_type:
        query = query.where(Customer.account_type == bindparam("account_type"))
    if product:  # who bought it: the product list links here
        query = query.where(Customer.id.in_(select(CustomerProduct.customer_id)
                                            .where(CustomerProduct.product_id == bindparam("product"))))
    return query


@requires("core.customer.view")
def customer_list(request: Request) -> Response:
    db = request.state.db
    site = request.app.state.site
    params = request.query_params
    sort = params.get("sort", "name")
    column = SORTS.get(sort.lstrip("-"), Customer.name)
    if params.get("format") in ("csv", "xlsx"):
        query, values = filtered_query(request)
        rows = db.scalars(query.order_by(column, Customer.id).limit(MAX_ROWS), values)
        return export_response(params["format"], _("Customers"),
                               [_("Company name"), _("Account type"), _("Region"), _("Office"), _("Address"),
                                _("Phone")],
                               ([c.name, str(ACCOUNT_TYPES[c.account_type]), c.region, c.office, c.address, c.phone]
                                for c in rows))
    # the sort key is in each row (for the cursor); compared by identity, as ``==`` on a column builds SQL
    shown = LIST_COLUMNS if any(column is c for c in LIST_COLUMNS) else (*LIST_COLUMNS, column)
    query, values = filtered_query(request, *shown)
    page = keyset_page(db, query, params=values, sort_col=column, id_col=Customer.id,
                       descending=sort.startswith("-"),
                       after=params.get("after"), before=params.get("before"),
                       size=site.settings.get("core.page_size", db))
    regions = [] if is_fragment_request(request) else customer_regions(db)
    # named above the list so the filter can be seen and taken off; none without it
    product = db.get(Product, values["product"]) if "product" in values else None
    return request.app.state.templates.render(
        request, "core/customers/list.html",
        {"page": page, "sort": sort, "regions": regions, "account_types": ACCOUNT_TYPES, "product": product,
         "title": _("Customers")},
        fragment="results")


#: longest note a person may add to a customer's service history
NOTE_LENGTH = 2000


def note_form() -> Form:
    return Form([Field("text", _l("Note"), kind="textarea", required=True,
                       help=_l("A call, a visit, what was agreed: it goes into the service history with your name."))])


@requires("core.customer.view")
def customer_detail(request: Request) -> Response:
    return render_detail(request, visible_customer(request, request.path_params["customer_id"]))


def render_detail(request: Request, customer: Customer, *, note: Form | None = None, status: int = 200) -> Response:
    db = request.state.db
    contracts = db.scalars(select(Contract).where(Contract.customer_id == customer.id)
                           .order_by(Contract.signed_on.desc())).all()
    panels = request.app.state.site.plugins.collect("customer_panels", request=request, customer=customer)
    history = timeline.history(db, customer.id, before_id=record_id(request.query_params.get("before")))
    product_names = {cp.product_id: cp.product.name for cp in customer.products}
    first_visit = db.scalar(select(FirstVisitCall).where(FirstVisitCall.customer_id == customer.id))
    return request.app.state.templates.render(
        request, "core/customers/detail.html",
        {"customer": customer, "contracts": contracts, "panels": sorted(panels, key=lambda p: p.order),
         "history": history, "account_types": ACCOUNT_TYPES, "product_names": product_names,
         "contact_form": contact_form(), "note_form": note or note_form(), "title": customer.name,
         "first_visit": first_visit,
         "first_visit_statuses": FIRST_VISIT_STATUSES,
         # timeline entries translate themselves; Jinja's ``_`` only works inside templates
         "gettext_plain": _},
        fragment="timeline" if request.query_params.get("before") else None, status=status)


@requires("core.customer.view")
def customer_note(request: Request) -> Response:
    """Anyone who sees the customer may write what happened into its service
    history (an engineer who may not change the customer's record too)."""
    customer = visible_customer(request, request.path_params["customer_id"])
    form = note_form()
    if form.load(request.state.form) and len(form.values["text"]) > NOTE_LENGTH:  # a textarea has no limit of its own
        form.error("text", _l("At most %(n)s characters.", n=NOTE_LENGTH))
    if form.errors:
        return render_detail(request, customer, note=form, status=422)
    timeline.append(request.state.db, customer.id, N_("%(staff)s noted: %(text)s"), kind="staff_note",
                    staff=request.state.user.name, text=form.values["text"])
    return flash_redirect(request, request.url_for("customer", customer_id=customer.id).path + "#timeline",
                          _("Note added to the service history."))


def _render_edit(request: Request, form: Form, customer: Customer | None, *, status: int = 200,
                 conflict: Customer | None = None) -> Response:
    return request.app.state.templates.render(
        request, "core/customers/edit.html",
        {"form": form, "customer": customer, "conflict": conflict, "account_types": ACCOUNT_TYPES,
         "title": customer.name if customer else _("New customer")},
        status=status, fragment="form")


def _save(request: Request, form: Form, customer: Customer) -> None:
    values = dict(form.values)
    product_ids = {int(p) for p in values.pop("products")}
    for key in ("department_id", "sales_staff_id"):
        values[key] = int(values[key]) if values[key] else None
    for key, value in values.items():
        setattr(customer, key, value)
    have = {cp.product_id: cp for cp in customer.products}
    for product_id, link in have.items():
        if product_id not in product_ids:
            customer.products.remove(link)
    for product_id in product_ids - set(have):
        customer.products.append(CustomerProduct(product_id=product_id))


def _name_taken(db, name: str, own_id: int | None) -> bool:
    query = select(Customer.id).where(Customer.name == name)
    if own_id:
        query = query.where(Customer.id != own_id)
    return db.scalar(query) is not None


@requires("core.customer.edit")
def customer_new(request: Request) -> Response:
    db = request.state.db
    form = customer_form(db)
    if request.method == "GET":
        form.fill(None, account_type="retail", department_id=request.state.user.department_id)
        return _render_edit(request, form, None)
    if form.load(request.state.form) and _name_taken(db, form.values["name"], None):
        form.error("name", _l("A customer with this name already exists."))
    if form.errors:
        return _render_edit(request, form, None, status=422)
    customer = Customer()
    _save(request, form, customer)
    db.add(customer)
    db.flush()
    timeline.append(db, customer.id, N_("Customer record created by %(staff)s"), kind="created",
                    staff=request.state.user.name)
    return flash_redirect(request, request.url_for("customer", customer_id=customer.id).path,
                          _("Customer %(name)s created.", name=customer.name))


@requires("core.customer.edit")
def customer_edit(request: Request) -> Response:
    db = request.state.db
    customer = visible_customer(request, request.path_params["customer_id"])
    form = customer_form(db)
    if request.method == "GET":
        form.fill(customer, products=[cp.product_id for cp in customer.products])
        return _render_edit(request, form, customer)
    form.load(request.state.form)
    if form.outdated(customer, request.state.form):
        return _render_edit(request, form, customer, status=409, conflict=customer)
    if not form.errors and _name_taken(db, form.values["name"], customer.id):
        form.error("name", _l("A customer with this name already exists."))
    if form.errors:
        return _render_edit(request, form, customer, status=422)
    _save(request, form, customer)
    return flash_redirect(request, request.url_for("customer", customer_id=customer.id).path, _("Changes saved."))


@requires("core.customer.view")
def customer_search(request: Request) -> Response:
    """As-you-type search (htmx): the first matches as a list of links."""
    q = search_text(request.query_params)
    rows = []
    if q:
        query, values = filtered_query(request)
        rows = request.state.db.scalars(query.order_by(Customer.name).limit(10), values).all()
    return request.app.state.templates.render(request, "core/customers/search.html", {"rows": rows, "q": q})


@requires("core.customer.view")
def customer_suggest(request: Request) -> Response:
    """The ``<option>``s of a customer field's ``<datalist>`` (``fuwu.web.lookups``):
    the field named by ``for`` sends what is typed under its own name."""
    params = request.query_params
    typed = params.get(params.get("for") or "q", "").strip()[:200]
    return request.app.state.templates.render(request, "core/customers/suggest.html",
                                              {"names": lookups.customer_names(request, typed)})


@requires("core.customer.edit")
def contact_add(request: Request) -> Response:
    db = request.state.db
    customer = visible_customer(request, request.path_params["customer_id"])
    form = contact_form()
    if not form.load(request.state.form):
        return request.app.state.templates.render(
            request, "core/customers/contact_form.html", {"customer": customer, "contact_form": form}, status=422)
    contact = Contact(customer=customer, **form.values)
    if contact.is_primary:
        for other in customer.contacts:
            other.is_primary = False
    db.add(contact)
    timeline.append(db, customer.id, N_("Contact %(name)s added"), kind="contact", name=contact.name)
    return flash_redirect(request, request.url_for("customer", customer_id=customer.id).path,
                          _("Contact %(name)s added.", name=contact.name))


def visible_contact(request: Request) -> tuple[Customer, Contact]:
    """The contact named in the URL, of a customer the user may see (404 otherwise)."""
    customer = visible_customer(request, request.path_params["customer_id"])
    contact = next((c for c in customer.contacts if c.id == request.path_params["contact_id"]), None)
    if contact is None:
        raise NotFound()
    return customer, contact


def _render_contact(request: Request, form: Form, customer: Customer, contact: Contact, *, status: int = 200,
                    conflict: Contact | None = None) -> Response:
    return request.app.state.templates.render(
        request, "core/customers/contact_edit.html",
        {"form": form, "customer": customer, "contact": contact, "conflict": conflict,
         "title": _("Contact %(name)s", name=contact.name)},
        status=status, fragment="form")


@requires("core.customer.edit")
def contact_edit(request: Request) -> Response:
    """Correct a contact's name, position, phone or e-mail, or make them the
    primary contact: the record (and links issued to it) stays the same."""
    db = request.state.db
    customer, contact = visible_contact(request)
    form = contact_form()
    if request.method == "GET":
        return _render_contact(request, form.fill(contact), customer, contact)
    form.load(request.state.form)
    if form.outdated(contact, request.state.form):
        return _render_contact(request, form, customer, contact, status=409, conflict=contact)
    if form.errors:
        return _render_contact(request, form, customer, contact, status=422)
    form.apply(contact)
    if contact.is_primary:
        for other in customer.contacts:
            if other is not contact:
                other.is_primary = False
    if db.is_modified(contact):
        timeline.append(db, customer.id, N_("Contact %(name)s updated"), kind="contact", ref=contact,
                        name=contact.name)
    return flash_redirect(request, request.url_for("customer", customer_id=customer.id).path,
                          _("Contact %(name)s saved.", name=contact.name))


@requires("core.customer.edit")
def contact_delete(request: Request) -> Response:
    db = request.state.db
    customer, contact = visible_contact(request)
    customer.contacts.remove(contact)
    timeline.append(db, customer.id, N_("Contact %(name)s removed"), kind="contact", name=contact.name)
    db.flush()
    return flash_redirect(request, request.url_for("customer", customer_id=customer.id).path,
                          _("Contact %(name)s removed.", name=contact.name))


def routes() -> list:
    return [
        Route("/customers", customer_list, name="customers"),
        Route("/customers/search", customer_search, name="customer_search"),
        Route("/customers/suggest", customer_suggest, name="customer_suggest"),
        Route("/customers/new", customer_new, methods=["GET", "POST"], name="customer_new"),
        Route("/customers/{customer_id:int}", customer_detail, name="customer"),
        Route("/customers/{customer_id:int}/edit", customer_edit, methods=["GET", "POST"], name="customer_edit"),
        Route("/customers/{customer_id:int}/notes", customer_note, methods=["POST"], name="customer_note"),
        Route("/customers/{customer_id:int}/contacts", contact_add, methods=["POST"], name="contact_add"),
        Route("/customers/{customer_id:int}/contacts/{contact_id:int}/edit", contact_edit, methods=["GET", "POST"],
              name="contact_edit"),
        Route("/customers/{customer_id:int}/contacts/{contact_id:int}/delete", contact_delete, methods=["POST"],
              name="contact_delete"),
    ]
