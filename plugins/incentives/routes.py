"""The ledger's pages: my incentives, the department's month, an entry with
its review and dispute, payroll months with close and export, the chart,
and a person's panel."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal
from urllib.parse import quote

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from fuwu import i18n
from fuwu.errors import NotFound, ValidationError
from fuwu.i18n import gettext as _
from fuwu.i18n import lazy_gettext as _l
from fuwu.models import Department, Staff
from fuwu.web.endpoint import may_open, requires
from fuwu.web.export import MAX_ROWS, export_response
from fuwu.web.forms import Field, Form, record_id, search_text
from fuwu.web.pagination import keyset_page
from fuwu.web.shell import flash_redirect
from fuwu.web.ui import Panel, Widget
from fuwu.web.urls import public_base

from . import rules, services
from .models import Entry

OWN = "incentives.entry.view_own"
REVIEW = "incentives.entry.review"
ALL = "incentives.entry.view_all"
CREATE = "incentives.entry.create"
CLOSE = "incentives.month.close"
LEDGER = "incentives.ledger.view"

STATE_LABELS = {
    "proposed": _l("Proposed"),
    "confirmed": _l("Confirmed"),
    "waived": _l("Waived"),
    "disputed": _l("Disputed"),
}
OUTCOME_LABELS = {"upheld": _l("Dispute upheld"), "rejected": _l("Dispute rejected")}
SORTS = {"created": Entry.created_at, "amount": Entry.amount}


def _site(request: Request):
    return request.app.state.site


def _now() -> datetime:
    """Now, where the company works (``[site] timezone``)."""
    return datetime.now(i18n.current_zone())


def _this_month() -> str:
    return _now().strftime("%Y-%m")


def source_url(request: Request, kind: str, source_id: str) -> str | None:
    """Where the record that caused an entry lives (hook, then route convention)."""
    if kind in ("manual", "incentives.correction") or not source_id:
        return None
    answer = _site(request).plugins.pm.hook.incentive_source_url(request=request, kind=kind, source_id=source_id)
    if answer:
        return str(answer)
    plugin, _dot, obj = kind.partition(".")
    if not obj:
        return None
    for name in (f"{plugin}:{obj}", f"{plugin}:detail"):
        try:
            url = request.url_for(name, **{f"{obj}_id": source_id}).path
        except Exception:  # the emitter has no such page, or is disabled
            continue
        return url if may_open(request, name) else None  # no link that would answer 403
    return None


def source_label(request: Request, kind: str, source_id: str) -> str:
    """What people read for an entry's source: the title of the plugin that
    booked it and the record's number ("投诉 #12"), not its internal kind."""
    if kind == "manual":
        return _("Entered by hand")
    plugin = kind.partition(".")[0]
    named = plugin in _site(request).plugins.names
    title = _site(request).plugins.describe(plugin)[0] if named else kind
    return f"{title} #{source_id}" if source_id else str(title)


def _context(request: Request) -> dict:
    return {"state_labels": STATE_LABELS, "outcome_labels": OUTCOME_LABELS,
            "source_url": lambda e: source_url(request, e.source_kind, e.source_id),
            "source_label": lambda e: source_label(request, e.source_kind, e.source_id)}


def visible_entry(request: Request, entry_id: int) -> Entry:
    entry = request.state.db.scalar(select(Entry).where(Entry.id == entry_id, services.visible(request.state.user))
                                    .options(selectinload(Entry.reviewed_by), selectinload(Entry.decided_by),
                                             selectinload(Entry.recorded_by), selectinload(Entry.correction_of)))
    if entry is None:
        raise NotFound()
    return entry


# --- Lists ------------------------------------------------------------------------------


def _filtered(request: Request, base):
    params = request.query_params
    query = select(Entry).where(base)
    month = rules.parse_month(params.get("month"))
    if month:
        query = query.where(Entry.month == month)
    if params.get("state") in STATE_LABELS:
        query = query.where(Entry.state == params["state"])
    if params.get("kind") == "reward":
        query = query.where(Entry.amount > 0)
    elif params.get("kind") == "fine":
        query = query.where(Entry.amount < 0)
    if params.get("rule"):
        query = query.where(Entry.rule_id == params["rule"].strip())
    department = record_id(params.get("department"))
    if department:
        query = query.where(Entry.department_id == department)
    q = search_text(params)
    if q:
        like = f"%{q}%"
        query = query.where(or_(Entry.reason.ilike(like),
                                Entry.staff_id.in_(select(Staff.id).where(or_(Staff.name.ilike(like),
                                                                              Staff.code.ilike(like))))))
    return query, month


