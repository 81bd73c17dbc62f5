"""Generators turn a composed context into a reply: the offline composer or an LLM."""

from assistant.generators.base import Generator

__all__ = ["Generator"]
