"""Pages of the field_service plugin, mounted under ``/field_service/``.

Thin: parse, authorise (permission + record rules in the WHERE clause),
call ``services`` / ``rules``, render.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import joinedload, selectinload
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fuwu import dates, i18n, links
from fuwu.errors import NotFound, ValidationError
from fuwu.i18n import gettext as _
from fuwu.i18n import lazy_gettext as _l
from fuwu.links import LinkPurpose
from fuwu.models import Customer, Staff
from fuwu.web import lookups, scope
from fuwu.web.endpoint import requires
from fuwu.web.export import MAX_ROWS, export_response
from fuwu.web.forms import Field, Form, record_id
from fuwu.web.pagination import keyset_page
from fuwu.web.shell import flash_redirect
from fuwu.web.urls import absolute_url

from . import rules, services
from .models import AwardResult, MobileJob, Project, ProjectDocument, ProjectMember

JOB_STATES = {"assigned": _l("Assigned"), "departed": _l("On the way"), "arrived": _l("On site"),
              "finished": _l("Finished")}
ANSWERS = {"very_satisfied": _l("Very satisfied"), "satisfied": _l("Satisfied"),
           "dissatisfied": _l("Dissatisfied")}
PROJECT_STATES = {"running": _l("Running"), "summarised": _l("Summary received"), "closed": _l("Project closed")}
SURVEY = {"satisfied": _l("Customer satisfied"), "dissatisfied": _l("Customer dissatisfied")}
DOC_KINDS = {"plan": _l("Plan"), "daily": _l("Daily report"), "work_record": _l("Work record"),
             "summary": _l("Summary report")}
ROLES = {"manager": _l("Project manager"), "member": _l("Project member")}
#: names of the kinds in the default score table (RES-7); a kind a deployer adds shows as written there
JOB_KINDS = {"install": _l("Installation"), "repair": _l("Repair"), "training": _l("Training"),
             "consult": _l("Consultation")}


def _now() -> datetime:
    return datetime.now(UTC)


def _site(request: Request):
    return request.app.state.site


def _today(request: Request) -> date:
    return _site(request).day_of()


def _render(request: Request, name: str, context: dict, **kwargs) -> Response:
    labels = {"job_states": JOB_STATES, "answers": ANSWERS, "project_states": PROJECT_STATES, "surveys": SURVEY,
              "doc_kinds": DOC_KINDS, "roles": ROLES, "job_kinds": JOB_KINDS}
    return request.app.state.templates.render(request, f"field_service/{name}", {**labels, **context}, **kwargs)


def _redirect(request: Request, name: str, message, **params) -> Response:
    return flash_redirect(request, request.url_for(f"field_service:{name}", **params).path, message)


def _local_day_bounds(request: Request, day: date) -> tuple[datetime, datetime]:
    tz = _site(request).zone
    start = datetime.combine(day, time(), tz).astimezone(UTC)
    return start, start + timedelta(days=1)


def _parse_day(text: str | None, default: date) -> date:
    return dates.parse_date(text) or default


# --- Record rules ------------------------------------------------------------------------


def jobs_scope(user):
    """A technician sees their own jobs; coordinators and managers those of the customers they see."""
    if user.can("field_service.job.view_all"):
        return scope.customers(user)
    return MobileJob.technician_id == user.id


def visible_job(request: Request, job_id) -> MobileJob:
    job = request.state.db.scalar(
        select(MobileJob).join(Customer, Customer.id == MobileJob.customer_id)
        .where(MobileJob.id == record_id(job_id), jobs_scope(request.state.user))
        .options(joinedload(MobileJob.customer), joinedload(MobileJob.technician)))
    if job is None:
        raise NotFound()
    return job


def projects_scope(user):
    if user.can("field_service.project.view_all"):
        return scope.customers(user)
    return or_(Project.manager_id == user.id, Project.leader_id == user.id,
               exists().where(ProjectMember.project_id == Project.id, ProjectMember.staff_id == user.id))


def visible_project(request: Request, project_id) -> Project:
    project = request.state.db.scalar(
        select(Project).join(Customer, Customer.id == Project.customer_id)
        .where(Project.id == record_id(project_id), projects_scope(request.state.user))
        .options(joinedload(Project.customer), joinedload(Project.manager), joinedload(Project.leader),
                 selectinload(Project.members).joinedload(ProjectMember.staff),
                 selectinload(Project.documents).joinedload(ProjectDocument.responsible)))
    if project is None:
        raise NotFound()
    return project


def _technicians(request: Request):
    db = request.state.db
    return lambda: [(s.id, s.name) for s in db.execute(
        select(Staff.id, Staff.name).where(Staff.active.is_(True)).order_by(Staff.name))]


# --- RES-7 the coordinator's board ------------------------------------------------------------


def _job_query(request: Request):
    params = request.query_params
    query = (select(MobileJob).join(Customer, Customer.id == MobileJob.customer_id)
             .where(jobs_scope(request.state.user))
             .options(joinedload(MobileJob.customer), joinedload(MobileJob.technician)))
    if params.get("all") != "1":
        start, end = _local_day_bounds(request, _parse_day(params.get("day"), _today(request)))
        query = query.where(MobileJob.assigned_at >= start, MobileJob.assigned_at < end)
    if params.get("state") in JOB_STATES:
        query = query.where(MobileJob.state == params["state"])
    return query


@requires("field_service.job.view")
def board(request: Request) -> Response:
    db = request.state.db
    params = request.query_params
    query = _job_query(request)
    if params.get("format") in ("csv", "xlsx"):
        rows = db.scalars(query.order_by(MobileJob.assigned_at, MobileJob.id).limit(MAX_ROWS)).unique()
        return export_response(params["format"], _("Mobile service jobs"),
                               [_("Job"), _("Customer"), _("Mobile technician"), _("Problem"), _("Job state"),
                                _("Assigned at"), _("Left in time"), _("Workload score"), _("Return visit")],
                               ([j.id, j.customer.name, j.technician.name, j.problem, str(JOB_STATES[j.state]),
                                 j.assigned_at, "" if j.left_in_time is None else (_("Yes") if j.left_in_time else
                                                                                    _("No")),
                                 j.score, str(ANSWERS[j.answer]) if j.answer else ""] for j in rows))
    page = keyset_page(db, query, sort_col=MobileJob.assigned_at, id_col=MobileJob.id, descending=True,
                       after=params.get("after"), before=params.get("before"),
                       size=_site(request).settings.get("core.page_size", db))
    return _render(request, "board.html", {"page": page, "title": _("Mobile service board"),
                                           "day": _parse_day(params.get("day"), _today(request))},
                   fragment="results")


def dispatch_form(request: Request) -> Form:
    kinds = list(services.score_table(request.state.db))
    return Form([
        Field("customer_id", _l("Customer"), kind="record", required=True, lookup=lookups.customers(request)),
        Field("technician_id", _l("Mobile technician"), kind="choice", required=True,
              choices=_technicians(request)),
        Field("kind", _l("Kind of job"), kind="choice", required=True,
              choices=[(k, JOB_KINDS.get(k, k)) for k in kinds]),
        Field("problem", _l("Problem reported"), required=True, max_length=300),
    ])


@requires("field_service.job.dispatch")
def job_new(request: Request) -> Response:
    form = dispatch_form(request)
    if request.method == "GET":
        form.fill(None)
        return _render(request, "job_new.html", {"form": form, "title": _("Dispatch a mobile job")})
    if not form.load(request.state.form):
        return _render(request, "job_new.html", {"form": form, "title": _("Dispatch a mobile job")}, status=422)
    db = request.state.db
    v = form.values
    job = services.dispatch(db, customer_id=int(v["customer_id"]), technician=db.get(Staff, int(v["technician_id"])),
                            coordinator=request.state.user, problem=v["problem"], kind=v["kind"], now=_now())
    return _redirect(request, "job", _("Job %(n)s dispatched.", n=job.id), job_id=job.id)


@requires("field_service.job.view")
def job_detail(request: Request) -> Response:
    job = visible_job(request, request.path_params["job_id"])
    user = request.state.user
    may_step = job.state != "finished" and (
        user.can("field_service.job.dispatch") or (user.can("field_service.job.work") and job.technician_id == user.id))
    return _render(request, "job.html", {"job": job, "may_step": may_step, "title": _("Mobile job %(n)s", n=job.id),
                                         "depart_minutes": _site(request).settings.get(
                                             "field_service.depart_minutes", request.state.db)})


@requires("field_service.job.work")
def job_step(request: Request) -> Response:
    job = visible_job(request, request.path_params["job_id"])
    user = request.state.user
    if not user.can("field_service.job.dispatch") and job.technician_id != user.id:
        raise NotFound()
    step = request.state.form.get("step")
    db = request.state.db
    try:
        if step == "depart":
            services.depart(db, job, _now())
        elif step == "arrive":
            services.arrive(db, job, _now())
        elif step == "finish":
            services.finish(db, job, _now(), (request.state.form.get("work_done") or "").strip()[:2000])
        else:
            raise NotFound()
    except ValidationError:
        return _render(request, "job.html", {"job": job, "may_step": False, "title": _("Mobile job %(n)s", n=job.id),
                                             "error": _("This step is already recorded.")}, status=409)
    return _redirect(request, "job", _("Step recorded: %(state)s.", state=JOB_STATES[job.state]), job_id=job.id)


# --- RES-7 daily return visits -------------------------------------------------------------------


@requires("field_service.visit.record")
def visits(request: Request) -> Response:
    db = request.state.db
    params = request.query_params
    day = _parse_day(params.get("day"), _today(request) - timedelta(days=1))
    query = (select(MobileJob).join(Customer, Customer.id == MobileJob.customer_id)
             .where(jobs_scope(request.state.user), MobileJob.state == "finished", MobileJob.finished_on == day)
             .options(joinedload(MobileJob.customer), joinedload(MobileJob.technician))
             .order_by(MobileJob.finished_at, MobileJob.id).limit(MAX_ROWS))
    rows = db.scalars(query).unique().all()
    if params.get("format") in ("csv", "xlsx"):
        return export_response(params["format"], _("Return visits"),
                               [_("Job"), _("Customer"), _("Mobile technician"), _("Work done"),
                                _("Customer's answer"), _("Comments"), _("Failed attempts")],
                               ([j.id, j.customer.name, j.technician.name, j.work_done,
                                 str(ANSWERS[j.answer]) if j.answer else "", j.answer_comment or j.visit_failed_note,
                                 j.visit_attempts] for j in rows))
    done = sum(1 for j in rows if j.visit_done)
    return _render(request, "visits.html", {"rows": rows, "day": day, "done": done,
                                            "complete": bool(rows) and done == len(rows),
                                            "title": _("Return visits of %(day)s", day=i18n.format_day(day))})


@requires("field_service.visit.record")
def visit_record(request: Request) -> Response:
    job = visible_job(request, request.path_params["job_id"])
    form = request.state.form
    failed = form.get("outcome") == "failed"
    services.record_visit(request.state.db, job, request.state.user, _now(), answer=form.get("answer"),
                          comment=(form.get("comment") or "").strip()[:2000], failed=failed)
    return flash_redirect(request, request.url_for("field_service:visits").path + f"?day={job.finished_on.isoformat()}",
                          _("Return visit of job %(n)s recorded.", n=job.id))


# --- RES-7 monthly ranking ------------------------------------------------------------------------


def _month(request: Request) -> date:
    return dates.parse_month(request.query_params.get("month")) or _today(request).replace(day=1)


@requires("field_service.award.view")
def awards(request: Request) -> Response:
    db = request.state.db
    month = _month(request)
    rows = services.month_rows(db, month)
    ranking, results = rules.monthly_awards(rows, services.award_config(db))
    by_staff: dict[int, list] = {}
    for r in results:
        by_staff.setdefault(r.staff_id, []).append(r)
    closed = db.scalars(select(AwardResult).where(AwardResult.month == month)
                        .options(joinedload(AwardResult.staff))).all()
    if request.query_params.get("format") in ("csv", "xlsx"):
        return export_response(request.query_params["format"], _("Monthly mobile ranking"),
                               [_("Mobile technician"), _("Jobs"), _("Workload score"), _("Very-satisfied rate in percent"),
                                _("Complaints"), _("Place"), _("Amount (yuan)")],
                               ([row.name, row.jobs, row.score, row.rate, row.complaints, place or "",
                                 sum((r.amount for r in by_staff.get(row.staff_id, [])), Decimal("0.00"))]
                                for row, place in ranking))
    return _render(request, "awards.html", {
        "ranking": ranking, "by_staff": by_staff, "closed": closed, "month": month,
        "config": services.award_config(db), "title": _("Monthly mobile ranking %(month)s",
                                                          month=i18n.Month(month))})


@requires("field_service.award.close")
def awards_close(request: Request) -> Response:
    month = dates.parse_month(request.state.form.get("month"))
    if month is None:
        raise ValidationError({"month": _l("Enter a month as YYYY-MM.")})
    if month >= _today(request).replace(day=1):
        raise ValidationError({"month": _l("Only a month that is over can be closed.")})
    made = services.close_month(request.state.db, month)
    return flash_redirect(request, request.url_for("field_service:awards").path + f"?month={month:%Y-%m}",
                          _("Month closed: %(n)s results sent to the ledger.", n=len(made)))


# --- RES-8 team service projects ------------------------------------------------------------------


@requires("field_service.project.view")
def projects(request: Request) -> Response:
    db = request.state.db
    params = request.query_params
    query = (select(Project).join(Customer, Customer.id == Project.customer_id)
             .where(projects_scope(request.state.user))
             .options(joinedload(Project.customer), joinedload(Project.leader), joinedload(Project.manager)))
    if params.get("state") in PROJECT_STATES:
        query = query.where(Project.state == params["state"])
    if params.get("format") in ("csv", "xlsx"):
        rows = db.scalars(query.order_by(Project.expected_start, Project.id).limit(MAX_ROWS)).unique()
        return export_response(params["format"], _("Team service projects"),
                               [_("Project"), _("Customer"), _("Group leader"), _("Expected start"),
                                _("Expected finish"), _("Actual start"), _("Actual finish"), _("Project state")],
                               ([p.title, p.customer.name, p.leader.name, p.expected_start, p.expected_finish,
                                 p.actual_start, p.actual_finish, str(PROJECT_STATES[p.state])] for p in rows))
    page = keyset_page(db, query, sort_col=Project.expected_start, id_col=Project.id, descending=True,
                       after=params.get("after"), before=params.get("before"),
                       size=_site(request).settings.get("core.page_size", db))
    return _render(request, "projects.html", {"page": page, "title": _("Team service projects")},
                   fragment="results")


def project_form(request: Request) -> Form:
    return Form([
        Field("title", _l("Project title"), required=True, max_length=200),
        Field("customer_id", _l("Customer"), kind="record", required=True, lookup=lookups.customers(request)),
        Field("expected_start", _l("Expected start"), kind="date", required=True),
        Field("expected_finish", _l("Expected finish"), kind="date", required=True),
        Field("leader_id", _l("Group leader"), kind="choice", required=True, choices=_technicians(request)),
        Field("members", _l("Project members"), kind="multi", required=True, choices=_technicians(request),
              help=_l("The group leader is a member too.")),
        Field("tasks", _l("Task split (one line per member: name: task)"), kind="textarea"),
        Field("bonus", _l("Project bonus (yuan)"), kind="money"),
    ])


#: "name: task" with the colon a Chinese keyboard types or the ASCII one
TASK_LINE = re.compile(r"\s*([^:：]+?)\s*[:：]\s*(.*?)\s*")


def _task_split(form: Form, text: str | None, members: set[str]) -> dict[str, str]:
    """Each member's task from the lines "name: task"; a line naming no member
    or without a colon is the field's error, so no task is silently dropped."""
    tasks = {}
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        found = TASK_LINE.fullmatch(line)
        if found is None:
            form.error("tasks", _l("Write each line as a member's name, a colon and the task: %(line)s",
                                   line=line.strip()))
        elif found.group(1) not in members:
            form.error("tasks", _l("%(name)s is not one of the project members.", name=found.group(1)))
        else:
            tasks[found.group(1)] = found.group(2)
            continue
        break  # the first wrong line is the one to fix
    return tasks


