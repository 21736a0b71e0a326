"""Pages of the complaints plugin, mounted under ``/complaints/``.

Thin: parse, authorise (permission + record rules), call ``services``, render.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, selectinload
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fuwu import dates, links
from fuwu.db import check_version
from fuwu.errors import Forbidden, NotFound, StaleEdit, ValidationError
from fuwu.i18n import Month
from fuwu.i18n import gettext as _
from fuwu.i18n import lazy_gettext as _l
from fuwu.links import LinkPurpose
from fuwu.models import Contact, Customer, Department, Staff
from fuwu.web import lookups, scope
from fuwu.web.attachment_panel import record_panel
from fuwu.web.endpoint import requires
from fuwu.web.export import MAX_ROWS, export_response
from fuwu.web.forms import Field, Form, record_id, search_text
from fuwu.web.pagination import keyset_page
from fuwu.web.shell import flash_redirect
from fuwu.web.ui import SEARCH_HITS, Panel, SearchHit, SearchSection
from fuwu.web.urls import absolute_url

from . import rules, services
from .models import Complaint, ComplaintEvent, MonthlyReport, Promise, ReviewFlag

VIEW = "complaints.complaint.view"
LABELS = {"categories": rules.CATEGORIES, "sources": rules.SOURCES, "channels": rules.CHANNELS,
          "reply_kinds": rules.REPLY_KINDS, "causes": rules.CAUSES, "states": rules.STATES,
          "promise_kinds": rules.PROMISE_KINDS, "promise_statuses": rules.PROMISE_STATUSES,
          "deadline_labels": rules.DEADLINES, "event_kinds": rules.EVENT_KINDS, "review_kinds": rules.REVIEW_KINDS}


def _site(request):
    return request.app.state.site


def _render(request: Request, name: str, context: dict, **kwargs) -> Response:
    return request.app.state.templates.render(request, name, {**LABELS, **context}, **kwargs)


def _url(request, name, **params) -> str:
    return request.url_for(f"complaints:{name}", **params).path


def _now() -> datetime:
    return datetime.now(UTC)


def _visible(request: Request, complaint_id, *options) -> Complaint | None:
    return request.state.db.scalar(
        select(Complaint).join(Customer, Customer.id == Complaint.customer_id)
        .where(Complaint.id == record_id(complaint_id), services.visible(request.state.user)).options(*options))


def visible_complaint(request: Request, complaint_id) -> Complaint:
    complaint = _visible(request, complaint_id, contains_eager(Complaint.customer),
                         selectinload(Complaint.events).joinedload(ComplaintEvent.actor),
                         selectinload(Complaint.promises))
    if complaint is None:
        raise NotFound()
    return complaint


# --- Files kept with a complaint (hook register_file_owners) ----------------------------


def complaint_for_files(request: Request, complaint_id: int) -> Complaint | None:
    """The complaint if the reader may open it (``FileOwner.visible``)."""
    return _visible(request, complaint_id) if request.state.user.can(VIEW) else None


def complaint_url(request: Request, complaint: Complaint) -> str:
    return _url(request, "detail", complaint_id=complaint.id)


def may_add_evidence(request: Request, complaint: Complaint) -> bool:
    """Whoever may add a note to the complaint may add a file, until it is archived (CMP-5)."""
    return not complaint.archived and request.state.user.can(STEP_PERMISSIONS["note"])


def may_remove_evidence(request: Request, complaint: Complaint, attachment) -> bool:
    """Whoever attached a file, or the quality supervisor, until the complaint is archived."""
    user = request.state.user
    return not complaint.archived and (attachment.uploaded_by_id == user.id
                                       or user.can("complaints.complaint.review"))


def complaint_with_file_error(request: Request, complaint: Complaint, error: str) -> Response:
    return _detail(request, visible_complaint(request, complaint.id), status=422, files_error=error)


def _staff_choices(db):
    return lambda: [(i, n) for i, n in db.execute(
        select(Staff.id, Staff.name).where(Staff.active.is_(True)).order_by(Staff.name))]


def _dept_choices(db):
    return lambda: [(i, n) for i, n in db.execute(select(Department.id, Department.name).order_by(Department.name))]


# --- List ----------------------------------------------------------------------------

SORTS = {"received": Complaint.received_at, "number": Complaint.number, "customer": Customer.name}


def _list_query(request: Request):
    params = request.query_params
    query = (select(Complaint).join(Customer, Customer.id == Complaint.customer_id)
             .where(services.visible(request.state.user))
             .options(contains_eager(Complaint.customer), selectinload(Complaint.events),
                      selectinload(Complaint.responsible_department), selectinload(Complaint.concerned_staff)))
    state = params.get("state", "")
    if state == "open":
        query = query.where(Complaint.state.in_(rules.OPEN_STATES))
    elif state in rules.STATES:
        query = query.where(Complaint.state == state)
    if params.get("category") in rules.CATEGORIES:
        query = query.where(Complaint.category == params["category"])
    if params.get("validity") in ("valid", "invalid"):
        query = query.where(Complaint.validity == params["validity"])
    elif params.get("validity") == "pending":
        query = query.where(Complaint.validity.is_(None))
    if params.get("source") in rules.SOURCES:
        query = query.where(Complaint.source == params["source"])
    if params.get("gm_call") == "pending":
        query = query.where(Complaint.gm_call_needed.is_(True), Complaint.gm_called.is_(False))
    q = search_text(params)
    if q:
        like = f"%{q}%"
        query = query.where(Complaint.number.ilike(like) | Customer.name.ilike(like)
                            | Complaint.description.ilike(like) | Complaint.hq_reference.ilike(like))
    return query


def search_section(request: Request, text: str) -> list:
    """Complaints by number, headquarters' reference or complainant's phone,
    for the search box on every page."""
    if not request.state.user.can(VIEW):
        return []
    like = f"%{text}%"
    rows = request.state.db.execute(
        select(Complaint.id, Complaint.number, Complaint.state, Customer.name.label("customer"))
        .join(Customer, Customer.id == Complaint.customer_id)
        .where(services.visible(request.state.user),
               Complaint.number.ilike(like) | Complaint.hq_reference.ilike(like)
               | Complaint.contact_phone.ilike(like))
        .order_by(Complaint.received_at.desc(), Complaint.id.desc()).limit(SEARCH_HITS + 1)).all()
    prefix = request.app.state.templates.path_prefix(request, "complaints:detail")
    hits = [SearchHit.of(r.number, f"{prefix}{r.id}", r.customer, rules.STATES.get(r.state, r.state)) for r in rows]
    more = request.url_for("complaints:list").path + "?" + urlencode({"q": text})
    return [SearchSection.of(_("Complaints"), hits, more_url=more, order=60)]


@requires(VIEW)
def complaint_list(request: Request) -> Response:
    db = request.state.db
    site = _site(request)
    params = request.query_params
    query = _list_query(request)
    sort = params.get("sort", "-received")
    if sort.lstrip("-") not in SORTS:
        sort = "-received"
    column = SORTS[sort.lstrip("-")]
    now = _now()
    if params.get("format") in ("csv", "xlsx"):
        order = column.desc() if sort.startswith("-") else column.asc()
        found = db.scalars(query.order_by(order, Complaint.id).limit(MAX_ROWS)).unique().all()
        return export_response(
            params["format"], _("Complaints"),
            [_("Complaint number"), _("Received at"), _("Customer"), _("Region"), _("Complaint category"),
             _("Complaint source"), _("Validity"), _("Complaint state"), _("Responsible department"),
             _("Staff concerned"), _("What happened")],
            ([c.number, c.received_at, c.customer.name, c.customer.region, str(rules.CATEGORIES[c.category]),
              str(rules.SOURCES[c.source]), _validity(c.validity), str(rules.STATES[c.state]),
              c.responsible_department.name if c.responsible_department else "",
              c.concerned_staff.name if c.concerned_staff else "", c.description] for c in found))
    page = keyset_page(db, query, sort_col=column, id_col=Complaint.id, descending=sort.startswith("-"),
                       after=params.get("after"), before=params.get("before"),
                       size=site.settings.get("core.page_size", db))
    complaints = [row[0] if isinstance(row, tuple) or hasattr(row, "_mapping") else row for row in page.rows]
    params_ = services.deadline_params(site, db)
    rows = [(c, services.deadlines_for(site, db, c, now, params_)) for c in complaints]
    return _render(request, "complaints/list.html",
                   {"page": page, "rows": rows, "sort": sort, "now": now, "title": _("Complaints")},
                   fragment="results")


def _validity(value) -> str:
    return str(rules.VALIDITY[value]) if value in rules.VALIDITY else _("Not reviewed yet")


# --- Intake (CMP-1) --------------------------------------------------------------------


def intake_form(request: Request) -> Form:
    db = request.state.db
    return Form([
        Field("customer_id", _l("Customer"), kind="record", required=True, lookup=lookups.customers(request)),
        Field("contact_name", _l("Complainant"), max_length=100, required=True),
        Field("contact_phone", _l("Complainant's phone"), kind="phone", max_length=40),
        Field("source", _l("Complaint source"), kind="choice", required=True,
              choices=lambda: list(rules.SOURCES.items())),
        Field("hq_reference", _l("Headquarters' reference"), kind="code", max_length=60,
              help=_l("Required when headquarters forwarded the complaint.")),
        Field("channel", _l("Received through"), kind="choice", required=True,
              choices=lambda: [(k, v) for k, v in rules.CHANNELS.items() if k != "link"]),
        Field("received_at", _l("Received at"), kind="datetime", required=True),
        Field("category", _l("Complaint category"), kind="choice", required=True,
              choices=lambda: list(rules.CATEGORIES.items())),
        Field("description", _l("What happened"), kind="textarea", required=True),
        Field("concerned_staff_id", _l("Staff concerned"), kind="choice", choices=_staff_choices(db)),
        Field("concerned_department_id", _l("Department concerned"), kind="choice", choices=_dept_choices(db)),
        Field("internal_note", _l("Internal note (never shown to the customer)"), kind="textarea"),
    ])


def _local(site, value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=site.zone)


@requires("complaints.complaint.create")
def complaint_new(request: Request) -> Response:
    db = request.state.db
    site = _site(request)
    form = intake_form(request)

    def render(status=200):
        return _render(request, "complaints/form.html", {"form": form, "title": _("Record a complaint")},
                       status=status, fragment="form")

    if request.method == "GET":
        now = datetime.now(site.zone).replace(second=0, microsecond=0, tzinfo=None)
        form.fill(None, source="direct", channel="phone", received_at=now.isoformat(timespec="minutes"),
                  customer_id=request.query_params.get("customer_id"))
        return render()
    if not form.load(request.state.form):
        return render(422)
    v = form.values
    try:
        complaint = services.receive(
            site, db, request.state.user, customer_id=int(v["customer_id"]), description=v["description"],
            category=v["category"], source=v["source"], channel=v["channel"], hq_reference=v["hq_reference"],
            contact_name=v["contact_name"], contact_phone=v["contact_phone"] or "",
            concerned_staff_id=record_id(v["concerned_staff_id"]),
            concerned_department_id=record_id(v["concerned_department_id"]),
            received_at=_local(site, v["received_at"]).astimezone(UTC), internal_note=v["internal_note"])
    except ValidationError as exc:
        for name, message in exc.errors.items():
            form.error(name, message)
        return render(422)
    return flash_redirect(request, _url(request, "detail", complaint_id=complaint.id),
                     _("Complaint %(number)s recorded.", number=complaint.number))


EDITABLE = ("contact_name", "contact_phone", "hq_reference", "category", "description", "concerned_staff_id",
            "concerned_department_id", "internal_note")


@requires("complaints.complaint.create")
def complaint_edit(request: Request) -> Response:
    """Correct what was recorded at intake (not the steps: those have their own history)."""
    db = request.state.db
    complaint = visible_complaint(request, request.path_params["complaint_id"])
    if complaint.archived:
        raise Forbidden()
    form = Form([f for f in intake_form(request).fields if f.name in EDITABLE])

    def render(status=200, conflict=None):
        return _render(request, "complaints/edit.html",
                       {"form": form, "complaint": complaint, "conflict": conflict,
                        "title": _("Correct complaint %(number)s", number=complaint.number)},
                       status=status, fragment="form")

    if request.method == "GET":
        form.fill(complaint)
        return render()
    form.load(request.state.form)
    if form.outdated(complaint, request.state.form):
        return render(409, conflict=[(_("What happened"), complaint.description),
                                     (_("Complaint category"), rules.CATEGORIES[complaint.category])])
    if complaint.source == "headquarters" and not (form.values.get("hq_reference") or "").strip():
        form.error("hq_reference", _l("Give headquarters' reference of a forwarded complaint."))
    if form.errors:
        return render(422)
    for name in EDITABLE:
        value = form.values[name]
        setattr(complaint, name, record_id(value) if name.endswith("_id") else (value or ""))
    db.flush()
    if complaint.validity == "valid":
        services.apply_consequences(_site(request), db, complaint)
    return flash_redirect(request, _url(request, "detail", complaint_id=complaint.id), _("Changes saved."))


# --- Detail and steps ------------------------------------------------------------------------


STEP_PERMISSIONS = {
    "review": "complaints.complaint.review",
    "reply": "complaints.complaint.handle",
    "handled": "complaints.complaint.handle",
    "follow_up": "complaints.complaint.follow_up",
    "hq_answer": "complaints.hq.liaise",
    "hq_report": "complaints.hq.liaise",
    "archive": "complaints.complaint.review",
    "pause": "complaints.complaint.handle",
    "resume": "complaints.complaint.handle",
    "gm_called": "complaints.complaint.gm_call",
    "note": VIEW,
}


def step_forms(db) -> dict[str, Form]:
    return {
        "review": Form([
            Field("valid", _l("Decision"), kind="choice", required=True,
                  choices=lambda: [("yes", _("Valid: send to the responsible department")),
                                   ("no", _("Not valid: the service agreement never promised it"))]),
            Field("department_id", _l("Responsible department"), kind="choice", choices=_dept_choices(db)),
            Field("explanation", _l("Explanation given to the complainant"), kind="textarea"),
        ]),
        "reply": Form([
            Field("cause", _l("Cause"), kind="textarea", required=True),
            Field("cause_category", _l("Kind of cause"), kind="choice", required=True,
                  choices=lambda: list(rules.CAUSES.items())),
            Field("responsible_staff_id", _l("Person responsible"), kind="choice", required=True,
                  choices=_staff_choices(db)),
            Field("measures", _l("Measures taken"), kind="textarea", required=True),
            Field("reply_kind", _l("Reply to the complainant"), kind="choice", required=True,
                  choices=lambda: list(rules.REPLY_KINDS.items())),
            Field("reply_text", _l("What the complainant was told"), kind="textarea", required=True),
            Field("compensation", _l("Compensation (yuan)"), kind="money"),
        ]),
        "handled": Form([Field("result", _l("Handling result"), kind="textarea", required=True)]),
        "follow_up": Form([
            Field("resolved", _l("Outcome of the follow-up call"), kind="choice", required=True,
                  choices=lambda: [("yes", _("Resolved: the user confirms")),
                                   ("no", _("Unresolved: escalate to headquarters"))]),
            Field("opinion", _l("The user's opinion"), kind="textarea", required=True),
        ]),
        "hq_answer": Form([Field("answer", _l("Headquarters' answer"), kind="textarea", required=True)]),
        "hq_report": Form([Field("note", _l("What was reported to headquarters"), kind="textarea", required=True)]),
        "archive": Form([
            Field("corrective", _l("Corrective measures"), kind="textarea", required=True),
            Field("preventive", _l("Preventive measures"), kind="textarea"),
        ]),
        "pause": Form([Field("reason", _l("Waiting for the customer because"), kind="textarea", required=True)]),
        "resume": Form([Field("note", _l("Note"), kind="textarea")]),
        "gm_called": Form([Field("note", _l("What the customer said"), kind="textarea", required=True)]),
        "note": Form([Field("note", _l("Internal note"), kind="textarea", required=True)]),
    }


def _available(complaint: Complaint, user) -> list[str]:
    steps = []
    paused = rules.is_paused(complaint.events)
    state = complaint.state
    if state == "received":
        steps.append("review")
    if state == "handling":
        steps.append("reply")
    if state == "replied":
        steps.append("handled")
    if state == "follow_up":
        steps.append("follow_up")
    if state == "escalated":
        steps.append("hq_answer")
    if (complaint.source == "headquarters" and rules.first(complaint.events, "handled") is not None
            and rules.first(complaint.events, "hq_reported") is None):
        steps.append("hq_report")
    if state == "to_archive":
        steps.append("archive")
    if state in rules.OPEN_STATES:
        steps.append("resume" if paused else "pause")
    if complaint.gm_call_needed and not complaint.gm_called:
        steps.append("gm_called")
    steps.append("note")
    return [s for s in steps if user.can(STEP_PERMISSIONS[s])]


def promise_form() -> Form:
    return Form([
        Field("kind", _l("What was promised"), kind="choice", required=True,
              choices=lambda: list(rules.PROMISE_KINDS.items())),
        Field("text", _l("Promise told to the customer"), kind="textarea", required=True),
        Field("due_on", _l("Promise due on"), kind="date", required=True),
    ])


def _detail(request: Request, complaint: Complaint, *, forms=None, status=200, open_step=None,
            promise: Form | None = None, error=None, files_error: str = "") -> Response:
    db = request.state.db
    site = _site(request)
    now = _now()
    forms = forms or step_forms(db)
    if "review" in forms and not forms["review"].raw:
        forms["review"].fill(None, department_id=complaint.concerned_department_id)
    return _render(request, "complaints/detail.html", {
        "complaint": complaint, "deadlines": services.deadlines_for(site, db, complaint, now), "now": now,
        "steps": _available(complaint, request.state.user), "forms": forms, "open_step": open_step,
        "paused": rules.is_paused(complaint.events), "promise": promise or promise_form(),
        "validity_label": _validity(complaint.validity), "today": site.day_of(), "error": error,
        "files": record_panel(request, complaint, error=files_error),
        "title": _("Complaint %(number)s", number=complaint.number)}, status=status)


@requires(VIEW)
def complaint_detail(request: Request) -> Response:
    return _detail(request, visible_complaint(request, request.path_params["complaint_id"]))


@requires(VIEW)
def complaint_step(request: Request) -> Response:
    """Take one step; each step has its own permission (STEP_PERMISSIONS)."""
    site = _site(request)
    db = request.state.db
    complaint = visible_complaint(request, request.path_params["complaint_id"])
    step = request.path_params["step"]
    if step not in STEP_PERMISSIONS:
        raise NotFound()
    user = request.state.user
    if not user.can(STEP_PERMISSIONS[step]):
        raise Forbidden()
    forms = step_forms(db)
    form = forms[step]
    try:
        check_version(complaint, request.state.form.get("version"))
    except StaleEdit:
        form.load(request.state.form)
        return _detail(request, complaint, forms=forms, status=409, open_step=step,
                       error=_("Someone else changed this complaint after you opened it. Check it and try again."))
    if step not in _available(complaint, user):
        return _detail(request, complaint, status=422,
                       error=_("This step is not possible in the complaint's current state."))
    if not form.load(request.state.form):
        return _detail(request, complaint, forms=forms, status=422, open_step=step)
    v = form.values
    try:
        if step == "review":
            services.review(site, db, complaint, user, valid=v["valid"] == "yes",
                            department_id=record_id(v["department_id"]), explanation=v["explanation"])
        elif step == "reply":
            services.reply(site, db, complaint, user, cause=v["cause"], cause_category=v["cause_category"],
                           responsible_staff_id=record_id(v["responsible_staff_id"]), measures=v["measures"],
                           reply_kind=v["reply_kind"], reply_text=v["reply_text"],
                           compensation=v["compensation"] or Decimal("0.00"))
        elif step == "handled":
            services.handled(site, db, complaint, user, result=v["result"])
        elif step == "follow_up":
            services.follow_up(site, db, complaint, user, resolved=v["resolved"] == "yes", opinion=v["opinion"])
        elif step == "hq_answer":
            services.hq_answer(site, db, complaint, user, answer=v["answer"])
        elif step == "hq_report":
            services.hq_report(site, db, complaint, user, note=v["note"])
        elif step == "archive":
            services.archive(site, db, complaint, user, corrective=v["corrective"], preventive=v["preventive"])
        elif step == "pause":
            services.pause(site, db, complaint, user, reason=v["reason"])
        elif step == "resume":
            services.resume(site, db, complaint, user, note=v["note"])
        elif step == "gm_called":
            services.gm_called(site, db, complaint, user, note=v["note"])
        elif step == "note":
            services.add_event(db, complaint, "note", user, _now(), v["note"], internal=True)
    except ValidationError as exc:
        for name, message in (exc.errors or {form.fields[0].name: exc.message}).items():
            form.error(name if name in {f.name for f in form.fields} else form.fields[0].name, message)
        return _detail(request, complaint, forms=forms, status=422, open_step=step)
    return flash_redirect(request, _url(request, "detail", complaint_id=complaint.id),
                     _("Complaint %(number)s: %(state)s.", number=complaint.number,
                       state=rules.STATES[complaint.state]))


# --- Event history (issue §5: editing history recomputes deadlines) ---------------------------


def event_form() -> Form:
    return Form([
        Field("at", _l("When it happened"), kind="datetime", required=True),
        Field("note", _l("Note"), kind="textarea"),
    ])


@requires("complaints.complaint.review")
def event_edit(request: Request) -> Response:
    db = request.state.db
    site = _site(request)
    event = db.get(ComplaintEvent, record_id(request.path_params["event_id"]) or 0)
    if event is None:
        raise NotFound()
    complaint = visible_complaint(request, event.complaint_id)
    form = event_form()

    def render(status=200, conflict=None):
        return _render(request, "complaints/event_edit.html",
                       {"form": form, "event": event, "complaint": complaint, "conflict": conflict,
                        "title": _("Correct the history of %(number)s", number=complaint.number)},
                       status=status, fragment="form")

    if request.method == "GET":
        local = event.at.astimezone(site.zone).replace(tzinfo=None)
        form.fill(event, at=local.isoformat(timespec="minutes"))
        return render()
    form.load(request.state.form)
    if form.outdated(event, request.state.form):
        return render(409, conflict=[(_("When it happened"), event.at), (_("Note"), event.note)])
    if form.errors:
        return render(422)
    event.at = _local(site, form.values["at"]).astimezone(UTC)
    event.note = form.values["note"]
    if event.kind == "received":
        complaint.received_at = event.at
    db.flush()
    return flash_redirect(request, _url(request, "detail", complaint_id=complaint.id),
                     _("History corrected; the deadlines are recomputed."))


# --- Promises (CMP-6) ------------------------------------------------------------------------


@requires("complaints.complaint.handle")
def promise_new(request: Request) -> Response:
    complaint = visible_complaint(request, request.path_params["complaint_id"])
    form = promise_form()
    if complaint.archived:
        raise Forbidden()
    if not form.load(request.state.form):
        return _detail(request, complaint, status=422, promise=form)
    request.state.db.add(Promise(complaint_id=complaint.id, kind=form.values["kind"], text=form.values["text"],
                                 due_on=form.values["due_on"], made_by_id=request.state.user.id))
    return flash_redirect(request, _url(request, "detail", complaint_id=complaint.id) + "#promises",
                     _("Promise recorded."))


@requires("complaints.complaint.handle")
def promise_settle(request: Request) -> Response:
    db = request.state.db
    promise = db.get(Promise, record_id(request.path_params["promise_id"]) or 0)
    if promise is None:
        raise NotFound()
    complaint = visible_complaint(request, promise.complaint_id)
    status = request.state.form.get("status")
    if status not in ("kept", "broken"):
        raise ValidationError({"status": _l("Choose from the list.")})
    promise.status, promise.settled_at = status, _now()
    return flash_redirect(request, _url(request, "detail", complaint_id=complaint.id) + "#promises",
                     _("Promise marked: %(status)s.", status=rules.PROMISE_STATUSES[status]))


# --- Customer links (CMP-1 intake, issue §9 follow) ----------------------------------------


@requires(VIEW)
def follow_link(request: Request) -> Response:
    """Issue the link through which the complainant follows their complaint."""
    complaint = visible_complaint(request, request.path_params["complaint_id"])
    token = links.issue_for(_site(request), request.state.db, "complaints.follow", complaint,
                            created_by_id=request.state.user.id)
    return _render(request, "complaints/link_issued.html", {
        "complaint": complaint, "link": absolute_url(request, "link", token=token),
        "title": _("Link for the complainant")})


@requires("complaints.complaint.create")
def intake_link(request: Request) -> Response:
    """Issue a one-time link with which a customer's contact files a complaint."""
    db = request.state.db
    contact = db.scalar(select(Contact).join(Customer, Customer.id == Contact.customer_id).where(
        Contact.id == record_id(request.path_params["contact_id"]), scope.customers(request.state.user)))
    if contact is None:
        raise NotFound()
    token = links.issue_for(_site(request), db, "complaints.file", contact, created_by_id=request.state.user.id)
    return _render(request, "complaints/link_issued.html", {
        "contact": contact, "link": absolute_url(request, "link", token=token),
        "title": _("Complaint link for %(name)s", name=contact.name)})


