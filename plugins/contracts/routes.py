"""Pages of the contracts plugin, mounted under ``/contracts/``.

Thin: parse, authorise (permission + record rules), call ``services`` /
``rules``, render. Core's own contract pages live at ``/contracts`` and
``/contracts/<id>``; this plugin's pages use other paths (``/contracts/service/<id>``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import contains_eager
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import NoMatchFound, Route

from fuwu import dates
from fuwu.db import check_version
from fuwu.errors import NotFound, StaleEdit, ValidationError
from fuwu.i18n import Month
from fuwu.i18n import gettext as _
from fuwu.i18n import lazy_gettext as _l
from fuwu.models import ACCOUNT_TYPES, Contract, Customer, Product, Staff, customer_regions
from fuwu.web import scope
from fuwu.web.endpoint import requires
from fuwu.web.export import MAX_ROWS, export_response
from fuwu.web.forms import Field, Form, record_id, search_text
from fuwu.web.pagination import keyset_page
from fuwu.web.ui import Panel, Widget

from . import rules, services
from .models import Renewal, ServicePeriod, SlaLevel, SlaMilestone, Visit

VIEW = "contracts.contract.view"

POLICY_LABELS = {
    "visits": _l("First N on-site visits free"),
    "days": _l("Free during the first N working days of normal use"),
}
PROBLEM_LABELS = {"software": _l("Software problem"), "hardware": _l("Hardware replacement")}
CLOCK_LABELS = {"working": _l("Working hours (working calendar)"), "24x7": _l("Round the clock (7x24)")}
UNIT_LABELS = {"hours": _l("hours"), "days": _l("days")}
DECISION_LABELS = {"charge": _l("Charge the customer"), "waive": _l("Waive the charge")}
URGENCY_LABELS = {"expired": _l("Ended"), "urgent": _l("Urgent"), "soon": _l("Soon"), "later": _l("Later on")}
URGENCY_CLASSES = {"expired": "danger", "urgent": "danger", "soon": "warn", "later": ""}
RENEWAL_FILTERS = {
    "none": _l("No renewal yet"),
    "open": _l("Renewal in progress"),
    "proposed": _l("Proposed"),
    "agreed": _l("Agreed with the customer"),
    "contacted": _l("Customer contacted"),
    "updated": _l("Software updated"),
    "done": _l("Done"),
    "declined": _l("Declined"),
}


def _templates(request: Request):
    return request.app.state.templates


def _render(request: Request, name: str, context: dict, **kwargs) -> Response:
    return _templates(request).render(request, name, context, **kwargs)


def _site(request: Request):
    return request.app.state.site


def _setting(request: Request, key: str):
    return _site(request).settings.get(key, request.state.db)


def _today(request: Request):
    return _site(request).day_of()


def _url(request: Request, name: str, **params) -> str:
    return request.url_for(f"contracts:{name}", **params).path


def _core_url(request: Request, name: str, **params) -> str | None:
    """A link to a core page, or None when this app has no such page."""
    try:
        return request.url_for(name, **params).path
    except NoMatchFound:  # core's pages are not part of the plugin API
        return None


#: Confirmations shown after a form's redirect (``?notice=<key>``): the plugin
#: API has no flash message, and a fixed list keeps the URL from carrying text.
NOTICES = {
    "saved": _l("Changes saved."),
    "period_added": _l("Service period added."),
    "renewal_proposed": _l("Renewal proposed."),
    "renewal_step": _l("Renewal moved on: %(state)s."),
    "waived": _l("Decision recorded: the engineer waives the charge."),
    "charged": _l("Decision recorded: the engineer collects the fee."),
    "visit": _l("Visit recorded: %(outcome)s (%(reason)s)."),
    "level_saved": _l("SLA level saved."),
}


def _redirect(request: Request, name: str, notice: str, *, visit: int | None = None, **params) -> Response:
    query = {"notice": notice, **({"visit": visit} if visit else {})}
    return RedirectResponse(f"{_url(request, name, **params)}?{urlencode(query)}", status_code=303)


def _notice(request: Request, *, visits=(), state_label=None) -> str:
    """The confirmation asked for by ``?notice=``, in the reader's language."""
    key = request.query_params.get("notice", "")
    if key not in NOTICES:
        return ""
    if key == "visit":
        visit = next((v for v in visits if str(v.id) == request.query_params.get("visit")), None)
        if visit is None:
            return ""
        return _("Visit recorded: %(outcome)s (%(reason)s).", outcome=_("Charged") if visit.charged else _("Free"),
                 reason=visit.reason_text())
    if key == "renewal_step":
        return _("Renewal moved on: %(state)s.", state=state_label) if state_label else ""
    return str(NOTICES[key])


# --- Record rules: a contract is visible when its customer is ---------------------------


def visible_contract(request: Request, contract_id) -> Contract:
    contract = request.state.db.scalar(
        select(Contract).join(Contract.customer)
        .where(Contract.id == record_id(contract_id), Contract.kind == "service", scope.contracts(request.state.user))
        .options(contains_eager(Contract.customer)))
    if contract is None:
        raise NotFound()
    return contract


def _visible_child(request: Request, model, child_id):
    row = request.state.db.scalar(
        select(model).join(Contract, Contract.id == model.contract_id).join(Customer, Customer.id == Contract.customer_id)
        .where(model.id == record_id(child_id), scope.contracts(request.state.user)))
    if row is None:
        raise NotFound()
    return row


def _staff_choices(db):
    box: list = []

    def choices():
        if not box:
            box.extend(db.execute(select(Staff.id, Staff.name).where(Staff.active.is_(True)).order_by(Staff.name)))
        return box

    return choices


