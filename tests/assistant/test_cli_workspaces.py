"""`rapport workspace …` and `--workspace` as real processes on the demo data: a third
business onboarded from its own file by a mapping, then asked a question; nothing of it
reaches the default workspace."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import rapport_cli

MAPPING = """\
version: 1
customers:
  at: members
  id: number
  name: full_name
  fields: {email: mail, city: town}
"""


def test_create_import_ask_and_show_a_workspace(make_container, tmp_path: Path):
    c = make_container()
    made = rapport_cli(c, "workspace", "create", "gym", "--brand", "Northside Gym")
    assert made.returncode == 0, made.stderr
    printed = dict(
        re.findall(r"^\s+(agent key|admin key|widget secret)\s+(\S+)$", made.stdout, re.M)
    )
    assert printed["agent key"].startswith("agent-") and printed["admin key"].startswith("admin-")
    kept = (c.settings.data_dir / "workspaces" / "gym" / "workspace.yaml").read_text()
    assert printed["agent key"] not in kept and printed["admin key"] not in kept  # digests only
    listed = json.loads(rapport_cli(c, "workspace", "list", "--json").stdout)
    assert [w["name"] for w in listed] == ["default", "gym"]
    assert listed[1]["brand"] == "Northside Gym"
    # no secret is shown again: digests only, counted
    shown = json.loads(rapport_cli(c, "workspace", "show", "gym", "--json").stdout)
    assert shown["agent_keys"] == 1 and shown["admin_keys"] == 1
    assert shown["widget_secret"] == "set" and printed["widget secret"] not in json.dumps(shown)

    (tmp_path / "members.json").write_text(
        json.dumps({"members": [{"number": "G-7", "full_name": "Rosa Parks", "town": "Tuskegee"}]})
    )
    (tmp_path / "gym.yaml").write_text(MAPPING)
    imported = rapport_cli(
        c,
        "import",
        "files",
        "--workspace",
        "gym",
        "--mapping",
        str(tmp_path / "gym.yaml"),
        str(tmp_path / "members.json"),
    )
    assert imported.returncode == 0, imported.stderr
    said = "imported 1 customers (1 new), 0 records and 0 reference items into workspace gym"
    assert said in imported.stdout
    doc = tmp_path / "hours.md"
    doc.write_text("# Opening hours\n\nThe gym is open from 6 am to 11 pm every day.\n")
    assert rapport_cli(c, "ingest", "-w", "gym", str(doc)).returncode == 0

    asked = rapport_cli(c, "ask", "-w", "gym", "-c", "G-7", "--json", "when are you open?")
    assert asked.returncode == 0, asked.stderr
    turn = json.loads(asked.stdout)
    assert "6 am to 11 pm" in turn["answer"] and "Rosa" in turn["answer"]
    # The store (default) knows neither the member nor the gym's hours.
    elsewhere = rapport_cli(c, "ask", "-c", "G-7", "when are you open?")
    assert elsewhere.returncode == 2 and "unknown customer" in elsewhere.stderr
    export = rapport_cli(c, "privacy", "export", "-w", "gym", "-c", "G-7")
    assert json.loads(export.stdout)["customer"]["city"] == "Tuskegee"


def test_unknown_or_bad_workspaces_are_one_line_and_exit_2(make_container):
    c = make_container()
    for argv, says in [
        (["ask", "-w", "nosuch", "-c", "x", "hi"], "error: unknown workspace 'nosuch'"),
        (["workspace", "show", "nosuch"], "error: unknown workspace 'nosuch'"),
        (["workspace", "create", "Not Valid"], "error: a workspace name is 1-32 lower-case"),
    ]:
        done = rapport_cli(c, *argv)
        assert done.returncode == 2, (argv, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith(says)
    assert rapport_cli(c, "workspace", "create", "twice").returncode == 0
    again = rapport_cli(c, "workspace", "create", "twice")
    assert again.returncode == 2 and "exists already" in again.stderr


def test_a_business_onboarded_into_its_own_workspace_is_served_without_the_store(
    tmp_path: Path,
) -> None:
    """`rapport serve` on a data folder holding only a new business's workspace (no store
    in `default`) serves it; with no business's data at all it says how to import one."""
    import pytest

    from assistant.errors import DataDirMissing
    from assistant.settings import Settings
    from assistant.wiring import Workspaces
    from profiles.admin import CustomerIn, upsert_customer
    from profiles.workspaces import Registry

    settings = Settings(data_dir=tmp_path, database_url=None)
    with pytest.raises(DataDirMissing, match="import a business first"):
        Workspaces.from_settings(settings).require_data()
    Registry(tmp_path).create("gym")
    assert not (tmp_path / "rapport.db").exists()
    upsert_customer(Workspaces.from_settings(settings).get("gym").engine, "G-7", CustomerIn())
    Workspaces.from_settings(settings).require_data()  # the gym's own data: served
    assert not (tmp_path / "rapport.db").exists()  # nothing made up for the store


def test_an_import_says_what_may_be_a_mistake_and_refuses_what_is_one(
    make_container, tmp_path: Path
) -> None:
    """A status the mapping names that no record is in is a warning on stderr (exit 0,
    `--no-warnings` to keep quiet); a path no record holds is one line and exit 2, with
    nothing written."""
    c = make_container()
    assert rapport_cli(c, "workspace", "create", "gym").returncode == 0
    (tmp_path / "m.csv").write_text("nr,name\nG-1,Ana Lima\n")
    (tmp_path / "p.csv").write_text("id,member,state\nP-1,G-1,active\n")
    spec = (
        "customers: {file: m.csv, id: nr, name: name}\n"
        "records: [{kind: pass, file: p.csv, id: id, customer: member, status: state,"
        " open: [frozen]}]\n"
    )
    (tmp_path / "gym.yaml").write_text(spec)
    files = [str(tmp_path / "m.csv"), str(tmp_path / "p.csv")]
    args = ["import", "files", "-w", "gym", "--mapping", str(tmp_path / "gym.yaml"), *files]
    done = rapport_cli(c, *args)
    assert done.returncode == 0, done.stderr
    assert "warning: p.csv: pass: no item is in 'frozen' (open)" in done.stderr
    assert "warning" not in rapport_cli(c, *args, "--no-warnings").stderr
    (tmp_path / "gym.yaml").write_text(spec.replace("status: state", "status: sate"))
    bad = rapport_cli(c, *args)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    said = [line for line in bad.stderr.splitlines() if line.strip()]
    assert len(said) == 1 and "p.csv: pass: status: 'sate' reads nothing" in said[0], said
