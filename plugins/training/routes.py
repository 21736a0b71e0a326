"""Pages of the training plugin, mounted under ``/training/``.

Thin: parse, authorise (permission + record rules), call ``services``, render.
Trainees without an account use signed links (``links.py`` handlers below).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC
from decimal import Decimal, InvalidOperation

from sqlalchemy import or_, select
from starlette.requests import Request
from starlette.responses import Response

from fuwu import i18n, links
from fuwu.db import check_version, utcnow
from fuwu.errors import NotFound, StaleEdit
from fuwu.i18n import gettext as _
from fuwu.i18n import lazy_gettext as _l
from fuwu.models import Customer, Staff
from fuwu.web import lookups, scope
from fuwu.web.endpoint import AUTHENTICATED, requires
from fuwu.web.export import MAX_ROWS, export_response
from fuwu.web.forms import Field, Form, record_id, search_text
from fuwu.web.pagination import keyset_page
from fuwu.web.shell import flash_redirect
from fuwu.web.ui import Panel
from fuwu.web.urls import absolute_url

from . import rules, services
from .services import Refused
from .models import (Assessment, Attempt, Course, Invitation, Material, Plan, Question, Registration, Sheet,
                     Signature, TrainingSession)

CATEGORIES = {"operation": _l("Software operation"), "upgrade": _l("Software upgrade"),
              "business": _l("Business training"), "internal": _l("Internal staff course")}
PLACES = {"on_site": _l("On site"), "remote": _l("Remote"), "room": _l("Training room")}
QUESTION_KINDS = {"single": _l("Single choice"), "multiple": _l("Multiple choice"),
                  "truefalse": _l("True or false"), "short": _l("Short answer")}
REG_STATUSES = {"registered": _l("Registered"), "waiting": _l("Waiting list"), "cancelled": _l("Cancelled")}
ASSESSMENT_KINDS = {"probation": _l("Probation assessment"), "skill": _l("Professional skill assessment"),
                    "periodic": _l("Periodic assessment")}


def _render(request, name, context, **kw):
    context = {"categories": CATEGORIES, "places": PLACES, "question_kinds": QUESTION_KINDS,
               "reg_statuses": REG_STATUSES, "assessment_kinds": ASSESSMENT_KINDS, **context}
    return request.app.state.templates.render(request, name, context, **kw)


def _redirect(request, name, message, **params):
    return flash_redirect(request, request.url_for(f"training:{name}", **params).path, message)


def _setting(request, key):
    return request.app.state.site.settings.get(key, request.state.db)


def _staff_choices(db):
    return lambda: [(i, n) for i, n in db.execute(select(Staff.id, Staff.name).where(Staff.active.is_(True))
                                                   .order_by(Staff.name))]


def _aware(value):
    """A time typed into a form, read in the site's time zone."""
    return value.replace(tzinfo=i18n.current_zone()).astimezone(UTC) if value is not None and value.tzinfo is None \
        else value


# --- Record rules ------------------------------------------------------------------


def _session_scope(user):
    """A session of a customer follows the customer's visibility; internal ones are for all trainers."""
    return or_(TrainingSession.customer_id.is_(None), scope.customers(user))


def visible_session(request, session_id) -> TrainingSession:
    ts = request.state.db.scalar(
        select(TrainingSession).outerjoin(Customer, Customer.id == TrainingSession.customer_id)
        .where(TrainingSession.id == session_id, _session_scope(request.state.user)))
    if ts is None:
        raise NotFound()
    return ts


def visible_registration(request, reg_id) -> Registration:
    reg = request.state.db.scalar(
        select(Registration).join(TrainingSession, TrainingSession.id == Registration.session_id)
        .outerjoin(Customer, Customer.id == TrainingSession.customer_id)
        .where(Registration.id == record_id(reg_id), _session_scope(request.state.user)))
    if reg is None:
        raise NotFound()
    return reg


def visible_plan(request, plan_id) -> Plan:
    return scope.customer_record(request, Plan, plan_id)


def _course(request, course_id) -> Course:
    course = request.state.db.get(Course, course_id)
    if course is None:
        raise NotFound()
    return course


# --- Courses (TRN-1) -------------------------------------------------------------------


def course_form(db) -> Form:
    return Form([
        Field("code", _l("Course code"), kind="code", required=True, max_length=40),
        Field("title", _l("Course title"), required=True),
        Field("category", _l("Course type"), kind="choice", required=True, choices=list(CATEGORIES.items())),
        Field("goals", _l("Training goals"), kind="textarea"),
        Field("outline", _l("Course outline"), kind="textarea"),
        Field("hours", _l("Duration (hours)"), kind="int", required=True, minimum=1, maximum=500),
        Field("trainer_id", _l("Trainer"), kind="choice", choices=_staff_choices(db)),
    ])


@requires("training.course.view")
def course_list(request: Request) -> Response:
    db = request.state.db
    params = request.query_params
    query = select(Course)
    if params.get("category") in CATEGORIES:
        query = query.where(Course.category == params["category"])
    q = search_text(params)
    if q:
        like = f"%{q}%"
        query = query.where(or_(Course.title.ilike(like), Course.code.ilike(like)))
    if params.get("format") in ("csv", "xlsx"):
        rows = db.scalars(query.order_by(Course.code).limit(MAX_ROWS))
        return export_response(params["format"], _("Training courses"),
                               [_("Course code"), _("Course title"), _("Course type"), _("Duration (hours)"),
                                _("Trainer")],
                               ([c.code, c.title, str(CATEGORIES[c.category]), c.hours,
                                 c.trainer.name if c.trainer else ""] for c in rows))
    page = keyset_page(db, query, sort_col=Course.code, id_col=Course.id, after=params.get("after"),
                       before=params.get("before"), size=_setting(request, "core.page_size"))
    return _render(request, "training/courses.html", {"page": page, "title": _("Training courses")},
                   fragment="results")


