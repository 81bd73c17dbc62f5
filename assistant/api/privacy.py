"""Privacy endpoints for administrators: export, erasure, retention purge, the audit log.

Each request is audited under the admin's key fingerprint; domain errors (unknown
customer 404, failing vector store 503) are mapped by the app's one handler."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AfterValidator, BaseModel, Field

from assistant.api.deps import AdminWorkspace, admin_actor, require_admin
from assistant.api.schemas import ErrorOut, PathId
from assistant.privacy import MAX_RETENTION_DAYS, CustomerExport, ErasureReport, PurgeReport
from profiles.fields import plain
from profiles.models import AuditLog

router = APIRouter(prefix="/v1/admin", tags=["privacy"], dependencies=[Depends(require_admin)])
_ERRORS: dict[int | str, dict[str, object]] = {
    c: {"model": ErrorOut} for c in (401, 403, 404, 413, 415, 422, 503)
}


class PurgeRequest(BaseModel):
    older_than_days: int | None = Field(
        None,
        ge=0,
        le=MAX_RETENTION_DAYS,
        description="Idle days before deletion; RAPPORT_RETENTION_DAYS if unset.",
    )
    dry_run: bool = Field(False, description="Only count what would be deleted.")


@router.get("/customers/{customer_id}/export", response_model=CustomerExport, responses=_ERRORS)
def export_customer(
    c: AdminWorkspace,
    customer_id: PathId,
    actor: str = Depends(admin_actor),
) -> CustomerExport:
    """Everything held about the customer, SQL rows and vector-store texts, as one document."""
    return c.privacy.export(customer_id, actor)


@router.delete("/customers/{customer_id}", response_model=ErasureReport, responses=_ERRORS)
def erase_customer(
    c: AdminWorkspace,
    customer_id: PathId,
    actor: str = Depends(admin_actor),
) -> ErasureReport:
    """Erase the customer from SQL and every vector collection. Repeating it is safe: an
    interrupted erasure is finished, a finished one is reported as `already_erased`."""
    return c.privacy.erase(customer_id, actor)


@router.post("/privacy/purge", response_model=PurgeReport, responses=_ERRORS)
def purge(
    c: AdminWorkspace,
    body: PurgeRequest,
    actor: str = Depends(admin_actor),
) -> PurgeReport:
    """Delete conversations idle longer than the retention period, with their messages,
    turns, feedback and history; `dry_run` only counts them."""
    return c.privacy.purge(actor, body.older_than_days, body.dry_run)


@router.get("/audit", response_model=list[AuditLog], responses=_ERRORS)
def audit_log(
    c: AdminWorkspace,
    customer_id: Annotated[
        str | None, Query(max_length=128), AfterValidator(lambda v: v and plain(v))
    ] = None,
    limit: int = Query(100, ge=1, le=1000),
) -> list[AuditLog]:
    """Privacy actions, newest first: who (key fingerprint or "cli"), what, whose id, outcome."""
    return c.privacy.audit_log(customer_id, limit)
