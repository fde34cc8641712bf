"""Service processes (api and worker per service) started on loopback, as ops would run them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from shared.settings import BaseServiceSettings
from tests.helpers import free_port

SERVICES = ("goals", "scoring", "incentives")


def process_env(settings: BaseServiceSettings) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("QUOTIENT_", "DATABASE_", "KAFKA_"))
    }
    env.update(
        {
            "QUOTIENT_ENV": settings.env.value,
            "DATABASE_URL": settings.database_url or "",
            "DATABASE_OWNER_URL": settings.database_owner_url or "",
            "QUOTIENT_BUS": settings.bus_kind,
            "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers or "",
            "QUOTIENT_TOPIC_PREFIX": settings.topic_prefix,
            "QUOTIENT_KAFKA_PARTITIONS": str(settings.kafka_partitions),
            "QUOTIENT_OUTBOX_POLL_SECONDS": str(settings.outbox_poll_seconds),
            "QUOTIENT_JWT_SECRET": settings.jwt_secret,
            "QUOTIENT_LOG_LEVEL": "WARNING",
        }
    )
    return env


@dataclass
class Fleet:
    """api + worker processes for each service; logs under log_dir."""

    settings: BaseServiceSettings
    log_dir: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    # Each worker's /healthz, /readyz and /metrics listener.
    metrics_ports: dict[str, int] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def start(self, name: str) -> None:
        service, kind = name.split("-")
        cmd = [sys.executable, "-m", f"{service}.{kind}"]
        env = process_env(self.settings)
        if kind == "api":
            self.ports.setdefault(service, free_port())
            cmd += ["--host", "127.0.0.1", "--port", str(self.ports[service])]
        else:
            self.metrics_ports.setdefault(service, free_port())
            env["QUOTIENT_METRICS_PORT"] = str(self.metrics_ports[service])
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen(
            cmd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_all(self) -> None:
        for service in SERVICES:
            self.start(f"{service}-api")
            self.start(f"{service}-worker")
        self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        for service in SERVICES:
            while True:
                for name, proc in self.procs.items():
                    if proc.poll() is not None:
                        raise RuntimeError(f"{name} exited:\n{self.log(name)}")
                try:
                    if httpx.get(self.url(service) + "/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{service}-api not ready:\n{self.log(service + '-api')}")
                time.sleep(0.2)

    def metrics_url(self, name: str) -> str:
        """Where a process serves /metrics: an api on its port, a worker on its metrics port."""
        service, kind = name.split("-")
        port = self.ports[service] if kind == "api" else self.metrics_ports[service]
        return f"http://127.0.0.1:{port}/metrics"

    def kill(self, name: str) -> None:
        """kill -9: no shutdown handler runs."""
        proc = self.procs[name]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def log(self, name: str) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
