"""Colab opens every chapter on a GPU runtime and installs the release its button names.

One ref: ``tools/nbtools.py``'s ``RELEASE``, the tag of the package's version. The site's
launch button opens the notebook at ``repository.branch`` (_config.yml) and the setup cell
installs ``REF`` (default ``RELEASE``, or ``BIGMODEL_REF``); a ref the repository lacks
stops the cell with one message that names the fix.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import nbtools  # noqa: E402

BOOK = ROOT / "book"
NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))


def asks_for_a_t4(metadata) -> bool:
    """What Colab itself saves for a notebook run on a T4 GPU runtime."""
    return metadata.get("accelerator") == "GPU" and metadata.get("colab", {}).get("gpuType") == "T4"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_opens_on_a_gpu_runtime(nb):
    assert asks_for_a_t4(nbformat.read(nb, as_version=4).metadata), (
        f"{nb.name} has no Colab GPU metadata: run `python tools/nbtools.py setup-cells`"
    )
    # the Markdown twin carries it too, so that `make sync` from either side keeps it
    md = BOOK / "md" / f"{nb.stem}.md"
    assert asks_for_a_t4(jupytext.read(md).metadata), f"book/md/{md.name}: no Colab GPU metadata"


def _sync(path: Path) -> None:
    later = time.time() + 5  # the newer file of the pair wins
    os.utime(path, (later, later))
    r = subprocess.run(
        [sys.executable, "-m", "jupytext", "--sync", "--quiet", str(path)], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr


def test_gpu_metadata_survives_sync_from_either_side(tmp_path):
    (tmp_path / "md").mkdir()
    nb_path, md_path = tmp_path / "00_setup.ipynb", tmp_path / "md" / "00_setup.md"
    shutil.copy(BOOK / "00_setup.ipynb", nb_path)
    shutil.copy(BOOK / "md" / "00_setup.md", md_path)
    assert "accelerator: GPU" in md_path.read_text()
    # an edit in the Markdown, synced into the notebook
    md_path.write_text(md_path.read_text().replace("Run this notebook first.", "Run it first."))
    _sync(md_path)
    nb = nbformat.read(nb_path, as_version=4)
    assert "Run it first." in nb.cells[0].source
    assert asks_for_a_t4(nb.metadata)
    # an edit in the notebook (as Jupyter or Colab saves it), synced into the Markdown
    nb.cells[0].source = nb.cells[0].source.replace("Run it first.", "Run it before the rest.")
    nbformat.write(nb, nb_path)
    _sync(nb_path)
    assert "Run it before the rest." in md_path.read_text()
    assert asks_for_a_t4(jupytext.read(md_path).metadata)
    assert asks_for_a_t4(nbformat.read(nb_path, as_version=4).metadata)


def test_a_new_chapter_opens_on_a_gpu_runtime(tmp_path, monkeypatch):
    (tmp_path / "md").mkdir()
    monkeypatch.setattr(nbtools, "BOOK", tmp_path)
    nbtools.new_chapter("99_new", "A new chapter")
    assert asks_for_a_t4(nbformat.read(tmp_path / "99_new.ipynb", as_version=4).metadata)
    assert asks_for_a_t4(jupytext.read(tmp_path / "md" / "99_new.md").metadata)
    nb = nbformat.v4.new_notebook()
    assert nbtools.set_colab_metadata(nb) and not nbtools.set_colab_metadata(nb)


def test_launch_button_and_install_cell_name_the_same_ref():
    import bigmodel

    assert nbtools.RELEASE == f"v{bigmodel.__version__}"
    assert re.search(r"^version\s*=\s*\"", (ROOT / "pyproject.toml").read_text(), re.M) is None, (
        "the version has one place, lib/bigmodel/__init__.py (pyproject.toml reads it)")
    branch = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["branch"]
    assert branch == nbtools.config_ref() == nbtools.RELEASE, (
        f"_config.yml's repository.branch is {branch}, the setup cells install {nbtools.RELEASE}: "
        "run `python tools/nbtools.py setup-cells`"
    )
    for nb in NOTEBOOKS:
        cell = next(c for c in nbformat.read(nb, as_version=4).cells if c.cell_type == "code")
        assert f'REF = os.environ.get("BIGMODEL_REF", "{nbtools.RELEASE}")' in cell.source, nb.name
        assert "git+{REPO}@{REF}" in cell.source, nb.name


def test_set_config_ref_changes_only_the_branch(tmp_path, monkeypatch):
    config = tmp_path / "_config.yml"
    original = (ROOT / "_config.yml").read_text()
    config.write_text(original)
    monkeypatch.setattr(nbtools, "CONFIG", config)
    assert nbtools.set_config_ref("v9.8.7")
    assert not nbtools.set_config_ref("v9.8.7")
    assert nbtools.config_ref() == "v9.8.7"
    changed = [(a, b) for a, b in zip(original.splitlines(), config.read_text().splitlines(), strict=True)
               if a != b]
    assert changed == [(f"  branch: {nbtools.RELEASE}", "  branch: v9.8.7")]


def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def _run_setup_cell_on_colab(repo: Path, **env: str) -> subprocess.CompletedProcess:
    """The setup cell as Colab runs it, installing from ``repo`` instead of GitHub."""
    cell = nbtools.colab_setup("00_setup").replace(
        'REPO = "https://github.com/bigmodel-book/bigmodel-book"', f'REPO = "file://{repo}"'
    )
    assert f"file://{repo}" in cell
    code = "import sys, types\nsys.modules['google.colab'] = types.ModuleType('google.colab')\n" + cell
    env = {**{k: v for k, v in os.environ.items() if k != "BIGMODEL_REF"}, **env,
           "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "GIT_TERMINAL_PROMPT": "0"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120)


def test_a_missing_tag_stops_the_cell_with_one_message_naming_the_fix(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "README").write_text("not a Python project\n")
    _git(repo, "add", "README")
    _git(repo, "commit", "-q", "-m", "first")

    # the release tag is not there yet: one message, pip's output not shown
    r = _run_setup_cell_on_colab(repo)
    assert r.returncode != 0
    last = r.stderr.strip().splitlines()[-1]
    missing = f"RuntimeError: {nbtools.RELEASE} is not a tag or branch of file://{repo}"
    assert last.startswith(missing), r.stderr
    assert "`make release`" in last and "`%env BIGMODEL_REF=main`" in last
    assert r.stdout == ""
    # BIGMODEL_REF chooses the ref, and the message names it
    r = _run_setup_cell_on_colab(repo, BIGMODEL_REF="v0.0.0-nope")
    assert "RuntimeError: v0.0.0-nope is not a tag or branch" in r.stderr, r.stderr

    # the tag exists but pip fails for another reason: pip's message, then the generic error
    _git(repo, "tag", nbtools.RELEASE)
    r = _run_setup_cell_on_colab(repo)
    assert "is not a tag or branch" not in r.stderr
    assert "RuntimeError: pip could not install bigmodel @ git+file://" in r.stderr, r.stderr
    assert r.stdout.strip(), "pip's own message is printed"


# --- make release -------------------------------------------------------------------------


def _make(repo: Path, *args: str) -> subprocess.CompletedProcess:
    """``make`` in ``repo`` with this interpreter's venv, never (re)building a venv."""
    bin_dir = Path(sys.executable).parent
    return subprocess.run(["make", "--no-print-directory", "-o", "venv", f"BIN={bin_dir}", *args],
                          cwd=repo, capture_output=True, text=True, timeout=120)


