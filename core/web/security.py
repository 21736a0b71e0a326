"""Security headers, request ids and body-size limits, as one ASGI middleware.

Pure ASGI (not BaseHTTPMiddleware) so it costs almost nothing per request.
"""

from __future__ import annotations

import uuid

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'self'; "
       "frame-ancestors 'none'; object-src 'none'")

HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class SecurityMiddleware:
    def __init__(self, app, *, https: bool = False, max_body: int = 20 * 1024 * 1024):
        self.app = app
        self.https = https
        self.max_body = max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request_id = uuid.uuid4().hex[:12]
        scope.setdefault("state", {})["request_id"] = request_id
        extra = [*HEADERS, (b"x-request-id", request_id.encode())]
        if self.https:
            extra.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

        started = False

        async def send_with_headers(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in extra if k not in present]
                message["headers"] = headers
            await send(message)

        try:
            return await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            # Starlette answers unhandled errors outside every middleware, so
            # its 500 page would lack these headers: answer here instead, then
            # let the error travel on to the server's log.
            if started:
                raise
            from starlette.requests import Request

            from .errors import server_error

            response = await server_error(Request(scope, receive), exc)
            scope["state"]["fuwu_error_answered"] = True
            await response(scope, receive, send_with_headers)
            raise
