"""The τ-bench retail data set's files checked before its mapping imports them
(`rapport import tau-retail`, profiles/mappings/tau_retail.yaml): a missing file, a
malformed one or an order of an unknown user is named before anything is written."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ImportError_(ValueError):
    """A data set is missing a file or holds something malformed."""


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
