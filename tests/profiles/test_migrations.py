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


def _insert(conn, table_name: str, meta=None, **values):
    """A row with `values`, every other required column filled with a plain value; a
    MetaData `meta` given keeps each table's reflection for the next rows."""
    import datetime as dt

    from sqlalchemy import MetaData, Table

    table = Table(table_name, MetaData() if meta is None else meta, autoload_with=conn)
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


TYPED = {"product", "productvariant", "paymentmethod", "order", "orderitem", "fulfillment"}
TYPED |= {"orderpayment"}

# τ-retail's files holding the same store as the typed rows `_typed_store` writes
STORE_FILES = {
    "users": {
        "ana_lima_1": {
            "payment_methods": {
                "credit_card_1": {
                    "source": "credit_card",
                    "brand": "visa",
                    "last_four": "4242",
                    "id": "credit_card_1",
                },
                "gift_card_1": {"source": "gift_card", "balance": 40, "id": "gift_card_1"},
            },
            "orders": ["#W1000002", "#W1000001"],
        },
        "bo_chen_2": {"payment_methods": {}, "orders": ["#W2000001"]},
    },
    "orders": {
        "#W1000002": {
            "order_id": "#W1000002",
            "user_id": "ana_lima_1",
            "address": {"address1": "1 Elm St", "city": "Austin", "zip": "78701"},
            "items": [
                {
                    "name": "Mug",
                    "product_id": "p_mug",
                    "item_id": "i_mug",
                    "price": 12.25,
                    "options": {"size": "L"},
                }
            ],
            "fulfillments": [],
            "status": "delivered",
            "payment_history": [
                {"transaction_type": "payment", "amount": 12.25, "payment_method_id": "gift_card_1"}
            ],
        },
        "#W1000001": {
            "order_id": "#W1000001",
            "user_id": "ana_lima_1",
            "address": {"address1": "1 Elm St", "city": "Austin", "zip": "78701"},
            "items": [
                {
                    "name": "Desk Lamp",
                    "product_id": "p_lamp",
                    "item_id": "i_lamp_black",
                    "price": 35.5,
                    "options": {"color": "black"},
                },
                {
                    "name": "Mug",
                    "product_id": "p_mug",
                    "item_id": "i_mug",
                    "price": 12.25,
                    "options": {"size": "L"},
                },
            ],
            "fulfillments": [{"tracking_id": ["TRK123"], "item_ids": ["i_lamp_black"]}],
            "status": "pending",
            "payment_history": [
                {
                    "transaction_type": "payment",
                    "amount": 47.75,
                    "payment_method_id": "credit_card_1",
                }
            ],
        },
        "#W2000001": {  # a product no longer in the catalog, paid with no method on file
            "order_id": "#W2000001",
            "user_id": "bo_chen_2",
            "address": {"address1": "9 Oak Ave", "city": "Reno", "zip": "89501"},
            "items": [
                {
                    "name": "Old Kettle",
                    "product_id": "p_gone",
                    "item_id": "i_kettle",
                    "price": 20.0,
                    "options": {},
                }
            ],
            "fulfillments": [],
            "status": "processed",
            "payment_history": [
                {"transaction_type": "payment", "amount": 20.0, "payment_method_id": "paypal_9"}
            ],
        },
    },
    "products": {
        "p_lamp": {
            "name": "Desk Lamp",
            "product_id": "p_lamp",
            "variants": {
                "i_lamp_black": {
                    "item_id": "i_lamp_black",
                    "options": {"color": "black"},
                    "available": True,
                    "price": 35.5,
                },
                "i_lamp_white": {
                    "item_id": "i_lamp_white",
                    "options": {"color": "white"},
                    "available": False,
                    "price": 36.0,
                },
            },
        },
        "p_mug": {
            "name": "Mug",
            "product_id": "p_mug",
            "variants": {
                "i_mug": {
                    "item_id": "i_mug",
                    "options": {"size": "L"},
                    "available": True,
                    "price": 12.25,
                }
            },
        },
    },
}


