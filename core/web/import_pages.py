"""The pages of an import from a CSV or XLSX file: upload (a dry run), the
empty template to fill in, and the confirmation that writes every row or
none. Core's customer and staff imports and serial_keys' installed base use
it; a plugin describes its import once and routes its three permission-checked
endpoints, each behind the import's permission::

    PAGES = ImportPages(kind="hotline", route="hotline:import", list_route="hotline:list",
                        template="hotline/import.html", title=_l("Import calls"), sheet=_l("Calls"),
                        columns=COLUMNS, required=REQUIRED, check=check, apply=apply)

    @hookimpl
    def register_routes():
        return [*PAGES.routes("/import", "hotline.call.import", name="import"), ...]

Its routes are named ``route``, ``route + "_template"`` and ``route + "_confirm"``
(``name`` is ``route`` without a plugin's prefix, which mounting adds); its
template extends ``core/import_page.html``.
The file itself is read by ``fuwu.importing``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import importing
from ..errors import NotFound
from ..i18n import gettext as _
from .endpoint import requires
from .export import export_response
from .forms import record_id
from .shell import flash_redirect

#: rows shown by a dry run
PREVIEW_ROWS = 50


def site_limits(request: Request) -> dict:
    """The site's limits of an import (``core.import_max_kb``, ``core.import_max_rows``)."""
    settings, db = request.app.state.site.settings, request.state.db
    return {"max_bytes": settings.get("core.import_max_kb", db) * 1024,
            "max_rows": settings.get("core.import_max_rows", db)}


def updating(request: Request) -> bool:
    """Whether the upload (and then its confirmation) asked to update the
    records that already exist (the ``update_existing`` box of the page)."""
    form = getattr(request.state, "form", None)
    return bool(form and form.get("update_existing"))


@dataclass(frozen=True)
class ImportPages:
    #: ``ImportFile.kind`` of its held files
    kind: str
    #: the upload page's route name; the others add ``_template`` and ``_confirm``
    route: str
    #: where a finished import goes (a route name)
    list_route: str
    template: str
    title: object
    #: the empty template's sheet name
    sheet: object
    columns: importing.Columns
    required: tuple
    #: ``check(request, file_name, content) -> importing.Result``: every row checked
    check: Callable[[Request, str, bytes], importing.Result]
    #: ``apply(request, result, file_name) -> message``: write the rows, say what was done
    apply: Callable[[Request, importing.Result, str], str]
    limits: Callable[[Request], dict] = site_limits
    #: ``preview(request, rows) -> rows`` as the template shows them
    preview: Callable[[Request, list], list] = field(default=lambda request, rows: rows)
    #: more for the template: ``context(request) -> dict``
    context: Callable[[Request], dict] = field(default=lambda request: {})

    def routes(self, path: str, permission: str, *, name: str | None = None) -> list[Route]:
        """The upload page at ``path``, its template and its confirmation, behind ``permission``."""
        name = name or self.route
        guard = requires(permission)
        return [Route(path, guard(self.upload), methods=["GET", "POST"], name=name),
                Route(path + "/template", guard(self.template_file), name=name + "_template"),
                Route(path + "/{file_id:int}", guard(self.confirm), methods=["POST"], name=name + "_confirm")]

    def page(self, request: Request, status: int = 200, *, result: importing.Result | None = None,
             **context) -> Response:
        url = lambda name, **params: request.url_for(name, **params).path  # noqa: E731
        rows = result.rows[:PREVIEW_ROWS] if result is not None else []
        return request.app.state.templates.render(
            request, self.template,
            {"columns": self.columns, "required": self.required, "result": result, "batch": None,
             "preview": self.preview(request, rows), "max_kb": self.limits(request)["max_bytes"] // 1024,
             "upload_url": url(self.route), "template_url": url(self.route + "_template"),
             "confirm_url": lambda file_id: url(self.route + "_confirm", file_id=file_id),
             "title": str(self.title), **self.context(request), **context},
            status=status)

    def upload(self, request: Request) -> Response:
        """GET: the page; POST: the dry run of an uploaded file, kept for its confirmation if it passed."""
        if request.method == "GET":
            return self.page(request)
        upload = importing.upload_of(request.state.form, self.limits(request)["max_bytes"])
        if upload is None:
            return self.page(request, 422, error=_("Choose a file."))
        file_name, content = upload
        result = self.check(request, file_name, content)
        batch = None
        if result.ok:
            batch = importing.hold(request.state.db, self.kind, request.state.user, file_name, content,
                                   len(result.rows))
        return self.page(request, 200 if result.ok else 422, result=result, batch=batch)

    def template_file(self, request: Request) -> Response:
        """An empty sheet with the header row in the reader's language (the import reads it back)."""
        return export_response(request.query_params.get("format", "xlsx"), str(self.sheet),
                               [label for label, _names in self.columns.values()], [])

    def confirm(self, request: Request) -> Response:
        """Write the rows of the uploader's own held file, checked again: the
        database may have changed since the dry run."""
        db = request.state.db
        batch = importing.held(db, self.kind, request.state.user, record_id(request.path_params["file_id"]))
        if batch is None:
            raise NotFound()
        result = self.check(request, batch.file_name, batch.content)
        if not result.ok:
            return self.page(request, 422, result=result)
        message = self.apply(request, result, batch.file_name)
        importing.imported(batch, datetime.now(UTC))
        return flash_redirect(request, request.url_for(self.list_route).path, message)