# --- Lists: the expiry board and all service contracts (CON-5) ---------------------------

LIST_SORTS = {
    "end": None,  # the period end, filled in per query
    "number": Contract.number,
    "customer": Customer.name,
}


def _list_page(request: Request, *, expiring: bool) -> Response:
    db = request.state.db
    site = _site(request)
    params = request.query_params
    today = _today(request)
    window = _setting(request, "contracts.expiry_window_days")
    query, end = services.service_contracts(scope.contracts(request.state.user), today=today, params=params,
                                            window_days=window, expiring_default=expiring)
    query = query.options(contains_eager(Contract.customer))
    sort = params.get("sort", "end")
    if sort.lstrip("-") not in LIST_SORTS:
        sort = "end"
    column = LIST_SORTS[sort.lstrip("-")]
    sort_key = (end if column is None else column).label("sort_key")
    query = query.add_columns(sort_key)
    descending = sort.startswith("-")
    title = _("Expiring service contracts") if expiring else _("Service contracts")
    if params.get("format") in ("csv", "xlsx"):
        order = (sort_key.desc(), Contract.id.desc()) if descending else (sort_key.asc(), Contract.id.asc())
        found = db.execute(query.order_by(*order).limit(MAX_ROWS)).all()
        rows = services.rows_for(site, db, [r[0] for r in found], [r.period_end for r in found], today)
        return export_response(
            params["format"], title,
            [_("Customer"), _("Contract number"), _("Account type"), _("Region"), _("Period ends on"),
             _("Days left"), _("Warranty"), _("SLA level"), _("Renewal"), _("Responsible")],
            ([r.contract.customer.name, r.contract.number, str(ACCOUNT_TYPES[r.contract.customer.account_type]),
              r.contract.customer.region, r.period_end, r.left,
              _("In warranty") if r.current else _("Out of warranty"),
              _(r.level.name) if r.level else "",
              str(RENEWAL_FILTERS.get(r.renewal.state, "")) if r.renewal else "",
              r.responsible.name if r.responsible else ""] for r in rows))
    page = keyset_page(db, query, sort_col=sort_key, id_col=Contract.id, descending=descending,
                       after=params.get("after"), before=params.get("before"),
                       size=site.settings.get("core.page_size", db))
    rows = services.rows_for(site, db, [r[0] for r in page.rows], [r.period_end for r in page.rows], today)
    regions = customer_regions(db)
    return _render(
        request, "contracts/list.html",
        {"page": page, "rows": rows, "sort": sort, "expiring": expiring, "window": window, "today": today,
         "regions": regions, "account_types": ACCOUNT_TYPES, "renewal_filters": RENEWAL_FILTERS,
         "urgency_labels": URGENCY_LABELS, "urgency_classes": URGENCY_CLASSES, "title": title,
         "list_route": "contracts:expiring" if expiring else "contracts:list"},
        fragment="results")


@requires(VIEW)
def expiring_list(request: Request) -> Response:
    return _list_page(request, expiring=True)


@requires(VIEW)
def contract_list(request: Request) -> Response:
    return _list_page(request, expiring=False)


# --- Contract page -----------------------------------------------------------------


def _contract_context(request: Request, contract: Contract) -> dict:
    db = request.state.db
    site = _site(request)
    today = _today(request)
    periods = services.periods_by_contract(db, [contract.id])[contract.id]
    row = services.terms_by_contract(db, [contract.id]).get(contract.id)
    terms = services.effective_terms(site, db, row, contract)
    current = services.covering_for_contract(db, contract, today, site.config.timezone)
    visits = list(db.scalars(select(Visit).where(Visit.contract_id == contract.id)
                             .order_by(Visit.visited_on.desc(), Visit.id.desc())))
    start = services.window_start(site, db, periods, current)
    allowance = rules.allowance(policy=terms.policy, free_visits=terms.free_visits, free_days=terms.free_days,
                                window_start=start, used=services.used_visits(visits, start, today), today=today,
                                calendar=site.calendar(db))
    renewals = list(db.scalars(select(Renewal).where(Renewal.contract_id == contract.id)
                               .order_by(Renewal.id.desc())))
    latest = max(periods, key=lambda p: p.ends_on, default=None)
    open_renewal = next((r for r in renewals if r.state not in rules.RENEWAL_CLOSED), None)
    level = terms.level if current is not None else services.default_level(site, db, in_warranty=False)
    left = rules.days_left(latest.ends_on, today) if latest else None
    return {
        "contract": contract, "periods": periods, "terms": terms, "current": current, "latest": latest,
        "visits": visits, "allowance": allowance, "renewals": renewals, "open_renewal": open_renewal,
        "level": level, "milestones": services.milestones(site, db, level) if level else [],
        "today": today, "left": left, "urgency_classes": URGENCY_CLASSES,
        "urgency": rules.urgency(left, urgent_days=_setting(request, "contracts.urgent_days"),
                                 soon_days=_setting(request, "contracts.soon_days")) if left is not None else None,
        "core_contract_url": _core_url(request, "contract", contract_id=contract.id),
        "policy_labels": POLICY_LABELS, "problem_labels": PROBLEM_LABELS, "decision_labels": DECISION_LABELS,
        "renewal_labels": RENEWAL_FILTERS, "clock_labels": CLOCK_LABELS, "unit_labels": UNIT_LABELS,
        "account_types": ACCOUNT_TYPES, "workflows": site.workflows, "title": contract.number,
        "notice": _notice(request, visits=visits),
    }