def _export_rows(request: Request, entries):
    base = public_base(request)
    for e in entries:
        link = source_url(request, e.source_kind, e.source_id)
        yield [e.month, e.staff.code, e.staff.name, e.department.name if e.department else "", e.rule_id,
               e.reason, e.amount, str(STATE_LABELS[e.state]), source_label(request, e.source_kind, e.source_id),
               base + link if link else "", base + str(request.url_for("incentives:entry", entry_id=e.id).path)]


def _export_headers():
    return [_("Payroll month"), _("Staff code"), _("Employee"), _("Department"), _("Rule ID"),
            _("Reason for the entry"), _("Amount (yuan)"), _("Entry state"), _("Source record"),
            _("Link to the source record"), _("Link to the ledger entry")]


def _list(request: Request, base, *, template: str, title, extra: dict | None = None) -> Response:
    db = request.state.db
    params = request.query_params
    sort = params.get("sort", "-created")
    column = SORTS.get(sort.lstrip("-"), Entry.created_at)
    query, month = _filtered(request, base)
    if params.get("format") in ("csv", "xlsx"):
        rows = db.scalars(query.order_by(Entry.month, Entry.staff_id, Entry.id).limit(MAX_ROWS))
        return export_response(params["format"], str(title), _export_headers(), _export_rows(request, rows))
    page = keyset_page(db, query, sort_col=column, id_col=Entry.id, descending=sort.startswith("-"),
                       after=params.get("after"), before=params.get("before"),
                       size=_site(request).settings.get("core.page_size", db))
    totals = services.rules.summarise(
        (r[0], r[1], r[2], r[3], r[4]) for r in db.execute(
            select(Entry.staff_id, Entry.department_id, func.sum(Entry.amount), Entry.state, func.count())
            .where(Entry.id.in_(query.with_only_columns(Entry.id).scalar_subquery()))
            .group_by(Entry.staff_id, Entry.department_id, Entry.state, Entry.amount > 0))).total
    ctx = {**_context(request), "page": page, "sort": sort, "month": month, "title": title, "totals": totals,
           "closed": services.is_closed(db, month) if month else False, **(extra or {})}
    return request.app.state.templates.render(request, template, ctx, fragment="results")


@requires(OWN)
def mine(request: Request) -> Response:
    return _list(request, Entry.staff_id == request.state.user.id, template="incentives/mine.html",
                 title=_("My rewards and fines"))


@requires(LEDGER)
def ledger(request: Request) -> Response:
    db = request.state.db
    user = request.state.user
    if "month" not in request.query_params and "format" not in request.query_params:
        return RedirectResponse(str(request.url.include_query_params(month=_this_month())), status_code=303)
    departments = db.scalars(select(Department).order_by(Department.name)).all() if user.can(ALL) else []
    return _list(request, services.visible(user), template="incentives/ledger.html", title=_("Department ledger"),
                 extra={"departments": departments})


# --- An entry -------------------------------------------------------------------------------


def _entry_page(request: Request, entry: Entry, *, errors: dict | None = None, message=None,
                status: int = 200) -> Response:
    db = request.state.db
    site = _site(request)
    user = request.state.user
    closed = services.is_closed(db, entry.month)
    until = services.dispute_until(site, db, entry)
    today = _now().date()
    ctx = {**_context(request), "entry": entry, "closed": closed, "dispute_until": until,
           "can_review": services.may_review_entry(user, entry) and rules.may_review(entry.state, closed),
           "can_decide": services.may_review_entry(user, entry) and rules.may_decide(entry.state, closed),
           "can_dispute": entry.staff_id == user.id and rules.may_dispute(entry.state, closed, today, until),
           "can_correct": closed and user.can(CREATE),
           "errors": errors or {}, "message": message, "posted": request.state.form or {},
           "title": _("Entry %(id)s", id=entry.id), "link": source_url(request, entry.source_kind, entry.source_id),
           "source": source_label(request, entry.source_kind, entry.source_id),
           "current_menu_url": _list_of(request, entry.staff_id)}
    return request.app.state.templates.render(request, "incentives/entry.html", ctx, status=status)


