"""Package-level promises: the public names, no torch on import, the README's code runs."""

import re
import subprocess
import sys
from pathlib import Path

import dagtheory

README = Path(__file__).resolve().parents[1] / "README.md"


def test_public_names_exist():
    for name in dagtheory.__all__:
        assert hasattr(dagtheory, name), name


def test_import_does_not_import_torch():
    code = "import sys, dagtheory; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_readme_starts_with_the_two_commands():
    block = re.search(r"```sh\n(.*?)```", README.read_text(), re.S).group(1)
    assert [line.split()[:2] for line in block.strip().splitlines()] == [["make", "demo"], ["make", "test"]]


def test_readme_python_blocks_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, str(README), "exec"), {})
