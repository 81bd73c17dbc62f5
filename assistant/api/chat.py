"""The chat widget's endpoints: a turn (JSON or streamed), its conversation, feedback."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator, Generator, Iterator
from dataclasses import dataclass

import anyio
from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from assistant.api.deps import CustomerWorkspace, Services, is_staff_request, services
from assistant.api.schemas import (
    ChatRequest,
    ChatResponse,
    ConversationOut,
    ErrorOut,
    FeedbackOut,
    FeedbackRequest,
    PathId,
)
from assistant.api.security import verify_channel, verify_customer
from assistant.errors import BadInput, NotFound, TooLarge, is_database_outage
from assistant.types import StreamEvent, TurnRequest, TurnResult
from assistant.wiring import Container
from profiles.conversations import FeedbackStore
from profiles.idempotency import IdempotencyStore
from profiles.overview import conversation_messages

log = logging.getLogger("rapport.api")
router = APIRouter(prefix="/v1", tags=["widget"])
_ERRORS: dict[int | str, dict[str, object]] = {
    c: {"model": ErrorOut} for c in (401, 403, 404, 413, 415, 422, 429)
}


@router.post(
    "/chat",
    response_model=ChatResponse,
    responses={
        **_ERRORS,
        409: {"model": ErrorOut, "description": "The Idempotency-Key's first request still runs."},
        503: {"model": ErrorOut, "description": "The database is unavailable; retry later."},
        200: {"content": {"text/event-stream": {}}},
    },
)
def chat(
    body: ChatRequest,
    request: Request,
    c: CustomerWorkspace,
    svc: Services = Depends(services),
    idempotency_key: str | None = Header(
        None,
        min_length=1,
        max_length=128,
        description="Makes retries safe: a repeat with the same key and body gets the first "
        "turn's result (SSE: one `done` event) instead of running a second turn.",
    ),
) -> object:
    """One support turn. With `Accept: text/event-stream` the reply streams as server-sent
    events: `token` (data: {"text"}), `reset` (discard the text so far) and a final
    `done` whose data is the whole turn (citations, handoff, timings).

    A request that also carries an agent or admin key (`X-API-Key`) gets the turn's
    `detail` too: its context, handoff reason, decision trace, segments and variant.

    The turn runs in the workspace the widget names (`X-Rapport-Workspace`, `default`
    when absent) or, with a key, the key's workspace."""
    settings = c.settings
    verify_customer(settings, body.customer_id, body.user_hash)
    staff = is_staff_request(request)
    verify_channel(body.channel, staff)
    if len(body.message) > settings.max_message_chars:
        raise TooLarge(
            f"message is {len(body.message)} characters; the limit is {settings.max_message_chars}"
        )
    streamed = "text/event-stream" in request.headers.get("accept", "")
    if idempotency_key is None:
        return _run_turn(body, svc, c, streamed, None, staff)
    held = _Held(_idempotency(c), body.customer_id, idempotency_key)
    claim = held.keys.claim(held.customer_id, held.key, _digest(body))
    if claim.outcome == "mismatch":
        raise BadInput("Idempotency-Key was already used with a different request body")
    if claim.outcome == "running":
        return JSONResponse(
            {"error": "a request with this Idempotency-Key is still running"},
            status_code=409,
            headers={"Retry-After": "1"},
        )
    if claim.outcome == "done" and claim.response is not None:
        return _replay(claim.response, streamed, staff)
    try:
        return _run_turn(body, svc, c, streamed, held, staff)
    except BaseException:
        held.release()
        raise


@dataclass
class _Held:
    """An Idempotency-Key this request has claimed."""

    keys: IdempotencyStore
    customer_id: str
    key: str

    def complete(self, result: TurnResult) -> None:
        """Store the whole turn: a replay shows it as its own request may see it."""
        self.keys.complete(self.customer_id, self.key, result.turn_id, result.model_dump_json())

    def release(self) -> None:
        """Give the key up (the turn did not complete); a retry runs the turn afresh."""
        try:
            self.keys.release(self.customer_id, self.key)
        except Exception as exc:  # noqa: BLE001 — the turn's own error is the one to report
            log.warning("could not release an Idempotency-Key: %s", exc)


def _run_turn(
    body: ChatRequest,
    svc: Services,
    c: Container,
    streamed: bool,
    held: _Held | None,
    staff: bool,
) -> object:
    wait = svc.limiter.check(f"{c.name}:{body.customer_id}")
    if wait:
        if held is not None:
            held.release()
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
    assistant = c.assistant
    inbox = c.inbox
    person = inbox.holding(body.conversation_id)
    if person is not None and person.customer_id == body.customer_id:
        # A person has this conversation: the message goes to them, the bot stays quiet.
        assistant.identify(turn)  # the same checks as a turn (known customer, message)
        inbox.customer_message(body.customer_id, person.conversation_id, body.message, body.channel)
        response = ChatResponse(
            answer="",
            citations=[],
            handoff=True,
            generator="none",
            degraded=False,
            timings_ms={},
            conversation_id=person.conversation_id,
            state=person.state,
            agent=person.assignee,
        )
        if held is not None:
            held.release()
        if streamed:
            return EventSourceResponse(
                iter([{"event": "done", "data": response.model_dump_json()}])
            )
        return response
    inbox.reopen_if_resolved(body.conversation_id)
    if streamed:
        events = assistant.stream_turn(turn)  # validates and stores the message now
        return EventSourceResponse(_closing(_sse(events, svc, c, held, staff)), ping=15)
    result = assistant.turn(turn)
    svc.metrics.observe_turn(result)
    if held is not None:
        held.complete(result)
    return _after_turn(c, result, staff)