def public_follow(visit) -> Response:
    """The complainant's view: state, public steps, the reply; never internal notes."""
    complaint = visit.record
    events = [e for e in sorted(complaint.events, key=lambda e: (e.at, e.id))
              if e.kind in rules.PUBLIC_EVENTS and not e.internal]
    return visit.render("complaints/public_follow.html", {
        **LABELS, "complaint": complaint, "events": events, "promises": complaint.promises,
        "title": _("Your complaint %(number)s", number=complaint.number)})


def public_form() -> Form:
    return Form([
        Field("category", _l("Complaint category"), kind="choice", required=True,
              choices=lambda: list(rules.CATEGORIES.items())),
        Field("description", _l("What happened"), kind="textarea", required=True),
        Field("staff_name", _l("Staff member or department concerned (if known)"), max_length=100),
    ])


def public_file(visit) -> Response:
    contact = visit.record
    form = public_form()
    context = {**LABELS, "form": form, "contact": contact, "title": _("File a complaint")}
    if visit.request.method == "GET":
        return visit.render("complaints/public_file.html", context)
    if not form.load(visit.request.state.form):
        return visit.render("complaints/public_file.html", context, status=422)
    visit.use()  # single use: a second submission files nothing
    v = form.values
    description = v["description"] + (f"\n\n{v['staff_name']}" if v["staff_name"] else "")
    complaint = services.receive(visit.site, visit.db, None, customer_id=contact.customer_id, description=description,
                                 category=v["category"], channel="link", contact_id=contact.id,
                                 contact_name=contact.name, contact_phone=contact.phone)
    token = links.issue_for(visit.site, visit.db, "complaints.follow", complaint)
    return visit.render("complaints/public_filed.html", {
        **LABELS, "complaint": complaint, "follow": absolute_url(visit.request, "link", token=token),
        "title": _("Complaint received")})


