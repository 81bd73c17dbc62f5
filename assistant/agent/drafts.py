"""How agents use the drafts they are offered, from the stored agent replies: per draft
variant and per intent, how many replies started from a draft (acceptance), how many were
sent as drafted, and how much agents changed them (characters, and similarity 0..1)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import BaseModel

from profiles.models import AgentReply


class DraftStats(BaseModel):
    replies: int
    from_draft: int
    acceptance: float  # share of replies that started from a draft
    sent_as_is: float  # share of draft-based replies sent unchanged
    mean_edit_distance: float | None  # characters changed, over draft-based replies
    mean_similarity: float | None


class DraftReport(BaseModel):
    overall: DraftStats
    by_variant: dict[str, DraftStats]
    by_intent: dict[str, DraftStats]


def stats(replies: Sequence[AgentReply]) -> DraftStats:
    drafted = [r for r in replies if r.draft_index is not None]
    distances = [r.edit_distance for r in drafted if r.edit_distance is not None]
    sims = [r.similarity for r in drafted if r.similarity is not None]
    return DraftStats(
        replies=len(replies),
        from_draft=len(drafted),
        acceptance=round(len(drafted) / len(replies), 4) if replies else 0.0,
        sent_as_is=round(sum(1 for d in distances if d == 0) / len(drafted), 4) if drafted else 0.0,
        mean_edit_distance=round(sum(distances) / len(distances), 2) if distances else None,
        mean_similarity=round(sum(sims) / len(sims), 4) if sims else None,
    )


def _grouped(replies: Iterable[AgentReply], key: str) -> dict[str, DraftStats]:
    groups: dict[str, list[AgentReply]] = {}
    for r in replies:
        groups.setdefault(getattr(r, key) or "(none)", []).append(r)
    return {k: stats(v) for k, v in sorted(groups.items())}


def assignment_of(variant: str | None, experiment_id: str) -> str | None:
    """The variant of `experiment_id` in an assignment string "exp=variant;exp2=v2"."""
    for part in (variant or "").split(";"):
        name, _, value = part.partition("=")
        if name.strip() == experiment_id and value:
            return value.strip()
    return None


def by_experiment_variant(
    replies: Sequence[AgentReply], experiment_id: str
) -> dict[str, DraftStats]:
    """Draft statistics per variant of one experiment (replies made under it only)."""
    groups: dict[str, list[AgentReply]] = {}
    for r in replies:
        name = assignment_of(r.variant, experiment_id)
        if name is not None:
            groups.setdefault(name, []).append(r)
    return {k: stats(v) for k, v in sorted(groups.items())}


def draft_report(replies: Sequence[AgentReply]) -> DraftReport:
    return DraftReport(
        overall=stats(replies),
        by_variant=_grouped(replies, "variant"),
        by_intent=_grouped(replies, "intent"),
    )


def markdown(report: DraftReport) -> str:
    lines = ["# Draft acceptance", ""]
    header = "| {} | replies | from a draft | acceptance | sent as is | mean edit | similarity |"
    for title, rows in (
        ("overall", {"all": report.overall}),
        ("by variant", report.by_variant),
        ("by intent", report.by_intent),
    ):
        lines += [f"## {title}", "", header.format(title.split()[-1]), "|---" * 7 + "|"]
        for name, s in rows.items():
            edit = "–" if s.mean_edit_distance is None else f"{s.mean_edit_distance:.1f}"
            sim = "–" if s.mean_similarity is None else f"{s.mean_similarity:.3f}"
            lines.append(
                f"| {name} | {s.replies} | {s.from_draft} | {s.acceptance:.2f} | "
                f"{s.sent_as_is:.2f} | {edit} | {sim} |"
            )
        lines.append("")
    return "\n".join(lines)
