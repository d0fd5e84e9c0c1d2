"""The operator's HTTP routes: /metrics and /readyz (mounted by tidings.app.extra_routes)."""

from __future__ import annotations

import hmac
import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from tidings.ops.health import readiness
from tidings.ops.metrics import StoreCollector, exposition, scrape_registry
from tidings.store import operations
from tidings.store.repository import Store


def ops_routes(store: Store, database_url: str, metrics_token: str = "") -> list[BaseRoute]:
    collector = StoreCollector(
        lambda: operations.live_figures(store.db, int(time.time())),
        lambda: operations.total_figures(store.db),
        store.upstream_states,
    )
    registry = scrape_registry(collector)

    async def metrics(request: Request) -> Response:
        if metrics_token and not _bearer_is(request, metrics_token):
            return PlainTextResponse(
                "a bearer token is needed", status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        body, content_type = await run_in_threadpool(exposition, registry)
        return Response(body, media_type=content_type)

    async def readyz(_request: Request) -> Response:
        reason = await readiness(store.db, database_url)
        if reason is None:
            return PlainTextResponse("ready")
        return PlainTextResponse(f"not ready: {reason}", status_code=503)

    return [Route("/metrics", metrics), Route("/readyz", readyz)]


def _bearer_is(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )
