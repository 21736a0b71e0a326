"""Import of the installed base from CSV or XLSX (SK-1, SK-2).

Two passes over one uploaded file: a dry run that validates every row and
shows what would be imported, then the import itself, which validates again
and writes all rows or none. The file is read by ``fuwu.importing``.
"""

from __future__ import annotations

from collections import defaultdict

from fuwu import importing, timeline
from fuwu.importing import Problem, Result
from fuwu.i18n import N_
from fuwu.i18n import lazy_gettext as _l
from fuwu.models import Contract, Customer, Product
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import rules
from .models import KeyEvent, ProductKey
from .services import SOURCE, now

#: column key -> (label, accepted headers), in the order of the template file
COLUMNS = {
    "customer": (_l("Customer name"), ("customer", "customer name", "客户", "客户名称", "客戶", "客戶名稱")),
    "product": (_l("Product code"), ("product", "product code", "产品", "产品编码", "產品", "產品編碼")),
    "serial_number": (_l("Serial number"), ("serial", "serial number", "serial_number", "序列号", "序號", "序列號")),
    "service_code": (_l("Service code"), ("service code", "service_code", "服务码", "服務碼")),
    "dongle_number": (_l("Dongle number"), ("dongle", "dongle number", "dongle_number", "加密锁号", "加密锁",
                                            "加密鎖號", "加密鎖")),
    "installed_on": (_l("Installation date"), ("installed on", "installed_on", "installation date", "安装日期",
                                               "安裝日期")),
    "contract": (_l("Contract number"), ("contract", "contract number", "合同编号", "合同号", "合約編號", "合同編號")),
}
REQUIRED = ("customer", "product", "serial_number", "service_code")
BAD_NUMBER = _l("Use 3 to 80 letters, digits, dots, dashes, slashes or underscores.")


def validate(session: Session, name: str, content: bytes, *, visible, max_bytes: int, max_rows: int) -> Result:
    """Every row checked; problems per row and column. ``visible``: the
    record rule on ``Customer`` (a user imports only for customers they see)."""
    result = Result()
    problems = result.problems
    table = importing.read(name, content, COLUMNS, REQUIRED, max_bytes=max_bytes, max_rows=max_rows)
    if table.problems:
        problems.extend(table.problems)
        return result
    index = table.positions
    raw_rows = table.rows

    def lookup(model, column, values, where=None):
        found: dict[str, object] = {}
        for chunk in importing.in_chunks(values):
            query = select(model).where(column.in_(chunk))
            if where is not None:
                query = query.where(where)
            for obj in session.scalars(query):
                found[getattr(obj, column.key)] = obj
        return found

    texts = [(line, {k: (importing.text(v) if k != "installed_on" else v) for k, v in cells.items()})
             for line, cells in raw_rows]
    customers = lookup(Customer, Customer.name, [c.get("customer", "") for _l2, c in texts], visible)
    products = lookup(Product, Product.code, [c.get("product", "") for _l2, c in texts])
    contract_rows = lookup(Contract, Contract.number, [c.get("contract", "") for _l2, c in texts])
    serials = [rules.normalise(c.get("serial_number")) for _l2, c in texts]
    dongles = [rules.normalise(c.get("dongle_number")) for _l2, c in texts]
    taken_serials = importing.existing(session, ProductKey.serial_number, serials)
    taken_dongles = importing.existing(session, ProductKey.dongle_number, dongles)
    seen_serial: dict[str, int] = {}
    seen_dongle: dict[str, int] = {}
    formulas = importing.Formulas(name, content, index)

    for line, cells in texts:
        def bad(column, message, line=line, **params):
            problems.append(Problem(line, column, message, params, COLUMNS[column][0]))

        for key in REQUIRED:
            if not cells.get(key):
                bad(key, importing.FORMULA_WITHOUT_RESULT if formulas.at(line, key) else _l("Required."))
        customer = customers.get(cells.get("customer", ""))
        if cells.get("customer") and customer is None:
            bad("customer", _l("No customer named %(name)s."), name=cells["customer"])
        product = products.get(cells.get("product", ""))
        if cells.get("product") and product is None:
            bad("product", _l("No product with code %(code)s."), code=cells["product"])
        serial = rules.normalise(cells.get("serial_number"))
        if serial:
            _check_unique(bad, line, "serial_number", serial, seen_serial, taken_serials,
                          _l("Serial number %(number)s also on row %(row)s of this file."),
                          _l("Serial number %(number)s is already registered."))
        code = rules.normalise(cells.get("service_code"))
        if code and not rules.valid_number(code):
            bad("service_code", BAD_NUMBER)
        dongle = rules.normalise(cells.get("dongle_number"))
        if dongle:
            _check_unique(bad, line, "dongle_number", dongle, seen_dongle, taken_dongles,
                          _l("Dongle number %(number)s also on row %(row)s of this file."),
                          _l("Dongle number %(number)s is already registered."))
        installed = None
        raw_date = cells.get("installed_on")
        if raw_date not in (None, ""):
            installed = importing.cell_date(raw_date)
            if installed is None:
                bad("installed_on", _l("Not a date: %(value)s (use YYYY-MM-DD)."), value=importing.text(raw_date))
        contract = None
        if cells.get("contract"):
            contract = contract_rows.get(cells["contract"])
            if contract is None or contract.kind != "service":
                bad("contract", _l("No service contract numbered %(number)s."), number=cells["contract"])
                contract = None
            elif customer is not None and contract.customer_id != customer.id:
                bad("contract", _l("Contract %(number)s belongs to another customer."), number=cells["contract"])
                contract = None
        result.rows.append({"line": line, "customer": customer, "product": product, "serial_number": serial,
                            "service_code": code, "dongle_number": dongle or None, "installed_on": installed,
                            "contract": contract})
    problems.sort(key=lambda p: (p.row, list(COLUMNS).index(p.column) if p.column in COLUMNS else -1))
    return result


