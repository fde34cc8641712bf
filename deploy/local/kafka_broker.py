"""A real single-node KRaft Apache Kafka 4.x broker for local runs, tests and benchmarks.

The jars come from Maven Central (deploy/local/kafka/pom.xml) into a cache folder; the storage is
formatted and the broker started with `java -cp ... kafka.Kafka`, listening on loopback only.

    python deploy/local/kafka_broker.py run      # foreground, Ctrl-C stops it
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DEFAULT_CACHE = Path(os.environ.get("QUOTIENT_CACHE_DIR", REPO / ".cache"))


class KafkaError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fetch_jars(cache: Path = DEFAULT_CACHE) -> Path:
    """Download the broker and its runtime dependencies with Maven (once; cached)."""
    libs = cache / "kafka-libs"
    marker = libs / ".complete"
    if marker.exists():
        return libs
    if shutil.which("mvn") is None:
        raise KafkaError("Maven (mvn) is needed to fetch the Kafka jars")
    if libs.exists():
        shutil.rmtree(libs)
    libs.mkdir(parents=True)
    cmd = [
        "mvn",
        "-q",
        "-B",
        "-f",
        str(HERE / "kafka" / "pom.xml"),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={libs}",
        "-DincludeScope=runtime",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise KafkaError(f"Maven could not fetch the Kafka jars:\n{result.stdout}\n{result.stderr}")
    marker.touch()
    return libs


class LocalKafka:
    """One broker+controller on 127.0.0.1; `start()` returns the bootstrap address."""

    def __init__(self, work_dir: Path, port: int | None = None, cache: Path = DEFAULT_CACHE):
        self.work_dir = work_dir
        self.port = port or free_port()
        self.controller_port = free_port()
        self.cache = cache
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _write_config(self) -> Path:
        data = self.work_dir / "data"
        data.mkdir(parents=True, exist_ok=True)
        config = self.work_dir / "server.properties"
        config.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
                    f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    "inter.broker.listener.name=PLAINTEXT",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    f"log.dirs={data}",
                    "num.partitions=6",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=6",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "share.coordinator.state.topic.replication.factor=1",
                    "share.coordinator.state.topic.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    "auto.create.topics.enable=false",
                    "log.flush.interval.messages=9223372036854775807",
                ]
            )
            + "\n"
        )
        (self.work_dir / "log4j2.properties").write_text(
            "\n".join(
                [
                    "status = error",
                    "appender.file.type = File",
                    "appender.file.name = file",
                    f"appender.file.fileName = {self.work_dir / 'broker.log'}",
                    "appender.file.layout.type = PatternLayout",
                    "appender.file.layout.pattern = [%d] %p %m (%c)%n",
                    "rootLogger.level = WARN",
                    "rootLogger.appenderRef.file.ref = file",
                ]
            )
            + "\n"
        )
        return config

    def _java(self, libs: Path, *args: str) -> list[str]:
        return [
            "java",
            "-Xms256m",
            "-Xmx768m",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.work_dir / 'log4j2.properties'}",
            "-cp",
            f"{libs}/*",
            *args,
        ]

    def start(self, timeout: float = 90) -> str:
        if shutil.which("java") is None:
            raise KafkaError("Java is needed to run the Kafka broker")
        libs = fetch_jars(self.cache)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        config = self._write_config()
        cluster_id = uuid.uuid4().hex[:22]
        fmt = subprocess.run(
            self._java(
                libs,
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id,
                "-c",
                str(config),
                "--ignore-formatted",
            ),
            capture_output=True,
            text=True,
        )
        if fmt.returncode != 0:
            raise KafkaError(f"formatting Kafka storage failed:\n{fmt.stdout}\n{fmt.stderr}")
        out = open(self.work_dir / "stdout.log", "wb")
        self.process = subprocess.Popen(
            self._java(libs, "kafka.Kafka", str(config)),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_ready(timeout)
        return self.bootstrap

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise KafkaError(f"the broker exited; see {self.work_dir / 'broker.log'}")
            if self._metadata_ok():
                return
            time.sleep(0.5)
        self.stop()
        raise KafkaError(f"the broker did not become ready in {timeout}s; see {self.work_dir}")

    def _metadata_ok(self) -> bool:
        """Ready once a client can fetch cluster metadata (the port alone opens too early)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                pass
        except OSError:
            return False
        try:
            import asyncio

            from aiokafka.admin import AIOKafkaAdminClient

            async def probe() -> bool:
                admin = AIOKafkaAdminClient(
                    bootstrap_servers=self.bootstrap, request_timeout_ms=3000
                )
                try:
                    await admin.start()
                    await admin.describe_cluster()
                    return True
                finally:
                    await admin.close()

            # In a thread of its own: the caller may be inside a running event loop.
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                return pool.submit(asyncio.run, probe()).result(timeout=15)
        except Exception:
            return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in ("run", "fetch"):
        print(__doc__)
        sys.exit(2)
    if sys.argv[1] == "fetch":
        print(fetch_jars())
        return
    port = int(os.environ.get("KAFKA_PORT", "9092"))
    kafka = LocalKafka(DEFAULT_CACHE / "kafka-run", port=port)
    print(f"starting Kafka on 127.0.0.1:{port} ...", flush=True)
    kafka.start()
    print(f"KAFKA_BOOTSTRAP_SERVERS={kafka.bootstrap}  (Ctrl-C stops it)", flush=True)
    try:
        assert kafka.process is not None
        kafka.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        kafka.stop()


if __name__ == "__main__":
    main()