def _customers(conn):
    _insert(conn, "customer", id="ana_lima_1", first_name="Ana", last_name="Lima")
    _insert(conn, "customer", id="bo_chen_2", first_name="Bo", last_name="Chen")
    for n, purpose in enumerate(("personalization", "history", "analytics"), start=1):
        # Ana withdrew analytics; an import's customers section would grant it again
        granted = purpose != "analytics"
        _insert(conn, "consent", id=n, customer_id="ana_lima_1", purpose=purpose, granted=granted)


def _typed_rows(conn, files, order_ids):
    """τ-retail `files` as the typed importer stored them (its customers exist), the
    orders written in the order of `order_ids`."""
    from sqlalchemy import MetaData

    meta = MetaData()

    def add(table_name, **values):
        _insert(conn, table_name, meta, **values)

    for pid, p in files["products"].items():
        add("product", id=pid, name=p["name"])
        for vid, v in p["variants"].items():
            add(
                "productvariant",
                item_id=vid,
                product_id=pid,
                options=v["options"],
                available=v["available"],
                price=v["price"],
            )
    seq = {}
    for uid, u in files["users"].items():
        seq.update({oid: n for n, oid in enumerate(u["orders"])})
        for pm_id, pm in u["payment_methods"].items():
            values = {k: v for k, v in pm.items() if k != "id"}
            add("paymentmethod", id=pm_id, customer_id=uid, **values)
    row = {"item": 0, "fulfillment": 0, "payment": 0}
    for oid in order_ids:  # a row's id orders its order's lines, fulfillments, payments
        o = files["orders"][oid]
        add(
            "order",
            id=oid,
            customer_id=o["user_id"],
            status=o["status"],
            address=o["address"],
            seq=seq[oid],
        )
        for it in o["items"]:
            row["item"] += 1
            add("orderitem", id=row["item"], order_id=oid, **it)
        for f in o["fulfillments"]:
            row["fulfillment"] += 1
            add(
                "fulfillment",
                id=row["fulfillment"],
                order_id=oid,
                tracking_ids=f["tracking_id"],
                item_ids=f["item_ids"],
            )
        for p in o["payment_history"]:
            row["payment"] += 1
            add("orderpayment", id=row["payment"], order_id=oid, **p)


def _typed_store(engine):
    """STORE_FILES as the typed importer stored it, at the revision before records."""
    migrate(engine, "0021_record_amount_texts")
    with engine.begin() as conn:
        _customers(conn)
        # orders in another order than their customers' (seq): the migration orders them
        _typed_rows(conn, STORE_FILES, ["#W1000001", "#W2000001", "#W1000002"])


RECORD_COLUMNS = ("kind", "key", "customer_id", "status", "amount", "text", "texts", "links")
RECORD_COLUMNS += ("fields", "status_texts", "outcomes", "amount_texts", "allows", "open")
RECORD_COLUMNS += ("arrived",)
ITEM_COLUMNS = ("name", "key", "fields", "text", "part_of", "offered")


def _select(conn, table_name: str, columns):
    """Rows of `columns`, JSON read as objects on both databases."""
    from sqlalchemy import MetaData, Table, select

    table = Table(table_name, MetaData(), autoload_with=conn)
    return conn.execute(select(*(table.c[c] for c in columns))).all()


def _rows(engine):
    """Every record and reference item by kind and key, comparable across databases (a
    number compares by value: the typed tables kept a gift card's balance 40 as 40.0)."""
    with engine.connect() as conn:
        records = _select(conn, "customerrecord", RECORD_COLUMNS)
        items = _select(conn, "referenceitem", ITEM_COLUMNS)
    return _by_key(records), _by_key(items)


def _by_key(rows):
    return sorted(map(tuple, rows), key=lambda r: r[:2])


def _imported(fresh, folder, customers):
    """The records the τ-retail mapping without its customers makes of the files in
    `folder`, in a new database holding the customers `customers(conn)` writes."""
    from profiles.mapping import RETAIL_MAPPING, import_files, load_mapping, retail_files

    migrate(fresh)
    with fresh.begin() as conn:
        customers(conn)
    mapping = load_mapping(RETAIL_MAPPING).model_copy(update={"customers": None})
    import_files(fresh, mapping, retail_files(folder))
    return _rows(fresh)