def link_purposes():
    def sees(user, complaint):
        return user.can("complaints.complaint.view_all") or complaint.responsible_staff_id == user.id or (
            user.department_id is not None and user.department_id in (
                complaint.customer.department_id, complaint.responsible_department_id))

    return [
        LinkPurpose(key="complaints.follow", label=_l("Follow a complaint"), model=Complaint, handler=public_follow,
                    permission=VIEW, visible=sees, describe=lambda c: c.number,
                    staff_page=lambda c: ("complaints:detail", {"complaint_id": c.id})),
        LinkPurpose(key="complaints.file", label=_l("File a complaint"), model=Contact, handler=public_file,
                    permission="complaints.complaint.create", describe=lambda c: c.name),
    ]


# --- Monthly reports (CMP-5) ---------------------------------------------------------------


@requires("complaints.report.view")
def report_list(request: Request) -> Response:
    db = request.state.db
    site = _site(request)
    params = request.query_params
    if params.get("format") in ("csv", "xlsx"):
        reports = db.scalars(select(MonthlyReport).order_by(MonthlyReport.month.desc()).limit(MAX_ROWS))
        timeliness = {None: _("Not sent"), True: _("On time"), False: _("Late")}
        return export_response(
            params["format"], _("Complaint reports"),
            [_("Month"), _("Complaints"), _("Valid"), _("Due on"), _("Sent at"), _("On time")],
            ([f"{r.month:%Y-%m}", r.data.get("total", 0), r.data.get("valid", 0), r.due_on, r.sent_at,
              timeliness[services.sent_on_time(site, r)]] for r in reports))
    page = keyset_page(db, select(MonthlyReport), sort_col=MonthlyReport.month, id_col=MonthlyReport.id,
                       descending=True, after=params.get("after"), before=params.get("before"),
                       size=site.settings.get("core.page_size", db))
    return _render(request, "complaints/reports.html", {
        "page": page, "reports": [(r, services.sent_on_time(site, r)) for r in page.rows],
        "this_month": f"{site.day_of():%Y-%m}", "title": _("Complaint reports")})