def _course_edit(request, course: Course | None) -> Response:
    db = request.state.db
    form = course_form(db)
    title = _("Edit course") if course else _("New course")
    context = {"form": form, "course": course, "title": title}
    if request.method == "GET":
        form.fill(course) if course else form.fill(category="operation", hours=4, trainer_id=request.state.user.id)
        return _render(request, "training/course_edit.html", context)
    if form.load(request.state.form):
        clash = db.scalar(select(Course.id).where(Course.code == form.values["code"]))
        if clash and (course is None or clash != course.id):
            form.error("code", _("Another course has this code."))
    if form.errors:
        return _render(request, "training/course_edit.html", context, status=422)
    if course is None:
        course = Course()
        db.add(course)
    else:
        if form.outdated(course, request.state.form):
            context["conflict"] = [(_("Course title"), course.title)]
            return _render(request, "training/course_edit.html", context, status=409)
    form.apply(course)
    db.flush()
    return _redirect(request, "course", _("Course saved."), course_id=course.id)


@requires("training.course.edit")
def course_new(request):
    return _course_edit(request, None)


@requires("training.course.edit")
def course_edit(request):
    return _course_edit(request, _course(request, request.path_params["course_id"]))


@requires("training.course.view")
def course_detail(request):
    return _course_page(request)


def _accepted_types(request) -> list[str]:
    """TRN-1: the file types a course material may have, sorted (the upload hint and its refusal)."""
    return sorted(rules.material_types(_setting(request, "training.material_types")))


def _course_page(request, *, question: Form | None = None, status: int = 200):
    """The course page; after a question the form refused, with what was typed (422)."""
    db = request.state.db
    course = _course(request, request.path_params["course_id"])
    questions = list(db.scalars(select(Question).where(Question.course_id == course.id).order_by(Question.id)))
    materials = list(db.scalars(select(Material).where(Material.course_id == course.id).order_by(Material.id)))
    # the latest; the page links to all of them in the session list
    sessions = list(db.scalars(select(TrainingSession).outerjoin(Customer, Customer.id == TrainingSession.customer_id)
                               .where(TrainingSession.course_id == course.id, _session_scope(request.state.user))
                               .order_by(TrainingSession.starts_at.desc()).limit(50)))
    return _render(request, "training/course.html", {
        "course": course, "questions": questions, "materials": materials, "sessions": sessions,
        "title": course.title, "can_edit": request.state.user.can("training.course.edit"),
        "max_mb": _setting(request, "training.material_max_mb"),
        "types": i18n.listed(_accepted_types(request), "or"),
        "question_form": question or question_form().fill(None, points=2)}, status=status)


def question_form() -> Form:
    return Form([
        Field("kind", _l("Question type"), kind="choice", required=True, choices=lambda: QUESTION_KINDS.items()),
        Field("text", _l("Question"), kind="textarea", required=True),
        Field("options", _l("Options (one per line)"), kind="textarea"),
        Field("answer", _l("Right answer"), max_length=2000,
              help=_l("Choice: the numbers of the right options (1,3); true or false: true / false; "
                      "short answer: a model answer for the trainer.")),
        Field("points", _l("Points"), kind="int", required=True, minimum=1, maximum=100),
    ])


@requires("training.course.edit")
def question_add(request):
    """TRN-4: the course's question bank. Options one per line; the key is the
    numbers of the right options (1,3), true/false, or a model answer."""
    db = request.state.db
    course = _course(request, request.path_params["course_id"])
    form = question_form()
    if form.load(request.state.form):
        kind = form.values["kind"]
        options = [line.strip() for line in form.values["options"].splitlines() if line.strip()]
        raw_key = form.values["answer"]
        if kind in ("single", "multiple"):
            try:
                # "1,3", "1，3" or "1、3" as a Chinese keyboard types it
                key = sorted({int(k) - 1 for k in re.split(r"[,，、\s]+", raw_key) if k})
            except ValueError:
                key = []
            if len(options) < 2:
                form.error("options", _l("Give at least two options, one per line."))
            elif not key or key[0] < 0 or key[-1] >= len(options) or (kind == "single" and len(key) != 1):
                form.error("answer", _l("Give the numbers of the right options (one for a single choice)."))
            answer = ",".join(str(k) for k in key)
        elif kind == "truefalse":
            if raw_key.lower() not in ("true", "false"):
                form.error("answer", _l("The answer of a true-or-false question is true or false."))
            answer, options = raw_key.lower(), []
        else:
            answer, options = raw_key, []
    if form.errors:
        # the course page again, with what was typed and the message next to its field
        return _course_page(request, question=form, status=422)
    db.add(Question(course_id=course.id, kind=kind, text=form.values["text"], options=options, answer=answer,
                    points=form.values["points"]))
    return _redirect(request, "course", _("Question added."), course_id=course.id)


@requires("training.course.edit")
def question_delete(request):
    db = request.state.db
    q = db.get(Question, request.path_params["question_id"])
    if q is None:
        raise NotFound()
    course_id = q.course_id
    db.delete(q)
    return _redirect(request, "course", _("Question removed."), course_id=course_id)


