from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrieval.documents import load_documents


def test_loads_markdown_and_tau_json(bank_docs: Path, retail_policy: Path) -> None:
    bank = sorted(bank_docs.glob("*.json"))[0]

    docs = load_documents([retail_policy, bank])

    assert docs[0].id == "policy"
    assert docs[0].title == "Retail agent policy"
    assert docs[0].source == str(retail_policy)
    raw = json.loads(bank.read_text())
    assert (docs[1].id, docs[1].title, docs[1].text) == (raw["id"], raw["title"], raw["content"])


def test_folders_are_walked_recursively_in_order(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "Second Doc.md").write_text("no heading here")
    (tmp_path / "a.txt").write_text("# First\n\nbody")
    (tmp_path / "notes.csv").write_text("ignored")

    docs = load_documents([tmp_path])

    assert [(d.id, d.title) for d in docs] == [("a", "First"), ("second-doc", "Second Doc")]


def test_missing_path_and_malformed_json_raise_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no such file"):
        load_documents([tmp_path / "missing"])
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "x", "body": "no title or content"}')
    with pytest.raises(ValueError, match="bad.json"):
        load_documents([bad])
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="bad.json"):
        load_documents([bad])


def test_duplicate_ids_raise(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    (tmp_path / "one" / "faq.md").write_text("x")
    (tmp_path / "two" / "faq.md").write_text("y")

    with pytest.raises(ValueError, match="faq"):
        load_documents([tmp_path])
