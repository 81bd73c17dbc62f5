"""The support turn: identify, load context, retrieve, decide, compose, generate, check, persist.

Each stage is a method with typed input and output, so evaluation runs the same code
without HTTP and the agent sidebar can stop after `decide`."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from assistant import check, compose
from assistant.errors import BadInput, GenerationFailed, NotFound
from assistant.experiments import Assignment, Experiments
from assistant.generators.base import Generator, cited_numbers
from assistant.generators.offline import OfflineComposer
from assistant.policy import Policy
from assistant.secrets_screen import SecretKind, screen
from assistant.settings import Settings
from assistant.tokens import TokenCounter
from assistant.turn.language import reply_language
from assistant.turn.plan import FOLLOWED_BACK, asked_actions, best_named, default_lexicon, plan_turn
from assistant.turn.types import AnswerPlan
from assistant.types import (
    Citation,
    Composed,
    ContextInfo,
    Decision,
    Generation,
    Retrieved,
    RuleHit,
    StreamEvent,
    TurnRequest,
    TurnResult,
)
from profiles.context import (
    OFFERED_ID,
    CustomerCard,
    CustomerContext,
    Fact,
    ProfileRepository,
    record_kind,
    record_label,
)
from profiles.conversations import ConversationStore, message_history_id
from profiles.models import HistoryItem, Message, Turn
from profiles.relevance import NAMED_PRODUCT
from prompts.catalog import load_catalog
from prompts.loader import PromptTemplate, load_prompt
from retrieval.batching import EmbedBatcher
from retrieval.embedder import Embedder
from retrieval.history import HistoryIndex, PendingHistorySearch
from retrieval.history_writer import HistoryWriter
from retrieval.kb import KnowledgeBase, PendingSearch
from retrieval.queries import (
    QueryVectors,
    embed_message,
    message_texts,
    query_vectors,
    sub_queries,
)
from retrieval.types import HistoryRecord

log = logging.getLogger("rapport.turn")


@dataclass
class Timer:
    """Milliseconds spent per stage of one turn."""

    ms: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.ms[name] = round(self.ms.get(name, 0.0) + (time.perf_counter() - t0) * 1e3, 2)


@dataclass
class _Started:
    """A turn whose message is stored and whose context is composed."""

    prepared: Prepared
    conversation_id: str
    message_id: int
    at: datetime
    removed: list[SecretKind] = field(default_factory=list)  # secrets taken out of the message
    finished: bool = False  # the turn is stored (a close after this interrupts nothing)


@dataclass
class PendingRetrieval:
    """A turn's retrieval with its lexical half done; `finish` adds the dense half."""

    kb: PendingSearch
    history: PendingHistorySearch | None
    facts: list[Fact]
    unavailable: list[str]

    def finish(self, query: QueryVectors) -> Retrieved:
        return Retrieved(
            passages=self.kb.finish(query),
            history=self.history.finish(query.vector) if self.history else [],
            facts=self.facts,
            unavailable=self.unavailable,
        )


@dataclass
class Prepared:
    """Everything up to and including compose: what the sidebar and `rapport context` need."""

    request: TurnRequest
    card: CustomerCard
    context: CustomerContext
    retrieved: Retrieved
    decision: Decision
    composed: Composed
    query: QueryVectors
    timer: Timer
    assignment: Assignment = field(default_factory=Assignment)
    # the prompt template the turn's variant chose, once; the turn records its version
    prompt: PromptTemplate | None = None

    @property
    def prompt_version(self) -> str:
        return self.prompt.id if self.prompt is not None else ""


EMBED_SETTLE_S = 30.0  # longest a failed turn waits for its embedding to finish


