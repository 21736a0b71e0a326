"""Record pickers for forms (``Field(kind="record", lookup=...)``): a
customer is picked by typing its name, with suggestions while typing,
instead of from a select that would list every customer (100,000 options
make a 7 MB page). A plugin's form uses them the same way::

    Field("customer_id", _l("Customer"), kind="record", required=True,
          lookup=lookups.customers(request))
"""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request

from ..models import Customer
from . import scope
from .forms import Lookup, record_id

#: suggestions shown while typing
SUGGESTIONS = 20


def customers(request: Request) -> Lookup:
    """The customers the signed-in user may see (record rules), by name."""
    db, user = request.state.db, request.state.user

    def find(name: str):
        ids = db.scalars(select(Customer.id).where(Customer.name == name, scope.customers(user)).limit(2)).all()
        return ids[0] if len(ids) == 1 else None

    def name_of(customer_id) -> str | None:
        number = record_id(customer_id)  # a saved id, or one from a link (``?customer_id=``)
        return db.scalar(select(Customer.name).where(Customer.id == number, scope.customers(user))) if number else None

    return Lookup(find=find, name_of=name_of, suggest=request.url_for("customer_suggest").path)


def customer_names(request: Request, typed: str) -> list[str]:
    """The names of visible customers containing ``typed``, for a field's suggestions."""
    if not typed:
        return []
    return list(request.state.db.scalars(
        select(Customer.name).where(Customer.name.contains(typed, autoescape=True),
                                    scope.customers(request.state.user))
        .order_by(Customer.name).limit(SUGGESTIONS)))
