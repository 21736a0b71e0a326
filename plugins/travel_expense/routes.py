"""Pages of the travel_expense plugin, mounted under ``/travel_expense/``.

Thin: parse, authorise (permission + record rules in the query), call
``services`` / ``rules``, render. A traveller sees only their own trips;
another person's id answers 404, on read and on write.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import or_, select, true
from sqlalchemy.orm import selectinload
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fuwu import dates, i18n
from fuwu.db import check_version
from fuwu.errors import Forbidden, NotFound, StaleEdit, ValidationError
from fuwu.i18n import gettext as _
from fuwu.i18n import lazy_gettext as _l
from fuwu.models import GRADES, Customer, Staff
from fuwu.web import lookups
from fuwu.web.attachment_panel import record_panel
from fuwu.web.endpoint import requires
from fuwu.web.export import MAX_ROWS, export_response
from fuwu.web.forms import Field, Form, record_id, search_text
from fuwu.web.pagination import keyset_page
from fuwu.web.shell import flash_redirect

from . import rules, services
from .models import Advance, Claim, ServiceRecord, Standard, Trip
from .plugin import APPROVE_ADVANCE, FILE, PAY, REPORT, REVIEW, STANDARDS, VIEW, VIEW_ALL

CLASS_LABELS = {
    "bus": _l("Long-distance bus"),
    "train_hard_seat": _l("Train, hard seat"),
    "train_hard_sleeper": _l("Train, hard sleeper"),
    "train_second_class": _l("High-speed train, second class"),
    "train_soft_sleeper": _l("Train, soft sleeper"),
    "train_first_class": _l("High-speed train, first class"),
    "plane_economy": _l("Plane, economy class"),
    "plane_business": _l("Plane, business class"),
}
KIND_LABELS = {"transport": _l("Intercity transport"), "lodging": _l("Lodging"),
               "local": _l("Local transport"), "other": _l("Other expense")}
METHOD_LABELS = {"cheque": _l("Cheque"), "transfer": _l("Bank transfer"), "cash": _l("Cash")}
SETTLEMENT_LABELS = {"refund": _l("The employee returns the difference"),
                     "payout": _l("The company pays the difference"), "even": _l("Nothing to pay")}


def _site(request: Request):
    return request.app.state.site


def _render(request: Request, name: str, context: dict, **kwargs) -> Response:
    labels = {"class_labels": CLASS_LABELS, "kind_labels": KIND_LABELS, "method_labels": METHOD_LABELS,
              "settlement_labels": SETTLEMENT_LABELS, "grades": GRADES, "workflows": _site(request).workflows}
    return request.app.state.templates.render(request, name, {**labels, **context}, **kwargs)


def _url(request: Request, name: str, **params) -> str:
    return request.url_for(f"travel_expense:{name}", **params).path


def _sees_all(user) -> bool:
    return user.is_admin or user.can(VIEW_ALL)


def own_rows(user, model):
    """Record rule: a traveller sees their own forms; VIEW_ALL sees everyone's."""
    return true() if _sees_all(user) else model.owner_id == user.id


def _own_row(request: Request, model, row_id):
    """The ``model`` row numbered ``row_id`` if the reader may see it (``own_rows``), else None."""
    return request.state.db.scalar(select(model).where(model.id == record_id(row_id),
                                                       own_rows(request.state.user, model)))


def _get(request: Request, model, key: str):
    row = _own_row(request, model, request.path_params[key])
    if row is None:
        raise NotFound()
    return row


def _local(request: Request, text: str) -> datetime:
    value = dates.parse_datetime(text)
    if value is None:
        raise ValueError(text)
    return value if value.tzinfo else value.replace(tzinfo=_site(request).zone)


def _history(request: Request, record) -> list:
    """The workflow log with each actor's name (one query for all names)."""
    db = request.state.db
    logs = _site(request).workflows.history(db, record)
    ids = {log.actor_id for log in logs if log.actor_id}
    names = dict(db.execute(select(Staff.id, Staff.name).where(Staff.id.in_(ids))).all()) if ids else {}
    for log in logs:
        log.actor_name = names.get(log.actor_id, "")
    return logs


# --- Trips (travel applications, TRV-4) -------------------------------------------------------