def _typed_rows_become_records(engine, fresh, tmp_path):
    _typed_store(engine)
    migrate(engine)
    assert not TYPED & set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        records = {
            (kind, key): (owner, status, amount, line, links)
            for kind, key, owner, status, amount, line, links in _select(
                conn, "customerrecord", RECORD_COLUMNS[:6] + ("links",)
            )
        }
        items = {
            (name, key): (line, part_of, bool(offered))
            for name, key, line, part_of, offered in _select(
                conn, "referenceitem", ("name", "key", "text", "part_of", "offered")
            )
        }
        consents = dict(
            conn.execute(
                text("SELECT purpose, granted FROM consent WHERE customer_id = 'ana_lima_1'")
            ).all()
        )
        names = conn.execute(text("SELECT id, first_name FROM customer ORDER BY id")).all()
    assert records == {
        ("order", "#W1000001"): (
            "ana_lima_1",
            "pending",
            47.75,
            "Order #W1000001 (Desk Lamp, Mug): pending, tracking TRK123, "
            "paid with credit card Visa ending 4242",
            {"payment_method": "credit_card_1"},
        ),
        ("order", "#W1000002"): (
            "ana_lima_1",
            "delivered",
            12.25,
            "Order #W1000002 (Mug): delivered, paid with gift card",
            {"payment_method": "gift_card_1"},
        ),
        ("order", "#W2000001"): (  # its payment method was never on file: its id alone
            "bo_chen_2",
            "processed",
            20.0,
            "Order #W2000001 (Old Kettle): processed",
            {"payment_method": "paypal_9"},
        ),
        ("order_line", "#W1000001/0"): (
            "ana_lima_1",
            "pending",
            35.5,
            "Desk Lamp (black) in order #W1000001: pending, tracking TRK123, "
            "item i_lamp_black, $35.50",
            {"order": "#W1000001", "product": "p_lamp"},
        ),
        ("order_line", "#W1000001/1"): (
            "ana_lima_1",
            "pending",
            12.25,
            "Mug (L) in order #W1000001: pending, tracking TRK123, item i_mug, $12.25",
            {"order": "#W1000001", "product": "p_mug"},
        ),
        ("order_line", "#W1000002/0"): (
            "ana_lima_1",
            "delivered",
            12.25,
            "Mug (L) in order #W1000002: delivered, item i_mug, $12.25",
            {"order": "#W1000002", "product": "p_mug"},
        ),
        ("order_line", "#W2000001/0"): (  # its product is gone from the catalog
            "bo_chen_2",
            "processed",
            20.0,
            "Old Kettle in order #W2000001: processed, item i_kettle, $20.00",
            {"order": "#W2000001", "product": "p_gone"},
        ),
        ("payment_method", "credit_card_1"): (
            "ana_lima_1",
            None,
            None,
            "credit_card_1: credit card Visa 4242",
            {},
        ),
        ("payment_method", "gift_card_1"): (
            "ana_lima_1",
            None,
            None,
            "gift_card_1: gift card",
            {},
        ),
    }
    assert items == {
        ("product", "p_lamp"): ("Desk Lamp (product p_lamp)", None, True),
        ("product", "p_mug"): ("Mug (product p_mug)", None, True),
        ("product_item", "i_lamp_black"): (
            "item i_lamp_black (black) $35.50",
            "product:p_lamp",
            True,
        ),
        ("product_item", "i_lamp_white"): (
            "item i_lamp_white (white) $36.00",
            "product:p_lamp",
            False,
        ),
        ("product_item", "i_mug"): ("item i_mug (L) $12.25", "product:p_mug", True),
    }
    # customers and their consents are as they were: analytics still withdrawn
    assert {p: bool(g) for p, g in consents.items()} == {
        "personalization": True,
        "history": True,
        "analytics": False,
    }
    assert names == [("ana_lima_1", "Ana"), ("bo_chen_2", "Bo")]
    # the records are those the mapping's import of the same files makes
    import json

    for name, data in STORE_FILES.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(data), encoding="utf-8")
    migrated = _rows(engine)
    assert migrated == _imported(fresh, tmp_path, _customers)
    migrate(engine)  # again: nothing changes
    assert _rows(engine) == migrated


