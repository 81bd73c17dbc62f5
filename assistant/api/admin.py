"""Admin endpoints: customers, records (orders, accounts, cards …), reference data, events
and knowledge-base documents, idempotent."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from assistant.api.deps import AdminWorkspace, admin_actor, require_admin
from assistant.api.schemas import ErrorOut, KbIngestOut, KbIngestRequest, PathId, Upserted
from assistant.experiment_report import ExperimentReport, report_for
from profiles.admin import (
    CustomerIn,
    EventIn,
    RecordIn,
    ReferenceIn,
    add_event,
    upsert_customer,
    upsert_record,
    upsert_reference,
)
from retrieval.documents import Document, audience_of

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[Depends(require_admin)])
_ERRORS: dict[int | str, dict[str, object]] = {
    c: {"model": ErrorOut} for c in (401, 403, 404, 413, 415, 422)
}


@router.put("/customers/{customer_id}", response_model=Upserted, responses=_ERRORS)
def put_customer(
    c: AdminWorkspace,
    customer_id: PathId,
    body: CustomerIn,
    response: Response,
    actor: str = Depends(admin_actor),
) -> Upserted:
    """Create or replace a customer and their consents; consent changes are audited."""
    created = upsert_customer(c.engine, customer_id, body, actor)
    response.status_code = 201 if created else 200
    return Upserted(id=customer_id, created=created)


@router.put("/records/{kind}/{record_id}", response_model=Upserted, responses=_ERRORS)
def put_record(
    c: AdminWorkspace,
    kind: PathId,
    record_id: PathId,
    body: RecordIn,
    response: Response,
) -> Upserted:
    """Create or replace a customer's record of any kind (account, card, booking …)."""
    created = upsert_record(c.engine, kind, record_id, body)
    response.status_code = 201 if created else 200
    return Upserted(id=record_id, created=created)


@router.put("/reference/{name}/{item_id}", response_model=Upserted, responses=_ERRORS)
def put_reference(
    c: AdminWorkspace,
    name: PathId,
    item_id: PathId,
    body: ReferenceIn,
    response: Response,
) -> Upserted:
    """Create or replace a reference item (a catalog entry, a plan, a flight) records link to."""
    created = upsert_reference(c.engine, name, item_id, body)
    response.status_code = 201 if created else 200
    return Upserted(id=item_id, created=created)


@router.post("/customers/{customer_id}/events", response_model=Upserted, responses=_ERRORS)
def post_event(
    c: AdminWorkspace,
    customer_id: PathId,
    body: EventIn,
) -> Upserted:
    """Add an event; an event with a `key` already seen for this customer is not repeated."""
    eid = add_event(c.engine, customer_id, body)
    return Upserted(id=str(eid), created=True)


@router.post("/kb/documents", response_model=KbIngestOut, responses=_ERRORS)
def ingest(
    c: AdminWorkspace,
    body: KbIngestRequest,
) -> KbIngestOut:
    """Ingest documents; unchanged ones are skipped, changed ones have their chunks replaced."""
    docs = [
        Document(
            id=d.id,
            title=d.title,
            text=d.content,
            source="api",
            audience=audience_of(d.title, d.content, d.audience),
        )
        for d in body.documents
    ]
    report = c.kb.ingest(docs)  # ids are distinct: checked by KbIngestRequest
    return KbIngestOut(
        added=report.added,
        updated=report.updated,
        unchanged=report.unchanged,
        chunks_written=report.chunks_written,
        chunks_deleted=report.chunks_deleted,
    )


@router.delete("/kb/documents/{doc_id}", responses=_ERRORS)
def delete_document(
    c: AdminWorkspace,
    doc_id: PathId,
) -> dict[str, object]:
    """Delete a document's chunks; deleting an absent document is not an error."""
    removed = c.kb.delete_document(doc_id)
    return {"id": doc_id, "chunks_deleted": removed}


class ExperimentOut(BaseModel):
    id: str
    description: str
    enabled: bool
    variants: dict[str, float]  # name → weight


@router.get("/experiments", response_model=list[ExperimentOut], responses=_ERRORS)
def list_experiments(c: AdminWorkspace) -> list[ExperimentOut]:
    """The experiments in force, with their variants' weights."""
    return [
        ExperimentOut(
            id=e.id,
            description=e.description,
            enabled=e.enabled,
            variants={v.name: v.weight for v in e.variants},
        )
        for e in c.assistant.experiments.experiments
    ]


@router.get(
    "/experiments/{experiment_id}/report", response_model=ExperimentReport, responses=_ERRORS
)
def experiment_report(
    c: AdminWorkspace,
    experiment_id: PathId,
    alpha: float = Query(0.05, gt=0, le=0.5),
) -> ExperimentReport:
    """Per-variant resolution rate, mean rating and handoff rate with Wilson/t 95% intervals,
    and chi-square / Welch tests across variants; `simulated` says whether the feedback was
    written by a simulation."""
    return report_for(c.engine, c.assistant.experiments, experiment_id, alpha)
