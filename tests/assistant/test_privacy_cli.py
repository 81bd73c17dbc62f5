"""`rapport privacy …` as a real process on a private copy of the demo data."""

from __future__ import annotations

import json
import subprocess

from assistant.types import TurnRequest
from tests.conftest import rapport_cli
from tests.stores import stored_items, tag_of

OLIVIA = "olivia_ito_3591"
PARROT = "My parrot Captain Feathers chewed the charger cable of my order"


def run(container, *args: str) -> subprocess.CompletedProcess[str]:
    return rapport_cli(container, "privacy", *args)


def one_error_line(r: subprocess.CompletedProcess[str], expected: str) -> None:
    assert r.returncode == 2, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], r.stderr


def test_privacy_commands(make_container, tmp_path):
    c = make_container()
    c.assistant.turn(TurnRequest(customer_id=OLIVIA, message=PARROT))
    c.assistant.drain()

    out = tmp_path / "olivia.json"
    r = run(c, "export", "--customer", OLIVIA, "--out", str(out))
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text())
    assert doc["customer"]["id"] == OLIVIA
    assert [v["text"] for v in doc["vector_store"]] == [PARROT]
    assert PARROT in [m["text"] for m in doc["conversations"][0]["messages"]]
    one_error_line(
        run(c, "export", "-c", OLIVIA, "--out", str(tmp_path / "no" / "x.json")), "cannot write"
    )

    one_error_line(run(c, "erase", "--customer", "nobody_0000"), "unknown customer 'nobody_0000'")
    tag = tag_of(c, OLIVIA)
    r = run(c, "erase", "--customer", OLIVIA)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"erased customer {OLIVIA}:") and "1 vectors" in r.stdout
    assert stored_items(c, OLIVIA, tag) == []
    r = run(c, "erase", "--customer", OLIVIA)
    assert r.returncode == 0 and "already erased" in r.stdout

    one_error_line(run(c, "purge", "--older-than-days", "-1"), "older-than-days must be 0 to")
    r = run(c, "purge", "--older-than-days", "30", "--dry-run", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["dry_run"] is True

    r = run(c, "audit", "--customer", OLIVIA, "--json")
    rows = json.loads(r.stdout)
    assert [(x["action"], x["outcome"], x["actor"]) for x in rows if x["actor"] != "import"] == [
        ("erase", "already_erased", "cli"),
        ("erase", "erased", "cli"),
        ("export", "exported", "cli"),
    ]
    r = run(c, "audit")
    assert r.returncode == 0 and "purge  -  dry_run" in r.stdout
