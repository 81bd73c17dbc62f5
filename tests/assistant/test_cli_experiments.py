"""The experiments commands, run as the module a user runs (`python -m assistant.cli`) and
as the installed `rapport` entry point, on real data."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from assistant.types import TurnRequest
from profiles.conversations import FeedbackStore
from tests.conftest import backend_env

SPEC = (
    "experiments:\n  - id: depth\n    description: how many passages\n    variants:\n"
    "      - {name: control, weight: 1}\n      - {name: kb3, weight: 1, kb_top_k: 3}\n"
)


def _run(argv: list[str], container, spec) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "RAPPORT_EXPERIMENTS_FILE": str(spec),
        **backend_env(container.settings),
    }
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)


def test_experiments_list_and_report_as_a_module_and_as_rapport(make_container, tmp_path) -> None:
    spec = tmp_path / "experiments.yaml"
    spec.write_text(SPEC)
    c = make_container(experiments_file=spec)
    store = FeedbackStore(c.engine)
    for i, cid in enumerate(["olivia_ito_3591", "omar_lopez_3107", "james_kim_7213"]):
        r = c.assistant.turn(TurnRequest(customer_id=cid, message="How do returns work?"))
        store.add(r.turn_id, 5 - i, True, None)
    c.assistant.drain()
    module = [sys.executable, "-m", "assistant.cli"]
    listed = _run([*module, "experiments", "list"], c, spec)
    assert listed.returncode == 0, listed.stderr
    assert "depth [enabled]: control (1), kb3 (1). how many passages" in listed.stdout
    report = _run([*module, "experiments", "report", "depth", "--json"], c, spec)
    assert report.returncode == 0, report.stderr
    body = json.loads(report.stdout)
    assert sum(v["turns"] for v in body["variants"]) == 3
    unknown = _run([*module, "experiments", "report", "nope"], c, spec)
    assert unknown.returncode == 2 and len(unknown.stderr.strip().splitlines()) == 1
    entry = shutil.which("rapport") or os.path.join(os.path.dirname(sys.executable), "rapport")
    again = _run([entry, "experiments", "list"], c, spec)
    assert again.returncode == 0 and "depth" in again.stdout
