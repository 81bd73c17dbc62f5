"""Widget identity verification and API keys, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from fastapi import Request

from assistant.errors import Forbidden, NotConfigured, Unauthenticated
from assistant.settings import Settings
from profiles.workspaces import digest, matches


def user_hash(secret: str, customer_id: str) -> str:
    """HMAC-SHA256(secret, customer_id) in hex: what the site's backend gives its widget."""
    return hmac.new(secret.encode(), customer_id.encode(), hashlib.sha256).hexdigest()


def verify_customer(settings: Settings, customer_id: str, given_hash: str | None) -> None:
    """401 unless `given_hash` proves the caller may act as `customer_id`."""
    if not settings.widget_secret:
        raise NotConfigured("widget identity is not configured (RAPPORT_WIDGET_SECRET)")
    if not given_hash:
        raise Unauthenticated("missing user_hash: the widget must identify the customer")
    expected = user_hash(settings.widget_secret, customer_id).encode()
    if not hmac.compare_digest(expected, given_hash.encode()):
        raise Unauthenticated("user_hash does not match customer_id")


def key_from(request: Request) -> str | None:
    """The API key a request carries (`X-API-Key`, or `Authorization: Bearer`), if any."""
    key = request.headers.get("x-api-key")
    if key:
        return key
    auth = request.headers.get("authorization", "")
    return auth[7:] if auth.lower().startswith("bearer ") else None


def verify_key(request: Request, digests: Iterable[str], role: str) -> None:
    """401 without a key, 403 with a key whose SHA-256 is not one of `digests`."""
    key = key_from(request)
    if not key:
        raise Unauthenticated(f"missing {role} API key (X-API-Key header)")
    if not matches(digest(key), digests):
        raise Forbidden(f"not a valid {role} API key")


def verify_channel(channel: str, staff: bool) -> None:
    """403 for a customer's request that asks for the agent channel: that channel puts the
    turn in the agent queue as an agent's and changes the reply style, so only staff (a
    request with an agent or admin key) may choose it."""
    if channel == "agent" and not staff:
        raise Forbidden("channel 'agent' needs an agent or admin API key")


def key_fingerprint(request: Request, role: str) -> str:
    """Who presented this request's key, for the audit log: the role and the first 12 hex
    digits of the key's SHA-256, never the key itself."""
    return f"{role}:{digest(key_from(request) or '')[:12]}"
