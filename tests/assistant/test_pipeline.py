"""Whole support turns on real data: real SQLite, real embedded Chroma, respx-faked LLM."""

import httpx
import pytest
from sqlmodel import Session, col, select

from assistant.errors import BadInput, NotFound
from assistant.types import TurnRequest
from profiles.models import Consent, Message, Turn
from tests.assistant.test_openai_generator import completion

OLIVIA = "olivia_ito_3591"  # owns pending order #W5442520
LLM = "http://llm.test/v1"


def ask(container, message, customer=OLIVIA, conversation=None):
    return container.assistant.turn(
        TurnRequest(customer_id=customer, message=message, conversation_id=conversation)
    )


def test_offline_turn_answers_with_order_status_and_policy_citation(make_container):
    c = make_container()
    r = ask(c, "What is the status of my order #W5442520? Can I still cancel it?")
    assert r.generator == "offline" and not r.degraded and not r.handoff
    assert "#W5442520" in r.answer and "pending" in r.answer
    assert "you can still cancel it" in r.answer
    kinds = {(cit.kind, cit.id.split("#")[0]) for cit in r.citations}
    assert ("record", "record:order:") in kinds
    # A question about the customer's own order is answered from the order, not by
    # quoting policy sentences as if they were statements about it (issue 13).
    assert not any(cit.kind == "kb" for cit in r.citations)
    # The store's policy file is written for agents ("the user needs to confirm …"): a
    # policy question gets the business's customer-facing rule, never those sentences.
    r = ask(c, "What is your policy on cancelling an order like #W5442520?")
    assert "can be cancelled while it is still pending" in r.answer
    assert "user" not in r.answer.lower()
    for cit in r.citations:
        assert f"[{cit.n}]" in r.answer
    assert r.context.tokens <= 2000
    assert "record:order:#W5442520" in r.context.fact_ids
    assert set(r.timings_ms) >= {
        "identify",
        "store_message",
        "load_context",
        "embed",
        "retrieve",
        "decide",
        "compose",
        "generate",
        "check",
        "persist",
    }
    with Session(c.engine) as s:
        msgs = s.exec(
            select(Message)
            .where(Message.conversation_id == r.conversation_id)
            .order_by(col(Message.id))
        ).all()
        assert [m.role for m in msgs] == ["customer", "assistant"]
        turn = s.get(Turn, r.turn_id)
        assert turn is not None and turn.context_ids and not turn.degraded


def test_a_delivered_order_that_never_arrived_goes_to_a_person(make_container):
    """ "It says delivered but I never got it": repeating "it has been delivered" answers
    nothing; a person traces the parcel, and the customer is told so in their language.
    Not yet received and still pending is a where-is question the records answer."""
    c = make_container()
    isabella = "isabella_brown_3584"  # her orders are all delivered
    for message in ("my package says delivered but i never got it", "no me ha llegado el pedido"):
        r = ask(c, message, customer=isabella)
        assert r.handoff and "handoff.not_received" in [h.rule for h in r.decision_trace]
        assert "has been delivered" not in r.answer and "ya fue entregado" not in r.answer
    assert r.answer.startswith("Hola Isabella: Siento que no te haya llegado.")
    pending = ask(c, "i havent received my order yet")  # Olivia's orders are pending
    assert not pending.handoff and "None of them has reached you yet." in pending.answer
    # pending is not shipped: nothing says it is on its way (it said "still on their way")
    assert "on their way" not in pending.answer


