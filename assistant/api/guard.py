"""Checks on a request before any route reads its body: size and media type.

Plain ASGI, outside the routes, so an oversized body is refused on its Content-Length
without being read, and a streamed (chunked) one as soon as it passes the limit: nothing
parses (or holds) more than `max_bytes` of it."""

from __future__ import annotations

import email.message

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_WITH_BODY = {"POST", "PUT", "PATCH"}


def is_json(content_type: str | None) -> bool:
    """application/json or application/*+json, with any parameters."""
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


class RequestGuard:
    """413 for a body over `max_bytes`, 415 for a body that is not JSON."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        length = int(declared) if declared and declared.isdigit() else None
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        if length is not None and length > self.max_bytes:
            await self._refuse(413, scope, receive, send)
            return
        has_body = chunked or bool(length)
        if scope["method"] in _WITH_BODY and has_body and not is_json(headers.get("content-type")):
            await self._refuse(415, scope, receive, send)
            return
        await self.app(scope, self._limited(receive), send)

    def _limited(self, receive: Receive) -> Receive:
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # An HTTPException passes FastAPI's body reading unchanged and reaches
                    # the app's handler, which answers it as {"error": ...}.
                    raise HTTPException(413, self._message(413))
            return message

        return limited

    def _message(self, status: int) -> str:
        if status == 413:
            return f"request body is larger than {self.max_bytes} bytes"
        return "Content-Type must be application/json"

    async def _refuse(self, status: int, scope: Scope, receive: Receive, send: Send) -> None:
        # Connection: close, as the body was not read: the connection cannot be reused.
        response = JSONResponse(
            {"error": self._message(status)}, status_code=status, headers={"Connection": "close"}
        )
        await response(scope, receive, send)
