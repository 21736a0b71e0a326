"""Import of customers from a CSV or XLSX file (CORE-1).

For a deployer moving from spreadsheets, or a coordinator taking over a
list: every row is checked as the customer form checks it (the same fields,
lengths and phone rule), names must be new (in the file and in the database),
and all rows are written or none. Read by ``fuwu.importing``.

With ``update`` a row whose company name is a customer's already updates
that customer instead (one the importer may see): the cells it fills are
written, an empty cell leaves the value as it is. So a list kept elsewhere
can be brought in again after it changed.
"""

from __future__ import annotations

import unicodedata
from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import i18n, importing, timeline
from .i18n import N_
from .i18n import lazy_gettext as _l
from .importing import Problem, Result
from .models import ACCOUNT_TYPES, Customer, Department, Staff

#: this import's files in ``core_import_file``
KIND = "customers"

#: column key -> (label, accepted headers), in the order of the template file;
#: the labels are the customer form's, and the headers include them in each language
COLUMNS = {
    "name": (_l("Company name"), ("name", "company", "company name", "customer", "customer name", "公司", "公司名称",
                                  "客户名称", "客户", "公司名稱", "客戶名稱", "客戶")),
    "account_type": (_l("Account type"), ("account type", "type", "客户类型", "类型", "客戶類型", "類型")),
    "region": (_l("Region"), ("region", "区域", "地区", "區域", "地區")),
    "office": (_l("Office"), ("office", "办事处", "辦事處")),
    "address": (_l("Address"), ("address", "地址")),
    "phone": (_l("Phone"), ("phone", "telephone", "tel", "电话", "電話")),
    "department": (_l("Responsible department"), ("department", "responsible department", "负责部门", "部门",
                                                  "負責部門", "部門")),
    "salesperson": (_l("Salesperson"), ("salesperson", "sales", "业务员", "销售", "業務員", "銷售")),
    "notes": (_l("Notes"), ("notes", "note", "备注", "備註")),
}
REQUIRED = ("name",)
#: the columns checked by the customer form's field of the same name
FORM_FIELDS = ("name", "region", "office", "address", "phone", "notes")

#: how an account type may be written, besides its code and its label in the reader's language
ACCOUNT_TYPE_NAMES = {
    "key": ("key account", "key account (monthly settlement)", "大客户", "大客户（月结）", "大客戶", "大客戶（月結）",
            "月结", "月結"),
    "retail": ("retail", "retail (pays on the spot)", "零散客户", "零散客户（现结）", "零散客戶", "零散客戶（現結）",
               "零售", "现结", "現結"),
}


def _folded(value: str) -> str:
    """Compared loosely: full-width brackets and letters as ASCII, case and spaces aside."""
    return "".join(unicodedata.normalize("NFKC", value).lower().split())


def _account_types() -> dict[str, str]:
    names = {_folded(code): code for code in ACCOUNT_TYPES}
    for code, written in ACCOUNT_TYPE_NAMES.items():
        names.update({_folded(name): code for name in written})
        names[_folded(str(ACCOUNT_TYPES[code]))] = code
    return names


def _existing(db: Session, names) -> dict[str, Customer]:
    """The customers a file names, by name."""
    found: dict[str, Customer] = {}
    for chunk in importing.in_chunks(names):
        found.update((c.name, c) for c in db.scalars(select(Customer).where(Customer.name.in_(chunk))))
    return found