@requires("field_service.project.manage")
def project_new(request: Request) -> Response:
    db = request.state.db
    form = project_form(request)
    title = _("New team service project")
    if request.method == "GET":
        form.fill(None)
        return _render(request, "project_new.html", {"form": form, "title": title})
    if form.load(request.state.form):
        v = form.values
        member_ids = {int(m) for m in v["members"]} | {int(v["leader_id"])}
        if v["expected_finish"] < v["expected_start"]:
            form.error("expected_finish", _l("The finish cannot be before the start."))
        elif not services.qualifies(db, len(member_ids), v["expected_start"], v["expected_finish"]):
            # RES-8: a project needs 10 person-days (or 4+ technicians over 2+ working days)
            form.error("members", _l("Too small for a team project: %(n)s technicians over %(d)s working days.",
                                     n=len(member_ids), d=services.working_days(db, v["expected_start"],
                                                                                v["expected_finish"])))
        names = {s.id: s.name for s in db.scalars(select(Staff).where(Staff.id.in_(member_ids)))}
        tasks = _task_split(form, v["tasks"], set(names.values()))
    if form.errors:
        return _render(request, "project_new.html", {"form": form, "title": title}, status=422)
    v = form.values
    project = Project(title=v["title"], customer_id=int(v["customer_id"]), manager_id=request.state.user.id,
                      leader_id=int(v["leader_id"]), expected_start=v["expected_start"],
                      expected_finish=v["expected_finish"], bonus=v["bonus"] or Decimal("0.00"), state="running")
    for staff_id in sorted(member_ids):
        project.members.append(ProjectMember(staff_id=staff_id, task=tasks.get(names.get(staff_id, ""), "")[:300]))
    services.schedule_documents(db, project)
    db.add(project)
    db.flush()
    return _redirect(request, "project", _("Project %(title)s planned.", title=project.title),
                     project_id=project.id)


