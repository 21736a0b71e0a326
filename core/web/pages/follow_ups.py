"""Follow-ups on the customer's page (schedule one, mark it done) and the
list of them ("My follow-ups", or all those of customers one may see)."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import aliased
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ... import follow_ups
from ...errors import Forbidden, ValidationError
from ...follow_ups import AlreadyDone, FollowUp
from ...i18n import N_
from ...i18n import gettext as _
from ...i18n import lazy_gettext as _l
from ...models import Customer, Staff
from ...notifications import notify
from .. import scope
from ..endpoint import requires
from ..export import MAX_ROWS, export_response
from ..forms import Field, Form, search_text
from ..pagination import keyset_page
from ..shell import flash_redirect
from ..ui import Panel
from ..urls import local_path
from .customers import render_detail, visible_customer

#: which follow-ups the list shows (``?who=``): one's own, or of every customer one may see
WHO = {"mine": _l("For me"), "all": _l("Everyone's")}
STATES = {"open": _l("Open"), "done": _l("Done")}


def follow_up_form(request: Request) -> Form:
    db = request.state.db
    return Form([
        Field("assigned_to_id", _l("For"), kind="choice", required=True,
              choices=lambda: db.execute(select(Staff.id, Staff.name).where(Staff.active, Staff.username.is_not(None))
                                         .order_by(Staff.name)).all()),
        Field("due_on", _l("Due on"), kind="date", required=True, minimum=request.app.state.site.day_of()),
        Field("note", _l("To do"), kind="textarea", required=True,
              help=_l("What to do, e.g. call back about the upgrade date.")),
    ])


def panel(request: Request, customer: Customer) -> Panel:
    """The customer page's section: its open follow-ups, and the form to schedule one."""
    db, user, site = request.state.db, request.state.user, request.app.state.site
    today = site.day_of()
    rows = db.execute(select(FollowUp, Staff.name).join(Staff, Staff.id == FollowUp.assigned_to_id)
                      .where(FollowUp.customer_id == customer.id, FollowUp.done_at.is_(None))
                      .order_by(FollowUp.due_on, FollowUp.id)).all()
    form = getattr(request.state, "follow_up_form", None)
    if form is None:  # for me, by the next working day
        form = follow_up_form(request).fill(None, assigned_to_id=user.id, note="",
                                            due_on=site.calendar(db).add_working_days(today, 1))
    return Panel(_("Follow-ups"), "core/follow_ups/panel.html",
                 {"customer": customer, "rows": rows, "form": form, "today": today,
                  "completable": {f.id for f, _name in rows if may_complete(user, f)}}, order=5)


def may_complete(user, follow_up: FollowUp) -> bool:
    """Whoever it is for or who scheduled it may mark it done, and so may who edits customers."""
    return user.id in (follow_up.assigned_to_id, follow_up.scheduled_by_id) or user.can("core.customer.edit")


@requires("core.customer.view")
def follow_up_add(request: Request) -> Response:
    db, user = request.state.db, request.state.user
    customer = visible_customer(request, request.path_params["customer_id"])
    form = follow_up_form(request)
    assignee = None
    if form.load(request.state.form):
        if len(form.values["note"]) > follow_ups.TEXT_LENGTH:
            form.error("note", _l("At most %(n)s characters.", n=follow_ups.TEXT_LENGTH))
        assignee = db.get(Staff, int(form.values["assigned_to_id"]))
        if not (assignee.can("core.customer.view") and db.scalar(
                select(Customer.id).where(Customer.id == customer.id, scope.customers(assignee)))):
            form.error("assigned_to_id", _l("%(name)s may not see this customer.", name=assignee.name))
    if form.errors:
        request.state.follow_up_form = form
        return render_detail(request, customer, status=422)
    follow_up = follow_ups.schedule(db, customer, assignee, form.values["due_on"], form.values["note"], by=user)
    path = request.url_for("customer", customer_id=customer.id).path
    if assignee.id != user.id:
        notify(db, assignee, N_("%(by)s asks you to follow up %(customer)s by %(due)s: %(note)s"), url=path,
               email=True, by=user.name, customer=customer.name, due=follow_up.due_on, note=follow_up.note)
    return flash_redirect(request, path + "#follow-ups", _("Follow-up scheduled."))