@requires("complaints.report.view")
def report_build(request: Request) -> Response:
    """Build (or rebuild) a month's report now, e.g. the current month so far; not sent."""
    db = request.state.db
    site = _site(request)
    month = dates.parse_month(request.state.form.get("month", ""))
    if month is None:
        raise ValidationError({"month": _l("Enter a month as YYYY-MM.")})
    report = db.scalar(select(MonthlyReport).where(MonthlyReport.month == month))
    data = services.build_report(site, db, month)
    if report is None:
        report = MonthlyReport(month=month, built_at=_now(), data=data,
                               due_on=rules.report_due(month, site.calendar(db),
                                                       site.settings.get("complaints.report_working_days", db)))
        db.add(report)
    else:
        report.data, report.built_at = data, _now()
    db.flush()
    return flash_redirect(request, _url(request, "report", report_id=report.id), _("Report built."))


@requires("complaints.report.view")
def report_send(request: Request) -> Response:
    db = request.state.db
    report = db.get(MonthlyReport, record_id(request.path_params["report_id"]) or 0)
    if report is None:
        raise NotFound()
    services.send_report(_site(request), db, report, _now())
    return flash_redirect(request, _url(request, "report", report_id=report.id), _("Report sent."))


@requires("complaints.report.view")
def report_detail(request: Request) -> Response:
    db = request.state.db
    site = _site(request)
    report = db.get(MonthlyReport, record_id(request.path_params["report_id"]) or 0)
    if report is None:
        raise NotFound()
    data = report.data
    if request.query_params.get("format") in ("csv", "xlsx"):
        rows = []
        for title, key, labels in ((_("Complaint category"), "by_category", rules.CATEGORIES),
                                   (_("Responsible department"), "by_department", None),
                                   (_("Staff concerned"), "by_staff", None), (_("Customer"), "by_customer", None),
                                   (_("Region"), "by_region", None)):
            for name, n in data.get(key, []):
                rows.append([title, str(labels[name]) if labels and name in labels else name, n])
        for name, n, cum in data.get("pareto", []):
            rows.append([_("Kind of cause"), str(rules.CAUSES.get(name, name)), n, cum])
        return export_response(request.query_params["format"],
                               _("Complaint report %(month)s", month=f"{report.month:%Y-%m}"),
                               [_("Breakdown"), _("Item"), _("Count"), _("Cumulative %")], rows)
    pareto = data.get("pareto", [])
    peak = max((n for _k, n, _c in pareto), default=0)
    return _render(request, "complaints/report.html", {
        "report": report, "data": data, "on_time": services.sent_on_time(site, report), "peak": peak,
        "title": _("Complaint analysis report %(month)s", month=Month(report.month))})


# --- Consequences (CMP-7) ---------------------------------------------------------------------


@requires("complaints.consequence.view")
def consequences(request: Request) -> Response:
    """The CMP-7 reviews to hold and the attitude fines, newest first, each list
    paging on its own (``flags_after``, ``fines_after``); the export has both whole."""
    db = request.state.db
    params = request.query_params
    flags = select(ReviewFlag).options(selectinload(ReviewFlag.staff), selectinload(ReviewFlag.complaint))
    fines = select(Complaint).where(Complaint.fine_emitted.is_(True)).options(selectinload(Complaint.concerned_staff))
    fine = _site(request).settings.get("complaints.attitude_fine", db)
    if params.get("format") in ("csv", "xlsx"):
        fined = _("Fines for confirmed service-attitude complaints")
        return export_response(
            params["format"], _("Complaint consequences"),
            [_("Consequence"), _("Staff member"), _("After complaint"), _("Count"), _("Amount (yuan)")],
            [*([str(rules.REVIEW_KINDS[f.kind]), f.staff.name, f.complaint.number, f.count, None]
               for f in db.scalars(flags.order_by(ReviewFlag.id.desc()).limit(MAX_ROWS))),
             *([fined, c.concerned_staff.name if c.concerned_staff else "", c.number, None, fine]
               for c in db.scalars(fines.order_by(Complaint.received_at.desc(), Complaint.id.desc())
                                   .limit(MAX_ROWS)))])
    size = _site(request).settings.get("core.page_size", db)
    return _render(request, "complaints/consequences.html", {
        "flags": keyset_page(db, flags, sort_col=ReviewFlag.id, id_col=ReviewFlag.id, descending=True,
                             after=params.get("flags_after"), before=params.get("flags_before"), size=size),
        "fines": keyset_page(db, fines, sort_col=Complaint.received_at, id_col=Complaint.id, descending=True,
                             after=params.get("fines_after"), before=params.get("fines_before"), size=size),
        "fine": fine, "title": _("Complaint consequences")})


