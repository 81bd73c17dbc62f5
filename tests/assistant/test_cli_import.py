"""`rapport import tau-retail` as a real process: the store by its packaged mapping."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlmodel import Session, func, select

from assistant.settings import Settings
from assistant.wiring import Container
from profiles.importers import import_tau_retail
from profiles.models import Consent, CustomerRecord, Order, PaymentMethod
from tests.conftest import RETAIL

OLIVIA = "olivia_ito_3591"


def rapport(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RAPPORT_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    argv = [sys.executable, "-m", "assistant.cli", *args]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)


def _count(engine, model, *where) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def test_the_store_imports_as_records_and_replaces_its_typed_orders(tmp_path: Path) -> None:
    """A store loaded before by the typed importer is loaded again as records: each order
    once (no typed copy beside it), re-running changes nothing, and --no-consent records
    consents as not granted."""
    data = tmp_path / "var"
    engine = Container(Settings(data_dir=data)).engine
    import_tau_retail(engine, RETAIL)
    assert _count(engine, Order, Order.customer_id == OLIVIA) > 0

    r = rapport(data, "import", "tau-retail", str(RETAIL))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("imported 500 customers")
    assert _count(engine, Order) == 0 and _count(engine, PaymentMethod) == 0
    mine = CustomerRecord.customer_id == OLIVIA
    orders = _count(engine, CustomerRecord, mine, CustomerRecord.kind == "order")
    with Session(engine) as s:
        keys = set(s.exec(select(CustomerRecord.key).where(mine)))
    assert "#W5442520" in keys and "credit_card_9753331" in keys and orders == 5
    total = _count(engine, CustomerRecord)
    assert rapport(data, "import", "tau-retail", str(RETAIL)).returncode == 0
    assert _count(engine, CustomerRecord) == total  # re-running never duplicates

    fresh = tmp_path / "fresh"
    r = rapport(fresh, "import", "tau-retail", "--no-consent", str(RETAIL))
    assert r.returncode == 0, r.stderr
    fresh_engine = Container(Settings(data_dir=fresh)).engine
    assert _count(fresh_engine, Consent, Consent.granted == True) == 0  # noqa: E712
    assert _count(fresh_engine, Consent, Consent.customer_id == OLIVIA) == 3
