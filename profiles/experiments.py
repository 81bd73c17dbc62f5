"""Outcomes of experiment variants: each turn's recorded variant, handoff and feedback."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from profiles.models import Feedback, Turn


class TurnOutcome(BaseModel):
    """One turn of an experiment: its variant, whether it handed off, and its feedback
    (the latest rating and resolution the customer gave, if any)."""

    turn_id: str
    customer_id: str
    variant: str
    handoff: bool
    rating: int | None = None
    resolved: bool | None = None
    simulated: bool = False  # the feedback was written by a simulation, not the customer


SIMULATED = "[simulated]"  # the comment a simulation writes on its feedback


def variant_of(label: str | None, experiment_id: str) -> str | None:
    """The variant of `experiment_id` in a turn's 'exp=variant;…' label."""
    for part in (label or "").split(";"):
        name, _, variant = part.partition("=")
        if name == experiment_id and variant:
            return variant
    return None


def experiment_outcomes(engine: Engine, experiment_id: str) -> list[TurnOutcome]:
    """Every turn assigned a variant of `experiment_id`, with its outcome."""
    with Session(engine) as s:
        turns = s.exec(
            select(Turn.id, Turn.customer_id, Turn.variant, Turn.handoff).where(
                col(Turn.variant).like(f"%{experiment_id}=%")
            )
        ).all()
        by_turn: dict[str, TurnOutcome] = {}
        for tid, cid, label, handoff in turns:
            variant = variant_of(label, experiment_id)
            if variant is not None:
                by_turn[tid] = TurnOutcome(
                    turn_id=tid, customer_id=cid, variant=variant, handoff=handoff
                )
        if by_turn:
            feedback = s.exec(
                select(Feedback)
                .where(col(Feedback.turn_id).in_(list(by_turn)))
                .order_by(col(Feedback.created_at), col(Feedback.id))
            )
            for f in feedback:  # later feedback on the same turn overrides earlier
                o = by_turn[f.turn_id]
                if f.rating is not None:
                    o.rating = f.rating
                if f.resolved is not None:
                    o.resolved = f.resolved
                o.simulated = o.simulated or f.comment == SIMULATED
    return sorted(by_turn.values(), key=lambda o: o.turn_id)
