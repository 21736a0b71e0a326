"""Route audit: every page declares the permission it needs; the public ones are a short, known list."""

from fuwu.web.app import create_app, route_permissions
from fuwu.web.endpoint import AUTHENTICATED

#: (path, why) of every page anyone may open; anything else must name a permission
PUBLIC = {
    "/login",  # the sign-in form and its POST
    "/language",  # choosing a language works before sign-in
    "/password/forgot",  # "forgot your password?" on the sign-in page: a link by e-mail
    "/login/code",  # sign-in's second step: the authenticator code after the password
    "/login/setup",  # sign-in's second step where the site requires it and it is not set up yet
}
STATIC_PREFIX = "/static/"
SIGNED_LINK = "/l/{token}"


def audit(app):
    routes = route_permissions(app)
    unprotected = [(path, permission, reason) for path, permission, reason in routes
                   if permission is None and reason is None]
    public = sorted(path for path, permission, reason in routes if permission is None and reason is not None)
    used = {permission for _path, permission, _reason in routes if permission is not None}
    return routes, unprotected, public, used


def expected_public(public: list[str]) -> list[str]:
    expected = ["/login", "/login", "/login/code", "/login/setup", "/language", "/password/forgot"]
    expected += [p for p in public if p.startswith(STATIC_PREFIX)]
    if SIGNED_LINK in public:
        expected.append(SIGNED_LINK)
    return sorted(expected)


def test_every_core_route_declares_a_permission(site):
    app = create_app(site)
    routes, unprotected, public, used = audit(app)
    assert len(routes) > 20
    assert unprotected == [], f"routes without @requires or @public: {unprotected}"
    assert public == expected_public(public)
    assert "/static/theme" in public
    assert sum(1 for path, p, _r in routes if p is not None and path == "/login") == 0
    unknown = sorted(p for p in used if p != AUTHENTICATED and p not in site.permissions)
    assert unknown == [], f"routes require permissions nobody can be granted: {unknown}"
    # the pages of this area are protected by the settings permission
    by_path = {path: p for path, p, _r in routes}
    for path in ("/settings", "/settings/{key}", "/settings/{key}/reset", "/calendar", "/calendar/days",
                 "/calendar/days/{day_id:int}/delete", "/calendar/days/{day_id:int}/official"):
        assert by_path[path] == "core.settings.manage", path


PLUGIN = """
from starlette.routing import Route
from fuwu import Permission
from fuwu.i18n import lazy_gettext as _l
from fuwu.web.endpoint import requires

@requires("gadget.thing.view")
def things(request):
    raise NotImplementedError

def naked(request):
    raise NotImplementedError

@hookimpl
def register_permissions():
    return [Permission("gadget.thing.view", _l("View things"))]

@hookimpl
def register_routes():
    return [Route("/things", things, name="gadget:things"), Route("/naked", naked, name="gadget:naked")]
"""


def test_plugin_routes_are_audited_too(make_site, make_plugin, thirdparty_path):
    make_plugin("gadget", plugin=PLUGIN)
    site = make_site(["gadget", "hotline"])
    routes, unprotected, public, used = audit(create_app(site))
    # the audit sees into plugin mounts: the undecorated route is caught, the decorated one passes
    assert unprotected == [("/gadget/naked", None, None)]
    assert ("/gadget/things", "gadget.thing.view", None) in routes
    assert "gadget.thing.view" in site.permissions
    assert public == expected_public(public)


#: public pages of the built-in plugins, each with the reason it needs no sign-in
PLUGIN_PUBLIC = {
    "/serial_keys/api/lookup",  # other systems: authorised by an API token an admin issues
}


def test_every_builtin_plugin_route_declares_a_permission(make_site):
    from fuwu.plugins import available

    builtin = [a.name for a in available() if a.distribution == "fuwu" and a.plugin]
    site = make_site(builtin)
    routes, unprotected, public, used = audit(create_app(site))
    assert unprotected == [], f"routes without @requires or @public: {unprotected}"
    assert sorted(p for p in public if p not in PLUGIN_PUBLIC) == expected_public(public)
    unknown = sorted(p for p in used if p != AUTHENTICATED and p not in site.permissions)
    assert unknown == [], f"routes require permissions nobody can be granted: {unknown}"
    for name in builtin:
        assert any(path.startswith(f"/{name}/") for path, _p, _r in routes), f"{name} has no pages"
