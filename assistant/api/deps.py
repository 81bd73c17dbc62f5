"""What every route receives: the services built once per app, and the key checks."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, Request

from assistant.api.metrics import Metrics
from assistant.api.ratelimit import RateLimiter
from assistant.api.security import key_fingerprint, verify_key
from assistant.wiring import Container


@dataclass
class Services:
    container: Container
    metrics: Metrics
    limiter: RateLimiter


# The dependencies below do no I/O, so they are async: FastAPI runs a plain `def`
# dependency in its thread pool, one more thread hop (and GIL hand-over) per request.


async def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


async def require_agent(request: Request, svc: Services = Depends(services)) -> None:
    """Agent endpoints accept agent or admin keys."""
    s = svc.container.settings
    verify_key(request, s.agent_key_list + s.admin_key_list, "agent")


async def require_admin(request: Request, svc: Services = Depends(services)) -> None:
    verify_key(request, svc.container.settings.admin_key_list, "admin")


async def require_metrics_reader(request: Request, svc: Services = Depends(services)) -> None:
    """/metrics takes the metrics key or an admin key, unless RAPPORT_METRICS_PUBLIC."""
    s = svc.container.settings
    if not s.metrics_public:
        keys = ([s.metrics_key] if s.metrics_key else []) + s.admin_key_list
        verify_key(request, keys, "metrics")


async def admin_actor(request: Request, _: None = Depends(require_admin)) -> str:
    """The admin making the request, as the audit log names them (never their key)."""
    return key_fingerprint(request, "admin")