class Assistant:
    """Runs support turns; built once by the app factory or CLI with its collaborators."""

    def __init__(
        self,
        settings: Settings,
        profiles: ProfileRepository,
        conversations: ConversationStore,
        kb: KnowledgeBase,
        history: HistoryIndex,
        embedder: Embedder,
        generator: Generator,
        prompt: PromptTemplate,
        tokens: TokenCounter,
        policy: Policy | None = None,
        experiments: Experiments | None = None,
    ) -> None:
        self.settings = settings
        self.profiles = profiles
        self.conversations = conversations
        self.kb = kb
        self.history = history
        self.embedder = embedder
        self.generator = generator
        self.fallback = OfflineComposer()
        self.prompt = prompt
        self.tokens = tokens
        self.policy = policy or Policy.load()
        self.experiments = experiments or Experiments()
        lexicon = default_lexicon()
        self.lexicon = lexicon.only(settings.intent_list) if settings.intent_list else lexicon
        # Every enabled variant's template and policy are loaded now: a bad experiments
        # file fails at start-up, not on the turn of the customer who draws that variant.
        self._prompts = {prompt.id: prompt}
        self._policies: dict[str, Policy] = {}
        for exp in self.experiments.experiments:
            for v in exp.variants if exp.enabled else ():
                if v.prompt_version and v.prompt_version not in self._prompts:
                    self._prompts[v.prompt_version] = load_prompt(v.prompt_version)
                if v.policy_file and str(v.policy_file) not in self._policies:
                    self._policies[str(v.policy_file)] = Policy.load(v.policy_file)
        # The customer's message becomes searchable history after the reply is sent, in
        # batched background writes: only later turns read it.
        self._history_writer = HistoryWriter(history, settings.history_write_delay_s)
        # The query embedding runs beside the turn's SQL (ONNX Runtime and the database
        # drivers release the GIL), so its time hides behind storing the message and loading
        # context; concurrent turns share embedder calls.
        self._batcher = EmbedBatcher(embedder)

    def drain(self, customer_id: str | None = None, timeout: float = 10.0) -> None:
        """Write the waiting history items (of one customer, or all) now."""
        self._history_writer.flush(customer_id, timeout)

    # -- stages ---------------------------------------------------------------------

    def identify(self, request: TurnRequest) -> CustomerCard:
        """The customer's card; BadInput for an unusable message, NotFound for an unknown id."""
        self._checked_message(request)
        card = self.profiles.card(request.customer_id)
        if card is None:
            raise NotFound("unknown customer", subject=request.customer_id)
        if request.conversation_id is not None:
            owner = self.conversations.conversation_owner(request.conversation_id)
            # Conversation ids are issued by the server: an unknown one is never created,
            # and someone else's is reported exactly like a missing one.
            if owner != card.id:
                raise NotFound("unknown conversation", subject=request.conversation_id)
        return card

    def _checked_message(self, request: TurnRequest) -> str:
        """The stripped message; BadInput when it is empty or too long."""
        message = request.message.strip()
        if not message:
            raise BadInput("message is empty")
        if len(message) > self.settings.max_message_chars:
            raise BadInput(
                f"message is {len(message)} characters; the limit is "
                f"{self.settings.max_message_chars}"
            )
        return message

    def load_context(
        self, card: CustomerCard, message: str, said: Sequence[str] = ()
    ) -> CustomerContext:
        """Profile facts and history ids, gated by consent inside the repository (with the
        consents read with `card`, which the repository does not read again); `said`, the
        customer's earlier messages of the conversation (oldest first), for a follow-up."""
        earlier = said[-1] if said else None
        # "and the other one?" after a question about one of their records
        other = earlier is not None and "other" in self.lexicon.references_in(message)
        older = said[-1 - FOLLOWED_BACK : -1]  # what the previous message itself pointed to
        ctx = self.profiles.context(
            card.id, message, card=card, earlier=earlier, other=other, older=older
        )
        if ctx is None:
            raise NotFound("unknown customer", subject=card.id)
        return ctx

    def retrieve(
        self,
        ctx: CustomerContext,
        message: str,
        query: QueryVectors,
        assignment: Assignment | None = None,
    ) -> Retrieved:
        """KB passages for the message and the customer's own history items.

        The lexical half of KB search also sees what the message refers to: "cancel
        #W5442520" is a question about cancelling a *pending order*. The dense half keeps
        the message's own embedding (and its sub-queries'), computed in one call per turn."""
        return self.start_retrieve(ctx, message, assignment).finish(query)

    def start_retrieve(
        self,
        ctx: CustomerContext,
        message: str,
        assignment: Assignment | None = None,
        earlier: str | None = None,
    ) -> PendingRetrieval:
        """What `retrieve` does before it needs the query's vectors: BM25 over the KB and
        reading and BM25-ranking the customer's history items. A turn runs it while the
        query is being embedded; `earlier`, the customer's previous message, tells what a
        short follow-up asks."""
        self.drain(ctx.card.id)  # this customer's previous message is searchable now
        assignment = assignment or Assignment()
        kb_k = assignment.value("kb_top_k") or self.settings.kb_top_k
        history_k = assignment.value("history_top_k")
        history_k = self.settings.history_top_k if history_k is None else history_k
        # what the customer asks to do to a record they name ("close credit card" for "the
        # business one" after "I want to cancel my card") is in the query and a ranking
        # of its own: the article about doing it, beside the articles about the card
        asked = asked_actions(message, earlier, ctx.facts)
        lexical_query = " ".join([message, *query_hints(ctx), *asked])
        # what the customer holds by name finds the articles about it: "overdraft fee" from
        # a Green Account holder finds the Green Account's fees, not only the Blue's
        kb = self.kb.start_search(lexical_query, kb_k, [*sub_queries(message), *asked], ctx.holds)
        history = None
        unavailable = []
        if ctx.history_ids and history_k:
            try:
                history = self.history.start_search(
                    ctx.card.id, ctx.history_ids, message, k=history_k
                )
            except Exception as exc:  # noqa: BLE001 — past conversations are optional context
                # The vector store is down: answer from profile and KB, flagged degraded.
                log.warning("history search failed, answering without it: %s", exc)
                unavailable.append("history")
        return PendingRetrieval(kb, history, ctx.facts, unavailable)

    def decide(
        self,
        request: TurnRequest,
        card: CustomerCard,
        ctx: CustomerContext,
        retrieved: Retrieved,
        assignment: Assignment | None = None,
        conversation: list[Message] | None = None,
    ) -> Decision:
        """The policy's decision on the turn's signals, with the experiment variants and
        the answer plan (intents, records, what their status allows, the move)."""
        assignment = assignment or Assignment()
        policy_file = assignment.value("policy_file")
        policy = self._policies[str(policy_file)] if policy_file else self.policy
        signals = policy.signals(request, card, ctx, retrieved)
        decision = policy.decide(card, signals)
        decision.variant = assignment.label
        if assignment.variants:
            inputs = {e: v.name for e, v in assignment.variants}
            decision.trace.append(RuleHit(rule="experiment", inputs=inputs))
        message = request.message.strip()
        earlier = [m.text for m in conversation or [] if m.role == "customer"]
        language, source = reply_language(message, decision.style.language, earlier)
        decision.style.language = language
        decision.style.greeting = policy.greetings.get(language, decision.style.greeting)

        def planned(handoff: bool) -> AnswerPlan:
            plan = plan_turn(
                message,
                earlier=earlier,
                language=language,
                language_source=source,
                handoff=handoff,
                lexicon=self.lexicon,
                records=ctx.facts if decision.use_profile else [],
                id_patterns=ctx.id_patterns.values() if decision.use_profile else (),
            )
            if decision.use_profile:
                plan.declined = list(dict.fromkeys(c.record for c in ctx.declined))
            return plan

        plan = planned(decision.handoff)
        first_handoff = decision.handoff_rule
        recalled = bool(retrieved.history) and plan.has("recall")
        # "do you sell bikes?": what the business offers answers it
        offered = any(f.id.startswith(OFFERED_ID) for f in ctx.facts)
        if first_handoff == "handoff.low_confidence" and (
            plan.grounded() or _policy_answer(plan) or recalled or plan.social() or offered
        ):
            # The help articles have nothing close, but the customer's own records answer
            # (or show the item is not theirs), or what they told us before: no reason to
            # hand off.
            decision.handoff, decision.handoff_reason = False, None
            decision.handoff_urgent = False
            rule = (
                "plan.answers_from_history"
                if recalled
                else "plan.social"
                if plan.social()
                else "plan.answers_from_records"
            )
            decision.trace.append(RuleHit(rule=rule))
            plan = planned(False)
        lost = _arrived(ctx.facts) if "not_received" in signals["topics"] else []
        if lost and not decision.handoff:
            # "it says delivered but I never got it": the records say it arrived and the
            # customer says it did not; repeating "it has been delivered" answers nothing,
            # a person traces the parcel
            decision.handoff, decision.handoff_reason = True, "a delivered order did not arrive"
            decision.trace.append(RuleHit(rule="handoff.not_received", inputs={"orders": lost}))
            plan = planned(True)
        elif "not_received" in signals["topics"] and (coming := _under_way(ctx.facts)):
            # "i never got my parcel" of one on its way: its status answers, no person
            plan = plan.model_copy(update={"under_way": coming})
            decision.trace.append(RuleHit(rule="plan.under_way", inputs={"records": coming}))
        decision.plan = plan
        decision.trace.append(
            RuleHit(
                rule="plan",
                inputs={
                    "move": plan.move,
                    "language": f"{language} ({source})",
                    "intents": [i.name for i in plan.intents],
                    "records": [r.removeprefix("record:") for r in plan.record_ids()],
                },
            )
        )
        if decision.handoff:
            decision.style.urgent = self._urgent_help(decision, language)
        return decision

    def _urgent_help(self, decision: Decision, language: str) -> str | None:
        """The business's line for what the customer can do at once while the handoff
        waits (`urgent_help` by handoff rule: "security" → "call … 24/7"), in the reply's
        language, else English."""
        lines = self.settings.urgent_help.get(decision.handoff_rule.removeprefix("handoff."), {})
        return lines.get(language) or lines.get("en")

    def prompt_for(self, assignment: Assignment | None) -> PromptTemplate:
        version = assignment.value("prompt_version") if assignment else None
        return self._prompts[version] if version else self.prompt

    def compose(
        self,
        card: CustomerCard,
        decision: Decision,
        message: str,
        retrieved: Retrieved,
        conversation: list[Message],
        prompt: PromptTemplate | None = None,
    ) -> Composed:
        return compose.compose(
            prompt or self.prompt,
            self.tokens,
            self.settings.context_tokens,
            card,
            decision,
            message,
            retrieved.facts if decision.use_profile else [],
            retrieved.passages,
            retrieved.history if decision.use_history else [],
            conversation,
            brand=self.settings.brand,
        )

    def _uses_llm(self, composed: Composed) -> bool:
        """A handoff reply and the offline configuration are the composer's to write."""
        return not (composed.decision.handoff or self.generator.name == self.fallback.name)

    def generate(self, composed: Composed) -> tuple[Generation, bool]:
        """The reply and whether it is degraded (the LLM failed and the composer answered)."""
        if not self._uses_llm(composed):
            return self.fallback.generate(composed), False
        try:
            return self.generator.generate(composed), False
        except GenerationFailed as exc:
            log.warning("generation failed, offline composer answers: %s", exc)
            return self.fallback.generate(composed), True

    # -- whole turns ------------------------------------------------------------------

    def prepare(
        self,
        request: TurnRequest,
        conversation: list[Message] | None = None,
        timer: Timer | None = None,
        card: CustomerCard | None = None,
        embedding: Future[QueryVectors] | None = None,
    ) -> Prepared:
        """Run identify → compose with no side effect; a turn that has already identified
        the customer passes its card, timer and the query embedding it started."""
        timer = timer or Timer()
        if card is None:
            with timer.stage("identify"):
                card = self.identify(request)
        message = screen(request.message.strip()).text  # a turn's is screened already
        embedding = embedding or self._embed_soon(message)
        assignment = self.experiments.assign(card.id)
        with timer.stage("load_context"):
            said = [m.text for m in conversation or [] if m.role == "customer"]
            ctx = self.load_context(card, message, said)
            card = ctx.card  # read with the context: segments filled in under consent
        with timer.stage("retrieve"):  # the lexical half, while the query is embedded
            pending = self.start_retrieve(ctx, message, assignment, said[-1] if said else None)
        with timer.stage("embed"):  # what is left of it after the SQL and BM25 above
            query = embedding.result()
        with timer.stage("retrieve"):
            retrieved = pending.finish(query)
        with timer.stage("decide"):
            decision = self.decide(request, card, ctx, retrieved, assignment, conversation)
        prompt = self.prompt_for(assignment)
        with timer.stage("compose"):
            composed = self.compose(card, decision, message, retrieved, conversation or [], prompt)
        return Prepared(
            request, card, ctx, retrieved, decision, composed, query, timer, assignment, prompt
        )

    def turn(self, request: TurnRequest) -> TurnResult:
        """One full support turn; the customer's message is committed before generation."""
        started = self._begin(request)
        with started.prepared.timer.stage("generate"):
            generation, degraded = self.generate(started.prepared.composed)
        return self._finish(started, generation, degraded)

    def stream_turn(self, request: TurnRequest) -> Iterator[StreamEvent]:
        """A support turn whose reply arrives in pieces.

        Yields `token` events, a `reset` event if the pieces sent so far must be discarded
        (the LLM failed mid-reply or named ids outside the context; the offline composer's
        answer follows), and one final `done` event carrying the whole TurnResult. Bad
        input raises here, when called; the message is stored before the first event."""
        started = self._begin(request)  # errors surface here, before any event
        return self._stream(started)

    def _stream(self, started: _Started) -> Iterator[StreamEvent]:
        """The turn's events; closing the iterator early (the customer went away) stops
        generation and records the turn as interrupted, with the message kept."""
        try:
            yield from self._stream_events(started)
        except GeneratorExit:
            if not started.finished:
                self._interrupted(started)
            raise

    def _interrupted(self, started: _Started) -> None:
        prepared = started.prepared
        self.conversations.record_interrupted(
            Turn(
                id=uuid.uuid4().hex,
                conversation_id=started.conversation_id,
                customer_id=prepared.card.id,
                message_id=started.message_id,
                generator=self.generator.name if self._uses_llm(prepared.composed) else "",
                interrupted=True,
                variant=prepared.decision.variant,
                prompt_version=prepared.prompt_version,
                context_ids=[s.id for s in prepared.composed.sources],
                timings_ms=prepared.timer.ms,
            )
        )
        log.info("streamed turn interrupted: the client went away")

    def _stream_events(self, started: _Started) -> Iterator[StreamEvent]:
        composed = started.prepared.composed
        timer = started.prepared.timer
        pieces: list[str] = []
        degraded = False
        use_llm = self._uses_llm(composed)
        with timer.stage("generate"):
            if use_llm:
                try:
                    for piece in self.generator.stream(composed):
                        pieces.append(piece)
                        yield StreamEvent(type="token", text=piece)
                except GenerationFailed as exc:
                    log.warning("streamed generation failed, offline composer answers: %s", exc)
                    degraded = True
                    if pieces:
                        yield StreamEvent(type="reset")
            if use_llm and not degraded:
                text = "".join(pieces)
                generation = Generation(
                    text=text,
                    generator=self.generator.name,
                    cited=cited_numbers(text, len(composed.sources)),
                )
            else:
                generation = self.fallback.generate(composed)
                for piece in self.fallback.stream(composed):
                    yield StreamEvent(type="token", text=piece)
        result = self._finish(started, generation, degraded)
        started.finished = True
        if result.answer.startswith(generation.text):
            if rest := result.answer[len(generation.text) :]:
                yield StreamEvent(type="token", text=rest)  # e.g. the secrets notice
        else:
            yield StreamEvent(type="reset")
            yield StreamEvent(type="token", text=result.answer)
        yield StreamEvent(type="done", result=result)

    def _embed_soon(self, message: str) -> Future[QueryVectors]:
        done: Future[QueryVectors] = Future()
        if not self.settings.embed_overlap:
            done.set_result(embed_message(self.embedder, message))
            return done
        texts = message_texts(message)

        def finish(vectors: Future[np.ndarray]) -> None:
            if (exc := vectors.exception()) is not None:
                done.set_exception(exc)
            else:
                done.set_result(query_vectors(texts, vectors.result()))

        self._batcher.submit(texts).add_done_callback(finish)
        return done

    def _begin(self, request: TurnRequest) -> _Started:
        timer = Timer()
        # The embedding starts first (it is the turn's longest step and runs beside the
        # SQL); a message that fails identify's checks is never embedded.
        # Card numbers, security codes and passwords leave the message before anything
        # keeps it, embeds it or sends it on.
        screened = screen(self._checked_message(request))
        request = request.model_copy(update={"message": screened.text})
        embedding = self._embed_soon(screened.text)
        try:
            with timer.stage("identify"):
                card = self.identify(request)
            with timer.stage("store_message"):
                conversation_id, message_id, at = self.conversations.start_turn(
                    card.id, request.conversation_id, screened.text, request.channel
                )
        except BaseException:
            # An unknown customer ends the turn while its embedding still runs in the
            # model's native threads; a command line that exits then is aborted by the
            # runtime ("terminate called without an active exception"), so it is awaited.
            wait([embedding], timeout=EMBED_SETTLE_S)
            raise
        earlier = self.conversations.recent_messages(conversation_id, message_id)
        prepared = self.prepare(
            request.model_copy(update={"conversation_id": conversation_id}),
            earlier,
            timer=timer,
            card=card,
            embedding=embedding,
        )
        return _Started(prepared, conversation_id, message_id, at, screened.removed)

    def _finish(self, started: _Started, generation: Generation, degraded: bool) -> TurnResult:
        prepared, card, timer = started.prepared, started.prepared.card, started.prepared.timer
        with timer.stage("check"):
            generation, degraded, extra_trace = self._check(prepared, generation, degraded)
        result = self._result(prepared, generation, degraded, extra_trace, started.removed)
        with timer.stage("persist"):
            turn_id = uuid.uuid4().hex
            # The customer's message, reusing the turn's query embedding, as history.
            remembered = (
                HistoryRecord(
                    id=message_history_id(started.message_id),
                    customer_id=card.id,
                    kind="message",
                    text=prepared.composed.message,
                    created_at=started.at,
                )
                if card.allows("history")
                else None
            )
            self.conversations.finish_turn(
                Turn(
                    id=turn_id,
                    conversation_id=started.conversation_id,
                    customer_id=card.id,
                    message_id=started.message_id,
                    generator=result.generator,
                    degraded=degraded,
                    handoff=result.handoff,
                    variant=prepared.decision.variant,
                    prompt_version=prepared.prompt_version,
                    context_ids=[s.id for s in prepared.composed.sources],
                    timings_ms=timer.ms,
                ),
                result.answer,
                HistoryItem(**remembered.model_dump()) if remembered else None,
            )
            if remembered:
                self._history_writer.add(remembered, prepared.query.vector)
        result.timings_ms = dict(timer.ms)
        result.conversation_id = started.conversation_id
        result.turn_id = turn_id
        return result

    def _check(
        self, prepared: Prepared, generation: Generation, degraded: bool
    ) -> tuple[Generation, bool, list[RuleHit]]:
        trace: list[RuleHit] = []
        composed = prepared.composed
        leaked = check.foreign_identifiers(
            composed, generation.text, prepared.context.id_patterns.values()
        )
        stated = check.personal_facts_stated(composed, generation)
        denied = check.never_mentioned(composed, generation.text)
        llm = generation.generator != self.fallback.name
        context = prepared.context
        wrong = (
            check.wrong_record_claims(generation.text, context.facts, context.record_statuses)
            if llm
            else []
        )
        relayed = llm and check.relayed_prompt(composed, generation.text)
        # Every problem found is named in the trace; any one of them replaces the reply.
        if relayed:
            # The LLM repeated its instructions or data blocks: never shown to the customer.
            log.warning("reply relayed its prompt; replaced")
            trace.append(RuleHit(rule="check.relayed_prompt_replaced"))
        if wrong:
            # A status that SQL contradicts: the grounded composer answers instead.
            log.warning("reply stated a wrong status for %d records; replaced", len(wrong))
            trace.append(RuleHit(rule="check.wrong_claim_replaced", inputs={"orders": wrong}))
        if leaked:
            # An identifier the context does not hold is invented or someone else's:
            # the reply is not shown; the grounded composer answers instead.
            log.warning("reply named %d identifiers not in context; replaced", len(leaked))
            trace.append(
                RuleHit(rule="check.foreign_identifier_replaced", inputs={"count": len(leaked)})
            )
        if llm and (len(stated) > composed.decision.max_personal_facts or denied):
            # The over-personalization guard: too many personal facts, or a denied one, in
            # a model's reply (the composer's own list of what was asked is no overreach)
            log.info(
                "reply stated %d personal facts, %d denied; replaced", len(stated), len(denied)
            )
            trace.append(
                RuleHit(
                    rule="guard.reply_replaced",
                    inputs={
                        "personal_facts": len(stated),
                        "max_personal_facts": composed.decision.max_personal_facts,
                        "denied_attributes": denied,
                    },
                )
            )
        if trace and generation.generator != self.fallback.name:
            generation = self.fallback.generate(composed)
            degraded = True
        return generation, degraded, trace

    def _result(
        self,
        prepared: Prepared,
        generation: Generation,
        degraded: bool,
        trace: list[RuleHit],
        removed: list[SecretKind] | None = None,
    ) -> TurnResult:
        composed = prepared.composed
        answer = generation.text
        if removed:
            answer += "\n\n" + _secrets_notice(prepared, removed)
            trace = trace + [RuleHit(rule="screen.secrets_removed", inputs={"kinds": removed})]
        missing = prepared.retrieved.unavailable
        degraded = degraded or bool(missing)
        trace = trace + [RuleHit(rule=f"retrieve.{source}_unavailable") for source in missing]
        handoff = prepared.decision.handoff or generation.cannot_answer
        reason = prepared.decision.handoff_reason or (
            "no grounded answer" if generation.cannot_answer else None
        )
        citations = _for_customer(
            check.citations(composed, generation), prepared, composed.decision.style.language
        )
        return TurnResult(
            answer=answer,
            secrets_removed=removed or [],
            message_kept=prepared.request.message if removed else None,
            citations=citations,
            context=context_info(composed),
            handoff=handoff,
            handoff_reason=reason,
            handoff_urgent=handoff and prepared.decision.handoff_urgent,
            language=composed.decision.style.language,
            generator=generation.generator,
            degraded=degraded,
            timings_ms=dict(prepared.timer.ms),
            decision_trace=prepared.decision.trace + trace,
            segments=prepared.decision.segments,
            variant=prepared.decision.variant,
            plan=prepared.decision.plan,
        )


