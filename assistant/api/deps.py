"""What every route receives: the services built once per app, the key checks, and the
workspace a request acts in (from its key, or the widget's `X-Rapport-Workspace`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from assistant.api.metrics import Metrics
from assistant.api.ratelimit import RateLimiter
from assistant.api.security import key_fingerprint, key_from, verify_key
from assistant.errors import Forbidden, Unauthenticated
from assistant.wiring import Container, Workspaces
from profiles.workspaces import DEFAULT, digest

WORKSPACE_HEADER = "x-rapport-workspace"


@dataclass
class Services:
    workspaces: Workspaces
    metrics: Metrics
    limiter: RateLimiter

    @property
    def container(self) -> Container:
        """The `default` workspace's collaborators (deployment-wide checks, tests)."""
        return self.workspaces.default


# The dependencies below do no I/O, so they are async: FastAPI runs a plain `def`
# dependency in its thread pool, one more thread hop (and GIL hand-over) per request.


async def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def named_workspace(request: Request) -> str | None:
    """The workspace a request names in its `X-Rapport-Workspace` header, if any."""
    return request.headers.get(WORKSPACE_HEADER) or None


def _staff(request: Request, svc: Services, *, admin: bool) -> Container:
    role = "admin" if admin else "agent"
    key = key_from(request)
    if not key:
        raise Unauthenticated(f"missing {role} API key (X-API-Key header)")
    found = svc.workspaces.for_key(key, admin=admin)
    if found is None:
        raise Forbidden(f"not a valid {role} API key")
    named = named_workspace(request)
    if named is not None and named != found.name:
        raise Forbidden(f"this {role} key belongs to another workspace")
    return found


async def agent_workspace(request: Request, svc: Services = Depends(services)) -> Container:
    """The workspace of the request's agent or admin key (401 without one, 403 with a key
    no workspace knows or one of another workspace than the header names)."""
    return _staff(request, svc, admin=False)


async def admin_workspace(request: Request, svc: Services = Depends(services)) -> Container:
    """The workspace of the request's admin key."""
    return _staff(request, svc, admin=True)


async def customer_workspace(request: Request, svc: Services = Depends(services)) -> Container:
    """The workspace a widget request acts in: the one its staff key belongs to, else the
    one it names (`X-Rapport-Workspace`, `default` when absent; 404 if there is none).
    The widget's identity is then verified with that workspace's secret."""
    if key_from(request):
        return _staff(request, svc, admin=False)
    return svc.workspaces.get(named_workspace(request) or DEFAULT)


def is_staff_request(request: Request) -> bool:
    """Whether the request carries a key (its workspace dependency has verified it)."""
    return key_from(request) is not None


AgentWorkspace = Annotated[Container, Depends(agent_workspace)]
AdminWorkspace = Annotated[Container, Depends(admin_workspace)]
CustomerWorkspace = Annotated[Container, Depends(customer_workspace)]


async def require_agent(_: AgentWorkspace) -> None:
    """Agent endpoints accept agent or admin keys of some workspace."""


async def require_admin(_: AdminWorkspace) -> None:
    """Admin endpoints need an admin key of some workspace."""


async def require_metrics_reader(request: Request, svc: Services = Depends(services)) -> None:
    """/metrics takes the metrics key or an admin key of the default workspace, unless
    RAPPORT_METRICS_PUBLIC."""
    s = svc.container.settings
    if not s.metrics_public:
        keys = ([digest(s.metrics_key)] if s.metrics_key else []) + list(
            svc.container.admin_digests
        )
        verify_key(request, keys, "metrics")


async def admin_actor(request: Request, _: AdminWorkspace) -> str:
    """The admin making the request, as the audit log names them (never their key)."""
    return key_fingerprint(request, "admin")
