"""Which language a reply is written in: the message's (detected offline), else the
customer's locale."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

SUPPORTED = ("en", "es", "fr", "de")
MIN_CONFIDENCE = 0.6  # below this, or for a message of fewer words, the locale decides
MIN_WORDS = 3


@lru_cache(maxsize=1)
def _detector() -> Any:
    from lingua import Language, LanguageDetectorBuilder

    langs = [Language.ENGLISH, Language.SPANISH, Language.FRENCH, Language.GERMAN]
    return LanguageDetectorBuilder.from_languages(*langs).build()


def detect(message: str) -> tuple[str, float] | None:
    """The message's language among en/es/fr/de and the detector's confidence; None for
    a message too short to tell."""
    if len(message.split()) < MIN_WORDS:
        return None
    values = _detector().compute_language_confidence_values(message)
    if not values:
        return None
    best = values[0]
    return best.language.iso_code_639_1.name.lower(), float(best.value)


def reply_language(message: str, locale_language: str) -> tuple[str, str]:
    """(language, "message" | "locale"): the message's language when the detector is sure,
    else the locale's (English when the locale's language has no templates)."""
    found = detect(message)
    if found is not None and found[1] >= MIN_CONFIDENCE:
        return found[0], "message"
    return (locale_language if locale_language in SUPPORTED else "en"), "locale"