def trip_form(request: Request) -> Form:
    return Form([
        Field("destinations", _l("Destination(s)"), required=True),
        Field("region", _l("Region of the trip"), max_length=100),
        Field("depart_on", _l("Departure date"), kind="date", required=True),
        Field("return_on", _l("Return date"), kind="date", required=True),
        Field("customer_ids", _l("Customers served"), kind="records", lookup=lookups.customers(request)),
        Field("purpose", _l("Purpose of the trip"), kind="textarea", required=True),
        Field("itinerary", _l("Itinerary"), kind="textarea"),
        Field("transport_class", _l("Transport"), kind="choice", required=True,
              choices=lambda: list(CLASS_LABELS.items())),
        Field("est_transport", _l("Estimated transport (yuan)"), kind="money"),
        Field("est_lodging", _l("Estimated lodging (yuan)"), kind="money"),
        Field("est_meals", _l("Estimated meals (yuan)"), kind="money"),
        Field("est_other", _l("Estimated other costs (yuan)"), kind="money"),
    ])


def _apply_trip(request: Request, form: Form, trip: Trip) -> None:
    v = form.values
    trip.destinations, trip.region = v["destinations"], v["region"]
    trip.depart_on, trip.return_on = v["depart_on"], v["return_on"]
    trip.purpose, trip.itinerary, trip.transport_class = v["purpose"], v["itinerary"], v["transport_class"]
    for key in ("est_transport", "est_lodging", "est_meals", "est_other"):
        setattr(trip, key, v[key] or Decimal("0.00"))
    ids = [int(i) for i in v["customer_ids"]]
    trip.customers = list(request.state.db.scalars(select(Customer).where(Customer.id.in_(ids)))) if ids else []


def _trip_errors(form: Form) -> None:
    v = form.values
    if not form.errors and v["return_on"] < v["depart_on"]:
        form.error("return_on", _l("The return cannot be before the departure."))


def _render_trip_form(request, form, trip=None, status=200, conflict=None):
    return _render(request, "travel_expense/trip_form.html",
                   {"form": form, "trip": trip, "conflict": conflict,
                    "title": _("Edit travel application") if trip else _("New travel application")},
                   status=status, fragment="form")


@requires(FILE)
def trip_new(request: Request) -> Response:
    form = trip_form(request)
    if request.method == "GET":
        form.fill(None, transport_class=_site(request).settings.get("travel_expense.general_transport_class",
                                                                    request.state.db))
        return _render_trip_form(request, form)
    form.load(request.state.form)
    _trip_errors(form)
    if form.errors:
        return _render_trip_form(request, form, status=422)
    trip = Trip()
    _apply_trip(request, form, trip)
    _site(request).workflows.start(request.state.db, trip, request.state.user)
    return flash_redirect(request, _url(request, "trip", trip_id=trip.id), _("Travel application saved as a draft."))


@requires(FILE)
def trip_edit(request: Request) -> Response:
    trip = _get(request, Trip, "trip_id")
    if trip.owner_id != request.state.user.id or trip.state != "draft":
        raise ValidationError(message=_l("Only a draft can be edited, by its traveller."))
    form = trip_form(request)
    if request.method == "GET":
        form.fill(trip, customer_ids=[c.id for c in trip.customers])
        return _render_trip_form(request, form, trip)
    form.load(request.state.form)
    if form.outdated(trip, request.state.form):
        return _render_trip_form(request, form, trip, 409, conflict=[(_("Destination(s)"), trip.destinations)])
    _trip_errors(form)
    if form.errors:
        return _render_trip_form(request, form, trip, 422)
    _apply_trip(request, form, trip)
    return flash_redirect(request, _url(request, "trip", trip_id=trip.id), _("Changes saved."))


CLAIM_STATES = {"draft": _l("Draft"), "review": _l("Service manager review"),
                "settlement": _l("Approved, to be settled by finance"), "settled": _l("Settled")}
LIST_STATES = {"draft": _l("Draft"), "review": _l("Service manager review"),
               "filing": _l("Approved, to be archived"), "archived": _l("Archived")}


