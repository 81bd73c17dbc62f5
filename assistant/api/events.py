"""A conversation's live events over server-sent events: messages (the customer's, the
bot's, an agent's) and state changes, as they happen. The customer's widget subscribes
with its identity headers, an agent with their key. A client that reconnects with
`Last-Event-ID` gets every event after that id first: the events are rows in SQL, and
the bus only wakes the stream (in process, or through Redis across workers)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Header, Query, Request
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from assistant.api.deps import CustomerWorkspace, is_staff_request
from assistant.api.schemas import ErrorOut, PathId
from assistant.api.security import verify_customer
from assistant.errors import NotFound
from profiles.inbox import EventRow

router = APIRouter(prefix="/v1", tags=["widget"])
POLL_S = 5.0  # a stream re-reads SQL at least this often, even without a wake-up


def _view(row: EventRow, staff: bool) -> dict[str, object]:
    """What the event says to its reader: the customer never sees internal reasons."""
    data: dict[str, object] = {"kind": row.kind, "at": row.at.isoformat()}
    if row.kind == "message":
        data |= {"role": row.role, "text": row.text}
        if row.actor.startswith("agent:"):
            data["agent"] = row.actor.removeprefix("agent:")
    else:
        data["state"] = row.state
        if row.actor.startswith("agent:"):
            data["agent"] = row.actor.removeprefix("agent:")
        if staff:
            data |= {"actor": row.actor, "reason": row.reason}
    return data


@router.get(
    "/conversations/{conversation_id}/events",
    responses={
        200: {"content": {"text/event-stream": {}}},
        **{c: {"model": ErrorOut} for c in (401, 403, 404, 422)},
    },
)
async def events(
    conversation_id: PathId,
    request: Request,
    c: CustomerWorkspace,
    x_customer_id: str | None = Header(None, max_length=128),
    x_user_hash: str | None = Header(None, max_length=128),
    last_event_id: str | None = Header(None, max_length=20),
    after: int | None = Query(None, ge=0, description="Replay events after this id."),
) -> EventSourceResponse:
    """Server-sent events `message` and `state`, each with its id; reconnect with
    `Last-Event-ID` (or `?after=`) to replay what was missed. Customers: headers
    `X-Customer-Id` and `X-User-Hash`; staff: an agent or admin key."""
    settings = c.settings
    staff = is_staff_request(request)
    inbox = c.inbox
    status = await run_in_threadpool(inbox.store.status, conversation_id)
    if not staff:
        verify_customer(settings, x_customer_id or "", x_user_hash)
        if status is None or status.customer_id != x_customer_id:
            raise NotFound("unknown conversation", subject=conversation_id)
    elif status is None:
        raise NotFound("unknown conversation", subject=conversation_id)
    start = after or 0
    if last_event_id is not None and last_event_id.isdigit():
        start = int(last_event_id)

    async def stream() -> AsyncIterator[dict[str, str]]:
        last = start
        async with inbox.bus.listen(conversation_id) as listener:
            while not await request.is_disconnected():
                rows = await run_in_threadpool(inbox.store.events_after, conversation_id, last)
                for row in rows:
                    last = row.id
                    yield {
                        "id": str(row.id),
                        "event": row.kind,
                        "data": json.dumps(_view(row, staff)),
                    }
                if not rows:
                    await listener.wait(POLL_S)

    return EventSourceResponse(stream(), ping=15)
