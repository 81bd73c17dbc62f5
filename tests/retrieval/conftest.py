"""Retrieval fixtures: one embedding model per session, a fresh embedded Chroma per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from retrieval.embedder import MiniLMEmbedder
from retrieval.store import ChromaIndex

ROOT = Path(__file__).resolve().parents[2]
DATASETS = Path(os.environ.get("RAPPORT_DATASETS_DIR", ROOT.parent / "shared" / "datasets"))
BANK_DOCS = DATASETS / "tau-banking-knowledge" / "documents"
RETAIL_POLICY = DATASETS / "tau-retail" / "policy.md"


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbedder:
    """The packaged MiniLM model, loaded once: loading takes seconds."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return MiniLMEmbedder()


@pytest.fixture
def index(tmp_path: Path) -> ChromaIndex:
    """An empty embedded Chroma in this test's temporary directory."""
    return ChromaIndex.embedded(tmp_path / "chroma")


@pytest.fixture(scope="session")
def bank_docs() -> Path:
    """The tau-banking-knowledge documents folder (JSON files)."""
    return BANK_DOCS


@pytest.fixture(scope="session")
def retail_policy() -> Path:
    """The tau-retail agent policy (markdown)."""
    return RETAIL_POLICY
