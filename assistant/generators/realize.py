"""Realize an answer plan's social, recall and unknown-id sentences from the language's
reply catalog. What a reply says of the customer's records is the offline composer's
(assistant/generators/offline.py), read from the records' structured facts."""

from __future__ import annotations

import re

from assistant.turn.plan import default_lexicon
from assistant.turn.types import SOCIAL_INTENTS, AnswerPlan, PlannedIntent
from assistant.types import Composed
from prompts.catalog import ReplyCatalog

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class Realizer:
    """Sentences for one plan, in one language, citing `composed`'s sources."""

    def __init__(self, composed: Composed, catalog: ReplyCatalog) -> None:
        self.cat = catalog
        self.cited: list[int] = []
        # the customer's earlier messages the turn retrieved, best first
        self.history = [s for s in composed.sources if s.kind == "history"]

    def recall(self) -> list[str]:
        """What the customer told us before that best matches the question, quoted."""
        # what they told us, not an earlier question: "what did I say about X?" is
        # answered by the statement about X, not by asking it again
        lexicon = default_lexicon()
        told = [h for h in self.history if "recall" not in lexicon.intents_in(h.text)]
        said = [h for h in told if not h.text.rstrip().endswith("?")]
        if not told:
            return [self.cat.text("recall.none")]
        best = (said or told)[0]
        when, _, text = best.text.partition(" ")
        if not _DATE.fullmatch(when):
            when, text = "", best.text
        if best.n not in self.cited:
            self.cited.append(best.n)
        key = "recall.found" if when else "recall.found_undated"
        return [self.cat.text(key, date=when, text=text.strip(), cite=f" [{best.n}]")]

    def intent(self, i: PlannedIntent) -> list[str]:
        """The sentences for one intent."""
        if i.name == "recall":
            return self.recall()
        if i.name in SOCIAL_INTENTS:
            return [self.cat.text(f"social.{i.name}")]
        # An id that is not the customer's is not repeated: it may be someone else's.
        return [self.cat.text("missing_id")] if i.missing else []

    def plan(self, plan: AnswerPlan) -> list[str]:
        """Every sentence the plan calls for, each said once."""
        lines: list[str] = []
        for i in plan.intents:
            for line in self.intent(i):
                if line not in lines:
                    lines.append(line)
        return lines
