"""ASGI middleware around every request: the guard at the door (sizes and NUL characters,
before anything is parsed) and the security headers of every answer.

Public surface: :class:`RequestGuard`, :class:`SecurityHeaders`, :func:`security_headers`,
:func:`error_response`, :class:`RequestMetrics`.
"""

from __future__ import annotations

import time

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Bodies that are parsed whole (JSON, forms): far more than any field allows, far less
# than a flood needs.
MAX_BODY = 1024 * 1024


def error_response(status: int, code: str, detail: str, headers: dict[str, str] | None = None,
                   **extra: object) -> JSONResponse:
    """The one shape of every error answer: ``{"error": code, "detail": text, …}``."""
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse({"error": code, "detail": detail, **extra}, status_code=status,
                        headers=headers or None)


class RequestMetrics:
    """Counts every API request by method, route (its template: bounded labels; a path
    no route matched is ``unmatched``) and status, with its latency."""

    def __init__(self, app: ASGIApp, *, prefix: str) -> None:
        self.app, self.prefix = app, prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        from archive import metrics

        started, status = time.perf_counter(), [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", "")
            if not route or "{path:path}" in route:  # nothing, or only the web app's fallback
                route = "unmatched"
            metrics.observe_request(scope["method"], route, status[0],
                                    time.perf_counter() - started)


class RequestGuard:
    """Refuses, before the app reads them, requests that are too large (an upload whose
    length exceeds the upload limit; any other body beyond :data:`MAX_BODY`, by its
    length or as it streams in) and requests carrying a NUL character in their query or
    their JSON or form body (PostgreSQL stores no NUL; SQLite would keep one silently).
    Parsed bodies are read here, bounded, and handed on whole; uploads stream on, counted
    (the route reads them only once the caller's token and right to file are checked)."""

    def __init__(self, app: ASGIApp, *, upload_bytes: int, uploads: set[str]) -> None:
        self.app = app
        self.upload_bytes = upload_bytes
        self.uploads = uploads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = scope["method"] == "POST" and scope["path"] in self.uploads
        limit = self.upload_bytes if upload else MAX_BODY
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await _refuse(scope, receive, send, 413, "payload_too_large",
                          f"the request is larger than {limit} bytes")
            return
        query = scope.get("query_string", b"")
        if b"%00" in query.lower() or b"\x00" in query or "\x00" in scope["path"]:
            await _refuse(scope, receive, send, 422, "invalid_input",
                          "the request holds a NUL character")
            return
        if upload:  # read by the route once the caller may file; counted as it streams
            await self.app(scope, _counted(receive, limit), _closing(send))
            return
        body, too_large = await _read_body(receive, limit)
        if too_large:
            await _refuse(scope, receive, send, 413, "payload_too_large",
                          f"the request is larger than {limit} bytes")
            return
        if b"\x00" in body or b"\\u0000" in body or (
                b"%00" in body.lower()
                and headers.get(b"content-type", b"").startswith(b"application/x-www-form")):
            await _refuse(scope, receive, send, 422, "invalid_input",
                          "the request holds a NUL character")
            return
        await self.app(scope, _replay(body, receive), send)


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, code: str,
                  detail: str) -> None:
    await error_response(status, code, detail)(scope, receive, send)


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", True
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), False


def _closing(send: Send) -> Send:
    """An upload refused (401, 403, 413 …) closes its connection: the server would else
    read and drop the rest of a body that may never end."""

    async def closing(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] >= 400:
            MutableHeaders(scope=message)["Connection"] = "close"
        await send(message)

    return closing


def _counted(receive: Receive, limit: int) -> Receive:
    """The connection's messages, raising :class:`archive.errors.PayloadTooLarge` (a 413
    from the reader's handler) as soon as the body passes ``limit``, chunked or not."""
    from archive.errors import PayloadTooLarge

    size = 0

    async def counted() -> Message:
        nonlocal size
        message = await receive()
        size += len(message.get("body", b""))
        if size > limit:
            raise PayloadTooLarge(f"the request is larger than {limit} bytes")
        return message

    return counted


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body read already, then the connection's own messages (its disconnect), which
    a streaming answer listens for."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


# The web application: its own scripts, styles and workers only; nothing inline, no other
# origin (it serves intranets), no plugins, never framed.
APP_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' "
              "data: blob:; font-src 'self' data:; worker-src 'self'; connect-src 'self'; "
              "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# The API's own docs (Swagger UI and ReDoc write inline scripts of their own)
PAGE_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline'; "
               "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
               "worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'")


DOCS = ("/docs", "/redoc", "/openapi.json")


def security_headers(*, api: bool, docs: bool = False) -> dict[str, str]:
    """The headers every answer carries (an answer of the API: never cached either)."""
    headers = {
        "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        # pages (the web application, the API's docs) load only what this service serves
        "Content-Security-Policy": ("default-src 'none'; frame-ancestors 'none'" if api
                                    else PAGE_POLICY if docs else APP_POLICY),
    }
    if api:
        headers["Cache-Control"] = "no-store"
    return headers


class SecurityHeaders:
    """Headers on every response: no MIME sniffing, no framing by other sites, no
    referrer; answers of the API (content, personal data) are never cached. (An answer
    to an unexpected error is made outside this middleware: it sets them itself.)"""

    def __init__(self, app: ASGIApp, *, api_prefix: str) -> None:
        self.app = app
        self.api_prefix = api_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = scope["path"].startswith(self.api_prefix)
        docs = scope["path"].startswith(DOCS)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in security_headers(api=api, docs=docs).items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)
