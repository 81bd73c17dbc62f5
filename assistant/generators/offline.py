"""The offline grounded composer: a deterministic, extractive, cited reply.

It answers from the customer's own facts that the message points at and from the
knowledge-base sentences that best match the message, cites every source it uses,
and says plainly when it has nothing to answer with. It never follows instructions
found in data: it only quotes sentences, it does not execute them."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator

from assistant.generators.realize import Realizer
from assistant.injection import addresses_the_assistant
from assistant.turn.types import AnswerPlan
from assistant.types import Composed, Decision, Generation, ReplyStyle, Source
from profiles.context import (
    NONE_HELD,
    OFFERED_ID,
    RecordAction,
    kind_phrase,
    linked_stand_in,
    record_kind,
    stand_in,
)
from profiles.mapping import spoken
from profiles.relevance import (
    DURATION,
    EXPLICIT_ID,
    HOW_LONG,
    HOW_TO,
    NAMED_PRODUCT,
    NEGATED,
    REQUEST,
    WH,
    WHY,
    YET,
    asks_amount,
    asks_whether,
    intents,
    phrasal,
    unaccented,
    words,
)
from prompts.catalog import ReplyCatalog, load_catalog
from retrieval.lexical import stem

# Sentences written for staff (about "the user", agents, tools, internal steps) are not
# read to customers.
_AGENT_ONLY_RE = re.compile(
    r"\b[a-z]+(?:_[a-z0-9]+)+\b|\(agent action\)|\binternal\b|\bthe (?:user|customer)'?s?\b"
    r"|\busers?\b|\bthe customers?\b"
    r"|\bagents?\b|\btools?\b|\bdatabase\b|\badvise the\b|\bauthenticat\w*|\bescalat\w*"
    r"|\b(?:you|agents?) (?:should|must) (?:check|verify|confirm|ask)\b|\bverify the\b"
    r"|\bexplicit (?:user )?confirmation\b|\bfunctions?\b|\bcalled\b|\bAPI\b"
    r"|\b(?:tell|inform|ask|remind|offer) (?:the )?customers?\b"
    # steps on the business's systems: "Look up the debit card information", "check the
    # card's status field", "If status is PENDING → …", "follow the lost card protocol"
    r"|\blook up\b|\bfields?\b|→|\bprotocols?\b"
    # a script's steps: "Recommend freezing the card", "Explain: …", "DO NOT provide
    # specific details if …" (what staff may say, not what the customer is told)
    r"|^\W*(?:recommend|explain|say|ask|offer)\b|\bdo not (?:provide|disclose|share|reveal)\b"
    # the customer in the third person, told to staff: "Check if they have another active
    # card or offer to order a replacement"
    r"|^\W*(?:check|confirm|verify|determine|see|find out) (?:if|whether) (?:they|he|she)\b"
    r"|\boffer to (?:order|send|issue|replace|close|open)\b",
    re.I,
)
_HEADING_RE = re.compile(r"\s*#+(\s*)")
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])|\n+")
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "could",
        "do",
        "does",
        "did",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "want",
        "wanted",
        "like",
        "just",
        "also",
        "about",
        "am",
        "any",
        "all",
        "some",
        "get",
        "got",
        "please",
        "need",
        "know",
    ]
)
HELD_SHARES = 2  # words asked beyond the records an article about what they hold must share
HELD_ANSWERS = 0.6  # of the best sentence's score: the customer's own product's answers
_KB_SENTENCES = {"short": 1, "normal": 3, "full": 5}  # policy sentences by reply length


def _content(text: str) -> list[str]:
    return stem([w for w in words(text) if w not in _STOP and len(w) > 1])


POINTING_WORDS = 2  # a question with this few content words may mean a record by "it"


def _pointed_at(composed: Composed) -> set[str]:
    """What a short question naming nothing asks about, when it points back at one of
    the customer's records: its kind and its status ("how do I get it back on?" after a
    question about a suspended line: "line", "suspended"), which the help article's
    sentences say ("A suspended line is restored as soon as …")."""
    asked = set(_content(composed.message))
    named = [s for s in composed.sources if s.kind == "record" and s.relevance >= 1.0]
    if len(asked) > POINTING_WORDS or not named:
        return set()
    top = max(named, key=lambda s: s.relevance)
    said = set(_content(" ".join([*top.terms, spoken(top.status or "")])))
    if asked & said:
        return set()  # it names the record itself ("how do I restore my line?")
    return _kind_and_status(top)


def _kind_and_status(record: Source) -> set[str]:
    """A record's kind and status as a help article says them: "line", "suspended"."""
    kind = record_kind(record.id).replace("_", " ")
    return set(_content(f"{kind} {spoken(record.status or '')}"))


