"""Customer import pages (CORE-1): upload, dry run, confirm; an empty template to fill in."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ... import customer_import, importing
from ...errors import NotFound
from ...i18n import gettext as _
from ...models import ACCOUNT_TYPES
from ..endpoint import requires
from ..export import export_response
from ..forms import record_id
from ..shell import flash_redirect
from .customers import customer_form

PERMISSION = "core.customer.import"


def _limits(request: Request) -> dict:
    settings, db = request.app.state.site.settings, request.state.db
    return {"max_bytes": settings.get("core.import_max_kb", db) * 1024,
            "max_rows": settings.get("core.import_max_rows", db)}


def _check(request: Request, file_name: str, content: bytes) -> importing.Result:
    user = request.state.user
    return customer_import.validate(
        request.state.db, user, file_name, content, fields={f.name: f for f in customer_form(request.state.db).fields},
        sees_all=user.is_admin or user.can("core.customer.view_all"), **_limits(request))


def _page(request: Request, status: int = 200, **context) -> Response:
    return request.app.state.templates.render(
        request, "core/customers/import.html",
        {"columns": customer_import.COLUMNS, "required": customer_import.REQUIRED, "result": None, "batch": None,
         "max_kb": request.app.state.site.settings.get("core.import_max_kb", request.state.db),
         "upload_url": request.url_for("customer_import").path,
         "template_url": request.url_for("customer_import_template").path,
         "confirm_url": lambda file_id: request.url_for("customer_import_confirm", file_id=file_id).path,
         "account_types": ACCOUNT_TYPES, "title": _("Import customers"), **context}, status=status)


@requires(PERMISSION)
def import_page(request: Request) -> Response:
    if request.method == "GET":
        return _page(request)
    upload = importing.upload_of(request.state.form, _limits(request)["max_bytes"])
    if upload is None:
        return _page(request, 422, error=_("Choose a file."))
    file_name, content = upload
    result = _check(request, file_name, content)
    batch = None
    if result.ok:  # the dry run passed: the file waits for the confirmation
        batch = importing.hold(request.state.db, customer_import.KIND, request.state.user, file_name, content,
                               len(result.rows))
    return _page(request, 200 if result.ok else 422, result=result, batch=batch, preview=result.rows[:50])


@requires(PERMISSION)
def import_template(request: Request) -> Response:
    """An empty sheet with the header row in the reader's language (the import reads it back)."""
    return export_response(request.query_params.get("format", "xlsx"), _("Customers"),
                           [label for label, _names in customer_import.COLUMNS.values()], [])


@requires(PERMISSION)
def import_confirm(request: Request) -> Response:
    db = request.state.db
    batch = importing.held(db, customer_import.KIND, request.state.user, record_id(request.path_params["file_id"]))
    if batch is None:
        raise NotFound()
    # checked again: someone may have added one of these names since the dry run
    result = _check(request, batch.file_name, batch.content)
    if not result.ok:
        return _page(request, 422, result=result)
    customers = customer_import.apply(db, result, request.state.user, batch.file_name)
    importing.imported(batch, datetime.now(UTC))
    return flash_redirect(request, request.url_for("customers").path,
                          _("%(n)s customers imported from %(file)s.", n=len(customers), file=batch.file_name))


def routes() -> list:
    return [
        Route("/customers/import", import_page, methods=["GET", "POST"], name="customer_import"),
        Route("/customers/import/template", import_template, name="customer_import_template"),
        Route("/customers/import/{file_id:int}", import_confirm, methods=["POST"], name="customer_import_confirm"),
    ]
