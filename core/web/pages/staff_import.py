"""Staff import pages: upload, dry run, confirm (optionally e-mailing each new
account a link to set its password); an empty template to fill in."""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request

from ... import i18n, importing, staff_import
from ...i18n import gettext as _
from ...i18n import lazy_gettext as _l
from ..import_pages import ImportPages, site_limits, updating
from ..templating import translate
from . import password_reset
from .organisation import position_label, staff_form

PERMISSION = "core.staff.edit"


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
        role_labels=_every_language(request, lambda role: translate(role.name)), update=updating(request),
        **site_limits(request))


def _apply(request: Request, result: importing.Result, file_name: str) -> str:
    people, updated = staff_import.apply(request.state.db, result)
    if updated:
        message = _("%(n)s staff imported and %(m)s updated from %(file)s.", n=len(people), m=len(updated),
                    file=file_name)
    else:
        message = _("%(n)s staff imported from %(file)s.", n=len(people), file=file_name)
    if request.state.form.get("send_links") and request.state.user.can("core.role.manage"):
        days = request.app.state.site.settings.get("core.link_valid_days", request.state.db)
        invited = [p for p in people if p.username and p.email]
        for person in invited:
            password_reset.issue(request, person, timedelta(days=days), created_by_id=request.state.user.id)
        if invited:
            message += " " + _("%(n)s of them were e-mailed a link to set their password.", n=len(invited))
    return message


def _preview(request: Request, rows: list) -> list:
    return [{**r, "role_names": i18n.listed(translate(role.name) for role in r["roles"])} for r in rows]


PAGES = ImportPages(
    kind=staff_import.KIND, route="staff_import", list_route="staff", template="core/staff/import.html",
    title=_l("Import staff"), sheet=_l("Staff"), columns=staff_import.COLUMNS, required=staff_import.REQUIRED,
    check=_check, apply=_apply, preview=_preview,
    context=lambda request: {"manages_accounts": request.state.user.can("core.role.manage"),
                             "position_label": position_label, "update_existing": updating(request)})


def routes() -> list:
    return PAGES.routes("/staff/import", PERMISSION)
