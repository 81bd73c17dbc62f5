"""Which errors mean "the database is unavailable": answered 503 with Retry-After."""

from __future__ import annotations

from sqlalchemy import exc as sa_exc


def is_database_outage(exc: BaseException) -> bool:
    """True for a database that cannot be reached or used right now (connection refused
    or lost, database gone, file unopenable, pool exhausted), not for a bad query."""
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError)
