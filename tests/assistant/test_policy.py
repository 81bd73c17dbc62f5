"""The decision policy: every rule type of the packaged YAML, consent, traces, rule files."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from assistant.policy import Policy
from profiles.expressions import RuleFileError
from tests.assistant.conftest import CANCEL, CARD, ORDER, PROFILE, decide


@pytest.mark.parametrize(
    ("message", "rule", "reason"),
    [
        ("Can I talk to a human please?", "handoff.explicit_request", "customer asked for a human"),
        ("My lawyer says I should sue you over this", "handoff.legal", "legal topic"),
        ("My card was stolen and used for fraud", "handoff.security", "security topic"),
        # as customers type: one swapped letter in a long word
        ("can i talk to a real preson", "handoff.explicit_request", "customer asked for a human"),
        ("my card was stolne", "handoff.security", "security topic"),
        # a lost card is for someone who can block it, in any language
        ("i lost my card!!", "handoff.security", "security topic"),
        ("I think I lost my debit card yesterday", "handoff.security", "security topic"),
        ("my card is missing", "handoff.security", "security topic"),
        ("perdí mi tarjeta", "handoff.security", "security topic"),
        ("j'ai perdu ma carte", "handoff.security", "security topic"),
    ],
)
def test_topic_rules_hand_off_with_their_reason(message, rule, reason):
    d = decide(CARD, message)
    assert d.handoff and d.handoff_reason == reason
    assert d.fired(rule)
    # a lost card or fraud is urgent for the agents' queue; the others wait their turn
    assert d.handoff_urgent is (rule == "handoff.security")


def test_a_plain_question_is_not_handed_off():
    d = decide(CARD, "Where is my order #W1111111?")
    assert not d.handoff
    assert not decide(CARD, "is the sale still on?").handoff  # "sale" is not "sue"
    assert not decide(CARD, "my package got lost, where is it?").handoff  # not a card
    assert not decide(CARD, "can i pay with a gift card?").handoff
    assert [h.rule for h in d.trace][:1] == ["consent"]


def test_an_unhappy_vip_goes_to_a_human_but_an_unhappy_regular_does_not():
    message = "This is ridiculous, my order #W1111111 is late again"
    vip = decide(CARD, message, segments=["vip"])
    regular = decide(CARD, message, segments=[])
    assert vip.handoff and vip.fired("handoff.vip_negative")
    assert not regular.handoff
    assert "empathetic" in regular.tone and regular.fired("tone.empathetic")
    hit = next(h for h in vip.trace if h.rule == "handoff.vip_negative")
    assert hit.inputs == {"segments": ["vip"], "sentiment": "negative"}


def test_low_retrieval_confidence_hands_off_only_without_an_order_or_good_passage():
    far = CANCEL.model_copy(update={"similarity": 0.05})
    d = decide(CARD, "What is the airspeed of an unladen swallow?", facts=[PROFILE], passages=[far])
    assert d.handoff and d.fired("handoff.low_confidence")
    assert next(h for h in d.trace if h.rule == "handoff.low_confidence").inputs[
        "retrieval_confidence"
    ] == pytest.approx(0.05)
    close = decide(CARD, "How do I cancel a pending order?", facts=[PROFILE])
    assert not close.handoff


def test_at_risk_customers_get_a_careful_tone():
    d = decide(CARD, "Can I cancel #W1111111?", segments=["at_risk"])
    assert d.fired("tone.at_risk") and "careful" in d.tone


def test_mobile_and_agent_channels_change_the_reply_length():
    assert decide(CARD, "Cancel #W1111111", device="mobile").style.length == "short"
    assert decide(CARD, "Cancel #W1111111", channel="agent").style.length == "full"
    assert decide(CARD, "Cancel #W1111111").style.length == "normal"


def test_greeting_follows_the_locale_and_hours_follow_the_time_zone():
    spanish = decide(CARD, "Cancel #W1111111", locale="es-MX")
    assert spanish.style.language == "es" and spanish.style.greeting == "Hola"
    # 10:30 UTC on a Tuesday is 02:30 in Los Angeles: outside the 9–18 hours.
    night = decide(CARD, "Cancel #W1111111", timezone="America/Los_Angeles")
    assert not night.style.business_hours
    assert night.style.local_time == "02:30" and night.style.next_opening == "today 09:00"
    saturday = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)
    weekend = decide(CARD, "Cancel #W1111111", now=saturday)
    assert weekend.style.next_opening == "Monday 09:00"
    assert decide(CARD, "Cancel #W1111111").style.business_hours


def test_support_hours_are_the_business_s_own_told_by_the_customer_s_clock(tmp_path):
    """`business_hours.timezone`: a business in Los Angeles is open 9–17 there, whatever
    the time where the customer writes from; when it opens is told by the customer's
    clock, or by the business's when the customer's zone is unknown."""
    text = (Path(__file__).parents[2] / "assistant/rules/policy.yaml").read_text()
    text = text.replace(
        "business_hours: {start: 9, end: 18,",
        "business_hours: {timezone: America/Los_Angeles, start: 9, end: 17,",
    )
    assert "America/Los_Angeles" in text
    (tmp_path / "policy.yaml").write_text(text)
    policy = Policy.load(tmp_path / "policy.yaml")
    late = datetime(2026, 12, 8, 4, 47, tzinfo=UTC)  # Monday 23:47 in New York, 20:47 in LA
    ny = decide(CARD, "hi", now=late, policy=policy, timezone="America/New_York")
    assert not ny.style.business_hours and ny.style.local_time == "23:47"
    # 09:00 in Los Angeles is 12:00 in New York, the next day there
    assert ny.style.next_opening == "tomorrow 12:00", ny.style.next_opening
    nowhere = CARD.model_copy(update={"timezone": None})  # no zone: the business's clock
    unknown = decide(nowhere, "hi", now=late, policy=policy)
    assert unknown.style.next_opening == "tomorrow 09:00", unknown.style.next_opening
    utc = decide(CARD, "hi", now=late, policy=policy)  # a customer on UTC: 17:00 there
    assert utc.style.next_opening == "today 17:00", utc.style.next_opening
    # 18:30 in New York is 15:30 in Los Angeles: open, though past 17:00 where they are
    afternoon = datetime(2026, 12, 8, 23, 30, tzinfo=UTC)
    assert decide(
        CARD, "hi", now=afternoon, policy=policy, timezone="America/New_York"
    ).style.business_hours
    bad = text.replace("America/Los_Angeles", "Mars/Olympus_Mons")
    (tmp_path / "bad.yaml").write_text(bad)
    with pytest.raises(RuleFileError, match="business_hours.timezone"):
        Policy.load(tmp_path / "bad.yaml")


def test_naming_a_record_denies_the_other_records_and_defaults_cap_facts():
    d = decide(CARD, "Cancel #W1111111")
    assert d.fired("guard.named_records_only") and d.deny_facts == ["other_records"]
    assert d.max_personal_facts == 3 and "email" in d.never_mention
    unnamed = decide(CARD, "How do refunds work?", facts=[PROFILE])
    assert "other_records" not in unnamed.deny_facts


def test_consent_is_applied_before_any_rule():
    card = CARD.model_copy(update={"consents": {"personalization": True}})
    d = decide(card, "hi there")
    assert d.use_profile and not d.use_history
    assert d.trace[0].rule == "consent"
    assert d.trace[0].inputs == {"personalization": True, "history": False}


def test_the_trace_names_inputs_not_message_text():
    d = decide(CARD, "I am furious about order #W1111111, my email is ana@example.com")
    dumped = str([h.model_dump() for h in d.trace])
    assert "ana@example.com" not in dumped and "furious" not in dumped
    assert ORDER.id.removeprefix("record:") in dumped  # the ids it read are traceable


@pytest.mark.parametrize(
    ("rule_yaml", "complaint"),
    [
        ("- {id: a, when: 'lifetime_vlaue > 3'}", "unknown name 'lifetime_vlaue'"),
        ("- {id: a, when: 'channel.__class__'}", "attribute access is not allowed"),
        ("- {id: a, when: 'device =='}", "cannot parse"),
        ("- {id: a, when: 'True', deny_facts: [secrets]}", "unknown fact groups"),
        ("- {id: a, when: 'True', style: {length: huge}}", "style.length"),
        ("- {id: a, when: 'True', hand_off: x}", "unknown keys"),
        ("- {id: a, when: 'True', urgent: true}", "says so of a handoff"),
        ("- {id: a, when: 'True', handoff: x, urgent: 'yes'}", "urgent is true or false"),
        ("- {id: a, when: 'True'}\n  - {id: a, when: 'False'}", "unique"),
    ],
)
def test_bad_rule_files_fail_at_load_naming_the_rule(tmp_path: Path, rule_yaml, complaint):
    path = tmp_path / "policy.yaml"
    path.write_text(f"rules:\n  {rule_yaml}\n")
    with pytest.raises(RuleFileError, match="policy file") as exc:
        Policy.load(path)
    assert complaint in str(exc.value)


def test_a_custom_policy_file_changes_decisions(tmp_path: Path):
    path = tmp_path / "policy.yaml"
    path.write_text(
        "defaults: {tone: formal, max_personal_facts: 1, never_mention: [address]}\n"
        "topics: {billing: [invoice, receipt]}\n"
        "rules:\n"
        "  - {id: handoff.billing, when: \"'billing' in topics\", handoff: billing team}\n"
        "  - {id: guard.no_history, when: 'True', deny_facts: [history]}\n"
    )
    policy = Policy.load(path)
    d = decide(CARD, "I need an invoice for #W1111111", policy=policy)
    assert d.handoff and d.handoff_reason == "billing team"
    assert d.tone == "formal" and d.max_personal_facts == 1 and d.never_mention == ["address"]
    assert d.deny_facts == ["history"]
