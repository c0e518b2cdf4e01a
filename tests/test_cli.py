"""The dagtheory command (dagtheory/cli.py), in process and as a console script."""

import json
import shutil
import subprocess
import sys

import pytest

import dagtheory
from dagtheory.cli import main


def test_example2_table(capsys):
    assert main(["example2"]) == 0
    out = capsys.readouterr().out
    assert "3/8 (0.375)" in out and "871696090/3486784401" in out and "10/9" in out


def test_example2_json_and_horizon(capsys):
    assert main(["example2", "--json", "--horizon", "20"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["horizon"] == 20
    assert [op["minimax"]["exact"] for op in data["operators"]] == [
        "3/8", "871696090/3486784401", "5/12"]
    assert data["ratio"]["exact"] == "10/9"


def test_mixing_example_json(capsys):
    assert main(["mixing-example", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [w["mixing_time"] for w in data["walks"]] == [10, 10, 7]


@pytest.mark.parametrize("argv", [["example2", "--horizon", "0"], ["example2", "--horizon", "x"],
                                  ["nonsense"]])
def test_bad_arguments_exit_2_without_traceback(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "error" in err and "Traceback" not in err


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert dagtheory.__version__ in capsys.readouterr().out
    assert main([]) == 0
    assert "example2" in capsys.readouterr().out


def test_console_script_runs():
    script = shutil.which("dagtheory", path=str(__import__("pathlib").Path(sys.executable).parent))
    command = [script] if script else [sys.executable, "-m", "dagtheory"]
    done = subprocess.run(command + ["example2", "--json"], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout)["ratio"]["exact"] == "10/9"
