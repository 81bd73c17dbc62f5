"""The sidebar's first draft is the plan's answer, ready to send: no bot handoff sentence,
no dangling citation numbers."""

from __future__ import annotations

from assistant.assist import assist

OLIVIA = "olivia_ito_3591"


def test_first_draft_is_the_plan_answer_without_citation_numbers(make_container):
    c = make_container()
    a = assist(c.assistant, OLIVIA, "Can I cancel my order #W5442520?")
    first = a.suggested_replies[0]
    assert "#W5442520" in first and "you can still cancel it" in first
    assert "[" not in first
    assert any(cit.id == "record:order:#W5442520" for cit in a.citations)


def test_a_handoff_turn_drafts_an_answer_not_the_bot_handoff(make_container):
    c = make_container()
    a = assist(c.assistant, OLIVIA, "I want to talk to a human about cancelling #W5442520")
    assert a.risk_flags and any(f.startswith("handoff") for f in a.risk_flags)
    first = a.suggested_replies[0]
    assert "passing this conversation" not in first and "human agent" not in first
    assert "#W5442520" in first and "[" not in first


def test_a_handoff_after_thanks_is_not_drafted_as_youre_welcome(make_container):
    """The bot hands "ok thanks. also I lost my card!!" to a person; the agent's first
    draft takes up the matter, not the thanks."""
    # a business without the store's order intents (a bank's): "card" is no payment
    c = make_container(intents="greeting,thanks,goodbye,human,recall")
    a = assist(c.assistant, OLIVIA, "ok thanks. also I lost my card!!")
    assert a.risk_flags and any(f.startswith("handoff") for f in a.risk_flags)
    assert not any("welcome" in d.lower() for d in a.suggested_replies)
    assert a.suggested_replies[0].startswith("Hi Olivia")
    # a thanks alone is still answered as one
    thanks = assist(c.assistant, OLIVIA, "ok thanks!")
    assert "welcome" in thanks.suggested_replies[0].lower()


def test_an_urgent_handoff_is_drafted_as_taking_it_up_not_as_the_plans_answer(make_container):
    """In the store "card" is a payment word: "i lost my card!!" plans how an order was
    paid, which is no draft for the person who must block the card."""
    c = make_container()
    a = assist(c.assistant, OLIVIA, "i lost my card!!")
    assert any(f.startswith("handoff") for f in a.risk_flags)
    assert not any("was paid" in d for d in a.suggested_replies)
    assert a.suggested_replies[0].startswith("Hi Olivia, thanks for your message")


def test_the_offer_names_what_it_is_for_or_is_not_made(make_container):
    """ "I can help you freeze your debit card dbc_7", in the customer's language with the
    business's own word for the action: never "order dbc_7"; and a policy question ("how
    long do refunds take?") gets no offer to return nothing."""
    from profiles.admin import CustomerIn, RecordIn, upsert_customer, upsert_record

    c = make_container(intents="greeting,thanks,goodbye,human,recall")
    consents = {"personalization": True, "history": True}
    upsert_customer(c.engine, "ada", CustomerIn(first_name="Ada", consents=consents))
    card = RecordIn(
        customer_id="ada",
        status="ACTIVE",
        words=["debit card", "card", "tarjeta"],
        allows=["freeze"],
        actions={"freeze": {"en": ["freeze", "block"], "es": ["congelar", "bloquear"]}},
    )
    upsert_record(c.engine, "debit_card", "dbc_7", card)
    offer = assist(c.assistant, "ada", "please freeze my debit card").suggested_replies[1]
    assert "I can help you freeze your debit card dbc_7." in offer and "order" not in offer
    es = assist(c.assistant, "ada", "quiero congelar mi tarjeta por favor").suggested_replies[1]
    assert "Puedo ayudarte a congelar dbc_7." in es
    refunds = assist(c.assistant, OLIVIA, "how long do refunds take?").suggested_replies
    assert not any("I can help you" in d for d in refunds)
    # what its status allows, unasked, is no offer: "is my card active?" asks no freeze
    active = assist(c.assistant, "ada", "is my debit card active?").suggested_replies
    assert not any("I can help you" in d for d in active)
