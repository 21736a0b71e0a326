"""Customers (CORE-1): list with search/filter/sort/keyset pages/export,
detail with notes, create/edit. Contacts are in ``customer_contacts``;
similar names, merging and reassigning in ``customer_upkeep``."""

from __future__ import annotations

import functools

from sqlalchemy import Select, bindparam, func, or_, select
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
from ...models import (ACCOUNT_TYPES, Contract, Customer, CustomerProduct, Department, Product, Staff,
                      customer_regions)
from .. import lookups, scope
from ..attachment_panel import panel
from ..endpoint import requires
from ..export import MAX_ROWS, export_response
from ..forms import Field, Form, record_id, search_text, taken
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


#: the list's filters: the name of a bound value -> the condition on it
CONDITIONS = {
    "like": lambda: or_(*(column.ilike(bindparam("like")) for column in
                          (Customer.name, Customer.address, Customer.phone, Customer.region))),
    "region": lambda: Customer.region == bindparam("region"),
    "account_type": lambda: Customer.account_type == bindparam("account_type"),
    # who bought a product, whose salesperson someone is, which department answers for them:
    # filters that come with a link (the product list, a staff or department page)
    "product": lambda: Customer.id.in_(select(CustomerProduct.customer_id)
                                       .where(CustomerProduct.product_id == bindparam("product"))),
    "sales": lambda: Customer.sales_staff_id == bindparam("sales"),
    "department": lambda: Customer.department_id == bindparam("department"),
}
#: the filters named by a record's id, shown above the list with the record's name
LINKED_FILTERS = {"product": (Product, _l("Purchased software")), "sales": (Staff, _l("Salesperson")),
                  "department": (Department, _l("Responsible department"))}


def filter_values(params) -> dict:
    """The filters of a list request, as bound values."""
    values = {}
    q = search_text(params)
    if q:
        values["like"] = f"%{q}%"
    if params.get("region"):
        values["region"] = params["region"]
    if params.get("account_type") in ACCOUNT_TYPES:
        values["account_type"] = params["account_type"]
    for name in LINKED_FILTERS:
        if record_id(params.get(name)):
            values[name] = record_id(params[name])
    return values


def filtered_query(request: Request, *columns) -> tuple[Select, dict]:
    """The customers the user may see that match the search and filters of
    the URL, as ``select(*columns)`` (default: whole customers), and the
    values to bind."""
    rule, values = scope.customer_rule(request.state.user)
    found = filter_values(request.query_params)
    return _prepared_query(columns or (Customer,), rule, frozenset(found)), {**values, **found}


@functools.lru_cache(maxsize=128)
def _prepared_query(columns: tuple, rule: str, filters: frozenset) -> Select:
    """The list's statement for one combination of filters, built once."""
    query = select(*columns)
    if scope.CUSTOMER_RULES[rule] is not None:
        query = query.where(scope.CUSTOMER_RULES[rule])
    for name in sorted(filters):
        query = query.where(CONDITIONS[name]())
    return query


def customer_count(request: Request, column, value: int) -> int | None:
    """How many of the customers the reader may see have ``column == value``
    (a department's, a salesperson's), for a link to them; None for someone
    who may not see customers."""
    user = request.state.user
    if not user.can("core.customer.view"):
        return None
    return request.state.db.scalar(select(func.count()).select_from(Customer)
                                   .where(column == value, scope.customers(user)))


def linked_filters(request: Request, values: dict) -> list[tuple[str, int, str, str]]:
    """(parameter, id, label, record's name) of each linked filter in use,
    one query per filter (none on a plain list)."""
    chips = []
    for name, (model, label) in LINKED_FILTERS.items():
        if name in values:
            record = request.state.db.get(model, values[name])
            chips.append((name, values[name], str(label), record.name if record else "#%d" % values[name]))
    return chips


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
    return request.app.state.templates.render(
        request, "core/customers/list.html",
        {"page": page, "sort": sort, "regions": regions, "account_types": ACCOUNT_TYPES,
         "chips": linked_filters(request, values), "title": _("Customers"),
         "reassignable": bool({"sales", "department"} & set(values)) and request.state.user.can("core.customer.edit")},
        fragment="results")


#: longest note a person may add to a customer's service history
NOTE_LENGTH = 2000


def note_form() -> Form:
    return Form([Field("text", _l("Note"), kind="textarea", required=True,
                       help=_l("A call, a visit, what was agreed: it goes into the service history with your name."))])


@requires("core.customer.view")
def customer_detail(request: Request) -> Response:
    return render_detail(request, visible_customer(request, request.path_params["customer_id"]))


def render_detail(request: Request, customer: Customer, *, note: Form | None = None, file_error: str = "",
                  status: int = 200) -> Response:
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
         "files": panel(request, customer_id=customer.id,
                        upload_url=request.app.state.templates.path_for(
                            request, "customer_file_add", customer_id=customer.id),
                        error=file_error),
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


@requires("core.customer.edit")
def customer_new(request: Request) -> Response:
    db = request.state.db
    form = customer_form(db)
    if request.method == "GET":
        form.fill(None, account_type="retail", department_id=request.state.user.department_id)
        return _render_edit(request, form, None)
    if form.load(request.state.form) and taken(db, Customer, Customer.name == form.values["name"]):
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
    if not form.errors and taken(db, Customer, Customer.name == form.values["name"], other_than=customer.id):
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


def routes() -> list:
    return [
        Route("/customers", customer_list, name="customers"),
        Route("/customers/search", customer_search, name="customer_search"),
        Route("/customers/suggest", customer_suggest, name="customer_suggest"),
        Route("/customers/new", customer_new, methods=["GET", "POST"], name="customer_new"),
        Route("/customers/{customer_id:int}", customer_detail, name="customer"),
        Route("/customers/{customer_id:int}/edit", customer_edit, methods=["GET", "POST"], name="customer_edit"),
        Route("/customers/{customer_id:int}/notes", customer_note, methods=["POST"], name="customer_note"),
    ]