@requires(VIEW)
def trip_list(request: Request) -> Response:
    """My trips, or everyone's for those who see all; the manager's queue is ``?state=review``."""
    db = request.state.db
    user = request.state.user
    params = request.query_params
    query = select(Trip).where(own_rows(user, Trip)).options(selectinload(Trip.customers))
    if params.get("state") in LIST_STATES:
        query = query.where(Trip.state == params["state"])
    if params.get("claim") in CLAIM_STATES:
        query = query.where(select(Claim.id).where(Claim.trip_id == Trip.id, Claim.state == params["claim"]).exists())
    if params.get("mine") or not _sees_all(user):
        query = query.where(Trip.owner_id == user.id)
    q = search_text(params)
    if q:
        like = f"%{q}%"
        query = query.where(or_(Trip.destinations.ilike(like), Trip.purpose.ilike(like), Trip.region.ilike(like)))
    if params.get("format") in ("csv", "xlsx"):
        rows = db.scalars(query.order_by(Trip.depart_on.desc(), Trip.id.desc()).limit(MAX_ROWS)).all()
        return export_response(params["format"], _("Trips"),
                               [_("Traveller"), _("Destination(s)"), _("Region of the trip"), _("Departure date"),
                                _("Return date"), _("Customers served"), _("Estimated cost"), _("State")],
                               ([t.owner.name if t.owner else "", t.destinations, t.region, t.depart_on, t.return_on,
                                 i18n.listed(c.name for c in t.customers), t.estimate, str(LIST_STATES[t.state])]
                                for t in rows))
    page = keyset_page(db, query, sort_col=Trip.depart_on, id_col=Trip.id, descending=True,
                       after=params.get("after"), before=params.get("before"),
                       size=_site(request).settings.get("core.page_size", db))
    ids = [t.id for t in page.rows]
    claims = {row.trip_id: row for row in db.execute(
        select(Claim.trip_id, Claim.id, Claim.state, Claim.total).where(Claim.trip_id.in_(ids)))} if ids else {}
    return _render(request, "travel_expense/list.html",
                   {"page": page, "rows": page.rows, "claims": claims, "claim_states": CLAIM_STATES,
                    "states": LIST_STATES, "sees_all": _sees_all(user),
                    "title": _("Trips")}, fragment="results")


def _trip_context(request: Request, trip: Trip, **extra) -> dict:
    db = request.state.db
    site = _site(request)
    advances = list(db.scalars(select(Advance).where(Advance.trip_id == trip.id).order_by(Advance.id)))
    claim = db.scalar(select(Claim).where(Claim.trip_id == trip.id))
    records = list(db.scalars(select(ServiceRecord).where(ServiceRecord.trip_id == trip.id)
                              .order_by(ServiceRecord.id)))
    return {"trip": trip, "advances": advances, "claim": claim, "records": records,
            "actions": site.workflows.allowed(trip, request.state.user),
            "history": _history(request, trip),
            "approved": trip.state in services.APPROVED_TRIP,
            "is_owner": trip.owner_id == request.state.user.id,
            "title": _("Travel application: %(destinations)s", destinations=trip.destinations),
            "comment_error": "", **extra}


@requires(VIEW)
def trip_detail(request: Request) -> Response:
    trip = _get(request, Trip, "trip_id")
    return _render(request, "travel_expense/trip.html", _trip_context(request, trip))


def _step(request: Request, record, detail_url: str, render_error) -> Response:
    name = request.path_params["step"]
    comment = request.state.form.get("comment", "")
    workflows = _site(request).workflows
    wanted = workflows.of(record).find(record.state, name)
    if wanted is not None and wanted not in workflows.allowed(record, request.state.user):
        raise Forbidden()
    check_version(record, request.state.form.get("version"))  # 409 on a stale page
    try:
        if isinstance(record, Claim) and name == "submit":
            services.submit_claim(_site(request), request.state.db, record, request.state.user)
        else:
            _site(request).workflows.transition(request.state.db, record, name, request.state.user, comment)
    except ValidationError as exc:
        if "comment" in exc.errors:
            return render_error(str(exc.errors["comment"]))
        raise
    state = _site(request).workflows.of(record).by_state[record.state].label
    return flash_redirect(request, detail_url, _("Done: %(state)s.", state=state))


@requires(VIEW)
def trip_step(request: Request) -> Response:
    trip = _get(request, Trip, "trip_id")
    return _step(request, trip, _url(request, "trip", trip_id=trip.id),
                 lambda msg: _render(request, "travel_expense/trip.html",
                                     _trip_context(request, trip, comment_error=msg), status=422))


@requires(FILE)
def record_new(request: Request) -> Response:
    """TRV-8: write the trip into a customer's service record."""
    trip = _get(request, Trip, "trip_id")
    if trip.owner_id != request.state.user.id:
        raise NotFound()
    form = request.state.form
    customer = next((c for c in trip.customers if c.id == record_id(form.get("customer_id"))), None)
    summary = (form.get("summary") or "").strip()
    errors = {}
    if customer is None:
        errors["customer_id"] = _("Choose one of the trip's customers.")
    if not summary:
        errors["summary"] = _("Write what was done for the customer.")
    if errors:
        return _render(request, "travel_expense/trip.html",
                       _trip_context(request, trip, record_errors=errors, record_summary=summary), status=422)
    services.write_record(request.state.db, trip, customer, summary[:5000], request.state.user)
    return flash_redirect(request, _url(request, "trip", trip_id=trip.id), _("Written into the service record."))


