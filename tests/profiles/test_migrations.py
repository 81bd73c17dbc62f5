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
