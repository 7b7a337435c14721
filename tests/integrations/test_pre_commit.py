"""The pre-commit hook, run by the real pre-commit against a throwaway repository.

pre-commit clones the hook repository at `rev` and pip-installs it into its own virtualenv, so
the hook repository must be a git repository with the hook files committed. The test makes one
from a snapshot of this working tree (tracked and untracked-but-not-ignored files, so what is
being edited is what gets tested; on a CI clone that is exactly HEAD) and commits it in a
temporary directory. PRE_COMMIT_HOME is shared by the whole module, so the virtualenv is built
once (that install dominates the runtime and needs PyPI for PyYAML and jsonschema).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

GIT_ENV = {
    "GIT_AUTHOR_NAME": "kexlint tests", "GIT_AUTHOR_EMAIL": "tests@kexlint.invalid",
    "GIT_COMMITTER_NAME": "kexlint tests", "GIT_COMMITTER_EMAIL": "tests@kexlint.invalid",
    # The user's own git config (hooks, signing, templates) must not leak into the throwaway repos.
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
}

HOST_NETWORK_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: influxdb
spec:
  hostNetwork: true
  containers:
  - name: influxdb
    image: influxdb
"""

CLEAN_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: influxdb
spec:
  containers:
  - name: influxdb
    image: influxdb
    ports:
    - containerPort: 8086
"""


def _git(*args: str, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"git {' '.join(args)} failed:\n{done.stdout}{done.stderr}"
    return done.stdout.strip()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("pre-commit-home")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    # PYTHONPATH would let the hook import this checkout instead of what pre-commit installed.
    base.pop("PYTHONPATH", None)
    return {**base, **GIT_ENV, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> tuple[Path, str]:
    """A git repository holding this working tree's files, committed; returns (path, sha)."""
    repo = tmp_path_factory.mktemp("hook-repo")
    if (ROOT / ".git").exists():
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                cwd=ROOT, capture_output=True, check=True, timeout=60).stdout
        names = [n for n in listed.decode().split("\0") if n]
    else:  # an unpacked source tree without git: copy the package and its metadata
        names = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
                 if p.is_file() and not any(part.startswith(".") or part in ("node_modules", "__pycache__")
                                            for part in p.relative_to(ROOT).parts[:-1])]
    for name in names:
        source = ROOT / name
        if source.is_file():  # listed but deleted in the working tree: leave it out
            target = repo / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    assert (repo / ".pre-commit-hooks.yaml").is_file()
    _git("init", "-q", "-b", "main", cwd=repo, env=env)
    _git("add", "-A", cwd=repo, env=env)
    _git("commit", "-q", "-m", "snapshot for the pre-commit test", cwd=repo, env=env)
    return repo, _git("rev-parse", "HEAD", cwd=repo, env=env)


