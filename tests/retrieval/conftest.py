"""Retrieval fixtures: a fresh Chroma per test (the model comes from tests/conftest.py)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from retrieval.store import ChromaIndex
from tests.conftest import SERVICES

ROOT = Path(__file__).resolve().parents[2]
DATASETS = Path(os.environ.get("RAPPORT_DATASETS_DIR", ROOT.parent / "shared" / "datasets"))
BANK_DOCS = DATASETS / "tau-banking-knowledge" / "documents"
RETAIL_POLICY = DATASETS / "tau-retail" / "policy.md"


@pytest.fixture
def index(tmp_path: Path, request: pytest.FixtureRequest) -> ChromaIndex:
    """An empty Chroma for this test: embedded in its temporary directory, or a fresh
    database on the `chroma run` server in the services pass."""
    if SERVICES:
        url = request.getfixturevalue("chroma_server")
        return ChromaIndex.server(url, f"t{uuid.uuid4().hex[:12]}")
    return ChromaIndex.embedded(tmp_path / "chroma")


@pytest.fixture(scope="session")
def bank_docs() -> Path:
    """The tau-banking-knowledge documents folder (JSON files)."""
    return BANK_DOCS


@pytest.fixture(scope="session")
def retail_policy() -> Path:
    """The tau-retail agent policy (markdown)."""
    return RETAIL_POLICY
