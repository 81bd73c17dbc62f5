"""Which language a reply is written in: the message's (detected offline), else the
customer's locale."""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import Any

SUPPORTED = ("en", "es", "fr", "de")
# The detector's confidences over the four languages sum to 1. The message's language is
# taken when it is clearly ahead (alone, or well ahead of the next), or when it is the
# locale's language anyway; short or mixed text falls back to the locale.
MIN_OTHER = 0.6  # to answer in another language than the locale's (and MIN_LEAD ahead)
MIN_LEAD = 3.0  # times the runner-up's confidence
MIN_AGREEING = 0.3  # enough when the locale says the same
MIN_WORDS = 3


@lru_cache(maxsize=1)
def _detector() -> Any:
    from lingua import Language, LanguageDetectorBuilder

    langs = [Language.ENGLISH, Language.SPANISH, Language.FRENCH, Language.GERMAN]
    return LanguageDetectorBuilder.from_languages(*langs).build()


def without_names(message: str) -> str:
    """The message less its runs of two or more capitalised words: names of cards, shops
    and products ("Silver Rewards Card", "Whole Foods Market") are no language's words
    and pull a short French or Spanish question towards English."""
    tokens = message.split()
    keep: list[str] = []
    run: list[str] = []
    for token in [*tokens, ""]:
        if token[:1].isupper():
            run.append(token)
            continue
        keep += run if len(run) < 2 else []
        run = []
        if token:
            keep.append(token)
    return " ".join(keep) if len(keep) >= MIN_WORDS else message


def detect(message: str) -> tuple[str, float, float] | None:
    """The message's likeliest language among en/es/fr/de, its confidence and the
    runner-up's; None for a message too short to tell."""
    if len(message.split()) < MIN_WORDS:
        return None
    values = _detector().compute_language_confidence_values(without_names(message))
    if not values:
        return None
    second = float(values[1].value) if len(values) > 1 else 0.0
    return values[0].language.iso_code_639_1.name.lower(), float(values[0].value), second


OPENING_MARKS = {"¿": "es", "¡": "es"}
SURE = 0.9  # a message this clearly in one language decides alone
FOLLOW_UP_WORDS = 6  # a follow-up shorter than this keeps the conversation's language


def reply_language(
    message: str, locale_language: str, earlier: list[str] | None = None
) -> tuple[str, str]:
    """(language, "message" | "locale"): the message's language when the detector is sure,
    else the locale's (English when the locale's language has no templates). A short
    follow-up ("and the other one?") is read with the customer's last messages of the
    conversation, so one odd word does not switch the reply's language."""
    found = detect(message)
    follow_up = bool(earlier) and len(message.split()) < FOLLOW_UP_WORDS
    if found is not None and found[1] >= SURE and not follow_up:
        return found[0], "message"
    # only Spanish opens a question or an exclamation with a mark of its own:
    # "¿puedo devolverlo?" is Spanish however short, in a conversation in any language
    marked = next((lang for mark, lang in OPENING_MARKS.items() if mark in message), None)
    if marked is not None:
        return marked, "message"
    # a word or two opening a conversation is read by its social words ("gracias!",
    # "bonjour"); otherwise a short message has too few words to tell
    short = len(message.split()) < MIN_WORDS
    plain = without_names(message)
    # "quel est le solde de ma ecocard": too short for the detector to be sure, plain from
    # its little words, whatever English support word it holds ("je dois sur ma card")
    hint = function_words_language(plain) if not short else None
    if hint is None and not (short and earlier):
        hint = _support_words_language(plain, social_only=short)
    if hint is not None:
        # a short message that uses one language's support words ("wehre is my order")
        return hint, "message"
    if earlier:
        # not clearly another language: stay in the language the last reply used, read
        # the same way ("gracias" after "la cámara" after "¿puedo devolverlo?": Spanish)
        return reply_language(earlier[-1], locale_language, earlier[:-1])
    if found is not None:
        lang, top, second = found
        if lang == locale_language and top >= MIN_AGREEING:
            return lang, "message"
        # another language than the customer's locale: only when the detector is clear
        if top >= MIN_OTHER and top >= MIN_LEAD * second:
            return lang, "message"
    return (locale_language if locale_language in SUPPORTED else "en"), "locale"


def _support_words_language(message: str, social_only: bool = False) -> str | None:
    from assistant.turn.plan import default_lexicon

    return default_lexicon().language_of(message, social_only)


# The little words only one of the four languages writes (none shared: "de", "la", "que",
# "en", "me", "was", "in" are left out), by which a message too short for the detector
# still shows its language.
FUNCTION_WORDS = {
    "en": "the is are my where what how when why of to and with for can could please thanks "
    "hi hello have has not it this that did does you your i i'm am was",
    "es": "el los las mi mis es está están del por para una dónde donde cuál cuándo cómo "
    "qué cuánto cuánta cuántos cuántas cuanto quién tengo y pero muy gracias hola yo su sus "
    "al lo puedo quiero hay",
    "fr": "le les du des ma mon mes je vous votre vos nous est sont pour sur avec une pas ne "
    "où quel quelle quels quand comment pourquoi combien au aux ce cette et suis ai "
    "mais très merci bonjour j'ai c'est",
    "de": "der die das ist sind mein meine meiner meinen wie wo ich nicht und ein eine mit "
    "für auf bitte danke hallo warum wann kann habe sie ihr mir mich noch schon",
}
_LITTLE = {w: lang for lang, ws in FUNCTION_WORDS.items() for w in ws.split()}
MIN_LITTLE = 2  # little words of one language, and twice any other's


def function_words_language(message: str) -> str | None:
    """The language whose little words the message uses, when it clearly uses one's."""
    hits = Counter(_LITTLE[t] for t in re.findall(r"[\w']+", message.lower()) if t in _LITTLE)
    ranked = hits.most_common(2)
    if not ranked or ranked[0][1] < MIN_LITTLE:
        return None
    if len(ranked) > 1 and ranked[0][1] < 2 * ranked[1][1]:
        return None
    return ranked[0][0]
