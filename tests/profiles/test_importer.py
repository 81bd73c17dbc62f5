import json
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from profiles.importers import ImportError_, import_tau_retail
from profiles.models import Consent, Customer, Order, OrderItem, PaymentMethod, ProductVariant
from tests.conftest import RETAIL


def _count(engine, model) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_import_real_data_counts_and_details(retail_engine):
    users = json.loads((RETAIL / "users.json").read_text())
    orders = json.loads((RETAIL / "orders.json").read_text())
    assert _count(retail_engine, Customer) == len(users)
    assert _count(retail_engine, Order) == len(orders)
    n_items = sum(len(o["items"]) for o in orders.values())
    assert _count(retail_engine, OrderItem) == n_items
    with Session(retail_engine) as s:
        c = s.get(Customer, "noah_brown_6181")
        assert c is not None and c.name == "Noah Brown" and c.zip == "80279"
        pm = s.get(PaymentMethod, "credit_card_7815826")
        assert pm is not None and pm.last_four == "9212" and pm.customer_id == "noah_brown_6181"
        o = s.get(Order, "#W2611340")
        assert o is not None and o.status == "processed" and o.customer_id == "james_li_5688"
        v = s.get(ProductVariant, "9612497925")
        assert v is not None and v.options["color"] == "blue"
        consents = s.exec(select(Consent).where(Consent.customer_id == "noah_brown_6181")).all()
        assert {c.purpose for c in consents if c.granted} == {
            "personalization",
            "history",
            "analytics",
        }


def test_reimport_does_not_duplicate(engine):
    import_tau_retail(engine, RETAIL)
    counts = [_count(engine, m) for m in (Customer, Order, OrderItem, Consent, ProductVariant)]
    import_tau_retail(engine, RETAIL)
    assert [_count(engine, m) for m in (Customer, Order, OrderItem, Consent, ProductVariant)] == (
        counts
    )


def test_malformed_dataset_is_refused_before_any_write(engine, tmp_path: Path):
    for name in ("users.json", "products.json"):
        (tmp_path / name).write_text((RETAIL / name).read_text())
    (tmp_path / "orders.json").write_text('{"#W1": {"user_id": "nobody", "items": [], ')
    with pytest.raises(ImportError_, match="not valid JSON"):
        import_tau_retail(engine, tmp_path)
    (tmp_path / "orders.json").write_text(
        '{"#W1": {"user_id": "nobody_1", "items": [], "status": "pending"}}'
    )
    with pytest.raises(ImportError_, match="unknown user nobody_1"):
        import_tau_retail(engine, tmp_path)
    assert _count(engine, Customer) == 0


def test_missing_file_is_named(engine, tmp_path: Path):
    with pytest.raises(ImportError_, match="missing file: .*users.json"):
        import_tau_retail(engine, tmp_path)
