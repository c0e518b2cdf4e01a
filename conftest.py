"""Skip the doctests of optional layers whose dependencies are not installed."""

import importlib.util

collect_ignore = []
if importlib.util.find_spec("torch") is None:
    collect_ignore += ["dagtheory/torch", "dagtheory/demo.py"]
if importlib.util.find_spec("matplotlib") is None:
    collect_ignore += ["dagtheory/plots.py"]
if importlib.util.find_spec("hypothesis") is None:
    collect_ignore += ["dagtheory/strategies.py", "dagtheory/hunts.py", "dagtheory/checks.py"]
