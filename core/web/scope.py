"""Record rules: who sees which rows, enforced inside the queries.

An engineer sees the customers of their own department (and those they sell
to), a manager with ``core.customer.view_all`` and an admin see all. A record
outside the scope is "not found" (404), so ids in URLs reveal nothing.
"""

from __future__ import annotations

from sqlalchemy import Select, false, or_, true
from sqlalchemy.sql.expression import True_

from ..models import Contract, Customer


def customers(user):
    if user.is_admin or user.can("core.customer.view_all"):
        return true()
    conditions = [Customer.sales_staff_id == user.id]
    if user.department_id is not None:
        conditions.append(Customer.department_id == user.department_id)
    return or_(*conditions) if conditions else false()


def where_customer_visible(query: Select, user) -> Select:
    """``query`` limited to the customers ``user`` may see. Someone who sees
    them all gets no WHERE at all: a constant-true WHERE makes SQLite count a
    list by reading every row instead of counting its smallest index."""
    condition = customers(user)
    return query if isinstance(condition, True_) else query.where(condition)


def contracts(user):
    """Contracts follow their customer's visibility (joined on customer)."""
    return customers(user)


__all__ = ["customers", "contracts", "Contract", "Customer"]
