"""Embedding, knowledge-base ingestion and search, and per-customer history retrieval."""