@requires(VIEW)
def contract_detail(request: Request) -> Response:
    contract = visible_contract(request, request.path_params["contract_id"])
    return _render(request, "contracts/detail.html", _contract_context(request, contract))


@requires(VIEW)
def contract_summary(request: Request) -> Response:
    """A one-page summary to print and file with the paper contract."""
    contract = visible_contract(request, request.path_params["contract_id"])
    return _render(request, "contracts/summary.html", _contract_context(request, contract))


@requires(VIEW)
def deadlines(request: Request) -> Response:
    """CON-3 calculator: every milestone's deadline for an incident (htmx fragment)."""
    contract = visible_contract(request, request.path_params["contract_id"])
    site = _site(request)
    params = request.query_params
    zone = site.zone
    error = ""
    answer = None
    text = params.get("started_at", "").strip()
    started = dates.parse_datetime(text) if text else datetime.now(zone).replace(second=0, microsecond=0)
    if started is None:
        error = _("Enter a date and time.")
    else:
        if started.tzinfo is None:
            started = started.replace(tzinfo=zone)
        level = params.get("level") or None
        if level and not services.level_by_code(request.state.db, level):
            level = None
        answer = site.plugins.hook.sla_deadlines(site=site, session=request.state.db, contract=contract,
                                                 started_at=started, level=level)
    return _render(
        request, "contracts/deadlines.html",
        {"contract": contract, "answer": answer, "started": started, "error": error,
         "levels": services.levels(request.state.db, active_only=True), "title": contract.number,
         "unit_labels": UNIT_LABELS},
        status=422 if error else 200, fragment="deadlines")


# --- Terms (SLA level, free-visit policy, responsible) -------------------------------------


def terms_form(request: Request) -> Form:
    db = request.state.db
    return Form([
        Field("sla_level_id", _l("SLA level"), kind="choice",
              choices=lambda: [(lv.id, _(lv.name)) for lv in services.levels(db, active_only=True)],
              help=_l("Empty: the site's level for contracts in warranty.")),
        Field("visit_policy", _l("Free-visit policy"), kind="choice", choices=lambda: list(POLICY_LABELS.items()),
              help=_l("Empty: the site's policy.")),
        Field("free_visits", _l("Free on-site visits (N)"), kind="int", minimum=0, maximum=100),
        Field("free_days", _l("Free working days of normal use (N)"), kind="int", minimum=0, maximum=1000),
        Field("responsible_id", _l("Responsible for the renewal"), kind="choice", choices=_staff_choices(db),
              help=_l("Empty: whoever signed the contract.")),
        Field("notes", _l("Notes"), kind="textarea"),
    ])


@requires("contracts.contract.edit")
def terms_edit(request: Request) -> Response:
    db = request.state.db
    contract = visible_contract(request, request.path_params["contract_id"])
    row = services.terms_by_contract(db, [contract.id]).get(contract.id)
    form = terms_form(request)

    def render(status=200, conflict=None):
        return _render(
            request, "contracts/terms.html",
            {"form": form, "contract": contract, "row": row, "conflict": conflict, "policy_labels": POLICY_LABELS,
             "defaults": services.effective_terms(_site(request), db, None, contract),
             "title": _("Service terms of %(number)s", number=contract.number)},
            status=status, fragment="form")

    if request.method == "GET":
        form.fill(row)
        return render()
    form.load(request.state.form)
    if row is not None and form.outdated(row, request.state.form):
        return render(409, conflict=row)
    if form.errors:
        return render(422)
    row = row or services.terms_row(db, contract)
    values = dict(form.values)
    row.sla_level_id = int(values["sla_level_id"]) if values["sla_level_id"] else None
    row.visit_policy = values["visit_policy"] or None
    row.free_visits, row.free_days = values["free_visits"], values["free_days"]
    row.responsible_id = int(values["responsible_id"]) if values["responsible_id"] else None
    row.notes = values["notes"]
    db.flush()
    db.expire(row, ["sla_level", "responsible"])
    services.recompute_visits(_site(request), db, contract)
    return _redirect(request, "detail", "saved", contract_id=contract.id)


# --- Periods (CON-1, CON-2) ---------------------------------------------------------------


def period_form() -> Form:
    return Form([
        Field("starts_on", _l("Starts on"), kind="date", required=True),
        Field("ends_on", _l("Ends on"), kind="date", required=True),
        Field("amount", _l("Amount (yuan)"), kind="money"),
        Field("notes", _l("Notes"), kind="textarea"),
    ])


def _render_period(request, form, contract, period, status=200, conflict=None):
    return _render(
        request, "contracts/period.html",
        {"form": form, "contract": contract, "period": period, "conflict": conflict,
         "title": _("Service period of %(number)s", number=contract.number)},
        status=status, fragment="form")


def _period_errors(request, form, contract, exclude_id=None) -> None:
    if form.errors:
        return
    for name, message in services.check_period(request.state.db, contract.id, form.values["starts_on"],
                                               form.values["ends_on"], exclude_id).items():
        form.error(name, message)