def _list_of(request: Request, staff_id: int | None) -> str:
    """The menu entry a person's entry or page belongs to: the reader's own
    list, else the department ledger (the menu would otherwise light "My
    rewards and fines", the longest link the address starts with)."""
    return request.url_for("incentives:mine" if staff_id == request.state.user.id else "incentives:ledger").path


@requires(OWN)
def entry_detail(request: Request) -> Response:
    return _entry_page(request, visible_entry(request, request.path_params["entry_id"]))


def _act(request: Request, action) -> Response:
    entry = visible_entry(request, request.path_params["entry_id"])
    try:
        message = action(entry)
    except ValidationError as exc:
        return _entry_page(request, entry, errors=exc.errors, message=exc.message, status=422)
    return flash_redirect(request, request.url_for("incentives:entry", entry_id=entry.id).path, message)


@requires(REVIEW)
def entry_review(request: Request) -> Response:
    form = request.state.form

    def act(entry):
        services.review(request.state.db, entry, request.state.user, form.get("action", ""), form.get("note", ""))
        return _("Entry confirmed.") if entry.state == "confirmed" else _("Entry waived.")

    return _act(request, act)


@requires(OWN)
def entry_dispute(request: Request) -> Response:
    form = request.state.form

    def act(entry):
        services.dispute(_site(request), request.state.db, entry, request.state.user, form.get("reason", ""),
                         _now().date())
        return _("Your dispute was sent to the department manager.")

    return _act(request, act)


@requires(REVIEW)
def entry_decide(request: Request) -> Response:
    form = request.state.form

    def act(entry):
        services.decide(request.state.db, entry, request.state.user, form.get("outcome", ""), form.get("note", ""))
        return _("Dispute decided.")

    return _act(request, act)


# --- Entering by hand, corrections ---------------------------------------------------------


def manual_form(db, user) -> Form:
    def people():
        query = select(Staff).where(Staff.active.is_(True)).order_by(Staff.name)
        if not (user.can(ALL) or user.is_admin):
            managed = select(Department.id).where(Department.manager_id == user.id)
            query = query.where(or_(Staff.department_id == user.department_id, Staff.department_id.in_(managed)))
        return [(s.id, i18n.aside(s.name, s.code)) for s in db.scalars(query) if s.id != user.id]

    return Form([
        Field("staff_id", _l("Employee"), kind="choice", required=True, choices=people),
        Field("kind", _l("Reward or fine"), kind="choice", required=True,
              choices=[("reward", _l("Reward")), ("fine", _l("Fine"))]),
        Field("amount", _l("Amount (yuan)"), kind="money", required=True, minimum=Decimal("0.01")),
        Field("rule_id", _l("Rule ID"), required=True, max_length=20, help=_l("For example SD-9 or RES-5.")),
        Field("reason", _l("Reason for the entry"), kind="textarea", required=True),
    ])


@requires(CREATE)
def entry_new(request: Request) -> Response:
    db = request.state.db
    user = request.state.user
    site = _site(request)
    form = manual_form(db, user)
    correction = None
    correction_id = record_id(request.query_params.get("correction_of"))
    if correction_id:
        correction = visible_entry(request, correction_id)
        if not services.is_closed(db, correction.month):
            raise NotFound()
    status = 200
    if request.method == "POST":
        if form.load(request.state.form):
            limit = site.settings.get("incentives.manual_limit", db)
            if form.values["amount"] > limit:
                form.error("amount", _("At most %(limit)s yuan by hand.", limit=f"{limit:.2f}"))
        if not form.errors:
            staff = db.get(Staff, int(form.values["staff_id"]))
            sign = 1 if form.values["kind"] == "reward" else -1
            entry = services.record_manual(db, user, staff=staff, amount=sign * form.values["amount"],
                                           reason=form.values["reason"], rule_id=form.values["rule_id"],
                                           correction_of=correction)
            return flash_redirect(request, request.url_for("incentives:entry", entry_id=entry.id).path,
                                  _("Entry recorded for %(month)s.", month=i18n.Month(entry.month)))
        status = 422
    elif correction is not None:
        form.fill(None, staff_id=correction.staff_id, kind="fine" if correction.amount > 0 else "reward",
                  amount=abs(correction.amount), rule_id=correction.rule_id,
                  reason=_("Correction of entry %(id)s of %(month)s", id=correction.id,
                           month=i18n.Month(correction.month)))
    return request.app.state.templates.render(
        request, "incentives/new.html",
        {"form": form, "correction": correction, "title": _("New reward or fine")}, status=status)


