"""Liveness, readiness and metrics."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from assistant.api.deps import Services, require_metrics_reader, services
from assistant.api.schemas import ErrorOut, HealthOut
from assistant.wiring import Container

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=HealthOut)
def healthz() -> HealthOut:
    """The process is up."""
    return HealthOut(status="ok")


@router.get("/readyz", response_model=HealthOut, responses={503: {"model": HealthOut}})
def readyz(svc: Services = Depends(services)) -> object:
    """The database, the vector store and the embedder all answer, for every business
    (workspace): another workspace's stores are checked as "database (bank)" …"""
    c = svc.container
    checks: dict[str, str] = {}
    _stores(c, "", checks)
    for name in svc.workspaces.registry.names():
        if name == c.name:
            continue
        try:
            _stores(svc.workspaces.get(name), f" ({name})", checks)
        except Exception as exc:  # noqa: BLE001 — a workspace that cannot even be opened
            checks[f"workspace ({name})"] = f"error: {type(exc).__name__}"
    try:
        ok = c.embedder.embed_query("ready").shape == (c.embedder.dim,)
        checks["embedder"] = "ok" if ok else "error: wrong shape"
    except Exception as exc:  # noqa: BLE001
        checks["embedder"] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    body = HealthOut(status="ready" if ready else "not ready", checks=checks)
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if ready else 503)


def _stores(c: Container, label: str, checks: dict[str, str]) -> None:
    """Whether `c`'s database and vector store answer, as checks named with `label`."""
    try:
        with c.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks[f"database{label}"] = "ok"
    except Exception as exc:  # noqa: BLE001 — any failure means not ready; the reason is reported
        checks[f"database{label}"] = f"error: {type(exc).__name__}"
    try:
        c.index.count(c.kb.collection)
        checks[f"vector_store{label}"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks[f"vector_store{label}"] = f"error: {type(exc).__name__}"


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