# --- Advances (TRV-5, TRV-6) --------------------------------------------------------------


def advance_form() -> Form:
    return Form([
        Field("amount", _l("Amount requested (yuan)"), kind="money", required=True, minimum=Decimal("0.01")),
        Field("purpose", _l("What the money is for"), kind="textarea", required=True),
        Field("method", _l("Payment method"), kind="choice", required=True,
              choices=lambda: list(METHOD_LABELS.items())),
        Field("method_reason", _l("Why not by cheque"), kind="textarea",
              help=_l("Required for any method other than cheque; the general manager approves it (TRV-5).")),
    ])


@requires(FILE)
def advance_new(request: Request) -> Response:
    db = request.state.db
    user = request.state.user
    trip = _get(request, Trip, "trip_id")
    if trip.owner_id != user.id:
        raise NotFound()
    if trip.state not in services.APPROVED_TRIP:
        raise ValidationError(message=_l("An advance needs a travel application approved by the service manager."))
    services.refuse_second_advance(db, user.id)  # TRV-6
    form = advance_form()

    def render(status=200):
        return _render(request, "travel_expense/advance_form.html",
                       {"form": form, "trip": trip, "title": _("Payment request for %(destinations)s",
                                                              destinations=trip.destinations)},
                       status=status, fragment="form")

    if request.method == "GET":
        form.fill(None, method="cheque", amount=trip.estimate or None)
        return render()
    form.load(request.state.form)
    if not form.errors:
        for key, message in services.check_method(form.values["method"], form.values["method_reason"]).items():
            form.error(key, message)
    if form.errors:
        return render(422)
    advance = Advance(trip_id=trip.id, amount=form.values["amount"], purpose=form.values["purpose"],
                      method=form.values["method"], method_reason=form.values["method_reason"])
    _site(request).workflows.start(db, advance, user)
    _site(request).workflows.transition(db, advance, "submit", user)
    return flash_redirect(request, _url(request, "advance", advance_id=advance.id),
                 _("Payment request sent to the general manager."))


def _advance_context(request: Request, advance: Advance, **extra) -> dict:
    site = _site(request)
    history = _history(request, advance)
    approval = next((h for h in reversed(history) if h.transition == "approve"), None)
    return {"advance": advance, "actions": site.workflows.allowed(advance, request.state.user),
            "history": history, "approval": approval,
            "approval_name": approval.actor_name if approval else "", "today": site.day_of(),
            "title": _("Payment request #%(id)s", id=advance.id), "comment_error": "", "pay_errors": {},
            **extra}


@requires(VIEW)
def advance_detail(request: Request) -> Response:
    advance = _get(request, Advance, "advance_id")
    return _render(request, "travel_expense/advance.html", _advance_context(request, advance))


@requires(VIEW)
def advance_step(request: Request) -> Response:
    advance = _get(request, Advance, "advance_id")
    if request.path_params["step"] in ("pay", "clear"):
        raise NotFound()  # through the payment form / the settlement
    if request.path_params["step"] == "submit":
        services.refuse_second_advance(request.state.db, advance.owner_id, exclude_id=advance.id)
    return _step(request, advance, _url(request, "advance", advance_id=advance.id),
                 lambda msg: _render(request, "travel_expense/advance.html",
                                     _advance_context(request, advance, comment_error=msg), status=422))


@requires(PAY)
def advance_pay(request: Request) -> Response:
    """Finance records the payment: date and cheque or transfer number."""
    advance = _get(request, Advance, "advance_id")
    form = request.state.form
    errors = {}
    paid_on = dates.parse_date(form.get("paid_on"))
    if paid_on is None:
        errors["paid_on"] = _("Enter a date as YYYY-MM-DD.")
    reference = (form.get("reference") or "").strip()
    if advance.method == "cheque" and not reference:
        errors["reference"] = _("Enter the cheque number.")
    if errors:
        return _render(request, "travel_expense/advance.html",
                       _advance_context(request, advance, pay_errors=errors), status=422)
    advance.paid_on, advance.reference, advance.paid_by_id = paid_on, reference[:100], request.state.user.id
    _site(request).workflows.transition(request.state.db, advance, "pay", request.state.user, reference)
    return flash_redirect(request, _url(request, "advance", advance_id=advance.id), _("Payment recorded."))


