"""Rapport's domain errors and the one table that maps them to HTTP codes and CLI exits.

Lower packages raise their own small exceptions (or these); the boundary (the API's
exception handlers, the CLI's `errors()`) passes anything it catches through `as_domain`
(the FOREIGN table) and answers with `http_status` / `exit_code` of the result (the
STATUS table), in the style of httpx's `_exceptions.py`. A route or command never maps
errors by hand."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import exc as sa_exc

from profiles.admin import InvalidRecord, UnknownCustomer
from profiles.conversations import UnknownConversation
from profiles.mapping import MappingError
from profiles.workspaces import UnknownWorkspace, WorkspaceFileError


class RapportError(Exception):
    """Base of every error Rapport reports to a caller.

    `message` says what is wrong without quoting what the caller sent: it is what an HTTP
    error body shows. `subject` (an id the caller gave) is added for the command line and
    the logs only, where the caller is the operator. `retry_after` (seconds) tells a
    caller when running it again may succeed."""

    def __init__(
        self, message: str, *, subject: str | None = None, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.subject = subject
        self.retry_after = retry_after

    def __str__(self) -> str:
        return f"{self.message} {self.subject!r}" if self.subject is not None else self.message


class BadInput(RapportError):
    """The caller sent something unusable (empty message, malformed file)."""


class TooLarge(BadInput):
    """A request body or a message longer than the configured limit."""


class UnsupportedMediaType(BadInput):
    """A body that is not JSON sent to a JSON endpoint."""


class DataDirMissing(BadInput):
    """The data directory has not been initialised (nothing imported yet)."""


class Unauthenticated(RapportError):
    """No identity, or one that does not verify (widget hash, API key missing)."""


class Forbidden(RapportError):
    """An identity that may not do this (a wrong key, a customer asking for staff rights)."""


class NotFound(RapportError):
    """A customer, conversation or document that does not exist (or is not the caller's)."""


class Conflict(RapportError):
    """The same request is still running (an Idempotency-Key held by another request)."""


class RateLimited(RapportError):
    """Too many requests from one customer; `retry_after` says when to come back."""


class NotConfigured(RapportError):
    """The deployment lacks a setting this request needs (a widget secret, an agent key)."""


class GenerationFailed(RapportError):
    """The LLM could not produce a reply (timeout, HTTP error, bad response)."""


class StoreUnavailable(RapportError):
    """A database or the vector store failed mid-request; running it again is safe."""


# The one table: domain error → (HTTP status, CLI exit code). Looked up along the class's
# MRO, so a subclass without its own row answers as its parent. Exit codes: 2 = the request
# cannot be done as given (bad input, unknown id, missing data or configuration); 3 = a
# database or vector store is unavailable, retry later; 1 = anything else.
STATUS: dict[type[RapportError], tuple[int, int]] = {
    BadInput: (422, 2),
    TooLarge: (413, 2),
    UnsupportedMediaType: (415, 2),
    Unauthenticated: (401, 2),
    Forbidden: (403, 2),
    NotFound: (404, 2),
    Conflict: (409, 2),
    RateLimited: (429, 2),
    NotConfigured: (503, 2),
    GenerationFailed: (502, 1),
    StoreUnavailable: (503, 3),
    RapportError: (500, 1),
}


def _row(exc: RapportError) -> tuple[int, int]:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]  # type: ignore[index]
    return STATUS[RapportError]


def http_status(exc: RapportError) -> int:
    """The HTTP status `exc` is answered with."""
    return _row(exc)[0]


def exit_code(exc: RapportError) -> int:
    """The exit code of a command that failed with `exc`."""
    return _row(exc)[1]


def is_database_outage(exc: BaseException) -> bool:
    """True for a database that cannot be reached or used right now (connection refused
    or lost, database gone, file unopenable, pool exhausted), not for a bad query."""
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError)


def _outage(_exc: BaseException) -> RapportError:
    return StoreUnavailable("database unavailable; retry later")


def _bad_value(_exc: BaseException) -> RapportError:
    # The driver's message may quote the value (PostgreSQL's "invalid input syntax … "x""),
    # so it is not repeated.
    return BadInput("invalid data: a value the database cannot store")


def _unknown_customer(exc: BaseException) -> RapportError:
    return NotFound("unknown customer", subject=getattr(exc, "customer_id", None))


def _unknown_conversation(exc: BaseException) -> RapportError:
    return NotFound("unknown conversation", subject=getattr(exc, "conversation_id", None))


def _invalid_record(exc: BaseException) -> RapportError:
    return BadInput(str(exc))


def _unknown_workspace(exc: BaseException) -> RapportError:
    return NotFound("unknown workspace", subject=getattr(exc, "name", None))


# Foreign exceptions → domain errors: (type, predicate, factory), first match wins.
# Only precise types belong here: a bare ValueError or KeyError may be a bug, and a bug
# is a 500 (logged), not a 4xx that hides it.
FOREIGN: list[
    tuple[type[Exception], Callable[[BaseException], bool], Callable[..., RapportError]]
] = [
    (sa_exc.SQLAlchemyError, is_database_outage, _outage),
    (sa_exc.DataError, lambda _e: True, _bad_value),
    (UnknownCustomer, lambda _e: True, _unknown_customer),
    (InvalidRecord, lambda _e: True, _invalid_record),
    (UnknownConversation, lambda _e: True, _unknown_conversation),
    (UnknownWorkspace, lambda _e: True, _unknown_workspace),
    (WorkspaceFileError, lambda _e: True, _invalid_record),
    (MappingError, lambda _e: True, _invalid_record),
]


def as_domain(exc: BaseException) -> RapportError | None:
    """`exc` as a domain error: itself, its translation by the table, or None (a bug)."""
    if isinstance(exc, RapportError):
        return exc
    for kind, when, factory in FOREIGN:
        if isinstance(exc, kind) and when(exc):
            return factory(exc)
    return None