def test_how_much_is_answered_with_the_amount_as_the_business_tells_it(make_container):
    """ "How much did I pay?" of an order: its amount, in the business's words for it
    (`amount_said` of its kind's mapping) and in the customer's language; a model is given
    the same words beside the record. Not said when the customer asks something else."""
    c = make_container()
    r = ask(c, "how much was my order #W7941031?")
    assert "#W7941031" in r.answer and "You paid $2,198.09 for it." in r.answer
    assert "You paid $2,198.09 for it" in r.context.text  # for a model too
    # "the order with the backpack" is the order, named by its kind, not the backpack's
    # line its value names (it answered with the line's $212.79 alone)
    r = ask(c, "how much did i pay for the order with the backpack?")
    assert "You paid $2,198.09 for it." in r.answer
    assert r.answer.index("Order #W7941031") < r.answer.index("Backpack (")
    # naming none: the ones still under way (it handed off: "I couldn't find an answer")
    r = ask(c, "how much did i pay?")
    assert not r.handoff and "You paid $2,198.09 for it." in r.answer
    assert "You paid $663.85 for it." in r.answer and "#W5866402" not in r.answer  # delivered
    # what something costs anyone, or how many, is no question about what they paid
    for other in ("how much does shipping cost?", "¿cuántos pedidos puedo hacer?"):
        assert "You paid" not in ask(c, other).answer, other
    r = ask(c, "where is my order #W7941031?")
    assert "#W7941031" in r.answer and "You paid" not in r.answer
    assert "You paid" not in r.context.text
    # typed as customers type it: the id without its "#", the question word without its
    # accent, after asking something else of it (it asked "which one?" of every order,
    # then answered the cancellation asked before, with "puedes cancel")
    first = ask(c, "can i cancel W5442520")
    assert "#W5442520" in first.answer and "you can still cancel it" in first.answer
    assert "#W7941031" not in first.answer
    r = ask(c, "cuanto pague por mi pedido W5442520?", conversation=first.conversation_id)
    assert "Pagaste $663.85 por él." in r.answer and "cancel" not in r.answer
    r = ask(c, "y puedo cancelarlo?", conversation=first.conversation_id)
    assert "puedes cancelar" in r.answer


def test_a_status_asked_in_the_words_customers_use_is_answered(make_container):
    """The store's mapping says "shipped", "arrived", "enviado" … of its statuses: "has it
    shipped yet?" of a pending order is a not yet, of a delivered one a yes (a delivered
    order has shipped too); an id typed not as the store writes it is hers all the same;
    a number in the shape of the store's that is none of hers is not."""
    c = make_container()
    r = ask(c, "has w5442520 shipped yet?")
    assert "Not yet: it is pending." in r.answer and "#W5442520" in r.answer
    r = ask(c, "has #W5866402 arrived?")  # delivered
    assert "Yes, it is delivered." in r.answer
    r = ask(c, "did #W5866402 arrive?")
    assert "#W5866402" in r.answer and not r.handoff
    # naming none, the ones under way (it handed off: "I couldn't find an answer")
    r = ask(c, "hey has my stuff shipped yet")
    # said once, after them all, not after each
    assert not r.handoff and r.answer.count("Not yet: they are all pending.") == 1, r.answer
    assert "it is pending" not in r.answer
    assert "#W5866402" not in r.answer  # delivered
    r = ask(c, "¿ya fue enviado mi pedido W5442520?")
    assert "Todavía no" in r.answer and "pendiente" in r.answer
    r = ask(c, "has w0000001 shipped yet?")
    assert "I don't see that number on your account" in r.answer and "0000001" not in r.answer
    # a why of a status it is not in, or of the one it is in, which no record tells
    r = ask(c, "why was W5442520 cancelled??")
    assert "Actually, it is pending." in r.answer, r.answer
    for asked in ("why hasn't #W5442520 shipped yet", "why hasnt W5442520 shipped"):
        r = ask(c, asked)
        assert "It is pending, but I can't see why from here" in r.answer, (asked, r.answer)
    # of an order's line, where its order is
    r = ask(c, "has the wristwatch shipped yet?")
    assert "Not yet: it is pending." in r.answer and "Wristwatch" in r.answer, r.answer
    r = ask(c, "why hasn't W5353646 shipped")  # processed: it has
    assert "Actually, it is processed." in r.answer, r.answer
    # "cancelado" is the cancel action's word too: a why of the status is no asking it
    r = ask(c, "¿por qué fue cancelado mi pedido W5442520?")
    assert "En realidad, su estado es pendiente." in r.answer, r.answer
    assert "cancelar" not in r.answer
    r = ask(c, "¿por qué no ha llegado mi pedido W5442520?")
    assert "desde aquí no veo el motivo" in r.answer, r.answer


