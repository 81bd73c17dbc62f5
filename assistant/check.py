"""The check stage: citations resolved to ids, leaked identifiers caught, claims about the
customer's records verified, a reply that relays its prompt caught, handoff settled."""

from __future__ import annotations

import re
from collections.abc import Iterable

from assistant.types import Citation, Composed, Generation, spoken
from profiles.context import Fact, record_kind
from profiles.relevance import plain_id, written_ids


def citations(composed: Composed, generation: Generation) -> list[Citation]:
    """The sources the reply cites, in citation order."""
    by_n = {s.n: s for s in composed.sources}
    return [
        Citation(n=n, id=by_n[n].id, kind=by_n[n].kind, text=by_n[n].text, title=by_n[n].title)
        for n in generation.cited
        if n in by_n
    ]


def foreign_identifiers(composed: Composed, answer: str, id_patterns: Iterable[str]) -> list[str]:
    """Ids in the answer, in the shape of any of the business's kinds (`id_patterns`),
    that the context does not contain (whatever their case or leading '#')."""
    shapes = list(id_patterns)
    held = {plain_id(i) for i in written_ids(composed.text, shapes)}
    return sorted(i for i in written_ids(answer, shapes) if plain_id(i) not in held)


def personal_facts_stated(composed: Composed, generation: Generation) -> list[str]:
    """Ids of the customer's own facts (orders, products, records; not the profile card)
    the reply cites or names by their id."""
    own = ("product", "record")
    stated = {c.id for c in citations(composed, generation) if c.kind in own}
    for s in composed.sources:
        key = s.id.rsplit(":", 1)[-1]
        if s.kind == "record" and len(key) >= MIN_NAMED_KEY and _names(generation.text, key):
            stated.add(s.id)
    return sorted(stated)


MIN_NAMED_KEY = 4  # a shorter key ("12") would be found in amounts and dates


def _names(text: str, key: str) -> bool:
    """Whether `text` names `key` as a word of its own ("#W5442520", "dbc_4e8d2a6f9c")."""
    return re.search(rf"(?<![\w#]){re.escape(key)}(?![\w/])", text) is not None


def never_mentioned(composed: Composed, answer: str) -> list[str]:
    """Denied attributes (`never_mention`) whose value appears in the answer."""
    card = composed.card
    values = {"email": card.email}
    return sorted(
        name
        for name in composed.decision.never_mention
        if values.get(name) and str(values[name]).lower() in answer.lower()
    )


_CONDITIONAL = re.compile(
    r"\b(?:can|could|will|would|once|if|after|when|until|before|only|not|no longer)\b"
    r"|n[’']t\b",  # "hasn't": no word boundary before the n
    re.I,
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_CLAUSE = re.compile(r"[,;:]\s+|\s+(?:so|but|and)\s+")
ECHO_WORDS = 12  # this many consecutive words of the prompt's own text: a relayed prompt


def wrong_record_claims(
    answer: str, records: list[Fact], statuses: dict[str, list[str]]
) -> list[str]:
    """Ids of the customer's records (of any kind a mapping imported) whose status a
    sentence of the reply states wrongly: a sentence that names one of them by its id and,
    in a clause that is neither conditional nor negated, one of the statuses its kind's
    records are in, or a word its mapping says one by ("Your booking BK1 is cancelled" of
    a confirmed one; "Your order #W1 has shipped" of a pending one). `statuses` is every
    status of each kind (`CustomerContext.record_statuses`)."""
    held = {
        f.id.split(":", 2)[2]: f
        for f in records
        if f.kind == "record" and f.status and f.id.count(":") >= 2
    }
    if not held:
        return []
    wrong = []
    for sentence in _SENTENCE.split(answer):
        named = [f for key, f in held.items() if _mentions(sentence, key)]
        if len(named) != 1:
            continue
        fact = named[0]
        actual = (fact.status or "").upper()
        # each status of its kind with the words it is said by: its code in plain words,
        # and the labels and words its mapping gives ("shipped" for processed)
        said_as = {st.upper(): {spoken(st)} for st in statuses.get(record_kind(fact.id), [])}
        for code, said in fact.statuses.items():
            said_as.setdefault(code.upper(), set()).update(said)
        for clause in _stated(sentence):
            stated = {
                code for code, said in said_as.items() if any(_mentions(clause, w) for w in said)
            }
            if stated and actual not in stated:
                wrong.append(fact.id)
    return sorted(set(wrong))


def _stated(sentence: str) -> list[str]:
    """The sentence's clauses that state something: not conditional or negated ("once it
    has shipped", "can no longer be cancelled")."""
    return [c for c in _CLAUSE.split(sentence) if not _CONDITIONAL.search(c)]


def _mentions(text: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text, re.I) is not None


def relayed_prompt(composed: Composed, answer: str) -> bool:
    """Whether the reply repeats ECHO_WORDS consecutive words of the prompt's own
    instructions or its customer card and conversation blocks: an LLM relaying its
    prompt (help-article passages are the reply's material and are not counted)."""
    own = [text for role, text in composed.messages if role == "system"]
    kb = {s.text for s in composed.sources if s.kind == "kb"}
    grams: set[tuple[str, ...]] = set()
    for text in own:
        for passage in kb:
            text = text.replace(passage, " ")
        words = re.findall(r"\w+", text.lower())
        grams.update(tuple(words[i : i + ECHO_WORDS]) for i in range(len(words) - ECHO_WORDS + 1))
    said = re.findall(r"\w+", answer.lower())
    return any(tuple(said[i : i + ECHO_WORDS]) in grams for i in range(len(said) - ECHO_WORDS + 1))
