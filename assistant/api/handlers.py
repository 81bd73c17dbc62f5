"""Every error the API answers, as `{"error": ...}`: mapped once, never echoing input.

Domain errors (and the lower packages' exceptions that `assistant.errors` translates)
get their status from the one table; the framework's own (validation, unknown route,
method) are reworded here; anything else is a logged 500. No answer or log line quotes
a value the caller sent."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.errors import FOREIGN, RapportError, StoreUnavailable, as_domain, http_status
from assistant.logs import describe

log = logging.getLogger("rapport.api")

_MAX_FIELDS = 20  # a list of 500 bad documents names the first ones, not all
_MAX_MESSAGE = 200


def error_response(status: int, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def domain_response(exc: RapportError) -> JSONResponse:
    """The answer to a domain error: its status from the one table, its message (never
    the caller's values) and Retry-After when running it again later may succeed."""
    extra: dict[str, object] = {}
    if exc.retry_after is not None:
        extra["retry_after"] = exc.retry_after
    resp = error_response(http_status(exc), exc.message, **extra)
    if exc.retry_after is not None:
        resp.headers["Retry-After"] = str(exc.retry_after)
    return resp


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc)


def _message(error: dict[str, Any]) -> str:
    """Pydantic's message for one failing field, unless it quotes the input."""
    msg = str(error.get("msg", "invalid"))[:_MAX_MESSAGE]
    given = error.get("input")
    if isinstance(given, str) and len(given) >= 3 and given in msg:
        return str(error.get("type", "invalid")).replace("_", " ")
    return msg


def invalid_request(exc: RequestValidationError) -> JSONResponse:
    """422 naming the failing fields and why, without echoing any value sent."""
    errors = exc.errors()
    malformed = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if malformed is not None:
        # Its location is a character offset into the body, not a field: not shown.
        reason = str((malformed.get("ctx") or {}).get("error", ""))[:_MAX_MESSAGE]
        message = f"malformed JSON body: {reason}" if reason else "malformed JSON body"
        return error_response(422, message)
    fields = [{"field": _field(e["loc"]), "message": _message(e)} for e in errors[:_MAX_FIELDS]]
    names = ", ".join(dict.fromkeys(f["field"] for f in fields))
    return error_response(422, f"invalid request: {names}", fields=fields)


def route_of(scope: Scope) -> str:
    """The route's template (`/v1/admin/customers/{customer_id}`), not the ids in the path."""
    return str(getattr(scope.get("route"), "path", "unmatched"))


def install_error_handlers(app: FastAPI, db_retry_after_s: int) -> None:
    """Register the handlers on `app` and contain whatever they do not handle."""

    async def invalid(_req: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return invalid_request(exc)

    async def framework(_req: Request, exc: Exception) -> JSONResponse:
        # Unknown route (404), method (405, with its Allow header), a body over the limit.
        assert isinstance(exc, StarletteHTTPException)
        resp = error_response(exc.status_code, str(exc.detail).lower())
        for k, v in (exc.headers or {}).items():
            resp.headers[k] = v
        return resp

    async def domain(req: Request, exc: Exception) -> JSONResponse:
        mapped = as_domain(exc)
        if mapped is None:
            return unexpected(req.scope, exc)
        if isinstance(mapped, StoreUnavailable):
            if mapped.retry_after is None:
                mapped.retry_after = db_retry_after_s
            log.error(
                "store unavailable on %s %s: %s", req.method, route_of(req.scope), describe(exc)
            )
        return domain_response(mapped)

    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, framework)
    app.add_exception_handler(RapportError, domain)
    for kind in dict.fromkeys(kind for kind, _, _ in FOREIGN):
        app.add_exception_handler(kind, domain)
    app.add_middleware(Contain)  # first added: innermost, just outside the handlers above


def unexpected(scope: Scope, exc: BaseException) -> JSONResponse:
    """A logged 500. Only the exception's types and frames are logged: its text may hold
    request values (a SQL error's parameters, a message)."""
    log.error("unhandled error on %s %s: %s", scope.get("method"), route_of(scope), describe(exc))
    return error_response(500, "internal error")


class Contain:
    """Answers any exception the handlers left as a logged 500, so it does not go on to
    the server, which would log it again with its text and a traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            response = unexpected(scope, exc)
            if started:  # too late for a 500: end the response without the original text
                raise RuntimeError("the response failed after it started") from None
            await response(scope, receive, send)
