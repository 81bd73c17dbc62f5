from __future__ import annotations

import numpy as np

from retrieval.embedder import MiniLMEmbedder, model_dir


def test_embeddings_are_normalised_float32(embedder: MiniLMEmbedder) -> None:
    vectors = embedder.embed(["How do I return an item?", "Refund to gift card", ""])

    assert vectors.shape == (3, embedder.dim)
    assert embedder.dim == 384
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, 384)


def test_query_embedding_matches_batch_and_ranks_by_meaning(embedder: MiniLMEmbedder) -> None:
    query = embedder.embed_query("I want my money back")
    docs = embedder.embed(["Refunds are issued to the original payment method.", "Our CEO"])

    assert query.shape == (384,)
    np.testing.assert_allclose(query, embedder.embed(["I want my money back"])[0], atol=1e-5)
    assert docs[0] @ query > docs[1] @ query


def test_model_dir_holds_the_tokenizer() -> None:
    assert (model_dir() / "tokenizer.json").is_file()