@requires("training.course.edit")
def material_upload(request):
    """TRN-1: course materials, checked for size and type (settings)."""
    db = request.state.db
    course = _course(request, request.path_params["course_id"])
    upload = request.state.form.get("file")
    if upload is None or not getattr(upload, "filename", ""):
        raise Refused(_l("Choose a file to upload."))
    allowed = _accepted_types(request)
    ext = upload.filename.rsplit(".", 1)[-1].lower() if "." in upload.filename else ""
    if ext not in allowed:
        raise Refused(_l("Files of type %(ext)s are not accepted: %(allowed)s."), ext=ext or "?",
                      allowed=i18n.listed(allowed, "or"))
    limit = _setting(request, "training.material_max_mb") * 1024 * 1024
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise Refused(_l("The file is larger than %(mb)s MB."), mb=_setting(request, "training.material_max_mb"))
    db.add(Material(course_id=course.id, filename=upload.filename[-200:], size=len(data), data=data,
                    content_type=(upload.content_type or "application/octet-stream")[:100]))
    return _redirect(request, "course", _("Material uploaded."), course_id=course.id)


@requires("training.course.view")
def material_download(request):
    material = request.state.db.get(Material, request.path_params["material_id"])
    if material is None:
        raise NotFound()
    from urllib.parse import quote

    return Response(material.data, media_type="application/octet-stream", headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(material.filename)}",
        "X-Content-Type-Options": "nosniff"})


# --- Sessions and registration (TRN-3) ----------------------------------------------------------


def session_form(request) -> Form:
    db = request.state.db
    return Form([
        Field("course_id", _l("Course"), kind="choice", required=True,
              choices=lambda: [(i, f"{c} {t}") for i, c, t in db.execute(select(Course.id, Course.code, Course.title)
                                                                          .order_by(Course.code))]),
        Field("customer_id", _l("Customer (empty for an internal course)"), kind="record",
              lookup=lookups.customers(request)),
        Field("starts_at", _l("Starts at"), kind="datetime", required=True),
        Field("place", _l("Place"), required=True),
        Field("trainer_id", _l("Trainer"), kind="choice", choices=_staff_choices(db)),
        Field("capacity", _l("Capacity"), kind="int", required=True, minimum=1, maximum=1000),
        Field("exam_questions", _l("Exam questions drawn (0: the whole bank)"), kind="int", minimum=0, maximum=500),
        Field("exam_minutes", _l("Exam time limit (minutes)"), kind="int", minimum=1, maximum=600),
        Field("pass_mark", _l("Pass mark (%)"), kind="int", minimum=0, maximum=100),
    ])


def _sessions_query(request):
    query = (select(TrainingSession).outerjoin(Customer, Customer.id == TrainingSession.customer_id)
             .where(_session_scope(request.state.user)))
    params = request.query_params
    course_id = record_id(params.get("course"))
    if course_id is not None:
        query = query.where(TrainingSession.course_id == course_id)
    if params.get("mine"):
        query = query.where(TrainingSession.trainer_id == request.state.user.id)
    return query


@requires("training.session.view")
def session_list(request):
    db = request.state.db
    params = request.query_params
    query = _sessions_query(request)
    descending = params.get("sort", "-starts_at").startswith("-")
    if params.get("format") in ("csv", "xlsx"):
        rows = list(db.scalars(query.order_by(TrainingSession.starts_at.desc()).limit(MAX_ROWS)))
        seats = services.seats(db, [s.id for s in rows])
        return export_response(params["format"], _("Training sessions"),
                               [_("Starts at"), _("Course"), _("Customer"), _("Place"), _("Trainer"), _("Capacity"),
                                _("Registered"), _("Waiting list")],
                               ([s.starts_at, s.course.title, s.customer.name if s.customer else "", s.place,
                                 s.trainer.name if s.trainer else "", s.capacity, seats[s.id][0], seats[s.id][1]]
                                for s in rows))
    page = keyset_page(db, query, sort_col=TrainingSession.starts_at, id_col=TrainingSession.id,
                       descending=descending, after=params.get("after"), before=params.get("before"),
                       size=_setting(request, "core.page_size"))
    seats = services.seats(db, [s.id for s in page.rows])
    return _render(request, "training/sessions.html", {"page": page, "seats": seats,
                                                       "title": _("Training sessions")}, fragment="results")


def _session_edit(request, ts):
    db = request.state.db
    form = session_form(request)
    context = {"form": form, "ts": ts, "title": _("Edit session") if ts else _("New session")}
    if request.method == "GET":
        if ts:
            form.fill(ts, starts_at=ts.starts_at.astimezone(i18n.current_zone()).strftime("%Y-%m-%dT%H:%M"))
        else:
            form.fill(capacity=20, exam_questions=0, pass_mark=_setting(request, "training.pass_mark"),
                      exam_minutes=_setting(request, "training.exam_minutes"), trainer_id=request.state.user.id,
                      course_id=request.query_params.get("course", ""),
                      customer_id=request.query_params.get("customer", ""))
        return _render(request, "training/session_edit.html", context)
    if not form.load(request.state.form):  # the customer lookup keeps to the customers the user sees
        return _render(request, "training/session_edit.html", context, status=422)
    values = dict(form.values)
    values["starts_at"] = _aware(values["starts_at"])
    for k in ("course_id", "customer_id", "trainer_id"):
        values[k] = int(values[k]) if values[k] else None
    for k, default in (("exam_questions", 0), ("exam_minutes", _setting(request, "training.exam_minutes")),
                       ("pass_mark", _setting(request, "training.pass_mark"))):
        values[k] = default if values[k] is None else values[k]
    changed = False
    if ts is None:
        ts = TrainingSession(**values)
        if request.query_params.get("plan"):
            plan = visible_plan(request, request.query_params["plan"])
            ts.plan_id = plan.id
        db.add(ts)
    else:
        if form.outdated(ts, request.state.form):
            context["conflict"] = [(_("Starts at"), ts.starts_at), (_("Place"), ts.place)]
            return _render(request, "training/session_edit.html", context, status=409)
        changed = (ts.starts_at, ts.place) != (values["starts_at"], values["place"])
        for k, v in values.items():
            setattr(ts, k, v)
    db.flush()
    db.refresh(ts)
    services.fill_seats(db, ts)  # TRN-3: a larger room lets the waiting list in
    if changed:
        services.notify_change(db, ts)  # TRN-3: trainees hear about changes
    return _redirect(request, "session", _("Session saved."), session_id=ts.id)


