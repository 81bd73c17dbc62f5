"""Repairs across SQL and the vector store.

A turn stores the customer's message as a history item in SQL inside its own
transaction, and its vector a moment later in a batched background write
(`retrieval.history_writer`). A process that dies in between leaves SQL rows whose
vectors were never written: those messages are kept but no later turn can find them.
`reindex_history` finds such rows and writes their vectors again."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from profiles.conversations import ConversationStore
from retrieval.history import HistoryIndex
from retrieval.types import HistoryKind, HistoryRecord

log = logging.getLogger("rapport.maintenance")


@dataclass(frozen=True)
class ReindexReport:
    checked: int  # SQL history items looked at
    written: int  # vectors written for the items that had none


def reindex_history(
    conversations: ConversationStore,
    history: HistoryIndex,
    since: datetime | None = None,
    page: int = 256,
) -> ReindexReport:
    """Write the vectors of the SQL history items (created at or after `since`, or all)
    that the vector store lacks; items that have theirs are not touched, so running it
    again writes nothing.

    The texts are embedded again, a page at a time. An item erased while its page is
    being written (a privacy erasure running meanwhile) loses the vector just written,
    so a repair never brings an erased customer's text back."""
    checked = written = 0
    after = ""
    while rows := conversations.history_page(after, page, since):
        after = rows[-1].id
        checked += len(rows)
        missing = set(history.missing([r.id for r in rows]))
        records = [
            HistoryRecord(
                id=r.id,
                customer_id=r.customer_id,
                kind=cast(HistoryKind, r.kind),  # pydantic checks the value
                text=r.text,
                created_at=r.created_at,
            )
            for r in rows
            if r.id in missing
        ]
        if not records:
            continue
        history.add(records)
        ids = [r.id for r in records]
        erased = sorted(set(ids) - conversations.history_ids_present(ids))
        if erased:
            history.delete(erased)
        written += len(ids) - len(erased)
    if written:
        log.info("re-indexed %d of %d history items", written, checked)
    return ReindexReport(checked=checked, written=written)
