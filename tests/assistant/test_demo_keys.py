"""`serve --demo` keeps its widget secret and keys in the data dir: a restart serves the
same ones, so a customer's widget and an agent's page keep working."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import time

import httpx

from tests.conftest import backend_env, free_port


def _serve_once(container) -> dict[str, str]:
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **backend_env(container.settings)}
    for name in ("RAPPORT_WIDGET_SECRET", "RAPPORT_AGENT_KEYS", "RAPPORT_ADMIN_KEYS"):
        env.pop(name, None)
    argv = [sys.executable, "-m", "assistant.cli", "serve", "--demo", "--port", str(port)]
    proc = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        key = httpx.get(f"http://127.0.0.1:{port}/demo/agent-key", timeout=10).json()["key"]
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=30)
    printed = dict(re.findall(r"^\s+(widget secret|agent key|admin key)\s+(\S+)$", output, re.M))
    return {**printed, "served agent key": key}


def test_demo_keys_survive_a_restart(make_container) -> None:
    container = make_container()
    first = _serve_once(container)
    second = _serve_once(container)
    assert first["agent key"].startswith("agent-") and len(first["widget secret"]) == 32
    assert first == second  # the same secret and keys after a restart
    assert first["served agent key"] == first["agent key"]
    path = container.settings.data_dir / "demo-keys.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