# a sentence telling what brings something about: "If a bill stays overdue for 15 days,
# the line is suspended", "Cuando …", "Wenn …"
_CAUSE = re.compile(
    r"\b(?:if|when|after|because|once|unless|si|cuando|porque|despu[eé]s de|lorsque|quand"
    r"|parce que|apr[eè]s|wenn|falls|weil|nachdem)\b",
    re.I,
)
_WHY_CANDIDATES = 12  # sentences weighed before those telling a cause are kept


_TIMING = set(
    _content(
        "does do did will would usually normally typically take takes taking"
        " tarda tardan demora prend prennent dauert dauern"
    )
)


_EMPHASIS_RE = re.compile(r"\*\*|__")  # markdown bold, read as plain words


def _sentences(source: Source) -> list[tuple[str, bool]]:
    """The passage's sentences of four words or more, each with whether it is a heading
    ("## How to initiate a transfer") or a question: what the sentences after it are
    about, not an answer."""
    out: list[tuple[str, bool]] = []
    for line in source.text.splitlines():
        if "|---" in line.replace(" ", ""):  # a table: each row is read as "item: value"
            out += [(row, False) for row in _table_rows(line)]
            continue
        marks = _HEADING_RE.match(line)  # "## " heads a section; a bare "#" is dropped
        body = line[marks.end() :] if marks else line
        heading = bool(marks and marks.group(1))
        for part in _SENTENCE_RE.split(body):
            part = _EMPHASIS_RE.sub("", part).strip(" -*\t")  # "**Wrong amount**: …"
            if len(part.split()) >= 4:
                asks = part.rstrip(" '\"’”").endswith("?")
                out.append((part, heading or asks))
    return out


def _table_rows(text: str) -> list[str]:
    """A markdown table's rows after its header, each as "Monthly maintenance fee:
    $22.50", whether its rows are on lines of their own or run together on one."""
    rows: list[list[str]] = [[]]
    for cell in (c.strip() for c in text.split("|")[1:-1]):
        if cell:
            rows[-1].append(cell)
        elif rows[-1]:
            rows.append([])  # "| |" between two rows run together
    rows = [r for r in rows if r and not all(set(c) <= set("-: ") for c in r)]
    return [": ".join(r) for r in rows[1:] if len(r) >= 2]


def _greeted(greeting: str, sep: str, body: str) -> str:
    """The body under its greeting; straight away when there is none (a conversation under
    way is not greeted again)."""
    return f"{greeting}{sep}{body}" if greeting else body


