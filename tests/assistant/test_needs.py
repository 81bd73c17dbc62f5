"""Predicted needs: what is asked of the records the message names, what their status
allows (and what their kind does instead), what was confirmed, and handoffs."""

from assistant.needs import predict_needs
from assistant.types import Decision
from profiles.context import ConfirmedAction, CustomerContext, Fact, RecordAction
from tests.assistant.conftest import CARD


def ranked(message, facts, events=(), decision=None):
    ctx = CustomerContext(card=CARD, facts=list(facts), history_ids=[], recent_events=list(events))
    return predict_needs(message, ctx, decision or Decision())


def top(message, facts, **kw):
    return [n.action for n in ranked(message, facts, **kw) if n.score > 0][:3]


def test_the_first_request_ranks_first():
    facts = [_order("#W1111111", "pending"), _order("#W2222222", "delivered")]
    assert top("Return #W2222222 and cancel #W1111111", facts)[:2] == ["return", "cancel"]
    assert top("Cancel #W1111111, then return #W2222222", facts)[:2] == ["cancel", "return"]


def test_eligibility_follows_the_named_records_status():
    delivered = [_order("#W2222222", "delivered")]
    needs = {n.action: n for n in ranked("I want to cancel #W2222222", delivered)}
    assert not needs["cancel"].eligible and needs["cancel"].targets == ["#W2222222"]
    # a cancellation asked after delivery is a return, by the kind's `instead`
    assert top("I want to cancel #W2222222", delivered)[0] == "return"
    assert needs["return"].eligible and needs["return"].targets == ["#W2222222"]


def test_records_the_message_does_not_name_bring_no_action():
    unnamed = ranked("How do I cancel an order?", [_order("#W3333333", "pending", relevance=0.5)])
    assert [n.action for n in unnamed] == ["escalate"] and unnamed[0].score == 0


def test_the_handoff_is_a_person_first_with_its_reason():
    d = Decision(handoff=True, handoff_reason="legal topic")
    first = ranked("My lawyer wants a refund", [_order("#W1", "pending")], decision=d)[0]
    assert first.action == "escalate" and "legal topic" in first.reasons and first.eligible


def _card(key: str, status: str, relevance: float = 4.0) -> Fact:

    allows = {"ACTIVE": {"freeze", "close"}, "FROZEN": {"unfreeze", "close"}}[status]
    return Fact(
        id=f"record:debit_card:{key}",
        kind="record",
        text=f"Debit card {key}: {status}",
        relevance=relevance,
        status=status,
        actions=[
            RecordAction(name=a, allowed=a in allows, names={"en": [a]})
            for a in ("freeze", "unfreeze", "close")
        ],
    )


def test_a_businesss_records_bring_their_own_actions():
    """A bank's customer: the actions their named card's kind knows, asked and allowed
    first, what its status allows next; none of the store's order actions."""
    needs = ranked("please freeze my debit card", [_card("dbc_1", "ACTIVE")])
    assert [n.action for n in needs if n.score > 0] == ["freeze", "close"]
    freeze = needs[0]
    assert freeze.eligible and freeze.targets == ["dbc_1"]
    assert "dbc_1 is ACTIVE: its status allows it" in freeze.reasons
    assert not any(n.action in ("return", "cancel", "track") for n in needs)
    # asked but not what its status allows: ranks low, not eligible, says why
    frozen = {n.action: n for n in ranked("freeze my debit card", [_card("dbc_1", "FROZEN")])}
    assert not frozen["freeze"].eligible and frozen["freeze"].score < 3.0
    assert frozen["unfreeze"].eligible and frozen["unfreeze"].targets == ["dbc_1"]
    assert frozen["freeze"].reasons[-1] == "dbc_1: not while FROZEN"
    # a record the message does not name brings nothing
    unnamed = ranked("hello", [_card("dbc_1", "ACTIVE", relevance=0.4)])
    assert not {"freeze", "unfreeze", "close"} & {n.action for n in unnamed}


ORDER_ACTIONS = {"cancel": ["cancel"], "return": ["return", "refund"], "exchange": ["exchange"]}
ORDER_ACTIONS |= {"modify": ["change"]}
ALLOWS = {"pending": {"cancel", "modify"}, "delivered": {"return", "exchange"}}