def _after_turn(c: Container, result: TurnResult, staff: bool) -> ChatResponse:
    """Record the turn's messages as conversation events; a handoff queues it for agents."""
    response = ChatResponse.of(result, staff)
    if result.conversation_id and result.turn_id:
        status = c.inbox.after_turn(
            result.conversation_id,
            result.turn_id,
            result.handoff,
            result.handoff_reason,
            urgent=result.handoff_urgent,
        )
        if status is not None:
            response.state, response.agent = status.state, status.assignee
    return response


def _idempotency(c: Container) -> IdempotencyStore:
    s = c.settings
    return IdempotencyStore(c.engine, s.idempotency_ttl_s, s.idempotency_lease_s)


def _digest(body: ChatRequest) -> str:
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()


def _replay(response: str, streamed: bool, staff: bool) -> object:
    headers = {"Idempotency-Replayed": "true"}
    view = ChatResponse.of(TurnResult.model_validate_json(response), staff)
    if streamed:
        data = view.model_dump_json()
        return EventSourceResponse(iter([{"event": "done", "data": data}]), headers=headers)
    return JSONResponse(view.model_dump(mode="json"), headers=headers)


async def _closing(events: Generator[dict[str, str], None, None]) -> AsyncIterator[dict[str, str]]:
    """The turn's events, pulled in the thread pool. When the customer goes away the
    response is cancelled; the turn's generator is then closed at once (shielded from
    the cancellation), which closes the upstream LLM stream and records the turn as
    interrupted, instead of leaving the LLM generating for nobody."""
    try:
        while True:
            event = await run_in_threadpool(next, events, None)
            if event is None:
                return
            yield event
    finally:
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(events.close)


def _sse(
    events: Iterator[StreamEvent],
    svc: Services,
    c: Container,
    held: _Held | None = None,
    staff: bool = False,
) -> Generator[dict[str, str], None, None]:
    completed = False
    try:
        for event in events:
            if event.type == "done" and event.result is not None:
                svc.metrics.observe_turn(event.result)
                if held is not None:
                    held.complete(event.result)
                    completed = True
                yield {
                    "event": "done",
                    "data": _after_turn(c, event.result, staff).model_dump_json(),
                }
            elif event.type == "token":
                yield {"event": "token", "data": json.dumps({"text": event.text})}
            else:
                yield {"event": "reset", "data": "{}"}
    except Exception as exc:
        # The response has started, so the error is the stream's last event.
        log.exception("streamed turn failed")
        error: dict[str, object] = {"error": "internal error"}
        if is_database_outage(exc):
            retry = c.settings.db_retry_after_s
            error = {"error": "database unavailable; retry later", "retry_after": retry}
        yield {"event": "error", "data": json.dumps(error)}
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()  # the pipeline's generator: stops generation if it is still running
        if held is not None and not completed:
            held.release()


@router.get("/conversations/{conversation_id}", response_model=ConversationOut, responses=_ERRORS)
def conversation(
    conversation_id: PathId,
    c: CustomerWorkspace,
    x_customer_id: str = Header(..., max_length=128, description="The widget's customer id."),
    x_user_hash: str | None = Header(
        None, max_length=128, description="HMAC-SHA256(widget secret, customer id); else 401."
    ),
) -> ConversationOut:
    """A conversation of the identified customer; anyone else's is reported as missing."""
    verify_customer(c.settings, x_customer_id, x_user_hash)
    status = c.inbox.store.status(conversation_id)
    if status is None or status.customer_id != x_customer_id:
        raise NotFound("unknown conversation", subject=conversation_id)
    return ConversationOut(
        conversation_id=conversation_id,
        customer_id=x_customer_id,
        messages=conversation_messages(c.engine, conversation_id),
        state=status.state,
        assignee=status.assignee,
        last_event_id=c.inbox.store.last_event_id(conversation_id),
    )


@router.post("/feedback", response_model=FeedbackOut, status_code=201, responses=_ERRORS)
def feedback(
    body: FeedbackRequest, c: CustomerWorkspace, svc: Services = Depends(services)
) -> object:
    """Rate a reply (1–5), say whether it resolved the question, and comment. One per
    turn: a later one replaces it. Rate-limited per customer like chat turns (429)."""
    verify_customer(c.settings, body.customer_id, body.user_hash)
    store = FeedbackStore(c.engine)
    if store.turn_owner(body.turn_id) != body.customer_id:
        raise NotFound("unknown turn", subject=body.turn_id)
    wait = svc.limiter.check(f"feedback:{c.name}:{body.customer_id}")
    if wait:
        return JSONResponse(
            {"error": "too much feedback; try again shortly"},
            status_code=429,
            headers={"Retry-After": str(int(wait) + 1)},
        )
    replaced = store.add(body.turn_id, body.rating, body.resolved, body.comment)
    return FeedbackOut(turn_id=body.turn_id, replaced=replaced)
