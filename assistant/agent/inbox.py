"""The handoff loop: the bot answers until it hands off (or the customer asks for a
person); the conversation then waits for an agent, an agent takes it, replies in it, and
hands it back to the bot or resolves it. While an agent holds a conversation the bot does
not reply; the customer's messages go to the agent. While it waits, the bot still answers
what it can.

States and who may move them:
    bot ──handoff──▶ waiting ──assign──▶ agent ──release──▶ bot
     ▲                  │                  └──resolve──▶ resolved ──customer writes──▶ bot
     └──────────────────┴─ an agent may also take a conversation straight from the bot.
Every move is an event row (who, when, why); two agents taking the same conversation at
once: one wins, the other gets Conflict."""

from __future__ import annotations

from rapidfuzz.distance import Levenshtein

from assistant.agent.events import EventBus
from assistant.errors import BadInput, Conflict, NotFound
from assistant.secrets_screen import screen
from profiles.conversations import ConversationStore
from profiles.inbox import ConversationStatus, InboxStore, State
from profiles.models import AgentReply

HELD: tuple[State, ...] = ("agent",)  # the bot is quiet only while an agent holds it


class DraftUse:
    """What an agent's message was made from: the draft they started with, if any."""

    def __init__(
        self,
        index: int | None = None,
        text: str | None = None,
        variant: str | None = None,
        intent: str | None = None,
    ) -> None:
        self.index, self.text, self.variant, self.intent = index, text, variant, intent

    def reply(self, agent: str, sent: str) -> AgentReply:
        distance = similarity = None
        if self.text is not None:
            distance = Levenshtein.distance(self.text, sent)
            similarity = round(Levenshtein.normalized_similarity(self.text, sent), 4)
        return AgentReply(
            message_id=0,  # set when the message is stored
            conversation_id="",
            customer_id="",
            agent=agent,
            draft_index=self.index if self.text is not None else None,
            variant=self.variant,
            intent=self.intent,
            edit_distance=distance,
            similarity=similarity,
        )


class Inbox:
    def __init__(self, store: InboxStore, conversations: ConversationStore, bus: EventBus):
        self.store, self.conversations, self.bus = store, conversations, bus

    # -- the customer's side --------------------------------------------------------------

    def holding(self, conversation_id: str | None) -> ConversationStatus | None:
        """The conversation's status when an agent holds it: the bot must not answer then.
        While it waits for an agent the bot still answers what it can, and the
        conversation stays first in the queue."""
        if conversation_id is None:
            return None
        status = self.store.status(conversation_id)
        return status if status is not None and status.state in HELD else None

    def reopen_if_resolved(self, conversation_id: str | None) -> None:
        """A customer writing in a resolved conversation brings the bot back."""
        if conversation_id is None:
            return
        status = self.store.status(conversation_id)
        if status is not None and status.state == "resolved":
            self._move(conversation_id, "bot", "customer", "customer wrote again", ("resolved",))

    def customer_message(
        self, customer_id: str, conversation_id: str, text: str, channel: str
    ) -> int:
        """Store a message for the person who has the conversation; returns the message id.
        Secrets are taken out first, as for a turn: the agent sees where they were."""
        conv, message_id, _ = self.conversations.start_turn(
            customer_id, conversation_id, screen(text).text, channel
        )
        self.store.record_messages(conv, [message_id], "customer")
        self.bus.publish(conv)
        return message_id

    def after_turn(
        self,
        conversation_id: str,
        turn_id: str,
        handoff: bool,
        reason: str | None,
        *,
        urgent: bool = False,
    ) -> ConversationStatus | None:
        """Record a bot turn's messages; a handoff puts the conversation in the queue, an
        urgent one (the policy's rule says so: a lost card) ahead of the others. The
        conversation's status after it."""
        status = self.store.record_turn(conversation_id, turn_id)
        if handoff:
            status, _ = self.store.move(
                conversation_id, "waiting", "bot", reason, allowed_from=("bot", "resolved")
            )
            if urgent:
                self.store.mark_urgent(conversation_id)
        self.bus.publish(conversation_id)
        return status

    # -- the agent's side -----------------------------------------------------------------

    def assign(self, conversation_id: str, agent: str) -> ConversationStatus:
        """Take the conversation (from the queue, or from the bot). Conflict when another
        agent holds it."""
        now = self._status(conversation_id)
        if now.state == "agent" and now.assignee == agent:
            return now
        status, event = self.store.move(
            conversation_id,
            "agent",
            f"agent:{agent}",
            "taken by an agent",
            allowed_from=("bot", "waiting", "resolved", "agent"),
            assignee=agent,
            holder=agent,
        )
        if event is None:
            raise Conflict(f"another agent ({status.assignee}) holds this conversation")
        self.bus.publish(conversation_id)
        return status

    def release(self, conversation_id: str, agent: str) -> ConversationStatus:
        """Hand the conversation back to the bot."""
        self._must_hold(conversation_id, agent)
        status = self._move(
            conversation_id, "bot", f"agent:{agent}", "handed back to the bot", ("agent",), agent
        )
        return status

    def resolve(self, conversation_id: str, agent: str) -> ConversationStatus:
        now = self._status(conversation_id)
        if now.state == "agent" and now.assignee != agent:
            raise Conflict(f"another agent ({now.assignee}) holds this conversation")
        if now.state == "resolved":
            return now
        return self._move(
            conversation_id,
            "resolved",
            f"agent:{agent}",
            "resolved",
            ("bot", "waiting", "agent"),
            agent,
        )

    def send(
        self, conversation_id: str, agent: str, text: str, draft: DraftUse | None = None
    ) -> int:
        """An agent's message to the customer; the agent must hold the conversation."""
        text = text.strip()
        if not text:
            raise BadInput("the message is empty")
        self._must_hold(conversation_id, agent)
        event_id = self.store.add_agent_message(
            conversation_id, agent, text, (draft or DraftUse()).reply(agent, text)
        )
        self.bus.publish(conversation_id)
        return event_id

    # -- helpers --------------------------------------------------------------------------

    def _status(self, conversation_id: str) -> ConversationStatus:
        status = self.store.status(conversation_id)
        if status is None:
            raise NotFound("unknown conversation", subject=conversation_id)
        return status

    def _must_hold(self, conversation_id: str, agent: str) -> None:
        now = self._status(conversation_id)
        if now.state != "agent" or now.assignee != agent:
            holder = f"another agent ({now.assignee}) holds it" if now.assignee else "take it first"
            raise Conflict(f"you do not hold this conversation: {holder}")

    def _move(
        self,
        conversation_id: str,
        to: State,
        actor: str,
        reason: str,
        allowed_from: tuple[State, ...],
        holder: str | None = None,
    ) -> ConversationStatus:
        status, event = self.store.move(
            conversation_id, to, actor, reason, allowed_from=allowed_from, holder=holder
        )
        if event is not None:
            self.bus.publish(conversation_id)
        return status
