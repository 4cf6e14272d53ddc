"""``/api/v1/metrics``: Prometheus text for the installation's scraper, which sends the
scrape token of the settings (``ARCHIVE_METRICS_TOKEN``) as a bearer token. Never
anonymous: without a configured token the metrics are not served; a wrong or missing
token is refused. Scrapes are not audited (one every few seconds would bury the trail);
the token names a machine, not a person, and opens nothing but these numbers."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import Response

from archive import metrics
from archive.errors import NotAuthenticated, NotFound

router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}}, 401: {}, 404: {}})
def scrape(request: Request) -> Response:
    state = request.app.state
    token = state.settings.metrics_token.get_secret_value()
    if not token:
        raise NotFound("metrics are not served: set ARCHIVE_METRICS_TOKEN for the scraper")
    sent = request.headers.get("authorization", "")
    if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        raise NotAuthenticated("the metrics scrape token is missing or wrong")
    body, content_type = metrics.scrape(state.sessions, getattr(state, "dispatcher", None))
    return Response(body, media_type=content_type)
