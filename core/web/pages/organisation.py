"""Organisation (CORE-3): staff, departments and positions.

Everyone with ``core.staff.view`` reads; ``core.staff.edit`` writes. Roles
on a staff record are only shown and changed for ``core.role.manage``; the
account box on the staff page (username, password, sessions) belongs to
``roles.py``.
"""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ... import i18n
from ...errors import NotFound
from ...i18n import format_day
from ...i18n import gettext as _
from ...i18n import lazy_gettext as _l
from ...models import DEPARTMENT_KINDS, GRADES, Customer, Department, Position, Role, Staff
from .. import sessions
from ..deletion import delete_unused
from ..endpoint import requires
from ..export import MAX_ROWS, export_response
from ..forms import Field, Form, record_id, search_text, taken
from ..pagination import keyset_page
from ..shell import flash_redirect
from ..templating import translate
from .customers import customer_count

STAFF_SORTS = {"code": Staff.code, "name": Staff.name}
STAFF_STATUSES = {"active": _l("Active staff"), "inactive": _l("Former staff"), "all": _l("All staff")}


def _cached(load):
    box: list = []

    def choices():
        if not box:
            box.append(list(load()))
        return box[0]

    return choices


def _int_or_none(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def position_label(position: Position | None) -> str:
    if position is None:
        return ""
    if position.grade not in GRADES:
        return position.name
    return i18n.aside(position.name, GRADES[position.grade])


def conflict_rows(pairs) -> list[tuple[str, str]]:
    """(label, saved value) for the conflict box; dates formatted for the reader."""
    return [(str(label), format_day(value) if hasattr(value, "isoformat") else str(value or "—"))
            for label, value in pairs]


# --- staff ---------------------------------------------------------------------------------------

def staff_form(request: Request) -> Form:
    db = request.state.db
    fields = [
        Field("code", _l("Staff number"), kind="code", required=True, max_length=40),
        Field("name", _l("Full name"), required=True, max_length=100),
        Field("department_id", _l("Department"), kind="choice",
              choices=_cached(lambda: db.execute(select(Department.id, Department.name)
                                                 .order_by(Department.name)).all())),
        Field("position_id", _l("Position"), kind="choice",
              choices=_cached(lambda: [(p.id, position_label(p)) for p in db.scalars(
                  select(Position).order_by(Position.name, Position.grade))])),
        Field("email", _l("E-mail"), kind="email"),
        Field("phone", _l("Phone"), kind="phone", max_length=40),
        Field("hired_on", _l("Hired on"), kind="date"),
        Field("probation_ends_on", _l("Probation ends on"), kind="date",
              help=_l("Empty when the probation is over or there is none.")),
        Field("active", _l("Works here (active)"), kind="bool"),
    ]
    if request.state.user.can("core.role.manage"):
        fields.append(Field("roles", _l("Roles"), kind="multi", choices=_cached(
            lambda: sorted(((r.id, translate(r.name)) for r in db.scalars(select(Role))), key=lambda c: c[1]))))
    return Form(fields)


def visible_staff(request: Request, staff_id: int) -> Staff:
    staff = request.state.db.scalar(select(Staff).where(Staff.id == staff_id)
                                    .options(joinedload(Staff.department), joinedload(Staff.position)))
    if staff is None:
        raise NotFound()
    return staff


def staff_query(request: Request):
    params = request.query_params
    query = select(Staff).options(joinedload(Staff.department), joinedload(Staff.position))
    q = search_text(params)
    if q:
        like = f"%{q}%"
        query = query.where(or_(Staff.name.ilike(like), Staff.code.ilike(like), Staff.email.ilike(like),
                                Staff.phone.ilike(like), Staff.username.ilike(like)))
    department_id = record_id(params.get("department_id"))
    if department_id:
        query = query.where(Staff.department_id == department_id)
    status = params.get("status") or "active"
    if status == "active":
        query = query.where(Staff.active.is_(True))
    elif status == "inactive":
        query = query.where(Staff.active.is_(False))
    return query


@requires("core.staff.view")
def staff_list(request: Request) -> Response:
    db = request.state.db
    params = request.query_params
    sort = params.get("sort", "code")
    column = STAFF_SORTS.get(sort.lstrip("-"), Staff.code)
    query = staff_query(request)
    if params.get("format") in ("csv", "xlsx"):
        rows = db.scalars(query.order_by(column, Staff.id).limit(MAX_ROWS))
        return export_response(
            params["format"], _("Staff"),
            [_("Staff number"), _("Full name"), _("Department"), _("Position"), _("E-mail"), _("Phone"), _("Hired on"),
             _("Probation ends on"), _("Roles"), _("Active")],
            ([s.code, s.name, s.department.name if s.department else "", position_label(s.position), s.email,
              s.phone, s.hired_on, s.probation_ends_on, i18n.listed(translate(r.name) for r in s.roles),
              _("Yes") if s.active else _("No")] for s in rows))
    page = keyset_page(db, query, sort_col=column, id_col=Staff.id, descending=sort.startswith("-"),
                       after=params.get("after"), before=params.get("before"),
                       size=request.app.state.site.settings.get("core.page_size", db))
    departments = db.execute(select(Department.id, Department.name).order_by(Department.name)).all()
    return request.app.state.templates.render(
        request, "core/staff/list.html",
        {"page": page, "sort": sort, "departments": departments, "statuses": STAFF_STATUSES,
         "position_label": position_label, "title": _("Staff")},
        fragment="results")


def render_staff_detail(request: Request, staff: Staff, *, status: int = 200, **account) -> Response:
    """The staff page; ``account`` overrides the account box (forms with errors)."""
    panels = request.app.state.site.plugins.collect("staff_panels", request=request, staff=staff)
    context = {"staff": staff, "position_label": position_label, "title": staff.name,
               "panels": sorted(panels, key=lambda p: p.order),
               "customer_count": customer_count(request, Customer.sales_staff_id, staff.id)}
    if request.state.user.can("core.role.manage"):
        from .roles import account_context

        context.update(account_context(request, staff, **account))
    return request.app.state.templates.render(request, "core/staff/detail.html", context, status=status)


@requires("core.staff.view")
def staff_detail(request: Request) -> Response:
    return render_staff_detail(request, visible_staff(request, request.path_params["staff_id"]))


def _render_staff_edit(request: Request, form: Form, staff: Staff | None, *, status: int = 200,
                       conflict: list | None = None) -> Response:
    return request.app.state.templates.render(
        request, "core/staff/edit.html",
        {"form": form, "staff": staff, "conflict": conflict, "title": staff.name if staff else _("New staff member")},
        status=status, fragment="form")


def _check_staff(request: Request, form: Form, staff: Staff | None) -> None:
    db = request.state.db
    values = form.values
    if "code" not in form.errors:
        if taken(db, Staff, Staff.code == values["code"], other_than=staff.id if staff else None):
            form.error("code", _l("Another member of staff has this number."))
    hired, probation = values.get("hired_on"), values.get("probation_ends_on")
    if hired and probation and probation < hired and "probation_ends_on" not in form.errors:
        form.error("probation_ends_on", _l("The probation cannot end before the hiring date."))
    me = request.state.user
    if staff is not None and staff.id == me.id:
        if "active" in values and not values["active"]:
            form.error("active", _l("You cannot deactivate your own account."))
        if "roles" in values and me.is_admin and "roles" not in form.errors:
            admin_ids = {str(r.id) for r in me.roles if r.key == "admin"}
            if not admin_ids & set(values["roles"]):
                form.error("roles", _l("You cannot remove your own administrator role."))


def _save_staff(request: Request, form: Form, staff: Staff) -> None:
    db = request.state.db
    values = dict(form.values)
    role_ids = values.pop("roles", None)
    for key in ("department_id", "position_id"):
        values[key] = _int_or_none(values[key])
    was_active = staff.active
    for key, value in values.items():
        setattr(staff, key, value)
    if role_ids is not None:
        wanted = {int(r) for r in role_ids}
        if {r.id for r in staff.roles} != wanted:
            staff.roles = list(db.scalars(select(Role).where(Role.id.in_(wanted)))) if wanted else []
    if staff.id is not None and was_active and not staff.active:
        sessions.revoke(db, staff.id)  # a former colleague is signed out everywhere


@requires("core.staff.edit")
def staff_new(request: Request) -> Response:
    db = request.state.db
    form = staff_form(request)
    if request.method == "GET":
        form.fill(None, active=True, roles=[])
        return _render_staff_edit(request, form, None)
    form.load(request.state.form)
    _check_staff(request, form, None)
    if form.errors:
        return _render_staff_edit(request, form, None, status=422)
    staff = Staff()
    _save_staff(request, form, staff)
    db.add(staff)
    db.flush()
    return flash_redirect(request, request.url_for("staff_detail", staff_id=staff.id).path,
                          _("%(name)s added.", name=staff.name))


@requires("core.staff.edit")
def staff_edit(request: Request) -> Response:
    staff = visible_staff(request, request.path_params["staff_id"])
    form = staff_form(request)
    if request.method == "GET":
        form.fill(staff, roles=[r.id for r in staff.roles])
        return _render_staff_edit(request, form, staff)
    form.load(request.state.form)
    if form.outdated(staff, request.state.form):
        return _render_staff_edit(request, form, staff, status=409, conflict=conflict_rows([
            (_("Staff number"), staff.code), (_("Full name"), staff.name),
            (_("Department"), staff.department.name if staff.department else ""),
            (_("Position"), position_label(staff.position)), (_("E-mail"), staff.email), (_("Phone"), staff.phone),
            (_("Hired on"), staff.hired_on), (_("Probation ends on"), staff.probation_ends_on),
            (_("Active"), _("Yes") if staff.active else _("No"))]))
    _check_staff(request, form, staff)
    if form.errors:
        return _render_staff_edit(request, form, staff, status=422)
    _save_staff(request, form, staff)
    return flash_redirect(request, request.url_for("staff_detail", staff_id=staff.id).path, _("Changes saved."))


# --- departments ---------------------------------------------------------------------------------

def _descendants(db, department_id: int) -> set[int]:
    """The department and every department below it (a parent there would make a loop)."""
    children: dict[int | None, list[int]] = {}
    for dept_id, parent_id in db.execute(select(Department.id, Department.parent_id)):
        children.setdefault(parent_id, []).append(dept_id)
    found, todo = set(), [department_id]
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo += children.get(current, [])
    return found


def department_form(request: Request, department: Department | None) -> Form:
    db = request.state.db

    # a manager who has left stays selectable until someone is chosen instead
    manager = (or_(Staff.active.is_(True), Staff.id == department.manager_id) if department is not None
               else Staff.active.is_(True))

    def parents():
        excluded = _descendants(db, department.id) if department is not None else set()
        return [(i, n) for i, n in db.execute(select(Department.id, Department.name).order_by(Department.name))
                if i not in excluded]

    return Form([
        Field("name", _l("Name"), required=True, max_length=100),
        Field("kind", _l("Kind"), kind="choice", required=True, choices=lambda: list(DEPARTMENT_KINDS.items())),
        Field("parent_id", _l("Part of"), kind="choice", choices=_cached(parents),
              help=_l("The department this one belongs to, if any.")),
        Field("manager_id", _l("Manager"), kind="choice",
              choices=_cached(lambda: db.execute(select(Staff.id, Staff.name).where(manager)
                                                 .order_by(Staff.name)).all())),
    ])


def department_query(request: Request):
    params = request.query_params
    query = select(Department).options(joinedload(Department.parent), joinedload(Department.manager))
    q = search_text(params)
    if q:
        query = query.where(Department.name.ilike(f"%{q}%"))
    if params.get("kind") in DEPARTMENT_KINDS:
        query = query.where(Department.kind == params["kind"])
    return query


def _member_counts(db, department_ids) -> dict[int, int]:
    if not department_ids:
        return {}
    return dict(db.execute(select(Staff.department_id, func.count()).where(
        Staff.department_id.in_(department_ids), Staff.active.is_(True)).group_by(Staff.department_id)).all())


@requires("core.staff.view")
def department_list(request: Request) -> Response:
    db = request.state.db
    params = request.query_params
    sort = params.get("sort", "name")
    descending = sort.startswith("-")
    query = department_query(request)
    if params.get("format") in ("csv", "xlsx"):
        rows = db.scalars(query.order_by(Department.name, Department.id).limit(MAX_ROWS)).all()
        counts = _member_counts(db, [d.id for d in rows])
        return export_response(
            params["format"], _("Departments"),
            [_("Name"), _("Kind"), _("Part of"), _("Manager"), _("Members")],
            ([d.name, str(DEPARTMENT_KINDS.get(d.kind, d.kind)), d.parent.name if d.parent else "",
              d.manager.name if d.manager else "", counts.get(d.id, 0)] for d in rows))
    page = keyset_page(db, query, sort_col=Department.name, id_col=Department.id, descending=descending,
                       after=params.get("after"), before=params.get("before"),
                       size=request.app.state.site.settings.get("core.page_size", db))
    return request.app.state.templates.render(
        request, "core/departments/list.html",
        {"page": page, "sort": "-name" if descending else "name", "kinds": DEPARTMENT_KINDS,
         "counts": _member_counts(db, [d.id for d in page.rows]), "title": _("Departments")},
        fragment="results")


def visible_department(request: Request, department_id: int) -> Department:
    department = request.state.db.scalar(
        select(Department).where(Department.id == department_id)
        .options(joinedload(Department.parent), joinedload(Department.manager)))
    if department is None:
        raise NotFound()
    return department


@requires("core.staff.view")
def department_detail(request: Request) -> Response:
    db = request.state.db
    department = visible_department(request, request.path_params["department_id"])
    members = db.scalars(select(Staff).where(Staff.department_id == department.id)
                         .options(joinedload(Staff.position))
                         .order_by(Staff.active.desc(), Staff.code)).all()
    children = db.scalars(select(Department).where(Department.parent_id == department.id)
                          .order_by(Department.name)).all()
    return request.app.state.templates.render(
        request, "core/departments/detail.html",
        {"department": department, "members": members, "children": children, "kinds": DEPARTMENT_KINDS,
         "position_label": position_label, "title": department.name,
         "customer_count": customer_count(request, Customer.department_id, department.id)})


def _render_department_edit(request: Request, form: Form, department: Department | None, *, status: int = 200,
                            conflict: list | None = None) -> Response:
    return request.app.state.templates.render(
        request, "core/departments/edit.html",
        {"form": form, "department": department, "conflict": conflict,
         "title": department.name if department else _("New department")},
        status=status, fragment="form")


def _check_department(db, form: Form, department: Department | None) -> None:
    if "name" not in form.errors and taken(db, Department, Department.name == form.values["name"],
                                           other_than=department.id if department else None):
        form.error("name", _l("A department with this name already exists."))


def _save_department(form: Form, department: Department) -> None:
    values = dict(form.values)
    for key in ("parent_id", "manager_id"):
        values[key] = _int_or_none(values[key])
    for key, value in values.items():
        setattr(department, key, value)


@requires("core.staff.edit")
def department_new(request: Request) -> Response:
    db = request.state.db
    form = department_form(request, None)
    if request.method == "GET":
        form.fill(None, kind="after_sales")
        return _render_department_edit(request, form, None)
    form.load(request.state.form)
    _check_department(db, form, None)
    if form.errors:
        return _render_department_edit(request, form, None, status=422)
    department = Department()
    _save_department(form, department)
    db.add(department)
    db.flush()
    return flash_redirect(request, request.url_for("department", department_id=department.id).path,
                          _("Department %(name)s created.", name=department.name))


@requires("core.staff.edit")
def department_edit(request: Request) -> Response:
    db = request.state.db
    department = visible_department(request, request.path_params["department_id"])
    form = department_form(request, department)
    if request.method == "GET":
        form.fill(department)
        return _render_department_edit(request, form, department)
    form.load(request.state.form)
    if form.outdated(department, request.state.form):
        return _render_department_edit(request, form, department, status=409, conflict=conflict_rows([
            (_("Name"), department.name), (_("Kind"), DEPARTMENT_KINDS.get(department.kind, department.kind)),
            (_("Part of"), department.parent.name if department.parent else ""),
            (_("Manager"), department.manager.name if department.manager else "")]))
    _check_department(db, form, department)
    if form.errors:
        return _render_department_edit(request, form, department, status=422)
    _save_department(form, department)
    return flash_redirect(request, request.url_for("department", department_id=department.id).path,
                          _("Changes saved."))


@requires("core.staff.edit")
def department_delete(request: Request) -> Response:
    """A department made by mistake: only while no one, no customer, no
    sub-department and no plugin's record belongs to it."""
    department = visible_department(request, request.path_params["department_id"])
    return delete_unused(request, department, department.name, then=request.url_for("departments").path,
                         message=_("Department %(name)s deleted.", name=department.name))


# --- positions -----------------------------------------------------------------------------------

def position_form() -> Form:
    return Form([
        Field("name", _l("Job title"), required=True, max_length=100),
        Field("grade", _l("Grade"), kind="choice", required=True, choices=lambda: list(GRADES.items())),
    ])


@requires("core.staff.view")
def position_list(request: Request) -> Response:
    db = request.state.db
    params = request.query_params
    query = select(Position)
    q = search_text(params)
    if q:
        query = query.where(Position.name.ilike(f"%{q}%"))
    if params.get("grade") in GRADES:
        query = query.where(Position.grade == params["grade"])
    if params.get("format") in ("csv", "xlsx"):
        rows = db.scalars(query.order_by(Position.name, Position.id).limit(MAX_ROWS)).all()
        counts = _position_counts(db, [p.id for p in rows])
        return export_response(params["format"], _("Positions"), [_("Job title"), _("Grade"), _("Staff")],
                               ([p.name, str(GRADES.get(p.grade, p.grade)), counts.get(p.id, 0)] for p in rows))
    sort = params.get("sort", "name")
    page = keyset_page(db, query, sort_col=Position.name, id_col=Position.id, descending=sort.startswith("-"),
                       after=params.get("after"), before=params.get("before"),
                       size=request.app.state.site.settings.get("core.page_size", db))
    return request.app.state.templates.render(
        request, "core/departments/positions.html",
        {"page": page, "sort": "-name" if sort.startswith("-") else "name", "grades": GRADES,
         "counts": _position_counts(db, [p.id for p in page.rows]), "title": _("Positions")},
        fragment="results")


def _position_counts(db, position_ids) -> dict[int, int]:
    if not position_ids:
        return {}
    return dict(db.execute(select(Staff.position_id, func.count()).where(
        Staff.position_id.in_(position_ids), Staff.active.is_(True)).group_by(Staff.position_id)).all())


def _render_position_edit(request: Request, form: Form, position: Position | None, *, status: int = 200,
                          conflict: list | None = None) -> Response:
    return request.app.state.templates.render(
        request, "core/departments/position_edit.html",
        {"form": form, "position": position, "conflict": conflict,
         "title": position_label(position) if position else _("New position")},
        status=status, fragment="form")


def _check_position(db, form: Form, position: Position | None) -> None:
    if "name" in form.errors or "grade" in form.errors:
        return
    if taken(db, Position, Position.name == form.values["name"], Position.grade == form.values["grade"],
             other_than=position.id if position else None):
        form.error("name", _l("This job title already exists with this grade."))


@requires("core.staff.edit")
def position_new(request: Request) -> Response:
    db = request.state.db
    form = position_form()
    if request.method == "GET":
        form.fill(None, grade="junior")
        return _render_position_edit(request, form, None)
    form.load(request.state.form)
    _check_position(db, form, None)
    if form.errors:
        return _render_position_edit(request, form, None, status=422)
    position = Position()
    form.apply(position)
    db.add(position)
    db.flush()
    return flash_redirect(request, request.url_for("positions").path,
                          _("Position %(name)s created.", name=position_label(position)))


@requires("core.staff.edit")
def position_edit(request: Request) -> Response:
    db = request.state.db
    position = db.get(Position, request.path_params["position_id"])
    if position is None:
        raise NotFound()
    form = position_form()
    if request.method == "GET":
        form.fill(position)
        return _render_position_edit(request, form, position)
    form.load(request.state.form)
    if form.outdated(position, request.state.form):
        return _render_position_edit(request, form, position, status=409, conflict=conflict_rows([
            (_("Job title"), position.name), (_("Grade"), GRADES.get(position.grade, position.grade))]))
    _check_position(db, form, position)
    if form.errors:
        return _render_position_edit(request, form, position, status=422)
    form.apply(position)
    return flash_redirect(request, request.url_for("positions").path, _("Changes saved."))


@requires("core.staff.edit")
def position_delete(request: Request) -> Response:
    position = request.state.db.get(Position, request.path_params["position_id"])
    if position is None:
        raise NotFound()
    name = position_label(position)
    return delete_unused(request, position, name, then=request.url_for("positions").path,
                         message=_("Position %(name)s deleted.", name=name))


def routes() -> list:
    return [
        Route("/staff", staff_list, name="staff"),
        Route("/staff/new", staff_new, methods=["GET", "POST"], name="staff_new"),
        Route("/staff/{staff_id:int}", staff_detail, name="staff_detail"),
        Route("/staff/{staff_id:int}/edit", staff_edit, methods=["GET", "POST"], name="staff_edit"),
        Route("/departments", department_list, name="departments"),
        Route("/departments/new", department_new, methods=["GET", "POST"], name="department_new"),
        Route("/departments/{department_id:int}", department_detail, name="department"),
        Route("/departments/{department_id:int}/edit", department_edit, methods=["GET", "POST"],
              name="department_edit"),
        Route("/departments/{department_id:int}/delete", department_delete, methods=["POST"],
              name="department_delete"),
        Route("/positions", position_list, name="positions"),
        Route("/positions/new", position_new, methods=["GET", "POST"], name="position_new"),
        Route("/positions/{position_id:int}/edit", position_edit, methods=["GET", "POST"], name="position_edit"),
        Route("/positions/{position_id:int}/delete", position_delete, methods=["POST"], name="position_delete"),
    ]