@requires("training.session.manage")
def session_new(request):
    return _session_edit(request, None)


@requires("training.session.manage")
def session_edit(request):
    return _session_edit(request, visible_session(request, request.path_params["session_id"]))


@requires("training.session.view")
def session_detail(request):
    return _session_page(request, visible_session(request, request.path_params["session_id"]))


def trainee_form() -> Form:
    return Form([Field("name", _l("Trainee name"), required=True, max_length=100),
                 Field("email", _l("E-mail"), kind="email", required=True),
                 Field("phone", _l("Phone"), kind="phone", max_length=40)])


def _session_page(request, ts: TrainingSession, *, marking: dict | None = None, trainee: Form | None = None,
                  status: int = 200):
    """The session page; after a form there refused its input (422), with what was typed
    and the messages: ``trainee`` (registering a trainee) or ``marking`` (registration id,
    scores and errors by question id)."""
    db = request.state.db
    regs = list(db.scalars(select(Registration).where(Registration.session_id == ts.id)
                           .order_by(Registration.created_at, Registration.id)))
    attempts = {a.registration_id: a for a in db.scalars(select(Attempt).where(
        Attempt.registration_id.in_([r.id for r in regs] or [-1])))}
    issued = links.links_of(db, Registration.__tablename__, [r.id for r in regs], purpose="training.exam")
    now = utcnow()
    exam_links = {rid: (ls[0], links.status(ls[0], now)) for rid, ls in issued.items()}
    token = request.query_params.get("token_for", "")
    new_link = None
    if token.isdigit() and int(token) in exam_links:
        link = exam_links[int(token)][0]
        new_link = absolute_url(request, "link", token=links.token_of(request.app.state.site.config.secret_key, link))
    sheet = db.scalar(select(Sheet).where(Sheet.session_id == ts.id))
    signed = set(db.scalars(select(Signature.registration_id).where(Signature.sheet_id == sheet.id))) if sheet else set()
    pending = {}
    for a in attempts.values():
        if a.pending_marking:
            pending[a.registration_id] = [q for q in services.questions_of(db, a) if q.kind == "short"]
    return _render(request, "training/session.html", {
        "ts": ts, "regs": regs, "attempts": attempts, "exam_links": exam_links, "new_link": new_link,
        "sheet": sheet, "signed": signed, "pending": pending, "title": ts.course.title,
        "invite_link": _invite_link(request), "link_statuses": links.STATUSES,
        "can_manage": request.state.user.can("training.session.manage"),
        "seated": sum(1 for r in regs if r.status == "registered"), "marking": marking or {},
        "trainee_form": trainee or trainee_form()}, status=status)


@requires("training.session.manage")
def registration_add(request):
    db = request.state.db
    ts = visible_session(request, request.path_params["session_id"])
    form = trainee_form()
    if not form.load(request.state.form):
        return _session_page(request, ts, trainee=form, status=422)
    try:
        reg = services.register(db, ts, name=form.values["name"], email=form.values["email"],
                                phone=form.values["phone"] or "")
    except Refused as exc:  # registered already
        form.error("email", str(exc))
        return _session_page(request, ts, trainee=form, status=422)
    message = (_("%(name)s registered.", name=reg.name) if reg.status == "registered"
               else _("The session is full: %(name)s is on the waiting list.", name=reg.name))
    return _redirect(request, "session", message, session_id=ts.id)


@requires("training.session.manage")
def registration_cancel(request):
    db = request.state.db
    reg = visible_registration(request, request.path_params["registration_id"])
    if reg.status == "cancelled":
        raise Refused(_l("This registration is already cancelled."))
    moved = services.cancel(db, reg)
    message = (_("Cancelled; %(name)s moved up from the waiting list.", name=moved.name) if moved
               else _("Registration cancelled."))
    return _redirect(request, "session", message, session_id=reg.session_id)


@requires("training.session.manage")
def attendance(request):
    db = request.state.db
    ts = visible_session(request, request.path_params["session_id"])
    present = {int(v) for v in request.state.form.getlist("present") if v.isdigit()}
    for reg in db.scalars(select(Registration).where(Registration.session_id == ts.id,
                                                     Registration.status == "registered")):
        reg.attended = reg.id in present
    return _redirect(request, "session", _("Attendance saved."), session_id=ts.id)


@requires("training.session.view")
def notice(request):
    """TRN-3: the printable notice of the schedule, with the trainee list."""
    db = request.state.db
    ts = visible_session(request, request.path_params["session_id"])
    regs = list(db.scalars(select(Registration).where(Registration.session_id == ts.id,
                                                      Registration.status == "registered")
                           .order_by(Registration.id)))
    return _render(request, "training/notice.html", {"ts": ts, "regs": regs, "title": _("Training notice")})


