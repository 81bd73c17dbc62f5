"""The chat widget's endpoints: a turn (JSON or streamed), its conversation, feedback."""

from __future__ import annotations

import json
from collections.abc import Iterator

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse

from assistant.api.deps import Services, services
from assistant.api.schemas import (
    ChatRequest,
    ChatResponse,
    ConversationOut,
    ErrorOut,
    FeedbackOut,
    FeedbackRequest,
)
from assistant.api.security import verify_customer
from assistant.types import StreamEvent, TurnRequest
from profiles.conversations import FeedbackStore
from profiles.overview import conversation_messages

router = APIRouter(prefix="/v1", tags=["widget"])
_ERRORS: dict[int | str, dict[str, object]] = {
    c: {"model": ErrorOut} for c in (401, 404, 413, 422, 429)
}


@router.post(
    "/chat",
    response_model=ChatResponse,
    responses={**_ERRORS, 200: {"content": {"text/event-stream": {}}}},
)
def chat(body: ChatRequest, request: Request, svc: Services = Depends(services)) -> object:
    """One support turn. With `Accept: text/event-stream` the reply streams as server-sent
    events: `token` (data: {"text"}), `reset` (discard the text so far) and a final
    `done` whose data is the whole turn (citations, handoff, timings)."""
    settings = svc.container.settings
    verify_customer(settings, body.customer_id, body.user_hash)
    if len(body.message) > settings.max_message_chars:
        raise HTTPException(
            413,
            f"message is {len(body.message)} characters; the limit is {settings.max_message_chars}",
        )
    wait = svc.limiter.check(body.customer_id)
    if wait:
        return JSONResponse(
            {"error": "too many messages; try again shortly"},
            status_code=429,
            headers={"Retry-After": str(int(wait) + 1)},
        )
    turn = TurnRequest(
        customer_id=body.customer_id,
        message=body.message,
        conversation_id=body.conversation_id,
        channel=body.channel,
        device=body.context.device,
        locale=body.context.locale,
        timezone=body.context.timezone,
    )
    assistant = svc.container.assistant
    if "text/event-stream" in request.headers.get("accept", ""):
        events = assistant.stream_turn(turn)  # validates and stores the message now
        return EventSourceResponse(_sse(events, svc), ping=15)
    result = assistant.turn(turn)
    svc.metrics.observe_turn(result)
    return result


def _sse(events: Iterator[StreamEvent], svc: Services) -> Iterator[dict[str, str]]:
    for event in events:
        if event.type == "done" and event.result is not None:
            svc.metrics.observe_turn(event.result)
            yield {"event": "done", "data": event.result.model_dump_json()}
        elif event.type == "token":
            yield {"event": "token", "data": json.dumps({"text": event.text})}
        else:
            yield {"event": "reset", "data": "{}"}


@router.get("/conversations/{conversation_id}", response_model=ConversationOut, responses=_ERRORS)
def conversation(
    conversation_id: str,
    svc: Services = Depends(services),
    x_customer_id: str = Header(..., description="The widget's customer id."),
    x_user_hash: str = Header(..., description="HMAC-SHA256(widget secret, customer id)."),
) -> ConversationOut:
    """A conversation of the identified customer; anyone else's is reported as missing."""
    verify_customer(svc.container.settings, x_customer_id, x_user_hash)
    owner = svc.container.assistant.conversations.conversation_owner(conversation_id)
    if owner != x_customer_id:
        raise HTTPException(404, f"unknown conversation {conversation_id!r}")
    return ConversationOut(
        conversation_id=conversation_id,
        customer_id=x_customer_id,
        messages=conversation_messages(svc.container.engine, conversation_id),
    )


@router.post("/feedback", response_model=FeedbackOut, status_code=201, responses=_ERRORS)
def feedback(body: FeedbackRequest, svc: Services = Depends(services)) -> FeedbackOut:
    """Rate a reply (1–5), say whether it resolved the question, and comment."""
    verify_customer(svc.container.settings, body.customer_id, body.user_hash)
    store = FeedbackStore(svc.container.engine)
    if store.turn_owner(body.turn_id) != body.customer_id:
        raise HTTPException(404, f"unknown turn {body.turn_id!r}")
    fid = store.add(body.turn_id, body.rating, body.resolved, body.comment)
    return FeedbackOut(id=fid, turn_id=body.turn_id)