def validate(db: Session, user, name: str, content: bytes, *, fields: dict, sees_all: bool,
             max_bytes: int, max_rows: int, update: bool = False) -> Result:
    """Every row checked; problems per row and column. ``fields``: the
    customer form's fields by name. ``sees_all``: whether ``user`` sees every
    department's customers; if not, each row must be one they will see.
    ``update``: a row naming an existing customer updates it (its ``customer``)."""
    result = Result()
    table = importing.read(name, content, COLUMNS, REQUIRED, max_bytes=max_bytes, max_rows=max_rows)
    if table.problems:
        result.problems.extend(table.problems)
        return result

    rows = [(line, {k: importing.text(v) for k, v in cells.items()}) for line, cells in table.rows]
    taken = _existing(db, [cells.get("name", "") for _line, cells in rows])
    departments = {d.name: d for d in db.scalars(select(Department))}
    staff = list(db.scalars(select(Staff).where(Staff.active.is_(True))))
    by_username = {s.username: s for s in staff if s.username}
    by_name = {s.name: s for s in staff}
    names_twice = {n for n, count in Counter(s.name for s in staff).items() if count > 1}
    account_types = _account_types()
    own_department = next((d for d in departments.values() if d.id == user.department_id), None)
    first_row: dict[str, int] = {}
    formulas = importing.Formulas(name, content, table.positions)

    for line, cells in rows:
        def bad(column, message, line=line, **params):
            result.problems.append(Problem(line, column, message, params, COLUMNS[column][0]))

        values = importing.parse_cells(fields, FORM_FIELDS, line, cells, bad, formulas)
        company = values.get("name")
        current = taken.get(company) if update else None
        if company:
            if company in first_row:
                bad("name", _l("%(name)s is also on row %(row)s of this file."), name=company, row=first_row[company])
            elif company in taken and not update:
                bad("name", _l("A customer with this name already exists."))
            first_row.setdefault(company, line)
        if current is not None and not (sees_all or current.sales_staff_id == user.id or (
                current.department_id is not None and current.department_id == user.department_id)):
            bad("name", _l("A customer with this name exists, but not among those you may see."))
            current = None
        if current is not None:
            values = importing.filled_over(current, values, cells)

        written_type = cells.get("account_type", "")
        values["account_type"] = account_types.get(_folded(written_type), None) if written_type else (
            current.account_type if current is not None else "retail")
        if values["account_type"] is None:
            bad("account_type", _l("Not an account type: %(value)s (use %(choices)s)."), value=written_type,
                choices=i18n.listed((str(label) for label in ACCOUNT_TYPES.values()), "or"))

        department, unknown_department = own_department, False
        if current is not None:
            department = next((d for d in departments.values() if d.id == current.department_id), None)
        if cells.get("department"):
            department = departments.get(cells["department"])
            if department is None:
                bad("department", _l("No department named %(name)s."), name=cells["department"])
                unknown_department = True

        salesperson = None
        if current is not None and current.sales_staff_id:
            salesperson = next((s for s in staff if s.id == current.sales_staff_id), None) or db.get(
                Staff, current.sales_staff_id)
        if cells.get("salesperson"):
            wanted = cells["salesperson"]
            salesperson = by_username.get(wanted) or (by_name.get(wanted) if wanted not in names_twice else None)
            if wanted in names_twice and wanted not in by_username:
                bad("salesperson", _l("Several staff members are called %(name)s: give the username."), name=wanted)
            elif salesperson is None:
                bad("salesperson", _l("No active staff member named %(name)s."), name=wanted)

        # the record rule (fuwu.web.scope): someone who sees only their department's
        # customers, and those they sell to, does not create customers hidden from them
        visible = (sees_all or (salesperson is not None and salesperson.id == user.id)
                   or (department is not None and department is own_department))
        if not visible and not unknown_department:
            bad("department", _l("You see only the customers of your own department and those you sell to: "
                                 "give %(department)s as the department, or yourself as the salesperson."),
                department=own_department.name if own_department else "—")

        result.rows.append({**values, "line": line, "department": department, "salesperson": salesperson,
                            "customer": current})
    result.problems.sort(key=lambda p: (p.row, list(COLUMNS).index(p.column) if p.column in COLUMNS else -1))
    return result


def apply(db: Session, result: Result, user, file_name: str) -> tuple[list[Customer], list[Customer]]:
    """Create every checked row's customer, or update it (all or nothing:
    the caller's transaction); returns (created, updated)."""
    created = [
        Customer(name=r["name"], account_type=r["account_type"], region=r["region"], office=r["office"],
                 address=r["address"], phone=r["phone"], notes=r["notes"],
                 department_id=r["department"].id if r["department"] else None,
                 sales_staff_id=r["salesperson"].id if r["salesperson"] else None)
        for r in result.rows if r.get("customer") is None
    ]
    db.add_all(created)
    updated = []
    for r in result.rows:
        customer = r.get("customer")
        if customer is None:
            continue
        for key in FORM_FIELDS[1:] + ("account_type",):
            setattr(customer, key, r[key])
        customer.department_id = r["department"].id if r["department"] else customer.department_id
        customer.sales_staff_id = r["salesperson"].id if r["salesperson"] else customer.sales_staff_id
        if db.is_modified(customer):
            updated.append(customer)
    db.flush()
    for customer in created:
        timeline.append(db, customer.id, N_("Customer record imported by %(staff)s from %(file)s"), kind="created",
                        staff=user.name, file=file_name)
    for customer in updated:
        timeline.append(db, customer.id, N_("Customer record updated by %(staff)s from %(file)s"), kind="imported",
                        staff=user.name, file=file_name)
    return created, updated
