"""The documentation site: it builds in strict mode, and the pages' Python code runs.

Every ```` ```python ```` block of ``docs/*.md`` runs as its own test, in a fresh
namespace and a temporary working directory (as ``test_package`` runs the README's).
``../shared/paper-checkpoints`` in a block is the shared checkpoints folder; such a
block is skipped where that folder is missing. An HTML comment on the line before a
fence opts a block out:

* ``<!-- skip-test: REASON -->``: never run here (it needs a resource the tests do not
  have, e.g. a download, a GPU or the output of a long command);
* ``<!-- slow-test -->``: run only with ``DAGTHEORY_SLOW_DOCS=1`` (it takes minutes).
"""

import ast
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CHECKPOINTS_IN_DOCS = "../shared/paper-checkpoints"
FENCE = re.compile(r"```python\n(.*?)```", re.S)
MARKER = re.compile(r"<!--\s*(skip-test|slow-test)\b:?\s*(.*?)\s*-->")
#: What a block's imports need beyond the core install.
OPTIONAL = {"torch": "torch", "transformers": "transformers", "matplotlib": "matplotlib",
            "dagtheory.torch": "torch", "dagtheory.plots": "matplotlib",
            "dagtheory.scale": "distributed", "dask": "dask", "distributed": "distributed",
            "dagtheory.strategies": "hypothesis", "dagtheory.hunts": "hypothesis",
            "dagtheory.checks": "hypothesis", "hypothesis": "hypothesis"}

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _blocks():
    """``(page:line, code, marker, reason)`` for every Python block of the docs pages."""
    found = []
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            before = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
            marker = MARKER.search(before)
            found.append(pytest.param(
                match.group(1), marker.group(1) if marker else None,
                marker.group(2) if marker else "", id=f"{page.name}:{line}"))
    return found


def _needs(code):
    """The optional distributions a block imports."""
    needed = set()
    for node in ast.walk(ast.parse(code)):
        names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                 else [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
        for name in names:
            for prefix, distribution in OPTIONAL.items():
                if name == prefix or name.startswith(prefix + "."):
                    needed.add(distribution)
    return needed


def test_site_builds_strictly(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings_handlers.python")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout}\n{done.stderr}"
    api = (tmp_path / "site" / "api" / "fidelity" / "index.html").read_text(encoding="utf-8")
    assert 'id="dagtheory.fidelity.minimax_fidelity"' in api


def test_docs_have_python_blocks():
    assert len(_blocks()) >= 10


@pytest.mark.parametrize(("code", "marker", "reason"), _blocks())
def test_docs_python_blocks_run(code, marker, reason, request, monkeypatch, tmp_path):
    if marker == "skip-test":
        pytest.skip(reason or "marked skip-test in the page")
    if marker == "slow-test" and os.environ.get("DAGTHEORY_SLOW_DOCS") != "1":
        pytest.skip("slow; runs with DAGTHEORY_SLOW_DOCS=1")
    for distribution in sorted(_needs(code)):
        if importlib.util.find_spec(distribution) is None:
            pytest.skip(f"needs {distribution}")
    if CHECKPOINTS_IN_DOCS in code:
        code = code.replace(CHECKPOINTS_IN_DOCS, str(request.getfixturevalue("checkpoints")))
    monkeypatch.chdir(tmp_path)
    exec(compile(code, request.node.callspec.id, "exec"), {"__name__": "__docs__"})