@requires("training.session.manage")
def invite(request):
    """TRN-3: a signed link the customer's contact uses to register trainees."""
    db = request.state.db
    ts = visible_session(request, request.path_params["session_id"])
    inv = Invitation(session_id=ts.id, session=ts, email=(request.state.form.get("email") or "").strip()[:200])
    db.add(inv)
    db.flush()
    token = links.issue_for(request.app.state.site, db, "training.register", inv, created_by_id=request.state.user.id)
    if inv.email:
        link = links.check(db, request.app.state.site.config.secret_key, token, purpose="training.register")
        services.mail_invitation(db, inv, absolute_url(request, "link", token=token), link.expires_at)
    return flash_redirect(request, request.url_for("training:session", session_id=ts.id).path + "?invite=" + token,
                          _("Registration link created."))


def _invite_link(request) -> str | None:
    """The registration link just created (``?invite=<token>``), as the whole address
    to copy; nothing for a token that is not a registration link."""
    token = request.query_params.get("invite")
    if not token:
        return None
    try:
        links.check(request.state.db, request.app.state.site.config.secret_key, token, purpose="training.register")
    except links.LinkRefused:
        return None
    return absolute_url(request, "link", token=token)


# --- Exams (TRN-4) ------------------------------------------------------------------


@requires("training.session.manage")
def exam_link(request):
    db = request.state.db
    reg = visible_registration(request, request.path_params["registration_id"])
    if reg.status != "registered":
        raise Refused(_l("Only registered trainees take the exam."))
    if db.scalar(select(Attempt.id).where(Attempt.registration_id == reg.id, Attempt.submitted_at.is_not(None))):
        raise Refused(_l("%(name)s has already handed in the exam."), name=reg.name)
    if not db.scalar(select(Question.id).where(Question.course_id == reg.session.course_id).limit(1)):
        raise Refused(_l("The course has no questions yet."))
    for old in links.links_of(db, Registration.__tablename__, [reg.id], purpose="training.exam").get(reg.id, []):
        links.revoke(db, old.id)
    links.issue_for(request.app.state.site, db, "training.exam", reg, created_by_id=request.state.user.id)
    return flash_redirect(request, request.url_for("training:session", session_id=reg.session_id).path
                                + f"?token_for={reg.id}",
                          _("Exam link created for %(name)s.", name=reg.name))


@requires("training.session.manage")
def mark(request):
    """TRN-4: the trainer scores short answers."""
    db = request.state.db
    reg = visible_registration(request, request.path_params["registration_id"])
    attempt = db.scalar(select(Attempt).where(Attempt.registration_id == reg.id))
    if attempt is None or attempt.submitted_at is None:
        raise NotFound()
    questions = services.questions_of(db, attempt)
    marks = dict(attempt.marks or {})
    typed, errors = {}, {}
    for q in questions:
        if q.kind != "short":
            continue
        typed[q.id] = raw = unicodedata.normalize("NFKC", request.state.form.get(f"mark{q.id}") or "").strip()
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or not 0 <= value <= q.points:
            errors[q.id] = _l("A score from 0 to %(n)s.", n=q.points)
        else:
            marks[str(q.id)] = str(value)
    if errors:
        # the session page again: every score typed kept, the message under each wrong one
        return _session_page(request, reg.session, marking={"reg_id": reg.id, "typed": typed, "errors": errors},
                             status=422)
    attempt.marks = marks
    services.score(db, attempt, questions)
    services.record_result(db, attempt)
    return _redirect(request, "session", _("Marks saved."), session_id=reg.session_id)


def take_exam(visit: links.LinkVisit) -> Response:
    """The trainee's exam page (signed link, no account). The answer key is never rendered."""
    reg: Registration = visit.record
    db = visit.db
    request = visit.request
    site = visit.site
    ts = reg.session
    if reg.status != "registered":  # cancelled (or back on the waiting list) since the link was sent
        raise links.LinkGone(links.WITHDRAWN)
    attempt = services.attempt_for(db, reg)
    if attempt.submitted_at is not None:
        raise links.LinkGone(links.USED)
    now = visit.now
    if attempt.started_at is None:
        attempt.started_at = now
    grace = site.settings.get("training.exam_grace_seconds", db)
    ends = rules.deadline(attempt.started_at, ts.exam_minutes, grace)
    questions = services.questions_of(db, attempt)
    overdue = now > ends
    context = {"reg": reg, "ts": ts, "attempt": attempt, "questions": questions, "question_kinds": QUESTION_KINDS,
               "ends_at": rules.deadline(attempt.started_at, ts.exam_minutes, 0), "title": ts.course.title}
    if request.method == "POST":
        action = request.state.form.get("action", "save")
        if not overdue:  # TRN-4: answers after the time limit are not taken
            attempt.answers = services.clean_answers(questions, request.state.form)
        if action == "save" and not overdue:
            # not render_public: a new anonymous CSRF cookie would make the page's token stale
            return request.app.state.templates.render(
                request, "training/exam_saved.html", {**context, "saved_at": now},
                headers={"Cache-Control": "no-store, private"})
        visit.use()  # the link works once: a handed-in exam cannot be taken again
        services.finish(db, attempt, late=overdue, now=now)
        return visit.render("training/exam_done.html", context)
    if overdue:
        # TRN-4: past the limit, what was saved is handed in as it stands
        visit.use()
        services.finish(db, attempt, late=True, now=now)
        return visit.render("training/exam_done.html", context)
    return visit.render("training/exam.html", context)


