"""The agent-assist sidebar's endpoints."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from assistant.api.deps import AgentWorkspace, require_agent
from assistant.api.schemas import AssistRequest, ConversationOut, ErrorOut, PathId
from assistant.assist import AssistResult, assist
from assistant.errors import BadInput, NotFound
from profiles.overview import QueueItem, conversation_messages, conversation_queue

router = APIRouter(prefix="/v1", tags=["agent"], dependencies=[Depends(require_agent)])
_ERRORS: dict[int | str, dict[str, object]] = {
    c: {"model": ErrorOut} for c in (401, 403, 404, 413, 415, 422)
}


@router.get("/agent/conversations", response_model=list[QueueItem], responses=_ERRORS)
def queue(c: AgentWorkspace, limit: int = Query(50, ge=1, le=500)) -> list[QueueItem]:
    """The key's workspace's recently active conversations, newest first, flagged when
    handed off."""
    return conversation_queue(c.engine, limit)


@router.get(
    "/agent/conversations/{conversation_id}", response_model=ConversationOut, responses=_ERRORS
)
def agent_conversation(conversation_id: PathId, c: AgentWorkspace) -> ConversationOut:
    """The whole transcript (bot replies with the sources they cite), its state and
    holder."""
    status = c.inbox.store.status(conversation_id)
    if status is None:
        raise NotFound("unknown conversation", subject=conversation_id)
    return ConversationOut(
        conversation_id=conversation_id,
        customer_id=status.customer_id,
        messages=conversation_messages(c.engine, conversation_id, with_sources=True),
        state=status.state,
        assignee=status.assignee,
        last_event_id=c.inbox.store.last_event_id(conversation_id),
    )


@router.post("/assist", response_model=AssistResult, responses=_ERRORS)
def assist_endpoint(body: AssistRequest, c: AgentWorkspace) -> AssistResult:
    """Customer card, history summary, suggested replies, articles, next best actions and
    risk flags for a conversation (its last customer message) or a customer and message."""
    assistant = c.assistant
    customer_id, message = body.customer_id, body.message
    conversation = None
    if body.conversation_id:
        owner = assistant.conversations.conversation_owner(body.conversation_id)
        if owner is None:
            raise NotFound("unknown conversation", subject=body.conversation_id)
        if customer_id and customer_id != owner:
            raise BadInput("customer_id does not match the conversation")
        customer_id = owner
        # the last customer message is read as it followed the conversation ("ok cancel
        # it then", "gracias!"), the way the bot read it
        if message:  # the agent's own question, after all of it
            conversation = assistant.conversations.recent_messages(body.conversation_id)
        else:
            message, conversation = assistant.conversations.last_asked(body.conversation_id)
    if not customer_id:
        raise BadInput("give conversation_id or customer_id")
    return assist(assistant, customer_id, message or "How can I help you today?", conversation)
