"""Shared fixtures and Hypothesis profiles.

Profiles: ``ci`` (default; deterministic and quick) and ``thorough`` (long hunts).
Choose one with ``HYPOTHESIS_PROFILE=thorough``.
"""

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=40, deadline=None, derandomize=True, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough", max_examples=2000, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

#: The trained models published with the paper, beside the checkout (absent on some machines).
CHECKPOINTS = Path(__file__).resolve().parents[2] / "shared" / "paper-checkpoints"


@pytest.fixture
def checkpoints():
    """Path of the shared paper checkpoints; skips the test where they are absent."""
    if not CHECKPOINTS.is_dir():
        pytest.skip(f"shared paper checkpoints not found at {CHECKPOINTS}")
    return CHECKPOINTS


@pytest.fixture(scope="module")
def one_torch_thread():
    """Torch work in a module runs on one thread (the machine's cores are shared).

    Modules opt in with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``.
    """
    try:
        import torch
    except ImportError:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
