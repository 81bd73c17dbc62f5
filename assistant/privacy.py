"""Privacy requests over SQL and the vector store, each audited: export, erasure, purge.

Every request runs its steps in an order that is safe to repeat: vectors are deleted
before the SQL rows that point at them (deleting a missing vector is not an error, and
SQL still knows what to delete), and the SQL rows go in one transaction. A request cut
short by a crash or a failing store is finished by running it again."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel
from sqlalchemy.engine import Engine

from assistant.errors import BadInput, NotFound, StoreUnavailable
from profiles import privacy as records
from profiles.db import checkpoint_deleted
from profiles.models import AuditLog, utcnow
from profiles.privacy import AuditAction, CustomerRecords
from retrieval.history import HistoryIndex
from retrieval.types import HistoryKind

log = logging.getLogger("rapport.privacy")

EXPORT_FORMAT = "rapport.customer-export.v1"
MAX_RETENTION_DAYS = 36_500  # a hundred years; beyond it the cutoff is not a date
MAX_ID_CHARS = 128  # the width of customer ids in SQL


class StoredText(BaseModel):
    """A text held in the vector store for the customer."""

    collection: str
    id: str
    kind: HistoryKind
    text: str
    created_at: datetime | None = None


class CustomerExport(CustomerRecords):
    """Everything Rapport holds about one customer: every SQL row and every stored vector text."""

    format: str = EXPORT_FORMAT
    exported_at: datetime
    vector_store: list[StoredText]


class ErasureReport(BaseModel):
    customer_id: str
    status: Literal["erased", "already_erased"]
    erased_at: datetime | None
    resumed: bool = False  # an earlier, interrupted erasure of this customer was finished
    vectors_deleted: int = 0
    rows_deleted: dict[str, int] = {}


class PurgeReport(BaseModel):
    older_than_days: int
    cutoff: datetime | None  # None when retention is off (0 days)
    dry_run: bool
    conversations: int = 0
    messages: int = 0
    turns: int = 0
    feedback: int = 0
    history_items: int = 0


class Privacy:
    """Export, erase and purge, wired once with the stores and the pipeline's drain."""

    def __init__(
        self,
        engine: Engine,
        history: HistoryIndex,
        drain: Callable[[str | None], None],
        retention_days: int,
    ) -> None:
        self.engine = engine
        self.history = history
        self.drain = drain  # waits for a customer's background history writes
        self.retention_days = retention_days

    @contextmanager
    def _vectors(self, actor: str, action: AuditAction, customer_id: str | None) -> Iterator[None]:
        """Report a vector-store failure as one audited, retryable error."""
        try:
            yield
        except Exception as exc:  # chromadb and its HTTP client raise many unrelated types
            log.warning("%s of %s: vector store failed: %s", action, customer_id, exc)
            records.audit(
                self.engine,
                actor,
                action,
                customer_id,
                "failed",
                {"stage": "vectors", "error": type(exc).__name__},
            )
            raise StoreUnavailable(
                f"the vector store failed during {action}; it is safe to run it again"
            ) from exc

    def export(self, customer_id: str, actor: str) -> CustomerExport:
        """One document with every row and vector text held about the customer."""
        _check_id(customer_id)
        found = records.customer_records(self.engine, customer_id)
        if found is None:
            records.audit(self.engine, actor, "export", customer_id, "not_found")
            raise NotFound("unknown customer", subject=customer_id)
        self.drain(customer_id)  # the latest message is in the vector store too
        ids = [item["id"] for item in found.history_items]
        with self._vectors(actor, "export", customer_id):
            stored = self.history.records(customer_id, ids)
        texts = [
            StoredText(
                collection=self.history.collection,
                id=r.id,
                kind=r.kind,
                text=r.text,
                created_at=r.created_at,
            )
            for r in stored
        ]
        counts = {
            "conversations": len(found.conversations),
            "messages": sum(len(c.messages) for c in found.conversations),
            "records": len(found.records),
            "vectors": len(texts),
        }
        records.audit(self.engine, actor, "export", customer_id, "exported", counts)
        return CustomerExport(**found.model_dump(), exported_at=utcnow(), vector_store=texts)

    def erase(self, customer_id: str, actor: str) -> ErasureReport:
        """Delete the customer from SQL and the vector store; safe to run again.

        Order: record the request; wait for their pending history writes; delete their
        vectors; delete every SQL row in one transaction; delete vectors a turn running
        meanwhile may have added; mark the request done with its audit row."""
        _check_id(customer_id)
        start = records.begin_erasure(self.engine, customer_id, actor)
        if start == "not_found":
            records.audit(self.engine, actor, "erase", customer_id, "not_found")
            raise NotFound("unknown customer", subject=customer_id)
        if start == "already_erased":
            records.audit(self.engine, actor, "erase", customer_id, "already_erased")
            return ErasureReport(
                customer_id=customer_id,
                status="already_erased",
                erased_at=records.erasure_completed_at(self.engine, customer_id),
            )
        self.drain(customer_id)
        with self._vectors(actor, "erase", customer_id):
            vectors = self.history.erase(customer_id, records.history_ids(self.engine, customer_id))
        rows = records.erase_rows(self.engine, customer_id)
        self.drain(customer_id)
        with self._vectors(actor, "erase", customer_id):
            vectors += self.history.erase(customer_id, rows.history_ids)
        resumed = start == "resumed"
        at = records.finish_erasure(
            self.engine,
            customer_id,
            actor,
            {"vectors": vectors, "resumed": resumed, **rows.counts},
        )
        checkpoint_deleted(self.engine)  # the old pages leave SQLite's write-ahead log
        return ErasureReport(
            customer_id=customer_id,
            status="erased",
            erased_at=at,
            resumed=resumed,
            vectors_deleted=vectors,
            rows_deleted=rows.counts,
        )

    def purge(
        self, actor: str, older_than_days: int | None = None, dry_run: bool = False
    ) -> PurgeReport:
        """Delete conversations idle longer than the retention period (messages, turns,
        feedback, their history items and vectors); `dry_run` only counts them."""
        days = self.retention_days if older_than_days is None else older_than_days
        if not 0 <= days <= MAX_RETENTION_DAYS:
            raise BadInput(f"older-than-days must be 0 to {MAX_RETENTION_DAYS}, got {days}")
        if days == 0:
            return PurgeReport(older_than_days=0, cutoff=None, dry_run=dry_run)
        plan = records.purge_plan(self.engine, utcnow() - timedelta(days=days))
        detail = {"older_than_days": days}
        if dry_run:
            records.audit(self.engine, actor, "purge", None, "dry_run", {**detail, **plan.counts})
            return PurgeReport(
                older_than_days=days, cutoff=plan.cutoff, dry_run=True, **plan.counts
            )
        with self._vectors(actor, "purge", None):
            self.history.delete(plan.history_ids)
        done = records.purge_rows(self.engine, plan, actor, detail)
        return PurgeReport(older_than_days=days, cutoff=plan.cutoff, dry_run=False, **done.counts)

    def audit_log(self, customer_id: str | None = None, limit: int = 100) -> list[AuditLog]:
        """The newest audit rows first, of one customer or of all."""
        if limit < 1:
            raise BadInput(f"limit must be 1 or more, got {limit}")
        return records.audit_entries(self.engine, customer_id, limit)


def _check_id(customer_id: str) -> None:
    if not customer_id or len(customer_id) > MAX_ID_CHARS:
        raise BadInput(f"a customer id has 1 to {MAX_ID_CHARS} characters")
