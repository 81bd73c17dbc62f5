"""Background writes of new history items to the vector store, in batches.

A turn's message becomes searchable history after the reply is sent. Writing each one
at once costs a vector-store call per turn, and the embedded Chroma client holds the GIL
for its whole upsert (8 to 40 ms here, hardly more for 64 items than for one): the reply
of the turn that just finished, or the next turn, waited that long for the interpreter.
So items wait up to `max_delay_s` (or until `max_batch` of them wait) and go in one
upsert, and `flush` writes a customer's waiting items at once for the callers that need
them stored now (the customer's next turn, an export or an erasure). Items a crash keeps
from being written are in SQL; `assistant.maintenance.reindex_history` writes them."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import numpy as np

from retrieval.history import HistoryIndex
from retrieval.types import HistoryRecord

log = logging.getLogger("rapport.history")


@dataclass
class _Waiting:
    seq: int
    record: HistoryRecord
    vector: np.ndarray
    since: float


class HistoryWriter:
    """Stores history records in the background, several per vector-store call."""

    def __init__(self, history: HistoryIndex, max_delay_s: float = 0.5, max_batch: int = 64):
        self.history = history
        self.max_delay_s = max_delay_s
        self.max_batch = max_batch
        self._cond = threading.Condition()
        self._waiting: list[_Waiting] = []
        self._last_seq: dict[str, int] = {}  # customer -> seq of their latest record
        self._seq = 0
        self._done = 0  # every record with seq <= _done has been written (or failed)
        self._urgent = 0  # write now everything up to this seq
        self._thread = threading.Thread(target=self._run, name="rapport-index", daemon=True)
        self._thread.start()

    def add(self, record: HistoryRecord, vector: np.ndarray) -> None:
        """Queue one record with its embedding (shape (dim,) or (1, dim))."""
        with self._cond:
            self._seq += 1
            self._waiting.append(
                _Waiting(self._seq, record, np.asarray(vector).reshape(-1), time.monotonic())
            )
            self._last_seq[record.customer_id] = self._seq
            self._cond.notify_all()

    def flush(self, customer_id: str | None = None, timeout: float = 10.0) -> bool:
        """Write the waiting records of one customer (or all) now; True once they are
        written (or their write failed and was logged), False on timeout."""
        with self._cond:
            target = self._seq if customer_id is None else self._last_seq.get(customer_id, 0)
            if target <= self._done:
                return True
            self._urgent = max(self._urgent, target)
            self._cond.notify_all()
            written = self._cond.wait_for(lambda: self._done >= target, timeout)
        if not written:
            log.warning("history writes still pending after %.0f s", timeout)
        return written

    def pending(self) -> int:
        """How many records wait to be written."""
        with self._cond:
            return len(self._waiting)

    def _run(self) -> None:
        while True:
            with self._cond:
                while (delay := self._delay()) is None or delay > 0:
                    self._cond.wait(delay)
                batch = self._waiting[: self.max_batch]
                del self._waiting[: self.max_batch]
            self._write(batch)
            with self._cond:
                self._done = batch[-1].seq
                for w in batch:
                    if self._last_seq.get(w.record.customer_id) == w.seq:
                        del self._last_seq[w.record.customer_id]
                self._cond.notify_all()

    def _delay(self) -> float | None:
        """Seconds until the oldest waiting record is due (0: now); None when none waits."""
        if not self._waiting:
            return None
        first = self._waiting[0]
        if self._urgent >= first.seq or len(self._waiting) >= self.max_batch:
            return 0.0
        return max(0.0, first.since + self.max_delay_s - time.monotonic())

    def _write(self, batch: list[_Waiting]) -> None:
        try:
            self.history.add([w.record for w in batch], np.stack([w.vector for w in batch]))
        except Exception as exc:  # noqa: BLE001 — the messages themselves are in SQL
            log.warning("history indexing of %d items failed: %s", len(batch), exc)
