"""Roles, their permissions and members, and user accounts (CORE-3).

Everything here needs ``core.role.manage``. Taking a permission away keeps
its row, marked ``revoked``, so ``sync_roles`` after an upgrade never hands
a seeded grant back; granting it again clears the mark. Built-in role names
are stored as English msgids and shown translated (``|t``).
"""

from __future__ import annotations

import re
from itertools import groupby

from sqlalchemy import func, select, true
from sqlalchemy.exc import IntegrityError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ... import two_factor
from ...db import check_version, utcnow
from ...errors import NotFound, StaleEdit
from ...i18n import gettext as _
from ...i18n import lazy_gettext as _l
from ...i18n import ngettext
from ...models import Role, RolePermission, Staff
from ...models.staff import staff_role
from ...passwords import MIN_LENGTH, hash_password
from .. import sessions
from ..deletion import delete_unused
from ..endpoint import requires
from ..export import export_response
from ..forms import Field, Form, record_id, taken
from ..shell import flash_redirect
from ..templating import translate
from .organisation import render_staff_detail, visible_staff

ROLE_KEY = re.compile(r"^[a-z0-9_]+$")
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
ADMIN = "admin"


def role_form(new: bool) -> Form:
    fields = [Field("key", _l("Key"), required=True, max_length=60,
                    help=_l("Lowercase letters a-z, digits and _; it cannot be changed later."))] if new else []
    return Form(fields + [
        Field("name", _l("Name"), required=True, max_length=100),
        Field("description", _l("Description"), max_length=500),
    ])


def get_role(request: Request, role_id: int) -> Role:
    role = request.state.db.get(Role, role_id)
    if role is None:
        raise NotFound()
    return role


@requires("core.role.manage")
def role_list(request: Request) -> Response:
    db = request.state.db
    roles = sorted(db.scalars(select(Role)).all(), key=lambda r: (not r.builtin, translate(r.name)))
    members = dict(db.execute(select(staff_role.c.role_id, func.count()).join(Staff, Staff.id == staff_role.c.staff_id)
                              .where(Staff.active.is_(True)).group_by(staff_role.c.role_id)).all())
    known = set(request.app.state.site.permissions.by_name)
    granted = {r.id: len({p.permission for p in r.permissions if not p.revoked} & known) for r in roles}
    if request.query_params.get("format") in ("csv", "xlsx"):
        return export_response(
            request.query_params["format"], _("Roles"),
            [_("Name"), _("Key"), _("Description"), _("Members"), _("Permissions")],
            ([translate(r.name), r.key, r.description, members.get(r.id, 0),
              _("All") if r.key == "admin" else granted[r.id]] for r in roles))
    return request.app.state.templates.render(
        request, "core/roles/list.html",
        {"roles": roles, "members": members, "granted": granted, "title": _("Roles")})


def permission_groups(site, checked: set[str]) -> list[tuple[str, list[tuple[object, bool]]]]:
    """The permission grid: one group per plugin (core first), in name order."""
    order = {name: i for i, name in enumerate(["core", *site.plugins.names])}
    perms = sorted(site.permissions, key=lambda p: (order.get(p.plugin, len(order)), p.plugin, p.name))
    groups = []
    for plugin, items in groupby(perms, key=lambda p: p.plugin):
        title = site.plugins.describe(plugin)[0]
        groups.append((title, [(p, p.name in checked) for p in items]))
    return groups


