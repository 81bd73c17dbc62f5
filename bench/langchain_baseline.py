"""The baseline: a plain LangChain RAG chain behind one FastAPI endpoint.

    BENCH_LC_DIR=var/bench/langchain OPENAI_BASE_URL=http://127.0.0.1:8765/v1 \
        python -m uvicorn bench.langchain_baseline:create_app --factory --port 8766

langchain-chroma retriever (k=6) over the same KB chunks and embeddings as Rapport, a
ChatPromptTemplate, ChatOpenAI at the same fake server, StrOutputParser. No profile,
no history, no policy, nothing persisted: the least a RAG endpoint can do.

The query is embedded the way a plain LangChain app embeds with a local model:
sentence-transformers on torch (what langchain-huggingface's HuggingFaceEmbeddings runs),
the same model files as Rapport. BENCH_LC_EMBED=onnx gives the baseline Rapport's own ONNX
Runtime embedder instead, so the benchmark can also compare the two on equal embedding."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from fastapi import FastAPI
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnablePassthrough
from pydantic import BaseModel

from retrieval.embedder import Embedder

COLLECTION = "kb_chunks"  # Chroma wants 3+ characters
PROMPT = ChatPromptTemplate.from_messages(
    [
        (
            "system",
            "You are a customer-support assistant. Answer from these passages only and cite "
            "them as [n].\n\n{context}",
        ),
        ("human", "{question}"),
    ]
)


class MiniLMEmbeddings(Embeddings):
    """LangChain Embeddings over Rapport's packaged MiniLM (never Chroma's default model)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_query(text).tolist()


def vector_store(persist_dir: Path, embeddings: Embeddings):  # type: ignore[no-untyped-def]
    from langchain_chroma import Chroma

    return Chroma(
        collection_name=COLLECTION,
        embedding_function=embeddings,
        persist_directory=str(persist_dir),
    )


def fill_from_rapport(persist_dir: Path, rapport_chroma: Path, embeddings: Embeddings) -> int:
    """Copy Rapport's KB chunks (text, metadata, stored embeddings) into the baseline's store.

    Reusing the stored vectors gives both systems the very same KB without embedding it
    twice. Idempotent: skipped when the collection already holds every chunk."""
    from retrieval.store import ChromaIndex

    source = ChromaIndex.embedded(rapport_chroma)
    items = source.get("kb_chunks", include_embeddings=True)
    store = vector_store(persist_dir, embeddings)
    col = store._collection  # the chromadb collection behind the LangChain wrapper
    if col.count() == len(items):
        return len(items)
    for start in range(0, len(items), 1000):
        batch = items[start : start + 1000]
        col.upsert(
            ids=[i.id for i in batch],
            embeddings=[i.embedding for i in batch],  # type: ignore[misc]
            documents=[i.document for i in batch],
            metadatas=[i.metadata for i in batch],  # type: ignore[misc]
        )
    return len(items)


def _format(docs: Sequence[Document]) -> str:
    return "\n\n".join(f"[{n}] {d.page_content}" for n, d in enumerate(docs, start=1))


def build_chain(persist_dir: Path, embedder: Embedder, base_url: str, model: str) -> Runnable:
    from langchain_openai import ChatOpenAI

    retriever = vector_store(persist_dir, MiniLMEmbeddings(embedder)).as_retriever(
        search_kwargs={"k": 6}
    )
    llm = ChatOpenAI(model=model, base_url=base_url, api_key="not-needed", max_retries=1)  # type: ignore[arg-type]
    return (
        {"context": retriever | _format, "question": RunnablePassthrough()}
        | PROMPT
        | llm
        | StrOutputParser()
    )


class ChatIn(BaseModel):
    customer_id: str | None = None
    message: str


class ChatOut(BaseModel):
    answer: str


def create_app() -> FastAPI:
    """The baseline service, configured by BENCH_LC_DIR, OPENAI_BASE_URL, RAPPORT_LLM_MODEL
    and BENCH_LC_EMBED (torch, the default, or onnx)."""
    from retrieval.embedder import load_embedder

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    embedder = load_embedder(os.environ.get("BENCH_LC_EMBED", "torch"))
    chain = build_chain(
        Path(os.environ["BENCH_LC_DIR"]),
        embedder,
        os.environ["OPENAI_BASE_URL"],
        os.environ.get("RAPPORT_LLM_MODEL", "bench"),
    )
    embedder.embed_query("warm up")
    app = FastAPI(title="LangChain RAG baseline")

    @app.post("/chat", response_model=ChatOut)
    def chat(body: ChatIn) -> ChatOut:
        return ChatOut(answer=chain.invoke(body.message))

    @app.get("/readyz")
    def readyz() -> dict[str, str]:
        return {"status": "ready"}

    return app
