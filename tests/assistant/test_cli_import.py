"""`rapport import tau-retail` as a real process: the store by its packaged mapping."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlmodel import Session, func, select

from assistant.settings import Settings
from assistant.wiring import Container
from profiles.mapping import import_retail
from profiles.models import Consent, CustomerRecord
from tests.conftest import RETAIL

OLIVIA = "olivia_ito_3591"


def rapport(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RAPPORT_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    argv = [sys.executable, "-m", "assistant.cli", *args]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)


def _count(engine, model, *where) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def test_the_store_imports_as_records_and_keeps_what_customers_chose(tmp_path: Path) -> None:
    """The store loads as records: each order once, re-running changes nothing and never
    grants again a consent a customer withdrew; --no-consent records consents as not
    granted for the customers it brings."""
    data = tmp_path / "var"
    r = rapport(data, "import", "tau-retail", str(RETAIL))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("imported 500 customers")
    engine = Container(Settings(data_dir=data)).engine
    mine = CustomerRecord.customer_id == OLIVIA
    orders = _count(engine, CustomerRecord, mine, CustomerRecord.kind == "order")
    with Session(engine) as s:
        keys = set(s.exec(select(CustomerRecord.key).where(mine)))
        # Olivia withdraws her history consent after the first import
        history = s.exec(
            select(Consent).where(Consent.customer_id == OLIVIA, Consent.purpose == "history")
        ).one()
        history.granted = False
        s.add(history)
        s.commit()
    assert "#W5442520" in keys and "credit_card_9753331" in keys and orders == 5
    total = _count(engine, CustomerRecord)
    assert rapport(data, "import", "tau-retail", str(RETAIL)).returncode == 0
    assert _count(engine, CustomerRecord) == total  # re-running never duplicates
    granted = Consent.customer_id == OLIVIA, Consent.granted == True  # noqa: E712
    assert _count(engine, Consent, *granted) == 2  # still withdrawn
    import_retail(engine, RETAIL)  # the same through the API of the importer
    assert _count(engine, Consent, *granted) == 2

    fresh = tmp_path / "fresh"
    r = rapport(fresh, "import", "tau-retail", "--no-consent", str(RETAIL))
    assert r.returncode == 0, r.stderr
    fresh_engine = Container(Settings(data_dir=fresh)).engine
    assert _count(fresh_engine, Consent, Consent.granted == True) == 0  # noqa: E712
    assert _count(fresh_engine, Consent, Consent.customer_id == OLIVIA) == 3