def render_role(request: Request, role: Role, *, status: int = 200, checked: set[str] | None = None,
                conflict: list | None = None, error=None, version: int | None = None) -> Response:
    db = request.state.db
    site = request.app.state.site
    granted = {p.permission for p in role.permissions if not p.revoked}
    members = db.scalars(select(Staff).join(Staff.roles).where(Role.id == role.id).order_by(Staff.name)).all()
    candidates = db.execute(select(Staff.id, Staff.name, Staff.code).where(
        Staff.active.is_(True), Staff.id.not_in([m.id for m in members]) if members else true())
        .order_by(Staff.name)).all()
    return request.app.state.templates.render(
        request, "core/roles/detail.html",
        {"role": role, "groups": permission_groups(site, granted if checked is None else checked),
         "members": members, "candidates": candidates, "conflict": conflict, "error": error,
         "version": role.version if version is None else version, "is_admin_role": role.key == ADMIN,
         "title": translate(role.name)},
        status=status)


@requires("core.role.manage")
def role_detail(request: Request) -> Response:
    return render_role(request, get_role(request, request.path_params["role_id"]))


@requires("core.role.manage")
def role_delete(request: Request) -> Response:
    """A role someone added and no one holds; the built-in ones stay."""
    role = get_role(request, request.path_params["role_id"])
    if role.builtin:
        return render_role(request, role, status=409, error=_l("A built-in role cannot be deleted."))
    name = translate(role.name)
    return delete_unused(request, role, name, then=request.url_for("roles").path,
                         message=_("Role %(name)s deleted.", name=name))


@requires("core.role.manage")
def role_permissions(request: Request) -> Response:
    """Save the grid: ticked permissions granted, the others revoked (rows kept)."""
    site = request.app.state.site
    role = get_role(request, request.path_params["role_id"])
    known = site.permissions.by_name
    wanted = {str(name) for name in request.state.form.getlist("permission")} & set(known)
    if role.key == ADMIN:
        return render_role(request, role, status=422,
                           error=_l("Administrators may do everything; their permissions cannot be changed."))
    try:
        check_version(role, request.state.form.get("version"))
    except StaleEdit:
        saved = sorted(str(known[p.permission].label) for p in role.permissions
                       if not p.revoked and p.permission in known)
        return render_role(request, role, status=409, checked=wanted, conflict=saved)
    rows = {p.permission: p for p in role.permissions}
    changed = False
    for name in known:
        row = rows.get(name)
        if name in wanted:
            if row is None:
                role.permissions.append(RolePermission(permission=name))
                changed = True
            elif row.revoked:
                row.revoked = False
                changed = True
        elif row is not None and not row.revoked:
            row.revoked = True
            changed = True
    if changed:
        role.updated_at = utcnow()  # a new version: a grid opened before this save is now stale
    return flash_redirect(request, request.url_for("role", role_id=role.id).path,
                          _("Permissions saved.") if changed else _("Nothing changed."))


def _render_role_edit(request: Request, form: Form, role: Role | None, *, status: int = 200,
                      conflict: list | None = None) -> Response:
    return request.app.state.templates.render(
        request, "core/roles/edit.html",
        {"form": form, "role": role, "conflict": conflict,
         "title": translate(role.name) if role else _("New role")},
        status=status, fragment="form")


@requires("core.role.manage")
def role_new(request: Request) -> Response:
    db = request.state.db
    form = role_form(new=True)
    if request.method == "GET":
        form.fill(None)
        return _render_role_edit(request, form, None)
    form.load(request.state.form)
    key = form.values.get("key")
    if key is not None and not ROLE_KEY.match(key):
        form.error("key", _l("Use lowercase letters a-z, digits and _ only."))
    elif key is not None and db.scalar(select(Role.id).where(Role.key == key)) is not None:
        form.error("key", _l("Another role has this key."))
    if form.errors:
        return _render_role_edit(request, form, None, status=422)
    role = Role(builtin=False)
    form.apply(role)
    db.add(role)
    try:
        with db.begin_nested():
            db.flush()
    except IntegrityError:
        form.error("key", _l("Another role has this key."))
        return _render_role_edit(request, form, None, status=422)
    return flash_redirect(request, request.url_for("role", role_id=role.id).path,
                          _("Role %(name)s created.", name=role.name))


