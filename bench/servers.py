"""Services under test, each in its own subprocess on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    base: str
    start_to_ready_s: float

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the server process has used so far."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start(
    name: str,
    argv: list[str],
    env: dict[str, str],
    port: int,
    log_dir: Path,
    ready_path: str = "/readyz",
    timeout_s: float = 180.0,
) -> Server:
    """Start `argv` and poll GET ready_path until 200; the time that took is recorded."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log = (log_dir / f"{name}.log").open("wb")
    full_env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "ANONYMIZED_TELEMETRY": "False",
        **env,
    }
    t0 = time.perf_counter()
    # From the repository root, so `bench.…` modules import whatever the caller's cwd.
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen(argv, env=full_env, cwd=root, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    server = Server(name, proc, base, 0.0)
    with httpx.Client(timeout=5.0) as client:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}; see {log.name}")
            if time.perf_counter() - t0 > timeout_s:
                server.stop()
                raise RuntimeError(f"{name} not ready after {timeout_s:.0f}s; see {log.name}")
            try:
                if client.get(base + ready_path).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    server.start_to_ready_s = round(time.perf_counter() - t0, 2)
    return server


def python_argv(*args: str) -> list[str]:
    return [sys.executable, *args]


def uvicorn_argv(app: str, port: int, factory: bool = False) -> list[str]:
    argv = ["-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--log-level", "warning", "--no-access-log"]
    return python_argv(*argv, *(["--factory"] if factory else []))


def rapport_serve_argv(port: int) -> list[str]:
    """`rapport serve` itself, from the venv the benchmark runs in."""
    exe = Path(sys.executable).with_name("rapport")
    return [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port)]
