"""Record rules: who sees which rows, enforced inside the queries.

An engineer sees the customers of their own department (and those they sell
to), a manager with ``core.customer.view_all`` and an admin see all. A record
outside the scope is "not found" (404), so ids in URLs reveal nothing.
"""

from __future__ import annotations

from sqlalchemy import false, or_, true

from ..models import Contract, Customer


def customers(user):
    if user.is_admin or user.can("core.customer.view_all"):
        return true()
    conditions = [Customer.sales_staff_id == user.id]
    if user.department_id is not None:
        conditions.append(Customer.department_id == user.department_id)
    return or_(*conditions) if conditions else false()


def contracts(user):
    """Contracts follow their customer's visibility (joined on customer)."""
    return customers(user)


__all__ = ["customers", "contracts", "Contract", "Customer"]
