"""Admin endpoints: customers, orders, events and knowledge-base documents, idempotent."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from assistant.api.deps import Services, admin_actor, require_admin, services
from assistant.api.schemas import ErrorOut, KbIngestOut, KbIngestRequest, PathId, Upserted
from assistant.experiment_report import ExperimentReport, report_for
from profiles.admin import CustomerIn, EventIn, OrderIn, add_event, upsert_customer, upsert_order
from retrieval.documents import Document, audience_of

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[Depends(require_admin)])
_ERRORS: dict[int | str, dict[str, object]] = {
    c: {"model": ErrorOut} for c in (401, 403, 404, 413, 415, 422)
}


@router.put("/customers/{customer_id}", response_model=Upserted, responses=_ERRORS)
def put_customer(
    customer_id: PathId,
    body: CustomerIn,
    response: Response,
    svc: Services = Depends(services),
    actor: str = Depends(admin_actor),
) -> Upserted:
    """Create or replace a customer and their consents; consent changes are audited."""
    created = upsert_customer(svc.container.engine, customer_id, body, actor)
    response.status_code = 201 if created else 200
    return Upserted(id=customer_id, created=created)


@router.put("/orders/{order_id}", response_model=Upserted, responses=_ERRORS)
def put_order(
    order_id: PathId, body: OrderIn, response: Response, svc: Services = Depends(services)
) -> Upserted:
    """Create or replace an order with its items."""
    created = upsert_order(svc.container.engine, order_id, body)
    response.status_code = 201 if created else 200
    return Upserted(id=order_id, created=created)


@router.post("/customers/{customer_id}/events", response_model=Upserted, responses=_ERRORS)
def post_event(customer_id: PathId, body: EventIn, svc: Services = Depends(services)) -> Upserted:
    """Add an event; an event with a `key` already seen for this customer is not repeated."""
    eid = add_event(svc.container.engine, customer_id, body)
    return Upserted(id=str(eid), created=True)


@router.post("/kb/documents", response_model=KbIngestOut, responses=_ERRORS)
def ingest(body: KbIngestRequest, svc: Services = Depends(services)) -> KbIngestOut:
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
    report = svc.container.kb.ingest(docs)  # ids are distinct: checked by KbIngestRequest
    return KbIngestOut(
        added=report.added,
        updated=report.updated,
        unchanged=report.unchanged,
        chunks_written=report.chunks_written,
        chunks_deleted=report.chunks_deleted,
    )


@router.delete("/kb/documents/{doc_id}", responses=_ERRORS)
def delete_document(doc_id: PathId, svc: Services = Depends(services)) -> dict[str, object]:
    """Delete a document's chunks; deleting an absent document is not an error."""
    removed = svc.container.kb.delete_document(doc_id)
    return {"id": doc_id, "chunks_deleted": removed}


class ExperimentOut(BaseModel):
    id: str
    description: str
    enabled: bool
    variants: dict[str, float]  # name → weight


@router.get("/experiments", response_model=list[ExperimentOut], responses=_ERRORS)
def list_experiments(svc: Services = Depends(services)) -> list[ExperimentOut]:
    """The experiments in force, with their variants' weights."""
    return [
        ExperimentOut(
            id=e.id,
            description=e.description,
            enabled=e.enabled,
            variants={v.name: v.weight for v in e.variants},
        )
        for e in svc.container.assistant.experiments.experiments
    ]


@router.get(
    "/experiments/{experiment_id}/report", response_model=ExperimentReport, responses=_ERRORS
)
def experiment_report(
    experiment_id: PathId,
    alpha: float = Query(0.05, gt=0, le=0.5),
    svc: Services = Depends(services),
) -> ExperimentReport:
    """Per-variant resolution rate, mean rating and handoff rate with Wilson/t 95% intervals,
    and chi-square / Welch tests across variants; `simulated` says whether the feedback was
    written by a simulation."""
    c = svc.container
    return report_for(c.engine, c.assistant.experiments, experiment_id, alpha)
