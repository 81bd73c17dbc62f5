import pytest

from assistant.policy import decide
from tests.assistant.conftest import CARD


@pytest.mark.parametrize(
    ("message", "handoff", "rule"),
    [
        ("Can I talk to a human please?", True, "handoff.explicit_request"),
        ("My card was stolen and used for fraud", True, "handoff.sensitive_topic"),
        ("Where is my order?", False, None),
    ],
)
def test_handoff_rules(message, handoff, rule):
    d = decide(CARD, message)
    assert d.handoff is handoff
    if rule:
        assert rule in d.trace


def test_upset_customer_gets_empathetic_tone():
    d = decide(CARD, "This is ridiculous, my order is late again")
    assert "empathetic" in d.tone and "tone.empathetic" in d.trace


def test_consent_flags_follow_the_card():
    card = CARD.model_copy(update={"consents": {"personalization": True}})
    d = decide(card, "hi")
    assert d.use_profile and not d.use_history