ADVANCE_FILTERS = {"open": _l("Open (not cleared)"), "approval": _l("Waiting for the general manager"),
                   "approved": _l("Payments due"), "paid": _l("Paid, not cleared"), "cleared": _l("Cleared")}


@requires(VIEW_ALL)
def advance_list(request: Request) -> Response:
    """Finance's open advances and payments due, and claims waiting for settlement."""
    db = request.state.db
    params = request.query_params
    state = params.get("state", "open")
    query = select(Advance)
    if state == "open":
        query = query.where(Advance.state.not_in(services.CLOSED_ADVANCE))
    elif state in ADVANCE_FILTERS:
        query = query.where(Advance.state == state)
    if params.get("format") in ("csv", "xlsx"):
        rows = db.scalars(query.order_by(Advance.id.desc()).limit(MAX_ROWS)).all()
        return export_response(params["format"], _("Advances"),
                               [_("Number"), _("Traveller"), _("Destination(s)"), _("Amount"), _("Payment method"),
                                _("Paid on"), _("State")],
                               ([a.id, a.owner.name if a.owner else "", a.trip.destinations, a.amount,
                                 str(METHOD_LABELS[a.method]), a.paid_on,
                                 str(_site(request).workflows.of(a).by_state[a.state].label)] for a in rows))
    page = keyset_page(db, query, sort_col=Advance.id, id_col=Advance.id, descending=True,
                       after=params.get("after"), before=params.get("before"),
                       size=_site(request).settings.get("core.page_size", db))
    to_settle = list(db.scalars(select(Claim).where(Claim.state == "settlement").order_by(Claim.id).limit(200)))
    return _render(request, "travel_expense/advances.html",
                   {"page": page, "rows": page.rows, "filters": ADVANCE_FILTERS, "state": state,
                    "to_settle": to_settle, "title": _("Advances and payments")}, fragment="results")


@requires(VIEW)
def ledger_page(request: Request) -> Response:
    """The advance ledger: one's own, or the department's for finance."""
    user = request.state.user
    everyone = _sees_all(user)
    rows = services.ledger(request.state.db, None if everyone else user.id)
    if request.query_params.get("format") in ("csv", "xlsx"):
        return export_response(request.query_params["format"], _("Advance ledger"),
                               [_("Traveller"), _("Advances paid"), _("Cleared"), _("Balance")],
                               ([r["name"], r["paid"], r["cleared"], r["balance"]] for r in rows))
    return _render(request, "travel_expense/ledger.html",
                   {"rows": rows, "everyone": everyone, "title": _("Advance ledger")})


# --- Claims (TRV-6) -----------------------------------------------------------------


LINE_ROWS = 6


def _claim_raw(claim: Claim | None, request: Request) -> dict:
    zone = _site(request).zone
    if claim is None:
        return {"departed_at": "", "returned_at": "", "remarks": "", "lines": []}
    return {"departed_at": claim.departed_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
            "returned_at": claim.returned_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
            "remarks": claim.remarks,
            "lines": [{"kind": ln.kind, "description": ln.description, "amount": f"{ln.amount:.2f}",
                       "nights": str(ln.nights or ""), "invoice": ln.invoice, "class": ln.transport_class}
                      for ln in claim.lines]}


