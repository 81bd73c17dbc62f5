"""Rapport's domain errors: one small hierarchy, mapped once to HTTP codes and CLI exits."""

from __future__ import annotations


class RapportError(Exception):
    """Base of every error Rapport reports to a caller."""

    http_status = 500
    exit_code = 1


class BadInput(RapportError):
    """The caller sent something unusable (empty message, malformed file)."""

    http_status = 422
    exit_code = 2


class NotFound(RapportError):
    """A customer, conversation or document that does not exist."""

    http_status = 404
    exit_code = 2


class DataDirMissing(BadInput):
    """The data directory has not been initialised (nothing imported yet)."""


class GenerationFailed(RapportError):
    """The LLM could not produce a reply (timeout, HTTP error, bad response)."""

    http_status = 502


class StoreUnavailable(RapportError):
    """A database or the vector store failed mid-request; running it again is safe."""

    http_status = 503
