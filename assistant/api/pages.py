"""The web pages: the widget demo store, the agent sidebar, and demo-only helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse, RedirectResponse
from pydantic import AfterValidator

from assistant.api.deps import Services, services
from assistant.api.security import user_hash
from assistant.errors import NotConfigured, NotFound
from profiles.fields import plain
from profiles.overview import customers_for_picker
from profiles.workspaces import DEFAULT, demo_keys_of

WEB = Path(__file__).resolve().parent.parent / "web"
router = APIRouter(include_in_schema=False)
demo = APIRouter(prefix="/demo", tags=["demo"])


@router.get("/")
def index() -> RedirectResponse:
    return RedirectResponse("/widget")


@router.get("/widget")
def widget_page() -> FileResponse:
    return FileResponse(WEB / "store.html")


@router.get("/agent")
def agent_page() -> FileResponse:
    return FileResponse(WEB / "agent.html")


def _demo_only(svc: Services = Depends(services)) -> Services:
    if not svc.container.settings.demo:
        raise NotFound("demo helpers are off (RAPPORT_DEMO=false)")
    return svc


WorkspaceQuery = Annotated[
    str,
    Query(min_length=1, max_length=32, description="The workspace (business)."),
    AfterValidator(plain),
]


@demo.get("/workspaces")
def demo_workspaces(svc: Services = Depends(_demo_only)) -> list[dict[str, str]]:
    """The businesses this deployment serves, for the demo pages' pickers."""
    return [
        {"name": ws.name, "brand": ws.config.brand or ws.name, "description": ws.config.description}
        for ws in svc.workspaces.registry
    ]


@demo.get("/customers")
def demo_customers(
    svc: Services = Depends(_demo_only), workspace: WorkspaceQuery = DEFAULT
) -> list[dict[str, str]]:
    """The workspace's configured demo customers, then others with records, for the picker."""
    c = svc.workspaces.get(workspace)
    wanted = [w.strip() for w in c.settings.demo_customers.split(",") if w.strip()]
    return [{"id": cid, "name": name} for cid, name in customers_for_picker(c.engine, wanted)]


@demo.get("/identity")
def demo_identity(
    customer_id: Annotated[str, Query(min_length=1, max_length=128), AfterValidator(plain)],
    svc: Services = Depends(_demo_only),
    workspace: WorkspaceQuery = DEFAULT,
) -> dict[str, str]:
    """What a site's backend would compute for its widget; served here for the demo only."""
    secret = svc.workspaces.get(workspace).settings.widget_secret
    if not secret:
        raise NotConfigured("no widget secret configured")
    return {"customer_id": customer_id, "user_hash": user_hash(secret, customer_id)}


@demo.get("/agent-key")
def demo_agent_key(
    svc: Services = Depends(_demo_only), workspace: WorkspaceQuery = DEFAULT
) -> dict[str, str]:
    """An agent key of the workspace (the environment's for `default`, else the one
    `rapport demo` kept beside the workspace's file)."""
    c = svc.workspaces.get(workspace)
    keys = c.settings.agent_key_list
    key = keys[0] if keys else demo_keys_of(c.settings.data_dir).get("agent")
    if not key:
        raise NotConfigured("no agent key configured")
    return {"key": key}
