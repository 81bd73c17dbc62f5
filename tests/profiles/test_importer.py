"""The τ-retail store as its packaged mapping imports it (the only way it is loaded), and
the folder check `rapport import tau-retail` runs before anything is written."""

import json
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from profiles.importers import ImportError_, read_tau_retail
from profiles.mapping import import_retail
from profiles.models import Consent, Customer, CustomerRecord, ReferenceItem
from tests.conftest import RETAIL


def _count(engine, model, *where) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def _record(s: Session, kind: str, key: str) -> CustomerRecord:
    found = s.exec(
        select(CustomerRecord).where(CustomerRecord.kind == kind, CustomerRecord.key == key)
    ).one_or_none()
    assert found is not None, f"no {kind} {key}"
    return found


def test_import_real_data_counts_and_details(retail_engine):
    users = json.loads((RETAIL / "users.json").read_text())
    orders = json.loads((RETAIL / "orders.json").read_text())
    products = json.loads((RETAIL / "products.json").read_text())
    assert _count(retail_engine, Customer) == len(users)
    assert _count(retail_engine, CustomerRecord, col(CustomerRecord.kind) == "order") == len(orders)
    n_items = sum(len(o["items"]) for o in orders.values())
    assert _count(retail_engine, CustomerRecord, col(CustomerRecord.kind) == "order_line") == (
        n_items
    )
    n_variants = sum(len(p["variants"]) for p in products.values())
    assert _count(retail_engine, ReferenceItem, col(ReferenceItem.name) == "product_item") == (
        n_variants
    )
    with Session(retail_engine) as s:
        c = s.get(Customer, "noah_brown_6181")
        assert c is not None and c.name == "Noah Brown" and c.zip == "80279"
        pm = _record(s, "payment_method", "credit_card_7815826")
        assert pm.customer_id == "noah_brown_6181" and "9212" in pm.text
        o = _record(s, "order", "#W2611340")
        assert o.status == "processed" and o.customer_id == "james_li_5688"
        assert o.amount == 536.65 and o.links["payment_method"] == "gift_card_1725971"
        assert "Water Bottle" in o.text and "Office Chair" in o.text
        line = _record(s, "order_line", "#W2611340/0")
        assert line.links == {"order": "#W2611340", "product": "8310926033"}
        v = s.exec(select(ReferenceItem).where(ReferenceItem.key == "9612497925")).one()
        assert v.fields["options"]["color"] == "blue" and v.part_of == "product:9523456873"
        consents = s.exec(select(Consent).where(Consent.customer_id == "noah_brown_6181")).all()
        assert {c.purpose for c in consents if c.granted} == {
            "personalization",
            "history",
            "analytics",
        }


def test_reimport_does_not_duplicate(engine):
    import_retail(engine, RETAIL)
    counts = [_count(engine, m) for m in (Customer, CustomerRecord, Consent, ReferenceItem)]
    import_retail(engine, RETAIL)
    assert [_count(engine, m) for m in (Customer, CustomerRecord, Consent, ReferenceItem)] == (
        counts
    )


def test_malformed_dataset_is_refused_before_any_write(tmp_path: Path):
    for name in ("users.json", "products.json"):
        (tmp_path / name).write_text((RETAIL / name).read_text())
    (tmp_path / "orders.json").write_text('{"#W1": {"user_id": "nobody", "items": [], ')
    with pytest.raises(ImportError_, match="not valid JSON"):
        read_tau_retail(tmp_path)
    (tmp_path / "orders.json").write_text(
        '{"#W1": {"user_id": "nobody_1", "items": [], "status": "pending"}}'
    )
    with pytest.raises(ImportError_, match="unknown user nobody_1"):
        read_tau_retail(tmp_path)


def test_missing_file_is_named(tmp_path: Path):
    with pytest.raises(ImportError_, match="missing file: .*users.json"):
        read_tau_retail(tmp_path)