class OfflineComposer:
    """The default generator when no LLM is configured, and the fallback when it fails."""

    name = "offline"

    def generate(self, composed: Composed) -> Generation:
        return self._generate(composed, hand_off=True)

    def draft(self, composed: Composed) -> Generation:
        """A reply an agent can send as is: the plan's answer without the bot's handoff
        sentence and without [n] markers (`cited` keeps the sources); empty text when
        there is nothing grounded to say."""
        g = self._generate(composed, hand_off=False)
        text = "" if g.cannot_answer else re.sub(r" ?\[\d{1,3}\]", "", g.text)
        return g.model_copy(update={"text": text})

    def _generate(self, composed: Composed, hand_off: bool) -> Generation:
        decision = composed.decision
        style = decision.style
        plan = decision.plan
        cat = load_catalog(plan.language if plan else style.language)
        first = composed.card.name.split()[0] if decision.use_profile and composed.card.name else ""
        greeting = (
            cat.text("greeting", greeting=style.greeting, name=first)
            if first
            else cat.text("greeting_anonymous", greeting=style.greeting)
        )
        if composed.replied_before:
            greeting = ""  # the conversation is under way: answer straight away
        if decision.handoff and hand_off:
            when = (
                cat.text("handoff_open")
                if style.business_hours or not style.next_opening
                else cat.text(
                    "handoff_closed",
                    local_time=style.local_time,
                    next_opening=_opening(cat, style),
                )
            )
            # The customer reads why in their own words; the internal reason ("a VIP
            # customer is unhappy") stays in the staff detail.
            body = f"{_handoff_words(cat, decision)} {when}"
            if style.urgent:  # what they can do right now, in the business's words
                body += f" {style.urgent}"
            text = _greeted(greeting, " ", body)
            return Generation(text=text, generator=self.name)
        short = style.length == "short"  # a phone screen: plain sentences, no list
        if plan is not None and plan.declined:
            # "ok wait, don't cancel": taken back, so nothing is done and nothing offered again
            return Generation(
                text=_greeted(greeting, " ", cat.text("declined")), generator=self.name
            )
        if plan is not None and (plan.about_records or plan.social() or plan.has("recall")):
            realizer = Realizer(composed, cat)
            said = realizer.plan(plan)
            rules = _policy_lines(cat, plan) if plan.about_policy else []
            if said:
                # "what is your policy on …": the business's customer-facing rule, else
                # the best help-article sentences
                said += [r for r in rules if r not in said]
                used = list(realizer.cited)
                kb = self._best_sentences(composed, 2) if plan.about_policy and not rules else []
                out = [" ".join(said)]
                if kb and not short:
                    out.append(cat.text("policy_intro"))
                for sentence, s in kb:
                    out.append(f"{sentence} [{s.n}]" if short else f"- {sentence} [{s.n}]")
                    if s.n not in used:
                        used.append(s.n)
                # a phone gets one short paragraph, still under its own greeting line
                sep = " " if short else "\n"
                text = _greeted(greeting, "\n", sep.join(out))
                return Generation(text=text, generator=self.name, cited=used)
        lines: list[str] = []
        cited: list[int] = []
        # Records of any kind a business mapped (accounts, cards …) that the message names
        # or names the kind of: read to the customer as the business's mapping shows them.
        # "how do I dispute a charge?" asks for the way, not for the customer's charges:
        # records then only when the message names one of them by its id or by what it
        # holds ("how can I return my tablet?": the order line of their tablet), which a
        # kind word alone does not reach
        how = HOW_TO.search(composed.message) is not None
        records = [
            s
            for s in composed.sources
            if s.kind == "record" and s.relevance >= 1.0 and (not how or _how_to_reads(s, composed))
        ]
        # what the message names that they hold none of ("my debit card", only credit cards)
        for s in (s for s in records if s.id.startswith(NONE_HELD)):
            lines.append(cat.text("records_none", what=s.terms[0] if s.terms else ""))
        records = [s for s in records if not s.id.startswith(NONE_HELD)]
        # "do you sell bikes?": what the business offers of it, and what can be had now
        for s in (s for s in composed.sources if s.id.startswith(OFFERED_ID)):
            whole, *now = s.terms or [s.text]
            key = "offered" if now else "offered_none"
            lines.append(f"{cat.text(key, what=whole)} [{s.n}]")
            lines += [f"- {part}" for part in now]
            cited.append(s.n)

        def listed(s: Source, after: str = "", bullet: bool = True) -> None:
            """A record as its own line (a bullet of a list, but on a phone), cited."""
            # what is said of it is a sentence of its own: "… ending 9182 [2]. It is pending"
            text = s.text_in(cat.language)
            line = f"{text.rstrip('.')} [{s.n}]. {after}" if after else f"{text} [{s.n}]"
            lines.append(f"- {line}" if bullet and not short else line)
            cited.append(s.n)

        choice = plan.choose if plan is not None else None
        if choice is not None:
            # "I want to cancel my card" from someone with two: which one, before anything
            chosen = [s for i in choice.records for s in records if s.id == i]
            action = next((a for s in chosen for a in s.actions if a.name == choice.action), None)
            if action is not None and len(chosen) > 1:
                key = "records_which_more" if choice.more else "records_which"
                word = action.name_in(cat.language, composed.message.lower())
                lines.append(cat.text(key, action=word))
                for s in chosen:
                    listed(s)
                text = _greeted(greeting, "\n", ("\n" if not short else " ").join(lines))
                return Generation(text=text, generator=self.name, cited=cited)
        if records:  # the best-named ones only: "debit card" is not also every credit card
            top = max(s.relevance for s in records)
            records = [s for s in records if s.relevance > top - 0.5]
        records = records[: 1 if short else max(decision.max_personal_facts, 0)]
        doing: list[tuple[Source, RecordAction]] = []  # asked, and its status allows it
        under_way = set(plan.under_way) if plan is not None else set()
        if len(records) > 1:  # one is said as it is, not as a list of one under this
            lines.append(cat.text("records_intro"))
        if records:
            lowered = (plan.action_text if plan is not None else "") or composed.message.lower()
            # "freeze my card" of two credit cards, which no status of lets freeze: said
            # once, after them
            never = (
                [a for a in records[0].actions if not a.known and a.asked_in(lowered)]
                if len(records) > 1
                else []
            )
            how_much = asks_amount(composed.message)
            said_of: list[list[str]] = []
            told_of: list[list[str]] = []
            asked_of: list[list[RecordAction]] = []
            stands_of: list[str] = []  # a yes or no to a question naming a status, of each
            for s in records:
                # "can I cancel BK1?": what its status allows, by the business's own rules;
                # "¿por qué fue cancelado?" asks why of its status, not the action
                stands = _how_it_stands(cat, s, composed.message)
                stands_of.append(stands)
                why = bool(stands) and WHY.search(composed.message) is not None
                asked = [a for a in s.actions if a.asked_in(lowered) and a not in never and not why]
                asked_of.append(asked)
                # allowed, or allowed by its status but not met yet: the way and its terms
                doing += [(s, a) for a in asked if a.allowed or a.why]
                said = [_action_sentence(cat, s, a, lowered, composed.sources) for a in asked]
                outcomes = [_outcome(cat, s, a, composed.sources) for a in asked]
                told_of.append(list(dict.fromkeys(o for o in outcomes if o)))
                if not asked and stands:
                    said.insert(0, stands)  # "is it active yet?": "Not yet: it is pending."
                if not asked and how_much and (paid := s.amount_in(cat.language)):
                    said.append(paid)  # "how much did I pay?": "You paid $663.85 for it."
                if s.id in under_way and len(records) == 1:
                    # "i never got my parcel" of one on its way: where it is
                    status = s.status_in(cat.language)
                    said.insert(0, cat.text("record_action.under_way", status=status))
                said_of.append(said)
            # the same said of each of several ("It is pending, so you can't return it
            # now" three times): said once, after them, of them all
            once = ""
            alike = len(said_of[0]) == 1 and all(x == said_of[0] for x in said_of)
            if len(records) > 1 and asked_of[0] and alike:
                once = _action_sentence(
                    cat, records[0], asked_of[0][0], lowered, composed.sources, all_of=True
                )
                once = "" if once == said_of[0][0] else once  # no wording for them all
            elif len(records) > 1 and alike and stands_of[0] and said_of[0][0] == stands_of[0]:
                # "has my stuff shipped yet?" of three pending orders: "Not yet: they are
                # all pending." once, after them, not after each
                once = _how_it_stands(cat, records[0], composed.message, all_of=True)
                once = "" if once == stands_of[0] else once
            # what the action offered does is each record's own ("the $63.50 you paid"):
            # told of one alone, or of each where what is said differs
            for s, said, told in zip(records, said_of, told_of, strict=True):
                listed(s, "" if once else " ".join([*said, *told]), bullet=len(records) > 1)
            if once:
                lines.append(once)
            if len(records) > 1 and all(s.id in under_way for s in records):
                lines.append(cat.text("record_action.under_way_all"))  # said once, after them
            for a in never:
                lines.append(
                    cat.text("record_action.unknown_all", action=a.name_in(cat.language, lowered))
                )
        rules = _policy_lines(cat, plan) if plan is not None and plan.about_policy else []
        # The business's own customer-facing answer to a policy question (catalog
        # `policy.<intent>`) answers it; help-article sentences answer the rest.
        lines += rules
        # The customer's own records answer a question about them; help-article sentences
        # beside them are noise unless the question is about a policy, or asks what the
        # records do not hold: a request ("can I get a replacement card, mine is broken"
        # wants the way to a new card, from an article about replacements), or a question
        # the article about what they hold answers ("what's the overdraft fee on my
        # account": the Green Account's fee, beside the Green Account).
        about_policy = plan is not None and plan.about_policy
        most = _KB_SENTENCES[style.length]
        intro = ""
        if rules:
            kb = []
        elif doing and not about_policy:
            # "I want to cancel my card": what it takes, from the article about doing it to
            # that kind of record ("How can I close a credit card account?"), found by
            # the business's every name for the action, whichever the customer used
            about, also = _doing_words(doing)
            kb = self._best_sentences(composed, most, about, also=also, one_article=True)
            kb = [(sent, src) for sent, src in kb if _for_their_kind(src, doing)]
            intro = cat.text("action_intro", action=doing[0][1].name_in(cat.language, lowered))
        elif records and not about_policy:
            beyond = _unheld(composed.message, records)
            # a request, or how long something takes ("y cuánto tarda el reembolso"), is
            # answered by any article about it, not only one about what they hold
            asks = REQUEST.search(composed.message) or HOW_LONG.search(composed.message)
            kb = (
                self._best_sentences(
                    composed, min(most, 2), beyond, held_only=not asks, beside_records=True
                )
                if beyond
                else []
            )
            unknown = [s for s in records if _stand(s, composed.message) == "why_unknown"]
            if not kb and unknown:
                # "why is my line suspended?": the record does not tell; a help article's
                # sentence on what puts that kind in that status may ("If a bill stays
                # overdue for 15 days, the line is suspended")
                about = _kind_and_status(unknown[0])
                kb = self._best_sentences(composed, _WHY_CANDIDATES, also=about)
                kb = [
                    (sent, src)
                    for sent, src in kb
                    if about <= set(_content(sent)) and _CAUSE.search(sent)
                ][: min(most, 2)]
        else:
            also = _pointed_at(composed)
            kb = self._best_sentences(composed, most, also=also, beside_records=bool(records))
        if kb and not short:
            lines.append(intro or cat.text("policy_intro" if rules else "kb_intro"))
        for sentence, s in kb:
            lines.append(f"{sentence} [{s.n}]" if short else f"- {sentence} [{s.n}]")
            if s.n not in cited:
                cited.append(s.n)
        if not lines:
            text = _greeted(greeting, " ", cat.text("cannot_answer"))
            return Generation(text=text, generator=self.name, cannot_answer=True)
        text = _greeted(greeting, "\n", "\n".join(lines) if not short else " ".join(lines))
        return Generation(text=text, generator=self.name, cited=cited)

    def stream(self, composed: Composed) -> Iterator[str]:
        text = self.generate(composed).text
        yield from re.split(r"(?<=\s)", text)

    @staticmethod
    def _best_sentences(
        composed: Composed,
        most: int,
        about: set[str] | None = None,
        held_only: bool = False,
        also: set[str] | None = None,
        one_article: bool = False,
        beside_records: bool = False,
    ) -> list[tuple[str, Source]]:
        """The help-article sentences that best answer the message, in document order.
        With `about` (what the message asks beyond the customer's records), only ones
        under a heading that shares one of those words (the article is about it), or,
        `held_only`, ones that share it from an article about what the customer holds.
        `also` are words the message means without saying them (the business's name for
        the action it asks); `one_article`, the best sentence's article only;
        `beside_records`, the customer's records are read to them in the same reply."""
        passages = [s for s in composed.sources if s.kind == "kb" and (s.held or not held_only)]
        if not passages:
            return []
        timing = HOW_LONG.search(composed.message)
        query = set(_content(composed.message)) | (also or set())
        if timing:  # "how long does a dispute take?" asks about a dispute: "long", "take"
            # are the question, which a sentence saying how long answers
            query -= _TIMING | set(_content(timing.group(0)))
        wanted = intents(composed.message)
        # Sentences for agents are not read to customers; sentences addressed to the
        # assistant are injection attempts, and quoting them would be obeying them.
        candidates: list[tuple[str, Source, set[str]]] = []
        for s in passages:
            # the question an FAQ's answer answers, or the heading a section's sentences sit
            # under: from the start, the passage's own ("… > Set up direct deposit": its
            # steps answer "how do i set up direct deposit" without repeating its words)
            asked: set[str] = set(_content(s.title.rpartition(" > ")[2])) if s.title else set()
            for sent, heads in _sentences(s):
                # a heading or a question ("How long do transfers take?", "Did you report it
                # lost?", a script's line) is not an answer: the sentences after it are
                # read with it; "… any of the following situations:" promises a list it
                # would not bring
                if heads:
                    asked = set(_content(sent))
                elif (
                    not sent.rstrip().endswith(":")
                    and not _AGENT_ONLY_RE.search(sent)
                    and not addresses_the_assistant(sent)
                ):
                    candidates.append((sent, s, asked))
        df: Counter[str] = Counter()
        for sent, _, _ in candidates:
            df.update(set(_content(sent)))
        n = len(candidates)
        scored = []
        shared: dict[int, int] = {}  # how many of the question's words each sentence shares
        for idx, (sent, s, asked) in enumerate(candidates):
            terms = set(_content(sent))
            overlap = (terms | asked) & query
            shared_intent = wanted & intents(sent)
            # two shared words, or one with the same intent or that its section's heading
            # (or its FAQ question) shares too ("To file a dispute, contact us" under "How
            # to Dispute a Credit Card Transaction"); a question of one content word ("when
            # are you open?") needs only that word
            headed = overlap & (set(_content(s.title)) | asked)
            # an article about what they hold answers what the records do not when it shares
            # two of those words ("overdraft fee"), not one left over ("pay", "new")
            if about is not None and (
                len(overlap & about) < HELD_SHARES if held_only else not headed & about
            ):
                continue
            if not overlap or (
                len(overlap) < min(2, len(query)) and not shared_intent and not headed
            ):
                continue
            score = sum(math.log(1 + n / max(df[w], 1)) for w in overlap)
            score /= math.sqrt(len(terms) + 1)
            score += 0.5 * len(shared_intent)
            # what it asks beyond the records counts more than what the records say too:
            # "monthly fee on my checking" is the monthly fee, not a fee on checks
            score += 0.5 * len(overlap & about) if about else 0.0
            score += 0.3 / (1 + passages.index(s))  # retrieval rank as a tie-breaker
            scored.append((score, idx, sent, s))
            shared[idx] = len(overlap)
        scored.sort(key=lambda t: (-t[0], t[1]))
        if timing:  # answered by a sentence that says how long, about what it asks
            top_shared = max((shared[t[1]] for t in scored), default=0)
            timed = [t for t in scored if shared[t[1]] == top_shared and DURATION.search(t[2])]
            # beside the customer's records, which say how things stand, a sentence that
            # says no time answers nothing ("how long until my new card arrives": not a
            # promotion's terms because they say "card" and "new")
            scored = timed or ([] if beside_records else scored)
        # an article about what the customer holds answers for it, when it answers about as
        # well: the same question's answer for another product (another account's fee)
        # would contradict it
        held = [t for t in scored if t[3].held]
        if held and held[0][0] >= HELD_ANSWERS * scored[0][0]:
            scored = held
        # what shares less than half as much of the question as the best answer does ("a
        # discount on safe deposit box rental" beside the steps to set up direct deposit)
        most_shared = max((shared[t[1]] for t in scored), default=0)
        scored = [t for t in scored if 2 * shared[t[1]] >= most_shared]
        if one_article and scored:
            # steps are read from one article, not pieced together: the one retrieval
            # ranked first of those under a heading about it (it saw the whole question)
            first = min(scored, key=lambda t: passages.index(t[3]))[3]
            article = first.id.partition("#")[0]
            scored = [t for t in scored if t[3].id.partition("#")[0] == article]
        picked: list[tuple[int, str, Source]] = []
        per_source: Counter[int] = Counter()
        for _score, idx, sent, s in scored:
            if per_source[s.n] >= 2:
                continue
            picked.append((idx, sent, s))
            per_source[s.n] += 1
            if len(picked) == most:
                break
        picked.sort()  # read in document order
        return [(sent, s) for _idx, sent, s in picked]


