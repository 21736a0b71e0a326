"""Contracts (CORE-4): list with search/filter/sort/keyset pages/export, detail, create/edit.

A contract is visible only when its customer is (record rules join the
customer), so an id in the URL of someone else's contract is "not found".
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Date, func, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, selectinload
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ... import timeline
from ...errors import NotFound
from ...i18n import N_, listed
from ...i18n import gettext as _
from ...i18n import lazy_gettext as _l
from ...models import CONTRACT_KINDS, Contract, Customer, Product, Staff
from ...models.contract import contract_product
from .. import lookups, scope
from ..attachment_panel import panel
from ..endpoint import requires
from ..export import MAX_ROWS, export_response
from ..forms import Field, Form, record_id, search_text, taken
from ..pagination import keyset_page
from ..shell import flash_redirect

#: sales contracts have no end date; they sort after every dated one
_NO_END = literal(date(9999, 12, 31), Date)

SORTS = {
    "number": Contract.number,
    "customer": Customer.name,
    "signed": Contract.signed_on,
    "ends": func.coalesce(Contract.ends_on, _NO_END),
    "amount": Contract.amount,
}

#: the "expiring within" filter offers these; any whole number 1..3650 works in the URL
EXPIRING_CHOICES = (30, 60, 90, 180)


def warranty(contract: Contract, today: date) -> str | None:
    """``"in"`` / ``"out"`` for a service contract on ``today``; None for a sales contract."""
    if contract.kind != "service":
        return None
    valid = (contract.starts_on is not None and contract.ends_on is not None
             and contract.starts_on <= today <= contract.ends_on)
    return "in" if valid else "out"


def _cached(load):
    """A choices callable that queries once per form, however often it is asked."""
    box: list = []

    def choices():
        if not box:
            box.append(list(load()))
        return box[0]

    return choices


def contract_form(request: Request, contract: Contract | None = None) -> Form:
    db = request.state.db
    # someone who has left still shows as the signer of their old contracts
    signer = or_(Staff.active.is_(True), Staff.id == contract.signed_by_id) if contract else Staff.active.is_(True)
    return Form([
        Field("number", _l("Contract number"), kind="code", required=True, max_length=60),
        Field("kind", _l("Kind"), kind="choice", required=True, choices=lambda: list(CONTRACT_KINDS.items())),
        Field("customer_id", _l("Customer"), kind="record", required=True, lookup=lookups.customers(request)),
        Field("products", _l("Software"), kind="multi",
              choices=_cached(lambda: db.execute(select(Product.id, Product.name).order_by(Product.name)).all())),
        Field("signed_on", _l("Signed on"), kind="date", required=True),
        Field("installed_on", _l("Installed on"), kind="date",
              help=_l("Leave empty until the software is installed.")),
        Field("starts_on", _l("Service starts on"), kind="date"),
        Field("ends_on", _l("Service ends on"), kind="date"),
        Field("amount", _l("Amount (yuan)"), kind="money", required=True),
        Field("service_level", _l("Service level"), max_length=40),
        Field("signed_by_id", _l("Signed by"), kind="choice",
              choices=_cached(lambda: db.execute(select(Staff.id, Staff.name).where(signer)
                                                 .order_by(Staff.name)).all())),
        Field("notes", _l("Notes"), kind="textarea"),
    ])


def visible_contract(request: Request, contract_id: int) -> Contract:
    contract = request.state.db.scalar(
        select(Contract).join(Contract.customer)
        .where(Contract.id == contract_id, scope.contracts(request.state.user))
        .options(contains_eager(Contract.customer), selectinload(Contract.products)))
    if contract is None:
        raise NotFound()
    return contract


def _positive_int(value, upper: int) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= upper else None


def filtered_query(request: Request, *columns):
    """Visible contracts matching the list's filters (customer eager-loaded)."""
    params = request.query_params
    today = request.app.state.site.day_of()
    query = (select(Contract, *columns).join(Contract.customer)
             .where(scope.contracts(request.state.user))
             .options(contains_eager(Contract.customer), selectinload(Contract.products)))
    q = search_text(params)
    if q:
        like = f"%{q}%"
        query = query.where(or_(Contract.number.ilike(like), Customer.name.ilike(like)))
    customer = params.get("customer", "").strip()
    if customer:
        query = query.where(Customer.name.ilike(f"%{customer}%"))
    customer_id = record_id(params.get("customer_id"))
    if customer_id:
        query = query.where(Contract.customer_id == customer_id)
    product_id = record_id(params.get("product"))
    if product_id:  # the contracts covering it: the product list links here
        query = query.where(Contract.id.in_(select(contract_product.c.contract_id)
                                            .where(contract_product.c.product_id == product_id)))
    if params.get("kind") in CONTRACT_KINDS:
        query = query.where(Contract.kind == params["kind"])
    days = _positive_int(params.get("expiring"), 3650)
    if days:
        query = query.where(Contract.ends_on >= today, Contract.ends_on <= today + timedelta(days=days))
    if params.get("expired"):
        query = query.where(Contract.ends_on < today)
    return query