def _order(key: str, status: str, relevance: float = 10.0) -> Fact:
    """A store's order as its mapping imports it: what each action is instead while its
    status does not allow it (a refund before delivery is a cancellation)."""

    instead = {"return": "cancel", "cancel": "return", "exchange": "modify", "modify": "exchange"}
    return Fact(
        id=f"record:order:{key}",
        kind="record",
        text=f"Order {key}: {status}",
        relevance=relevance,
        status=status,
        actions=[
            RecordAction(
                name=a,
                allowed=a in ALLOWS[status],
                names={"en": names},
                instead=None if a in ALLOWS[status] else instead[a],
            )
            for a, names in ORDER_ACTIONS.items()
        ],
    )


def _line(order: str, status: str, relevance: float = 10.0) -> Fact:
    """A line of an order, whose refund before delivery cancels the order it links to."""

    allows = {"pending": {"modify"}, "delivered": {"return", "exchange"}}[status]
    instead = {"return": "order.cancel", "exchange": "modify", "modify": "exchange"}
    return Fact(
        id=f"record:order_line:{order}/0",
        kind="record",
        text=f"Tea kettle in order {order}: {status}",
        relevance=relevance,
        status=status,
        links={"order": order},
        actions=[
            RecordAction(
                name=a,
                allowed=a in allows,
                names={"en": ORDER_ACTIONS[a]},
                instead=None if a in allows else instead[a],
            )
            for a in ("return", "exchange", "modify")
        ],
    )


def test_a_records_wish_its_status_does_not_allow_counts_for_what_it_allows_instead():
    """The mapping's `instead`: a refund asked of a pending order is its cancellation, an
    exchange its change; asked after delivery, a cancellation is a return."""
    refund = ranked("I just want a refund for #W1", [_order("#W1", "pending")])
    assert refund[0].action == "cancel" and refund[0].eligible
    assert "asked to return a pending order: its status allows cancel" in refund[0].reasons
    assert refund[0].targets == ["#W1"]
    late = top("please cancel #W2", [_order("#W2", "delivered")])
    assert late[0] == "return"
    # the first wish ranks first: an exchange, else a refund, of an order not yet delivered
    both = top(
        "I'd like to exchange it for the blue one, or else a refund", [_order("#W1", "pending")]
    )
    assert both[:2] == ["modify", "cancel"]
    reverse = top("a refund, or else exchange it for the blue one", [_order("#W1", "pending")])
    assert reverse[:2] == ["cancel", "modify"]


def test_a_lines_refund_before_delivery_cancels_the_order_it_links_to():
    facts = [_line("#W3", "pending"), _order("#W3", "pending", relevance=2.0)]
    needs = ranked("I found the kettle cheaper elsewhere, I want a full refund", facts)
    assert needs[0].action == "cancel" and needs[0].targets == ["#W3"]
    assert "asked to return a pending order line: its order allows cancel" in needs[0].reasons
    # without its order in the context there is nothing to stand in: asked, not allowed
    alone = {n.action: n for n in ranked("I want a full refund", [_line("#W3", "pending")])}
    assert "cancel" not in alone and not alone["return"].eligible


def test_an_action_the_customer_confirmed_ranks_above_the_handoff_to_do_it():
    """ "yes, go ahead" hands off: the person it goes to is there to cancel the order, so
    the cancellation is the first next best action, not the escalation."""
    order = _order("#W7", "pending")
    yes = ConfirmedAction(record=order.id, action="cancel")
    ctx = CustomerContext(card=CARD, facts=[order], history_ids=[], confirmed=[yes])
    handoff = Decision(handoff=True, handoff_reason="customer confirmed an action")
    needs = predict_needs("yes go ahead", ctx, handoff)
    assert (needs[0].action, needs[0].targets) == ("cancel", ["#W7"])
    assert needs[0].reasons[0] == "the customer confirmed it" and needs[1].action == "escalate"
    ctx.confirmed = []
    assert predict_needs("yes go ahead", ctx, handoff)[0].action == "escalate"


def test_an_action_taken_back_is_no_need():
    """ "ok wait, don't cancel": the cancellation the customer took back is not offered
    to the agent again, though the order's status allows it; its other actions are."""
    order = _order("#W7", "pending")
    no = ConfirmedAction(record=order.id, action="cancel")
    ctx = CustomerContext(card=CARD, facts=[order], history_ids=[], declined=[no])
    needs = predict_needs("ok wait, don't cancel", ctx, Decision())
    assert "cancel" not in [n.action for n in needs]
    assert "modify" in [n.action for n in needs]
    ctx.declined = []
    assert "cancel" in [n.action for n in predict_needs("ok wait, don't cancel", ctx, Decision())]