@requires(FILE)
def claim_edit(request: Request) -> Response:
    """File or correct the reimbursement of one's own approved trip."""
    db = request.state.db
    user = request.state.user
    trip = _get(request, Trip, "trip_id")
    if trip.owner_id != user.id:
        raise NotFound()  # a claim on someone else's trip
    if trip.state not in services.APPROVED_TRIP:
        raise ValidationError(message=_l("A claim needs a travel application approved by the service manager."))
    claim = db.scalar(select(Claim).where(Claim.trip_id == trip.id))
    if claim is not None and claim.state != "draft":
        raise ValidationError(message=_l("This claim has been submitted and can no longer be edited."))

    def render(raw, errors, status=200):
        rows = raw["lines"] + [{}] * max(LINE_ROWS - len(raw["lines"]), 2)
        return _render(request, "travel_expense/claim_form.html",
                       {"trip": trip, "claim": claim, "raw": raw, "errors": errors, "rows": rows,
                        "title": _("Reimbursement of %(destinations)s", destinations=trip.destinations)},
                       status=status, fragment="form")

    if request.method == "GET":
        return render(_claim_raw(claim, request), {})
    posted = request.state.form
    count = min(record_id(posted.get("line_count")) or LINE_ROWS, 50)
    lines, errors, raw_lines = services.parse_lines(posted, count)
    raw = {"departed_at": posted.get("departed_at", ""), "returned_at": posted.get("returned_at", ""),
           "remarks": posted.get("remarks", ""), "lines": raw_lines}
    times = {}
    for key in ("departed_at", "returned_at"):
        try:
            times[key] = _local(request, raw[key].strip())
        except ValueError:
            errors[key] = _("Enter a date and time.")
    if not errors and times["returned_at"] <= times["departed_at"]:
        errors["returned_at"] = _("The return must be after the departure.")
    if not errors and not lines:
        errors["lines"] = _("Add at least one expense line (meals are computed).")
    if errors:
        return render(raw, {k: str(v) for k, v in errors.items()}, 422)
    if claim is not None:
        try:
            check_version(claim, posted.get("version"))
        except StaleEdit:
            return render(raw, {"lines": _("Someone saved this claim after you opened it; save again to "
                                           "replace it.")}, 409)
    try:
        claim = services.save_claim(_site(request), db, trip, user, claim, departed=times["departed_at"],
                                    returned=times["returned_at"], lines=lines, remarks=raw["remarks"])
    except ValidationError as exc:
        return render(raw, {k: str(v) for k, v in exc.errors.items()}, 422)
    return flash_redirect(request, _url(request, "claim", claim_id=claim.id), _("Claim saved: check the computation "
                                                                       "and submit it."))


def _claim_context(request: Request, claim: Claim, *, files_error: str = "", **extra) -> dict:
    site = _site(request)
    db = request.state.db
    result = services.compute_claim(site, db, claim)
    advance = (claim.advance if claim.advance_id else services.trip_advance(db, claim.trip_id))
    settle_preview = rules.settlement(claim.total, advance.amount if advance else Decimal("0.00"))
    zone = site.zone
    due = rules.claim_due(claim.returned_at.astimezone(zone).date(),
                          site.settings.get("travel_expense.claim_due_days", db))
    return {"claim": claim, "trip": claim.trip, "result": result, "advance": advance,
            "settle_preview": settle_preview, "due": due,
            "actions": [a for a in site.workflows.allowed(claim, request.state.user) if a.name != "settle"],
            "can_settle": claim.state == "settlement" and request.state.user.can(PAY),
            "history": _history(request, claim), "files": record_panel(request, claim, error=files_error),
            "title": _("Reimbursement of %(destinations)s", destinations=claim.trip.destinations),
            "comment_error": "", **extra}


def visible_claim(request: Request, claim_id: int) -> Claim | None:
    """The claim if the reader may open it (``FileOwner.visible`` of its receipts)."""
    return _own_row(request, Claim, claim_id) if request.state.user.can(VIEW) else None


def claim_url(request: Request, claim: Claim) -> str:
    return _url(request, "claim", claim_id=claim.id)


def may_change_receipts(request: Request, claim: Claim) -> bool:
    """The traveller adds and removes receipts while the claim is a draft:
    before it is submitted, or once it is sent back. What was approved stays."""
    user = request.state.user
    return claim.state == "draft" and claim.owner_id == user.id and user.can(FILE)


def claim_with_file_error(request: Request, claim: Claim, error: str) -> Response:
    return _render(request, "travel_expense/claim.html", _claim_context(request, claim, files_error=error), status=422)


@requires(VIEW)
def claim_detail(request: Request) -> Response:
    claim = _get(request, Claim, "claim_id")
    return _render(request, "travel_expense/claim.html", _claim_context(request, claim))


@requires(VIEW)
def claim_step(request: Request) -> Response:
    claim = _get(request, Claim, "claim_id")
    if request.path_params["step"] == "settle":
        raise NotFound()
    return _step(request, claim, _url(request, "claim", claim_id=claim.id),
                 lambda msg: _render(request, "travel_expense/claim.html",
                                     _claim_context(request, claim, comment_error=msg), status=422))


@requires(PAY)
def claim_settle(request: Request) -> Response:
    claim = _get(request, Claim, "claim_id")
    check_version(claim, request.state.form.get("version"))
    services.settle(_site(request), request.state.db, claim, request.state.user,
                    request.state.form.get("reference", ""))
    return flash_redirect(request, _url(request, "claim", claim_id=claim.id), _("Claim settled; the advance is cleared."))


# --- Report ---------------------------------------------------------------------------


REPORT_GROUPS = {"engineer": _l("Per engineer"), "customer": _l("Per customer"), "region": _l("Per region")}


