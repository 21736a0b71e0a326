"""Addresses: full ones for people outside the page (links in e-mails,
links a customer opens, links in an export), and paths that must stay on
this site (where to go after signing in, a saved view, the page to go back to).

Behind a reverse proxy the request's own host may be an internal one
(``127.0.0.1:8000``), useless to a customer, so a site that names its
public address (``[site] public_url``) gets its links under that address.
"""

from __future__ import annotations

from starlette.requests import Request


def public_base(request: Request) -> str:
    """``[site] public_url`` without its trailing slash, else where this request came in."""
    configured = request.app.state.site.config.public_url
    return configured.rstrip("/") if configured else str(request.base_url).rstrip("/")


def local_path(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None: never another host's
    address, written out (``https://…``) or as a browser reads ``//host`` and ``/\\host``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def absolute_url(request: Request, name: str, /, **params) -> str:
    """The full address of the page called ``name``."""
    return public_base(request) + request.app.url_path_for(name, **params)
