"""The app's routes, found by their first path segment.

Starlette's router tries every route in turn. With the core pages, every
plugin's mount and the static folders that is about a hundred regular
expressions before a plugin's page is found, which costs more than a small
page itself. ``RouteTable`` is one route holding all of them: it looks the
request's first segment up in a dict and tries only the routes that can
match, in their original order, so the first route that matches still wins.
URLs are built from each route's path format, found once per name.
"""

from __future__ import annotations

from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Match, Mount, NoMatchFound, Route
from starlette.types import Receive, Scope, Send

#: where ``matches`` leaves the route that matched, for ``handle``
_MATCHED = "fuwu.route"


def _first_segment(path: str) -> str:
    return path.lstrip("/").split("/", 1)[0]


def _route_path(scope: Scope) -> str:
    """The path below the app's root path (what Starlette's routes match)."""
    path, root = scope["path"], scope.get("root_path", "")
    if root and path.startswith(root) and path != root and path[len(root)] == "/":
        return path[len(root):]
    return path


class RouteTable(BaseRoute):
    #: like an unnamed mount at the root, for code that walks nested routes
    path = ""

    def __init__(self, routes: list[BaseRoute]):
        self.routes = list(routes)
        self._fixed: dict[str, list[BaseRoute]] = {}
        # a route whose first segment is a parameter can match any request
        self._anywhere: list[tuple[int, BaseRoute]] = []
        fixed: dict[str, list[tuple[int, BaseRoute]]] = {}
        for i, route in enumerate(self.routes):
            segment = _first_segment(getattr(route, "path", "{}"))
            if "{" in segment:
                self._anywhere.append((i, route))
            else:
                fixed.setdefault(segment, []).append((i, route))
        for segment, candidates in fixed.items():
            self._fixed[segment] = [r for _i, r in sorted(candidates + self._anywhere, key=lambda c: c[0])]
        self._rest = [r for _i, r in self._anywhere]
        #: name -> (the route, the path it is mounted under), or None when no
        #: plain route has that name (a mount's own name, static files)
        self._found: dict[str, tuple[Route, str] | None] = {}
        self._served: dict[str, BaseRoute] = {}

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        candidates = self._fixed.get(_first_segment(_route_path(scope)), self._rest)
        partial: tuple[Match, Scope] | None = None
        for route in candidates:
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                return match, {**child_scope, _MATCHED: route}
            if match is Match.PARTIAL and partial is None:
                partial = (match, {**child_scope, _MATCHED: route})
        return partial or (Match.NONE, {})

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = scope["route"] = scope.pop(_MATCHED)
        await route.handle(scope, receive, send)

    def route(self, name: str) -> tuple[Route, str] | None:
        """The route named ``name`` and the path it is mounted under, found once per name."""
        try:
            return self._found[name]
        except KeyError:
            found = self._found[name] = find_route(self.routes, name)
            return found

    def _built(self, name: str) -> tuple[str, dict] | None:
        """(path format from the root, parameter convertors) of ``name``, or
        None when Starlette must build it."""
        found = self.route(name)
        if found is None:
            return None
        route, mounted_at = found
        return mounted_at + route.path_format, route.param_convertors

    def build_path(self, name: str, path_params: dict) -> str | None:
        """The path of the route named ``name``, or None when only Starlette
        can build it (see ``url_path_for``)."""
        built = self._built(name)
        if built is None or built[1].keys() != path_params.keys():
            return None
        path, convertors = built
        for key, value in path_params.items():
            path = path.replace("{" + key + "}", convertors[key].to_string(value))
        return path

    def path_prefix(self, name: str) -> str | None:
        """What the path of ``name`` starts with before its only parameter,
        which ends it (``/customers/`` of ``/customers/{customer_id}``), or
        None for any other route."""
        built = self._built(name)
        if built is None or len(built[1]) != 1 or not built[0].endswith("}"):
            return None
        return built[0][:built[0].index("{")]

    def url_path_for(self, name: str, /, **path_params) -> URLPath:
        path = self.build_path(name, path_params)
        if path is not None:
            return URLPath(path=path, protocol="http")
        # mounts, static files, or parameters that do not fit: Starlette
        # decides, starting with the route that served this name before
        known = self._served.get(name)
        for route in ([known] if known is not None else []) + self.routes:
            try:
                path = route.url_path_for(name, **path_params)
            except NoMatchFound:
                continue
            self._served[name] = route
            return path
        raise NoMatchFound(name, path_params)

    def __repr__(self) -> str:
        mounts = sum(isinstance(r, Mount) for r in self.routes)
        return f"RouteTable({len(self.routes)} routes, {mounts} mounts)"


def find_route(routes, name: str, prefix: str = "") -> tuple[Route, str] | None:
    """The first route named ``name`` and the path it is mounted under (mount
    names prefix their routes' names: ``plugin:page``), or None."""
    for route in routes:
        if isinstance(route, Route):
            if route.name == name:
                return route, prefix
        elif getattr(route, "routes", None):  # a mount, or a RouteTable: an unnamed mount at the root
            mount_name = getattr(route, "name", None)
            if mount_name is None:
                found = find_route(route.routes, name, prefix + route.path)
            elif name.startswith(mount_name + ":"):
                found = find_route(route.routes, name[len(mount_name) + 1:], prefix + route.path)
            else:
                continue
            if found is not None:
                return found
    return None