def test_sqlite_typed_rows_become_records(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'typed.db'}")
    fresh = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    _typed_rows_become_records(engine, fresh, tmp_path)


@pytest.mark.postgres
def test_postgres_typed_rows_become_records(postgres_url, tmp_path):
    engine = make_engine(postgres_url)
    fresh = make_engine(postgres_url, schema="fresh_import")  # a database of its own
    try:
        _typed_rows_become_records(engine, fresh, tmp_path)
    finally:
        engine.dispose()
        fresh.dispose()


def _typed_schema(engine):
    """The typed tables' columns, keys and indexes as the database describes them."""
    found = inspect(engine)
    return {
        t: (
            [(c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns(t)],
            found.get_pk_constraint(t)["constrained_columns"],
            sorted(
                (f["constrained_columns"], f["referred_table"]) for f in found.get_foreign_keys(t)
            ),
            sorted((i["name"], i["column_names"], bool(i["unique"])) for i in found.get_indexes(t)),
        )
        for t in sorted(TYPED)
    }


def _empty_database_migrates(engine):
    """No typed rows: the tables go; a downgrade brings them back as 0001 made them."""
    from alembic import command

    from profiles.db import _alembic_config

    migrate(engine, "0021_record_amount_texts")
    as_made = _typed_schema(engine)
    migrate(engine)
    assert not TYPED & set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM customerrecord")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM referenceitem")).scalar_one() == 0
    with engine.begin() as conn:
        _insert(conn, "customer", id="c1")
        _insert(conn, "customerrecord", customer_id="c1", kind="card", key="k1", text="Card")
    with engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0021_record_amount_texts")
    assert _typed_schema(engine) == as_made
    with engine.connect() as conn:
        for table in TYPED:
            assert conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one() == 0
        # the records stay
        assert conn.execute(text("SELECT key FROM customerrecord")).all() == [("k1",)]
    migrate(engine)  # and up again
    assert not TYPED & set(inspect(engine).get_table_names())


def test_sqlite_empty_database_migrates(tmp_path):
    _empty_database_migrates(make_engine(f"sqlite:///{tmp_path / 'empty.db'}"))


@pytest.mark.postgres
def test_postgres_empty_database_migrates(postgres_url):
    engine = make_engine(postgres_url)
    try:
        _empty_database_migrates(engine)
    finally:
        engine.dispose()


def test_sqlite_typed_store_of_the_data_set_becomes_its_records(tmp_path):
    """A slice of the τ-retail store (the first 100 customers, their orders, the whole
    catalog), typed, migrates to the records its mapping makes of the same files."""
    import json

    from tests.conftest import RETAIL

    data = {n: json.loads((RETAIL / f"{n}.json").read_text()) for n in STORE_FILES}
    users = dict(list(data["users"].items())[:100])
    orders = {k: o for k, o in data["orders"].items() if o["user_id"] in users}
    files = {"users": users, "orders": orders, "products": data["products"]}
    for name, content in files.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(content), encoding="utf-8")

    def customers(conn):
        from sqlalchemy import MetaData

        meta = MetaData()
        for uid, u in users.items():
            _insert(conn, "customer", meta, id=uid, first_name=u["name"]["first_name"])

    engine = make_engine(f"sqlite:///{tmp_path / 'typed.db'}")
    migrate(engine, "0021_record_amount_texts")
    with engine.begin() as conn:
        customers(conn)
        _typed_rows(conn, files, list(orders))
    migrate(engine)
    records, items = _rows(engine)
    methods = sum(len(u["payment_methods"]) for u in users.values())
    assert len(records) == methods + sum(1 + len(o["items"]) for o in orders.values())
    assert len(items) == 50 + 591  # products and their variants
    fresh = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert (records, items) == _imported(fresh, tmp_path, customers)
