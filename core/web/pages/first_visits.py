"""First-visit calls (CORE-2): the call queue, one call's page, the needs list.

Sales put a customer in the queue (``first_visit_submit``, a button on the
customer page). The queue shows the calls due now first (oldest first), then
those waiting for a later attempt, all in one keyset-paginated list sorted on
``next_attempt_at``: an open call always has one, and a time at or before now
sorts before every later time. Record rules come from the customer
(``scope.customers``): a call of a customer the user cannot see is not found.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ... import first_visit as fv
from ...db import check_version, utcnow
from ...errors import NotFound, StaleEdit, ValidationError
from ...first_visit import CustomerNeed, FirstVisitAttempt, FirstVisitCall
from ...i18n import gettext as _
from ...i18n import lazy_gettext as _l
from ...models import Customer, Department
from .. import scope
from ..endpoint import requires
from ..export import MAX_ROWS, export_response
from ..forms import Field, Form, record_id, search_text
from ..pagination import keyset_page
from ..shell import flash, flash_redirect

FILTERS = {"open": _l("Open calls"), **fv.STATUSES}
CLOSED = ("done", "cancelled")


def attempt_form() -> Form:
    return Form([
        Field("outcome", _l("Outcome"), kind="choice", required=True, choices=lambda: list(fv.OUTCOMES.items())),
        Field("retry_at", _l("Call again at"), kind="datetime",
              help=_l("Required when the customer was not reached.")),
        Field("note", _l("Note"), kind="textarea"),
    ])


def need_form(db) -> Form:
    return Form([
        Field("text", _l("What the customer needs"), kind="textarea", required=True),
        Field("department_id", _l("Responsible department"), kind="choice",
              choices=lambda: [(d.id, d.name) for d in db.scalars(select(Department).order_by(Department.name))],
              help=_l("Empty: the head of after-sales service receives it.")),
    ])


def cancel_form() -> Form:
    return Form([Field("reason", _l("Reason"), required=True, max_length=500)])


def _calls(request: Request):
    """Calls of customers the user may see, customer loaded in the same query."""
    return (select(FirstVisitCall).join(Customer, FirstVisitCall.customer_id == Customer.id)
            .where(scope.customers(request.state.user)).options(contains_eager(FirstVisitCall.customer)))


def visible_call(request: Request, call_id: int) -> FirstVisitCall:
    call = request.state.db.scalar(
        _calls(request).where(FirstVisitCall.id == call_id).options(
            contains_eager(FirstVisitCall.customer).selectinload(Customer.contacts),
            contains_eager(FirstVisitCall.customer).selectinload(Customer.products),
            selectinload(FirstVisitCall.attempts).joinedload(FirstVisitAttempt.by),
            selectinload(FirstVisitCall.checks),
            selectinload(FirstVisitCall.needs).joinedload(CustomerNeed.department),
            joinedload(FirstVisitCall.submitted_by), joinedload(FirstVisitCall.assigned_to)))
    if call is None:
        raise NotFound()
    return call


@requires("core.customer.view")
def call_list(request: Request) -> Response:
    db = request.state.db
    params = request.query_params
    status = params.get("status", "open")
    if status not in FILTERS:
        status = "open"
    query = _calls(request).options(selectinload(FirstVisitCall.attempts), joinedload(FirstVisitCall.submitted_by),
                                    joinedload(FirstVisitCall.assigned_to))
    q = search_text(params)
    if q:
        query = query.where(Customer.name.ilike(f"%{q}%"))
    query = query.where(FirstVisitCall.status.in_(fv.OPEN_STATUSES) if status == "open"
                        else FirstVisitCall.status == status)
    # Open calls: due ones (a time at or before now) sort before later ones.
    # Closed calls: the most recently closed first.
    sort_col, descending = ((FirstVisitCall.updated_at, True) if status in CLOSED
                            else (FirstVisitCall.next_attempt_at, False))
    if params.get("format") in ("csv", "xlsx"):
        rows = db.scalars(query.order_by(sort_col.desc() if descending else sort_col, FirstVisitCall.id)
                          .limit(MAX_ROWS)).unique()
        return export_response(
            params["format"], _("First-visit calls"),
            [_("Customer"), _("Region"), _("Status"), _("Next attempt"), _("Attempts"), _("Submitted by"),
             _("Called by")],
            ([c.customer.name, c.customer.region, str(fv.STATUSES.get(c.status, c.status)), c.next_attempt_at,
              len(c.attempts), c.submitted_by.name if c.submitted_by else "",
              c.assigned_to.name if c.assigned_to else ""] for c in rows))
    now = utcnow()
    page = keyset_page(db, query, sort_col=sort_col, id_col=FirstVisitCall.id, descending=descending,
                       after=params.get("after"), before=params.get("before"),
                       size=request.app.state.site.settings.get("core.page_size", db))
    due = db.scalar(select(func.count()).select_from(
        _calls(request).where(FirstVisitCall.status.in_(fv.OPEN_STATUSES), FirstVisitCall.next_attempt_at <= now)
        .order_by(None).subquery()))
    return request.app.state.templates.render(
        request, "core/first_visits/list.html",
        {"page": page, "status": status, "filters": FILTERS, "statuses": fv.STATUSES, "now": now, "due": due,
         "title": _("First-visit calls")},
        fragment="results")


def _render_call(request: Request, call: FirstVisitCall, *, status: int = 200, attempt: Form | None = None,
                 need: Form | None = None, cancel: Form | None = None, ticks: dict | None = None,
                 check_error=None, conflict: bool = False) -> Response:
    site = request.app.state.site
    db = request.state.db
    items = fv.checklist(site, call.customer)
    saved = {c.key: c for c in call.checks}
    if ticks is None:
        ticks = {"ok": {k for k, c in saved.items() if c.ok}, "notes": {k: c.note for k, c in saved.items()}}
    if attempt is None:
        attempt = attempt_form()
    page_error = next((f.errors["__all__"] for f in (attempt, need, cancel) if f and "__all__" in f.errors), None)
    return request.app.state.templates.render(
        request, "core/first_visits/detail.html",
        {"call": call, "customer": call.customer, "items": items, "saved": saved, "ticks": ticks,
         "attempt_form": attempt, "need_form": need or need_form(db), "cancel_form": cancel or cancel_form(),
         "check_error": check_error, "page_error": page_error, "conflict": conflict, "statuses": fv.STATUSES,
         "outcomes": fv.OUTCOMES,
         "product_names": [cp.product.name for cp in call.customer.products],
         "title": _("First-visit call: %(name)s", name=call.customer.name)},
        status=status)


@requires("core.customer.view")
def call_detail(request: Request) -> Response:
    return _render_call(request, visible_call(request, request.path_params["call_id"]))


def _to_call(request: Request, call: FirstVisitCall, message, kind: str = "success") -> Response:
    return flash_redirect(request, request.url_for("first_visit", call_id=call.id).path, message, kind)


def _errors_into(form: Form, exc: ValidationError) -> None:
    for name, message in exc.errors.items():
        form.error(name, message)
    if not exc.errors:
        form.error("__all__", exc.message)


@requires("core.customer.edit")
def call_submit(request: Request) -> Response:
    """Put a customer in the queue; submitting again shows the existing call."""
    db = request.state.db
    customer_id = record_id(request.state.form.get("customer_id"))
    if customer_id is None:
        raise NotFound()
    customer = db.scalar(select(Customer).where(Customer.id == customer_id, scope.customers(request.state.user)))
    if customer is None:
        raise NotFound()
    call, created = fv.submit(db, customer, request.state.user)
    response = RedirectResponse(request.url_for("customer", customer_id=customer.id).path, status_code=303)
    if created:
        return flash(request, response, _("%(name)s is in the first-visit call queue.", name=customer.name))
    return flash(request, response, _("%(name)s was already submitted for the first-visit call (%(status)s).",
                                      name=customer.name, status=fv.STATUSES.get(call.status, call.status)),
                 "warning")


def _local_to_utc(request: Request, value: datetime | str | None) -> datetime | None:
    if not value:  # an empty datetime field parses to ""
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=request.app.state.site.zone)
    return value.astimezone(UTC)


@requires("core.first_visit.call")
def call_attempt(request: Request) -> Response:
    call = visible_call(request, request.path_params["call_id"])
    form = attempt_form()
    if form.load(request.state.form):
        try:
            fv.record_attempt(request.state.db, call, request.state.user, outcome=form.values["outcome"],
                              note=form.values["note"], retry_at=_local_to_utc(request, form.values["retry_at"]))
        except ValidationError as exc:
            _errors_into(form, exc)
    if form.errors:
        return _render_call(request, call, status=422, attempt=form)
    outcome = form.values["outcome"]
    if outcome == "answered":
        return _to_call(request, call, _("Call recorded. Complete the checklist and record the needs."))
    return _to_call(request, call, _("Attempt recorded; the call is due again at the time you set."))


def _posted_ticks(request: Request, items) -> dict:
    posted = request.state.form
    keys = {key for key, _label in items}
    return {"ok": {k for k in posted.getlist("check") if k in keys},
            "notes": {k: str(posted.get(f"note.{k}", ""))[:300] for k in keys}}


def _save_checklist(request: Request, call: FirstVisitCall, items, ticks) -> Response | None:
    """Store the ticks; a response when they cannot be stored (stale or closed)."""
    try:
        check_version(call, request.state.form.get("version"))
    except StaleEdit:
        return _render_call(request, call, status=409, ticks=ticks, conflict=True)
    try:
        fv.save_checks(call, items, ticks["ok"], ticks["notes"])
    except ValidationError as exc:
        return _render_call(request, call, status=422, ticks=ticks, check_error=exc.message)
    request.state.db.flush()
    return None


@requires("core.first_visit.call")
def call_checks(request: Request) -> Response:
    call = visible_call(request, request.path_params["call_id"])
    items = fv.checklist(request.app.state.site, call.customer)
    ticks = _posted_ticks(request, items)
    refused = _save_checklist(request, call, items, ticks)
    return refused or _to_call(request, call, _("Checklist saved."))


@requires("core.first_visit.call")
def call_complete(request: Request) -> Response:
    """Save the ticks as sent, then close the call if it is verified; the ticks
    stay saved when it is not, so nothing typed is lost."""
    db = request.state.db
    call = visible_call(request, request.path_params["call_id"])
    items = fv.checklist(request.app.state.site, call.customer)
    ticks = _posted_ticks(request, items)
    refused = _save_checklist(request, call, items, ticks)
    if refused is not None:
        return refused
    try:
        fv.complete(db, call, request.state.user, items)
    except ValidationError as exc:
        return _render_call(request, call, status=422, check_error=exc.message)
    return _to_call(request, call, _("First-visit call completed; it is on the customer's service history."))


@requires("core.first_visit.call")
def call_need(request: Request) -> Response:
    db = request.state.db
    call = visible_call(request, request.path_params["call_id"])
    form = need_form(db)
    if form.load(request.state.form):
        dept = form.values["department_id"]
        try:
            fv.add_need(call, form.values["text"], int(dept) if dept else None)
        except ValidationError as exc:
            _errors_into(form, exc)
    if form.errors:
        return _render_call(request, call, status=422, need=form)
    return _to_call(request, call, _("Need recorded; it goes to the department head with today's digest."))


@requires("core.first_visit.call")
def call_cancel(request: Request) -> Response:
    call = visible_call(request, request.path_params["call_id"])
    form = cancel_form()
    if form.load(request.state.form):
        try:
            fv.cancel(request.state.db, call, request.state.user, form.values["reason"])
        except ValidationError as exc:
            _errors_into(form, exc)
    if form.errors:
        return _render_call(request, call, status=422, cancel=form)
    return _to_call(request, call, _("Call cancelled."))


@requires("core.customer.view")
def need_list(request: Request) -> Response:
    """Needs recorded during first visits, newest first; the digest links here."""
    db = request.state.db
    params = request.query_params
    query = (select(CustomerNeed).join(CustomerNeed.call).join(Customer, FirstVisitCall.customer_id == Customer.id)
             .where(scope.customers(request.state.user))
             .options(contains_eager(CustomerNeed.call).contains_eager(FirstVisitCall.customer),
                      joinedload(CustomerNeed.department)))
    wanted = [d for d in params.getlist("department") if d]
    ids = [n for n in map(record_id, wanted) if n is not None]
    if wanted:
        conditions = [CustomerNeed.department_id.in_(ids)] if ids else []
        if "none" in wanted:
            conditions.append(CustomerNeed.department_id.is_(None))
        query = query.where(or_(*conditions)) if conditions else query.where(CustomerNeed.id.is_(None))
    if params.get("format") in ("csv", "xlsx"):
        rows = db.scalars(query.order_by(CustomerNeed.id.desc()).limit(MAX_ROWS))
        return export_response(params["format"], _("Customer needs"),
                               [_("Recorded"), _("Customer"), _("Department"), _("Need"), _("Digest sent")],
                               ([n.created_at, n.call.customer.name, n.department.name if n.department else "",
                                 n.text, n.digest_sent_at] for n in rows))
    page = keyset_page(db, query, sort_col=CustomerNeed.id, id_col=CustomerNeed.id, descending=True,
                       after=params.get("after"), before=params.get("before"),
                       size=request.app.state.site.settings.get("core.page_size", db))
    departments = db.scalars(select(Department).order_by(Department.name)).all()
    return request.app.state.templates.render(
        request, "core/first_visits/needs.html",
        {"page": page, "departments": departments, "wanted": wanted, "title": _("Customer needs")},
        fragment="results")


def routes() -> list:
    return [
        Route("/first-visits", call_list, name="first_visits"),
        Route("/first-visits/submit", call_submit, methods=["POST"], name="first_visit_submit"),
        Route("/first-visits/needs", need_list, name="first_visit_needs"),
        Route("/first-visits/{call_id:int}", call_detail, name="first_visit"),
        Route("/first-visits/{call_id:int}/attempts", call_attempt, methods=["POST"], name="first_visit_attempt"),
        Route("/first-visits/{call_id:int}/checks", call_checks, methods=["POST"], name="first_visit_checks"),
        Route("/first-visits/{call_id:int}/complete", call_complete, methods=["POST"], name="first_visit_complete"),
        Route("/first-visits/{call_id:int}/needs", call_need, methods=["POST"], name="first_visit_need"),
        Route("/first-visits/{call_id:int}/cancel", call_cancel, methods=["POST"], name="first_visit_cancel"),
    ]
