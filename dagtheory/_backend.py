"""Where the numeric iterations run: NumPy (the default) or PyTorch on CPU or CUDA.

Arrays are validated once, in NumPy, by :mod:`dagtheory._validation`. The
functions that iterate (signal curves, fidelities, absorption CDFs, mixing and
hitting times, the mixing proxy) then move the validated array to an
:class:`Engine` and run their loops there; their results come back as NumPy
arrays. Exact (``Fraction``) arrays always run on NumPy.

``backend=None`` picks PyTorch for a ``torch.Tensor`` input (on the tensor's
device) and NumPy for anything else. Computation is in float64 unless
``dtype="float32"`` is asked for explicitly; float32 inputs are widened.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

from .exceptions import InvalidInputError

__all__ = ["BACKENDS", "EXACT_OR_FLOAT64", "Engine", "choose_engine", "is_tensor"]

#: The backends accepted by ``backend=``.
BACKENDS = ("numpy", "torch")

_DTYPES = {"float64": "float64", "float32": "float32", "double": "float64", "float": "float32"}


def is_tensor(value):
    """True for a ``torch.Tensor``, tested without importing torch."""
    return type(value).__module__.split(".")[0] == "torch" and hasattr(value, "device")


@dataclass(frozen=True)
class Engine:
    """A backend, a device and a floating dtype for the numeric iterations.

    Attributes
    ----------
    backend : {"numpy", "torch"}
    device : str or None
        The torch device (``"cpu"``, ``"cuda"``, ``"cuda:1"``); ``None`` for NumPy.
    dtype : {"float64", "float32"}
    """

    backend: str = "numpy"
    device: Any = None
    dtype: str = "float64"

    def put(self, array):
        """A validated NumPy array on this engine (exact arrays are returned unchanged)."""
        if array.dtype == object:
            return array
        if self.backend == "numpy":
            return array.astype(self.dtype, copy=False)
        torch = _import_torch()
        if not array.flags.writeable:  # a broadcast view: torch wants memory of its own
            array = np.array(array)
        tensor = torch.from_numpy(np.ascontiguousarray(array))
        return tensor.to(device=self.device, dtype=getattr(torch, self.dtype))

    def put_mask(self, array):
        """A NumPy bool or int array on this engine's device, type unchanged."""
        if self.backend == "numpy":
            return array
        torch = _import_torch()
        return torch.from_numpy(np.ascontiguousarray(array)).to(self.device)

    def get(self, array):
        """A NumPy array (float64 for floating results) from an array of this engine."""
        if not is_tensor(array):
            return np.asarray(array, dtype=np.float64 if array.dtype.kind == "f" else None)
        array = array.detach().cpu()
        if array.is_floating_point():
            array = array.double()
        return array.numpy()


#: NumPy in the input's own arithmetic (float64, or exact for Fraction arrays).
EXACT_OR_FLOAT64 = Engine()


def _import_torch():
    try:
        import torch
    except ImportError as err:  # pragma: no cover - depends on the installation
        raise ImportError(
            'backend="torch" needs PyTorch: pip install "dagtheory[torch]"'
        ) from err
    return torch


def _check_dtype(dtype):
    if dtype is None:
        return "float64"
    name = str(getattr(dtype, "name", dtype)).replace("torch.", "")
    if name not in _DTYPES:
        raise InvalidInputError(f"dtype must be float64 or float32; got {dtype!r}")
    return _DTYPES[name]


def _check_device(torch, device):
    try:
        device = torch.device(device)
        torch.empty(1, device=device)
    except (RuntimeError, AssertionError, ValueError) as err:
        raise InvalidInputError(f"device {str(device)!r} is not available: {err}") from None
    if device.type == "meta":
        raise InvalidInputError("device 'meta' holds shapes but no values, so nothing can be computed there; "
                                "use 'cpu' or a GPU such as 'cuda'")
    return str(device)


def choose_engine(value=None, backend=None, device=None, dtype=None, *, exact=False):
    """The :class:`Engine` for an input ``value`` and the user's choices.

    Parameters
    ----------
    value : object
        The raw input; a ``torch.Tensor`` selects the torch backend on its device
        when ``backend`` is None.
    backend : {None, "numpy", "torch"}
    device : str, torch.device or None
        Torch device; ``None`` means the input tensor's device, else ``"cpu"``.
    dtype : {None, "float64", "float32"}
        Floating type of the iterations (default float64).
    exact : bool, keyword-only
        True for exact (Fraction) input, which runs on NumPy only.

    Examples
    --------
    >>> choose_engine([[1.0, 0.0], [0.5, 0.5]])
    Engine(backend='numpy', device=None, dtype='float64')
    >>> choose_engine(backend="numpy", dtype="float32").dtype
    'float32'
    """
    if backend is None:
        backend = "torch" if is_tensor(value) else "numpy"
    if backend not in BACKENDS:
        raise InvalidInputError(f"backend must be one of {BACKENDS} or None; got {backend!r}")
    dtype = _check_dtype(dtype)
    if exact and (backend != "numpy" or dtype != "float64" or device is not None):
        raise InvalidInputError(
            "exact (Fraction) input is computed with NumPy in exact arithmetic; "
            "drop backend/device/dtype or pass floats"
        )
    if backend == "numpy":
        if device is not None and str(device) != "cpu":
            raise InvalidInputError(f"the numpy backend runs on the CPU; got device {device!r}")
        return Engine("numpy", None, dtype)
    torch = _import_torch()
    if device is None:
        device = value.device if is_tensor(value) else "cpu"
    return Engine("torch", _check_device(torch, device), dtype)