def _how_to_reads(record: Source, composed: Composed) -> bool:
    """Whether a question about the way reads this record to the customer: named by its
    id (or a number of its own), or by what it holds with an action of its kind asked
    ("how can I return my tablet?": the order line of their tablet, which can be
    returned). "How do I set up direct deposit?" asks the way, not for the deposits they
    have had; a kind word alone ("how do I return an item?") reaches none."""
    if record.relevance >= EXPLICIT_ID or record.id.startswith(NONE_HELD):
        return True
    lowered = composed.message.lower()
    return record.relevance >= NAMED_PRODUCT and any(a.asked_in(lowered) for a in record.actions)


def _unheld(message: str, records: list[Source]) -> set[str]:
    """The message's words that none of the listed records holds, in any of its texts,
    kind words, field names or actions: what it asks beyond them ("replacement")."""
    held: set[str] = set()
    for r in records:
        names = [n for a in r.actions for n in (a.name, *a.every_name())]
        held.update(_content(" ".join([r.text, *r.texts.values(), *r.terms, *names])))
    return set(_content(message)) - held


def _doing_words(doing: list[tuple[Source, RecordAction]]) -> tuple[set[str], set[str]]:
    """For actions asked of records that allow them: the words an article about doing
    one has in its heading (the action's names in every language: "close", "cancel"),
    and those with the words naming the records' kinds ("credit card"), which the
    article's sentences share with what was asked."""
    actions = {w for _, a in doing for w in _content(" ".join([a.name, *a.every_name()]))}
    kinds = {w for s, _ in doing for w in _content(kind_phrase(s.id, s.terms))}
    return actions, actions | kinds


