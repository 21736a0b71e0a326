"""Customer import pages (CORE-1): upload, dry run, confirm; an empty template to fill in."""

from __future__ import annotations

from starlette.requests import Request

from ... import customer_import, importing
from ...i18n import gettext as _
from ...i18n import lazy_gettext as _l
from ...models import ACCOUNT_TYPES
from ..import_pages import ImportPages, site_limits, updating
from .customers import customer_form

PERMISSION = "core.customer.import"


def _check(request: Request, file_name: str, content: bytes) -> importing.Result:
    user = request.state.user
    return customer_import.validate(
        request.state.db, user, file_name, content, fields={f.name: f for f in customer_form(request.state.db).fields},
        sees_all=user.is_admin or user.can("core.customer.view_all"), update=updating(request), **site_limits(request))


def _apply(request: Request, result: importing.Result, file_name: str) -> str:
    created, updated = customer_import.apply(request.state.db, result, request.state.user, file_name)
    if not updated:
        return _("%(n)s customers imported from %(file)s.", n=len(created), file=file_name)
    return _("%(n)s customers imported and %(m)s updated from %(file)s.", n=len(created), m=len(updated),
             file=file_name)


PAGES = ImportPages(
    kind=customer_import.KIND, route="customer_import", list_route="customers",
    template="core/customers/import.html", title=_l("Import customers"), sheet=_l("Customers"),
    columns=customer_import.COLUMNS, required=customer_import.REQUIRED, check=_check, apply=_apply,
    context=lambda request: {"account_types": ACCOUNT_TYPES, "update_existing": updating(request)})


def routes() -> list:
    return PAGES.routes("/customers/import", PERMISSION)