def test_a_status_the_message_names_tells_which_record_it_is_about(make_container):
    """ "why was my order cancelled?" names no order, but a status one of them is in: that
    one, not each of the customer's orders (the delivered ones were answered too); "why
    hasn't my order shipped?" is about the ones not shipped; a yes-or-no question asks
    whether a status holds, so it names no record by it."""
    c = make_container()
    omar = "omar_lopez_3107"  # #W7073860 cancelled, #W1764038 and #W7273336 delivered
    for asked in ("why was my order cancelled?", "hola por que fue cancelado mi pedido?"):
        r = ask(c, asked, customer=omar)
        assert "#W7073860" in r.answer, (asked, r.answer)
        assert "#W1764038" not in r.answer and "#W7273336" not in r.answer, (asked, r.answer)
    r = ask(c, "why was my order cancelled?", customer=omar)
    assert "It is cancelled, but I can't see why from here" in r.answer, r.answer
    # a why of what was done is no asking to do it: "¿por qué cancelaron …?"
    r = ask(c, "por que cancelaron el otro pedido?", customer=omar)
    assert "no puedes cancelar" not in r.answer, r.answer
    # asked whether, without "is": not only the cancelled one
    r = ask(c, "my order already cancelled?", customer=omar)
    assert "#W7073860" in r.answer and "#W1764038" in r.answer, r.answer
    # and answered as asked: whether it is, not only a list of them
    r = ask(c, "my order already cancelled?")  # Olivia's are under way, none cancelled
    assert "No, they are all pending." in r.answer, r.answer
    assert "cancel it" not in r.answer and "#W5866402" not in r.answer, r.answer
    r = ask(c, "W5866402 delivered?")
    assert "Yes, it is delivered." in r.answer, r.answer
    r = ask(c, "hola, mi pedido W5866402 ya llego?")  # typed without the accent
    assert "Sí, su estado es entregado." in r.answer, r.answer
    # Olivia: #W5866402 delivered, #W5353646 processed, three pending
    r = ask(c, "why hasnt my order shipped yet")
    assert "#W5866402" not in r.answer and "#W5353646" not in r.answer, r.answer
    assert "#W5442520" in r.answer or "#W7941031" in r.answer, r.answer
    r = ask(c, "can i return my delivered order")
    assert "#W5866402" in r.answer and "#W5442520" not in r.answer, r.answer
    # and right after asking of the pending ones: the delivered one, not them too
    first = ask(c, "why hasnt my order shipped yet")
    r = ask(c, "can i return my delivered order", conversation=first.conversation_id)
    assert "#W5866402" in r.answer and "#W3657213" not in r.answer, r.answer
    r = ask(c, "has my order shipped yet?")  # asks whether: the ones under way, as before
    assert "#W5866402" not in r.answer, r.answer


def test_a_mapped_record_that_arrived_but_never_reached_them_goes_to_a_person(make_container):
    """The same for any business's records: a parcel whose status its kind's mapping
    counts as arrived (`arrived: [delivered]`) goes to a person when the customer says
    it never came; one still on its way is answered with where it is."""
    from profiles.admin import CustomerIn, RecordIn, upsert_customer, upsert_record

    c = make_container()
    consents = {"personalization": True, "history": True}
    for who in ("ada", "bo", "cy"):
        upsert_customer(c.engine, who, CustomerIn(first_name=who.title(), consents=consents))
    for who, key, status in (
        ("ada", "P-ada", "DELIVERED"),
        ("bo", "P-bo", "IN_TRANSIT"),
        ("cy", "P-cy1", "IN_TRANSIT"),
        ("cy", "P-cy2", "IN_TRANSIT"),
    ):
        record = RecordIn(
            customer_id=who,
            status=status,
            words=["parcel", "package"],
            open=status != "DELIVERED",
            arrived=status == "DELIVERED",
        )
        upsert_record(c.engine, "parcel", key, record)
    r = ask(c, "the tracking says delivered but i never got it", customer="ada")
    assert r.handoff and "handoff.not_received" in [h.rule for h in r.decision_trace]
    assert "a person from our team will look into where it went" in r.answer
    r = ask(c, "i never got my parcel", customer="bo")
    assert not r.handoff and "P-bo" in r.answer and "IN_TRANSIT" in r.answer
    # and says so: its status, and that it has not reached them (it listed the parcel alone)
    assert "It is in transit: it has not reached you yet." in r.answer
    assert "plan.under_way" in [h.rule for h in r.decision_trace]
    r = ask(c, "no me ha llegado el paquete", customer="bo")
    assert not r.handoff and "todavía no te ha llegado" in r.answer
    # of two on their way, said once after them
    r = ask(c, "i havent received my packages", customer="cy")
    assert "P-cy1" in r.answer and "P-cy2" in r.answer
    assert r.answer.count("has reached you") == 1 and "It is in transit" not in r.answer