def _status_label(state: str | None) -> str:
    if state == "in":
        return _("In warranty")
    if state == "out":
        return _("Out of warranty")
    return ""


@requires("core.contract.view")
def contract_list(request: Request) -> Response:
    db = request.state.db
    site = request.app.state.site
    params = request.query_params
    today = request.app.state.site.day_of()
    sort = params.get("sort", "-signed")
    if sort.lstrip("-") not in SORTS:
        sort = "-signed"
    sort_key = SORTS[sort.lstrip("-")].label("sort_key")
    descending = sort.startswith("-")
    if params.get("format") in ("csv", "xlsx"):
        order = (sort_key.desc(), Contract.id.desc()) if descending else (sort_key.asc(), Contract.id.asc())
        rows = db.execute(filtered_query(request, sort_key).order_by(*order).limit(MAX_ROWS)).scalars()
        return export_response(
            params["format"], _("Contracts"),
            [_("Contract number"), _("Kind"), _("Customer"), _("Software"), _("Signed on"), _("Installed on"),
             _("Service starts on"), _("Service ends on"), _("Amount (yuan)"), _("Service level"),
             _("Warranty")],
            ([k.number, str(CONTRACT_KINDS[k.kind]), k.customer.name, listed(p.name for p in k.products),
              k.signed_on, k.installed_on, k.starts_on, k.ends_on, k.amount, k.service_level,
              _status_label(warranty(k, today))] for k in rows))
    # Rows carry the sort key and id so the cursor works for expressions
    # (customer name, open-ended end dates) as well as plain columns.
    page = keyset_page(db, filtered_query(request, sort_key, Contract.id), sort_col=sort_key, id_col=Contract.id,
                       descending=descending, after=params.get("after"), before=params.get("before"),
                       size=site.settings.get("core.page_size", db))
    product_id = record_id(params.get("product"))
    return request.app.state.templates.render(
        request, "core/contracts/list.html",
        {"page": page, "contracts": [row[0] for row in page.rows], "sort": sort, "kinds": CONTRACT_KINDS,
         "product": db.get(Product, product_id) if product_id else None,
         "today": today, "warranty": warranty, "expiring_choices": EXPIRING_CHOICES, "title": _("Contracts")},
        fragment="results")


@requires("core.contract.view")
def contract_detail(request: Request) -> Response:
    return render_contract(request, visible_contract(request, request.path_params["contract_id"]))


def render_contract(request: Request, contract: Contract, *, file_error: str = "", status: int = 200) -> Response:
    db = request.state.db
    upload_url = (request.app.state.templates.path_for(request, "contract_file_add", contract_id=contract.id)
                  if request.state.user.can("core.contract.edit") else None)
    signed_by = db.get(Staff, contract.signed_by_id) if contract.signed_by_id else None
    today = request.app.state.site.day_of()
    return request.app.state.templates.render(
        request, "core/contracts/detail.html",
        {"contract": contract, "signed_by": signed_by, "kinds": CONTRACT_KINDS, "today": today,
         "state": warranty(contract, today), "title": contract.number,
         "files": panel(request, customer_id=contract.customer_id, contract_id=contract.id,
                        upload_url=upload_url, error=file_error)},
        status=status)


def _render_edit(request: Request, form: Form, contract: Contract | None, *, status: int = 200,
                 conflict: dict | None = None) -> Response:
    return request.app.state.templates.render(
        request, "core/contracts/edit.html",
        {"form": form, "contract": contract, "conflict": conflict,
         "title": contract.number if contract else _("New contract")},
        status=status, fragment="form")


