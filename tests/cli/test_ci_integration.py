"""The CI integrations shipped in the repository: the pre-commit hook, run by the real
``pre-commit`` on a scratch git repository, and the GitHub Action's step script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from imagetrust.cli.main import main
from tests.support.images import FixtureImages

REPO = Path(__file__).resolve().parents[2]
TRACKER = "debian/osvdev-debian_security_tracker_mock.json"


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"})


@pytest.fixture
def project(tmp_path: Path, images: FixtureImages, test_data: Path,
            monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch git repository listing the suite's app image, with a strict policy."""
    monkeypatch.setenv("IMAGETRUST_DB", str(tmp_path / "vuln.sqlite"))
    monkeypatch.setenv("IMAGETRUST_OFFLINE", "1")
    assert main(["db", "import", str(test_data / TRACKER)]) == 0
    work = tmp_path / "project"
    work.mkdir()
    git(work, "init", "-q")
    (work / "images.txt").write_text(f"# our images\ndocker-archive:{images.app_archive}\n")
    (work / "imagetrust.toml").write_text(
        "[rules.approved-registries]\nenabled = true\npatterns = [\"registry.acme.io/*\"]\n"
    )
    git(work, "add", ".")
    return work


def test_hook_definitions_are_valid() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"imagetrust-dockerfile", "imagetrust-policy"}
    policy, dockerfile = hooks["imagetrust-policy"], hooks["imagetrust-dockerfile"]
    assert policy["language"] == "python" and policy["entry"].startswith("imagetrust policy")
    assert "--from-files" in policy["entry"] and "--exit-code" in policy["entry"]
    assert dockerfile["entry"].startswith("imagetrust dockerfile check --exit-code")


def hook_repository(where: Path) -> Path:
    """This checkout's hook definition and package as a committed repository, as pre-commit
    clones it (whatever state the checkout's own git index is in)."""
    where.mkdir()
    for name in (".pre-commit-hooks.yaml", "pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, where / name)
    shutil.copytree(REPO / "src", where / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    git(where, "init", "-q")
    git(where, "add", ".")
    git(where, "commit", "-q", "-m", "hooks")
    return where


def test_pre_commit_runs_the_hook_and_fails_on_policy(project: Path, tmp_path: Path) -> None:
    exe = shutil.which("pre-commit", path=str(Path(sys.executable).parent))
    assert exe is not None, "pre-commit is installed by the test extra"
    hooks = hook_repository(tmp_path / "hooks")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    done = subprocess.run(
        [exe, "try-repo", str(hooks), "imagetrust-policy", "--files", "images.txt",
         "--verbose"],
        cwd=project, capture_output=True, text=True, env=env, timeout=600, check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output  # the hook failed the commit
    assert "approved-registries" in output and "Failed" in output
    # with the rule off, the same hook passes
    (project / "imagetrust.toml").write_text("")
    done = subprocess.run(
        [exe, "try-repo", str(hooks), "imagetrust-policy", "--files", "images.txt"],
        cwd=project, capture_output=True, text=True, env=env, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # the Dockerfile hook: an unpinned base fails the commit, and says which line
    (project / "Dockerfile").write_text("FROM 127.0.0.1:9/library/debian:12\nRUN true\n")
    git(project, "add", "Dockerfile")
    done = subprocess.run(
        [exe, "try-repo", str(hooks), "imagetrust-dockerfile", "--files", "Dockerfile",
         "--verbose"],
        cwd=project, capture_output=True, text=True, env=env, timeout=600, check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Dockerfile line 1" in output and "unpinned" in output


def test_action_definition_and_step(project: Path, tmp_path: Path) -> None:
    action = yaml.safe_load((REPO / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    assert {"image", "policy", "vex", "format"} <= set(action["inputs"])
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "GITHUB_ACTION_PATH": str(REPO),
        "IT_IMAGES": (project / "images.txt").read_text().splitlines()[1],
        "IT_COMMAND": "policy-evaluate",
        "IT_POLICY": str(project / "imagetrust.toml"),
        "IT_FORMAT": "json",
        "IT_OUTPUT": str(tmp_path / "report.json"),
        "IT_FAIL_ON": "untrusted",
    }
    done = subprocess.run(["bash", str(REPO / "scripts/action-run")], cwd=project, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 2, done.stderr  # approved-registries fails at untrusted
    report = json.loads((tmp_path / "report.json").read_text())
    assert any(r["rule"] == "approved-registries" and r["status"] == "fail"
               for r in report["images"][0]["rules"])
    # an image name is data, never shell
    env["IT_IMAGES"] = "$(touch pwned)"
    subprocess.run(["bash", str(REPO / "scripts/action-run")], cwd=project, env=env,
                   capture_output=True, text=True, timeout=300, check=False)
    assert not (project / "pwned").exists()