def test_an_action_named_inside_another_is_that_other_one(make_container):
    """A telecom's bills are paid and its phones paid off: "can I pay it off early?" asks
    the phone's payoff, with its pronoun before the particle, not which bill to pay, and
    is no "pay" the phone cannot have ("It is not something we can pay.")."""
    from profiles.admin import CustomerIn, RecordIn, upsert_customer, upsert_record

    c = make_container()
    consents = {"personalization": True, "history": True}
    upsert_customer(c.engine, "maya", CustomerIn(first_name="Maya", consents=consents))
    pay = {"pay": {"en": ["pay"]}}
    for key in ("BL-1", "BL-2"):
        bill = RecordIn(
            customer_id="maya", status="issued", words=["bill"], allows=["pay"], actions=pay
        )
        upsert_record(c.engine, "bill", key, bill)
    phone = RecordIn(
        customer_id="maya",
        status="paying",
        words=["phone", "device"],
        allows=["pay_off"],
        actions={"pay_off": {"en": ["pay off", "pay off early"]}},
    )
    upsert_record(c.engine, "device", "DV-5", phone)
    for asked in ("can i pay it off early?", "can i pay off my phone early"):
        r = ask(c, asked, customer="maya")
        assert "DV-5" in r.answer and "so you can still pay it off" in r.answer, (asked, r.answer)
        assert "Which one" not in r.answer and "not something we can" not in r.answer, r.answer
    r = ask(c, "can i pay my bill", customer="maya")
    assert "Which one would you like to pay?" in r.answer and "DV-5" not in r.answer, r.answer
    # a verb with two particles takes its pronoun after the verb: "turn it back on"
    line = RecordIn(
        customer_id="maya",
        status="suspended",
        words=["line"],
        allows=["restore"],
        actions={"restore": {"en": ["turn back on", "restore"]}},
    )
    upsert_record(c.engine, "line", "LN-7", line)
    for asked in ("can you turn it back on?", "can you turn back on my line"):
        r = ask(c, asked, customer="maya")
        assert "LN-7" in r.answer and "you can still turn it back on" in r.answer, (asked, r.answer)


def test_llm_reply_is_used_and_citations_resolved(make_container, llm_guard):
    llm_guard.post(f"{LLM}/chat/completions").mock(
        return_value=httpx.Response(200, json=completion("Your order #W5442520 is pending [2]."))
    )
    c = make_container(openai_base_url=LLM, llm_model="m", llm_max_retries=0)
    r = ask(c, "status of #W5442520?")
    assert r.generator == "openai:m" and not r.degraded
    assert r.answer == "Your order #W5442520 is pending [2]."
    assert [cit.n for cit in r.citations] == [2]


@pytest.mark.parametrize(
    "failure",
    [httpx.Response(500, json={"error": {"message": "down"}}), httpx.ReadTimeout("slow")],
    ids=["http-500", "timeout"],
)
def test_llm_failure_falls_back_to_composer_and_keeps_the_message(
    make_container, llm_guard, failure
):
    route = llm_guard.post(f"{LLM}/chat/completions")
    if isinstance(failure, Exception):
        route.mock(side_effect=failure)
    else:
        route.mock(return_value=failure)
    c = make_container(openai_base_url=LLM, llm_model="m", llm_max_retries=0)
    r = ask(c, "Can I cancel order #W5442520?")
    assert r.degraded and r.generator == "offline"
    assert "#W5442520" in r.answer
    with Session(c.engine) as s:
        texts = [m.text for m in s.exec(select(Message).where(Message.customer_id == OLIVIA))]
        assert "Can I cancel order #W5442520?" in texts
        assert s.get(Turn, r.turn_id).degraded


def test_reply_naming_ids_outside_the_context_is_replaced(make_container, llm_guard):
    llm_guard.post(f"{LLM}/chat/completions").mock(
        return_value=httpx.Response(200, json=completion("Order #W2611340 ships today."))
    )
    c = make_container(openai_base_url=LLM, llm_model="m")
    r = ask(c, "status of #W5442520?")
    assert "#W2611340" not in r.answer and r.degraded
    assert "check.foreign_identifier_replaced" in [h.rule for h in r.decision_trace]