def _for_their_kind(article: Source, doing: list[tuple[Source, RecordAction]]) -> bool:
    """Whether an article's title names the kind of a record an action is asked of
    ("Closing a Debit Card" for a debit card): the steps for another kind ("Revoking and
    Canceling Virtual Cards") would tell the customer the wrong way."""
    title = set(_content(article.title or ""))
    return any(set(_content(kind_phrase(s.id, s.terms))) <= title for s, _ in doing)


def _handoff_words(cat: ReplyCatalog, decision: Decision) -> str:
    """The handoff sentence for the rule that handed off (catalog `handoff.<rule>`, else
    `handoff.default`), never the rule's internal reason."""
    rule = decision.handoff_rule
    kinds = cat.entries.get("handoff", {})
    key = rule.removeprefix("handoff.")
    if isinstance(kinds, dict) and key in kinds:
        return cat.text(f"handoff.{key}")
    return cat.text("handoff.default")


def _opening(cat: ReplyCatalog, style: ReplyStyle) -> str:
    """When the team is back, in the reply's language ("mañana a las 09:00")."""
    days = cat.entries.get("days", {})
    day = style.next_opening_day
    if not isinstance(days, dict) or not day or not style.next_opening_time:
        return style.next_opening or ""
    word = days.get(day.lower(), day)
    return cat.text("opening", day=word, time=style.next_opening_time)