# --- Months ---------------------------------------------------------------------------------


@requires(LEDGER)
def months(request: Request) -> Response:
    db = request.state.db
    rows = services.months_overview(db, services.visible(request.state.user))
    if request.query_params.get("format") in ("csv", "xlsx"):
        return export_response(
            request.query_params["format"], _("Payroll months"),
            [_("Payroll month"), _("Entries"), _("Rewards"), _("Fines"), _("Net amount for payroll"),
             _("Proposed"), _("Disputed"), _("Month state"), _("Closed on")],
            ([r["month"], r["count"], r["rewards"], r["fines"], r["net"], r["proposed"], r["disputed"],
              _("Month closed") if r["closed"] and r["closed"].closed else _("Month open"),
              r["closed"].closed_at if r["closed"] and r["closed"].closed else None] for r in rows))
    return request.app.state.templates.render(
        request, "incentives/months.html",
        {"rows": rows, "this_month": _this_month(), "title": _("Payroll months")})


def _month_param(request: Request) -> str:
    month = rules.parse_month(request.path_params["month"])
    if month is None:
        raise NotFound()
    return month


def _names(db, summary):
    staff = {s.id: s for s in db.scalars(select(Staff).where(Staff.id.in_(list(summary.staff))))}
    depts = {d.id: d for d in db.scalars(select(Department).where(Department.id.in_(
        [d for d in summary.departments if d is not None])))}
    return staff, depts


@requires(LEDGER)
def month_detail(request: Request) -> Response:
    db = request.state.db
    month = _month_param(request)
    summary = services.summary(db, month, services.visible(request.state.user))
    staff, depts = _names(db, summary)
    return request.app.state.templates.render(
        request, "incentives/month.html",
        {"month": month, "row": services.month_row(db, month), "summary": summary, "staff": staff,
         "depts": depts, "title": _("Payroll month %(month)s", month=i18n.Month(month))})


@requires(CLOSE)
def month_close(request: Request) -> Response:
    db = request.state.db
    month = _month_param(request)
    target = request.url_for("incentives:month", month=month).path
    try:
        services.close(_site(request), db, month, request.state.user)
    except ValidationError as exc:
        return flash_redirect(request, target, str(exc), "error")
    return flash_redirect(request, target, _("%(month)s is closed.", month=month))


@requires(LEDGER)
def payroll(request: Request) -> Response:
    """The spreadsheet payroll gets: every line, then totals per employee and
    per department, each line linking back to its rule and record."""
    from openpyxl import Workbook

    db = request.state.db
    month = _month_param(request)
    row = services.month_row(db, month)
    if row is None or not row.closed:
        raise NotFound(_("Payroll exports only closed months."))
    entries = db.scalars(select(Entry).where(Entry.month == month, services.visible(request.state.user))
                         .order_by(Entry.department_id, Entry.staff_id, Entry.id))
    book = Workbook(write_only=True)
    lines = book.create_sheet(_("Entries"))
    lines.append(_export_headers())
    for values in _export_rows(request, entries):
        lines.append([_cell(v) for v in values])
    summary = services.summary(db, month, services.visible(request.state.user))
    staff, depts = _names(db, summary)
    people = book.create_sheet(_("Per employee"))
    people.append([_("Staff code"), _("Employee"), _("Department"), _("Rewards"), _("Fines"),
                   _("Net amount for payroll"), _("Entries")])
    dept_of = {}
    for (sid, did, *_rest) in services.grouped(db, month, services.visible(request.state.user)):
        dept_of.setdefault(sid, did)
    for sid, t in sorted(summary.staff.items(), key=lambda kv: (staff[kv[0]].code,)):
        d = depts.get(dept_of.get(sid))
        people.append([staff[sid].code, staff[sid].name, d.name if d else "", t.rewards, t.fines, t.net, t.count])
    people.append(["", _("Total"), "", summary.total.rewards, summary.total.fines, summary.total.net,
                   summary.total.count])
    departments = book.create_sheet(_("Per department"))
    departments.append([_("Department"), _("Rewards"), _("Fines"), _("Net amount for payroll"), _("Entries")])
    for did, t in sorted(summary.departments.items(), key=lambda kv: depts[kv[0]].name if kv[0] in depts else ""):
        departments.append([depts[did].name if did in depts else _("No department"), t.rewards, t.fines, t.net,
                            t.count])
    departments.append([_("Total"), summary.total.rewards, summary.total.fines, summary.total.net,
                        summary.total.count])
    buf = io.BytesIO()
    book.save(buf)
    name = quote(_("Payroll rewards and fines %(month)s", month=month))
    return Response(buf.getvalue(), media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename=payroll-{month}.xlsx; "
                                                    f"filename*=UTF-8''{name}.xlsx"})