def test_history_is_isolated_between_customers(make_container):
    c = make_container()
    a = ask(c, "My parrot Captain Feathers chewed the charger cable of my order")
    follow = ask(c, "Remember what happened with Captain Feathers and the charger?")
    assert any(h.startswith("msg:") for h in follow.context.history_ids)
    other = "omar_lopez_3107"
    b = ask(c, "Remember what happened with Captain Feathers and the charger?", customer=other)
    assert "Captain Feathers chewed" not in b.context.text
    with Session(c.engine) as s:
        a_msg_ids = {
            f"msg:{m.id}"
            for m in s.exec(select(Message).where(Message.conversation_id == a.conversation_id))
        }
    assert not a_msg_ids & set(b.context.history_ids)


def test_consent_gates_profile_and_history(make_container):
    c = make_container()
    ask(c, "I love the blue umbrella I ordered")
    with Session(c.engine) as s:
        for row in s.exec(select(Consent).where(Consent.customer_id == OLIVIA)):
            row.granted = False
            s.add(row)
        s.commit()
    prepared = c.assistant.prepare(TurnRequest(customer_id=OLIVIA, message="status of #W5442520"))
    assert prepared.composed.ids(("order", "product", "profile", "history")) == []
    assert "#W5442520" not in prepared.composed.text.split("<customer_message>")[0]
    assert "Olivia" not in prepared.composed.text


def test_bad_requests_are_domain_errors(make_container):
    c = make_container()
    with pytest.raises(NotFound, match="unknown customer"):
        ask(c, "hi", customer="nobody_0000")
    with pytest.raises(BadInput, match="empty"):
        ask(c, "   ")
    with pytest.raises(BadInput, match="limit"):
        ask(c, "x" * 5000)
    theirs = ask(c, "hello", customer="omar_lopez_3107").conversation_id
    with pytest.raises(NotFound, match="unknown conversation"):
        ask(c, "show me this conversation", conversation=theirs)


def test_conversation_continues_with_earlier_messages_in_context(make_container):
    c = make_container()
    first = ask(c, "I have a question about my patio umbrella")
    second = ask(c, "Can I change its color?", conversation=first.conversation_id)
    assert second.conversation_id == first.conversation_id
    assert "Customer: I have a question about my patio umbrella" in second.context.text


def _events(container, message):
    return list(container.assistant.stream_turn(TurnRequest(customer_id=OLIVIA, message=message)))


def test_streamed_offline_turn_pieces_add_up_to_the_answer(make_container):
    events = _events(make_container(), "Can I cancel order #W5442520?")
    assert events[-1].type == "done" and events[-1].result is not None
    text = "".join(e.text for e in events if e.type == "token")
    assert text == events[-1].result.answer and "#W5442520" in text
    assert sum(e.type == "token" for e in events) > 3


def test_streamed_llm_turn(make_container, llm_guard):
    from tests.assistant.test_openai_generator import sse

    llm_guard.post(f"{LLM}/chat/completions").mock(
        return_value=httpx.Response(
            200,
            text=sse(["Your order ", "#W5442520 ", "is pending [2]."]),
            headers={"content-type": "text/event-stream"},
        )
    )
    c = make_container(openai_base_url=LLM, llm_model="m", llm_max_retries=0)
    events = _events(c, "status of #W5442520?")
    assert [e.text for e in events if e.type == "token"] == [
        "Your order ",
        "#W5442520 ",
        "is pending [2].",
    ]
    result = events[-1].result
    assert result.generator == "openai:m" and not result.degraded
    assert [cit.n for cit in result.citations] == [2]


def test_streamed_llm_failure_falls_back(make_container, llm_guard):
    llm_guard.post(f"{LLM}/chat/completions").mock(return_value=httpx.Response(500, json={}))
    c = make_container(openai_base_url=LLM, llm_model="m", llm_max_retries=0)
    events = _events(c, "Can I cancel order #W5442520?")
    result = events[-1].result
    assert result.degraded and result.generator == "offline"
    assert "".join(e.text for e in events if e.type == "token") == result.answer


