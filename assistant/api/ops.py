"""Liveness, readiness and metrics."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from assistant.api.deps import Services, require_metrics_reader, services
from assistant.api.schemas import ErrorOut, HealthOut

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=HealthOut)
def healthz() -> HealthOut:
    """The process is up."""
    return HealthOut(status="ok")


@router.get("/readyz", response_model=HealthOut, responses={503: {"model": HealthOut}})
def readyz(svc: Services = Depends(services)) -> object:
    """The database, the vector store and the embedder all answer."""
    c = svc.container
    checks: dict[str, str] = {}
    try:
        with c.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 — any failure means not ready; the reason is reported
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        c.index.count(c.kb.collection)
        checks["vector_store"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["vector_store"] = f"error: {type(exc).__name__}"
    try:
        ok = c.embedder.embed_query("ready").shape == (c.embedder.dim,)
        checks["embedder"] = "ok" if ok else "error: wrong shape"
    except Exception as exc:  # noqa: BLE001
        checks["embedder"] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    body = HealthOut(status="ready" if ready else "not ready", checks=checks)
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if ready else 503)


@router.get(
    "/metrics",
    response_class=Response,
    dependencies=[Depends(require_metrics_reader)],
    responses={c: {"model": ErrorOut} for c in (401, 403)},
)
def metrics(svc: Services = Depends(services)) -> Response:
    """Prometheus text format. Needs RAPPORT_METRICS_KEY or an admin key (X-API-Key or
    `Authorization: Bearer`), unless RAPPORT_METRICS_PUBLIC."""
    return Response(svc.metrics.render(), media_type="text/plain; version=0.0.4")
