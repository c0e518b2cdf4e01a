"""The scripts in examples/ run and print what the theory says."""

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run(script, *args):
    done = subprocess.run([sys.executable, str(EXAMPLES / script), *args], capture_output=True,
                          text=True, check=True)
    return done.stdout


def test_example2_script_prints_the_exact_numbers():
    """§2 Example 2: 3/8, 871696090/3486784401, 5/12, ρ = 10/9, head 2's limit 1/4."""
    out = run("example2.py")
    for text in ("= 3/8", "= 871696090/3486784401", "= 5/12", "ρ = 10/9", "φ_min = 1/4"):
        assert text in out


def test_analyze_checkpoint_script(checkpoints):
    out = run("analyze_checkpoint.py", str(checkpoints / "4_heads_copy.pt"), "--samples", "1")
    rows = [line.split() for line in out.splitlines()[1:]]
    assert [row[0] for row in rows] == ["0", "1", "2", "3"]
    assert all(float(row[1]) >= 0 for row in rows)