def test_make_release_tests_the_wheel_then_tags_the_release_and_never_pushes():
    r = _make(ROOT, "-n", "release")
    assert r.returncode == 0, r.stderr
    plan = r.stdout
    steps = ["pip wheel", "-m venv", "pip install", "jupyter-execute", f"git tag -a {nbtools.RELEASE} "]
    assert all(step in plan for step in steps), plan
    assert "-c constraints.txt" in plan
    assert any("jupyter-execute" in line and "00_setup.ipynb" in line for line in plan.splitlines())
    assert [plan.index(step) for step in steps] == sorted(plan.index(step) for step in steps)
    assert not [line for line in plan.splitlines() if line.lstrip().startswith("git push")]
    assert f"git push origin {nbtools.RELEASE}" in plan  # printed as the next step


def test_make_release_refuses_a_dirty_tree_an_existing_tag_or_a_stale_ref(tmp_path):
    repo = tmp_path / "repo"
    for name in ["Makefile", "pyproject.toml", "_config.yml", "requirements.txt", "constraints.txt",
                 "lib/bigmodel/__init__.py",
                 "tools/nbtools.py", *(f"book/md/{p.name}" for p in (BOOK / "md").glob("*.md"))]:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, repo / name)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "a release candidate")

    r = _make(repo, "release-check")
    assert r.returncode == 0 and f"ready to tag {nbtools.RELEASE}" in r.stdout, r.stdout + r.stderr
    (repo / "stray.txt").write_text("not committed\n")
    r = _make(repo, "release-check")
    assert r.returncode != 0 and "working tree is not clean" in r.stdout, r.stdout + r.stderr
    (repo / "stray.txt").unlink()
    _git(repo, "tag", "-a", nbtools.RELEASE, "-m", "made before")
    r = _make(repo, "release-check")
    assert r.returncode != 0 and f"tag {nbtools.RELEASE} exists" in r.stdout, r.stdout + r.stderr
    _git(repo, "tag", "-d", nbtools.RELEASE)
    # the launch button naming another ref than the setup cells: no tag either
    config = repo / "_config.yml"
    config.write_text(config.read_text().replace(f"branch: {nbtools.RELEASE}", "branch: main"))
    _git(repo, "commit", "-q", "-am", "the button opens main")
    r = _make(repo, "release-check")
    assert r.returncode != 0 and "run `python tools/nbtools.py setup-cells`" in r.stderr, r.stderr