@requires("core.role.manage")
def role_edit(request: Request) -> Response:
    role = get_role(request, request.path_params["role_id"])
    form = role_form(new=False)
    if request.method == "GET":
        form.fill(role)
        return _render_role_edit(request, form, role)
    form.load(request.state.form)
    if form.outdated(role, request.state.form):
        return _render_role_edit(request, form, role, status=409, conflict=[
            (_("Name"), role.name), (_("Description"), role.description or "—")])
    if form.errors:
        return _render_role_edit(request, form, role, status=422)
    form.apply(role)
    return flash_redirect(request, request.url_for("role", role_id=role.id).path, _("Changes saved."))


def _cannot_drop_own_admin(request: Request, role: Role, staff_id: int) -> bool:
    return role.key == ADMIN and staff_id == request.state.user.id


@requires("core.role.manage")
def role_member_add(request: Request) -> Response:
    db = request.state.db
    role = get_role(request, request.path_params["role_id"])
    staff_id = record_id(request.state.form.get("staff_id"))
    staff = db.get(Staff, staff_id) if staff_id is not None else None
    if staff is None:
        return render_role(request, role, status=422, error=_l("Choose a member of staff from the list."))
    if role not in staff.roles:
        staff.roles.append(role)
    return flash_redirect(request, request.url_for("role", role_id=role.id).path,
                          _("%(name)s now has this role.", name=staff.name))


@requires("core.role.manage")
def role_member_remove(request: Request) -> Response:
    db = request.state.db
    role = get_role(request, request.path_params["role_id"])
    staff = db.get(Staff, request.path_params["staff_id"])
    if staff is None:
        raise NotFound()
    if _cannot_drop_own_admin(request, role, staff.id):
        return render_role(request, role, status=422, error=_l(
            "You cannot remove your own administrator role. Ask another administrator to do it."))
    if role in staff.roles:
        staff.roles.remove(role)
    return flash_redirect(request, request.url_for("role", role_id=role.id).path,
                          _("%(name)s no longer has this role.", name=staff.name))


# --- user accounts (shown on the staff page) ----------------------------------------------------

def username_form() -> Form:
    return Form([Field("username", _l("Username"), required=True, max_length=60,
                       help=_l("Letters, digits, dot, dash and underscore."))])


def password_form() -> Form:
    return Form([
        Field("password", _l("New password"), kind="password", required=True, max_length=200,
              help=_l("At least %(n)s characters.", n=MIN_LENGTH)),
        Field("password_again", _l("New password again"), kind="password", required=True, max_length=200),
    ])


def read_new_password(form: Form, posted) -> bool:
    """Load ``password_form``: True when the password may be set (long enough,
    typed the same twice). A refused form keeps nothing to send back to the browser."""
    if form.load(posted):
        if len(form.values["password"]) < MIN_LENGTH:
            form.error("password", _l("At least %(n)s characters.", n=MIN_LENGTH))
        elif form.values["password"] != form.values["password_again"]:
            form.error("password_again", _l("The two passwords differ."))
    if form.errors:
        form.raw = {}
        return False
    return True


def account_context(request: Request, staff: Staff, *, username: Form | None = None,
                    password: Form | None = None, error=None) -> dict:
    """The account box of the staff page, for role managers."""
    db = request.state.db
    live = db.scalar(select(func.count()).select_from(sessions.WebSession).where(
        sessions.WebSession.staff_id == staff.id, sessions.WebSession.revoked_at.is_(None),
        sessions.WebSession.expires_at > utcnow())) or 0
    if username is None:
        username = username_form().fill(staff)
    return {"account": {"username_form": username, "password_form": password or password_form(),
                        "sessions": live, "error": error, "is_self": staff.id == request.state.user.id,
                        "two_factor": two_factor.of(db, staff.id) is not None}}


def _back_to_staff(request: Request, staff: Staff, message) -> Response:
    return flash_redirect(request, request.url_for("staff_detail", staff_id=staff.id).path + "#account", message)


