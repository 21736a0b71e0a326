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
from .forms import Lookup

#: suggestions shown while typing
SUGGESTIONS = 20


def customers(request: Request) -> Lookup:
    """The customers the signed-in user may see (record rules), by name."""
    db, user = request.state.db, request.state.user

    def find(names: list[str]) -> dict[str, int]:
        rows = db.execute(select(Customer.name, Customer.id)
                          .where(Customer.name.in_(list(set(names))), scope.customers(user))).all()
        ids: dict[str, int | None] = {}
        for name, customer_id in rows:
            ids[name] = None if name in ids else customer_id  # two customers of one name: neither is meant
        return {name: customer_id for name, customer_id in ids.items() if customer_id is not None}

    def names_of(ids: list[int]) -> dict[int, str]:
        # saved ids, or one from a link (``?customer_id=``): only the visible ones get a name
        return dict(db.execute(select(Customer.id, Customer.name)
                               .where(Customer.id.in_(list(set(ids))), scope.customers(user))).all())

    return Lookup(find=find, names_of=names_of, suggest=request.url_for("customer_suggest").path)


def customer_names(request: Request, typed: str) -> list[str]:
    """The names of visible customers containing ``typed``, for a field's suggestions."""
    if not typed:
        return []
    return list(request.state.db.scalars(
        select(Customer.name).where(Customer.name.contains(typed, autoescape=True),
                                    scope.customers(request.state.user))
        .order_by(Customer.name).limit(SUGGESTIONS)))
