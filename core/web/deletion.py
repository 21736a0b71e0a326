"""Deleting a record made by mistake (a department, a position, a role):
allowed only while nothing uses it; otherwise 409, naming what does."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from .. import references
from ..db import Model
from ..errors import FuwuError
from ..i18n import aside, listed
from ..i18n import lazy_gettext as _l
from .pages.audit_log import record_types
from .shell import flash_redirect


class InUse(FuwuError):
    status = 409
    default_message = _l("%(name)s cannot be deleted while it is in use: %(uses)s.")


def uses_named(request: Request, record: Model, *, owned_too: bool = False) -> list[tuple[str, int]]:
    """(what people call a kind of record, rows) of the rows pointing at
    ``record`` (``fuwu.references.uses``), by name."""
    types = record_types(request)
    named = []
    for table_name, rows in references.uses(request.state.db, record, owned_too=owned_too).items():
        shown = references.far_end(table_name, record.__tablename__)
        named.append((types[shown].label if shown in types else shown, rows))
    return sorted(named)


def in_use(request: Request, record: Model) -> str:
    """What uses ``record``, for people ("Staff member (3) and Customer (12)"),
    or "" when nothing does and it may be deleted."""
    return listed(aside(label, rows) for label, rows in uses_named(request, record))


def delete_unused(request: Request, record: Model, name: str, *, then: str, message) -> Response:
    """Delete ``record`` (named ``name``) and go to ``then`` with ``message``,
    or refuse with 409 if anything still points at it."""
    uses = in_use(request, record)
    if uses:
        raise InUse(name=name, uses=uses)
    db = request.state.db
    db.delete(record)
    db.flush()
    return flash_redirect(request, then, message)
