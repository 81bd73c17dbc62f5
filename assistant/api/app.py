"""The FastAPI app factory: wires the services once and maps errors once."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, SQLAlchemyError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.api import admin, agent, chat, ops, pages, privacy
from assistant.api.deps import Services
from assistant.api.metrics import Metrics
from assistant.api.outage import is_database_outage
from assistant.api.ratelimit import RateLimiter
from assistant.errors import RapportError
from assistant.wiring import Container

log = logging.getLogger("rapport.api")


def create_app(container: Container) -> FastAPI:
    """The service over `container`'s collaborators (built lazily, once)."""
    settings = container.settings

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if "assistant" in container.__dict__:  # built: finish its background history writes
            container.assistant.drain()

    app = FastAPI(
        title="Rapport",
        version="0.1.0",
        description="Personalized, grounded, cited customer-support replies.",
        lifespan=lifespan,
    )
    metrics = Metrics()
    metrics.watch_breaker(lambda: container.breaker.stats())
    app.state.services = Services(
        container=container,
        metrics=metrics,
        limiter=RateLimiter(settings.rate_limit_per_minute),
    )
    if settings.cors_origin_list:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "Accept", "X-Customer-Id", "X-User-Hash"],
        )
    _install_error_handlers(app)
    _install_metrics(app)
    for router in (
        chat.router,
        agent.router,
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
    container = Container(settings)
    container.require_data()
    warm_up(container)
    return create_app(container)


def warm_up(container: Container) -> None:
    """Load the model and build the in-memory KB indexes before the first request."""
    vector = container.assistant.embedder.embed_query("warm up")
    container.kb.search("warm up", k=1, query_embedding=vector)


def _error(status: int, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_req: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        names = ", ".join(f["field"] for f in fields)
        return _error(
            422, f"invalid request: {names}", fields=fields, detail=jsonable_encoder(exc.errors())
        )

    @app.exception_handler(HTTPException)
    async def _http(_req: Request, exc: HTTPException) -> JSONResponse:
        resp = _error(exc.status_code, str(exc.detail))
        for k, v in (exc.headers or {}).items():
            resp.headers[k] = v
        return resp

    @app.exception_handler(SQLAlchemyError)
    async def _database(req: Request, exc: SQLAlchemyError) -> JSONResponse:
        if isinstance(exc, DataError):
            # A value the database cannot store (a NUL character in PostgreSQL text, a
            # number out of range) is the request's fault.
            reason = str(exc.orig).splitlines()[0] if exc.orig else "invalid value"
            return _error(422, f"invalid data: {reason}")
        if not is_database_outage(exc):
            return await _unexpected(req, exc)
        log.error("database unavailable on %s %s: %s", req.method, req.url.path, exc)
        retry = str(app.state.services.container.settings.db_retry_after_s)
        resp = _error(503, "database unavailable; retry later", retry_after=int(retry))
        resp.headers["Retry-After"] = retry
        return resp

    @app.exception_handler(RapportError)
    async def _domain(_req: Request, exc: RapportError) -> JSONResponse:
        return _error(exc.http_status, str(exc))

    @app.exception_handler(Exception)
    async def _unexpected(req: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", req.method, req.url.path)
        return _error(500, "internal error")


def _install_metrics(app: FastAPI) -> None:
    app.add_middleware(_Observe, metrics=app.state.services.metrics)


class _Observe:
    """Counts and times every request by route and status, and names the worker that
    answered (X-Rapport-Worker). Plain ASGI rather than BaseHTTPMiddleware: no extra task
    and stream per request, and a streamed reply is timed to its last byte."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self.worker = str(os.getpid()).encode()

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