def _policy_lines(cat: ReplyCatalog, plan: AnswerPlan) -> list[str]:
    """The reply catalog's customer-facing rules for the plan's intents, once each."""
    lines: list[str] = []
    for i in plan.intents:
        if cat.has(f"policy.{i.name}") and cat.text(f"policy.{i.name}") not in lines:
            lines.append(cat.text(f"policy.{i.name}"))
    return lines


def _action_sentence(
    cat: ReplyCatalog,
    record: Source,
    action: RecordAction,
    lowered: str,
    sources: list[Source],
    all_of: bool = False,
) -> str:
    """Whether a record's status allows an action, in the customer's language and with
    their word for it, else the business's own name (English, or the action's own name,
    when it gave none); a record with no status says only whether it can be done, and one
    whose kind cannot have the action, that it cannot. `all_of`: said once of several
    records that are all alike ("They are all pending, so you can't return them now")."""
    name = action.name_in(cat.language, lowered)
    if not action.known:  # "freeze" of a credit card: no status of it would allow it
        return cat.text("record_action.unknown", action=name)
    if action.why:  # its status allows it; the record does not meet what it needs
        why = (
            action.why.get(cat.language) or action.why.get("en") or next(iter(action.why.values()))
        )
        return cat.text("record_action.not_yet", action=name, why=why)
    key = "record_action." + ("allowed" if action.allowed else "not_allowed")
    if not record.status:
        return cat.text(f"{key}_any", action=name)
    status = record.status_in(cat.language)
    # what does the same for the customer while its status does not allow the wish ("you
    # can't return it now, but you can still cancel it"), or the record it links to does
    # ("… but you can still cancel its order #W1")
    other, owner = _instead(record, action, sources)
    link = record_kind(owner.id) if owner is not None else ""
    if other is not None:
        key = "record_action.instead_linked" if owner is not None else "record_action.instead"
    if all_of and cat.has(f"{key}_all"):
        key += "_all"
    also = other.name_in(cat.language, lowered) if other is not None else ""
    whose = owner.id.split(":", 2)[2] if owner is not None else ""
    said = cat.text(key, action=name, status=status, other=also, link=spoken(link), id=whose)
    return _object_placed(said, name) if cat.language == "en" else said