def _keep_own_session(request: Request, staff: Staff) -> int | None:
    """Acting on your own account must not sign you out of the page you are using."""
    return request.state.web_session.id if staff.id == request.state.user.id else None


@requires("core.role.manage")
def staff_account(request: Request) -> Response:
    db = request.state.db
    staff = visible_staff(request, request.path_params["staff_id"])
    form = username_form()
    if form.load(request.state.form):
        name = form.values["username"]
        if not USERNAME.match(name):
            form.error("username", _l("Use letters, digits, dot, dash and underscore only."))
        elif taken(db, Staff, func.lower(Staff.username) == name.lower(), other_than=staff.id):
            form.error("username", _l("Another account has this username."))
    if form.errors:
        return render_staff_detail(request, staff, status=422, username=form)
    staff.username = form.values["username"]
    return _back_to_staff(request, staff, _("Username saved."))


@requires("core.role.manage")
def staff_password(request: Request) -> Response:
    db = request.state.db
    staff = visible_staff(request, request.path_params["staff_id"])
    form = password_form()
    if not read_new_password(form, request.state.form):
        return render_staff_detail(request, staff, status=422, password=form)
    staff.password_hash = hash_password(form.values["password"])
    sessions.revoke(db, staff.id, keep_id=_keep_own_session(request, staff))
    return _back_to_staff(request, staff, _("Password set; %(name)s has been signed out everywhere.",
                                            name=staff.name))


@requires("core.role.manage")
def staff_activation(request: Request) -> Response:
    db = request.state.db
    staff = visible_staff(request, request.path_params["staff_id"])
    active = request.state.form.get("active") == "1"
    if not active and staff.id == request.state.user.id:
        return render_staff_detail(request, staff, status=422, error=_l("You cannot deactivate your own account."))
    if staff.active == active:
        return _back_to_staff(request, staff, _("Nothing changed."))
    staff.active = active
    if not active:
        sessions.revoke(db, staff.id)
        return _back_to_staff(request, staff, _("The account of %(name)s is deactivated.", name=staff.name))
    return _back_to_staff(request, staff, _("The account of %(name)s is active again.", name=staff.name))


@requires("core.role.manage")
def staff_sessions_revoke(request: Request) -> Response:
    staff = visible_staff(request, request.path_params["staff_id"])
    count = sessions.revoke(request.state.db, staff.id, keep_id=_keep_own_session(request, staff))
    return _back_to_staff(request, staff, ngettext("%(num)s session signed out.", "%(num)s sessions signed out.",
                                                   count))


def routes() -> list:
    return [
        Route("/roles", role_list, name="roles"),
        Route("/roles/new", role_new, methods=["GET", "POST"], name="role_new"),
        Route("/roles/{role_id:int}", role_detail, name="role"),
        Route("/roles/{role_id:int}/edit", role_edit, methods=["GET", "POST"], name="role_edit"),
        Route("/roles/{role_id:int}/delete", role_delete, methods=["POST"], name="role_delete"),
        Route("/roles/{role_id:int}/permissions", role_permissions, methods=["POST"], name="role_permissions"),
        Route("/roles/{role_id:int}/members", role_member_add, methods=["POST"], name="role_member_add"),
        Route("/roles/{role_id:int}/members/{staff_id:int}/remove", role_member_remove, methods=["POST"],
              name="role_member_remove"),
        Route("/staff/{staff_id:int}/account", staff_account, methods=["POST"], name="staff_account"),
        Route("/staff/{staff_id:int}/password", staff_password, methods=["POST"], name="staff_password"),
        Route("/staff/{staff_id:int}/activation", staff_activation, methods=["POST"], name="staff_activation"),
        Route("/staff/{staff_id:int}/sessions/revoke", staff_sessions_revoke, methods=["POST"],
              name="staff_sessions_revoke"),
    ]
