"""`GET /docs`: the portal API's documentation page: Swagger UI over the generated OpenAPI document.

The document is the committed one (`docs/openapi.json`, generated from the code by `python -m local.openapi
--write`, which also writes the copy shipped in this package, `openapi.json`). Swagger UI's script and style are the
copies Powertools bundles (`aws_lambda_powertools/event_handler/openapi/swagger_ui/`), inlined in the page, so it
works with no CDN and no internet (a deployed stage, the offline local stack). `?format=json` answers the document
itself. Switched off with API_DOCS_ENABLED=false (404 `docs_disabled`)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

DOCUMENT = Path(__file__).with_name("openapi.json")


@cache
def document_text() -> str:
    """The OpenAPI document as JSON text (read once per container)."""
    return DOCUMENT.read_text(encoding="utf-8")


@cache
def page() -> str:
    """The Swagger UI page (HTML, ~1.7 MB: Swagger UI inlined) for the document."""
    import aws_lambda_powertools.event_handler.openapi.swagger_ui as bundled
    from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

    assets = Path(bundled.__file__).parent
    js = (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8")
    css = (assets / "swagger-ui.min.css").read_text(encoding="utf-8")
    spec = document_text().replace("</", "<\\/")  # never closes the page's <script> early
    html = generate_swagger_html(spec, js, css, "", None, False)
    # No favicon request (the API has no /favicon.ico: a 404 in the browser's console)
    title = '<title>ClickUp bridge portal API</title><link rel="icon" href="data:,">'
    return html.replace("<title>Swagger UI</title>", title, 1)