def _how_it_stands(cat: ReplyCatalog, record: Source, message: str, all_of: bool = False) -> str:
    """A yes or no to a question naming a status of the record's kind: "is it active
    yet?" of a pending card (still under way), "Not yet: it is pending."; "is it frozen?"
    of an active one, "No, it is active."; of a frozen one, "Yes, it is frozen." "Is it
    cancelled yet?" of a delivered order is a no, not a "not yet". "Why was it
    cancelled?" of a pending order: "Actually, it is pending."; of a cancelled one, that
    the reason is not something its record shows and a person can look into it. A status is named by
    its code, its labels or the words its kind's mapping adds ("has it shipped yet?" of a
    pending order: "Not yet: it is pending."). Nothing for any other question, or one
    naming no status of its kind ("is it ok?"). `all_of`: said of several records alike
    ("Not yet: they are all pending."), where the language has the words for it."""
    key = _stand(record, message)
    if not key:
        return ""
    if all_of and cat.has(f"record_status.{key}_all"):
        key += "_all"
    return cat.text(f"record_status.{key}", status=record.status_in(cat.language))


def _stand(record: Source, message: str) -> str:
    """Which answer `_how_it_stands` gives: "yes", "no", "not_yet", "why_unknown" (a why
    of the status it is in, which its record does not tell), "why_not" (a why of one it
    is not in), or "" for none."""
    why = WHY.search(message) is not None
    said = [w for ws in record.statuses.values() for w in ws]
    if not record.status or not said or not (why or asks_whether(message, said)):
        return ""
    if WH.search(message) and not why:
        return ""
    lowered = unaccented(message.lower())  # "ya llego?" typed without its accent
    named = {
        code
        for code, ways in record.statuses.items()
        if any(
            re.search(rf"(?<!\w){re.escape(unaccented(w.lower()))}(?!\w)", lowered)
            for w in ways
            if w
        )
    }
    if not named:
        return ""
    if why:
        # "why was it cancelled?" of a pending order: it is not; of a cancelled one (or "why
        # hasn't it shipped?" of a pending one), why is nothing its record tells
        so = (record.status.upper() in named) != (NEGATED.search(message) is not None)
        return "why_unknown" if so else "why_not"
    if record.status.upper() in named:
        return "yes"
    waiting = record.open is not False and YET.search(message)  # not known as done
    return "not_yet" if waiting else "no"


