"""The first five minutes, as a newcomer lives them: `python -m allinone` (what `make run` starts)
comes up without a warning, the lines its banner says to paste run as pasted, and every README shell
block marked to run does, against that server.

README convention: a shell block's fence names the language and one tag —
```` ```bash run ```` (this test runs it, in the repository folder, against the started server),
```` ```bash server ```` (it starts the server itself, as this test does), ```` ```sh cluster ````
(it needs a Kubernetes cluster). A shell block without a tag fails the test, so nothing in the
README is left unchecked by accident."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shared.db.bootstrap import DatabaseUrls
from tests.e2e.processes import process_env
from tests.helpers import free_port, make_settings

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w+)(?:[ \t]+([\w-]+))?[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
SHELLS = {"bash", "sh", "shell", "console"}
TAGS = {"run", "server", "cluster"}
LINK = re.compile(r"\]\(([^)\s]+)\)")


def shell_blocks() -> list[tuple[str, str]]:
    """(tag, code) of every shell block of the README, in order."""
    return [
        (tag or "", code)
        for lang, tag, code in FENCE.findall(README.read_text(encoding="utf-8"))
        if lang in SHELLS
    ]


def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z0-9-]+):", text, re.M))


def test_readme_shell_blocks_are_tagged_and_name_real_targets() -> None:
    blocks = shell_blocks()
    assert blocks, "no shell block found in the README"
    untagged = [code.splitlines()[0] for tag, code in blocks if tag not in TAGS]
    assert not untagged, f"shell blocks without a run / server / cluster tag: {untagged}"
    assert sum(tag == "run" for tag, _ in blocks) >= 4
    targets = make_targets()
    named = {m for _, code in blocks for m in re.findall(r"\bmake (?:-s )?([a-z0-9-]+)", code)}
    assert named and named <= targets, named - targets


def test_readme_links_only_to_files_in_the_repository() -> None:
    text = README.read_text(encoding="utf-8")
    for target in LINK.findall(text):
        if target.startswith(("http://", "https://", "#", "mailto:")):
            continue
        path = (ROOT / target.split("#")[0]).resolve()
        assert path.exists() and ROOT in path.parents, f"README links to a missing file: {target}"
    # Markdown files named in the text are the repository's (the product spec is not shipped).
    for name in set(re.findall(r"`([\w./-]+\.md)`", text)):
        assert (ROOT / name).exists(), f"README names {name}, which is not in the repository"


def run_bash(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def until(check, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    """Run a blocking check until it returns something truthy (a generous timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s; last: {result!r}")
        time.sleep(0.5)


@pytest.fixture
def server(database: DatabaseUrls, tmp_path: Path):  # type: ignore[no-untyped-def]
    """`python -m allinone` as `make run` starts it, on a free port, its data folder in tmp."""
    settings = make_settings(database)
    env = process_env(settings) | {
        "QUOTIENT_ENV": "development",
        "QUOTIENT_DATA_DIR": str(tmp_path / ".quotient"),
        "QUOTIENT_PORT": str(free_port()),
        "PYTHONWARNINGS": "default",  # show every warning once, as a terminal would
    }
    env.pop("QUOTIENT_LOG_LEVEL", None)
    env.pop("QUOTIENT_JWT_SECRET", None)  # the development default, as on a fresh machine
    out, err = tmp_path / "stdout.log", tmp_path / "stderr.log"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "allinone"], cwd=ROOT, env=env, stdout=stdout, stderr=stderr
        )
    try:
        until(
            lambda: "Press Ctrl-C to stop." in out.read_text() or proc.poll() is not None,
            timeout=180,
        )
        assert proc.poll() is None, f"the server exited:\n{err.read_text()}"
        yield env, out, err
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def test_first_five_minutes(server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env, out, err = server
    banner = out.read_text()
    # The banner's paste block: the indented lines after "paste these lines", up to a blank line.
    lines = banner.splitlines()
    first = next(i for i, line in enumerate(lines) if "paste these lines" in line)
    paste = []
    for line in lines[first + 2 :]:
        if not line.strip():
            break
        paste.append(line[2:])
    assert paste[0].startswith("export QUOTIENT_URL=") and any("SECRET=" in p for p in paste)
    # A fresh shell (none of the server's variables), in another folder: runs as pasted.
    shell_env = {k: v for k, v in os.environ.items() if not k.startswith("QUOTIENT_")}
    shell_env.pop("SECRET", None)
    done = run_bash("\n".join(paste), shell_env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert '"status":"accepted"' in done.stdout.replace(" ", ""), done.stdout
    assert '"kpiTotals"' in done.stdout and '"errors"' not in done.stdout, done.stdout
    query = paste[-1]

    def figure_counted() -> str | None:
        shown = run_bash("\n".join([*paste[:5], query]), shell_env, tmp_path).stdout
        return shown if '"actual":"120000.00"' in shown.replace(" ", "") else None

    counted = until(figure_counted)
    assert '"eventCount":1' in counted.replace(" ", "")
    env_file = Path(env["QUOTIENT_DATA_DIR"]) / "env"
    assert f". {env_file}" in banner and env_file.stat().st_mode & 0o077 == 0

    # Every README block tagged `run`, in order, from the repository folder.
    readme_env = shell_env | {"QUOTIENT_DATA_DIR": env["QUOTIENT_DATA_DIR"]}
    outputs = []
    for tag, code in shell_blocks():
        if tag != "run":
            continue
        done = run_bash(code, readme_env, ROOT)
        assert done.returncode == 0, f"{code}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        assert "error" not in done.stderr.lower(), done.stderr
        outputs.append(done.stdout)
    text = "\n".join(outputs).replace(" ", "")
    assert '"status":"duplicate"' in text or '"status":"accepted"' in text, text
    assert '"metric":"collected_revenue"' in text, text  # the rep token reads p-12's totals
    assert "/dashboard/#token=ey" in text
    assert '"dry_run":true' in text, text

    # No warning on start or while serving (platformdirs, setuptools, runpy…).
    errors = err.read_text()
    assert "Warning" not in errors and "warning" not in errors.lower(), errors


def test_make_token_refuses_an_unknown_role() -> None:
    base = [sys.executable, "-m", "shared.auth", "--tenant", "0d3e1a7c-5b1f-4c2e-9a8d-000000000001"]
    bogus = subprocess.run([*base, "--roles", "bogus"], capture_output=True, text=True, timeout=60)
    assert bogus.returncode == 2 and bogus.stdout == ""
    assert "unknown role(s) bogus" in bogus.stderr and "known roles: admin" in bogus.stderr
    mixed = subprocess.run(
        [*base, "--roles", "rep,root"], capture_output=True, text=True, timeout=60
    )
    assert mixed.returncode == 2 and "unknown role(s) root" in mixed.stderr
    good = subprocess.run(
        [*base, "--roles", "rep", "--person", "p-12"], capture_output=True, text=True, timeout=60
    )
    assert good.returncode == 0 and good.stdout.count(".") == 2, good.stderr  # a JWT
    assert "Warning" not in good.stderr, good.stderr
