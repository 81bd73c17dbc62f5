"""Alembic migrations produce exactly the schema the models declare, on both databases."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from profiles.db import FIRST_REVISION, make_engine, migrate


def _diff(engine):
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)


def test_sqlite_migrations_match_models(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate(engine)
    assert _diff(engine) == []
    migrate(engine)  # idempotent
    assert "alembic_version" in inspect(engine).get_table_names()


def test_database_from_before_migrations_is_stamped(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    # Such a database holds the first revision's tables without Alembic's record of it.
    migrate(engine, FIRST_REVISION)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
    migrate(engine)
    assert _diff(engine) == []
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() is not None


@pytest.mark.postgres
def test_postgres_migrations_match_models(postgres_url):
    engine = make_engine(postgres_url)
    try:
        migrate(engine)
        assert _diff(engine) == []
    finally:
        engine.dispose()


def _insert(conn, table_name: str, **values):
    """A row with `values`, every other required column filled with a plain value."""
    import datetime as dt

    from sqlalchemy import MetaData, Table

    table = Table(table_name, MetaData(), autoload_with=conn)
    row = {}
    for c in table.columns:
        if (
            c.name in values
            or c.nullable
            or c.server_default is not None
            or c.autoincrement is True
        ):
            continue
        py = c.type.python_type if hasattr(c.type, "python_type") else str
        row[c.name] = {int: 0, float: 0.0, bool: False, dt.datetime: dt.datetime(2026, 1, 1)}.get(
            py, "x"
        )
    row.update(values)
    conn.execute(table.insert().values(**row))


def _upgrade_with_rows(engine):
    """Rows at the revision before the handoff tables, then the newest schema."""
    migrate(engine, "0003_idempotency")
    with engine.begin() as conn:
        _insert(conn, "customer", id="c1")
        _insert(conn, "conversation", id="v1", customer_id="c1")
        _insert(
            conn,
            "message",
            id=1,
            conversation_id="v1",
            customer_id="c1",
            role="customer",
            text="hi",
        )
        _insert(
            conn,
            "message",
            id=2,
            conversation_id="v1",
            customer_id="c1",
            role="assistant",
            text="hello",
        )
        _insert(
            conn,
            "turn",
            id="t1",
            conversation_id="v1",
            customer_id="c1",
            message_id=1,
            reply_message_id=2,
        )
        _insert(conn, "feedback", id=1, turn_id="t1", rating=1)
        _insert(conn, "feedback", id=2, turn_id="t1", rating=5)  # a later rating of the same turn
    migrate(engine, "0010_customer_records")  # records before they had links
    with engine.begin() as conn:
        _insert(conn, "customerrecord", id=1, customer_id="c1", kind="card", key="k1", text="Card")
    migrate(engine)
    assert _diff(engine) == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT state FROM conversation")).scalar_one() == "bot"
        assert conn.execute(text("SELECT count(*) FROM message")).scalar_one() == 2
        assert conn.execute(text("SELECT rating FROM feedback")).all() == [(5,)]  # the latest kept
        assert conn.execute(text("SELECT interrupted FROM turn")).scalar_one() in (False, 0)
        assert conn.execute(text("SELECT key, text FROM customerrecord")).all() == [("k1", "Card")]
        assert conn.execute(text("SELECT count(*) FROM referenceitem")).scalar_one() == 0


def test_sqlite_upgrade_keeps_existing_rows(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'rows.db'}")
    _upgrade_with_rows(engine)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1


@pytest.mark.postgres
def test_postgres_upgrade_keeps_existing_rows(postgres_url):
    engine = make_engine(postgres_url)
    try:
        _upgrade_with_rows(engine)
    finally:
        engine.dispose()
