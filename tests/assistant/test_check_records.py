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
