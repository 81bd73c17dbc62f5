"""The agents' inbox: the queue, and taking, answering, handing back and resolving a
conversation. Every route needs an agent or admin key; the agent is named by the
`X-Agent-Name` header (else by their key's fingerprint)."""

from __future__ import annotations

import re
from typing import Literal

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel, Field

from assistant.agent.inbox import DraftUse
from assistant.api.deps import AgentWorkspace, require_agent
from assistant.api.schemas import ErrorOut, PathId
from assistant.api.security import key_fingerprint
from assistant.errors import BadInput
from profiles.fields import Plain, Text
from profiles.inbox import ConversationStatus, InboxItem

router = APIRouter(prefix="/v1/agent", tags=["agent"], dependencies=[Depends(require_agent)])
_ERRORS: dict[int | str, dict[str, object]] = {
    c: {"model": ErrorOut} for c in (401, 403, 404, 409, 413, 415, 422)
}
QUEUE_FLAGS = ("vip", "at_risk")
_NAME = re.compile(r"^[\w .@'-]{1,64}$")


async def agent_name(
    request: Request,
    x_agent_name: str | None = Header(
        None, max_length=64, description="The agent's display name (letters, digits, spaces)."
    ),
) -> str:
    if x_agent_name is None:
        return key_fingerprint(request, "agent")
    name = x_agent_name.strip()
    if not _NAME.match(name):
        raise BadInput("X-Agent-Name: letters, digits, spaces and . @ ' - only (1 to 64)")
    return name


class DraftIn(BaseModel):
    """The draft the agent started from (as offered by /v1/assist), to learn from edits."""

    index: int = Field(ge=0, le=20, description="Which draft (0 = the first).")
    text: Text = Field(max_length=8000, description="The draft as it was offered.")
    variant: Plain | None = Field(None, max_length=200)
    intent: Plain | None = Field(None, max_length=64)


class AgentMessageIn(BaseModel):
    text: Text = Field(min_length=1, max_length=8000)
    draft: DraftIn | None = None


class AgentMessageOut(BaseModel):
    conversation_id: str
    event_id: int


@router.get("/inbox", response_model=list[InboxItem], responses=_ERRORS)
def inbox(
    c: AgentWorkspace,
    view: Literal["waiting", "mine", "all"] = Query("all"),
    limit: int = Query(50, ge=1, le=500),
    agent: str = Depends(agent_name),
) -> list[InboxItem]:
    """Conversations waiting for an agent first (the longest wait first), then the others
    by their last activity; `mine`: those you hold; `waiting`: only the waiting ones.
    `flags` carry the customer's VIP and at-risk segments (under personalization consent)."""
    items = c.inbox.store.queue(view, agent, limit)
    profiles = c.assistant.profiles
    flags: dict[str, list[str]] = {}
    for item in items:
        if item.customer_id not in flags:
            segments = profiles.segments_of(item.customer_id)
            flags[item.customer_id] = [f for f in QUEUE_FLAGS if f in segments]
        item.flags = flags[item.customer_id]
    return items


@router.post(
    "/conversations/{conversation_id}/assign",
    response_model=ConversationStatus,
    responses=_ERRORS,
)
def assign(
    c: AgentWorkspace,
    conversation_id: PathId,
    agent: str = Depends(agent_name),
) -> ConversationStatus:
    """Take the conversation: the bot stops answering and the customer's messages come to
    you. 409 when another agent holds it."""
    return c.inbox.assign(conversation_id, agent)


@router.post(
    "/conversations/{conversation_id}/messages",
    response_model=AgentMessageOut,
    status_code=201,
    responses=_ERRORS,
)
def send(
    c: AgentWorkspace,
    conversation_id: PathId,
    body: AgentMessageIn,
    agent: str = Depends(agent_name),
) -> AgentMessageOut:
    """Send a message to the customer (it appears live in their widget). With `draft`,
    the draft it started from is recorded with how much you changed it. 409 unless you
    hold the conversation."""
    draft = body.draft
    use = DraftUse(draft.index, draft.text, draft.variant, draft.intent) if draft else None
    event_id = c.inbox.send(conversation_id, agent, body.text, use)
    return AgentMessageOut(conversation_id=conversation_id, event_id=event_id)


@router.post(
    "/conversations/{conversation_id}/release",
    response_model=ConversationStatus,
    responses=_ERRORS,
)
def release(
    c: AgentWorkspace,
    conversation_id: PathId,
    agent: str = Depends(agent_name),
) -> ConversationStatus:
    """Hand the conversation back to the bot. 409 unless you hold it."""
    return c.inbox.release(conversation_id, agent)


@router.post(
    "/conversations/{conversation_id}/resolve",
    response_model=ConversationStatus,
    responses=_ERRORS,
)
def resolve(
    c: AgentWorkspace,
    conversation_id: PathId,
    agent: str = Depends(agent_name),
) -> ConversationStatus:
    """Close the conversation; the customer writing again brings the bot back. 409 when
    another agent holds it."""
    return c.inbox.resolve(conversation_id, agent)
