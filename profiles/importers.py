"""Importers of customer data sets into Rapport's tables."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from profiles.db import session_scope
from profiles.models import (
    PURPOSES,
    Consent,
    Customer,
    Fulfillment,
    Order,
    OrderItem,
    OrderPayment,
    PaymentMethod,
    Product,
    ProductVariant,
)


class ImportError_(ValueError):
    """A data set is missing a file or holds something malformed."""


@dataclass(frozen=True)
class ImportReport:
    customers: int
    orders: int
    products: int
    variants: int


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ImportError_(f"missing file: {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ImportError_(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}") from exc
    if not isinstance(data, dict):
        raise ImportError_(f"{path} should hold a JSON object keyed by id")
    return data


def _require(record: dict[str, Any], keys: Iterable[str], where: str) -> None:
    missing = [k for k in keys if k not in record]
    if missing:
        raise ImportError_(f"{where} lacks {', '.join(missing)}")


@dataclass(frozen=True)
class TauRetail:
    """A validated τ-bench retail data set, read fully before anything is written."""

    users: dict[str, Any]
    orders: dict[str, Any]
    products: dict[str, Any]

    @property
    def size(self) -> int:
        """Units of progress an import reports: one per user, order and product."""
        return len(self.users) + len(self.orders) + len(self.products)


def read_tau_retail(data_dir: Path) -> TauRetail:
    """Read and validate users/orders/products.json; ImportError_ names what is wrong."""
    if not data_dir.is_dir():
        raise ImportError_(f"not a directory: {data_dir}")
    users = _read_json(data_dir / "users.json")
    orders = _read_json(data_dir / "orders.json")
    products = _read_json(data_dir / "products.json")
    for uid, u in users.items():
        _require(u, ("name", "address", "email", "payment_methods"), f"user {uid}")
    for oid, o in orders.items():
        _require(o, ("user_id", "items", "status"), f"order {oid}")
        if o["user_id"] not in users:
            raise ImportError_(f"order {oid} belongs to unknown user {o['user_id']}")
    for pid, p in products.items():
        _require(p, ("name", "variants"), f"product {pid}")
    return TauRetail(users, orders, products)


def import_tau_retail(
    engine: Engine,
    source: Path | TauRetail,
    *,
    grant_consent: bool = True,
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Load τ-bench retail users, orders and products; re-running it replaces, never duplicates.

    Every file is read and validated before anything is written, so a malformed data
    set leaves the database as it was."""
    data = source if isinstance(source, TauRetail) else read_tau_retail(source)
    users, orders, products = data.users, data.orders, data.products

    seq_of = {oid: i for u in users.values() for i, oid in enumerate(u.get("orders", []))}
    n_variants = 0
    with session_scope(engine) as s:
        for pid, p in products.items():
            s.merge(Product(id=pid, name=p["name"]))
        s.flush()
        for p in products.values():
            for vid, v in p["variants"].items():
                s.merge(
                    ProductVariant(
                        item_id=vid,
                        product_id=p["product_id"],
                        options=v.get("options", {}),
                        available=bool(v.get("available", True)),
                        price=float(v.get("price", 0.0)),
                    )
                )
                n_variants += 1
        if on_progress:
            on_progress(len(products))
        for uid, u in users.items():
            _upsert_user(s, uid, u, grant_consent)
            if on_progress:
                on_progress(1)
        s.flush()
        order_ids = list(orders)
        for table in (OrderItem, Fulfillment, OrderPayment):
            s.exec(delete(table).where(table.order_id.in_(order_ids)))  # type: ignore[attr-defined,call-overload]
        for oid, o in orders.items():
            s.merge(
                Order(
                    id=oid,
                    customer_id=o["user_id"],
                    status=o["status"],
                    address=o.get("address", {}),
                    seq=seq_of.get(oid, 0),
                )
            )
        s.flush()
        for oid, o in orders.items():
            _insert_order_lines(s, oid, o)
            if on_progress:
                on_progress(1)
    return ImportReport(len(users), len(orders), len(products), n_variants)


def _upsert_user(s: Session, uid: str, u: dict[str, Any], grant_consent: bool) -> None:
    addr = u["address"]
    s.merge(
        Customer(
            id=uid,
            first_name=u["name"].get("first_name", ""),
            last_name=u["name"].get("last_name", ""),
            email=u["email"],
            address1=addr.get("address1"),
            address2=addr.get("address2"),
            city=addr.get("city"),
            state=addr.get("state"),
            zip=addr.get("zip"),
            country=addr.get("country"),
            region=addr.get("state"),
        )
    )
    for pm_id, pm in u["payment_methods"].items():
        s.merge(
            PaymentMethod(
                id=pm_id,
                customer_id=uid,
                source=pm.get("source", "unknown"),
                brand=pm.get("brand"),
                last_four=pm.get("last_four"),
                balance=pm.get("balance"),
            )
        )
    existing = {
        c.purpose
        for c in s.query(Consent).filter(Consent.customer_id == uid)  # type: ignore[arg-type]
    }
    for purpose in PURPOSES:
        if purpose not in existing:
            s.add(Consent(customer_id=uid, purpose=purpose, granted=grant_consent))


def _insert_order_lines(s: Session, oid: str, o: dict[str, Any]) -> None:
    for it in o["items"]:
        s.add(
            OrderItem(
                order_id=oid,
                item_id=it["item_id"],
                product_id=it["product_id"],
                name=it["name"],
                price=float(it["price"]),
                options=it.get("options", {}),
            )
        )
    for f in o.get("fulfillments", []):
        s.add(
            Fulfillment(
                order_id=oid, tracking_ids=f.get("tracking_id", []), item_ids=f.get("item_ids", [])
            )
        )
    for p in o.get("payment_history", []):
        s.add(
            OrderPayment(
                order_id=oid,
                transaction_type=p.get("transaction_type", "payment"),
                amount=float(p.get("amount", 0.0)),
                payment_method_id=p.get("payment_method_id", ""),
            )
        )


def drop_typed_orders(engine: Engine, customer_ids: list[str]) -> int:
    """Delete the typed orders (with their lines, fulfillments and payments) and payment
    methods of `customer_ids`: a demo made when the store loaded through the typed
    importer, now loaded by its mapping as records, would otherwise show each order
    twice. Returns the orders deleted."""
    with session_scope(engine) as s:
        owned = select(Order.__table__.c.id).where(Order.__table__.c.customer_id.in_(customer_ids))  # type: ignore[attr-defined]
        order_ids = list(s.exec(owned).scalars())  # type: ignore[call-overload]
        for table in (OrderItem, Fulfillment, OrderPayment):
            s.exec(delete(table).where(table.order_id.in_(order_ids)))  # type: ignore[attr-defined,call-overload]
        s.exec(delete(Order).where(Order.id.in_(order_ids)))  # type: ignore[attr-defined,call-overload]
        s.exec(delete(PaymentMethod).where(PaymentMethod.customer_id.in_(customer_ids)))  # type: ignore[attr-defined,call-overload]
    return len(order_ids)
