"""PII detection, placeholders that come back, streamed restoring, and masked logs."""

from __future__ import annotations

import io
import json
import logging
import re
from functools import lru_cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant import redact
from assistant.generators.redacting import redacted
from assistant.logs import RedactingFilter, install_redaction
from assistant.redact import Redactor, find, mask
from profiles.context import ProfileRepository
from prompts.loader import pairs_text
from retrieval.types import Passage
from tests.assistant.conftest import ORDER, PROFILE
from tests.conftest import RETAIL

RETAIL_IDS = re.compile(
    r"#W\d{7}|\b\d{10}\b|\b\d{12}\b|\b(?:credit_card|gift_card|paypal)_\d+\b|\b[a-z]+_[a-z]+_\d{4}\b"
)


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("write to Olivia.Ito5204@example.com today", "EMAIL", "Olivia.Ito5204@example.com"),
        ("call +44 20 7946 0958 after 6", "PHONE", "+44 20 7946 0958"),
        ("my number is (415) 555-2671.", "PHONE", "(415) 555-2671"),
        ("call me on 4155552671 please", "PHONE", "4155552671"),
        ("card 4111-1111-1111-1111 was charged", "CARD", "4111-1111-1111-1111"),
        ("amex 3782 822463 10005", "CARD", "3782 822463 10005"),
        ("IBAN DE89 3704 0044 0532 0130 00 THANKS", "IBAN", "DE89 3704 0044 0532 0130 00"),
        ("ssn 536-22-1234", "SSN", "536-22-1234"),
        (
            "ship to 570 Elm Avenue, Suite 175, Denver, CO 80218, USA.",
            "ADDRESS",
            "570 Elm Avenue, Suite 175, Denver, CO 80218, USA",
        ),
        ("I moved to 959 Broadway Suite 363", "ADDRESS", "959 Broadway Suite 363"),
    ],
)
def test_each_kind_is_found_whole(text, kind, value):
    spans = find(text)
    assert [(s.kind, s.text) for s in spans] == [(kind, value)]
    assert value not in mask(text) and f"<{kind}>" in mask(text)


@pytest.mark.parametrize(
    "text",
    [
        "status of #W5442520 with item 6086499569?",
        "tracking 357962501027 has not moved",
        "reference 1234567890123456",  # 16 digits that fail the Luhn check
        "4111111111111112 is not a card",
        "zip 80218, price $1,299.99, on 2024-05-12, app 2.10.3",
        "refund to gift_card_7794233 or credit_card_9753331 ending 9182",
        "I have 3 Running Shoes and 2 Desk Lamps",
    ],
)
def test_retail_identifiers_and_numbers_are_not_pii(text):
    assert find(text) == [] and mask(text) == text


def test_real_customer_contexts_keep_their_ids_and_lose_their_contact_data(retail_engine):
    users = json.loads((RETAIL / "users.json").read_text())
    repo = ProfileRepository(retail_engine)
    for uid in sorted(users)[::25]:  # 20 real customers
        ctx = repo.context(uid, "where is my order?")
        assert ctx is not None
        text = "\n".join(f.text for f in ctx.facts)
        masked = mask(text)
        assert users[uid]["email"] not in masked
        assert users[uid]["address"]["address1"] not in masked
        assert RETAIL_IDS.findall(masked) == RETAIL_IDS.findall(text)  # every id kept


def test_placeholders_are_stable_and_restored():
    r = Redactor()
    a = r.redact("Mail Ana@Example.com or ana@example.com, call +1 212-555-0147.")
    b = r.redact("Again: ana@example.com and bob@example.com")
    assert a == "Mail <EMAIL_1> or <EMAIL_1>, call <PHONE_1>."
    assert b == "Again: <EMAIL_1> and <EMAIL_2>"
    assert r.restore("Reply to <EMAIL_2>, not <EMAIL_9>") == (
        "Reply to bob@example.com, not <EMAIL_9>"  # a placeholder it never issued stays
    )


DESK = "Returns desk: call +1 212-555-0147 or ship to 570 Elm Avenue, Denver, CO 80218."