@requires("core.customer.view")
def follow_up_done(request: Request) -> Response:
    db, user = request.state.db, request.state.user
    follow_up = scope.customer_record(request, FollowUp, request.path_params["follow_up_id"])
    if not may_complete(user, follow_up):
        raise Forbidden(_("Only whoever it is for or who scheduled it may mark a follow-up done."))
    if follow_up.done_at is not None:
        raise AlreadyDone()
    outcome = str(request.state.form.get("outcome") or "").strip()
    if len(outcome) > follow_ups.TEXT_LENGTH:
        raise ValidationError({"outcome": _l("At most %(n)s characters.", n=follow_ups.TEXT_LENGTH)},
                              _l("At most %(n)s characters.", n=follow_ups.TEXT_LENGTH))
    follow_ups.complete(db, follow_up, outcome, by=user)
    back = local_path(str(request.state.form.get("next") or "")) or (
        request.url_for("customer", customer_id=follow_up.customer_id).path + "#follow-ups")
    return flash_redirect(request, back, _("Follow-up marked done."))


def _list_query(request: Request):
    params, user = request.query_params, request.state.user
    assignee, scheduler = aliased(Staff), aliased(Staff)
    query = (select(FollowUp, Customer.name.label("customer"), assignee.name.label("assignee"),
                    scheduler.name.label("scheduler"))
             .join(Customer, Customer.id == FollowUp.customer_id)
             .join(assignee, assignee.id == FollowUp.assigned_to_id)
             .outerjoin(scheduler, scheduler.id == FollowUp.scheduled_by_id)
             .where(scope.customers(user)))
    if params.get("who") != "all":
        query = query.where(FollowUp.assigned_to_id == user.id)
    done = params.get("state") == "done"
    query = query.where(FollowUp.done_at.is_not(None) if done else FollowUp.done_at.is_(None))
    q = search_text(params)
    if q:
        query = query.where(or_(Customer.name.contains(q, autoescape=True), FollowUp.note.contains(q, autoescape=True)))
    return query, done


@requires("core.customer.view")
def follow_up_list(request: Request) -> Response:
    db, site, params = request.state.db, request.app.state.site, request.query_params
    query, done = _list_query(request)
    if params.get("format") in ("csv", "xlsx"):
        rows = db.execute(query.order_by(FollowUp.due_on, FollowUp.id).limit(MAX_ROWS))
        return export_response(params["format"], _("Follow-ups"),
                               [_("Due on"), _("Customer"), _("To do"), _("For"), _("Scheduled by"), _("Done at"),
                                _("Follow-up result")],
                               ([f.due_on, customer, f.note, assignee, scheduler or "", f.done_at, f.outcome]
                                for f, customer, assignee, scheduler in rows))
    # open ones by when they are due; done ones, the latest due first
    page = keyset_page(db, query, sort_col=FollowUp.due_on, id_col=FollowUp.id, descending=done,
                       after=params.get("after"), before=params.get("before"),
                       size=site.settings.get("core.page_size", db))
    user = request.state.user
    return request.app.state.templates.render(
        request, "core/follow_ups/list.html",
        {"page": page, "who": WHO, "states": STATES, "today": site.day_of(),
         "completable": {row[0].id for row in page.rows if may_complete(user, row[0])},
         "title": _("Follow-ups")},
        fragment="results")


def routes() -> list:
    return [
        Route(follow_ups.LIST_PATH, follow_up_list, name="follow_ups"),
        Route("/customers/{customer_id:int}/follow-ups", follow_up_add, methods=["POST"], name="follow_up_add"),
        Route("/follow-ups/{follow_up_id:int}/done", follow_up_done, methods=["POST"], name="follow_up_done"),
    ]