@requires("contracts.contract.edit")
def period_new(request: Request) -> Response:
    db = request.state.db
    contract = visible_contract(request, request.path_params["contract_id"])
    form = period_form()
    if request.method == "GET":
        periods = services.periods_by_contract(db, [contract.id])[contract.id]
        if periods:
            start, end = rules.renewal_proposal(max(p.ends_on for p in periods),
                                                _setting(request, "contracts.renewal_months"))
        else:
            start = rules.period_start(contract.signed_on, contract.installed_on)
            end = contract.ends_on
        form.fill(None, starts_on=start, ends_on=end, amount=None)
        return _render_period(request, form, contract, None)
    form.load(request.state.form)
    _period_errors(request, form, contract)
    if form.errors:
        return _render_period(request, form, contract, None, 422)
    period = ServicePeriod(contract_id=contract.id, source="manual", starts_on=form.values["starts_on"],
                           ends_on=form.values["ends_on"], amount=form.values["amount"] or Decimal("0.00"),
                           notes=form.values["notes"])
    db.add(period)
    db.flush()
    services.recompute_visits(_site(request), db, contract)
    return _redirect(request, "detail", "period_added", contract_id=contract.id)


@requires("contracts.contract.edit")
def period_edit(request: Request) -> Response:
    db = request.state.db
    period = _visible_child(request, ServicePeriod, request.path_params["period_id"])
    contract = visible_contract(request, period.contract_id)
    form = period_form()
    if request.method == "GET":
        form.fill(period)
        return _render_period(request, form, contract, period)
    form.load(request.state.form)
    if form.outdated(period, request.state.form):
        return _render_period(request, form, contract, period, 409, conflict=period)
    _period_errors(request, form, contract, period.id)
    if form.errors:
        return _render_period(request, form, contract, period, 422)
    period.starts_on, period.ends_on = form.values["starts_on"], form.values["ends_on"]
    period.amount = form.values["amount"] or Decimal("0.00")
    period.notes = form.values["notes"]
    db.flush()
    services.recompute_visits(_site(request), db, contract)
    return _redirect(request, "detail", "saved", contract_id=contract.id)


# --- Visits (CON-4) -------------------------------------------------------------------


def visit_form(request: Request, contract: Contract) -> Form:
    db = request.state.db

    def products():
        return [(p.id, p.name) for p in contract.products] or [
            (p.id, p.name) for p in db.scalars(select(Product).order_by(Product.name))]

    return Form([
        Field("visited_on", _l("Visited on"), kind="date", required=True),
        Field("engineer_id", _l("Engineer"), kind="choice", required=True, choices=_staff_choices(db)),
        Field("problem", _l("Problem"), kind="choice", required=True, choices=lambda: list(PROBLEM_LABELS.items())),
        Field("product_id", _l("Software"), kind="choice", choices=products),
        Field("manufacturer_warranty", _l("Hardware under the manufacturer's warranty"), kind="bool"),
        Field("summary", _l("What was done"), required=True, max_length=300),
        Field("fee", _l("Fee if charged (yuan)"), kind="money",
              help=_l("By the department's fee schedule; only collected when the visit is charged.")),
        Field("disputed", _l("The customer disputes the charge"), kind="bool"),
        Field("dispute_note", _l("The customer's objection"), kind="textarea"),
    ])


def _render_visit(request, form, contract, visit=None, status=200, conflict=None):
    return _render(
        request, "contracts/visit.html",
        {"form": form, "contract": contract, "visit": visit, "conflict": conflict,
         "title": _("On-site visit for %(number)s", number=contract.number)},
        status=status, fragment="form")


def _apply_visit(form: Form, visit: Visit) -> None:
    values = form.values
    visit.visited_on, visit.engineer_id = values["visited_on"], int(values["engineer_id"])
    visit.problem = values["problem"]
    visit.product_id = int(values["product_id"]) if values["product_id"] else None
    visit.manufacturer_warranty = values["manufacturer_warranty"] and values["problem"] == "hardware"
    visit.summary, visit.fee = values["summary"], values["fee"] or Decimal("0.00")
    visit.disputed, visit.dispute_note = values["disputed"] or visit.decision is not None, values["dispute_note"]


@requires("contracts.visit.record")
def visit_edit(request: Request) -> Response:
    """Correct a visit (wrong date, engineer, problem); later visits are decided again."""
    db = request.state.db
    visit = _visible_child(request, Visit, request.path_params["visit_id"])
    contract = visible_contract(request, visit.contract_id)
    form = visit_form(request, contract)
    if request.method == "GET":
        form.fill(visit)
        return _render_visit(request, form, contract, visit)
    form.load(request.state.form)
    if form.outdated(visit, request.state.form):
        return _render_visit(request, form, contract, visit, 409, conflict=visit)
    if form.errors:
        return _render_visit(request, form, contract, visit, 422)
    was_disputed = visit.disputed
    _apply_visit(form, visit)
    db.flush()
    services.recompute_visits(_site(request), db, contract)
    if visit.disputed and not was_disputed and visit.charged and visit.decision is None:
        services.ask_for_decision(db, contract, visit)
    return _redirect(request, "detail", "saved", contract_id=contract.id)


@requires("contracts.visit.record")
def visit_new(request: Request) -> Response:
    site = _site(request)
    contract = visible_contract(request, request.path_params["contract_id"])
    form = visit_form(request, contract)
    if request.method == "GET":
        fee = _setting(request, "contracts.visit_fee")
        form.fill(None, visited_on=_today(request), engineer_id=request.state.user.id, problem="software",
                  fee=fee if fee else None)
        return _render_visit(request, form, contract)
    if not form.load(request.state.form):
        return _render_visit(request, form, contract, status=422)
    visit = Visit()
    _apply_visit(form, visit)
    services.record_visit(site, request.state.db, contract, visit)
    return _redirect(request, "detail", "visit", visit=visit.id, contract_id=contract.id)