def _check_unique(bad, line: int, column: str, number: str, seen: dict[str, int], taken: set[str],
                  twice_in_file, registered) -> None:
    """A serial or dongle number (SK-1): well formed, once in the file, not registered yet."""
    if not rules.valid_number(number):
        bad(column, BAD_NUMBER)
    elif number in seen:
        bad(column, twice_in_file, number=number, row=seen[number])
    elif number in taken:
        bad(column, registered, number=number)
    seen.setdefault(number, line)


def apply(session: Session, result: Result, actor) -> int:
    """Write every validated row (all or nothing: the caller's transaction)."""
    from fuwu_plugins.contracts.services import periods_by_contract

    contract_ids = {r["contract"].id for r in result.rows if r["contract"] is not None}
    periods = periods_by_contract(session, contract_ids)
    keys = []
    for r in result.rows:
        key = ProductKey(customer_id=r["customer"].id, product_id=r["product"].id, serial_number=r["serial_number"],
                         service_code=r["service_code"], dongle_number=r["dongle_number"],
                         installed_on=r["installed_on"], notes="")
        if r["contract"] is not None:
            key.contract_id = r["contract"].id
            latest = max(periods[key.contract_id], key=lambda p: p.ends_on, default=None)
            if latest is not None:
                key.period_id, key.expires_on = latest.id, latest.ends_on
        keys.append(key)
    session.add_all(keys)
    session.flush()
    at = now()
    actor_id = actor.id if actor else None
    session.add_all([KeyEvent(key_id=k.id, action="imported", actor_id=actor_id, at=at, serial_number=k.serial_number,
                              old_serial_number="", expires_on=k.expires_on, note="") for k in keys])
    per_customer: dict[int, int] = defaultdict(int)
    for k in keys:
        per_customer[k.customer_id] += 1
    for customer_id, n in per_customer.items():
        timeline.append(session, customer_id, N_("%(n)s product keys imported into the installed base"),
                        source=SOURCE, kind="key", n=n)
    session.flush()
    return len(keys)
