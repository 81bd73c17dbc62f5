"""The same SQLModel code against the real PostgreSQL server."""

import pytest

from profiles.context import ProfileRepository
from profiles.conversations import ConversationStore
from profiles.db import create_schema, make_engine
from profiles.mapping import import_retail
from tests.conftest import RETAIL

pytestmark = pytest.mark.postgres


def test_import_context_and_conversation_on_postgres(postgres_url):
    engine = make_engine(postgres_url)
    try:
        create_schema(engine)
        report = import_retail(engine, RETAIL)
        assert report.customers == 500
        import_retail(engine, RETAIL)  # idempotent there too
        repo = ProfileRepository(engine)
        ctx = repo.context("omar_lopez_3107", "exchange the mouse from #W7273336")
        assert ctx is not None
        assert any(f.id == "record:order:#W7273336" for f in ctx.facts)
        store = ConversationStore(engine)
        conv, msg_id, _ = store.start_turn("omar_lopez_3107", None, "hello", "cli")
        assert store.conversation_owner(conv) == "omar_lopez_3107"
        assert msg_id > 0
    finally:
        engine.dispose()
