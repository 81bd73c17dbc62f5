"""Typed results that leave the retrieval package."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel


class Passage(BaseModel):
    """One knowledge-base chunk retrieved for a query."""

    id: str  # stable chunk id: "<doc_id>#<n>"
    doc_id: str
    title: str  # document title, plus the heading path of the chunk
    text: str
    score: float  # fused score; higher is better
    source: str = ""  # file the document came from
    similarity: float | None = None  # cosine to the query, when the dense half found it
    audience: str = "customer"  # or "internal": staff only, never a customer's reply
    held: bool = False  # its title names something the customer holds ("Green Account")


HistoryKind = Literal["message", "ticket", "order", "event", "conversation"]


class HistoryRecord(BaseModel):
    """One item of a customer's history, as stored for retrieval."""

    id: str  # globally unique, e.g. "msg:123" or "locomo-1:D3:12"
    customer_id: str
    kind: HistoryKind
    text: str
    created_at: datetime | None = None


class HistoryHit(BaseModel):
    """A history item retrieved for a query, with its score."""

    id: str
    kind: HistoryKind
    text: str
    created_at: datetime | None = None
    score: float
