"""Import of staff from a CSV or XLSX file: the department's list, brought in at once.

Every row is checked as the staff form checks it (number, name, e-mail,
phone, hiring date), numbers and usernames must be new in the file and in
the database, and all rows are written or none. Usernames and roles are
taken only from someone who may manage accounts (``core.role.manage``), as
on the staff form. Read by ``fuwu.importing``.

Asked to update, a row whose staff number is already someone's updates
that person with the cells it fills (an empty cell keeps the value): HR's
list of new phones and departments, brought in the same way.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import importing
from .i18n import lazy_gettext as _l
from .importing import Problem, Result
from .models import Department, Position, Role, Staff

#: this import's files in ``core_import_file``
KIND = "staff"

#: column key -> (label, accepted headers), in the order of the template file
COLUMNS = {
    "code": (_l("Staff number"), ("code", "number", "staff number", "staff no", "工号", "員工編號", "工號")),
    "name": (_l("Full name"), ("name", "full name", "姓名")),
    "department": (_l("Department"), ("department", "部门", "部門")),
    "position": (_l("Position"), ("position", "job", "岗位", "职位", "崗位", "職位")),
    "email": (_l("E-mail"), ("email", "e-mail", "mail", "邮箱", "电子邮件", "郵箱", "電子郵件")),
    "phone": (_l("Phone"), ("phone", "mobile", "电话", "手机", "電話", "手機")),
    "hired_on": (_l("Hired on"), ("hired on", "hired", "入职日期", "入職日期", "到職日期")),
    "username": (_l("Username"), ("username", "user", "account", "用户名", "账号", "使用者名稱", "帳號")),
    "roles": (_l("Roles"), ("roles", "role", "角色")),
}
REQUIRED = ("code", "name")
#: the columns checked by the staff form's field of the same name
FORM_FIELDS = ("code", "name", "email", "phone", "hired_on")
#: columns only a role manager may fill (the staff form shows them only to one)
ACCOUNT_COLUMNS = ("username", "roles")
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
#: how several roles are written in one cell: 、 , ， ; ； / or a new line
ROLE_SEPARATORS = re.compile(r"[、,，;；/\n]+")


def _folded(value: str) -> str:
    return "".join(unicodedata.normalize("NFKC", str(value)).lower().split())


def _positions(db: Session, labels) -> dict[str, Position | None]:
    """Positions by name, and by name with grade as the staff page writes it; None: ambiguous."""
    found: dict[str, Position | None] = {}
    for position in db.scalars(select(Position)):
        for key in {_folded(position.name), *(_folded(label) for label in labels(position))}:
            found[key] = None if key in found and found[key] is not position else position
    return found


def _roles(db: Session, labels) -> dict[str, Role]:
    """Roles by key, stored name and the names the pages show."""
    found = {}
    for role in db.scalars(select(Role)):
        for key in (role.key, role.name, *labels(role)):
            if key:
                found[_folded(key)] = role
    return found


def validate(db: Session, name: str, content: bytes, *, fields: dict, manages_accounts: bool, position_labels,
             role_labels, max_bytes: int, max_rows: int, update: bool = False) -> Result:
    """Every row checked; problems per row and column. ``fields``: the staff
    form's fields by name; ``position_labels`` and ``role_labels``: the names
    the pages give a position and a role in each language, so a file may name
    them as any reader sees them (the dry run and the import may be read in two).
    ``update``: a row with an existing staff number updates that person (its ``staff``)."""
    result = Result()
    table = importing.read(name, content, COLUMNS, REQUIRED, max_bytes=max_bytes, max_rows=max_rows)
    if table.problems:
        result.problems.extend(table.problems)
        return result
    rows = [(line, {k: importing.text(v) if k != "hired_on" else v for k, v in cells.items()})
            for line, cells in table.rows]
    departments = {d.name: d for d in db.scalars(select(Department))}
    positions = _positions(db, position_labels)
    positions_by_id = {p.id: p for p in db.scalars(select(Position))} if update else {}
    roles = _roles(db, role_labels)
    existing = {person.code: person for person in db.scalars(select(Staff))}
    taken_usernames = {u.lower(): i for i, u in db.execute(select(Staff.id, func.lower(Staff.username))) if u}
    formulas = importing.Formulas(name, content, table.positions)
    first_code: dict[str, int] = {}
    first_username: dict[str, int] = {}

    for line, cells in rows:
        def bad(column, message, line=line, **params):
            result.problems.append(Problem(line, column, message, params, COLUMNS[column][0]))

        raw_date = cells.get("hired_on")
        if raw_date not in (None, ""):  # a date cell, or text as the form takes it
            found = importing.cell_date(raw_date)
            cells["hired_on"] = found.isoformat() if found else importing.text(raw_date)
        values = importing.parse_cells(fields, FORM_FIELDS, line, cells, bad, formulas)

        code = values.get("code")
        current = existing.get(code) if update else None
        if code:
            if code in first_code:
                bad("code", _l("%(number)s is also on row %(row)s of this file."), number=code, row=first_code[code])
            elif code in existing and not update:
                bad("code", _l("Another member of staff has this number."))
            first_code.setdefault(code, line)
        if current is not None:
            values = importing.filled_over(current, values, cells)

        department = position = None
        if current is not None:  # looked up, not loaded row by row
            department = next((d for d in departments.values() if d.id == current.department_id), None)
            position = positions_by_id.get(current.position_id)
        if cells.get("department"):
            department = departments.get(cells["department"])
            if department is None:
                bad("department", _l("No department named %(name)s."), name=cells["department"])
        if cells.get("position"):
            key = _folded(cells["position"])
            position = positions.get(key)
            if position is None:
                message = (_l("Several positions are called %(name)s: add the grade, as the staff page shows it.")
                           if key in positions else _l("No position named %(name)s."))
                bad("position", message, name=cells["position"])

        if not manages_accounts:
            for key in ACCOUNT_COLUMNS:
                if cells.get(key):
                    bad(key, _l("Only someone who manages user accounts may give usernames and roles."))
        username = cells.get("username", "")
        if username and manages_accounts:
            if len(username) > 60 or not USERNAME.match(username):
                bad("username", _l("Use letters, digits, dot, dash and underscore only."))
            elif username.lower() in first_username:
                bad("username", _l("%(name)s is also on row %(row)s of this file."), name=username,
                    row=first_username[username.lower()])
            elif taken_usernames.get(username.lower(), current.id if current else None) != (
                    current.id if current else None):
                bad("username", _l("Another account has this username."))
            first_username.setdefault(username.lower(), line)
        # an update keeps the roles unless the row names others
        chosen_roles = list(current.roles) if current is not None and not cells.get("roles") else []
        for role_name in ROLE_SEPARATORS.split(cells.get("roles", "")) if manages_accounts else ():
            if role_name.strip():
                role = roles.get(_folded(role_name))
                if role is None:
                    bad("roles", _l("No role named %(name)s."), name=role_name.strip())
                elif role not in chosen_roles:
                    chosen_roles.append(role)

        if current is not None and not username:
            username = current.username
        result.rows.append({**values, "line": line, "department": department, "position": position,
                            "username": username or None, "roles": chosen_roles, "staff": current})
    result.problems.sort(key=lambda p: (p.row, list(COLUMNS).index(p.column) if p.column in COLUMNS else -1))
    return result


def apply(db: Session, result: Result) -> tuple[list[Staff], list[Staff]]:
    """Create every checked row's member of staff, or update them (all or
    nothing: the caller's transaction); returns (created, updated)."""
    people = [
        Staff(code=r["code"], name=r["name"], email=r["email"], phone=r["phone"], hired_on=r["hired_on"],
              department_id=r["department"].id if r["department"] else None,
              position_id=r["position"].id if r["position"] else None,
              username=r["username"], roles=list(r["roles"]), active=True)
        for r in result.rows if r.get("staff") is None
    ]
    db.add_all(people)
    updated = []
    for r in result.rows:
        person = r.get("staff")
        if person is None:
            continue
        for key in ("name", "email", "phone", "hired_on", "username"):
            setattr(person, key, r[key])
        person.department_id = r["department"].id if r["department"] else None
        person.position_id = r["position"].id if r["position"] else None
        if set(person.roles) != set(r["roles"]):
            person.roles = list(r["roles"])
        if db.is_modified(person):
            updated.append(person)
    db.flush()
    return people, updated

