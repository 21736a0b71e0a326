"""Software products: the company's product list, which customers' purchased
software, contracts' software and installed-base keys are chosen from.

Everyone who sees customers reads it; ``core.product.edit`` adds, renames
and deletes. A product is deleted only while no customer, contract or
plugin record names it (``fuwu.web.deletion``).
"""

from __future__ import annotations

from sqlalchemy import func, or_, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...errors import NotFound
from ...i18n import gettext as _
from ...i18n import lazy_gettext as _l
from ...models import Contract, Customer, CustomerProduct, Product
from ...models.contract import contract_product
from .. import scope
from ..deletion import delete_unused
from ..endpoint import requires
from ..export import MAX_ROWS, export_response
from ..forms import Field, Form, search_text, taken
from ..pagination import keyset_page
from ..shell import flash_redirect

SORTS = {"code": Product.code, "name": Product.name}


def product_form() -> Form:
    return Form([
        Field("code", _l("Product code"), kind="code", required=True, max_length=40,
                help=_l("A short code that does not change, e.g. ERP-PRO.")),
        Field("name", _l("Product name"), required=True, max_length=200),
    ])


def _filtered(request: Request):
    query = select(Product)
    q = search_text(request.query_params)
    if q:
        query = query.where(or_(Product.code.ilike(f"%{q}%"), Product.name.ilike(f"%{q}%")))
    return query


def _usage(request: Request, product_ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """How many of the customers and contracts the reader may see have each
    product: two grouped counts for the whole page."""
    if not product_ids:
        return {}, {}
    db, rule = request.state.db, scope.customers(request.state.user)
    customers = dict(db.execute(
        select(CustomerProduct.product_id, func.count()).join(Customer, Customer.id == CustomerProduct.customer_id)
        .where(CustomerProduct.product_id.in_(product_ids), rule).group_by(CustomerProduct.product_id)).all())
    contracts = dict(db.execute(
        select(contract_product.c.product_id, func.count()).join(Contract, Contract.id == contract_product.c.contract_id)
        .join(Customer, Customer.id == Contract.customer_id)
        .where(contract_product.c.product_id.in_(product_ids), rule).group_by(contract_product.c.product_id)).all())
    return customers, contracts


@requires("core.customer.view")
def product_list(request: Request) -> Response:
    db = request.state.db
    params = request.query_params
    sort = params.get("sort", "name")
    column = SORTS.get(sort.lstrip("-"), Product.name)
    if params.get("format") in ("csv", "xlsx"):
        rows = db.scalars(_filtered(request).order_by(column, Product.id).limit(MAX_ROWS)).all()
        customers, contracts = _usage(request, [p.id for p in rows])
        return export_response(params["format"], _("Software products"),
                               [_("Product code"), _("Product name"), _("Customers"), _("Contracts")],
                               ([p.code, p.name, customers.get(p.id, 0), contracts.get(p.id, 0)] for p in rows))
    page = keyset_page(db, _filtered(request), sort_col=column, id_col=Product.id, descending=sort.startswith("-"),
                       after=params.get("after"), before=params.get("before"),
                       size=request.app.state.site.settings.get("core.page_size", db))
    customers, contracts = _usage(request, [p.id for p in page.rows])
    return request.app.state.templates.render(
        request, "core/products/list.html",
        {"page": page, "sort": sort, "customers": customers, "contracts": contracts,
         "title": _("Software products")},
        fragment="results")


def _render_edit(request: Request, form: Form, product: Product | None, *, status: int = 200,
                 conflict: Product | None = None) -> Response:
    return request.app.state.templates.render(
        request, "core/products/edit.html",
        {"form": form, "product": product, "conflict": conflict,
         "title": product.name if product else _("New software product")},
        status=status, fragment="form")


def _check(db, form: Form, product: Product | None) -> None:
    """Code and name each name one product: two "ERP" in a choice list cannot be told apart."""
    for name, column, message in (("code", Product.code, _l("A product with this code already exists.")),
                                  ("name", Product.name, _l("A product with this name already exists."))):
        if name in form.errors:
            continue
        if taken(db, Product, func.lower(column) == form.values[name].lower(),
                 other_than=product.id if product else None):
            form.error(name, message)


@requires("core.product.edit")
def product_new(request: Request) -> Response:
    db = request.state.db
    form = product_form()
    if request.method == "GET":
        return _render_edit(request, form, None)
    form.load(request.state.form)
    _check(db, form, None)
    if form.errors:
        return _render_edit(request, form, None, status=422)
    product = Product()
    form.apply(product)
    db.add(product)
    db.flush()
    return flash_redirect(request, request.url_for("products").path,
                          _("Software product %(name)s added.", name=product.name))


def _product(request: Request) -> Product:
    product = request.state.db.get(Product, request.path_params["product_id"])
    if product is None:
        raise NotFound()
    return product


@requires("core.product.edit")
def product_edit(request: Request) -> Response:
    """Correct a code or rename a product: customers and contracts keep it."""
    db = request.state.db
    product = _product(request)
    form = product_form()
    if request.method == "GET":
        return _render_edit(request, form.fill(product), product)
    form.load(request.state.form)
    if form.outdated(product, request.state.form):
        return _render_edit(request, form, product, status=409, conflict=product)
    _check(db, form, product)
    if form.errors:
        return _render_edit(request, form, product, status=422)
    form.apply(product)
    return flash_redirect(request, request.url_for("products").path, _("Changes saved."))


@requires("core.product.edit")
def product_delete(request: Request) -> Response:
    product = _product(request)
    return delete_unused(request, product, product.name, then=request.url_for("products").path,
                         message=_("Software product %(name)s deleted.", name=product.name))


def routes() -> list:
    return [
        Route("/products", product_list, name="products"),
        Route("/products/new", product_new, methods=["GET", "POST"], name="product_new"),
        Route("/products/{product_id:int}/edit", product_edit, methods=["GET", "POST"], name="product_edit"),
        Route("/products/{product_id:int}/delete", product_delete, methods=["POST"], name="product_delete"),
    ]
