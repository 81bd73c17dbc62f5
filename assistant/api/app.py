"""The FastAPI app factory: wires the services, the middleware and the error handlers once."""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.api import admin, agent, chat, events, inbox, ops, pages, privacy
from assistant.api.deps import Services
from assistant.api.guard import RequestGuard
from assistant.api.handlers import install_error_handlers
from assistant.api.metrics import Metrics
from assistant.api.ratelimit import RateLimiter, RedisRateLimiter
from assistant.wiring import Container, Workspaces


def create_app(container: Container) -> FastAPI:
    """The service over every workspace under `container`'s data folder; `container` is
    the `default` workspace's (each collaborator built lazily, once)."""
    settings = container.settings
    workspaces = Workspaces(container)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        for built in workspaces.built():
            if "assistant" in built.__dict__:  # finish its background history writes
                built.assistant.drain()

    docs = settings.docs_on
    app = FastAPI(
        title="Rapport",
        version="0.1.0",
        description="Personalized, grounded, cited customer-support replies.",
        lifespan=lifespan,
        # Off, the schema is still built (app.openapi()) but not served.
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    metrics = Metrics()
    metrics.watch_breaker(lambda: container.breaker.stats())
    app.state.services = Services(
        workspaces=workspaces,
        metrics=metrics,
        limiter=(
            RedisRateLimiter(settings.redis_url, settings.rate_limit_per_minute)
            if settings.redis_url
            else RateLimiter(settings.rate_limit_per_minute)
        ),
    )
    # Middleware added later wraps what was added before: _Observe sees every answer,
    # CORS headers reach the guard's 413/415, the guard runs before any body is read.
    install_error_handlers(app, settings.db_retry_after_s)
    app.add_middleware(RequestGuard, max_bytes=settings.max_body_bytes)
    if settings.cors_origin_list:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST"],
            # what the widget sends: its identity, a retried turn's key, and on a live
            # events stream the last event it saw
            allow_headers=[
                "Content-Type",
                "Accept",
                "X-Customer-Id",
                "X-User-Hash",
                "X-Rapport-Workspace",
                "Idempotency-Key",
                "Last-Event-ID",
            ],
        )
    app.add_middleware(_Observe, metrics=metrics)
    for router in (
        chat.router,
        events.router,
        agent.router,
        inbox.router,
        admin.router,
        privacy.router,
        ops.router,
        pages.router,
        pages.demo,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=pages.WEB), name="static")
    return app


def app_from_env() -> FastAPI:
    """The app from environment settings: the factory each `--workers N` process calls."""
    from assistant.logs import configure_logging
    from assistant.settings import Settings

    settings = Settings()
    configure_logging(settings)  # after uvicorn has set up its own loggers
    workspaces = Workspaces.from_settings(settings)
    workspaces.require_data()  # the default's, or another business's own
    container = workspaces.default
    warm_up(container)
    return create_app(container)


def warm_up(container: Container) -> None:
    """Load the model and build the in-memory KB indexes before the first request."""
    vector = container.assistant.embedder.embed_query("warm up")
    container.kb.search("warm up", k=1, query_embedding=vector)


class _Observe:
    """Counts and times every request by route and status, and names the worker that
    answered (X-Rapport-Worker: a random token per process, which says nothing about the
    host, unlike a process id). Plain ASGI rather than BaseHTTPMiddleware: no extra task
    and stream per request, and a streamed reply is timed to its last byte."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self.worker = secrets.token_hex(8).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = 500

        async def tagged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                worker = (b"x-rapport-worker", self.worker)
                message["headers"] = [*message.get("headers", []), worker]
            await send(message)

        try:
            await self.app(scope, receive, tagged)
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(scope["method"], path, str(status)).inc()
            self.metrics.latency.labels(path).observe(time.perf_counter() - t0)