# --- Customer page --------------------------------------------------------------------------


def customer_panel(request: Request, customer) -> list:
    user = request.state.user
    if not user.can(VIEW):
        return []
    db = request.state.db
    rows = list(db.scalars(select(Complaint).join(Customer, Customer.id == Complaint.customer_id)
                           .where(Complaint.customer_id == customer.id, services.visible(user))
                           .order_by(Complaint.received_at.desc()).limit(10)))
    contacts = list(db.scalars(select(Contact).where(Contact.customer_id == customer.id).order_by(Contact.name)))
    return [Panel(_("Complaints"), "complaints/panel.html",
                  {"complaints": rows, "contacts": contacts, "customer": customer, **LABELS}, order=40)]


def routes() -> list:
    return [
        Route("/", complaint_list, name="list"),
        Route("/new", complaint_new, methods=["GET", "POST"], name="new"),
        Route("/reports", report_list, name="reports"),
        Route("/reports/build", report_build, methods=["POST"], name="report_build"),
        Route("/reports/{report_id:int}", report_detail, name="report"),
        Route("/reports/{report_id:int}/send", report_send, methods=["POST"], name="report_send"),
        Route("/consequences", consequences, name="consequences"),
        Route("/events/{event_id:int}/edit", event_edit, methods=["GET", "POST"], name="event_edit"),
        Route("/promises/{promise_id:int}", promise_settle, methods=["POST"], name="promise_settle"),
        Route("/contacts/{contact_id:int}/link", intake_link, methods=["POST"], name="intake_link"),
        Route("/{complaint_id:int}", complaint_detail, name="detail"),
        Route("/{complaint_id:int}/edit", complaint_edit, methods=["GET", "POST"], name="edit"),
        Route("/{complaint_id:int}/step/{step}", complaint_step, methods=["POST"], name="step"),
        Route("/{complaint_id:int}/promises", promise_new, methods=["POST"], name="promise_new"),
        Route("/{complaint_id:int}/link", follow_link, methods=["POST"], name="follow_link"),
    ]