def _arrived(facts: list[Fact]) -> list[str]:
    """The keys of the mapped records a reply reads (the best named), when every one of
    them has reached the customer (its kind's `arrived` statuses)."""
    return [f.id.split(":", 2)[2] for f in _best_all(facts, lambda f: bool(f.arrived))]


def _under_way(facts: list[Fact]) -> list[str]:
    """The ids of the mapped records a reply reads, when every one of them is still on its
    way (its kind's `open` statuses) and none has arrived."""
    return [f.id for f in _best_all(facts, lambda f: bool(f.open) and not f.arrived)]


def _best_all(facts: list[Fact], holds: Callable[[Fact], bool]) -> list[Fact]:
    """The records a reply reads (the best named), when `holds` of every one of them."""
    read = best_named(facts)
    return read if read and all(holds(f) for f in read) else []


def _for_customer(citations: list[Citation], prepared: Prepared, language: str) -> list[Citation]:
    """The citations as the customer reads them, in the reply's language: what the widget
    calls each ("Pedido #W…", "Tu cuenta", a passage's own title), a record in the
    business's text for that language."""
    catalog = load_catalog(language)
    sources = {s.id: s for s in prepared.composed.sources}
    out = []
    for c in citations:
        text = sources[c.id].texts.get(language) if c.id in sources else None
        shown = text or c.text
        # a record without its key up front ("Wristwatch (leather, white) in order …"):
        # what its text opens with, when that is short
        named = (record_label(shown, c.id) or _opening_words(shown)) if c.kind == "record" else None
        label = (
            named
            or c.title
            or catalog.text(f"sources.{'record' if c.kind == 'profile' else c.kind}")
        )
        out.append(c.model_copy(update={"label": label, "customer_text": text}))
    return out


