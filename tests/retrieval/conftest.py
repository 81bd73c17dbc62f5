"""Retrieval fixtures: a fresh Chroma per test (the model comes from tests/conftest.py)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from retrieval.store import ChromaIndex
from tests.conftest import SERVICES

ROOT = Path(__file__).resolve().parents[2]
DATASETS = Path(os.environ.get("RAPPORT_DATASETS_DIR", ROOT.parent / "shared" / "datasets"))
BANK_DOCS = DATASETS / "tau-banking-knowledge" / "documents"
RETAIL_POLICY = DATASETS / "tau-retail" / "policy.md"


@pytest.fixture
def open_index(tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[], ChromaIndex]:
    """Opens this test's Chroma, empty at first: embedded in its temporary directory, or
    a fresh database on the `chroma run` server in the services pass. Each call is another
    ChromaIndex on the same store, as another worker or the CLI would open it."""
    if SERVICES:
        url = request.getfixturevalue("chroma_server")
        database = f"t{uuid.uuid4().hex[:12]}"
        return lambda: ChromaIndex.server(url, database)
    return lambda: ChromaIndex.embedded(tmp_path / "chroma")


@pytest.fixture
def index(open_index: Callable[[], ChromaIndex]) -> ChromaIndex:
    """An empty Chroma for this test."""
    return open_index()


@pytest.fixture(scope="session")
def bank_docs() -> Path:
    """The tau-banking-knowledge documents folder (JSON files)."""
    return BANK_DOCS


@pytest.fixture(scope="session")
def retail_policy() -> Path:
    """The tau-retail agent policy (markdown)."""
    return RETAIL_POLICY
