"""typed orders, payment methods and products become records and reference items, as the
τ-retail mapping imports them, and their tables go; a downgrade recreates the tables
empty (the records and reference items stay)

The typed rows are written back into the data set's files (users.json with each
customer's payment methods and orders, orders.json, products.json) and imported by
`profiles/mappings/tau_retail.yaml` without its customers section: customers, their
profiles and their consents are left as they are.

Revision ID: 0022_typed_orders_to_records
Revises: 0021_record_amount_texts
Create Date: 2026-12-07 09:00:00
"""

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.engine import Connection

revision: str = "0022_typed_orders_to_records"
down_revision: str | None = "0021_record_amount_texts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString

# The typed tables as 0001 made them, read with Core: their model classes are gone.
_PRODUCT = sa.table("product", sa.column("id", sa.String), sa.column("name", sa.String))
_VARIANT = sa.table(
    "productvariant",
    sa.column("item_id", sa.String),
    sa.column("product_id", sa.String),
    sa.column("options", sa.JSON),
    sa.column("available", sa.Boolean),
    sa.column("price", sa.Float),
)
_PAYMENT_METHOD = sa.table(
    "paymentmethod",
    sa.column("id", sa.String),
    sa.column("customer_id", sa.String),
    sa.column("source", sa.String),
    sa.column("brand", sa.String),
    sa.column("last_four", sa.String),
    sa.column("balance", sa.Float),
)
_ORDER = sa.table(
    "order",
    sa.column("id", sa.String),
    sa.column("customer_id", sa.String),
    sa.column("status", sa.String),
    sa.column("address", sa.JSON),
    sa.column("seq", sa.Integer),
)
_ITEM = sa.table(
    "orderitem",
    sa.column("id", sa.Integer),
    sa.column("order_id", sa.String),
    sa.column("item_id", sa.String),
    sa.column("product_id", sa.String),
    sa.column("name", sa.String),
    sa.column("price", sa.Float),
    sa.column("options", sa.JSON),
)
_FULFILLMENT = sa.table(
    "fulfillment",
    sa.column("id", sa.Integer),
    sa.column("order_id", sa.String),
    sa.column("tracking_ids", sa.JSON),
    sa.column("item_ids", sa.JSON),
)
_PAYMENT = sa.table(
    "orderpayment",
    sa.column("id", sa.Integer),
    sa.column("order_id", sa.String),
    sa.column("transaction_type", sa.String),
    sa.column("amount", sa.Float),
    sa.column("payment_method_id", sa.String),
)
# children before parents
_TYPED = ("orderpayment", "orderitem", "fulfillment", "order", "paymentmethod")
_TYPED += ("productvariant", "product")


def upgrade() -> None:
    bind = op.get_bind()
    files = _retail_files(bind)
    if files is not None:
        _import(bind, files)
    for name in _TYPED:
        op.drop_table(name)  # its indexes go with it, on SQLite and PostgreSQL alike


def _retail_files(bind: Connection) -> dict[str, dict[str, Any]] | None:
    """users.json, orders.json and products.json as τ-retail writes them, made of the
    typed rows; None when there are none."""

    def rows(table: Any, *order: Any) -> list[Any]:
        return list(bind.execute(sa.select(table).order_by(*order)).mappings())

    c = _ORDER.c
    orders = rows(_ORDER, c.customer_id, c.seq, c.id)  # each customer's, oldest first
    methods = rows(_PAYMENT_METHOD, _PAYMENT_METHOD.c.customer_id, _PAYMENT_METHOD.c.id)
    products = rows(_PRODUCT, _PRODUCT.c.id)
    variants = rows(_VARIANT, _VARIANT.c.product_id, _VARIANT.c.item_id)
    if not (orders or methods or products or variants):
        return None

    def of_order(table: Any) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {}
        for row in rows(table, table.c.order_id, table.c.id):
            out.setdefault(row["order_id"], []).append(row)
        return out

    items, fulfillments, payments = of_order(_ITEM), of_order(_FULFILLMENT), of_order(_PAYMENT)
    owners = sorted({r["customer_id"] for r in orders} | {r["customer_id"] for r in methods})
    users: dict[str, Any] = {uid: {"payment_methods": {}, "orders": []} for uid in owners}
    for m in methods:
        method: dict[str, Any] = {"source": m["source"]}
        for name in ("brand", "last_four", "balance"):  # as the data set: none, no key
            if m[name] is not None:
                method[name] = m[name]
        users[m["customer_id"]]["payment_methods"][m["id"]] = method | {"id": m["id"]}
    order_files: dict[str, Any] = {}
    for o in orders:
        users[o["customer_id"]]["orders"].append(o["id"])
        order_files[o["id"]] = {
            "order_id": o["id"],
            "user_id": o["customer_id"],
            "address": o["address"] or {},
            "items": [
                {
                    "name": i["name"],
                    "product_id": i["product_id"],
                    "item_id": i["item_id"],
                    "price": i["price"],
                    "options": i["options"] or {},
                }
                for i in items.get(o["id"], [])
            ],
            "fulfillments": [
                {"tracking_id": f["tracking_ids"] or [], "item_ids": f["item_ids"] or []}
                for f in fulfillments.get(o["id"], [])
            ],
            "status": o["status"],
            "payment_history": [
                {
                    "transaction_type": p["transaction_type"],
                    "amount": p["amount"],
                    "payment_method_id": p["payment_method_id"],
                }
                for p in payments.get(o["id"], [])
            ],
        }
    catalog: dict[str, Any] = {
        p["id"]: {"name": p["name"], "product_id": p["id"], "variants": {}} for p in products
    }
    for v in variants:  # a variant whose product row is missing keeps its product's id
        whole = catalog.setdefault(v["product_id"], {"product_id": v["product_id"]})
        whole.setdefault("variants", {})[v["item_id"]] = {
            "item_id": v["item_id"],
            "options": v["options"] or {},
            "available": v["available"],
            "price": v["price"],
        }
    return {"users": users, "orders": order_files, "products": catalog}