@pytest.fixture
def project(tmp_path: Path, hook_repo: tuple[Path, str], env: dict[str, str]) -> Path:
    """A user's repository whose .pre-commit-config.yaml has only repo, rev and id."""
    repo_path, sha = hook_repo
    _git("init", "-q", "-b", "main", cwd=tmp_path, env=env)
    (tmp_path / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {repo_path}\n  rev: {sha}\n  hooks:\n  - id: kexlint\n", encoding="utf-8")
    return tmp_path


def _stage(project: Path, env: dict[str, str], files: dict[str, str]) -> None:
    for name, text in files.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    _git("add", "-A", cwd=project, env=env)


def _pre_commit(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`pre-commit run ARGS`; without ARGS the staged files, as the git hook would run it."""
    return subprocess.run([sys.executable, "-m", "pre_commit", "run", *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=600)


def test_fails_on_host_network_with_file_and_line(project: Path, env: dict[str, str]) -> None:
    _stage(project, env, {"deploy/pod.yaml": HOST_NETWORK_POD})
    done = _pre_commit(project, env)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "deploy/pod.yaml:6:3: error host-network" in output
    assert "kexlint (Kubernetes exposure linter)" in output and "Failed" in output


def test_passes_on_clean_manifest(project: Path, env: dict[str, str]) -> None:
    _stage(project, env, {"deploy/pod.yaml": CLEAN_POD})
    done = _pre_commit(project, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Passed" in done.stdout


def test_ignores_yaml_that_is_not_kubernetes(project: Path, env: dict[str, str]) -> None:
    # Each of these would be a finding or an input error if kexlint read it as a manifest.
    _stage(project, env, {
        ".github/workflows/ci.yml": "on: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
                                    "    steps:\n    - run: echo hostNetwork\n",
        "charts/app/values.yaml": "hostNetwork: true\nservice:\n  type: NodePort\n  nodePort: 80\n",
        "ansible/site.yml": "- hosts: all\n  tasks:\n  - name: web\n    apt: {name: nginx}\n",
        "config/settings.json": '{"hostNetwork": true}\n',
        "deploy/pod.yaml": CLEAN_POD,
    })
    done = _pre_commit(project, env)
    assert done.returncode == 0, done.stdout + done.stderr


def test_honours_the_projects_kexlint_yaml(project: Path, env: dict[str, str]) -> None:
    # The hook runs in the project's root, where kexlint finds .kexlint.yaml (itself passed to the
    # hook as a YAML file, and skipped as one that holds no Kubernetes object).
    _stage(project, env, {
        ".kexlint.yaml": "exclude:\n- path: system/**\n  rules: [host-network]\n"
                         "  reason: CNI agents need the node's network\n",
        "system/cni.yaml": HOST_NETWORK_POD,
    })
    assert _pre_commit(project, env).returncode == 0
    # The same manifest outside the excluded path still fails: the exclusion, not luck, passed it.
    _stage(project, env, {"apps/pod.yaml": HOST_NETWORK_POD})
    done = _pre_commit(project, env)
    assert done.returncode == 1
    assert "apps/pod.yaml:6:3: error host-network" in done.stdout
    assert "system/cni.yaml" not in done.stdout
    # Turning the rule off in the config passes both.
    _stage(project, env, {".kexlint.yaml": "rules:\n  host-network: off\n"})
    done = _pre_commit(project, env)
    assert done.returncode == 0, done.stdout + done.stderr


NODE_PORT_SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  type: NodePort
  selector: {{app: {name}}}
  ports:
  - port: 80
    nodePort: 30080
"""


DOCS_WITH_PINS = ("README.md", "docs/ci.md")
PINNED_REV = re.compile(r"^\s*rev: (\S+)", re.M)
PINNED_ACTION = re.compile(r"kexlint/kexlint@([^\s`]+)")


def _pinned_revs() -> set[str]:
    """Every `rev:` of a kexlint pre-commit snippet and every `uses: kexlint/kexlint@REF` in the docs."""
    revs: set[str] = set()
    for name in DOCS_WITH_PINS:
        text = (ROOT / name).read_text(encoding="utf-8")
        for snippet in text.split("- repo: https://github.com/kexlint/kexlint")[1:]:
            revs.update(PINNED_REV.findall(snippet.split("```", 1)[0]))
        revs.update(PINNED_ACTION.findall(text))
    return revs


def _history() -> None:
    """Skip, saying why, where the pins cannot be looked up: no git checkout, or a shallow one."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the pinned revs are looked up in this repository's history")
    shallow = subprocess.run(["git", "rev-parse", "--is-shallow-repository"], cwd=ROOT, capture_output=True,
                             text=True, timeout=60).stdout.strip()
    if shallow == "true":
        pytest.skip("a shallow clone may lack the pinned commit: run `git fetch --unshallow`")


def test_readme_pins_rev_and_shows_how_cross_file_conflicts_are_checked() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "Pin a release tag or a full commit SHA" in readme
    assert "pre-commit run kexlint --all-files" in readme
    assert "pre-commit run kexlint --all-files" in (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    # README and docs/ci.md show a pre-commit rev and an action ref each, and the same one.
    assert len(_pinned_revs()) == 1, _pinned_revs()


def test_the_pinned_rev_exists_and_holds_the_hook_and_the_action() -> None:
    # A tag that was never pushed, or a branch name, fails for every user who copies the snippet:
    # the docs pin a full commit SHA of this repository's history (or a tag it has).
    _history()
    env = {**os.environ, **GIT_ENV}
    for rev in _pinned_revs():
        commit = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd=ROOT,
                                env=env, capture_output=True, text=True, timeout=60).stdout.strip()
        assert commit, f"{rev} (pinned in the docs) is not a commit or tag of this repository"
        is_tag = _git("tag", "--list", rev, cwd=ROOT, env=env) == rev
        assert is_tag or commit == rev, f"{rev} is neither a tag nor a full commit SHA"
        ancestor = subprocess.run(["git", "merge-base", "--is-ancestor", commit, "HEAD"], cwd=ROOT, env=env,
                                  timeout=60)
        assert ancestor.returncode == 0, f"{rev} is not in the history of HEAD"
        hooks = _git("show", f"{commit}:.pre-commit-hooks.yaml", cwd=ROOT, env=env)
        assert "- id: kexlint" in hooks
        assert "using: composite" in _git("show", f"{commit}:action.yml", cwd=ROOT, env=env)


def test_pre_commit_installs_and_runs_the_hook_at_the_pinned_rev(tmp_path: Path, env: dict[str, str]) -> None:
    # What a user who copies the README gets: pre-commit clones the hook repository at that rev.
    _history()
    (rev,) = _pinned_revs()
    clone = tmp_path / "kexlint"
    _git("clone", "-q", "--no-checkout", str(ROOT), str(clone), cwd=tmp_path, env=env)
    project = tmp_path / "project"
    project.mkdir()
    _git("init", "-q", "-b", "main", cwd=project, env=env)
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {clone}\n  rev: {rev}\n  hooks:\n  - id: kexlint\n", encoding="utf-8")
    _stage(project, env, {"deploy/pod.yaml": HOST_NETWORK_POD})
    done = _pre_commit(project, env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "deploy/pod.yaml:6:3: error host-network" in done.stdout


def test_staged_files_miss_a_conflict_that_all_files_finds(project: Path, env: dict[str, str]) -> None:
    # What the README says: the hook sees staged files only; --all-files sees the conflict.
    _stage(project, env, {"deploy/a.yaml": NODE_PORT_SERVICE.format(name="a")})
    _git("commit", "-q", "--no-verify", "-m", "a", cwd=project, env=env)
    _stage(project, env, {"deploy/b.yaml": NODE_PORT_SERVICE.format(name="b")})
    staged = _pre_commit(project, env)
    assert staged.returncode == 0, staged.stdout + staged.stderr
    every = _pre_commit(project, env, "kexlint", "--all-files")
    assert every.returncode == 1 and "node-port-conflict" in every.stdout, every.stdout + every.stderr


def test_the_serial_hook_lints_its_files_with_a_pool(project: Path, env: dict[str, str]) -> None:
    # require_serial gives all files to one process; the cores are used inside it (--jobs default),
    # and the conflict between files that different workers read is still found.
    from kexlint.parallel import MIN_BYTES_ENV, TRACE_ENV, default_jobs

    if default_jobs() < 2:
        pytest.skip("one core available: kexlint never starts a pool here")
    _stage(project, env, {f"deploy/svc-{i}.yaml": NODE_PORT_SERVICE.format(name=f"svc-{i}") for i in range(8)})
    done = _pre_commit(project, {**env, MIN_BYTES_ENV: "0", TRACE_ENV: "1"}, "kexlint", "--verbose")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "kexlint: pool of " in done.stdout, done.stdout
    assert done.stdout.count("node-port-conflict") >= 8
