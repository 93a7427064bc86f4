"""`POST /webhooks/clickup` as the portal API's OpenAPI document describes it: a Powertools resolver declaring the
route `bridge.webhooks.edge` answers without one (the webhook function's cold path never imports this module).
In the HTTP layer, above the webhooks package (`make lint`'s import contract)."""

# No `from __future__ import annotations`: the documented route's annotations must be evaluated where its imports
# are (inside `documented_resolver`), as Powertools reads them to build the document.
import json
from typing import Any

from bridge.api.models import error_responses
from bridge.api.resolver import make_resolver
from bridge.webhooks.edge import ROUTE, SUMMARY, deliver


def documented_resolver() -> Any:
    """The route as the portal API's OpenAPI document describes it (a Powertools resolver; imports the event
    handler and pydantic models: for `local.openapi` and tests, never on the function's cold path)."""
    from typing import Annotated

    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.openapi.params import Header

    # the signature over the exact bytes decides, whatever the media type or the query (a genuine delivery is never
    # refused for a part the signature does not cover: ClickUp counts refusals against the webhook's health)
    app = make_resolver(check_body=False, open_query=(ROUTE[1],))
    responses: dict[int, Any] = {200: {"description": "Verified and queued"}, **error_responses(400, 401, 413)}

    @app.post(ROUTE[1], summary=SUMMARY, responses=responses)
    def clickup_delivery(
        x_signature: Annotated[
            str | None, Header(alias="X-Signature", description="hex HMAC-SHA256 of the body")
        ] = None,
    ) -> Response[dict[str, Any]]:
        answer = deliver(app.current_event.raw_event, x_signature)
        return Response(
            status_code=answer["statusCode"], content_type="application/json", body=json.loads(answer["body"])
        )

    return app
