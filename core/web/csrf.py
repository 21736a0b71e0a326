"""CSRF tokens for every unsafe request, sign-in included.

Signed-in users: the token is derived from their session (``sessions.csrf_token``).
Before sign-in there is no session, so the login form uses a double-submit
token: a random value in a cookie, HMAC-signed with the site secret, and the
same value in the form. htmx sends the token in the ``X-CSRF-Token`` header
(``themes/default/static/fuwu.js`` reads it from a ``<meta>`` tag).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request

FORM_FIELD = "csrf_token"
HEADER = "x-csrf-token"
LOGIN_COOKIE = "fuwu_login_csrf"


def _sign(secret: str, value: str) -> str:
    return hmac.new(secret.encode(), b"login:" + value.encode(), hashlib.sha256).hexdigest()


def new_login_token(secret: str) -> tuple[str, str]:
    """(form value, cookie value) for an anonymous form."""
    value = secrets.token_urlsafe(24)
    return value, f"{value}.{_sign(secret, value)}"


def login_csrf_ok(request: Request, sent: str) -> bool:
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    value, _, signature = cookie.partition(".")
    secret = request.app.state.site.config.secret_key
    if not value or not hmac.compare_digest(signature, _sign(secret, value)):
        return False
    return hmac.compare_digest(value, sent)


def token_for(request: Request) -> str:
    """The token to put in forms rendered for this request."""
    signed_in = getattr(request.state, "csrf_token", None)
    if signed_in:
        return signed_in
    token = getattr(request.state, "login_csrf", None)
    if token is None:
        token, cookie = new_login_token(request.app.state.site.config.secret_key)
        request.state.login_csrf = token
        request.state.login_csrf_cookie = cookie
    return token
