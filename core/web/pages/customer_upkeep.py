"""Keeping the customer list clean: customers named like the one being
typed (so nobody enters one twice), merging one entered twice anyway, and
handing a salesperson's or a department's customers to someone else."""

from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy import case, func, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ... import customer_merge, timeline
from ...db import check_version
from ...errors import NotFound
from ...i18n import N_, ngettext
from ...i18n import gettext as _
from ...i18n import lazy_gettext as _l
from ...models import Customer, Department, Staff
from .. import lookups, scope
from ..deletion import uses_named
from ..endpoint import requires
from ..forms import Field, Form, record_id, search_text
from ..shell import flash_redirect
from .customers import filtered_query, linked_filters, visible_customer


#: what many company names end with, left out when looking for a name like another
LEGAL_FORMS = ("股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "股份公司", "集团", "公司", "厂")
#: similar names shown while a customer's name is typed
SIMILAR = 5


def name_core(name: str) -> str:
    """The distinctive part of a company name: "杭州恒通电子科技有限公司" -> "杭州恒通电子科技"."""
    core = name.strip()
    for form in LEGAL_FORMS:
        if core.endswith(form):
            return core[: -len(form)].strip()
    return core


@requires("core.customer.view")
def customer_similar(request: Request) -> Response:
    """While a new customer's name is typed (htmx): the customers whose names
    are like it, so nobody enters a customer twice. Those the reader may not
    see are only counted, never named."""
    params = request.query_params
    core = name_core(search_text(params, "name"))
    visible, hidden = [], 0
    if len(core) >= 2:
        db = request.state.db
        like = Customer.name.icontains(core, autoescape=True)  # a "%" typed is a percent sign
        own = record_id(params.get("exclude"))
        if own:
            like = like & (Customer.id != own)
        visible = db.execute(select(Customer.id, Customer.name).where(like, scope.customers(request.state.user))
                             .order_by(Customer.name).limit(SIMILAR)).all()
        # counted as all minus the visible: NOT of a record rule is unknown where its columns are empty
        total, seen = db.execute(select(func.count(), func.count(case((scope.customers(request.state.user), 1))))
                                 .select_from(Customer).where(like)).one()
        hidden = total - seen
    return request.app.state.templates.render(request, "core/customers/similar.html",
                                              {"similar": visible, "hidden": hidden})


#: most customers one reassignment moves: each gets an audit row and a history entry
REASSIGN_MAX = 2000


def reassign_form(db) -> Form:
    return Form([
        Field("to_sales", _l("New salesperson"), kind="choice",
              choices=lambda: db.execute(select(Staff.id, Staff.name).where(Staff.active.is_(True))
                                         .order_by(Staff.name)).all()),
        Field("to_department", _l("New responsible department"), kind="choice",
              choices=lambda: db.execute(select(Department.id, Department.name).order_by(Department.name)).all()),
    ])


@requires("core.customer.edit")
def customer_reassign(request: Request) -> Response:
    """Hand the customers of a salesperson who leaves, or of a department that
    is reorganised, to someone else at once: the customers the list shows
    with its ``sales`` or ``department`` filter (and any others), as many as
    the reader may see and at most ``REASSIGN_MAX``."""
    db = request.state.db
    query, values = filtered_query(request)
    if not {"sales", "department"} & set(values):
        raise NotFound()  # only from a salesperson's or a department's customers
    customers = db.scalars(query.order_by(Customer.name, Customer.id).limit(REASSIGN_MAX + 1), values).all()
    form = reassign_form(db)
    if request.method == "POST":
        form.load(request.state.form)
        if not form.errors and not (form.values["to_sales"] or form.values["to_department"]):
            form.error("to_sales", _l("Choose a new salesperson, a new department or both."))
        if not customers:
            form.error("to_sales", _l("No customers match any more."))
        if len(customers) > REASSIGN_MAX:
            form.error("to_sales", _l("More than %(n)s customers match: narrow the list first.", n=REASSIGN_MAX))
        if not form.errors:
            moved = _reassign(db, customers, form.values, request.state.user.name)
            target = {"sales": form.values["to_sales"]} if form.values["to_sales"] else {
                "department": form.values["to_department"]}
            return flash_redirect(request, request.url_for("customers").path + "?" + urlencode(target),
                                  ngettext("%(num)d customer reassigned.", "%(num)d customers reassigned.", moved))
    return request.app.state.templates.render(
        request, "core/customers/reassign.html",
        {"form": form, "customers": customers[:REASSIGN_MAX], "too_many": len(customers) > REASSIGN_MAX,
         "chips": linked_filters(request, values), "title": _("Reassign customers")},
        status=422 if form.errors else 200)


def _reassign(db, customers: list[Customer], values: dict, by: str) -> int:
    """Move ``customers``; each change is audited and written into the customer's history."""
    sales = db.get(Staff, int(values["to_sales"])) if values["to_sales"] else None
    department = db.get(Department, int(values["to_department"])) if values["to_department"] else None
    moved = 0
    for customer in customers:
        changed = False
        if sales is not None and customer.sales_staff_id != sales.id:
            customer.sales_staff_id = sales.id
            timeline.append(db, customer.id, N_("Salesperson changed to %(name)s by %(staff)s"), kind="reassigned",
                            name=sales.name, staff=by)
            changed = True
        if department is not None and customer.department_id != department.id:
            customer.department_id = department.id
            timeline.append(db, customer.id, N_("Responsible department changed to %(name)s by %(staff)s"),
                            kind="reassigned", name=department.name, staff=by)
            changed = True
        moved += changed
    return moved


def merge_form(request: Request) -> Form:
    return Form([Field("duplicate", _l("Customer entered twice"), kind="record", required=True,
                       lookup=lookups.customers(request),
                       help=_l("Its contacts, contracts, history and every other record move to this customer, "
                               "then it is deleted."))])


@requires("core.customer.merge")
def customer_merge_page(request: Request) -> Response:
    """Merge a customer entered twice into this one: first what would move
    (a POST without ``confirm``), then the merge."""
    db = request.state.db
    keep = visible_customer(request, request.path_params["customer_id"])
    form = merge_form(request)
    duplicate, moved = None, []
    if request.method == "POST":
        form.load(request.state.form)
        if not form.errors:
            duplicate = visible_customer(request, int(form.values["duplicate"]))
            if duplicate.id == keep.id:
                form.error("duplicate", _l("Choose another customer than this one."))
                duplicate = None
        if duplicate is not None and request.state.form.get("confirm"):
            check_version(keep, request.state.form.get("version"))
            name = duplicate.name
            customer_merge.merge(db, keep, duplicate, by=request.state.user.name)
            return flash_redirect(request, request.url_for("customer", customer_id=keep.id).path,
                                  _("%(name)s was merged into this customer.", name=name))
        if duplicate is not None:
            moved = uses_named(request, duplicate, owned_too=True)
    return request.app.state.templates.render(
        request, "core/customers/merge.html",
        {"form": form, "customer": keep, "duplicate": duplicate, "moved": moved,
         "title": _("Merge a duplicate into %(name)s", name=keep.name)},
        status=422 if form.errors else 200)


def routes() -> list:
    return [
        Route("/customers/similar", customer_similar, name="customer_similar"),
        Route("/customers/reassign", customer_reassign, methods=["GET", "POST"], name="customer_reassign"),
        Route("/customers/{customer_id:int}/merge", customer_merge_page, methods=["GET", "POST"],
              name="customer_merge"),
    ]
