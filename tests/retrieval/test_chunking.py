from __future__ import annotations

import pytest

from retrieval.chunking import MIN_SECTION_WORDS, chunk_markdown, content_hash


def words(n: int, stem: str = "word") -> str:
    return " ".join(f"{stem}{i}" for i in range(n))


def sentences(n: int, length: int = 10) -> str:
    return " ".join(f"Sentence {i} " + words(length - 3, f"s{i}w") + "." for i in range(n))


DOC = f"""# Returns Guide

{words(40, "intro")}

## Eligibility

{words(60, "elig")}

### Opened items

{words(50, "opened")}

## Refunds

{words(70, "refund")}
"""


def test_heading_paths_follow_the_markdown_structure() -> None:
    chunks = chunk_markdown("returns", "Returns Guide", DOC)

    assert [c.heading_path for c in chunks] == [
        "Returns Guide",
        "Returns Guide > Eligibility",
        "Returns Guide > Eligibility > Opened items",
        "Returns Guide > Refunds",
    ]
    assert chunks[2].text == words(50, "opened")
    assert chunks[2].embed_text == f"Returns Guide > Eligibility > Opened items\n\n{chunks[2].text}"


def test_ids_are_numbered_in_order_and_stable() -> None:
    first = chunk_markdown("returns", "Returns Guide", DOC)
    second = chunk_markdown("returns", "Returns Guide", DOC)

    assert [c.id for c in first] == [f"returns#{n}" for n in range(len(first))]
    assert first == second


def test_headings_inside_code_fences_are_text() -> None:
    text = "## Real\n\n```\n# not a heading\n```\n\n" + words(30)

    chunks = chunk_markdown("d", "T", text)

    assert len(chunks) == 1
    assert chunks[0].heading_path == "T > Real"
    assert "# not a heading" in chunks[0].text


def test_long_section_splits_into_overlapping_windows_on_sentences() -> None:
    body = sentences(60, length=10)  # 600 words

    chunks = chunk_markdown("d", "T", "## Long\n\n" + body, max_words=100, overlap_words=20)

    assert len(chunks) >= 6
    for chunk in chunks:
        assert len(chunk.text.split()) <= 100
        assert chunk.text.endswith(".")  # windows end on a sentence boundary
        assert chunk.heading_path == "T > Long"
    for before, after in zip(chunks, chunks[1:], strict=False):
        # The next window repeats whole trailing sentences, at most overlap_words words.
        first_new = after.text.split(". ")[0] + "."
        assert first_new in before.text
        shared = before.text[before.text.index(first_new) :]
        assert after.text.startswith(shared)
        assert 0 < len(shared.split()) <= 20
    covered = " ".join(c.text for c in chunks)
    assert all(f"Sentence {i} " in covered for i in range(60))


def test_windows_prefer_paragraph_boundaries() -> None:
    paragraphs = [words(40, f"p{i}w") for i in range(6)]

    chunks = chunk_markdown("d", "T", "\n\n".join(paragraphs), max_words=100, overlap_words=0)

    for chunk in chunks:
        # Every window is made of whole paragraphs.
        assert all(part in paragraphs for part in chunk.text.split("\n\n"))
    assert [len(c.text.split()) for c in chunks] == [80, 80, 80]


def test_a_sentence_longer_than_a_window_is_cut_by_words() -> None:
    chunks = chunk_markdown("d", "T", words(250), max_words=100, overlap_words=0)

    assert [len(c.text.split()) for c in chunks] == [100, 100, 50]


def test_tiny_sections_merge_with_their_next_sibling() -> None:
    text = f"""## Parent

### Tiny
{words(5, "tiny")}

### Big
{words(60, "big")}

## Other
{words(60, "other")}
"""
    chunks = chunk_markdown("d", "T", text)

    assert [c.heading_path for c in chunks] == ["T > Parent", "T > Other"]
    assert chunks[0].text == (f"### Tiny\n\n{words(5, 'tiny')}\n\n### Big\n\n{words(60, 'big')}")


def test_tiny_section_does_not_merge_across_parents() -> None:
    text = f"## A\n\n### A1\n{words(60)}\n\n### A2\n{words(5, 'tiny')}\n\n## B\n{words(60)}"

    chunks = chunk_markdown("d", "T", text)

    assert [c.heading_path for c in chunks] == ["T > A > A1", "T > A > A2", "T > B"]
    assert MIN_SECTION_WORDS > 5


def test_title_heading_is_not_repeated_in_the_path() -> None:
    chunks = chunk_markdown("d", "My Doc", f"# My Doc\n\n## Part\n{words(30)}")

    assert chunks[0].heading_path == "My Doc > Part"


def test_empty_document_has_no_chunks() -> None:
    assert chunk_markdown("d", "T", "# T\n\n## Empty\n\n") == []


def test_bad_window_settings_are_rejected() -> None:
    with pytest.raises(ValueError):
        chunk_markdown("d", "T", "text", max_words=50, overlap_words=50)


def test_content_hash_is_short_and_content_sensitive() -> None:
    assert len(content_hash("a")) == 16
    assert content_hash("a") == content_hash("a")
    assert content_hash("a") != content_hash("b")
