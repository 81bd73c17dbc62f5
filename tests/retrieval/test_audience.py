"""Which KB documents are written for customers and which for staff only."""

from __future__ import annotations

import json

from retrieval.documents import audience_of, load_documents

BANK = "../shared/datasets/tau-banking-knowledge/documents"


def test_a_document_says_who_it_is_for():
    assert audience_of("Internal: Closing Business Savings Accounts") == "internal"
    assert audience_of("Account Recovery Bypass Codes (Internal)") == "internal"
    assert audience_of("Internal - escalation steps") == "internal"
    assert audience_of("Closing your savings account") == "customer"
    assert audience_of("Why internal transfers take a day") == "customer"
    front = "---\naudience: internal\nowner: support\n---\n# Refund overrides\n\nUse code X."
    assert audience_of("Refund overrides", front) == "internal"
    assert audience_of("Internal: x", "", declared="customer") == "customer"  # declared wins


def test_the_banks_documents_mark_their_internal_ones(tmp_path):
    from pathlib import Path

    docs = load_documents([Path(BANK)])
    internal = [d for d in docs if d.audience == "internal"]
    assert len(docs) == 698 and 50 <= len(internal) <= 80
    assert all("internal" in d.title.lower() for d in internal)
    single = tmp_path / "x.json"
    single.write_text(
        json.dumps({"id": "x", "title": "Fees", "content": "…", "audience": "internal"})
    )
    assert load_documents([single])[0].audience == "internal"
