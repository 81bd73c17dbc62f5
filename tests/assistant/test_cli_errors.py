"""Bad input on the command line: exit code 2 and one clear line, never a traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

RAPPORT = [sys.executable, "-m", "assistant.cli"]


def run(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RAPPORT_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(RAPPORT + args, capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["ask", "--customer", "x", "hello"], "no data in"),
        (["context", "--customer", "x", "hello"], "no data in"),
        (["import", "tau-retail", "/nonexistent/dir"], "not a directory"),
        (["ingest", "/nonexistent/file.md"], "/nonexistent/file.md"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, args, expected):
    r = run(args, tmp_path / "empty")
    assert r.returncode == 2, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_malformed_dataset_exits_2(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "users.json").write_text("[1, 2")
    r = run(["import", "tau-retail", str(bad)], tmp_path / "data")
    assert r.returncode == 2
    assert r.stderr.strip().startswith("error: ") and "users.json" in r.stderr
    assert "Traceback" not in r.stderr