def self_register(visit: links.LinkVisit) -> Response:
    """TRN-3: the customer's contact registers trainees (the link works until it expires)."""
    inv: Invitation = visit.record
    request = visit.request
    form = trainee_form()
    context = {"form": form, "ts": inv.session, "title": inv.session.course.title}
    if request.method != "POST":
        return visit.render("training/register.html", context)
    if not form.load(request.state.form):
        return visit.render("training/register.html", context, status=422)
    try:
        reg = services.register(visit.db, inv.session, name=form.values["name"], email=form.values["email"],
                                phone=form.values["phone"] or "", self_registered=True)
    except services.Refused as exc:
        form.error("email", str(exc))
        return visit.render("training/register.html", context, status=422)
    return visit.render("training/register.html", {**context, "done": reg, "form": form.fill()})


# --- Acceptance sheet (TRN-5) ---------------------------------------------------------------


@requires("training.session.view")
def sheet_page(request):
    db = request.state.db
    ts = visible_session(request, request.path_params["session_id"])
    sheet = db.scalar(select(Sheet).where(Sheet.session_id == ts.id))
    regs = list(db.scalars(select(Registration).where(Registration.session_id == ts.id,
                                                      Registration.status == "registered")
                           .order_by(Registration.id)))
    signatures = {s.registration_id: s for s in db.scalars(select(Signature).where(
        Signature.sheet_id == (sheet.id if sheet else -1)))}
    attempts = {a.registration_id: a for a in db.scalars(select(Attempt).where(
        Attempt.registration_id.in_([r.id for r in regs] or [-1])))}
    return _render(request, "training/sheet.html", {
        "ts": ts, "sheet": sheet, "regs": regs, "signatures": signatures, "attempts": attempts,
        "title": _("Training acceptance sheet"), "can_manage": request.state.user.can("training.session.manage")})


@requires("training.session.manage")
def sheet_sign(request):
    """A trainee signs on the trainer's tablet or laptop (typed or drawn)."""
    db = request.state.db
    ts = visible_session(request, request.path_params["session_id"])
    form = request.state.form
    sheet = services.sheet_of(db, ts)
    if form.get("registration_id", "").isdigit():
        reg = visible_registration(request, int(form["registration_id"]))
        if reg.session_id != ts.id or reg.status != "registered":
            raise NotFound()
        services.sign(db, sheet, reg, name=form.get("name", ""),
                      signature=form.get("drawn") or form.get("typed") or "")
        message = _("%(name)s signed.", name=reg.name)
    else:
        seated = list(db.scalars(select(Registration).where(Registration.session_id == ts.id,
                                                            Registration.status == "registered")))
        services.complete(db, sheet, name=form.get("name", ""), signature=form.get("drawn") or form.get("typed") or "",
                          seated=seated)
        message = _("Acceptance sheet complete.")
        if ts.customer_id:
            from fuwu import timeline

            timeline.append(db, ts.customer_id, services.N_("Training %(course)s signed off by %(name)s"),
                            source="training", kind="training", ref=sheet, course=ts.course.title,
                            name=sheet.responsible_name)
    return _redirect(request, "sheet", message, session_id=ts.id)


# --- Plans agreed with the customer (TRN-2, TRN-6) -----------------------------------------------


def plan_form(request) -> Form:
    db = request.state.db
    return Form([
        Field("customer_id", _l("Customer"), kind="record", required=True, lookup=lookups.customers(request)),
        Field("course_id", _l("Course"), kind="choice",
              choices=lambda: list(db.execute(select(Course.id, Course.title).order_by(Course.code)))),
        Field("title", _l("Plan title"), required=True),
        Field("content", _l("Training content"), kind="textarea"),
        Field("goals", _l("Training goals"), kind="textarea"),
        Field("place", _l("Where"), kind="choice", required=True, choices=list(PLACES.items())),
        Field("starts_on", _l("From"), kind="date"),
        Field("ends_on", _l("Until"), kind="date"),
        Field("trainees", _l("Trainees (one per line)"), kind="textarea"),
        Field("trainer_id", _l("Responsible trainer"), kind="choice", choices=_staff_choices(db)),
    ])


@requires("training.plan.view")
def plan_list(request):
    db = request.state.db
    params = request.query_params
    query = select(Plan).join(Customer, Customer.id == Plan.customer_id).where(scope.customers(request.state.user))
    if params.get("mine"):
        query = query.where(Plan.trainer_id == request.state.user.id)
    if params.get("state") in ("draft", "sent", "agreed"):
        query = query.where(Plan.state == params["state"])
    if params.get("format") in ("csv", "xlsx"):
        rows = db.scalars(query.order_by(Plan.id.desc()).limit(MAX_ROWS))
        wf = request.app.state.site.workflows.get("training.plan")
        return export_response(params["format"], _("Training plans"),
                               [_("Customer"), _("Plan title"), _("Where"), _("From"), _("Until"), _("State")],
                               ([p.customer.name, p.title, str(PLACES[p.place]), p.starts_on, p.ends_on,
                                 str(wf.by_state[p.state].label)] for p in rows))
    page = keyset_page(db, query, sort_col=Plan.id, id_col=Plan.id, descending=True, after=params.get("after"),
                       before=params.get("before"), size=_setting(request, "core.page_size"))
    return _render(request, "training/plans.html", {
        "page": page, "title": _("Training plans"), "wf": request.app.state.site.workflows.get("training.plan")},
        fragment="results")