@requires("field_service.project.view")
def project_detail(request: Request) -> Response:
    db = request.state.db
    project = visible_project(request, request.path_params["project_id"])
    today = _today(request)
    lines = services.bonus_lines(db, project, today)
    names = {project.manager_id: project.manager.name, **{m.staff_id: m.staff.name for m in project.members}}
    late = {d.id: services.days_late(db, d, today) for d in project.documents}
    return _render(request, "project.html", {
        "project": project, "lines": lines, "names": names, "late": late, "today": today,
        "planned_days": services.working_days(db, project.expected_start, project.expected_finish),
        "submitted": sum(1 for d in project.documents if d.submitted_on),
        "title": project.title})


@requires("field_service.project.report")
def document_submit(request: Request) -> Response:
    project = visible_project(request, request.path_params["project_id"])
    doc = next((d for d in project.documents if d.id == record_id(request.path_params["doc_id"])), None)
    user = request.state.user
    if doc is None or not (doc.responsible_id == user.id or user.can("field_service.project.manage")):
        raise NotFound()
    if project.state == "closed":
        raise ValidationError({"state": _l("The project is already closed.")})
    form = request.state.form
    doc.body = (form.get("body") or "").strip()[:10000]
    doc.serials = (form.get("serials") or "").strip()[:10000]
    doc.quantity = record_id(form.get("quantity"))
    doc.submitted_on = doc.submitted_on or _today(request)
    if doc.kind == "plan" and project.actual_start is None:
        project.actual_start = doc.submitted_on
    if doc.kind == "summary" and project.state == "running":
        project.state = "summarised"
        project.summary = doc.body
    return _redirect(request, "project", _("%(doc)s submitted.", doc=DOC_KINDS[doc.kind]), project_id=project.id)