def test_remembered_kb_findings_get_each_turns_placeholders(make_composed):
    desk = Passage(id="desk#0", doc_id="desk", title="Returns desk", text=DESK, score=1.0)
    kb_find = lru_cache(maxsize=8)(lambda text: tuple(find(text)))
    # In the second turn a phone in the customer's facts comes before the passage.
    phone = PROFILE.model_copy(update={"text": PROFILE.text + " Phone +1 (646) 555-3890."})
    turns = [
        (make_composed("Is the desk on +1 212-555-0147?", passages=[desk]), "<PHONE_1>"),
        (
            make_composed("Is it +1 212-555-0147?", facts=[phone, ORDER], passages=[desk]),
            "<PHONE_2>",
        ),
    ]
    for composed, placeholder in turns:
        r = Redactor()
        out = redacted(composed, r, kb_find)
        assert out == redacted(composed, Redactor())  # the same as searching it afresh
        (kb,) = [s.text for s in out.sources if s.kind == "kb"]
        assert kb == f"Returns desk: call {placeholder} or ship to <ADDRESS_1>."
        prompt = out.messages[-1][1]
        assert f"Returns desk: {kb}" in prompt and f"{placeholder}?" in prompt  # one value, one
        assert out.message.endswith(f" {placeholder}?")  # placeholder in the whole turn
        assert out.text == pairs_text(out.messages) and "555-0147" not in out.text
        assert r.restore(kb) == DESK
    assert kb_find.cache_info().hits == 1  # the second turn did not search the passage


def test_prompt_text_not_made_of_its_messages_is_searched_itself(make_composed):
    composed = make_composed()
    odd = composed.model_copy(update={"text": composed.text + "\nmail ana@example.com"})
    out = redacted(odd, Redactor())
    assert (
        out.text.endswith("mail <EMAIL_1>")
        and out.messages == redacted(composed, Redactor()).messages
    )


REPLY_PARTS = st.lists(
    st.sampled_from(["Hi ", "<EMAIL_1>", "<PHONE_1>", " [2]", "a < b", "<", "EMAIL_", "12>", "\n"]),
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(parts=REPLY_PARTS, cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=8))
def test_streamed_restore_equals_whole_restore_however_the_reply_is_split(parts, cuts):
    r = Redactor()
    r.redact("me@example.com +1 212-555-0147")
    reply = "".join(parts)
    bounds = sorted({0, len(reply), *(c for c in cuts if c <= len(reply))})
    pieces = [reply[i:j] for i, j in zip(bounds, bounds[1:], strict=False)]
    assert "".join(r.restoring(pieces)) == r.restore(reply)


def test_streamed_restore_holds_back_only_a_possible_placeholder():
    r = Redactor()
    r.redact("me@example.com")
    out = r.restoring(iter(["Write to <EM", "AIL_1> now", ", thanks"]))
    assert next(out) == "Write to "  # "<EM" waits for the next piece
    assert next(out) == "me@example.com now"
    assert next(out) == ", thanks"


@pytest.fixture
def log_stream():
    """A real handler on the root logger, as `logging.basicConfig` installs one."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


def test_logs_are_masked_through_the_configured_handlers(log_stream, caplog):
    install_redaction(["sk-live-0123456789abcdef"])
    log = logging.getLogger("rapport.turn")
    log.warning(
        "generation failed for %s (%s): key %s rejected",
        "olivia.ito5204@example.com",
        "+1 (646) 555-3890",
        "sk-live-0123456789abcdef",
    )
    try:
        raise ValueError("card 4111 1111 1111 1111 declined at 570 Elm Avenue, Denver")
    except ValueError:
        log.exception("unexpected")
    for text in (log_stream.getvalue(), caplog.text):
        assert "generation failed for <EMAIL> (<PHONE>): key <SECRET> rejected" in text
        assert "card <CARD> declined at <ADDRESS>" in text
        for secret in ("olivia.ito5204", "555-3890", "sk-live", "4111", "570 Elm"):
            assert secret not in text


def test_short_secrets_are_not_masked_everywhere():
    flt = RedactingFilter(["k", "abc", "long-enough-secret"])
    assert flt.clean("ask the long-enough-secret keeper") == "ask the <SECRET> keeper"


def test_detectors_are_fast_enough_for_a_prompt():
    import time

    text = " ".join(["Order #W5442520, item 6086499569, ship to 570 Elm Avenue."] * 60)
    t0 = time.perf_counter()
    redact.find(text)
    assert time.perf_counter() - t0 < 1.0
