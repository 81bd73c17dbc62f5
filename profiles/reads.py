"""The rows a support turn reads about one customer, and the statements that select them.

The rows are only read, so they come back as named tuples rather than ORM objects, and
the statements are built once, with the customer id bound per call: building statements
and ORM objects took more of a turn's CPU than running its queries. Every statement is
selected by customer id at the query (or by product id, for the shared catalog)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, select

from profiles.models import (
    Consent,
    Customer,
    CustomerRecord,
    Event,
    Fulfillment,
    HistoryItem,
    Order,
    OrderItem,
    OrderPayment,
    PaymentMethod,
    Product,
    ProductVariant,
    ReferenceItem,
)


class CustomerRow(NamedTuple):
    id: str
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    locale: str
    timezone: str
    plan: str | None
    region: str | None
    address1: str | None
    address2: str | None
    city: str | None
    state: str | None
    zip: str | None
    country: str | None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class PaymentMethodRow(NamedTuple):
    id: str
    source: str
    brand: str | None
    last_four: str | None
    balance: float | None


class OrderRow(NamedTuple):
    id: str
    status: str
    address: dict[str, Any]
    created_at: datetime


class ItemRow(NamedTuple):
    order_id: str
    item_id: str
    product_id: str
    name: str
    price: float
    options: dict[str, Any]


class FulfillmentRow(NamedTuple):
    order_id: str
    tracking_ids: list[str]
    item_ids: list[str]


class PaymentRow(NamedTuple):
    order_id: str
    transaction_type: str
    amount: float
    payment_method_id: str


class VariantRow(NamedTuple):
    product_id: str
    item_id: str
    options: dict[str, Any]
    price: float


def _select(model: type[SQLModel], fields: tuple[str, ...]) -> sa.Select[Any]:
    """A select of the model's columns named by a row type's fields, in their order."""
    return sa.select(*(col(getattr(model, name)) for name in fields))


_CUSTOMER: sa.BindParameter[str] = sa.bindparam("customer_id")
_CUSTOMER_AND_CONSENTS = (
    _select(Customer, CustomerRow._fields)
    .add_columns(col(Consent.purpose), col(Consent.granted))
    .outerjoin(Consent, col(Consent.customer_id) == col(Customer.id))
    .where(col(Customer.id) == _CUSTOMER)
)
_PAYMENT_METHODS = _select(PaymentMethod, PaymentMethodRow._fields).where(
    col(PaymentMethod.customer_id) == _CUSTOMER
)
_ORDERS = (
    _select(Order, OrderRow._fields)
    .where(col(Order.customer_id) == _CUSTOMER)
    .order_by(col(Order.seq).desc(), col(Order.id))
)


def _of_orders(model: Any, fields: tuple[str, ...]) -> sa.Select[Any]:
    """The rows of `model` (an order's items, shipments, payments) for all of the
    customer's orders, in id order."""
    return (
        _select(model, fields)
        .join(Order, col(Order.id) == col(model.order_id))
        .where(col(Order.customer_id) == _CUSTOMER)
        .order_by(col(model.id))
    )


_ITEMS = _of_orders(OrderItem, ItemRow._fields)
_FULFILLMENTS = _of_orders(Fulfillment, FulfillmentRow._fields)
_PAYMENTS = _of_orders(OrderPayment, PaymentRow._fields)
_VARIANTS = (
    _select(ProductVariant, VariantRow._fields)
    .add_columns(col(Product.name))
    .join(Product, col(Product.id) == col(ProductVariant.product_id))
    .where(
        col(ProductVariant.product_id).in_(sa.bindparam("product_ids", expanding=True)),
        col(ProductVariant.available).is_(True),
    )
)
_RECENT_EVENTS = (
    sa.select(col(Event.type))
    .where(col(Event.customer_id) == _CUSTOMER, col(Event.created_at) >= sa.bindparam("since"))
    .order_by(col(Event.created_at).desc())
    .limit(sa.bindparam("most"))
)
_HISTORY_IDS = (
    sa.select(col(HistoryItem.id))
    .where(col(HistoryItem.customer_id) == _CUSTOMER)
    .order_by(col(HistoryItem.created_at).desc())
    .limit(sa.bindparam("most"))
)


@dataclass(frozen=True)
class CustomerRead:
    """The customer row and its consents, as one read found them."""

    customer: CustomerRow
    consents: Mapping[str, bool]


def read_customer(s: Session, customer_id: str) -> CustomerRead | None:
    """The customer and its consents in one query; None when the id is unknown."""
    rows = s.connection().execute(_CUSTOMER_AND_CONSENTS, {"customer_id": customer_id}).all()
    if not rows:
        return None
    consents = {r.purpose: r.granted for r in rows if r.purpose is not None}
    return CustomerRead(CustomerRow._make(rows[0][: len(CustomerRow._fields)]), consents)


def read_payment_methods(s: Session, customer_id: str) -> list[PaymentMethodRow]:
    rows = s.connection().execute(_PAYMENT_METHODS, {"customer_id": customer_id})
    return [PaymentMethodRow._make(r) for r in rows]


@dataclass
class Orders:
    """A customer's orders, newest first, with their items, shipments and payments."""

    orders: list[OrderRow]
    items: dict[str, list[ItemRow]] = field(default_factory=lambda: defaultdict(list))
    fulfils: dict[str, list[FulfillmentRow]] = field(default_factory=lambda: defaultdict(list))
    pays: dict[str, list[PaymentRow]] = field(default_factory=lambda: defaultdict(list))

    def payments(self) -> list[PaymentRow]:
        """Every payment and refund of the orders."""
        return [p for o in self.orders for p in self.pays[o.id]]


def read_orders(s: Session, customer_id: str) -> Orders:
    """The customer's orders with their items, shipments and payments (four queries, or
    one for a customer without orders)."""
    conn = s.connection()
    params = {"customer_id": customer_id}
    out = Orders([OrderRow._make(r) for r in conn.execute(_ORDERS, params)])
    if out.orders:
        for it in conn.execute(_ITEMS, params):
            out.items[it.order_id].append(ItemRow._make(it))
        for f in conn.execute(_FULFILLMENTS, params):
            out.fulfils[f.order_id].append(FulfillmentRow._make(f))
        for p in conn.execute(_PAYMENTS, params):
            out.pays[p.order_id].append(PaymentRow._make(p))
    return out


def read_available_variants(
    s: Session, product_ids: list[str]
) -> tuple[dict[str, list[VariantRow]], dict[str, str]]:
    """The available variants of the products by product id, and the products' names."""
    variants: dict[str, list[VariantRow]] = defaultdict(list)
    names: dict[str, str] = {}
    for r in s.connection().execute(_VARIANTS, {"product_ids": product_ids}):
        variants[r.product_id].append(VariantRow._make(r[: len(VariantRow._fields)]))
        names[r.product_id] = r.name
    return variants, names


def read_recent_events(s: Session, customer_id: str, since: datetime, most: int) -> list[str]:
    """The types of the customer's events since `since`, newest first, at most `most`."""
    params = {"customer_id": customer_id, "since": since, "most": most}
    return list(s.connection().execute(_RECENT_EVENTS, params).scalars())


_RECORDS = (
    select(CustomerRecord)
    .where(col(CustomerRecord.customer_id) == _CUSTOMER)
    .order_by(col(CustomerRecord.at).desc().nulls_last(), col(CustomerRecord.id).desc())
)


def read_records(s: Session, customer_id: str) -> list[CustomerRecord]:
    """The customer's records of every kind, newest first (undated ones last)."""
    return list(s.exec(_RECORDS, params={"customer_id": customer_id}))


def read_history_ids(s: Session, customer_id: str, most: int) -> list[str]:
    """The ids of the customer's newest history items, at most `most`."""
    params = {"customer_id": customer_id, "most": most}
    return list(s.connection().execute(_HISTORY_IDS, params).scalars())


def read_reference_parts(
    s: Session, wholes: list[tuple[str, str]]
) -> tuple[dict[tuple[str, str], ReferenceItem], dict[str, list[ReferenceItem]]]:
    """The reference items `wholes` names by (name, key), and the offered items that are
    part of each ("product:9523456873" → its variants in stock), by key order."""
    if not wholes:
        return {}, {}
    keys = {k for _, k in wholes}
    found = s.exec(select(ReferenceItem).where(col(ReferenceItem.key).in_(keys)))
    items = {(i.name, i.key): i for i in found if (i.name, i.key) in set(wholes)}
    names = [f"{n}:{k}" for n, k in items]
    parts: dict[str, list[ReferenceItem]] = {}
    query = (
        select(ReferenceItem)
        .where(col(ReferenceItem.part_of).in_(names), col(ReferenceItem.offered))
        .order_by(col(ReferenceItem.key))
    )
    for p in s.exec(query):
        parts.setdefault(p.part_of or "", []).append(p)
    return items, parts