@requires("field_service.project.report")
def work_record_add(request: Request) -> Response:
    project = visible_project(request, request.path_params["project_id"])
    user = request.state.user
    if not (project.leader_id == user.id or user.can("field_service.project.manage")):
        raise NotFound()
    form = request.state.form
    serials = (form.get("serials") or "").strip()
    if not serials:
        raise ValidationError({"serials": _l("Enter the machine serial numbers.")})
    today = _today(request)
    project.documents.append(ProjectDocument(kind="work_record", responsible_id=project.leader_id, due_on=today,
                                             submitted_on=today, serials=serials[:10000],
                                             quantity=record_id(form.get("quantity")),
                                             body=(form.get("body") or "").strip()[:10000]))
    return _redirect(request, "project", _("Work record added."), project_id=project.id)


@requires("field_service.project.manage")
def survey_link(request: Request) -> Response:
    project = visible_project(request, request.path_params["project_id"])
    token = links.issue_for(_site(request), request.state.db, "field_service.survey", project,
                            created_by_id=request.state.user.id)
    return _render(request, "link_issued.html", {"project": project, "link": absolute_url(request, "link", token=token),
                                                 "title": _("Survey link for %(title)s", title=project.title)})


@requires("field_service.project.manage")
def project_close(request: Request) -> Response:
    project = visible_project(request, request.path_params["project_id"])
    services.close_project(request.state.db, project, _today(request))
    return _redirect(request, "project", _("Project closed; rewards, fines and bonus sent to the ledger."),
                     project_id=project.id)


