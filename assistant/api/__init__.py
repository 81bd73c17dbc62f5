"""The HTTP service: chat widget backend, agent-assist sidebar, admin and operations."""

from assistant.api.app import create_app

__all__ = ["create_app"]
