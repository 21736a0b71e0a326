"""Staff import pages: upload, dry run, confirm (optionally e-mailing each new
account a link to set its password); an empty template to fill in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ... import i18n, importing, staff_import
from ...errors import NotFound
from ...i18n import gettext as _
from ..endpoint import requires
from ..export import export_response
from ..forms import record_id
from ..shell import flash_redirect
from ..templating import translate
from . import password_reset
from .organisation import position_label, staff_form

PERMISSION = "core.staff.edit"


def _limits(request: Request) -> dict:
    settings, db = request.app.state.site.settings, request.state.db
    return {"max_bytes": settings.get("core.import_max_kb", db) * 1024,
            "max_rows": settings.get("core.import_max_rows", db)}


def _every_language(request: Request, label):
    """``label(thing)`` in each language of the site, as any reader may have typed it."""
    catalogs = request.app.state.site.catalogs

    def labels(thing) -> set[str]:
        found = set()
        for language in i18n.LANGUAGES:
            with i18n.use_language(catalogs, language):
                found.add(label(thing))
        return found

    return labels


def _check(request: Request, file_name: str, content: bytes) -> importing.Result:
    return staff_import.validate(
        request.state.db, file_name, content, fields={f.name: f for f in staff_form(request).fields},
        manages_accounts=request.state.user.can("core.role.manage"),
        position_labels=_every_language(request, position_label),
        role_labels=_every_language(request, lambda role: translate(role.name)), **_limits(request))


def _page(request: Request, status: int = 200, *, result: importing.Result | None = None, **context) -> Response:
    preview = [{**r, "role_names": i18n.listed(translate(role.name) for role in r["roles"])}
               for r in (result.rows[:50] if result else [])]
    return request.app.state.templates.render(
        request, "core/staff/import.html",
        {"columns": staff_import.COLUMNS, "required": staff_import.REQUIRED, "result": result, "batch": None,
         "preview": preview, "max_kb": request.app.state.site.settings.get("core.import_max_kb", request.state.db),
         "upload_url": request.url_for("staff_import").path,
         "template_url": request.url_for("staff_import_template").path,
         "confirm_url": lambda file_id: request.url_for("staff_import_confirm", file_id=file_id).path,
         "manages_accounts": request.state.user.can("core.role.manage"), "position_label": position_label,
         "title": _("Import staff"), **context},
        status=status)


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
        batch = importing.hold(request.state.db, staff_import.KIND, request.state.user, file_name, content,
                               len(result.rows))
    return _page(request, 200 if result.ok else 422, result=result, batch=batch)


@requires(PERMISSION)
def import_template(request: Request) -> Response:
    """An empty sheet with the header row in the reader's language (the import reads it back)."""
    return export_response(request.query_params.get("format", "xlsx"), _("Staff"),
                           [label for label, _names in staff_import.COLUMNS.values()], [])


@requires(PERMISSION)
def import_confirm(request: Request) -> Response:
    db = request.state.db
    batch = importing.held(db, staff_import.KIND, request.state.user, record_id(request.path_params["file_id"]))
    if batch is None:
        raise NotFound()
    # checked again: someone may have taken one of these numbers or usernames since the dry run
    result = _check(request, batch.file_name, batch.content)
    if not result.ok:
        return _page(request, 422, result=result)
    people = staff_import.apply(db, result)
    importing.imported(batch, datetime.now(UTC))
    mailed = 0
    if request.state.form.get("send_links") and request.state.user.can("core.role.manage"):
        days = request.app.state.site.settings.get("core.link_valid_days", db)
        for person in people:
            if person.username and person.email:
                password_reset.issue(request, person, timedelta(days=days), created_by_id=request.state.user.id)
                mailed += 1
    message = _("%(n)s staff imported from %(file)s.", n=len(people), file=batch.file_name)
    if mailed:
        message += " " + _("%(n)s of them were e-mailed a link to set their password.", n=mailed)
    return flash_redirect(request, request.url_for("staff").path, message)


def routes() -> list:
    return [
        Route("/staff/import", import_page, methods=["GET", "POST"], name="staff_import"),
        Route("/staff/import/template", import_template, name="staff_import_template"),
        Route("/staff/import/{file_id:int}", import_confirm, methods=["POST"], name="staff_import_confirm"),
    ]