def test_what_the_customer_told_us_before_is_quoted_back(make_container):
    c = make_container()
    told = "My parrot Captain Feathers chewed the charger cable of my order"
    ask(c, told)
    ask(c, "What did I tell you about my parrot?")  # asked once already: not an answer
    c.assistant.drain()
    for question, opening in (
        ("do you remember what i said about the charger cable", "you wrote: “"),
        ("¿qué te dije de mi loro?", "escribiste: «"),
        ("what did i ask you about earlier?", "you wrote: “"),
    ):
        r = ask(c, question)  # a new conversation: the earlier ones are history
        assert not r.handoff and f"{opening}{told}" in r.answer, r.answer
        assert [cit.kind for cit in r.citations] == ["history"]
        assert "any charger" not in r.answer  # about the conversation, not a product
    # Without consent to use their history there is nothing to quote, and it says so.
    with Session(c.engine) as s:
        for row in s.exec(select(Consent).where(Consent.customer_id == OLIVIA)):
            row.granted = row.purpose != "history"
            s.add(row)
        s.commit()
    r = ask(c, "what did I tell you about my parrot")
    assert told not in r.answer and "earlier conversations" in r.answer


def test_a_conversation_under_way_is_not_greeted_again(make_container):
    c = make_container()
    first = ask(c, "hello")
    assert first.answer.startswith("Hi Olivia,") and "How can I help" in first.answer
    again = ask(c, "Can I cancel my order #W5442520?", conversation=first.conversation_id)
    assert "#W5442520" in again.answer and "Hi Olivia" not in again.answer
    assert again.answer.startswith("Order #W5442520 (")  # one record: said, not a list of one
    bye = ask(c, "ok thanks", conversation=first.conversation_id)
    assert bye.answer.startswith("You're welcome!") and not bye.handoff


def test_a_handoff_says_what_the_customer_can_do_at_once_in_their_language(make_container):
    """A business's `urgent_help` line for a handoff's rule reaches the customer with it,
    in their language, whatever the hour: a lost card can be blocked before an agent is
    back. Another rule's handoff and an answered question do not carry it."""
    help_now = {"security": {"en": "Call 1-800-TEST-24 now.", "es": "Llama ya al 1-800-TEST-24."}}
    c = make_container(urgent_help=help_now)
    r = ask(c, "i lost my card!!")
    assert r.handoff and r.answer.endswith("Call 1-800-TEST-24 now.")
    assert ask(c, "perdí mi tarjeta").answer.endswith("Llama ya al 1-800-TEST-24.")
    human = ask(c, "can I talk to a human please")
    assert human.handoff and "1-800-TEST-24" not in human.answer
    assert "1-800-TEST-24" not in ask(c, "Where is my order #W5442520?").answer
    plain = make_container  # the same turn with no line set hands off as before
    assert "1-800" not in ask(plain(), "i lost my card!!").answer


def test_a_cited_record_is_labelled_by_how_its_business_shows_it():
    """What the widget calls a cited record: its shown text up to its key, in the reply's
    language, never the bare key; None (the catalog's "Your account") when the text does
    not begin with it."""
    from profiles.context import in_sentence, record_label

    order = "record:order:#W5442520"
    assert record_label("Order #W5442520 (Gaming Mouse): pending", order) == "Order #W5442520"
    assert record_label("Pedido #W5442520 (Gaming Mouse): pendiente", order) == "Pedido #W5442520"
    card = "record:credit_card:cc_9_gold"
    assert record_label("Gold Rewards Card (cc_9_gold): active", card) == "Gold Rewards Card"
    account = "record:account:chk_1"
    assert record_label("Gold (checking account chk_1): OPEN", account) == "Checking account chk_1"
    assert record_label("cc_9_gold: active", card) is None
    # inside a draft's sentence ("tu pedido #W…"), a name kept as written
    assert in_sentence("Pedido #W5442520") == "pedido #W5442520"
    assert in_sentence("Tarjeta de débito dbc_7") == "tarjeta de débito dbc_7"
    assert in_sentence("Gold Rewards Card") == "Gold Rewards Card"
    assert (
        record_label(
            "A description of a card, issued to you some years ago, that only later says cc_9_gold",
            card,
        )
        is None
    )
    # a cited record whose text does not begin with its key: what it opens with, short
    from assistant.pipeline import _opening_words

    line = "Wristwatch (leather, white) in order #W7941031: pending, item 1355937109, $1,985.30"
    assert _opening_words(line) == "Wristwatch"
    assert _opening_words("A description of a card issued to you some years ago: active") is None


