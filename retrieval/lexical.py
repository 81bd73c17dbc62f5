"""BM25 keyword search over a small in-memory corpus (bm25s)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

_STOPWORDS = frozenset(STOPWORDS_EN)
# Snowball English: "cancelled", "cancellation" and "cancel" all index as "cancel".
_STEMMER = Stemmer.Stemmer("english")
# A word is a run of letters/digits, possibly joined by _ - . / # @ : (order ids, SKUs,
# emails, "account_class"). The joined form is kept next to its parts so "#W5442520",
# "W5442520" and "gift_card_123" all match exactly.
_WORD = re.compile(r"[^\W_]+(?:[_\-./#@:][^\W_]+)*")
_PART = re.compile(r"[^\W_]+")


def tokenize(text: str) -> list[str]:
    """Return the lowercase search tokens of text: words, compound ids and their parts."""
    tokens: list[str] = []
    for match in _WORD.finditer(text.lower()):
        word = match.group()
        parts = _PART.findall(word)
        if len(parts) > 1:
            tokens.append(word)
        tokens.extend(parts)
    return _STEMMER.stemWords([t for t in tokens if t not in _STOPWORDS])


def stem(words: Sequence[str]) -> list[str]:
    """Snowball English stems of already lower-cased words."""
    return list(_STEMMER.stemWords(list(words)))


class Bm25:
    """A BM25 index over (id, text) pairs; rebuild it to change the corpus."""

    def __init__(self) -> None:
        self._ids: list[str] = []
        self._model: bm25s.BM25 | None = None

    def __len__(self) -> int:
        return len(self._ids)

    def build(self, ids: Sequence[str], texts: Sequence[str]) -> None:
        """Replace the corpus with these texts, known by these ids."""
        if len(ids) != len(texts):
            raise ValueError(f"got {len(ids)} ids for {len(texts)} texts")
        self._ids = list(ids)
        self._model = None
        if not self._ids:
            return
        model = bm25s.BM25()
        model.index([tokenize(t) for t in texts], show_progress=False)
        self._model = model

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """Return up to k (id, score) pairs with a positive score, best first, ties by id."""
        return self.search_best([query], k)

    def search_best(self, queries: Sequence[str], k: int) -> list[tuple[str, float]]:
        """Like search, each text scoring the best of its BM25 scores over queries.

        The parts of a long query (its sentences) each find the texts about them, which
        the whole query's many words would dilute."""
        if self._model is None or k <= 0:
            return []
        scores = np.zeros(len(self._ids), dtype=np.float64)
        for text in queries:
            tokens = [t for t in tokenize(text) if t in self._model.vocab_dict]
            if tokens:
                scores = np.maximum(scores, self._model.get_scores(tokens))
        positive = np.flatnonzero(scores > 0)
        if len(positive) > k:  # only the k best (and any tied with the k-th) are sorted
            kth = np.partition(scores[positive], -k)[-k]
            positive = positive[scores[positive] >= kth]
        hits = [(self._ids[i], float(scores[i])) for i in positive]
        hits.sort(key=lambda pair: (-pair[1], pair[0]))
        return hits[:k]