def _import(bind: Connection, files: dict[str, dict[str, Any]]) -> None:
    """Import the files by the τ-retail mapping without its customers: a customer's
    profile and consents stay as they are. The rows are written with Core, in the
    columns the tables have at this revision (a later one may add more: a database
    upgraded from before this one runs this step before that column exists); a record
    or item already stored under the same key is kept."""
    from sqlmodel import Session

    from profiles.mapping import RETAIL_MAPPING, load_mapping, mapped, retail_files

    mapping = load_mapping(RETAIL_MAPPING).model_copy(update={"customers": None})
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in files.items():
            (Path(tmp) / f"{name}.json").write_text(json.dumps(data), encoding="utf-8")
        with Session(bind) as s:
            refs, records = mapped(s, mapping, retail_files(Path(tmp)))
    for table_name, group, rows in (
        ("referenceitem", "name", refs),
        ("customerrecord", "kind", records),
    ):
        table = sa.Table(table_name, sa.MetaData(), autoload_with=bind)
        stored = set(bind.execute(sa.select(table.c[group], table.c.key)).tuples())
        columns = [c.name for c in table.columns if c.name != "id"]
        values = [
            {c: getattr(r, c) for c in columns if hasattr(r, c)}
            for r in rows
            if (getattr(r, group), r.key) not in stored
        ]
        if values:
            bind.execute(table.insert(), values)


def downgrade() -> None:
    # The typed tables as 0001 made them, empty: the records and reference items stay.
    op.create_table(
        "product",
        sa.Column("id", _STR(), nullable=False),
        sa.Column("name", _STR(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_name"), ["name"], unique=False)

    op.create_table(
        "order",
        sa.Column("id", _STR(), nullable=False),
        sa.Column("customer_id", _STR(), nullable=False),
        sa.Column("status", _STR(), nullable=False),
        sa.Column("address", sa.JSON(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("order", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_order_status"), ["status"], unique=False)

    op.create_table(
        "paymentmethod",
        sa.Column("id", _STR(), nullable=False),
        sa.Column("customer_id", _STR(), nullable=False),
        sa.Column("source", _STR(), nullable=False),
        sa.Column("brand", _STR(), nullable=True),
        sa.Column("last_four", _STR(), nullable=True),
        sa.Column("balance", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("paymentmethod", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_paymentmethod_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "productvariant",
        sa.Column("item_id", _STR(), nullable=False),
        sa.Column("product_id", _STR(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=True),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("price", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["product.id"]),
        sa.PrimaryKeyConstraint("item_id"),
    )
    with op.batch_alter_table("productvariant", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_productvariant_product_id"), ["product_id"], unique=False
        )

    op.create_table(
        "fulfillment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", _STR(), nullable=False),
        sa.Column("tracking_ids", sa.JSON(), nullable=True),
        sa.Column("item_ids", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["order.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("fulfillment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fulfillment_order_id"), ["order_id"], unique=False)

    op.create_table(
        "orderitem",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", _STR(), nullable=False),
        sa.Column("item_id", _STR(), nullable=False),
        sa.Column("product_id", _STR(), nullable=False),
        sa.Column("name", _STR(), nullable=False),
        sa.Column("price", sa.Float(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["order.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("orderitem", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orderitem_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_orderitem_product_id"), ["product_id"], unique=False)

    op.create_table(
        "orderpayment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", _STR(), nullable=False),
        sa.Column("transaction_type", _STR(), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("payment_method_id", _STR(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["order.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("orderpayment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_orderpayment_order_id"), ["order_id"], unique=False)