def _visits_query(request: Request):
    params = request.query_params
    query = (select(Visit, Contract.number.label("number"), Customer.name.label("customer_name"),
                    Customer.id.label("customer_id"), Visit.visited_on, Visit.id)
             .join(Contract, Contract.id == Visit.contract_id).join(Customer, Customer.id == Contract.customer_id)
             .where(scope.contracts(request.state.user)))
    charged = or_(Visit.decision == "charge", and_(Visit.decision.is_(None), Visit.free.is_(False)))
    if params.get("charged") == "yes":
        query = query.where(charged)
    elif params.get("charged") == "no":
        query = query.where(~charged)
    if params.get("disputed"):
        query = query.where(Visit.disputed.is_(True))
    if params.get("region"):
        query = query.where(Customer.region == params["region"])
    if params.get("account_type") in ACCOUNT_TYPES:
        query = query.where(Customer.account_type == params["account_type"])
    q = search_text(params)
    if q:
        like = f"%{q}%"
        query = query.where(or_(Contract.number.ilike(like), Customer.name.ilike(like), Visit.summary.ilike(like)))
    return query


@requires(VIEW)
def visit_list(request: Request) -> Response:
    db = request.state.db
    params = request.query_params
    query = _visits_query(request)
    if params.get("format") in ("csv", "xlsx"):
        found = db.execute(query.order_by(Visit.visited_on.desc(), Visit.id.desc()).limit(MAX_ROWS)).all()
        return export_response(
            params["format"], _("Visit log"),
            [_("Visited on"), _("Customer"), _("Contract number"), _("Engineer"), _("Problem"), _("What was done"),
             _("Free or charged"), _("Why"), _("Fee (yuan)"), _("Decision")],
            ([v.visited_on, customer, number, v.engineer.name if v.engineer else "", str(PROBLEM_LABELS[v.problem]),
              v.summary, _("Charged") if v.charged else _("Free"), v.reason_text(),
              v.fee if v.charged else Decimal("0.00"),
              str(DECISION_LABELS[v.decision]) if v.decision else ""]
             for v, number, customer in ((row[0], row.number, row.customer_name) for row in found)))
    page = keyset_page(db, query, sort_col=Visit.visited_on, id_col=Visit.id, descending=True,
                       after=params.get("after"), before=params.get("before"),
                       size=_setting(request, "core.page_size"))
    regions = customer_regions(db)
    return _render(
        request, "contracts/visits.html",
        {"page": page, "regions": regions, "account_types": ACCOUNT_TYPES, "problem_labels": PROBLEM_LABELS,
         "decision_labels": DECISION_LABELS, "title": _("Visit log")},
        fragment="results")


def decision_form() -> Form:
    return Form([
        Field("decision", _l("Decision"), kind="choice", required=True, choices=lambda: list(DECISION_LABELS.items())),
        Field("dispute_note", _l("The customer's objection"), kind="textarea"),
        Field("comment", _l("Reason for the decision"), kind="textarea", required=True),
    ])


@requires("contracts.visit.decide")
def visit_decision(request: Request) -> Response:
    """004 charging §3, §5: the salesperson or department head decides a
    disputed charge; the engineer follows the decision."""
    db = request.state.db
    visit = _visible_child(request, Visit, request.path_params["visit_id"])
    contract = visible_contract(request, visit.contract_id)
    form = decision_form()

    def render(status=200, conflict=None):
        return _render(
            request, "contracts/decision.html",
            {"form": form, "visit": visit, "contract": contract, "conflict": conflict,
             "decision_labels": DECISION_LABELS, "problem_labels": PROBLEM_LABELS,
             "title": _("Disputed charge")}, status=status, fragment="form")

    if request.method == "GET":
        form.fill(visit, comment=visit.decision_comment)
        return render()
    form.load(request.state.form)
    if form.outdated(visit, request.state.form):
        return render(409, conflict=visit)
    if form.errors:
        return render(422)
    visit.dispute_note = form.values["dispute_note"]
    services.decide(db, contract, visit, form.values["decision"], request.state.user, form.values["comment"],
                    datetime.now(UTC))
    return _redirect(request, "detail", "waived" if visit.decision == "waive" else "charged",
                     contract_id=contract.id)


# --- Renewals (CON-5) -----------------------------------------------------------------


def renewal_form(db) -> Form:
    return Form([
        Field("starts_on", _l("New period starts on"), kind="date", required=True),
        Field("ends_on", _l("New period ends on"), kind="date", required=True),
        Field("amount", _l("Amount (yuan)"), kind="money", required=True),
        Field("assignee_id", _l("Assignee"), kind="choice", required=True, choices=_staff_choices(db)),
        Field("notes", _l("Notes"), kind="textarea"),
    ])


@requires("contracts.renewal.propose")
def renewal_new(request: Request) -> Response:
    db = request.state.db
    site = _site(request)
    contract = visible_contract(request, request.path_params["contract_id"])
    form = renewal_form(db)

    def render(status=200):
        return _render(
            request, "contracts/renewal_new.html",
            {"form": form, "contract": contract, "title": _("Renewal of %(number)s", number=contract.number)},
            status=status, fragment="form")

    if request.method == "GET":
        periods = services.periods_by_contract(db, [contract.id])[contract.id]
        last = max(periods, key=lambda p: p.ends_on, default=None)
        end = last.ends_on if last else (contract.ends_on or _today(request))
        start, stop = rules.renewal_proposal(end, _setting(request, "contracts.renewal_months"))
        terms = services.effective_terms(site, db, services.terms_by_contract(db, [contract.id]).get(contract.id),
                                         contract)
        form.fill(None, starts_on=start, ends_on=stop, amount=last.amount if last else contract.amount,
                  assignee_id=terms.responsible.id if terms.responsible else request.state.user.id)
        return render()
    if not form.load(request.state.form):
        return render(422)
    values = form.values
    try:
        renewal = services.propose(site, db, contract, request.state.user, starts_on=values["starts_on"],
                                   ends_on=values["ends_on"], amount=values["amount"],
                                   assignee_id=int(values["assignee_id"]), notes=values["notes"])
    except ValidationError as exc:
        for name, message in exc.errors.items():
            form.error(name, message)
        return render(422)
    return _redirect(request, "renewal", "renewal_proposed", renewal_id=renewal.id)


