"""The web application at ``/``: the files ``npm run build`` writes to ``web/dist``, and
its index for every client route (``/search``, ``/records/42`` …), so a reloaded or shared
address opens the same screen. Hashed assets are cached for a year; the index never is.

Public surface: :func:`mount_web`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

NOT_BUILT = """<!doctype html><html lang="zh-CN"><meta charset="utf-8">
<title>客户档案管理系统</title><h1>网页应用尚未构建</h1>
<p>The web application has not been built: run <code>scripts/serve.sh</code>
(or <code>npm ci &amp;&amp; npm run build</code> in <code>web/</code>). The API is at
<a href="/docs">/docs</a>.</p></html>"""


def mount_web(app: FastAPI, dist: Path, *, reserved: tuple[str, ...]) -> None:
    """Serve ``dist`` at ``/``; paths under ``reserved`` (the API, its docs) are never
    answered with the index."""
    index = dist / "index.html"
    if (dist / "assets").is_dir():
        app.mount("/assets", _Immutable(directory=dist / "assets"), name="assets")

    @app.get("/{path:path}", include_in_schema=False)
    def page(path: str, request: Request) -> Response:
        if ("/" + path).startswith(reserved):
            return _not_found()
        if not index.is_file():
            return HTMLResponse(NOT_BUILT, status_code=503)
        file = (dist / path).resolve()
        if path and file.is_file() and file.is_relative_to(dist.resolve()):
            return FileResponse(file)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})


def _not_found() -> Response:
    from archive.middleware import error_response

    return error_response(404, "not_found", "Not Found")


class _Immutable(StaticFiles):
    async def get_response(self, path: str, scope):  # type: ignore[no-untyped-def]
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response
