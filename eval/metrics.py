"""Retrieval and answer metrics, and the paired bootstrap: small pure functions."""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Collection, Sequence

import numpy as np

from retrieval.lexical import stem


def recall_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Fraction of the relevant ids found among the first k of ranked (0.0 if none relevant)."""
    if not relevant:
        return 0.0
    top = set(ranked[:k])
    return sum(1 for r in set(relevant) if r in top) / len(set(relevant))


def reciprocal_rank(ranked: Sequence[str], relevant: Collection[str]) -> float:
    """1 / rank of the first relevant id in ranked (rank from 1), or 0.0 if none is there."""
    for rank, item in enumerate(ranked, start=1):
        if item in relevant:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Binary-relevance nDCG@k: DCG of ranked[:k] over the DCG of an ideal ranking."""
    rel = set(relevant)
    if not rel:
        return 0.0
    dcg = sum(1.0 / math.log2(i + 2) for i, item in enumerate(ranked[:k]) if item in rel)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(rel))))
    return dcg / ideal


def dedupe(ids: Sequence[str]) -> list[str]:
    """ids in first-seen order without repeats (chunks → their documents, best rank kept)."""
    return list(dict.fromkeys(ids))


_ARTICLES = re.compile(r"\b(a|an|the|and)\b")
_PUNCT = str.maketrans("", "", string.punctuation)


def answer_tokens(text: str) -> list[str]:
    """LoCoMo's answer normalisation: lower case, no punctuation or articles, stemmed words."""
    text = _ARTICLES.sub(" ", str(text).lower().replace(",", "").translate(_PUNCT))
    return stem(text.split())


def token_f1(prediction: str, gold: str) -> float:
    """Token-overlap F1 of prediction against gold after answer_tokens (the LoCoMo metric)."""
    pred, ref = answer_tokens(prediction), answer_tokens(gold)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation; 0.0 for no values."""
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if values else 0.0


def paired_bootstrap(
    a: Sequence[float], b: Sequence[float], n_resamples: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """Mean of b − a over paired values and its 95% percentile-bootstrap interval.

    Cases are resampled with replacement n_resamples times (fixed seed: the same inputs
    give the same interval). Returns (mean difference, low, high)."""
    if len(a) != len(b):
        raise ValueError(f"paired samples differ in length: {len(a)} and {len(b)}")
    if not a:
        return 0.0, 0.0, 0.0
    diff = np.asarray(b, dtype=np.float64) - np.asarray(a, dtype=np.float64)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(diff), size=(n_resamples, len(diff)))
    means = diff[idx].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(diff.mean()), float(low), float(high)


def win_tie_loss(a: Sequence[float], b: Sequence[float], eps: float = 1e-9) -> tuple[int, int, int]:
    """How many paired cases b beats, ties and loses to a."""
    wins = sum(1 for x, y in zip(a, b, strict=True) if y > x + eps)
    losses = sum(1 for x, y in zip(a, b, strict=True) if y < x - eps)
    return wins, len(a) - wins - losses, losses