LABEL_WORDS = 40  # characters: a record's opening words longer than this are no label


def _opening_words(text: str) -> str | None:
    """What a record's text opens with, up to its first parenthesis, colon or comma
    ("Wristwatch"), None when that is long or empty."""
    head = re.split(r"\s*[(:,]", text, maxsplit=1)[0].strip()
    return head if 0 < len(head) <= LABEL_WORDS else None


def _secrets_notice(prepared: Prepared, removed: list[SecretKind]) -> str:
    """What the reply says about the secrets taken out, in the reply's language."""
    plan = prepared.decision.plan
    cat = load_catalog(plan.language if plan else "en")
    names = [cat.text(f"secret_kinds.{kind}") for kind in removed]
    return cat.text("secrets_removed", what=cat.join(names))


def _policy_answer(plan: AnswerPlan) -> bool:
    """Whether the business's reply catalog answers the plan's policy question itself."""
    if not plan.about_policy:
        return False
    catalog = load_catalog(plan.language)
    return any(catalog.has(f"policy.{i.name}") for i in plan.intents)


def query_hints(ctx: CustomerContext) -> list[str]:
    """Words for the kind and state of the records the message names ("order pending",
    "debit card active")."""
    named = [
        f for f in ctx.facts if f.kind == "record" and f.status and f.relevance >= NAMED_PRODUCT
    ]
    return [f"{record_kind(f.id).replace('_', ' ')} {f.status}" for f in named[:2]]


def context_info(composed: Composed) -> ContextInfo:
    """The context block of a turn result."""
    return ContextInfo(
        text=composed.text,
        tokens=composed.tokens,
        customer_id=composed.customer_id,
        passage_ids=composed.ids("kb"),
        history_ids=composed.ids("history"),
        fact_ids=composed.ids(("product", "profile", "record")),
    )