#: open complaints whose deadlines the dashboard card works out, oldest first
CARD_DEADLINES = 200


def dashboard_widget(request: Request) -> list:
    """Open complaints the user may act on, overdue first; the GM's pending calls."""
    from fuwu.web.ui import Widget

    user = request.state.user
    if not user.can(VIEW):
        return []
    db = request.state.db
    site = _site(request)
    now = _now()
    open_ones = (select(Complaint).join(Customer, Customer.id == Complaint.customer_id)
                 .where(services.visible(user), Complaint.state.in_(rules.OPEN_STATES)))
    # deadlines are worked out for the oldest open ones (the card lists six); the count is all of them
    found = list(db.scalars(open_ones.options(contains_eager(Complaint.customer), selectinload(Complaint.events))
                            .order_by(Complaint.received_at).limit(CARD_DEADLINES)))
    open_count = len(found) if len(found) < CARD_DEADLINES else db.scalar(
        select(func.count()).select_from(open_ones.subquery()))
    params = services.deadline_params(site, db)
    rows = []
    for c in found:
        pending = [d for d in services.deadlines_for(site, db, c, now, params) if d.done_at is None]
        rows.append((c, pending[0] if pending else None))
    overdue = sum(1 for _c, d in rows if d is not None and d.overdue(now))
    rows.sort(key=lambda r: (r[1] is None, r[1].due if r[1] else now))
    calls = [c for c in found if c.gm_call_needed and not c.gm_called] if user.can(
        "complaints.complaint.gm_call") else []
    return [Widget(_("Open complaints"), "complaints/widget.html",
                   {"rows": rows[:6], "open": open_count, "overdue": overdue, "calls": calls, "now": now, **LABELS},
                   order=35)]
