"""The reference console (`console/`, static files) served by the local stack at /console.

It is the local stack's own page, not an API Gateway route: the files are what a portal team copies, and the
console calls the public API on the same origin with the user's JWT.
"""

from __future__ import annotations

from werkzeug.exceptions import NotFound
from werkzeug.utils import redirect, send_from_directory
from werkzeug.wrappers import Request, Response

from local.runtime import ROOT

CONSOLE_DIR = ROOT / "console"
PREFIX = "/console"


def is_console_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def serve(request: Request) -> Response:
    """GET/HEAD a file under console/ (`/console/` → index.html); 404 for anything else, 405 for other methods."""
    if request.method not in ("GET", "HEAD"):
        return Response("Method Not Allowed", status=405, headers={"Allow": "GET, HEAD"})
    if request.path == PREFIX:
        return redirect(PREFIX + "/", code=308)  # relative module URLs resolve under /console/
    name = request.path[len(PREFIX) + 1 :] or "index.html"
    try:
        response = send_from_directory(CONSOLE_DIR, name, request.environ, max_age=0)
    except NotFound:
        return Response("Not Found", status=404, content_type="text/plain")
    response.headers["Cache-Control"] = "no-cache"
    return response