def public_survey(visit) -> Response:
    """The customer's satisfaction survey of a team project (RES-8), by signed link."""
    project = visit.record
    context = {"project": project, "title": _("Satisfaction survey"), "surveys": SURVEY}
    if visit.request.method == "GET":
        return visit.render("field_service/survey.html", context)
    answer = visit.request.state.form.get("survey")
    if answer not in SURVEY:
        return visit.render("field_service/survey.html", {**context, "error": _("Choose an answer.")}, status=422)
    visit.use()
    project.survey = answer
    project.survey_comment = (visit.request.state.form.get("comment") or "").strip()[:2000]
    return visit.render("field_service/survey_done.html", {**context, "title": _("Thank you")})


def survey_purpose() -> LinkPurpose:
    def sees(user, project):
        return user.can("field_service.project.view_all") or user.id in (project.manager_id, project.leader_id)

    return LinkPurpose(key="field_service.survey", label=_l("Team project satisfaction survey"), model=Project,
                       handler=public_survey, permission="field_service.project.manage", visible=sees,
                       describe=lambda p: p.title,
                       staff_page=lambda p: ("field_service:project", {"project_id": p.id}))


def routes() -> list[Route]:
    return [
        Route("/", board, name="board"),
        Route("/jobs/new", job_new, methods=["GET", "POST"], name="job_new"),
        Route("/jobs/{job_id:int}", job_detail, name="job"),
        Route("/jobs/{job_id:int}/step", job_step, methods=["POST"], name="job_step"),
        Route("/jobs/{job_id:int}/visit", visit_record, methods=["POST"], name="visit"),
        Route("/visits", visits, name="visits"),
        Route("/awards", awards, name="awards"),
        Route("/awards/close", awards_close, methods=["POST"], name="awards_close"),
        Route("/projects", projects, name="projects"),
        Route("/projects/new", project_new, methods=["GET", "POST"], name="project_new"),
        Route("/projects/{project_id:int}", project_detail, name="project"),
        Route("/projects/{project_id:int}/documents/{doc_id:int}", document_submit, methods=["POST"],
              name="document"),
        Route("/projects/{project_id:int}/work-records", work_record_add, methods=["POST"],
              name="work_record"),
        Route("/projects/{project_id:int}/survey-link", survey_link, methods=["POST"],
              name="survey_link"),
        Route("/projects/{project_id:int}/close", project_close, methods=["POST"], name="close"),
    ]
