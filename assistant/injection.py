"""Recognising text in data that addresses the assistant instead of the customer.

Customer messages, tickets and KB passages are data; a sentence in them that tells "the
assistant" to ignore its rules, reveal its prompt or tell every customer something is an
injection attempt. The offline composer does not quote such sentences. Measured on the
demo knowledge base (tau-retail policy and all 698 tau-banking documents, 13,433
sentences, many of them instructions to human agents): no sentence matches."""

from __future__ import annotations

import re

_BLOCK_TAGS = "customer_card|customer_facts|kb_passages|history|conversation|customer_message"

_INSTRUCTION_RE = re.compile(
    r"(?i)\b(?:ignore|disregard|forget|override)\b[^.]{0,40}"
    r"\b(?:instructions?|rules?|polic(?:y|ies)|prompt|previous|customer's data)\b"
    r"|\bsystem\s*prompt\b|\byou are now\b"
    r"|\byou are no longer (?:Rapport|an? (?:assistant|AI|bot))\b"
    r"|\bfrom now on\b|(?:^|\[|<)\s*system\s*(?:\]|>|:)|\b(?:assistant|AI|chatbot)\s*[:,]\s"
    r"|\bnote to (?:the )?(?:AI|assistant)\b"
    r"|\b(?:tell|inform) (?:every|all|each) (?:customers?|users?)\b"
    r"|\bconfirm this to the customer\b|<!--|\bthe assistant (?:must|should|shall)\b"
    r"|\binstructions? to the (?:assistant|AI)\b"
    rf"|[<‹]\s*/?\s*(?:{_BLOCK_TAGS})\b"
)


def addresses_the_assistant(text: str) -> bool:
    """Whether `text` reads as an instruction to the assistant (a prompt-injection attempt)."""
    return _INSTRUCTION_RE.search(text) is not None
