"""The reply's language: the message's, else the customer's locale."""

from __future__ import annotations

import pytest

from assistant.turn.language import reply_language


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Hi, where is my order? Has it shipped yet?", "en"),
        ("¿Dónde está mi pedido? Lo compré hace una semana", "es"),
        ("Je voudrais retourner ma veste", "fr"),
        ("Wo ist meine Bestellung? Ich warte seit Tagen", "de"),
    ],
)
def test_the_message_language_wins(message: str, expected: str) -> None:
    assert reply_language(message, "en") == (expected, "message")


def test_short_text_falls_back_to_the_locale() -> None:
    assert reply_language("ok :)", "de") == ("de", "locale")
    assert reply_language("Cancel #W5442520", "es")[0] == "es"  # one word tells too little
    # ...but social words open a conversation in their language
    assert reply_language("ok thanks", "de") == ("en", "message")


def test_a_locale_without_templates_falls_back_to_english() -> None:
    assert reply_language("ok", "ja") == ("en", "locale")


def test_a_word_opening_a_conversation_is_read_by_its_support_words() -> None:
    assert reply_language("gracias!", "en", []) == ("es", "message")
    assert reply_language("bonjour", "en", []) == ("fr", "message")
    assert reply_language("status", "de")[0] == "de"  # English and German: the locale decides
    # within an English conversation a lone word does not switch the language
    assert reply_language("gracias", "en", ["where is my order"])[0] == "en"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("quel est le solde de ma ecocard", "fr"),  # the detector: Spanish 0.32, French 0.29
        ("le solde de ma carte", "fr"),
        ("mi tarjeta está bloqueada", "es"),
        ("ist meine karte aktiv", "de"),
        ("is my ecocard active", "en"),
        ("cmobien je dois sur ma gold rewards card", "fr"),  # "card" is no English here
        ("wehre is my order", "en"),
    ],
)
def test_a_short_question_shows_its_language_by_its_little_words(
    message: str, expected: str
) -> None:
    assert reply_language(message, "en" if expected != "en" else "de") == (expected, "message")


def test_little_words_shared_or_too_few_tell_nothing() -> None:
    from assistant.turn.language import function_words_language

    assert function_words_language("de la que en") is None  # French and Spanish alike
    assert function_words_language("solde ecocard") is None
    assert function_words_language("le solde, the balance") is None  # one each


def test_an_opening_question_mark_is_spanish_however_short() -> None:
    # only Spanish opens a question or an exclamation with its own mark
    assert reply_language("¿puedo devolverlo?", "en") == ("es", "message")
    assert reply_language("¡gracias!", "en", ["where is my order"]) == ("es", "message")
    assert reply_language("puedo devolverlo?", "en")[0] == "en"  # two words, no mark: the locale


def test_a_short_follow_up_keeps_the_language_the_conversation_is_in() -> None:
    """ "gracias" after "la cámara" after "¿puedo devolverlo?": each too short to tell
    alone, the conversation is in Spanish and so is the reply (it was English, the
    locale's, since "la cámara" was read without what came before it)."""
    said = ["¿puedo devolverlo?", "la cámara"]
    assert reply_language("gracias", "en", said)[0] == "es"
    assert reply_language("ok", "en", ["where is my order", "the red one"])[0] == "en"


def test_a_short_question_in_another_language_is_not_a_follow_up_in_the_first() -> None:
    """ "cuánto tarda una disputa?" (no "¿") after English messages asks in Spanish: its
    interrogative and its article are Spanish's own little words. It was answered in
    English, as if it continued the conversation."""
    said = ["can u check my debit card status", "ok thanks"]
    assert reply_language("cuánto tarda una disputa?", "en", said) == ("es", "message")
    assert reply_language("combien de temps pour un litige?", "en", said)[0] == "fr"
    assert reply_language("and how long does it take?", "en", ["¿puedo devolverlo?"])[0] == "en"
