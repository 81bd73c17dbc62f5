from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from retrieval.embedder import (
    EmbedderError,
    MiniLMEmbedder,
    SentenceTransformerEmbedder,
    _buckets,
    load_embedder,
    model_dir,
    onnx_export,
)
from retrieval.queries import embed_message


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


def test_onnx_runtime_gives_the_vectors_sentence_transformers_gives(
    embedder: MiniLMEmbedder,
) -> None:
    """The default runtime is an ONNX export of the model; stored vectors made by either
    runtime stay valid for the other, long (truncated) texts and batches included."""
    torch_embedder = SentenceTransformerEmbedder()
    texts = [
        "Where is my order #W2378156?",
        "refund",
        "I bought a mechanical keyboard and a smart thermostat; the thermostat is broken. " * 3,
        "word " * 600,  # beyond the 256-token limit: both truncate the same way
        "",
    ]
    a, b = embedder.embed(texts), torch_embedder.embed(texts)

    assert isinstance(embedder, MiniLMEmbedder) and embedder.onnx_file.suffix == ".onnx"
    np.testing.assert_array_less(1 - 1e-4, (a * b).sum(axis=1))
    np.testing.assert_allclose(a, b, atol=1e-4)


def test_a_batch_embeds_each_text_as_it_would_alone(embedder: MiniLMEmbedder) -> None:
    texts = [f"question {i} " + "about returns " * (i * 7 % 40) for i in range(70)]

    batch = embedder.embed(texts)

    alone = np.stack([embedder.embed_query(t) for t in texts[::9]])
    np.testing.assert_allclose(batch[::9], alone, atol=1e-5)


def test_length_buckets_keep_every_index_once_and_short_texts_together() -> None:
    lengths = [5, 300, 6, 7, 250, 8, 9, 10]
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])

    batches = _buckets(order, lengths, size=3)

    # shortest first, at most 3 a batch, and the long texts never pad the short ones
    assert batches == [[0, 2, 3], [5, 6, 7], [4, 1]]


def test_the_export_is_made_once_and_reused(tmp_path: Path) -> None:
    first = onnx_export(model_dir(), tmp_path)
    made = first.stat().st_mtime_ns

    again = MiniLMEmbedder(cache_dir=tmp_path)

    assert again.onnx_file == first and first.stat().st_mtime_ns == made
    assert not list(tmp_path.glob("*.part")), "no partial file is left behind"
    assert again.embed_query("hello").shape == (384,)


def test_the_export_runs_fused_transformer_kernels(embedder: MiniLMEmbedder) -> None:
    """Attention, embedding and LayerNorm run as ONNX Runtime's fused kernels (faster, and
    the vector test above shows they compute the same vectors)."""
    import onnx

    ops = {
        n.op_type for n in onnx.load(str(embedder.onnx_file), load_external_data=False).graph.node
    }

    assert {"Attention", "EmbedLayerNormalization", "SkipLayerNormalization"} <= ops
    assert "Softmax" not in ops


def test_a_model_with_an_unsupported_pooling_is_refused_clearly(tmp_path: Path) -> None:
    for name in ("tokenizer.json", "config.json", "modules.json"):
        shutil.copy(model_dir() / name, tmp_path / name)
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(
        json.dumps({"pooling_mode_mean_tokens": False, "pooling_mode_max_tokens": True})
    )

    with pytest.raises(EmbedderError, match="RAPPORT_EMBED_BACKEND=torch"):
        MiniLMEmbedder(path=tmp_path, cache_dir=tmp_path / "cache")
    with pytest.raises(EmbedderError, match="unknown embedding backend"):
        load_embedder("gpu")


def test_a_message_and_its_sub_queries_are_embedded_in_one_call(
    embedder: MiniLMEmbedder,
) -> None:
    calls: list[int] = []

    class Counting:
        dim = embedder.dim

        def embed(self, texts: list[str]) -> np.ndarray:
            calls.append(len(texts))
            return embedder.embed(texts)

        def embed_query(self, text: str) -> np.ndarray:
            calls.append(1)
            return embedder.embed_query(text)

    long = (
        "Cancel order #W1 because I no longer need it. Then exchange the keyboard for a "
        "linear one. Also update my address to the new flat. Finally tell me the refund "
        "timeline for the cancelled order."
    )
    q = embed_message(Counting(), long)
    short = embed_message(Counting(), "Where is my order?")

    assert calls == [5, 1]
    assert q.parts and len(q.part_vectors) == len(q.parts) == 4
    np.testing.assert_allclose(q.vector, embedder.embed_query(long), atol=1e-5)
    assert short.parts == [] and short.part_vectors.shape == (0, embedder.dim)