def _plan_edit(request, plan):
    db = request.state.db
    form = plan_form(request)
    context = {"form": form, "plan": plan, "title": _("Edit training plan") if plan else _("New training plan")}
    if request.method == "GET":
        form.fill(plan) if plan else form.fill(place="on_site", trainer_id=request.state.user.id,
                                               customer_id=request.query_params.get("customer", ""))
        return _render(request, "training/plan_edit.html", context)
    if not form.load(request.state.form):
        return _render(request, "training/plan_edit.html", context, status=422)
    values = dict(form.values)
    for k in ("customer_id", "course_id", "trainer_id"):
        values[k] = int(values[k]) if values[k] else None
    if plan is None:
        plan = Plan(**values)
        db.add(plan)
        db.flush()
        request.app.state.site.workflows.start(db, plan, request.state.user)
    else:
        if request.app.state.site.workflows.get("training.plan").is_read_only(plan.state) or plan.state == "agreed":
            raise Refused(_l("An agreed plan cannot change."))
        if form.outdated(plan, request.state.form):
            context["conflict"] = [(_("Plan title"), plan.title)]
            return _render(request, "training/plan_edit.html", context, status=409)
        for k, v in values.items():
            setattr(plan, k, v)
    db.flush()
    return _redirect(request, "plan", _("Training plan saved."), plan_id=plan.id)


@requires("training.plan.edit")
def plan_new(request):
    return _plan_edit(request, None)


@requires("training.plan.edit")
def plan_edit(request):
    return _plan_edit(request, visible_plan(request, request.path_params["plan_id"]))


@requires("training.plan.view")
def plan_detail(request):
    db = request.state.db
    plan = visible_plan(request, request.path_params["plan_id"])
    site = request.app.state.site
    sessions = list(db.scalars(select(TrainingSession).where(TrainingSession.plan_id == plan.id)
                               .order_by(TrainingSession.starts_at)))
    return _render(request, "training/plan.html", {
        "plan": plan, "wf": site.workflows.get("training.plan"), "sessions": sessions,
        "allowed": site.workflows.allowed(plan, request.state.user), "history": site.workflows.history(db, plan),
        "title": plan.title})


@requires("training.plan.view")
def plan_step(request):
    db = request.state.db
    plan = visible_plan(request, request.path_params["plan_id"])
    try:
        check_version(plan, request.state.form.get("version"))
    except StaleEdit:
        raise StaleEdit(plan, _l("Someone changed this plan meanwhile; look again.")) from None
    t = request.app.state.site.workflows.transition(db, plan, request.state.form.get("step", ""), request.state.user,
                                                    (request.state.form.get("comment") or "").strip())
    if t.target == "agreed":
        from fuwu import timeline

        timeline.append(db, plan.customer_id, services.N_("Training plan %(title)s agreed with the customer"),
                        source="training", kind="training", ref=plan, title=plan.title)
    return _redirect(request, "plan", _("Training plan moved on."), plan_id=plan.id)


# --- Reports ----------------------------------------------------------------------------------


@requires("training.report.view")
def report(request):
    db = request.state.db
    by = "customer" if request.query_params.get("by") == "customer" else "course"
    rows = []
    for r in services.report(db, by=by, customer_scope=or_(TrainingSession.customer_id.is_(None),
                                                           scope.customers(request.state.user))):
        attendance = round(100 * (r.attended or 0) / r.seated, 1) if r.seated else None
        pass_rate = round(100 * (r.passed or 0) / r.examined, 1) if r.examined else None
        average = round(float(r.average) / 100, 1) if r.average is not None else None
        rows.append({"key": r.key or _("Internal"), "sessions": r.sessions, "seated": r.seated or 0,
                     "attended": r.attended or 0, "attendance": attendance, "examined": r.examined or 0,
                     "pass_rate": pass_rate, "average": average})
    heads = [_("Course") if by == "course" else _("Customer"), _("Sessions held"), _("Trainees"), _("Attended"),
             _("Attendance rate (%)"), _("Examined"), _("Pass rate (%)"), _("Average score (%)")]
    if request.query_params.get("format") in ("csv", "xlsx"):
        return export_response(request.query_params["format"], _("Training report"), heads,
                               ([r["key"], r["sessions"], r["seated"], r["attended"], r["attendance"], r["examined"],
                                 r["pass_rate"], r["average"]] for r in rows))
    return _render(request, "training/report.html", {"rows": rows, "heads": heads, "by": by,
                                                      "title": _("Training report")})


# --- Staff assessments (TRN-7) ----------------------------------------------------------------


def assessment_form(db) -> Form:
    score = {"kind": "int", "required": True, "minimum": 0, "maximum": 100}
    return Form([
        Field("staff_id", _l("Staff member"), kind="choice", required=True, choices=_staff_choices(db)),
        Field("kind", _l("Assessment form"), kind="choice", required=True, choices=list(ASSESSMENT_KINDS.items())),
        Field("assessed_on", _l("Assessed on"), kind="date", required=True),
        Field("technical", _l("Technical level (0-100)"), **score),
        Field("attitude", _l("Service attitude (0-100)"), **score),
        Field("proficiency", _l("Proficiency (0-100)"), **score),
        Field("course_id", _l("Related internal course"), kind="choice",
              choices=lambda: list(db.execute(select(Course.id, Course.title).where(Course.category == "internal")))),
        Field("remarks", _l("Remarks"), kind="textarea"),
    ])


def _assessment_rows(request, own: bool):
    db = request.state.db
    query = select(Assessment)
    staff_id = request.state.user.id if own else record_id(request.query_params.get("staff"))
    if staff_id is not None:
        query = query.where(Assessment.staff_id == staff_id)
    return db, query


@requires("training.assessment.manage")
def assessment_list(request):
    return _assessments(request, own=False)


@requires(AUTHENTICATED)
def my_assessments(request):
    """TRN-7: each staff member sees their own assessments."""
    return _assessments(request, own=True)


