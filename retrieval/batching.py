"""Query embeddings of concurrent turns, computed together.

One thread takes every request waiting and embeds all their texts in one embedder call.
A lone request starts at once (nothing waits for company); under load, the turns that
arrive while a call runs share the next one. On a CPU one forward pass over eight
queries costs far less than eight passes, and one call at a time keeps the runtime's
threads from contending for the cores."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future

import numpy as np

from retrieval.embedder import Embedder

log = logging.getLogger("rapport.embedder")


class EmbedBatcher:
    """Embeds the texts of concurrent callers in shared embedder calls."""

    def __init__(self, embedder: Embedder, max_texts: int = 64) -> None:
        self.embedder = embedder
        self.max_texts = max_texts
        self._queue: queue.SimpleQueue[tuple[list[str], Future[np.ndarray]]] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="rapport-embed", daemon=True)
        self._thread.start()

    def submit(self, texts: Sequence[str]) -> Future[np.ndarray]:
        """A future of embedder.embed(texts): shape (len(texts), dim)."""
        future: Future[np.ndarray] = Future()
        self._queue.put((list(texts), future))
        return future

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            size = len(batch[0][0])
            while size < self.max_texts:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
                size += len(batch[-1][0])
            self._embed(batch)

    def _embed(self, batch: list[tuple[list[str], Future[np.ndarray]]]) -> None:
        live = [(texts, f) for texts, f in batch if f.set_running_or_notify_cancel()]
        try:
            vectors = self.embedder.embed([t for texts, _ in live for t in texts])
        except Exception as exc:  # noqa: BLE001 — each caller gets the error to raise
            log.warning("embedding %d requests failed: %s", len(live), exc)
            for _, f in live:
                f.set_exception(exc)
            return
        start = 0
        for texts, f in live:
            f.set_result(vectors[start : start + len(texts)])
            start += len(texts)