def _render_renewal(request: Request, renewal: Renewal, *, errors: dict | None = None, status: int = 200,
                    comment: str = "") -> Response:
    db = request.state.db
    site = _site(request)
    history = site.workflows.history(db, renewal)
    staff_ids = {h.actor_id for h in history if h.actor_id}
    staff = {s.id: s for s in db.scalars(select(Staff).where(Staff.id.in_(sorted(staff_ids))))} if staff_ids else {}
    done = {h.to_state: h for h in history}
    steps = [(state, site.workflows.get("contracts.renewal").by_state[state].label, done.get(state))
             for state in rules.RENEWAL_STEPS]
    return _render(
        request, "contracts/renewal.html",
        {"renewal": renewal, "contract": renewal.contract, "history": history, "staff": staff, "steps": steps,
         "allowed": site.workflows.allowed(renewal, request.state.user), "errors": errors or {},
         "workflow": site.workflows.of(renewal), "progress": rules.progress(renewal.state), "comment": comment,
         "notice": _notice(request, state_label=site.workflows.of(renewal).by_state[renewal.state].label),
         "title": _("Renewal of %(number)s", number=renewal.contract.number)},
        status=status)


@requires(VIEW)
def renewal_detail(request: Request) -> Response:
    renewal = _visible_child(request, Renewal, request.path_params["renewal_id"])
    return _render_renewal(request, renewal)


@requires(VIEW)
def renewal_step(request: Request) -> Response:
    """Take one step; the workflow engine checks the step's own permission."""
    renewal = _visible_child(request, Renewal, request.path_params["renewal_id"])
    form = request.state.form
    try:
        check_version(renewal, form.get("version"))
    except StaleEdit:
        return _render_renewal(request, renewal, status=409, comment=form.get("comment", ""),
                               errors={"version": _l("Someone else moved this renewal on after you opened it. "
                                                     "Check its state and try again.")})
    name = form.get("step", "")
    try:
        services.advance(_site(request), request.state.db, renewal, name, request.state.user,
                                 form.get("comment", ""))
    except ValidationError as exc:
        errors = dict(exc.errors) or {"step": exc.message}
        return _render_renewal(request, renewal, errors=errors, status=422, comment=form.get("comment", ""))
    return _redirect(request, "renewal", "renewal_step", renewal_id=renewal.id)


# --- Monthly plan (CON-6) ---------------------------------------------------------------


@requires("contracts.plan.view")
def plan_page(request: Request) -> Response:
    db = request.state.db
    today = _today(request)
    first = rules.parse_month(request.query_params.get("month"), today)
    rows = services.plan(_site(request), db, scope.contracts(request.state.user), first, today)
    renewal_states = _site(request).workflows.get("contracts.renewal").by_state
    if request.query_params.get("format") in ("csv", "xlsx"):
        return export_response(
            request.query_params["format"], _("Service-contract plan %(month)s", month=f"{first:%Y-%m}"),
            [_("Customer"), _("Contract number"), _("Account type"), _("Region"), _("Period ends on"),
             _("Assignee"), _("Renewal"), _("Progress"), _("Carried over")],
            ([r.contract.customer.name, r.contract.number, str(ACCOUNT_TYPES[r.contract.customer.account_type]),
              r.contract.customer.region, r.period.ends_on, r.assignee.name if r.assignee else "",
              str(renewal_states[r.renewal.state].label) if r.renewal else _("No renewal yet"),
              f"{r.progress[0]}/{r.progress[1]}" if r.progress else "", _("Yes") if r.carried_over else ""]
             for r in rows))
    done = sum(1 for r in rows if r.renewal and r.renewal.state == "done")
    return _render(
        request, "contracts/plan.html",
        {"rows": rows, "first": first, "done": done, "states": renewal_states, "account_types": ACCOUNT_TYPES,
         "title": _("Service-contract plan %(month)s", month=Month(first))})


# --- SLA levels (CON-3) -------------------------------------------------------------------

CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
NEW_MILESTONES = 2


@requires(VIEW)
def level_list(request: Request) -> Response:
    site = _site(request)
    db = request.state.db
    all_levels = services.levels(db)
    return _render(
        request, "contracts/levels.html",
        {"levels": all_levels, "effective": {lv.id: services.milestones(site, db, lv) for lv in all_levels},
         "clock_labels": CLOCK_LABELS, "unit_labels": UNIT_LABELS, "settings": site.settings,
         "notice": _notice(request), "title": _("SLA levels")})


def level_form() -> Form:
    return Form([
        Field("name", _l("Level name"), required=True, max_length=100),
        Field("description", _l("Level description"), kind="textarea"),
        Field("in_warranty", _l("Costs borne by the company (in warranty)"), kind="bool"),
        Field("clock", _l("Clock"), kind="choice", required=True, choices=lambda: list(CLOCK_LABELS.items())),
        Field("active", _l("Offered for new terms"), kind="bool"),
        Field("sequence", _l("Order"), kind="int", minimum=0, maximum=10000),
    ])


