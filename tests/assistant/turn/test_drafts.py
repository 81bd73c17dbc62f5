"""The sidebar's first draft is the plan's answer, ready to send: no bot handoff sentence,
no dangling citation numbers."""

from __future__ import annotations

from assistant.assist import assist

OLIVIA = "olivia_ito_3591"


def test_first_draft_is_the_plan_answer_without_citation_numbers(make_container):
    c = make_container()
    a = assist(c.assistant, OLIVIA, "Can I cancel my order #W5442520?")
    first = a.suggested_replies[0]
    assert "#W5442520" in first and "can still be cancelled" in first
    assert "[" not in first
    assert any(cit.id == "order:#W5442520" for cit in a.citations)


def test_a_handoff_turn_drafts_an_answer_not_the_bot_handoff(make_container):
    c = make_container()
    a = assist(c.assistant, OLIVIA, "I want to talk to a human about cancelling #W5442520")
    assert a.risk_flags and any(f.startswith("handoff") for f in a.risk_flags)
    first = a.suggested_replies[0]
    assert "passing this conversation" not in first and "human agent" not in first
    assert "#W5442520" in first and "[" not in first
