"""Pages of the serial_keys plugin, mounted under ``/serial_keys/``.

Thin: parse, authorise (permission + record rules on the key's customer),
call ``services`` / ``importer`` / ``licence``, render.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from fuwu.errors import NotFound, ValidationError
from fuwu.i18n import gettext as _
from fuwu.i18n import lazy_gettext as _l
from fuwu.models import Contact, Contract, Customer, Product, Staff, customer_regions
from fuwu.web import scope
from fuwu.web.endpoint import public, requires
from fuwu.web.import_pages import ImportPages
from fuwu.web.export import MAX_ROWS, export_response
from fuwu.web.forms import Field, Form, record_id, search_text
from fuwu.web.pagination import keyset_page
from fuwu.web.shell import flash_redirect
from fuwu.web.ui import SEARCH_HITS, Panel, SearchHit, SearchSection
from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager, joinedload
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import importer, rules, services
from .models import APPLICATION_KINDS, ApiToken, Application, KeyEvent, ProductKey

VIEW = "serial_keys.key.view"
MANAGE = "serial_keys.key.manage"

STATE_LABELS = {"active": _l("Valid"), "expired": _l("Expired"), "revoked": _l("Revoked")}
STATE_CLASSES = {"active": "", "expired": "danger", "revoked": "warn"}
ACTION_LABELS = {"issued": _l("Issued"), "renewed": _l("Renewed"), "revoked": _l("Revoked"),
                 "edited": _l("Edited"), "imported": _l("Imported")}
KIND_LABELS = {"password": _l("Recover the super-administrator password"), "clear_data": _l("Clear data")}
#: scanned applications: what a scanner or phone produces
FILE_TYPES = {"application/pdf": b"%PDF", "image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG"}


def _site(request: Request):
    return request.app.state.site


def _setting(request: Request, key: str):
    return _site(request).settings.get(key, request.state.db)


def _render(request: Request, name: str, context: dict, **kwargs) -> Response:
    return request.app.state.templates.render(request, name, context, **kwargs)


def _url(request: Request, name: str, **params) -> str:
    return request.url_for(f"serial_keys:{name}", **params).path


def _today(request: Request):
    return _site(request).day_of()


# --- Record rules: a key is visible when its customer is -------------------------------


def visible_key(request: Request, key_id) -> ProductKey:
    return scope.customer_record(request, ProductKey, key_id, contains_eager(ProductKey.customer),
                                 joinedload(ProductKey.product), joinedload(ProductKey.contract))


def _visible_customer(request: Request, name: str) -> Customer | None:
    return request.state.db.scalar(select(Customer).where(Customer.name == name.strip(),
                                                          scope.customers(request.state.user)))


# --- Installed base list --------------------------------------------------------------


def _keys_query(request: Request):
    params = request.query_params
    today = _today(request)
    query = (select(ProductKey, Customer.name.label("customer_name"), Product.code.label("product_code"),
                    Product.name.label("product_name"), Contract.number.label("contract_number"), ProductKey.id)
             .join(Customer, Customer.id == ProductKey.customer_id).join(Product, Product.id == ProductKey.product_id)
             .outerjoin(Contract, Contract.id == ProductKey.contract_id)
             .where(scope.customers(request.state.user)))
    state = params.get("state")
    if state == "revoked":
        query = query.where(ProductKey.revoked.is_(True))
    elif state == "expired":
        query = query.where(ProductKey.revoked.is_(False), ProductKey.expires_on < today)
    elif state == "active":
        query = query.where(ProductKey.revoked.is_(False),
                            or_(ProductKey.expires_on.is_(None), ProductKey.expires_on >= today))
    if product_id := record_id(params.get("product")):
        query = query.where(ProductKey.product_id == product_id)
    if params.get("region"):
        query = query.where(Customer.region == params["region"])
    if customer_id := record_id(params.get("customer_id")):
        query = query.where(ProductKey.customer_id == customer_id)
    q = search_text(params)
    if q:
        number = rules.normalise(q)
        query = query.where(or_(ProductKey.serial_number.startswith(number, autoescape=True),
                                ProductKey.service_code.startswith(number, autoescape=True),
                                ProductKey.dongle_number.startswith(number, autoescape=True),
                                Customer.name.contains(q, autoescape=True)))
    return query


@requires(VIEW)
def key_list(request: Request) -> Response:
    db = request.state.db
    params = request.query_params
    today = _today(request)
    query = _keys_query(request)
    if params.get("format") in ("csv", "xlsx"):
        found = db.execute(query.order_by(ProductKey.id.desc()).limit(MAX_ROWS)).all()
        return export_response(
            params["format"], _("Product keys"),
            [_("Customer"), _("Product code"), _("Product"), _("Serial number"), _("Service code"),
             _("Dongle number"), _("Installation date"), _("Contract number"), _("Valid until"), _("Key state")],
            ([row.customer_name, row.product_code, row.product_name, k.serial_number, k.service_code,
              k.dongle_number or "", k.installed_on, row.contract_number or "", k.expires_on,
              str(STATE_LABELS[k.state(today)])] for k, row in ((r[0], r) for r in found)))
    page = keyset_page(db, query, sort_col=ProductKey.id, id_col=ProductKey.id, descending=True,
                       after=params.get("after"), before=params.get("before"),
                       size=_setting(request, "core.page_size"))
    regions = customer_regions(db)
    products = db.execute(select(Product.id, Product.code, Product.name).order_by(Product.code)).all()
    return _render(request, "serial_keys/list.html",
                   {"page": page, "today": today, "regions": regions, "products": products,
                    "state_labels": STATE_LABELS, "state_classes": STATE_CLASSES, "title": _("Product keys")},
                   fragment="results")


def search_section(request: Request, text: str) -> list:
    """The keys whose serial, dongle or service number begins with ``text``
    (three characters at least), for the search box on every page."""
    if not request.state.user.can(VIEW):
        return []
    keys = services.candidates(request.state.db, text, scope.customers(request.state.user), limit=SEARCH_HITS + 1)
    prefix = request.app.state.templates.path_prefix(request, "serial_keys:key")
    hits = [SearchHit.of(k.serial_number, f"{prefix}{k.id}", k.customer.name, k.product.name, k.dongle_number)
            for k in keys]
    more = request.url_for("serial_keys:list").path + "?" + urlencode({"q": text})
    return [SearchSection.of(_("Product keys"), hits, more_url=more, order=50)]


# --- Entitlement lookup (page and JSON) ----------------------------------------------------


@requires(VIEW)
def lookup(request: Request) -> Response:
    q = search_text(request.query_params, limit=80)
    answer, similar = None, []
    if q:
        where = scope.customers(request.state.user)
        key = services.find_key(request.state.db, q, where)
        if key is not None:
            answer = services.entitlement(_site(request), request.state.db, key, _today(request))
        else:  # typing is not finished yet: the numbers that begin like this
            similar = services.candidates(request.state.db, q, where)
    return _render(request, "serial_keys/lookup.html",
                   {"q": q, "answer": answer, "similar": similar, "today": _today(request),
                    "state_labels": STATE_LABELS, "state_classes": STATE_CLASSES,
                    "title": _("Entitlement lookup")}, fragment="result")


@public("other systems send an API token an admin issued (Authorization: Bearer), checked in the handler",
        csrf=False)
def api_lookup(request: Request) -> Response:
    db = request.state.db
    token = services.check_token(db, request.headers.get("authorization"))
    if token is None:
        return JSONResponse({"error": "unauthorized"}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
    key = services.find_key(db, request.query_params.get("number", ""))
    if key is None:
        return JSONResponse({"error": "not found"}, status_code=404)
    answer = services.entitlement(_site(request), db, key, _today(request))
    return JSONResponse(answer.as_json())


# --- One key -----------------------------------------------------------------------------


def _history(db, key_id: int):
    return list(db.scalars(select(KeyEvent).where(KeyEvent.key_id == key_id).order_by(KeyEvent.at.desc(),
                                                                                       KeyEvent.id.desc())))


@requires(VIEW)
def key_detail(request: Request) -> Response:
    key = visible_key(request, request.path_params["key_id"])
    db = request.state.db
    today = _today(request)
    return _render(request, "serial_keys/detail.html",
                   {"key": key, "answer": services.entitlement(_site(request), db, key, today),
                    "history": _history(db, key.id), "state_labels": STATE_LABELS,
                    "state_classes": STATE_CLASSES, "action_labels": ACTION_LABELS,
                    "title": _("Product key %(serial)s", serial=key.serial_number)})


def key_form(request: Request, key: ProductKey | None) -> Form:
    db = request.state.db

    def products():
        return [(p.id, f"{p.code} {p.name}") for p in db.scalars(select(Product).order_by(Product.code))]

    return Form([
        Field("customer_name", _l("Customer name"), required=True),
        Field("product_id", _l("Product"), kind="choice", required=True, choices=products),
        Field("serial_number", _l("Serial number"), kind="code", required=True, max_length=80),
        Field("service_code", _l("Service code"), kind="code", required=True, max_length=80),
        Field("dongle_number", _l("Dongle number"), kind="code", max_length=80, help=_l("The number printed on the hardware "
                                                                           "encryption dongle, if any.")),
        Field("installed_on", _l("Installation date"), kind="date"),
        Field("contract_number", _l("Contract number"), kind="code", max_length=60,
              help=_l("The service contract the product is under; its service period sets the key's expiry.")),
        Field("notes", _l("Notes"), kind="textarea"),
    ])


def _check_key(request: Request, form: Form, key: ProductKey | None):
    db = request.state.db
    v = form.values
    customer = contract = None
    if v.get("customer_name"):
        customer = _visible_customer(request, v["customer_name"])
        if customer is None:
            form.error("customer_name", _("No customer named %(name)s.", name=v["customer_name"]))
    for name in ("serial_number", "service_code", "dongle_number"):
        number = rules.normalise(v.get(name))
        if number and not rules.valid_number(number):
            form.error(name, _("Use 3 to 80 letters, digits, dots, dashes, slashes or underscores."))
        v[name] = number
    own = key.id if key is not None else -1
    if v.get("serial_number") and "serial_number" not in form.errors and db.scalar(
            select(ProductKey.id).where(ProductKey.serial_number == v["serial_number"], ProductKey.id != own)):
        form.error("serial_number", _("Serial number %(number)s is already registered.", number=v["serial_number"]))
    if v.get("dongle_number") and "dongle_number" not in form.errors and db.scalar(
            select(ProductKey.id).where(ProductKey.dongle_number == v["dongle_number"], ProductKey.id != own)):
        form.error("dongle_number", _("Dongle number %(number)s is already registered.", number=v["dongle_number"]))
    if v.get("contract_number"):
        contract = db.scalar(select(Contract).where(Contract.number == v["contract_number"].strip(),
                                                    Contract.kind == "service"))
        if contract is None:
            form.error("contract_number", _("No service contract numbered %(number)s.", number=v["contract_number"]))
        elif customer is not None and contract.customer_id != customer.id:
            form.error("contract_number", _("Contract %(number)s belongs to another customer.",
                                            number=v["contract_number"]))
    return customer, contract


def _key_page(request, form, key, status=200, conflict=None):
    return _render(request, "serial_keys/key_edit.html",
                   {"form": form, "key": key, "conflict": conflict,
                    "title": _("Edit product key") if key else _("Register a product key")}, status=status)


@requires(MANAGE)
def key_new(request: Request) -> Response:
    form = key_form(request, None)
    if request.method == "GET":
        customer = request.state.db.scalar(select(Customer).where(
            Customer.id == record_id(request.query_params.get("customer_id")), scope.customers(request.state.user)))
        form.fill(None, customer_name=customer.name if customer else "", product_id=None, serial_number="",
                  service_code="", dongle_number="", installed_on=None, contract_number="", notes="")
        return _key_page(request, form, None)
    ok = form.load(request.state.form)
    customer, contract = _check_key(request, form, None)
    if not ok or form.errors:
        return _key_page(request, form, None, status=422)
    v = form.values
    key = ProductKey(customer_id=customer.id, product_id=int(v["product_id"]), serial_number=v["serial_number"],
                     service_code=v["service_code"], dongle_number=v["dongle_number"] or None,
                     installed_on=v["installed_on"], contract_id=contract.id if contract else None,
                     notes=v["notes"] or "")
    services.issue(request.state.db, key, request.state.user)
    return flash_redirect(request, _url(request, "key", key_id=key.id), _("Product key registered."))


@requires(MANAGE)
def key_edit(request: Request) -> Response:
    key = visible_key(request, request.path_params["key_id"])
    form = key_form(request, key)
    current = {"customer_name": key.customer.name, "contract_number": key.contract.number if key.contract else ""}
    if request.method == "GET":
        return _key_page(request, form.fill(key, **current), key)
    ok = form.load(request.state.form)
    customer, contract = _check_key(request, form, key)
    if not ok or form.errors:
        return _key_page(request, form, key, status=422)
    if form.outdated(key, request.state.form):
        saved = [(_("Serial number"), key.serial_number), (_("Service code"), key.service_code),
                 (_("Dongle number"), key.dongle_number or "—")]
        return _key_page(request, form, key, status=409, conflict=saved)
    v = form.values
    old_serial = key.serial_number
    key.customer_id, key.product_id = customer.id, int(v["product_id"])
    key.serial_number, key.service_code = v["serial_number"], v["service_code"]
    key.dongle_number, key.installed_on, key.notes = v["dongle_number"] or None, v["installed_on"], v["notes"] or ""
    new_contract = contract.id if contract else None
    if new_contract != key.contract_id:
        key.contract_id = new_contract
        period = services.current_period(request.state.db, new_contract)
        key.period_id, key.expires_on = (period.id, period.ends_on) if period else (None, None)
    request.state.db.flush()
    services.log(request.state.db, key, "edited", request.state.user,
                 old_serial=old_serial if old_serial != key.serial_number else "")
    return flash_redirect(request, _url(request, "key", key_id=key.id), _("Changes saved."))


@requires(MANAGE)
def key_revoke(request: Request) -> Response:
    key = visible_key(request, request.path_params["key_id"])
    reason = (request.state.form.get("reason") or "").strip()
    if not reason:
        raise ValidationError({"reason": _l("Give the reason.")}, _l("Give the reason for revoking the key."))
    if not key.revoked:
        services.revoke(request.state.db, key, request.state.user, reason[:300])
    return flash_redirect(request, _url(request, "key", key_id=key.id), _("Product key revoked."))


@requires("serial_keys.licence.issue")
def key_licence(request: Request) -> Response:
    from . import licence  # cryptography is needed only here

    key = visible_key(request, request.path_params["key_id"])
    today = _today(request)
    if key.state(today) != "active":
        raise ValidationError(message=_l("Only a valid key gets a licence file."))
    data = licence.LicenceData(serial=key.serial_number, service_code=key.service_code,
                               dongle=key.dongle_number or "", customer=key.customer.name,
                               product=f"{key.product.code} {key.product.name}", expires=key.expires_on, issued=today)
    try:
        text = licence.sign(_site(request).config.home, data)
    except licence.NoSigningKey:
        raise ValidationError(message=_l("No licence signing key yet: an administrator runs "
                                         "\"python -m fuwu_plugins.serial_keys keys generate\".")) from None
    name = f"licence-{key.serial_number}.lic"
    return Response(text.encode("utf-8"), media_type="text/plain; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


@requires(VIEW)
def public_keys(request: Request) -> Response:
    from . import licence

    return _render(request, "serial_keys/public_keys.html",
                   {"keys": licence.public_keys(_site(request).config.home), "title": _("Licence public keys")})


# --- Import ---------------------------------------------------------------------------------


def _check_import(request: Request, file_name: str, content: bytes):
    return importer.validate(request.state.db, file_name, content, visible=scope.customers(request.state.user),
                             **_import_limits(request))


def _apply_import(request: Request, result, _file_name: str) -> str:
    return _("%(n)s product keys imported.", n=importer.apply(request.state.db, result, request.state.user))


def _import_limits(request: Request) -> dict:
    return {"max_bytes": _setting(request, "serial_keys.import_max_kb") * 1024,
            "max_rows": _setting(request, "serial_keys.import_max_rows")}


IMPORT = ImportPages(
    kind="serial_keys", route="serial_keys:import", list_route="serial_keys:list",
    template="serial_keys/import.html", title=_l("Import installed base"), sheet=_l("Installed base"),
    columns=importer.COLUMNS, required=importer.REQUIRED, check=_check_import, apply=_apply_import,
    limits=_import_limits)


# --- Written applications (SK-5) ------------------------------------------------------------


def application_form(request: Request) -> Form:
    db = request.state.db

    def approvers():
        return db.execute(select(Staff.id, Staff.name).where(Staff.active.is_(True)).order_by(Staff.name)).all()

    return Form([
        Field("customer_name", _l("Customer name"), required=True),
        Field("kind", _l("Request"), kind="choice", required=True, choices=lambda: list(KIND_LABELS.items())),
        Field("received_on", _l("Application received on"), kind="date", required=True),
        Field("applicant", _l("Signed by (customer)"), required=True, max_length=100),
        Field("approver_id", _l("Approved by"), kind="choice", required=True, choices=approvers),
        Field("contact_name", _l("Contact who was told"), required=True, max_length=100,
              help=_l("Who received the password or the confirmation. The password itself is never recorded.")),
        Field("done_on", _l("Done on"), kind="date"),
        Field("serial_number", _l("Serial number"), kind="code", max_length=80),
        Field("notes", _l("Notes"), kind="textarea"),
    ])


def _application_page(request, form, status=200, file_error=""):
    return _render(request, "serial_keys/application_new.html",
                   {"form": form, "file_error": file_error, "title": _("Record a written application"),
                    "max_kb": _setting(request, "serial_keys.application_max_kb")}, status=status)


def _read_scan(request: Request, upload) -> tuple[bytes, str] | str:
    limit = _setting(request, "serial_keys.application_max_kb") * 1024
    if upload is None or not getattr(upload, "filename", ""):
        return _("Attach the scanned, signed application.")
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        return _("The scan is larger than %(limit)s KB.", limit=limit // 1024)
    for media, magic in FILE_TYPES.items():
        if data.startswith(magic):  # by content, not by the name the browser sent
            return data, media
    return _("Upload a PDF, JPEG or PNG scan.")


@requires("serial_keys.application.record")
def application_new(request: Request) -> Response:
    db = request.state.db
    form = application_form(request)
    if request.method == "GET":
        customer = db.scalar(select(Customer).where(Customer.id == record_id(request.query_params.get("customer_id")),
                                                    scope.customers(request.state.user)))
        form.fill(None, customer_name=customer.name if customer else "", kind="password",
                  received_on=_today(request), applicant="", approver_id=None, contact_name="", done_on=None,
                  serial_number="", notes="")
        return _application_page(request, form)
    ok = form.load(request.state.form)
    v = form.values
    customer = key = None
    if v.get("customer_name"):
        customer = _visible_customer(request, v["customer_name"])
        if customer is None:
            form.error("customer_name", _("No customer named %(name)s.", name=v["customer_name"]))
    if v.get("serial_number") and customer is not None:
        key = db.scalar(select(ProductKey).where(ProductKey.serial_number == rules.normalise(v["serial_number"]),
                                                 ProductKey.customer_id == customer.id))
        if key is None:
            form.error("serial_number", _("This customer has no product key %(number)s.",
                                          number=v["serial_number"]))
    scan = _read_scan(request, request.state.form.get("scan"))
    file_error = scan if isinstance(scan, str) else ""
    if not ok or form.errors or file_error:
        return _application_page(request, form, status=422, file_error=file_error)
    data, media = scan
    contact = db.scalar(select(Contact).where(Contact.customer_id == customer.id,
                                              Contact.name == v["contact_name"]).limit(1))
    upload = request.state.form.get("scan")
    application = Application(customer_id=customer.id, key_id=key.id if key else None, kind=v["kind"],
                              received_on=v["received_on"], applicant=v["applicant"],
                              approver_id=int(v["approver_id"]), contact_id=contact.id if contact else None,
                              contact_name=v["contact_name"], done_on=v["done_on"], notes=v["notes"] or "",
                              file_name=upload.filename[-200:], file_type=media, file_size=len(data), file_data=data)
    services.record_application(db, application)
    return flash_redirect(request, _url(request, "application", application_id=application.id),
                     _("Written application recorded."))


def _applications_query(request: Request):
    params = request.query_params
    query = (select(Application, Customer.name.label("customer_name"), Application.id)
             .join(Customer, Customer.id == Application.customer_id).where(scope.customers(request.state.user)))
    if params.get("kind") in APPLICATION_KINDS:
        query = query.where(Application.kind == params["kind"])
    q = search_text(params)
    if q:
        query = query.where(or_(Customer.name.contains(q, autoescape=True),
                                Application.contact_name.contains(q, autoescape=True)))
    return query


@requires("serial_keys.application.view")
def application_list(request: Request) -> Response:
    db = request.state.db
    params = request.query_params
    query = _applications_query(request)
    if params.get("format") in ("csv", "xlsx"):
        found = db.execute(query.order_by(Application.id.desc()).limit(MAX_ROWS)).all()
        return export_response(
            params["format"], _("Written applications"),
            [_("Number"), _("Customer"), _("Request"), _("Application received on"), _("Signed by (customer)"),
             _("Approved by"), _("Contact who was told"), _("Done on")],
            ([f"SA-{a.id:05d}", row.customer_name, str(KIND_LABELS[a.kind]), a.received_on, a.applicant,
              a.approver.name if a.approver else "", a.contact_name, a.done_on]
             for a, row in ((r[0], r) for r in found)))
    page = keyset_page(db, query, sort_col=Application.id, id_col=Application.id, descending=True,
                       after=params.get("after"), before=params.get("before"),
                       size=_setting(request, "core.page_size"))
    return _render(request, "serial_keys/applications.html",
                   {"page": page, "kind_labels": KIND_LABELS, "title": _("Written applications")}, fragment="results")


def _visible_application(request: Request) -> Application:
    row = request.state.db.scalar(
        select(Application).join(Customer, Customer.id == Application.customer_id)
        .where(Application.id == record_id(request.path_params["application_id"]), scope.customers(request.state.user))
        .options(contains_eager(Application.customer)))
    if row is None:
        raise NotFound()
    return row


@requires("serial_keys.application.view")
def application_detail(request: Request) -> Response:
    row = _visible_application(request)
    key = request.state.db.get(ProductKey, row.key_id) if row.key_id else None
    return _render(request, "serial_keys/application.html",
                   {"a": row, "key": key, "kind_labels": KIND_LABELS,
                    "title": _("Written application %(number)s", number=f"SA-{row.id:05d}")})


@requires("serial_keys.application.view")
def application_file(request: Request) -> Response:
    row = _visible_application(request)
    ext = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}[row.file_type]
    return Response(row.file_data, media_type=row.file_type,
                    headers={"Content-Disposition": f"attachment; filename=application-SA-{row.id:05d}.{ext}",
                             "X-Content-Type-Options": "nosniff"})


# --- API tokens ---------------------------------------------------------------------------------


@requires("serial_keys.api.manage")
def token_list(request: Request) -> Response:
    rows = list(request.state.db.scalars(select(ApiToken).order_by(ApiToken.revoked_at.is_not(None),
                                                                   ApiToken.id.desc())))
    if request.query_params.get("format") in ("csv", "xlsx"):
        return export_response(
            request.query_params["format"], _("Lookup API tokens"),
            [_("System using the token"), _("Token starts with"), _("Issued by"), _("Issued on"), _("Token state"),
             _("Revoked on")],
            ([t.label, t.prefix, t.issued_by.name if t.issued_by else "", t.created_at,
              _("Revoked") if t.revoked_at else _("Valid"), t.revoked_at] for t in rows))
    return _render(request, "serial_keys/tokens.html",
                   {"tokens": rows, "secret": None, "title": _("Lookup API tokens")})


@requires("serial_keys.api.manage")
def token_new(request: Request) -> Response:
    label = (request.state.form.get("label") or "").strip()[:100]
    if not label:
        raise ValidationError({"label": _l("Name the system that will use the token.")},
                              _l("Name the system that will use the token."))
    row, secret = services.issue_token(request.state.db, label, request.state.user)
    rows = list(request.state.db.scalars(select(ApiToken).order_by(ApiToken.revoked_at.is_not(None),
                                                                   ApiToken.id.desc())))
    # shown once, on this response only; never stored
    return _render(request, "serial_keys/tokens.html",
                   {"tokens": rows, "secret": secret, "new": row, "title": _("Lookup API tokens")},
                   headers={"Cache-Control": "no-store"})


@requires("serial_keys.api.manage")
def token_revoke(request: Request) -> Response:
    row = request.state.db.get(ApiToken, record_id(request.path_params["token_id"]) or 0)
    if row is None:
        raise NotFound()
    if row.revoked_at is None:
        row.revoked_at, row.revoked_by_id = datetime.now(UTC), request.state.user.id
    return flash_redirect(request, _url(request, "tokens"), _("API token revoked."))


# --- Customer page -------------------------------------------------------------------------------


def customer_panel(request: Request, customer) -> list[Panel]:
    user = request.state.user
    if not user.can(VIEW):
        return []
    db = request.state.db
    keys = list(db.scalars(select(ProductKey).where(ProductKey.customer_id == customer.id)
                           .options(joinedload(ProductKey.product), joinedload(ProductKey.contract))
                           .order_by(ProductKey.revoked, ProductKey.id.desc()).limit(100)))
    return [Panel(_("Installed products and keys"), "serial_keys/panel.html",
                  {"keys": keys, "today": _today(request), "customer": customer, "state_labels": STATE_LABELS,
                   "state_classes": STATE_CLASSES, "can_manage": user.can(MANAGE),
                   "can_record": user.can("serial_keys.application.record")}, order=25)]


def routes() -> list:
    return [
        Route("/", key_list, name="list"),
        Route("/lookup", lookup, name="lookup"),
        Route("/api/lookup", api_lookup, name="api_lookup"),
        Route("/keys/new", key_new, methods=["GET", "POST"], name="key_new"),
        Route("/keys/{key_id:int}", key_detail, name="key"),
        Route("/keys/{key_id:int}/edit", key_edit, methods=["GET", "POST"], name="key_edit"),
        Route("/keys/{key_id:int}/revoke", key_revoke, methods=["POST"], name="key_revoke"),
        Route("/keys/{key_id:int}/licence", key_licence, name="licence"),
        Route("/licence/public-keys", public_keys, name="public_keys"),
        *IMPORT.routes("/import", "serial_keys.key.import", name="import"),
        Route("/applications", application_list, name="applications"),
        Route("/applications/new", application_new, methods=["GET", "POST"], name="application_new"),
        Route("/applications/{application_id:int}", application_detail, name="application"),
        Route("/applications/{application_id:int}/file", application_file, name="application_file"),
        Route("/tokens", token_list, name="tokens"),
        Route("/tokens/new", token_new, methods=["POST"], name="token_new"),
        Route("/tokens/{token_id:int}/revoke", token_revoke, methods=["POST"], name="token_revoke"),
    ]
