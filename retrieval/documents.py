"""Knowledge-base documents read from markdown, text and JSON files."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError

TEXT_SUFFIXES = frozenset({".md", ".markdown", ".txt"})
SUFFIXES = TEXT_SUFFIXES | {".json"}
_TITLE = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)


Audience = Literal["customer", "internal"]
AUDIENCES: tuple[Audience, ...] = ("customer", "internal")


class Document(BaseModel):
    """A knowledge-base document: markdown text under a stable id, written for customers
    or for staff only (`internal`: it never reaches a customer's reply or citations)."""

    id: str
    title: str
    text: str
    source: str = ""
    audience: Audience = "customer"


class _JsonDocument(BaseModel):
    id: str
    title: str
    content: str
    audience: Audience | None = None


# A document marks itself internal in its title ("Internal: Closing Accounts", "Account
# Recovery (Internal)"), or in a front-matter line of a text file ("audience: internal").
_INTERNAL_TITLE = re.compile(r"^\s*internal\s*[:\-–]|\(\s*internal\s*\)", re.IGNORECASE)
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_AUDIENCE_LINE = re.compile(r"^audience:\s*(customer|internal)\s*$", re.MULTILINE | re.IGNORECASE)


def audience_of(title: str, text: str = "", declared: str | None = None) -> Audience:
    """What the document says it is: its declaration, front matter or title; else customer."""
    if declared in AUDIENCES:
        return declared  # type: ignore[return-value]
    front = _FRONT_MATTER.match(text)
    if front and (line := _AUDIENCE_LINE.search(front.group(1))):
        return line.group(1).lower()  # type: ignore[return-value]
    return "internal" if _INTERNAL_TITLE.search(title) else "customer"


def slug(name: str) -> str:
    """Return name lowercased with runs of characters outside [a-z0-9._-] replaced by "-"."""
    return re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-") or "doc"


def load_documents(paths: Sequence[Path]) -> list[Document]:
    """Read documents from files and folders (walked recursively, in sorted order).

    `.md`/`.markdown`/`.txt` files give one document each (id = slug of the file stem,
    title = first "# " heading or the stem); `.json` files hold one {"id", "title",
    "content"} object or a list of them. Other files inside folders are skipped.
    Raises ValueError for a missing path, an unsupported file named directly, a malformed
    JSON document or an id seen twice.
    """
    documents: list[Document] = []
    seen: dict[str, Path] = {}
    for file in _files(paths):
        for doc in _read(file):
            if doc.id in seen:
                raise ValueError(f"document id {doc.id!r} in {file} is also in {seen[doc.id]}")
            seen[doc.id] = file
            documents.append(doc)
    return documents


def _files(paths: Sequence[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from (
                f for f in sorted(path.rglob("*")) if f.is_file() and f.suffix.lower() in SUFFIXES
            )
        elif path.is_file():
            if path.suffix.lower() not in SUFFIXES:
                raise ValueError(f"{path}: unsupported file type (use .md, .markdown, .txt, .json)")
            yield path
        else:
            raise ValueError(f"{path}: no such file or directory")


def _read(file: Path) -> list[Document]:
    try:
        raw = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{file}: cannot read as UTF-8 text ({exc})") from exc
    if file.suffix.lower() in TEXT_SUFFIXES:
        heading = _TITLE.search(raw)
        title = heading.group(1).strip() if heading else file.stem
        return [
            Document(
                id=slug(file.stem),
                title=title,
                text=raw,
                source=str(file),
                audience=audience_of(title, raw),
            )
        ]
    try:
        data = json.loads(raw)
        items = data if isinstance(data, list) else [data]
        parsed = [_JsonDocument.model_validate(item) for item in items]
    except (json.JSONDecodeError, ValidationError) as exc:
        raise ValueError(
            f"{file}: not a knowledge-base JSON document "
            f'(expected {{"id", "title", "content"}} or a list of them): {exc}'
        ) from exc
    return [
        Document(
            id=d.id,
            title=d.title,
            text=d.content,
            source=str(file),
            audience=audience_of(d.title, d.content, d.audience),
        )
        for d in parsed
    ]