def _check(db, form: Form, own_id: int | None) -> None:
    """Rules across fields, each reported at the field to correct."""
    values = form.values
    if "number" not in form.errors:
        if taken(db, Contract, Contract.number == values["number"], other_than=own_id):
            form.error("number", _l("Another contract already has this number."))
    starts, ends = values.get("starts_on"), values.get("ends_on")
    if starts and ends and ends < starts and "ends_on" not in form.errors:
        form.error("ends_on", _l("The service cannot end before it starts."))
    if values.get("kind") == "service":
        for name in ("starts_on", "ends_on"):
            if name not in form.errors and values.get(name) is None:
                form.error(name, _l("A service contract needs its service period."))


def _save(form: Form, contract: Contract, products: dict[int, Product]) -> None:
    values = dict(form.values)
    wanted = [products[int(p)] for p in values.pop("products")]
    values["customer_id"] = int(values["customer_id"])
    values["signed_by_id"] = int(values["signed_by_id"]) if values["signed_by_id"] else None
    for key, value in values.items():
        setattr(contract, key, value)
    if {p.id for p in contract.products} != {p.id for p in wanted}:
        contract.products = wanted


def _flush_or_number_taken(db, form: Form) -> bool:
    """Flush in a savepoint: a number taken meanwhile by a concurrent save
    becomes a message at the field instead of an error page."""
    try:
        with db.begin_nested():
            db.flush()
    except IntegrityError:
        form.error("number", _l("Another contract already has this number."))
        return False
    return True


def _products(db, form: Form) -> dict[int, Product]:
    ids = [int(p) for p in form.values.get("products") or []]
    return {p.id: p for p in db.scalars(select(Product).where(Product.id.in_(ids)))} if ids else {}


@requires("core.contract.edit")
def contract_new(request: Request) -> Response:
    db = request.state.db
    form = contract_form(request)
    if request.method == "GET":
        # from a customer's page: that customer, when the user may see it
        form.fill(None, kind="service", signed_on=request.app.state.site.day_of(), amount=None,
                  customer_id=request.query_params.get("customer_id"), signed_by_id=request.state.user.id)
        return _render_edit(request, form, None)
    form.load(request.state.form)
    _check(db, form, None)
    if form.errors:
        return _render_edit(request, form, None, status=422)
    contract = Contract()
    _save(form, contract, _products(db, form))
    db.add(contract)
    if not _flush_or_number_taken(db, form):
        return _render_edit(request, form, None, status=422)
    timeline.append(db, contract.customer_id, N_("Contract %(number)s added by %(staff)s"), kind="contract",
                    ref=contract, number=contract.number, staff=request.state.user.name)
    return flash_redirect(request, request.url_for("contract", contract_id=contract.id).path,
                          _("Contract %(number)s created.", number=contract.number))


def _saved_values(db, contract: Contract) -> dict:
    """What is stored now, for the conflict box (names, not ids)."""
    signed_by = db.get(Staff, contract.signed_by_id) if contract.signed_by_id else None
    return {"number": contract.number, "kind": CONTRACT_KINDS.get(contract.kind, contract.kind),
            "customer": contract.customer.name, "signed_on": contract.signed_on,
            "starts_on": contract.starts_on, "ends_on": contract.ends_on, "amount": contract.amount,
            "service_level": contract.service_level, "signed_by": signed_by.name if signed_by else "",
            "products": listed(p.name for p in contract.products)}


@requires("core.contract.edit")
def contract_edit(request: Request) -> Response:
    db = request.state.db
    contract = visible_contract(request, request.path_params["contract_id"])
    form = contract_form(request, contract)
    if request.method == "GET":
        form.fill(contract, products=[p.id for p in contract.products])
        return _render_edit(request, form, contract)
    form.load(request.state.form)
    if form.outdated(contract, request.state.form):
        return _render_edit(request, form, contract, status=409, conflict=_saved_values(db, contract))
    _check(db, form, contract.id)
    if form.errors:
        return _render_edit(request, form, contract, status=422)
    _save(form, contract, _products(db, form))
    if not _flush_or_number_taken(db, form):
        return _render_edit(request, form, visible_contract(request, contract.id), status=422)
    return flash_redirect(request, request.url_for("contract", contract_id=contract.id).path, _("Changes saved."))


def routes() -> list:
    return [
        Route("/contracts", contract_list, name="contracts"),
        Route("/contracts/new", contract_new, methods=["GET", "POST"], name="contract_new"),
        Route("/contracts/{contract_id:int}", contract_detail, name="contract"),
        Route("/contracts/{contract_id:int}/edit", contract_edit, methods=["GET", "POST"], name="contract_edit"),
    ]