def _instead(
    record: Source, action: RecordAction, sources: list[Source]
) -> tuple[RecordAction | None, Source | None]:
    """What does the same for the customer while the record's status does not allow
    `action`, if it can be done now: an action of its own, or (`order.cancel`) of the
    record it links to, when the reply reads that one too (with that record)."""
    if action.allowed or action.why or not action.known or not action.instead:
        return None, None
    if "." not in action.instead:
        return stand_in(record.actions, action), None
    linked = linked_stand_in(record, action, sources)
    return (linked[1], linked[0]) if linked is not None else (None, None)


def _object_placed(sentence: str, name: str) -> str:
    """An English phrasal verb takes its pronoun before its particles: "send it back",
    "turn it back on", not "send back it"."""
    if (split := phrasal(name)) is None:
        return sentence
    verb, particles = split
    for pronoun in ("it", "them"):
        sentence = sentence.replace(f"{name} {pronoun}", f"{verb} {pronoun} {particles}")
    return sentence


def _outcome(cat: ReplyCatalog, record: Source, action: RecordAction, sources: list[Source]) -> str:
    """What the action a reply offers for `action` does, as the business tells it ("Once
    it is cancelled, the $63.50 you paid goes back to your Visa"): the action itself where
    it can be done now, else what does the same instead; "" when it told nothing."""
    if action.allowed and not action.why:
        return action.outcome_in(cat.language)
    other, _ = _instead(record, action, sources)
    return other.outcome_in(cat.language) if other is not None else ""