def _milestone_rows(level: SlaLevel | None, posted=None) -> list[dict]:
    """Rows of the milestone table: the level's own, then empty ones to add."""
    rows = []
    for i, m in enumerate(level.milestones if level else []):
        rows.append({"i": i, "id": m.id, "key": m.key, "label": m.label, "amount": "" if m.amount is None else m.amount,
                     "unit": m.unit, "setting_key": m.setting_key, "remove": False})
    for j in range(NEW_MILESTONES):
        rows.append({"i": len(rows), "id": None, "key": "", "label": "", "amount": "", "unit": "hours",
                     "setting_key": None, "remove": False})
    if posted is not None:
        for row in rows:
            prefix = f"m{row['i']}-"
            row["label"] = posted.get(prefix + "label", "").strip()
            row["amount"] = posted.get(prefix + "amount", "").strip()
            row["unit"] = posted.get(prefix + "unit", row["unit"])
            row["remove"] = posted.get(prefix + "remove") in ("on", "1")
            if row["id"] is None:
                row["key"] = posted.get(prefix + "key", "").strip()
    return rows


def _check_milestones(rows: list[dict], errors: dict) -> None:
    keys = set()
    for row in rows:
        prefix = f"m{row['i']}-"
        new = row["id"] is None
        if new and not (row["key"] or row["label"] or row["amount"]):
            continue
        if row["remove"]:
            continue
        if new:
            if not KEY.match(row["key"]):
                errors[prefix + "key"] = _l("Use lower-case letters, digits and _ (e.g. on_site).")
        if row["key"] in keys:
            errors[prefix + "key"] = _l("Each milestone needs its own key.")
        keys.add(row["key"])
        if not row["label"]:
            errors[prefix + "label"] = _l("This field is required.")
        if row["unit"] not in rules.UNITS:
            errors[prefix + "unit"] = _l("Choose from the list.")
        if row["amount"] == "" and not row["setting_key"]:
            errors[prefix + "amount"] = _l("This field is required.")
        elif row["amount"] != "":
            try:
                value = int(row["amount"])
            except ValueError:
                errors[prefix + "amount"] = _l("Enter a whole number.")
                continue
            if not 0 < value <= 10000:
                errors[prefix + "amount"] = _l("Must be at least %(min)s.", min=1)


def _level_edit(request: Request, level: SlaLevel | None) -> Response:
    db = request.state.db
    site = _site(request)
    form = level_form()
    code_error = None

    def render(rows, errors, status=200, conflict=None):
        return _render(
            request, "contracts/level_edit.html",
            {"form": form, "level": level, "rows": rows, "errors": errors, "conflict": conflict,
             "unit_labels": UNIT_LABELS, "settings": site.settings, "db": db,
             "title": _(level.name) if level else _("New SLA level")},
            status=status, fragment="form")

    if request.method == "GET":
        form.fill(level) if level else form.fill(None, clock="working", active=True, in_warranty=True, sequence=100)
        if level is not None and level.builtin:
            form.raw["name"] = _(level.name)
        return render(_milestone_rows(level), {})
    posted = request.state.form
    form.load(posted)
    rows = _milestone_rows(level, posted)
    errors = dict(form.errors)
    if level is not None and form.outdated(level, posted):
        return render(rows, errors, 409, conflict=level)
    code = posted.get("code", "").strip() if level is None else level.code
    if level is None:
        if not CODE.match(code):
            code_error = _l("Use lower-case letters, digits and _ (e.g. gold_24x7).")
        elif services.level_by_code(db, code):
            code_error = _l("Another level already has this code.")
        if code_error:
            errors["code"] = code_error
    _check_milestones(rows, errors)
    if errors:
        form.errors.update(errors)
        form.raw["code"] = code
        return render(rows, errors, 422)
    if level is None:
        level = SlaLevel(code=code, builtin=False, rule="CON-3")
        db.add(level)
    values = form.values
    if not (level.builtin and values["name"] == _(level.name)):
        level.name = values["name"]
    level.description, level.in_warranty, level.clock = values["description"], values["in_warranty"], values["clock"]
    level.active, level.sequence = values["active"], values["sequence"] if values["sequence"] is not None else 100
    existing = {m.id: m for m in level.milestones}
    for row in rows:
        amount = int(row["amount"]) if row["amount"] != "" else None
        if row["id"] is not None:
            m = existing[row["id"]]
            if row["remove"]:
                level.milestones.remove(m)
                continue
            if not (m.setting_key and row["label"] == _(m.label)):
                m.label = row["label"]
            m.amount, m.unit = amount, row["unit"]
        elif row["key"] and not row["remove"]:
            level.milestones.append(SlaMilestone(key=row["key"], label=row["label"], amount=amount, unit=row["unit"],
                                                 sequence=(len(level.milestones) + 1) * 10))
    db.flush()
    services.forget_levels(db)
    return _redirect(request, "levels", "level_saved")


@requires("contracts.sla.manage")
def level_new(request: Request) -> Response:
    return _level_edit(request, None)


@requires("contracts.sla.manage")
def level_edit(request: Request) -> Response:
    level = request.state.db.get(SlaLevel, record_id(request.path_params["level_id"]) or 0)
    if level is None:
        raise NotFound()
    return _level_edit(request, level)


# --- Customer panel and dashboard card (through core's hooks) --------------------------------