def _assessments(request, own):
    db, query = _assessment_rows(request, own)
    params = request.query_params
    pass_score = _setting(request, "training.assessment_pass")
    if params.get("format") in ("csv", "xlsx"):
        rows = db.scalars(query.order_by(Assessment.assessed_on.desc()).limit(MAX_ROWS))
        return export_response(params["format"], _("Staff assessments"),
                               [_("Staff member"), _("Assessment form"), _("Assessed on"), _("Technical level"),
                                _("Service attitude"), _("Proficiency"), _("Remarks")],
                               ([a.staff.name, str(ASSESSMENT_KINDS[a.kind]), a.assessed_on, a.technical, a.attitude,
                                 a.proficiency, a.remarks] for a in rows))
    page = keyset_page(db, query, sort_col=Assessment.assessed_on, id_col=Assessment.id, descending=True,
                       after=params.get("after"), before=params.get("before"), size=_setting(request, "core.page_size"))
    return _render(request, "training/assessments.html", {
        "page": page, "own": own, "pass_score": pass_score,
        "title": _("My assessments") if own else _("Staff assessments")}, fragment="results")


@requires("training.assessment.manage")
def assessment_new(request):
    db = request.state.db
    form = assessment_form(db)
    context = {"form": form, "title": _("New assessment")}
    if request.method == "GET":
        form.fill(kind="periodic", assessed_on=request.app.state.site.day_of(),
                  staff_id=request.query_params.get("staff", ""))
        return _render(request, "training/assessment_edit.html", context)
    if not form.load(request.state.form):
        return _render(request, "training/assessment_edit.html", context, status=422)
    values = dict(form.values)
    values["staff_id"] = int(values["staff_id"])
    values["course_id"] = int(values["course_id"]) if values["course_id"] else None
    db.add(Assessment(**values, assessor_id=request.state.user.id))
    return _redirect(request, "assessments", _("Assessment saved."))


# --- Customer page panel ------------------------------------------------------------------------


def customer_panel(request, customer) -> list[Panel]:
    """Who of the customer was trained, and who passed (TRN-4)."""
    if not request.state.user.can("training.session.view"):
        return []
    db = request.state.db
    rows = db.execute(select(Registration, TrainingSession, Attempt)
                      .join(TrainingSession, TrainingSession.id == Registration.session_id)
                      .outerjoin(Attempt, Attempt.registration_id == Registration.id)
                      .where(TrainingSession.customer_id == customer.id, Registration.status == "registered")
                      .order_by(TrainingSession.starts_at.desc(), Registration.name).limit(100)).all()
    plans = list(db.scalars(select(Plan).where(Plan.customer_id == customer.id).order_by(Plan.id.desc()).limit(10)))
    return [Panel(_("Training"), "training/panel.html", {
        "rows": rows, "plans": plans, "customer": customer,
        "wf": request.app.state.site.workflows.get("training.plan")}, order=40)]


def routes() -> list:
    from starlette.routing import Route

    return [
        Route("/courses", course_list, name="courses"),
        Route("/courses/new", course_new, methods=["GET", "POST"], name="course_new"),
        Route("/courses/{course_id:int}", course_detail, name="course"),
        Route("/courses/{course_id:int}/edit", course_edit, methods=["GET", "POST"], name="course_edit"),
        Route("/courses/{course_id:int}/questions", question_add, methods=["POST"], name="question_add"),
        Route("/questions/{question_id:int}/delete", question_delete, methods=["POST"], name="question_delete"),
        Route("/courses/{course_id:int}/materials", material_upload, methods=["POST"], name="material_upload"),
        Route("/materials/{material_id:int}", material_download, name="material"),
        Route("/sessions", session_list, name="sessions"),
        Route("/sessions/new", session_new, methods=["GET", "POST"], name="session_new"),
        Route("/sessions/{session_id:int}", session_detail, name="session"),
        Route("/sessions/{session_id:int}/edit", session_edit, methods=["GET", "POST"], name="session_edit"),
        Route("/sessions/{session_id:int}/register", registration_add, methods=["POST"], name="register"),
        Route("/sessions/{session_id:int}/attendance", attendance, methods=["POST"], name="attendance"),
        Route("/sessions/{session_id:int}/notice", notice, name="notice"),
        Route("/sessions/{session_id:int}/invite", invite, methods=["POST"], name="invite"),
        Route("/sessions/{session_id:int}/sheet", sheet_page, name="sheet"),
        Route("/sessions/{session_id:int}/sheet/sign", sheet_sign, methods=["POST"], name="sheet_sign"),
        Route("/registrations/{registration_id:int}/cancel", registration_cancel, methods=["POST"], name="cancel"),
        Route("/registrations/{registration_id:int}/exam-link", exam_link, methods=["POST"], name="exam_link"),
        Route("/registrations/{registration_id:int}/mark", mark, methods=["POST"], name="mark"),
        Route("/plans", plan_list, name="plans"),
        Route("/plans/new", plan_new, methods=["GET", "POST"], name="plan_new"),
        Route("/plans/{plan_id:int}", plan_detail, name="plan"),
        Route("/plans/{plan_id:int}/edit", plan_edit, methods=["GET", "POST"], name="plan_edit"),
        Route("/plans/{plan_id:int}/step", plan_step, methods=["POST"], name="plan_step"),
        Route("/reports", report, name="report"),
        Route("/assessments", assessment_list, name="assessments"),
        Route("/assessments/new", assessment_new, methods=["GET", "POST"], name="assessment_new"),
        Route("/my-assessments", my_assessments, name="my_assessments"),
    ]
