"""The check stage's claims about records of any kind: a sentence that names one of the
customer's records by its id and states a status its kind knows, other than its own."""

from assistant.check import wrong_record_claims
from profiles.context import Fact

STATUSES = {"booking": ["CANCELLED", "CONFIRMED"], "dispute": ["RESOLVED", "UNDER_REVIEW"]}


def _fact(kind: str, key: str, status: str) -> Fact:
    return Fact(id=f"record:{kind}:{key}", kind="record", text="", relevance=1.0, status=status)


FACTS = [
    _fact("booking", "BK1", "CONFIRMED"),
    _fact("booking", "BK10", "CANCELLED"),
    _fact("dispute", "D-7", "UNDER_REVIEW"),
]


def test_a_status_the_record_is_not_in_is_caught() -> None:
    assert wrong_record_claims("Your booking BK1 was cancelled.", FACTS, STATUSES) == [
        "record:booking:BK1"
    ]
    assert wrong_record_claims("Dispute D-7 is resolved!", FACTS, STATUSES) == [
        "record:dispute:D-7"
    ]


def test_true_conditional_or_ambiguous_statements_pass() -> None:
    fine = [
        "Your booking BK1 is confirmed.",
        "Booking BK10: cancelled.",  # BK1 is not BK10
        "Dispute D-7 is under review; you'll hear once it is resolved.",
        "If BK1 were cancelled you would get a refund.",
        "BK1 is not cancelled.",
        "BK1 is confirmed and BK10 is cancelled.",  # two records: which is which is unclear
        "Your booking BK1 is resolved.",  # not a status bookings have
        "Nothing about BK9, which is cancelled.",  # not one of theirs
    ]
    for sentence in fine:
        assert wrong_record_claims(sentence, FACTS, STATUSES) == [], sentence


def test_a_word_the_mapping_says_a_status_by_is_a_claim_of_it() -> None:
    """The store's "shipped" (a processed or a delivered order), "on its way" (processed):
    said of a pending order, wrong; of one in a status said so, or negated, not."""
    said = {
        "PENDING": ["pending", "pendiente"],
        "PROCESSED": ["processed", "en camino", "shipped", "on its way"],
        "DELIVERED": ["delivered", "entregado", "shipped", "arrived"],
    }
    statuses = {"order": list(said)}

    def order(status: str) -> Fact:
        return _fact("order", "#W1", status).model_copy(update={"statuses": said})

    pending, processed, delivered = order("PENDING"), order("PROCESSED"), order("DELIVERED")
    for wrong in (
        "Good news: your order #W1 has shipped.",
        "Order #W1 is on its way to you.",
        "Tu pedido #W1 está en camino.",
        "Your order #W1 has arrived.",
    ):
        assert wrong_record_claims(wrong, [pending], statuses) == ["record:order:#W1"], wrong
    assert wrong_record_claims("Your order #W1 has shipped.", [processed], statuses) == []
    assert wrong_record_claims("Your order #W1 has shipped.", [delivered], statuses) == []
    assert wrong_record_claims("Order #W1 is on its way.", [delivered], statuses) == [
        "record:order:#W1"
    ]
    for fine in ("Your order #W1 hasn't shipped yet.", "Once #W1 has shipped you'll get mail."):
        assert wrong_record_claims(fine, [pending], statuses) == [], fine