@requires(REPORT)
def report(request: Request) -> Response:
    params = request.query_params
    site = _site(request)
    today = site.day_of()
    month = dates.parse_month(params.get("month")) or today.replace(day=1)
    by = params.get("by") if params.get("by") in REPORT_GROUPS else "engineer"
    rows = services.cost_report(site, request.state.db, month, by)
    if params.get("format") in ("csv", "xlsx"):
        return export_response(params["format"], _("Travel cost %(month)s", month=month.strftime("%Y-%m")),
                               [str(REPORT_GROUPS[by]), _("Trips"), _("Reimbursed (yuan)")],
                               ([r["label"], r["trips"], r["total"]] for r in rows))
    top = max((r["total"] for r in rows), default=Decimal("0"))
    bars = [{**r, "width": int(r["total"] * 300 / top) if top else 0, "y": i * 24} for i, r in enumerate(rows)]
    return _render(request, "travel_expense/report.html",
                   {"rows": rows, "bars": bars, "month": month.strftime("%Y-%m"), "by": by, "groups": REPORT_GROUPS,
                    "total": sum((r["total"] for r in rows), Decimal("0.00")), "chart_height": len(rows) * 24 + 4,
                    "title": _("Travel cost report")})


# --- Standards (TRV-1) ------------------------------------------------------------------


def standard_form() -> Form:
    return Form([
        Field("grade", _l("Grade"), kind="choice", required=True, choices=lambda: list(GRADES.items())),
        Field("effective_from", _l("Effective from"), kind="date", required=True),
        Field("transport_class", _l("Transport class allowed"), kind="choice", required=True,
              choices=lambda: list(CLASS_LABELS.items())),
        Field("lodging_cap", _l("Lodging cap per night (yuan)"), kind="money", required=True),
        Field("meal_rate", _l("Meals per day (yuan)"), kind="money", required=True),
        Field("notes", _l("Notes"), kind="textarea"),
    ])


@requires(VIEW)
def standards(request: Request) -> Response:
    db = request.state.db
    site = _site(request)
    rows = list(db.scalars(select(Standard).order_by(Standard.grade, Standard.effective_from.desc())))
    general = services.standard_for(site, db, "", date.max)
    if request.query_params.get("format") in ("csv", "xlsx"):
        at_cost = _("at actual cost")
        return export_response(
            request.query_params["format"], _("Travel standards"),
            [_("Grade"), _("Effective from"), _("Transport class allowed"), _("Lodging cap per night (yuan)"),
             _("Meals per day (yuan)"), _("Local transport")],
            [[_("General staff (any grade without its own row)"), _("settings"),
              str(CLASS_LABELS[general.transport_class]), general.lodging_cap, general.meal_rate, at_cost],
             *([str(GRADES.get(s.grade, s.grade)), s.effective_from, str(CLASS_LABELS[s.transport_class]),
                s.lodging_cap, s.meal_rate, at_cost] for s in rows)])
    return _render(request, "travel_expense/standards.html",
                   {"rows": rows, "general": general, "title": _("Travel standards")})


@requires(STANDARDS)
def standard_edit(request: Request) -> Response:
    db = request.state.db
    row = None
    if "standard_id" in request.path_params:
        row = db.get(Standard, record_id(request.path_params["standard_id"]) or 0)
        if row is None:
            raise NotFound()
    form = standard_form()

    def render(status=200, conflict=None):
        return _render(request, "travel_expense/standard_form.html",
                       {"form": form, "row": row, "conflict": conflict,
                        "title": _("Travel standard")}, status=status, fragment="form")

    if request.method == "GET":
        form.fill(row)
        return render()
    form.load(request.state.form)
    if row is not None and form.outdated(row, request.state.form):
        return render(409, conflict=[(_("Lodging cap per night (yuan)"), f"{row.lodging_cap:.2f}"),
                                     (_("Meals per day (yuan)"), f"{row.meal_rate:.2f}")])
    if not form.errors:
        clash = db.scalar(select(Standard.id).where(Standard.grade == form.values["grade"],
                                                    Standard.effective_from == form.values["effective_from"]))
        if clash and (row is None or clash != row.id):
            form.error("effective_from", _l("This grade already has a standard from this date."))
    if form.errors:
        return render(422)
    row = row or Standard()
    form.apply(row)
    db.add(row)
    return flash_redirect(request, _url(request, "standards"), _("Travel standard saved."))


