"""docker-compose.yml and the service Dockerfiles, checked offline (no Docker engine, no network).

The Compose Specification schema is the one vendored in check-jsonschema; the rest are the
project's own rules: what must run, in which order, from which image, as which user.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
SERVICES = ("goals", "scoring", "incentives")
API_PORTS = {"goals": 8001, "scoring": 8002, "incentives": 8003}
REQUIRED = {"postgres", "kafka", "migrate"} | {
    f"{svc}-{kind}" for svc in SERVICES for kind in ("api", "worker")
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict) and isinstance(data.get("services"), dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


# --- Dockerfile reading (enough of the syntax for these files) -----------------------------------


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def last(self, keyword: str) -> str | None:
        found = [args for kw, args in self.instructions if kw == keyword]
        return found[-1] if found else None


def dockerfile_stages(path: Path) -> list[Stage]:
    """The build stages, each with its instructions (continuations joined, comments dropped)."""
    logical: list[str] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, f"{path}: dangling line continuation"
    stages: list[Stage] = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword, args = keyword.upper(), args.strip()
        if keyword == "FROM":
            words = [w for w in args.split() if not w.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            stages.append(Stage(base=words[0], name=name))
        elif stages:
            stages[-1].instructions.append((keyword, args))
        else:
            assert keyword == "ARG", f"{path}: {keyword} before the first FROM"
    return stages


def exec_form(args: str) -> list[str]:
    """CMD/ENTRYPOINT/command arguments as a list (JSON exec form or shell words)."""
    if args.startswith("["):
        parsed = yaml.safe_load(args)
        assert isinstance(parsed, list)
        return [str(a) for a in parsed]
    return shlex.split(args)


def build_of(service: dict[str, Any]) -> tuple[Path, Path] | None:
    """(context, Dockerfile) of a service that is built here."""
    build = service.get("build")
    if build is None:
        return None
    if isinstance(build, str):
        build = {"context": build}
    context = (COMPOSE.parent / build.get("context", ".")).resolve()
    return context, context / build.get("dockerfile", "Dockerfile")


def command_of(service: dict[str, Any]) -> list[str]:
    """What the container runs: the service's command, else its image's final CMD."""
    command = service.get("command")
    if command is not None:
        return [str(c) for c in command] if isinstance(command, list) else shlex.split(command)
    built = build_of(service)
    assert built, "a service without a command must be built here so its CMD can be read"
    cmd = dockerfile_stages(built[1])[-1].last("CMD")
    assert cmd, f"{built[1]}: no CMD in the final stage"
    return exec_form(cmd)


def module_run(command: list[str]) -> str | None:
    """The module of `python -m <module> ...`."""
    if len(command) >= 3 and Path(command[0]).name.startswith("python") and command[1] == "-m":
        return command[2]
    return None


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


# --- the tests ------------------------------------------------------------------------------------


def test_compose_file_matches_the_compose_specification() -> None:
    exe = Path(sys.executable).parent / "check-jsonschema"
    assert exe.exists(), f"check-jsonschema is not installed next to {sys.executable}"
    result = subprocess.run(
        [str(exe), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_required_service_is_defined(services: dict[str, dict[str, Any]]) -> None:
    assert REQUIRED <= services.keys(), f"missing: {sorted(REQUIRED - services.keys())}"


def test_depends_on_names_defined_services(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        unknown = depends_on(service).keys() - services.keys()
        assert not unknown, f"{name} depends on undefined services {sorted(unknown)}"


def test_startup_order(services: dict[str, dict[str, Any]]) -> None:
    assert depends_on(services["migrate"]).get("postgres") == "service_healthy"
    for svc in SERVICES:
        for kind in ("api", "worker"):
            deps = depends_on(services[f"{svc}-{kind}"])
            assert deps.get("postgres") == "service_healthy", f"{svc}-{kind}"
            assert deps.get("kafka") == "service_healthy", f"{svc}-{kind}"
            assert deps.get("migrate") == "service_completed_successfully", f"{svc}-{kind}"
    for name in ("postgres", "kafka"):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_build_dockerfiles_exist(services: dict[str, dict[str, Any]]) -> None:
    built = {name: b for name, s in services.items() if (b := build_of(s))}
    assert built, "no service is built from this repository"
    for name, (context, dockerfile) in built.items():
        assert context.is_dir(), f"{name}: build context {context} does not exist"
        assert dockerfile.is_file(), f"{name}: {dockerfile} does not exist"


def test_dockerfiles_run_as_a_non_root_user(services: dict[str, dict[str, Any]]) -> None:
    dockerfiles = {b[1] for s in services.values() if (b := build_of(s))}
    for dockerfile in dockerfiles:
        stages = dockerfile_stages(dockerfile)
        assert stages, f"{dockerfile}: no FROM"
        final = stages[-1]
        user = final.last("USER")
        assert user, f"{dockerfile}: the final stage sets no USER (it would run as root)"
        name = user.split(":", 1)[0].strip()
        assert name not in {"root", "0"}, f"{dockerfile}: the final stage runs as {user}"


def test_dockerfile_copies_name_existing_paths(services: dict[str, dict[str, Any]]) -> None:
    """Every COPY from the build context names something that exists in it."""
    for context, dockerfile in {b for s in services.values() if (b := build_of(s))}:
        for stage in dockerfile_stages(dockerfile):
            for keyword, args in stage.instructions:
                if keyword not in {"COPY", "ADD"}:
                    continue
                words = shlex.split(args)
                if any(w.startswith("--from") for w in words):
                    continue
                sources = [w for w in words if not w.startswith("--")][:-1]
                for source in sources:
                    assert (context / source).exists(), f"{dockerfile}: {keyword} {source}"


def test_api_services(services: dict[str, dict[str, Any]]) -> None:
    for svc in SERVICES:
        name = f"{svc}-api"
        api = services[name]
        healthcheck = api.get("healthcheck") or {}
        assert healthcheck.get("test") and not healthcheck.get("disable"), f"{name}: no healthcheck"
        assert "/healthz" in " ".join(map(str, healthcheck["test"])), name
        assert module_run(command_of(api)) == f"{svc}.api", f"{name} runs {command_of(api)}"
        ports = [str(p) for p in api.get("ports", [])]
        assert f"{API_PORTS[svc]}:8000" in ports, f"{name}: ports {ports}"
    # Any other service called *-api must have a healthcheck too.
    for name, service in services.items():
        if name.endswith("-api"):
            assert (service.get("healthcheck") or {}).get("test"), f"{name}: no healthcheck"


def test_workers_run_their_service_worker(services: dict[str, dict[str, Any]]) -> None:
    for svc in SERVICES:
        worker = services[f"{svc}-worker"]
        assert module_run(command_of(worker)) == f"{svc}.worker", command_of(worker)
        assert "ports" not in worker, f"{svc}-worker publishes ports"


def test_migrate_job_runs_every_migration_tree(services: dict[str, dict[str, Any]]) -> None:
    migrate = services["migrate"]
    assert module_run(command_of(migrate)) == "allinone.migrate", command_of(migrate)
    env = migrate.get("environment") or {}
    assert isinstance(env, dict) and "DATABASE_OWNER_URL" in env
    # The image it runs must hold allinone (and so every service's migrations).
    built = build_of(migrate)
    assert built, "migrate must be built from this repository"
    text = built[1].read_text()
    assert re.search(r"-e \./services/allinone\b", text), f"{built[1]} does not install allinone"


def test_only_the_migrate_job_holds_the_owner_credentials(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        env = service.get("environment") or {}
        if name != "migrate" and isinstance(env, dict):
            assert "DATABASE_OWNER_URL" not in env, f"{name} gets the schema owner's URL"


def test_volumes_and_bind_mounts(compose: dict[str, Any]) -> None:
    declared = set((compose.get("volumes") or {}).keys())
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source")
            if source is None:
                continue
            if source.startswith((".", "/")):
                assert (COMPOSE.parent / source).exists(), f"{name}: bind mount {source} missing"
            else:
                assert source in declared, f"{name}: volume {source} is not declared"
    init = REPO / "deploy" / "postgres" / "init"
    assert any(init.glob("*.sh")) or any(init.glob("*.sql")), "no postgres init script"


def test_worker_healthcheck_asks_the_worker_health_port(
    services: dict[str, dict[str, Any]],
) -> None:
    for svc in SERVICES:
        healthcheck = services[f"{svc}-worker"].get("healthcheck") or {}
        assert healthcheck.get("test") and not healthcheck.get("disable"), f"{svc}-worker"
        assert "http://127.0.0.1:9100/healthz" in " ".join(map(str, healthcheck["test"])), svc


def test_quotient_processes_log_json_and_name_themselves(
    services: dict[str, dict[str, Any]],
) -> None:
    names = {"migrate": "quotient-migrate"} | {
        f"{svc}-{kind}": f"quotient-{svc}-{kind}" for svc in SERVICES for kind in ("api", "worker")
    }
    for name, otel_name in names.items():
        env = services[name].get("environment") or {}
        assert isinstance(env, dict), name
        assert env.get("QUOTIENT_LOG_FORMAT") == "json", name
        assert env.get("OTEL_SERVICE_NAME") == otel_name, name
        assert env.get("QUOTIENT_ENV") == "production", name
