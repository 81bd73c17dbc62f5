"""The database engine and sessions, for SQLite by default and PostgreSQL by URL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, create_engine

from profiles import models  # noqa: F401  (registers the tables on SQLModel.metadata)


def make_engine(url: str, schema: str | None = None) -> Engine:
    """An engine for `url`; SQLite files get WAL and foreign keys, parents are created.
    On PostgreSQL, `schema` (created if missing) holds every table this engine sees: each
    connection's search_path is that schema alone, so no query can name another's rows."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            # Deleted rows are overwritten with zeros, not left in free space: an erased
            # customer's bytes must not survive in the file (see checkpoint_deleted).
            cur.execute("PRAGMA secure_delete=ON")
            cur.close()

        return engine
    if schema is None:
        return create_engine(url, pool_pre_ping=True)
    if not _SCHEMA.match(schema):
        raise ValueError("a schema name is lower-case letters, digits and '_'")
    setup = create_engine(url)
    try:
        with setup.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            conn.commit()
    finally:
        setup.dispose()
    return create_engine(
        url, pool_pre_ping=True, connect_args={"options": f"-csearch_path={schema}"}
    )


_SCHEMA = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def checkpoint_deleted(engine: Engine) -> None:
    """Copy SQLite's write-ahead log into the database file and empty it: the log still
    holds the pages as they were before a deletion until it is checkpointed. A reader
    holding an old snapshot can keep part of the log; the next checkpoint takes it."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _alembic_config(connection: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` with Alembic, on SQLite and PostgreSQL alike.

    A database created before migrations existed (tables but no alembic_version) is
    stamped at the first revision, then upgraded."""
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # SQLite alters some tables by copying them; with foreign keys on, dropping the
            # old copy of a table other rows point at fails. Off for the migration only
            # (the pragma takes effect outside a transaction).
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        try:
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    # Several workers may start at once: one migrates, the others wait.
                    conn.execute(text("SELECT pg_advisory_xact_lock(7262770)"))
                cfg = _alembic_config(conn)
                tables = set(inspect(conn).get_table_names())
                if "alembic_version" not in tables and "customer" in tables:
                    command.stamp(cfg, FIRST_REVISION)
                command.upgrade(cfg, revision)
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()


FIRST_REVISION = "0001"


def create_schema(engine: Engine) -> None:
    """The schema at the newest migration."""
    migrate(engine)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