def customer_panel(request: Request, customer) -> list[Panel]:
    """CON-1..5 on the customer page: current period, SLA level, free visits
    left and renewal state of each service contract."""
    user = request.state.user
    if not user.can(VIEW):
        return []
    db = request.state.db
    site = _site(request)
    today = _today(request)
    contracts = list(db.scalars(select(Contract).where(Contract.customer_id == customer.id,
                                                       Contract.kind == "service")
                                .order_by(Contract.signed_on.desc(), Contract.id.desc())))
    ids = [c.id for c in contracts]
    periods = services.periods_by_contract(db, ids)
    terms = services.terms_by_contract(db, ids)
    renewals = services.latest_renewals(db, ids)
    visits: dict[int, list[Visit]] = {i: [] for i in ids}
    if ids:
        for v in db.scalars(select(Visit).where(Visit.contract_id.in_(ids))):
            visits[v.contract_id].append(v)
    calendar = site.calendar(db)
    items = []
    for contract in contracts:
        own = periods[contract.id]
        found = rules.covering_period([services.facts(p, customer.id) for p in own], customer_id=customer.id,
                                      at=today)
        current = next((p for p in own if found and p.id == found.id), None)
        t = services.effective_terms(site, db, terms.get(contract.id), contract)
        start = services.window_start(site, db, own, current)
        latest = max(own, key=lambda p: p.ends_on, default=None)
        items.append({
            "contract": contract, "current": current, "latest": latest, "terms": t,
            "level": t.level if current else services.default_level(site, db, in_warranty=False),
            "allowance": rules.allowance(policy=t.policy, free_visits=t.free_visits, free_days=t.free_days,
                                         window_start=start, used=services.used_visits(visits[contract.id], start,
                                                                                       today),
                                         today=today, calendar=calendar),
            "renewal": renewals.get(contract.id),
            "left": rules.days_left(latest.ends_on, today) if latest else None,
        })
    return [Panel(_("Service contracts"), "contracts/panel.html",
                  {"items": items, "renewal_labels": RENEWAL_FILTERS, "customer": customer,
                   "window": site.settings.get("contracts.expiry_window_days", db)}, order=20)]


def expiry_widget(request: Request) -> list[Widget]:
    """CON-5 on the dashboard: how many contracts end soon, the first few."""
    user = request.state.user
    if not user.can(VIEW):
        return []
    db = request.state.db
    site = _site(request)
    today = _today(request)
    window = site.settings.get("contracts.expiry_window_days", db)
    query, end = services.service_contracts(scope.contracts(user), today=today, params={}, window_days=window,
                                            expiring_default=True)
    urgent = site.settings.get("contracts.urgent_days", db)
    soon = site.settings.get("contracts.soon_days", db)
    # the counts in one grouped query (a busy window holds hundreds of contracts), the same bands as rules.urgency
    listed = query.subquery()
    band = case((listed.c.period_end < today, "expired"),
                (listed.c.period_end <= today + timedelta(days=urgent), "urgent"),
                (listed.c.period_end <= today + timedelta(days=soon), "soon"), else_="later")
    counts = {"expired": 0, "urgent": 0, "soon": 0, "later": 0}
    counts.update({kind: n for kind, n in db.execute(select(band, func.count()).group_by(band))})
    # the first few nobody has yet settled with the customer
    unsettled = or_(query.selected_columns.renewal_state.is_(None),
                    query.selected_columns.renewal_state.not_in(("agreed", "contacted", "updated", "done")))
    top = []
    for row in db.execute(query.where(unsettled).options(contains_eager(Contract.customer))
                          .order_by(end, Contract.id).limit(5)):
        left = rules.days_left(row.period_end, today)
        top.append((row[0], row.period_end, left, rules.urgency(left, urgent_days=urgent, soon_days=soon)))
    return [Widget(_("Service contracts ending within %(days)s days", days=window), "contracts/widget.html",
                   {"counts": counts, "top": top, "labels": URGENCY_LABELS, "classes": URGENCY_CLASSES},
                   order=30)]


def routes() -> list:
    return [
        Route("/expiring", expiring_list, name="expiring"),
        Route("/service", contract_list, name="list"),
        Route("/service/{contract_id:int}", contract_detail, name="detail"),
        Route("/service/{contract_id:int}/summary", contract_summary, name="summary"),
        Route("/service/{contract_id:int}/deadlines", deadlines, name="deadlines"),
        Route("/service/{contract_id:int}/terms", terms_edit, methods=["GET", "POST"], name="terms"),
        Route("/service/{contract_id:int}/periods/new", period_new, methods=["GET", "POST"], name="period_new"),
        Route("/periods/{period_id:int}/edit", period_edit, methods=["GET", "POST"], name="period_edit"),
        Route("/service/{contract_id:int}/visits/new", visit_new, methods=["GET", "POST"], name="visit_new"),
        Route("/visits", visit_list, name="visits"),
        Route("/visits/{visit_id:int}/edit", visit_edit, methods=["GET", "POST"], name="visit_edit"),
        Route("/visits/{visit_id:int}/decision", visit_decision, methods=["GET", "POST"], name="visit_decision"),
        Route("/service/{contract_id:int}/renewals/new", renewal_new, methods=["GET", "POST"], name="renewal_new"),
        Route("/renewals/{renewal_id:int}", renewal_detail, name="renewal"),
        Route("/renewals/{renewal_id:int}/step", renewal_step, methods=["POST"], name="renewal_step"),
        Route("/plan", plan_page, name="plan"),
        Route("/levels", level_list, name="levels"),
        Route("/levels/new", level_new, methods=["GET", "POST"], name="level_new"),
        Route("/levels/{level_id:int}/edit", level_edit, methods=["GET", "POST"], name="level_edit"),
    ]

