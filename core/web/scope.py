"""Record rules: who sees which rows, enforced inside the queries.

An engineer sees the customers of their own department (and those they sell
to), a manager with ``core.customer.view_all`` and an admin see all. A record
outside the scope is "not found" (404), so ids in URLs reveal nothing.
"""

from __future__ import annotations

from sqlalchemy import bindparam, or_, select, true

from ..errors import NotFound
from ..models import Contract, Customer
from .forms import record_id


def _customer_condition(kind: str, staff_id, department_id):
    """The condition of a kind of rule, on values or on ``bindparam``s."""
    if kind == "all":
        return None
    own = Customer.sales_staff_id == staff_id
    return own if kind == "own" else or_(own, Customer.department_id == department_id)


def customer_rule(user) -> tuple[str, dict[str, int]]:
    """Which kind of rule applies to ``user`` (a key of ``CUSTOMER_RULES``), and its values.

    Someone who sees them all gets no condition at all: a constant-true WHERE
    makes SQLite count a list by reading every row instead of counting its
    smallest index."""
    if user.is_admin or user.can("core.customer.view_all"):
        return "all", {}
    if user.department_id is None:
        return "own", {"scope_staff_id": user.id}
    return "own_or_department", {"scope_staff_id": user.id, "scope_department_id": user.department_id}


#: each kind of rule built once, whose rows they are bound at run time, so a
#: list can prepare its statements (``customer_rule`` gives the values)
CUSTOMER_RULES = {kind: _customer_condition(kind, bindparam("scope_staff_id"), bindparam("scope_department_id"))
                  for kind in ("all", "own", "own_or_department")}


def customers(user):
    """The rule as a condition with its values in it, for any query."""
    kind, values = customer_rule(user)
    condition = _customer_condition(kind, values.get("scope_staff_id"), values.get("scope_department_id"))
    return true() if condition is None else condition


def contracts(user):
    """Contracts follow their customer's visibility (joined on customer)."""
    return customers(user)


def customer_record(request, model, row_id, *options):
    """The ``model`` row (one with a ``customer_id``) numbered ``row_id`` as
    typed into the URL, when the user may see its customer; 404 otherwise.
    ``options``: loader options, e.g. ``contains_eager(model.customer)``."""
    row = request.state.db.scalar(
        select(model).join(Customer, Customer.id == model.customer_id)
        .where(model.id == record_id(row_id), customers(request.state.user)).options(*options))
    if row is None:
        raise NotFound()
    return row


__all__ = ["customers", "contracts", "customer_record", "Contract", "Customer"]
