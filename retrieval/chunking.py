"""Heading-aware markdown chunking into overlapping windows with stable ids."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
# End of a sentence: . ! or ? after a word or closing quote/bracket, then a capital.
# List paragraphs are split by item instead, so "1. The" never reaches this.
_SENTENCE_END = re.compile(r"(?<=[^\W_)\"'][.!?])\s+(?=[\"'(\[]?[A-Z])")
MIN_SECTION_WORDS = 25


@dataclass(frozen=True)
class Chunk:
    """One embeddable piece of a document, with the heading path it sits under."""

    id: str  # "<doc_id>#<n>", stable for the same input
    doc_id: str
    title: str
    heading_path: str  # "Title > Section > Subsection"
    text: str  # raw markdown body
    n: int

    @property
    def embed_text(self) -> str:
        """The text to embed and index: heading path first, so context travels with the body."""
        return f"{self.heading_path}\n\n{self.text}"


@dataclass
class _Section:
    path: tuple[str, ...]
    level: int
    heading: str
    body: str

    @property
    def words(self) -> int:
        return len(self.body.split())


def content_hash(text: str) -> str:
    """Return the first 16 hex digits of the sha256 of text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def chunk_markdown(
    doc_id: str, title: str, text: str, max_words: int = 180, overlap_words: int = 30
) -> list[Chunk]:
    """Split a markdown document into chunks of about max_words words.

    Sections follow the markdown headings; a section longer than max_words is cut on
    paragraph, then sentence boundaries into windows that repeat up to overlap_words words
    of the previous window. Sections under MIN_SECTION_WORDS words join the next section
    under the same parent. Chunks are numbered 0.. in document order.
    """
    if max_words <= 0 or not 0 <= overlap_words < max_words:
        raise ValueError("need max_words > 0 and 0 <= overlap_words < max_words")
    chunks: list[Chunk] = []
    for path, body in _merge_small(_sections(title, text)):
        for window in _windows(body, max_words, overlap_words):
            n = len(chunks)
            chunks.append(Chunk(f"{doc_id}#{n}", doc_id, title, " > ".join(path), window, n))
    return chunks


def _sections(title: str, text: str) -> list[_Section]:
    stack: list[tuple[int, str]] = []
    sections: list[_Section] = []
    lines: list[str] = []
    heading, level = "", 0
    in_fence = False

    def close() -> None:
        body = "\n".join(lines).strip()
        if body:
            path = (title, *(h for _, h in stack))
            sections.append(_Section(path, level, heading, body))
        lines.clear()

    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match is None:
            lines.append(line)
            continue
        close()
        level, heading = len(match.group(1)), match.group(2).strip()
        while stack and stack[-1][0] >= level:
            stack.pop()
        # A top heading that repeats the title is the title, not a section.
        if not (level == 1 and not stack and heading.casefold() == title.casefold()):
            stack.append((level, heading))
    close()
    return sections


def _merge_small(sections: list[_Section]) -> list[tuple[tuple[str, ...], str]]:
    """Join each tiny section with the following sections under the same parent."""
    merged: list[tuple[tuple[str, ...], str]] = []
    i = 0
    while i < len(sections):
        group = [sections[i]]
        parent = group[0].path[: max(1, len(group[0].path) - 1)]
        prefix = group[0].path
        while (
            sum(s.words for s in group) < MIN_SECTION_WORDS
            and i + len(group) < len(sections)
            and sections[i + len(group)].path[: len(parent)] == parent
        ):
            nxt = sections[i + len(group)]
            group.append(nxt)
            prefix = _common_prefix(prefix, nxt.path)
        i += len(group)
        if len(group) == 1:
            merged.append((group[0].path, group[0].body))
            continue
        # Sub-headings below the shared prefix stay in the body so the text keeps its shape.
        parts = []
        for s in group:
            heading = f"{'#' * s.level} {s.heading}"
            parts.append(s.body if s.path == prefix else f"{heading}\n\n{s.body}")
        merged.append((prefix, "\n\n".join(parts)))
    return merged


def _common_prefix(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


@dataclass(frozen=True)
class _Unit:
    text: str
    words: int
    para: int
    sep: str  # joins this unit to the previous one of the same paragraph


def _units(body: str, max_words: int) -> list[list[_Unit]]:
    """Paragraphs as lists of sentence (or list-item) units no longer than max_words."""
    paragraphs: list[list[_Unit]] = []
    for p, para in enumerate(re.split(r"\n\s*\n", body)):
        para = para.strip()
        if not para:
            continue
        lines = para.splitlines()
        if any(_LIST_ITEM.match(line) for line in lines):
            pieces, sep = [line.rstrip() for line in lines if line.strip()], "\n"
        else:
            pieces, sep = _SENTENCE_END.split(" ".join(s.strip() for s in lines)), " "
        units: list[_Unit] = []
        for piece in pieces:
            words = piece.split()
            # A sentence longer than a window is cut by words: there is no better boundary.
            for start in range(0, len(words), max_words):
                part = words[start : start + max_words]
                text = piece if len(part) == len(words) else " ".join(part)
                units.append(_Unit(text, len(part), p, sep))
        paragraphs.append(units)
    return paragraphs


def _join(units: list[_Unit]) -> str:
    out = ""
    for i, u in enumerate(units):
        if i:
            out += u.sep if u.para == units[i - 1].para else "\n\n"
        out += u.text
    return out


def _windows(body: str, max_words: int, overlap_words: int) -> list[str]:
    windows: list[str] = []
    current: list[_Unit] = []
    fresh = 0  # units in current that are not overlap from the previous window

    def size() -> int:
        return sum(u.words for u in current)

    def flush() -> None:
        nonlocal current, fresh
        windows.append(_join(current))
        tail: list[_Unit] = []
        for u in reversed(current):
            if sum(t.words for t in tail) + u.words > overlap_words:
                break
            tail.insert(0, u)
        current, fresh = tail, 0

    for paragraph in _units(body, max_words):
        words = sum(u.words for u in paragraph)
        # Prefer a paragraph boundary when the window is already half full.
        if fresh and size() + words > max_words and size() >= max_words // 2:
            flush()
        for unit in paragraph:
            if fresh and size() + unit.words > max_words:
                flush()
            while current and size() + unit.words > max_words:
                current.pop(0)  # overlap never pushes a window past max_words
            current.append(unit)
            fresh += 1
    if fresh:
        windows.append(_join(current))
    return windows
