"""The app factory: a Starlette app for one site and its enabled plugins.

Core pages are mounted at the root, each plugin's routes under ``/<plugin>/``,
static files under ``/static/theme/`` and ``/static/<plugin>/``. Nothing is
kept at module level: two apps in one process share nothing.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..attachments import owners as file_owners
from ..config import Config
from ..links import purposes as link_purposes
from ..site import Site
from . import errors
from .routing import RouteTable
from .security import SecurityMiddleware
from .templating import Templates, theme_dir


def core_routes() -> list:
    from .pages import (
        attachments, audit_log, auth, calendar_admin, contracts, customer_contacts, customer_import, customer_upkeep, customers,
        dashboard, first_visits, follow_ups, links,
        notifications, organisation, password_reset, products, profile, roles, saved_views, search, settings_admin,
        sign_ins, staff_import, two_factor, waiting,
    )

    routes: list = []
    for module in (dashboard, auth, profile, customers, customer_contacts, customer_upkeep, customer_import, contracts,
                   attachments, products, first_visits, follow_ups, staff_import,
                   organisation, roles, settings_admin, calendar_admin, notifications, links, password_reset, two_factor,
                   waiting, audit_log, sign_ins, search, saved_views):
        routes += module.routes()
    return routes


def create_app(config: Config | Site) -> Starlette:
    """Build the web app for ``config`` (or an already built ``Site``)."""
    site = config if isinstance(config, Site) else Site(config)
    # what plugins declare for pages is checked now: a conflict stops start-up, it does not fail a page
    link_purposes(site)
    file_owners(site)
    routes = core_routes()
    routes.append(Mount("/static/theme", StaticFiles(directory=theme_dir(site.config.theme) / "static"),
                        name="theme_static"))
    if site.config.theme != "default":
        routes.append(Mount("/static/default", StaticFiles(directory=theme_dir("default") / "static"),
                            name="default_static"))
    for plugin, folder in site.plugins.folders("static_dirs"):
        if folder and Path(folder).is_dir():
            routes.append(Mount(f"/static/{plugin}", StaticFiles(directory=folder), name=f"{plugin}_static"))
    for plugin, plugin_routes in site.plugins.collect_by_plugin("register_routes"):
        if plugin != "core" and plugin_routes:
            routes.append(Mount(f"/{plugin}", routes=list(plugin_routes), name=plugin))
    app = Starlette(
        routes=[RouteTable(routes)],
        exception_handlers={HTTPException: errors.http_exception, Exception: errors.server_error},
        middleware=[],
    )
    app.state.site = site
    app.state.templates = Templates(site)
    app.state.menus = {}  # shell.menu: navigation per language and grants
    app.add_middleware(SecurityMiddleware, https=site.config.https, max_body=site.config.max_upload_bytes)
    return app


def app_from_env() -> Starlette:
    """uvicorn factory for ``fuwu serve``: the site in $FUWU_HOME."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return create_app(Config.load(os.environ.get("FUWU_HOME")))


def route_permissions(app: Starlette) -> list[tuple[str, str | None, str | None]]:
    """``(path, permission, public reason)`` for every endpoint, for the audit test."""
    result = []

    def walk(routes, prefix=""):
        for route in routes:
            if isinstance(route, RouteTable):
                walk(route.routes, prefix)
            elif isinstance(route, Mount):
                if isinstance(route.app, StaticFiles):
                    result.append((prefix + route.path, None, "static files"))
                else:
                    walk(route.routes, prefix + route.path)
            elif isinstance(route, Route):
                endpoint = route.endpoint
                result.append((prefix + route.path, getattr(endpoint, "__fuwu_permission__", None),
                               getattr(endpoint, "__fuwu_public__", None)))

    walk(app.routes)
    return result
