"""Saved views (``fuwu.saved_views``): save the list page one is on under a
name, share it with one's department or everyone, find it on the dashboard
and under /views, rename it, delete it.

Only the person who saved a view changes or deletes it (another's id is 404);
those it is shared with open it, and the page checks their permissions.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ...errors import NotFound
from ...i18n import gettext as _
from ...i18n import lazy_gettext as _l
from ...saved_views import MAX_VIEWS, SHARING, SavedView, clean_query, shared_with, views_of
from ..endpoint import AUTHENTICATED, requires
from ..forms import Field, Form, taken
from ..shell import flash_redirect
from ..templating import root_path
from ..urls import local_path


def view_form() -> Form:
    return Form([Field("name", _l("Name of the view"), required=True, max_length=100),
                 # not given: only me
                 Field("shared", _l("Who sees it"), kind="choice", choices=SHARING.items())])


def _check_name(db, form: Form, user, view_id: int | None = None) -> None:
    if "name" not in form.errors and taken(db, SavedView, SavedView.staff_id == user.id,
                                           SavedView.name == form.values["name"], other_than=view_id):
        form.error("name", _l("You already have a view of this name."))


def _page_of(request: Request, path: str) -> str | None:
    """``path`` if it is a page of this app (a path under its root, never
    another site's address), else None."""
    parts = urlsplit(path)
    local = None if parts.scheme or parts.netloc else local_path(parts.path)
    if local is None or not local.startswith(root_path(request) + "/") or len(local) > 300:
        return None
    return local


@requires(AUTHENTICATED)
def view_list(request: Request) -> Response:
    db, user = request.state.db, request.state.user
    return request.app.state.templates.render(
        request, "core/views/list.html",
        {"views": views_of(db, user.id), "shared": shared_with(db, user), "sharing": SHARING,
         "title": _("My saved views")})


@requires(AUTHENTICATED)
def view_new(request: Request) -> Response:
    """Reached from a list page's "Save this view" with its path and query."""
    db, user = request.state.db, request.state.user
    source = request.query_params if request.method == "GET" else request.state.form
    path = _page_of(request, str(source.get("path", "")))
    if path is None:
        raise NotFound()
    query = clean_query(str(source.get("query", "")))[:2000]
    form = view_form()
    if request.method == "GET":
        form.fill(None, name="", shared="me")
    else:
        form.load(request.state.form)
        _check_name(db, form, user)
        if not form.errors and db.scalar(select(func.count()).select_from(SavedView)
                                         .where(SavedView.staff_id == user.id)) >= MAX_VIEWS:
            form.error("name", _l("You keep %(n)s views already: delete one first.", n=MAX_VIEWS))
        if not form.errors:
            view = SavedView(staff_id=user.id, name=form.values["name"], path=path, query=query,
                             shared=form.values["shared"] or "me")
            db.add(view)
            return flash_redirect(request, view.url, _("View %(name)s saved.", name=view.name))
    return request.app.state.templates.render(
        request, "core/views/new.html",
        {"form": form, "path": path, "query": query, "title": _("Save this view")},
        status=422 if form.errors else 200)


def _own_view(request: Request) -> SavedView:
    view = request.state.db.scalar(select(SavedView).where(SavedView.id == request.path_params["view_id"],
                                                           SavedView.staff_id == request.state.user.id))
    if view is None:
        raise NotFound()
    return view


def _render_edit(request: Request, form: Form, view: SavedView, *, status: int = 200,
                 conflict: SavedView | None = None) -> Response:
    return request.app.state.templates.render(
        request, "core/views/edit.html",
        {"form": form, "view": view, "conflict": conflict, "sharing": SHARING,
         "title": _("View %(name)s", name=view.name)}, status=status)


@requires(AUTHENTICATED)
def view_edit(request: Request) -> Response:
    """Rename a view or change who sees it."""
    view = _own_view(request)
    form = view_form()
    if request.method == "GET":
        return _render_edit(request, form.fill(view), view)
    form.load(request.state.form)
    if form.outdated(view, request.state.form):
        return _render_edit(request, form, view, status=409, conflict=view)
    _check_name(request.state.db, form, request.state.user, view.id)
    if form.errors:
        return _render_edit(request, form, view, status=422)
    view.name, view.shared = form.values["name"], form.values["shared"] or "me"
    return flash_redirect(request, request.url_for("views").path, _("Changes saved."))


@requires(AUTHENTICATED)
def view_delete(request: Request) -> Response:
    db = request.state.db
    view = _own_view(request)
    db.delete(view)
    return flash_redirect(request, request.url_for("views").path, _("View %(name)s deleted.", name=view.name))


def routes() -> list:
    return [
        Route("/views", view_list, name="views"),
        Route("/views/new", view_new, methods=["GET", "POST"], name="view_new"),
        Route("/views/{view_id:int}/edit", view_edit, methods=["GET", "POST"], name="view_edit"),
        Route("/views/{view_id:int}/delete", view_delete, methods=["POST"], name="view_delete"),
    ]