def test_a_no_after_the_offer_is_acknowledged_and_not_offered_again(make_container):
    """ "ok wait, don't cancel" after "can I cancel …?" was answered with the offer again;
    it is acknowledged (nothing changed), in the customer's language, with no handoff and
    no record read back."""
    c = make_container()
    asked = ask(c, "can i cancel my order #W7941031")
    assert "you can still cancel it" in asked.answer
    no = ask(c, "ok wait, don't cancel", conversation=asked.conversation_id)
    assert not no.handoff and "nothing has been changed" in no.answer
    assert "cancel" not in no.answer and "#W7941031" not in no.answer
    es = ask(c, "¿puedo cancelar mi pedido #W7941031?")
    no_es = ask(c, "no, déjalo", conversation=es.conversation_id)
    assert "no se ha cambiado nada" in no_es.answer and not no_es.handoff
    # a no that asks something of its own is answered as its own question
    other = ask(c, "no, can I change the address instead?", conversation=asked.conversation_id)
    assert "nothing has been changed" not in other.answer


def test_a_go_ahead_to_an_allowed_action_goes_to_a_person_who_does_it(make_container):
    """The bot does not act on records: "yes, go ahead" to cancelling a pending order
    hands off to a person who can, saying so in the customer's language; a thanks after
    it is no go-ahead."""
    c = make_container()
    asked = ask(c, "please cancel my order #W7941031")
    assert not asked.handoff and "you can still cancel it" in asked.answer
    yes = ask(c, "yes go ahead", conversation=asked.conversation_id)
    (hit,) = [h for h in yes.decision_trace if h.rule == "handoff.action_confirmed"]
    assert yes.handoff and hit.inputs["confirmed_actions"] == ["order:#W7941031 cancel"]
    assert yes.answer.startswith("Thank you. I'm passing your request to a person")
    es = ask(c, "¿puedo cancelar mi pedido #W7941031?")
    si = ask(c, "sí, adelante", conversation=es.conversation_id)
    assert si.handoff and si.answer.startswith("Gracias. Paso tu solicitud")
    # agreeing by asking it again is the same go-ahead (it was answered with the offer)
    backpack = ask(c, "can i cancel the one with the backpack?")
    assert "#W7941031" in backpack.answer and "you can still cancel it" in backpack.answer
    again = ask(c, "yes, cancel it", conversation=backpack.conversation_id)
    assert again.handoff and "handoff.action_confirmed" in [h.rule for h in again.decision_trace]
    thanks = ask(c, "thanks!", conversation=asked.conversation_id)
    after = ask(c, "yes", conversation=thanks.conversation_id)
    assert "handoff.action_confirmed" not in [h.rule for h in after.decision_trace]


def test_asked_how_it_stands_an_action_s_name_is_the_thing_done(make_container):
    """ "any news on my dispute?" asks how a dispute stands, not to dispute: of someone
    with charges and no dispute, it is said they have none, not that each charge can
    still be disputed; "any update on my refund?" offers no refund. Said as a verb, it is
    asked all the same ("where is my charge? dispute it")."""
    from profiles.admin import CustomerIn, RecordIn, upsert_customer, upsert_record

    c = make_container()
    consents = {"personalization": True, "history": True}
    for who in ("ines", "otto"):
        upsert_customer(c.engine, who, CustomerIn(first_name=who.title(), consents=consents))
    dispute = {"dispute": {"en": ["dispute", "contest"]}, "refund": {"en": ["refund"]}}
    for key, merchant in (("TX-1", "Costco"), ("TX-2", "Uber")):
        charge = RecordIn(
            customer_id="ines",
            status="COMPLETED",
            fields={"merchant": merchant},
            text=f"Charge {key}: {merchant}, COMPLETED",
            words=["charge", "transaction"],
            allows=["dispute", "refund"],
            actions=dispute,
        )
        upsert_record(c.engine, "charge", key, charge)
    theirs = RecordIn(customer_id="otto", status="OPEN", words=["dispute", "claim"])
    upsert_record(c.engine, "dispute", "DS-9", theirs)
    r = ask(c, "any news on my dispute?", customer="ines")
    assert "I don't see a dispute on your account." in r.answer, r.answer
    assert "can still dispute" not in r.answer and "DS-9" not in r.answer, r.answer
    r = ask(c, "any update on my refund?", customer="ines")
    assert "can still refund" not in r.answer, r.answer
    r = ask(c, "whats the status of my Costco charge? dispute it please", customer="ines")
    assert "TX-1" in r.answer and "you can still dispute it" in r.answer, r.answer