def routes() -> list[Route]:
    return [
        Route("/", trip_list, name="list"),
        Route("/new", trip_new, methods=["GET", "POST"], name="trip_new"),
        Route("/trip/{trip_id}", trip_detail, name="trip"),
        Route("/trip/{trip_id}/edit", trip_edit, methods=["GET", "POST"], name="trip_edit"),
        Route("/trip/{trip_id}/step/{step}", trip_step, methods=["POST"], name="trip_step"),
        Route("/trip/{trip_id}/record", record_new, methods=["POST"], name="record_new"),
        Route("/trip/{trip_id}/advance", advance_new, methods=["GET", "POST"], name="advance_new"),
        Route("/trip/{trip_id}/claim", claim_edit, methods=["GET", "POST"], name="claim_edit"),
        Route("/advances", advance_list, name="advances"),
        Route("/advance/{advance_id}", advance_detail, name="advance"),
        Route("/advance/{advance_id}/step/{step}", advance_step, methods=["POST"], name="advance_step"),
        Route("/advance/{advance_id}/pay", advance_pay, methods=["POST"], name="advance_pay"),
        Route("/ledger", ledger_page, name="ledger"),
        Route("/claim/{claim_id}", claim_detail, name="claim"),
        Route("/claim/{claim_id}/step/{step}", claim_step, methods=["POST"], name="claim_step"),
        Route("/claim/{claim_id}/settle", claim_settle, methods=["POST"], name="claim_settle"),
        Route("/report", report, name="report"),
        Route("/standards", standards, name="standards"),
        Route("/standards/new", standard_edit, methods=["GET", "POST"], name="standard_new"),
        Route("/standards/{standard_id}", standard_edit, methods=["GET", "POST"], name="standard_edit"),
    ]


def customer_panel(request: Request, customer) -> list:
    """TRV-8 on the customer page: the trips that served this customer (within
    the reader's record rules) and whether each is in the service record."""
    from fuwu.web.ui import Panel

    user = request.state.user
    if not user.can(VIEW):
        return []
    db = request.state.db
    trips = list(db.scalars(select(Trip).join(Trip.customers).where(Customer.id == customer.id,
                                                                   own_rows(user, Trip))
                            .order_by(Trip.depart_on.desc(), Trip.id.desc()).limit(20)))
    if not trips:
        return []
    ids = [t.id for t in trips]
    recorded = set(db.scalars(select(ServiceRecord.trip_id).where(ServiceRecord.trip_id.in_(ids),
                                                                  ServiceRecord.customer_id == customer.id)))
    return [Panel(_("Field trips"), "travel_expense/panel.html", {"trips": trips, "recorded": recorded}, order=60)]


def travel_widget(request: Request) -> list:
    """The dashboard card: one's open advance and claims; the queues of the
    service manager, the general manager and finance (counts, two queries)."""
    from sqlalchemy import func

    from fuwu.web.ui import Widget

    user = request.state.user
    if not user.can(VIEW):
        return []
    db = request.state.db
    mine = services.open_advance(db, user.id)
    counts = {}
    queues = []
    if user.can(REVIEW):
        queues += [("trip", "review"), ("claim", "review")]
    if user.can(APPROVE_ADVANCE):
        queues.append(("advance", "approval"))
    if user.can(PAY):
        queues += [("advance", "approved"), ("claim", "settlement")]
    if queues:
        for model, kind in ((Trip, "trip"), (Advance, "advance"), (Claim, "claim")):
            wanted = [state for k, state in queues if k == kind]
            if wanted:
                for state, n in db.execute(select(model.state, func.count()).where(model.state.in_(wanted))
                                           .group_by(model.state)):
                    counts[(kind, state)] = n
    drafts = db.scalar(select(func.count()).select_from(Claim).where(Claim.owner_id == user.id,
                                                                     Claim.state == "draft"))
    labels = {("trip", "review"): _("Applications to review"), ("claim", "review"): _("Claims to review"),
              ("advance", "approval"): _("Advances waiting for the general manager"),
              ("advance", "approved"): _("Payments due"), ("claim", "settlement"): _("Claims to settle")}
    links = {("trip", "review"): _url(request, "list") + "?state=review",
             ("claim", "review"): _url(request, "list") + "?claim=review",
             ("advance", "approval"): _url(request, "advances") + "?state=approval",
             ("advance", "approved"): _url(request, "advances") + "?state=approved",
             ("claim", "settlement"): _url(request, "advances") + "#to-settle"}
    rows = [(labels[q], counts.get(q, 0), links[q]) for q in queues]
    return [Widget(_("Travel"), "travel_expense/widget.html",
                   {"advance": mine, "drafts": drafts, "rows": rows}, order=40)]
