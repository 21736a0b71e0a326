"""Pages of the resident-service plugin, mounted under ``/onsite_residency/``.

Thin: parse, authorise (permission + record rules in the query), call
``services`` / ``rules``, render.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fuwu import links
from fuwu.db import utcnow
from fuwu.errors import Forbidden, NotFound, ValidationError
from fuwu.i18n import N_, Month
from fuwu.i18n import gettext as _
from fuwu.i18n import lazy_gettext as _l
from fuwu.models import Customer, Role, Staff
from fuwu.notifications import notify
from fuwu.timeline import append as timeline_append
from fuwu.web import lookups
from fuwu.web.endpoint import requires
from fuwu.web.export import export_response
from fuwu.web.forms import Field, Form, record_id, search_text
from fuwu.web.pagination import keyset_page
from fuwu.web.shell import flash_redirect
from fuwu.web.urls import absolute_url

from . import rules, services
from .models import ResidentAttendance, ResidentReport, ResidentMonthResult, ResidentRating, Residency, ResidentCall
from .plugin import ALL, OWN

ATTENDANCE_LABELS = {"present": _l("Present"), "leave": _l("On leave"), "absent": _l("Absent"),
                     "overtime": _l("Overtime")}
RATING_LABELS = {"very_good": _l("Very good"), "good": _l("Good"), "average": _l("Average"),
                 "fairly_poor": _l("Fairly poor"), "poor": _l("Poor")}
DOC_LABELS = {"attendance": _l("Attendance sheet"), "report": _l("Resident monthly report"),
              "evaluation": _l("Service quality evaluation form")}
STATE_LABELS = {"draft": _l("Draft"), "lead_review": _l("Group lead review"),
                "manager_review": _l("Department manager review"),
                "gm_review": _l("General manager's office review"),
                "stamped": _l("Stamped, to be submitted to the customer"), "sent": _l("Submitted to the customer")}
PAGE_SIZE = 50
RATED = N_("Customer rated the resident report %(month)s of %(engineer)s: %(rating)s")


def _site(request: Request):
    return request.app.state.site


def _render(request: Request, name: str, context: dict, **kw) -> Response:
    return request.app.state.templates.render(request, name, context, **kw)


def _url(request: Request, name: str, **params) -> str:
    return request.url_for(f"onsite_residency:{name}", **params).path


def _redirect(request: Request, name: str, message, **params) -> Response:
    return flash_redirect(request, _url(request, name, **params), message)


def _int(value) -> int:
    """A record id from the URL or form, or 404."""
    number = record_id(value)
    if number is None:
        raise NotFound()
    return number


def _today(request: Request):
    return _site(request).day_of()


def _month(request: Request):
    return rules.parse_month(request.query_params.get("month"), _today(request))


def _residency(request: Request, rid) -> Residency:
    row = request.state.db.scalar(select(Residency).where(Residency.id == _int(rid),
                                                          services.visible(request.state.user)))
    if row is None:
        raise NotFound()
    return row


def _report(request: Request, rid) -> ResidentReport:
    row = request.state.db.scalar(select(ResidentReport).join(Residency).where(
        ResidentReport.id == _int(rid), services.visible(request.state.user)))
    if row is None:
        raise NotFound()
    return row


def _leads(user, residency: Residency) -> bool:
    """The resident lead of this site (or anyone who sees every residency)."""
    return user.is_admin or user.can(ALL) or residency.lead_id == user.id


def report_visible(user, report) -> bool:
    return user.is_admin or user.can(ALL) or user.id in (report.residency.engineer_id, report.residency.lead_id)


def _staff_choices(db):
    def choices():
        return [(s.id, s.name) for s in db.scalars(select(Staff).where(Staff.active.is_(True)).order_by(Staff.name))]
    return choices


# --- Overview (key-account department; an engineer sees their own) -------------------------------


def _late(docs: dict, dues: dict, today, zone: ZoneInfo) -> bool:
    """RES-6: a document not in by its due date, or handed in after it."""
    for doc in rules.DOCUMENTS:
        at = (docs or {}).get(doc)
        if at is None:
            if today > dues[doc]:
                return True
        elif datetime.fromisoformat(at).astimezone(zone).date() > dues[doc]:
            return True
    return False


@requires(OWN)
def overview(request: Request) -> Response:
    db = request.state.db
    site = _site(request)
    month = _month(request)
    params = request.query_params
    # the sort columns ride along: keyset pagination reads them from each row
    query = (select(Residency, ResidentReport, Residency.starts_on.label("starts_on"), Residency.id.label("id"))
             .outerjoin(ResidentReport, and_(ResidentReport.residency_id == Residency.id,
                                            ResidentReport.month == month))
             .where(services.visible(request.state.user), services.overlapping_month(month)))
    q = search_text(params)
    if q:
        query = query.join(Customer, Customer.id == Residency.customer_id).where(Customer.name.contains(q))
    state = params.get("state", "")
    if state == "none":
        query = query.where(ResidentReport.id.is_(None))
    elif state in STATE_LABELS:
        query = query.where(ResidentReport.state == state)
    dues = services.due_dates(site, db, month)
    today = _today(request)
    zone = site.zone
    fmt = params.get("format")
    if fmt in ("csv", "xlsx"):
        rows = db.execute(query.order_by(Residency.id)).all()
        return export_response(fmt, f"residencies-{month:%Y-%m}", [
            _("Engineer"), _("Group lead"), _("Customer"), _("Customer site"), _("Report state"),
            _("Customer rating"), _("Late")],
            [(r.engineer.name, r.lead.name if r.lead else "", r.customer.name, r.site_name,
              str(STATE_LABELS[m.state]) if m else _("No report yet"),
              str(RATING_LABELS[m.rating.rating]) if m and m.rating else "",
              _("Yes") if _late(m.documents if m else {}, dues, today, zone) else _("No")) for r, m, *_k in rows])
    page = keyset_page(db, query, sort_col=Residency.starts_on, id_col=Residency.id, descending=True,
                       after=params.get("after"), before=params.get("before"), size=PAGE_SIZE)
    rows = [{"residency": r, "report": m, "late": _late(m.documents if m else {}, dues, today, zone)}
            for r, m, *_k in page.rows]
    return _render(request, "onsite_residency/overview.html",
                   {"page": page, "rows": rows, "month": month, "dues": dues, "state_labels": STATE_LABELS,
                    "rating_labels": RATING_LABELS, "title": _("Residencies")}, fragment="results")


# --- Residencies (who, where, under whom, from when to when) -------------------------------------


def residency_form(request: Request) -> Form:
    db = request.state.db
    return Form([
        Field("engineer_id", _l("Resident engineer"), kind="choice", required=True, choices=_staff_choices(db)),
        Field("lead_id", _l("Supervising group lead"), kind="choice", choices=_staff_choices(db)),
        Field("customer_id", _l("Customer"), kind="record", required=True, lookup=lookups.customers(request)),
        Field("site_name", _l("Customer site"), max_length=200),
        Field("starts_on", _l("Resident from"), kind="date", required=True),
        Field("ends_on", _l("Resident until"), kind="date"),
        Field("notes", _l("Notes"), kind="textarea"),
    ])


def _residency_edit(request: Request, residency: Residency | None) -> Response:
    db = request.state.db
    form = residency_form(request)

    def render(status=200, conflict=None):
        return _render(request, "onsite_residency/residency_form.html",
                       {"form": form, "residency": residency, "conflict": conflict,
                        "title": _("Residency") if residency else _("New residency")}, status=status)

    if request.method == "GET":
        form.fill(residency)
        return render()
    form.load(request.state.form)
    if residency is not None and form.outdated(residency, request.state.form):
        return render(409, conflict=[(f.label, getattr(residency, f.name)) for f in form.fields
                                     if f.name not in ("engineer_id", "lead_id", "customer_id")])
    v = form.values
    if not form.errors and v["ends_on"] and v["ends_on"] < v["starts_on"]:
        form.error("ends_on", _("The residency cannot end before it starts."))
    if form.errors:
        return render(422)
    residency = residency or Residency()
    residency.engineer_id = int(v["engineer_id"])
    residency.lead_id = int(v["lead_id"]) if v["lead_id"] else None
    residency.customer_id = int(v["customer_id"])
    residency.site_name, residency.starts_on, residency.ends_on, residency.notes = (
        v["site_name"], v["starts_on"], v["ends_on"], v["notes"])
    db.add(residency)
    db.flush()
    return _redirect(request, "residency", _("Residency saved."), residency_id=residency.id)


@requires("onsite_residency.residency.manage")
def residency_new(request: Request) -> Response:
    return _residency_edit(request, None)


@requires("onsite_residency.residency.manage")
def residency_edit(request: Request) -> Response:
    return _residency_edit(request, _residency(request, request.path_params["residency_id"]))


@requires(OWN)
def residency_detail(request: Request) -> Response:
    db = request.state.db
    site = _site(request)
    residency = _residency(request, request.path_params["residency_id"])
    month = _month(request)
    history = list(db.scalars(select(Residency).where(Residency.engineer_id == residency.engineer_id,
                                                      services.visible(request.state.user))
                              .order_by(Residency.starts_on.desc())))
    reports = list(db.scalars(select(ResidentReport).where(ResidentReport.residency_id == residency.id)
                              .order_by(ResidentReport.month.desc())))
    calls = services.calls_of(db, [residency.id], month, site.config.timezone)[residency.id]
    user = request.state.user
    return _render(request, "onsite_residency/residency.html", {
        "residency": residency, "history": history, "reports": reports, "calls": calls, "month": month,
        "summary": rules.response_summary([c.compliant for c in calls]),
        "figures": services.figures(site, db, residency, month),
        "has_report": any(r.month == month for r in reports),
        "may_report": user.can("onsite_residency.report.submit") and user.id == residency.engineer_id,
        "may_call": user.can("onsite_residency.call.record") and (
            user.id == residency.engineer_id or _leads(user, residency)),
        "may_keep": user.can("onsite_residency.attendance.keep") and _leads(user, residency),
        "state_labels": STATE_LABELS, "rating_labels": RATING_LABELS,
        "reach": site.settings.get("onsite_residency.reach_minutes", db),
        "ack": site.settings.get("onsite_residency.ack_minutes", db),
        "title": str(residency)})


# --- Attendance sheet (RES-1) -------------------------------------------------------------------


def _days(month):
    from datetime import timedelta
    day, end = month, rules.month_end(month)
    while day <= end:
        yield day
        day += timedelta(days=1)


@requires("onsite_residency.attendance.keep")
def attendance_sheet(request: Request) -> Response:
    db = request.state.db
    residency = _residency(request, request.path_params["residency_id"])
    if not _leads(request.state.user, residency):
        raise NotFound()
    source = request.state.form if request.method == "POST" else request.query_params
    month = rules.parse_month(source.get("month"), _today(request))
    sheet = services.attendance_rows(db, [residency.id], month)[residency.id]
    cal = _site(request).calendar(db)
    errors = {}
    if request.method == "POST":
        posted = request.state.form
        for day in _days(month):
            if not residency.active_on(day):
                continue
            status = posted.get(f"s-{day.isoformat()}", "")
            if not status:
                continue
            if status not in rules.ATTENDANCE:
                errors[day] = _("Choose from the list.")
                continue
            try:
                hours = int(posted.get(f"h-{day.isoformat()}") or 0)
                if not 0 <= hours <= 24:
                    raise ValueError
            except ValueError:
                errors[day] = _("Enter whole hours between 0 and 24.")
                continue
            row = sheet.get(day) or ResidentAttendance(residency_id=residency.id, day=day)
            row.status, row.overtime_hours = status, hours
            row.note = (posted.get(f"n-{day.isoformat()}") or "")[:200]
            db.add(row)
        if not errors:
            db.flush()
            return _redirect_month(request, "attendance", _("Attendance sheet saved."), month,
                                   residency_id=residency.id)
    days = [{"day": d, "row": sheet.get(d), "workday": cal.is_workday(d), "active": residency.active_on(d),
             "error": errors.get(d)} for d in _days(month)]
    return _render(request, "onsite_residency/attendance.html", {
        "residency": residency, "month": month, "days": days, "labels": ATTENDANCE_LABELS,
        "summary": rules.attendance_summary([r.status for r in sheet.values()]),
        "title": _("Attendance sheet")}, status=422 if errors else 200)


def _redirect_month(request, name, message, month, **params):
    return flash_redirect(request, _url(request, name, **params) + f"?month={month:%Y-%m}", message)


@requires(OWN)
def attendance_summary(request: Request) -> Response:
    """RES-1: the monthly summary per engineer for the administration department."""
    db = request.state.db
    user = request.state.user
    if not (user.can(ALL) or user.can("onsite_residency.attendance.keep")):
        raise Forbidden()
    month = _month(request)
    residencies = list(db.scalars(select(Residency).where(services.visible(user), services.overlapping_month(month))
                                  .order_by(Residency.id)))
    sheets = services.attendance_rows(db, [r.id for r in residencies], month)
    rows = []
    for r in residencies:
        s = rules.attendance_summary([a.status for a in sheets[r.id].values()])
        s["overtime_hours"] = sum(a.overtime_hours for a in sheets[r.id].values())
        rows.append({"residency": r, **s})
    if request.query_params.get("format") in ("csv", "xlsx"):
        return export_response(request.query_params["format"], f"resident-attendance-{month:%Y-%m}", [
            _("Engineer"), _("Customer"), _("Present"), _("Overtime"), _("On leave"), _("Absent"),
            _("Overtime hours")],
            [(x["residency"].engineer.name, x["residency"].customer.name, x["present"], x["overtime"], x["leave"],
              x["absent"], x["overtime_hours"]) for x in rows])
    return _render(request, "onsite_residency/attendance_summary.html",
                   {"rows": rows, "month": month, "title": _("Attendance summary")})


# --- Response log (RES-2) -----------------------------------------------------------------------


def call_form() -> Form:
    return Form([
        Field("called_at", _l("Called at"), kind="datetime", required=True),
        Field("acknowledged_at", _l("Acknowledged at"), kind="datetime"),
        Field("reached_at", _l("On the spot at"), kind="datetime"),
        Field("summary", _l("Fault reported"), max_length=300),
    ])


@requires("onsite_residency.call.record")
def call_new(request: Request) -> Response:
    db = request.state.db
    site = _site(request)
    user = request.state.user
    residency = _residency(request, request.path_params["residency_id"])
    if not (user.id == residency.engineer_id or _leads(user, residency)):
        raise NotFound()
    form = call_form()
    form.load(request.state.form)
    zone = site.zone
    # times typed at the site are local; an empty optional time is "not yet"
    v = {k: (x.replace(tzinfo=zone) if isinstance(x, datetime) and x.tzinfo is None else x or None)
         for k, x in form.values.items()}
    v["summary"] = v.get("summary") or ""  # absent when what was typed is refused
    for key in ("acknowledged_at", "reached_at"):
        if not form.errors and v.get(key) and v[key] < v["called_at"]:
            form.error(key, _("Cannot be before the call."))
    if form.errors:
        return _render(request, "onsite_residency/call_form.html",
                       {"form": form, "residency": residency, "title": _("Record a repair call")}, status=422)
    call = ResidentCall(residency_id=residency.id, called_at=v["called_at"], acknowledged_at=v["acknowledged_at"],
                        reached_at=v["reached_at"], summary=v["summary"])
    services.judge_call(site, db, call)
    db.add(call)
    db.flush()
    month = rules.month_first(site.day_of(call.called_at))
    return _redirect_month(request, "residency", _("Repair call recorded."), month, residency_id=residency.id)


@requires("onsite_residency.call.record")
def call_form_page(request: Request) -> Response:
    residency = _residency(request, request.path_params["residency_id"])
    return _render(request, "onsite_residency/call_form.html",
                   {"form": call_form(), "residency": residency, "title": _("Record a repair call")})


# --- Monthly report and its chain (RES-3, RES-6) ------------------------------------------------


def report_form() -> Form:
    return Form([
        Field("work_done", _l("Work done"), kind="textarea", required=True),
        Field("problems", _l("Problems found"), kind="textarea"),
        Field("suggestions", _l("Suggestions"), kind="textarea"),
        Field("evaluation", _l("Service quality self-evaluation"), kind="textarea"),
    ])


@requires("onsite_residency.report.submit")
def report_new(request: Request) -> Response:
    db = request.state.db
    site = _site(request)
    residency = _residency(request, request.path_params["residency_id"])
    if residency.engineer_id != request.state.user.id:
        raise NotFound()
    month = rules.parse_month(request.state.form.get("month"), _today(request))
    existing = db.scalar(select(ResidentReport).where(ResidentReport.residency_id == residency.id,
                                                     ResidentReport.month == month))
    if existing is None:
        existing = ResidentReport(residency_id=residency.id, month=month, owner_id=residency.engineer_id,
                                 figures=services.figures(site, db, residency, month), documents={})
        existing.residency = residency
        site.workflows.start(db, existing, request.state.user)
    return _redirect(request, "report", _("Monthly report opened."), report_id=existing.id)


def _report_context(request: Request, report: ResidentReport, **extra) -> dict:
    db = request.state.db
    site = _site(request)
    user = request.state.user
    allowed = [t for t in site.workflows.allowed(report, user)
               if not (report.state == "lead_review" and not _leads(user, report.residency))]
    usable = []
    if report.state == "sent" and report.rating is None and user.can("onsite_residency.report.send"):
        for link in links.links_of(db, ResidentReport.__tablename__, [report.id],
                                   purpose="onsite_residency.rate").get(report.id, []):
            if links.status(link) == "usable":
                usable.append(absolute_url(request, "link", token=links.token_of(site.config.secret_key, link)))
    results = list(db.scalars(select(ResidentMonthResult).where(ResidentMonthResult.report_id == report.id)))
    form = extra.pop("form", None) or report_form().fill(report)
    history = site.workflows.history(db, report)
    ids = {h.actor_id for h in history if h.actor_id}
    names = dict(db.execute(select(Staff.id, Staff.name).where(Staff.id.in_(ids))).all()) if ids else {}
    return {"report": report, "residency": report.residency, "docs": services.document_status(site, db, report),
            "doc_labels": DOC_LABELS, "state_labels": STATE_LABELS, "rating_labels": RATING_LABELS,
            "history": history, "names": names, "allowed": allowed, "links": usable,
            "results": results, "form": form,
            "editable": report.state == "draft" and report.owner_id == user.id,
            "title": str(report), **extra}


@requires(OWN)
def report_detail(request: Request) -> Response:
    report = _report(request, request.path_params["report_id"])
    return _render(request, "onsite_residency/report.html", _report_context(request, report))


@requires("onsite_residency.report.submit")
def report_edit(request: Request) -> Response:
    db = request.state.db
    site = _site(request)
    report = _report(request, request.path_params["report_id"])
    if report.owner_id != request.state.user.id:
        raise NotFound()
    if report.state != "draft":
        raise ValidationError(message=_l("Only a draft can be edited."))
    form = report_form()
    form.load(request.state.form)
    if form.outdated(report, request.state.form):
        return _render(request, "onsite_residency/report.html",
                       _report_context(request, report, form=form, conflict=True), status=409)
    if form.errors:
        return _render(request, "onsite_residency/report.html", _report_context(request, report, form=form),
                       status=422)
    form.apply(report)
    # the month's figures as the sheet and the call log stand now (RES-1, RES-2)
    report.figures = services.figures(site, db, report.residency, report.month)
    db.flush()
    return _redirect(request, "report", _("Monthly report saved."), report_id=report.id)


@requires(OWN)
def report_step(request: Request) -> Response:
    db = request.state.db
    site = _site(request)
    user = request.state.user
    report = _report(request, request.path_params["report_id"])
    name = request.state.form.get("transition", "")
    comment = request.state.form.get("comment", "")
    if report.state == "lead_review" and not _leads(user, report.residency):
        raise Forbidden()
    if name == "submit" and not report.work_done.strip():
        raise ValidationError({"work_done": _l("Fill in the work done before submitting.")})
    now = utcnow()
    if name == "stamp" and report.state == "gm_review":
        services.stamp(report, user, now)
    if name == "send" and report.state == "stamped":
        # written before the move: a submitted report is read-only (CORE-5)
        report.sent_at = now
        report.contact_name = (request.state.form.get("contact_name") or "")[:100]
    try:
        transition = site.workflows.transition(db, report, name, user, comment)
    except ValidationError as exc:
        # refused before anything changed: show the report again with the reason asked for
        return _render(request, "onsite_residency/report.html",
                       _report_context(request, report, step_errors=exc.errors or {"comment": exc.message}),
                       status=422)
    if transition.name == "submit":
        services.mark_submitted(report, now)
    if transition.name == "send":
        links.issue_for(site, db, "onsite_residency.rate", report, created_by_id=user.id)
        timeline_append(db, report.residency.customer_id, N_("Resident report %(month)s submitted to the customer"),
                        source="onsite_residency", month=Month(report.month))
    if transition.name == "reject" and report.owner_id:
        notify(db, db.get(Staff, report.owner_id), N_("Your resident report %(month)s was sent back: %(reason)s"),
               url=_url(request, "report", report_id=report.id), source="onsite_residency",
               month=Month(report.month), reason=comment)
    db.flush()
    return _redirect(request, "report", _("Done: %(state)s.", state=STATE_LABELS[report.state]),
                     report_id=report.id)


@requires("onsite_residency.report.send")
def report_link(request: Request) -> Response:
    """A new rating link (the customer lost the first one); only once submitted and unrated."""
    db = request.state.db
    report = _report(request, request.path_params["report_id"])
    if report.state != "sent" or report.rating is not None:
        raise ValidationError(message=_l("A rating link is only issued for a stamped report submitted to the "
                                         "customer and not yet rated."))
    links.issue_for(_site(request), db, "onsite_residency.rate", report, created_by_id=request.state.user.id)
    return _redirect(request, "report", _("New rating link issued."), report_id=report.id)


# --- The customer's rating, by signed link (RES-3) ----------------------------------------------


def rating_form() -> Form:
    choices = lambda: list(RATING_LABELS.items())  # noqa: E731
    return Form([
        Field("satisfaction", _l("How satisfied are you with the resident service?"), kind="choice",
              required=True, choices=choices),
        Field("rating", _l("Service evaluation"), kind="choice", required=True, choices=choices),
        Field("comments", _l("Comments"), kind="textarea"),
        Field("rater_name", _l("Your name"), max_length=100),
    ])


def rate_report(visit):
    report = visit.record
    site = visit.site
    db = visit.db
    if report.state != "sent" or not report.stamp_hash or report.rating is not None:
        # not stamped and submitted yet (or already rated): nothing to rate
        return visit.render("onsite_residency/rate_closed.html", {"report": report}, status=409)
    form = rating_form()
    context = {"report": report, "form": form, "docs": services.document_status(site, db, report),
               "doc_labels": DOC_LABELS}
    if visit.request.method == "GET":
        return visit.render("onsite_residency/rate.html", context)
    if not form.load(visit.request.state.form):
        return visit.render("onsite_residency/rate.html", context, status=422)
    visit.use()
    v = form.values
    db.add(ResidentRating(report_id=report.id, rating=v["rating"], satisfaction=v["satisfaction"],
                          comments=v["comments"],
                  rater_name=v["rater_name"] or report.contact_name, rated_at=visit.now))
    db.flush()
    db.expire(report, ["rating"])
    # a copy of the feedback to administration for the appraisal (RES-3)
    admins = db.scalars(select(Staff).join(Staff.roles).where(Role.key == "administration",
                                                               Staff.active.is_(True)))
    # notification parameters are not translated when shown: name the rating in the site's language
    in_site_language = site.catalogs.get(site.config.language).gettext
    word = in_site_language(rules.RATING_WORDS[v["rating"]])
    for person in admins.unique().all():
        notify(db, person, RATED,
               url=f"/onsite_residency/reports/{report.id}", source="onsite_residency",
               month=Month(report.month), engineer=report.residency.engineer.name, rating=word)
    for staff_id in {report.residency.engineer_id, report.residency.lead_id} - {None}:
        notify(db, db.get(Staff, staff_id), RATED, url=f"/onsite_residency/reports/{report.id}",
               source="onsite_residency",
               month=Month(report.month), engineer=report.residency.engineer.name, rating=word)
    timeline_append(db, report.residency.customer_id, N_("Customer rated the resident service %(month)s"),
                    source="onsite_residency", month=Month(report.month))
    return visit.render("onsite_residency/rate_done.html", {"report": report})


# --- Month close (RES-4, RES-5) -----------------------------------------------------------------


@requires(ALL)
def month_close(request: Request) -> Response:
    db = request.state.db
    site = _site(request)
    if request.method == "POST":
        if not request.state.user.can("onsite_residency.month.close"):
            raise Forbidden()
        month = rules.parse_month(request.state.form.get("month"), _today(request))
        new = services.close_month(site, db, month)
        return _redirect_month(request, "close", _("Month closed: %(n)s new results.", n=len(new)), month)
    month = _month(request)
    results = list(db.scalars(select(ResidentMonthResult).where(ResidentMonthResult.month == month)
                              .order_by(ResidentMonthResult.id)))
    if request.query_params.get("format") in ("csv", "xlsx"):
        return export_response(request.query_params["format"], f"resident-close-{month:%Y-%m}",
                               [_("Staff"), _("Rule"), _("Amount"), _("Reason")],
                               [(r.staff.name, r.rule, r.amount, r.reason_text()) for r in results])
    waiting = db.scalar(select(ResidentReport.id).outerjoin(ResidentRating).where(
        ResidentReport.month == month, ResidentRating.id.is_(None)).limit(1)) is not None
    return _render(request, "onsite_residency/close.html",
                   {"month": month, "results": results, "waiting": waiting, "title": _("Resident month close")})


def routes() -> list:
    return [
        Route("/", overview, name="overview"),
        Route("/residencies/new", residency_new, methods=["GET", "POST"], name="residency_new"),
        Route("/residencies/{residency_id}", residency_detail, name="residency"),
        Route("/residencies/{residency_id}/edit", residency_edit, methods=["GET", "POST"], name="residency_edit"),
        Route("/residencies/{residency_id}/attendance", attendance_sheet, methods=["GET", "POST"],
              name="attendance"),
        Route("/residencies/{residency_id}/calls/new", call_form_page, name="call_form"),
        Route("/residencies/{residency_id}/calls", call_new, methods=["POST"], name="call_new"),
        Route("/residencies/{residency_id}/reports", report_new, methods=["POST"], name="report_new"),
        Route("/attendance", attendance_summary, name="attendance_summary"),
        Route("/reports/{report_id}", report_detail, name="report"),
        Route("/reports/{report_id}/edit", report_edit, methods=["POST"], name="report_edit"),
        Route("/reports/{report_id}/step", report_step, methods=["POST"], name="report_step"),
        Route("/reports/{report_id}/link", report_link, methods=["POST"], name="report_link"),
        Route("/close", month_close, methods=["GET", "POST"], name="close"),
    ]


def month_widget(request: Request) -> list:
    """The dashboard card: this month's resident reports of the sites one is on or leads (or all)."""
    from fuwu.web.ui import Widget

    user = request.state.user
    if not (user.can(OWN) or user.can(ALL)):
        return []
    db = request.state.db
    month = rules.month_first(_today(request))
    this_month = and_(ResidentReport.residency_id == Residency.id, ResidentReport.month == month)
    where = (services.visible(user), services.overlapping_month(month))
    state = func.coalesce(ResidentReport.state, "none")
    found = dict(db.execute(select(state, func.count()).select_from(Residency).outerjoin(ResidentReport, this_month)
                            .where(*where).group_by(state)).all())
    if not found:
        return []
    counts = {key: found[key] for key in (*STATE_LABELS, "none") if key in found}
    rows = db.execute(select(Residency, ResidentReport.state, ResidentReport.id).outerjoin(ResidentReport, this_month)
                      .where(*where).order_by(Residency.id).limit(5)).all()
    return [Widget(_("Resident reports %(month)s", month=Month(month)), "onsite_residency/widget.html",
                   {"rows": rows, "counts": counts, "labels": {**STATE_LABELS, "none": _l("No report yet")}},
                   order=35)]