def _cell(value):
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value  # a reason typed as a formula must not run in Excel
    return value


# --- Chart and a person's panel --------------------------------------------------------------


@requires(LEDGER)
def chart(request: Request) -> Response:
    db = request.state.db
    where = services.visible(request.state.user)
    months_rows = list(reversed(services.months_overview(db, where)[:12]))
    scale = max([abs(r["rewards"]) for r in months_rows] + [abs(r["fines"]) for r in months_rows]
                + [Decimal("1")])
    by_rule = services.by_rule(db, where, [r["month"] for r in months_rows])
    rule_scale = max([abs(r["rewards"]) for r in by_rule] + [abs(r["fines"]) for r in by_rule] + [Decimal("1")])
    return request.app.state.templates.render(
        request, "incentives/chart.html",
        {"months": months_rows, "scale": scale, "by_rule": by_rule, "rule_scale": rule_scale,
         "pct": lambda v, s: int(abs(v) * 100 / s) // 5 * 5, "title": _("Rewards and fines chart")})


def person_overview(request: Request, person: Staff | None) -> dict | None:
    """A person's months and latest entries, or None when the user may not see them."""
    db = request.state.db
    user = request.state.user
    if person is None or not user.can(OWN):
        return None
    where = services.visible(user)
    if (person.id != user.id and not (user.can(ALL) or user.is_admin)
            and not db.scalar(select(Entry.id).where(Entry.staff_id == person.id, where).limit(1))):
        return None
    mine_q = (Entry.staff_id == person.id) & where
    recent = db.scalars(select(Entry).where(mine_q).order_by(Entry.created_at.desc(), Entry.id.desc())
                        .limit(20)).all()
    return {**_context(request), "person": person, "months": services.months_overview(db, mine_q)[:12],
            "recent": recent}


@requires(OWN)
def staff_panel(request: Request) -> Response:
    """A person's rewards and fines, full page (the staff page shows the summary)."""
    overview = person_overview(request, request.state.db.get(Staff, request.path_params["staff_id"]))
    if overview is None:
        raise NotFound()
    return request.app.state.templates.render(
        request, "incentives/staff.html",
        {**overview, "title": _("Rewards and fines of %(name)s", name=overview["person"].name),
         "current_menu_url": _list_of(request, overview["person"].id)})


def staff_panels(request: Request, staff: Staff) -> list[Panel]:
    overview = person_overview(request, staff)
    if overview is None:
        return []
    return [Panel(_("Rewards and fines"), "incentives/staff_panel.html", overview, order=60)]


def widget(request: Request) -> list[Widget]:
    user = request.state.user
    if not user.can(OWN):
        return []
    db = request.state.db
    month = _this_month()
    own = services.summary(db, month, Entry.staff_id == user.id).total
    waiting = 0
    if user.can(REVIEW):
        waiting = db.scalar(select(func.count()).select_from(Entry).where(
            services.visible(user), Entry.staff_id != user.id, Entry.state.in_(("proposed", "disputed")))) or 0
    return [Widget(_("Rewards and fines"), "incentives/widget.html",
                   {"own": own, "month": month, "waiting": waiting}, order=60)]


def routes() -> list[Route]:
    return [
        Route("/", mine, name="mine"),
        Route("/ledger", ledger, name="ledger"),
        Route("/entry/new", entry_new, methods=["GET", "POST"], name="new"),
        Route("/entry/{entry_id:int}", entry_detail, name="entry"),
        Route("/entry/{entry_id:int}/review", entry_review, methods=["POST"], name="review"),
        Route("/entry/{entry_id:int}/dispute", entry_dispute, methods=["POST"], name="dispute"),
        Route("/entry/{entry_id:int}/decide", entry_decide, methods=["POST"], name="decide"),
        Route("/months", months, name="months"),
        Route("/months/{month}", month_detail, name="month"),
        Route("/months/{month}/close", month_close, methods=["POST"], name="close"),
        Route("/months/{month}/payroll.xlsx", payroll, name="payroll"),
        Route("/chart", chart, name="chart"),
        Route("/staff/{staff_id:int}", staff_panel, name="staff"),
    ]
