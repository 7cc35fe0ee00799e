"""Where arrays live: numpy (default), torch (CPU or CUDA), cupy, or array-api-strict (for tests).

Worlds, priors and annealing are written once against the Python array API standard, through
array-api-compat, so the same code runs on every back end. Random numbers are always drawn on the host
with NumPy from an explicit seed and then moved to the device: that keeps results identical across back
ends (the array API has no random module, and each library's generator gives different streams).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from explorer.errors import ExplorerError

#: Names accepted by :func:`get_backend`; "torch:cuda" and "cupy" need a CUDA GPU.
BACKEND_NAMES = ("numpy", "torch", "torch:cpu", "torch:cuda", "cupy", "array-api-strict")


@dataclass(frozen=True)
class Backend:
    """An array namespace plus the device arrays are created on."""

    name: str
    xp: ModuleType
    device: Any = None

    def asarray(self, host: Any, dtype=None):
        """Move a host (NumPy) array or scalar onto this back end."""
        host = np.asarray(host)
        if dtype is None:
            dtype = {"f": self.xp.float64, "i": self.xp.int64, "u": self.xp.int64, "b": self.xp.bool}[host.dtype.kind]
        if self.name.startswith("torch"):
            import torch

            return torch.as_tensor(host, device=self.device).to(dtype)
        if self.device is not None:
            return self.xp.asarray(host, dtype=dtype, device=self.device)
        return self.xp.asarray(host, dtype=dtype)

    def to_numpy(self, array: Any) -> np.ndarray:
        """Copy an array of this back end to the host."""
        if self.name.startswith("torch"):
            return array.detach().cpu().numpy()
        if self.name == "cupy":
            return array.get()
        return np.asarray(array)

    def synchronize(self) -> None:
        """Wait for queued device work, so timings measure the work and not the launch."""
        if self.name == "torch:cuda":
            import torch

            torch.cuda.synchronize()
        elif self.name == "cupy":
            import cupy

            cupy.cuda.Device().synchronize()


def _gpu_error(name: str, why: str) -> ExplorerError:
    return ExplorerError(
        f"backend {name!r} needs a CUDA GPU: {why}. Back ends available here: {', '.join(available_backends())}"
    )


def get_backend(name: str | Backend = "numpy") -> Backend:
    """Resolve a back-end name ("numpy", "torch", "torch:cuda", "cupy", "array-api-strict")."""
    if isinstance(name, Backend):
        return name
    if name not in BACKEND_NAMES:
        raise ExplorerError(f"backend {name!r} is unknown; choose one of: {', '.join(BACKEND_NAMES)}")
    if name == "numpy":
        import array_api_compat.numpy as xp

        return Backend("numpy", xp)
    if name == "array-api-strict":
        try:
            xp = importlib.import_module("array_api_strict")
        except ImportError:
            raise ExplorerError("backend 'array-api-strict' needs the array-api-strict package (the dev extra)") from None
        return Backend(name, xp)
    if name in ("torch", "torch:cpu"):
        import array_api_compat.torch as xp

        return Backend("torch:cpu", xp, "cpu")
    if name == "torch:cuda":
        import torch

        if not torch.cuda.is_available():
            raise _gpu_error(name, "torch sees no CUDA device")
        import array_api_compat.torch as xp

        return Backend(name, xp, "cuda")
    # cupy: imported lazily, it is an optional extra (pip install 'speed-prior-explorer[gpu]')
    try:
        importlib.import_module("cupy")
        xp = importlib.import_module("array_api_compat.cupy")
        import cupy

        if cupy.cuda.runtime.getDeviceCount() < 1:
            raise _gpu_error(name, "cupy sees no CUDA device")
    except ImportError:
        raise _gpu_error(name, "the cupy package is not installed (pip install 'speed-prior-explorer[gpu]')") from None
    except Exception as exc:  # cupy raises its own CUDA runtime errors when no driver is present
        if isinstance(exc, ExplorerError):
            raise
        raise _gpu_error(name, f"cupy could not reach a GPU ({type(exc).__name__})") from None
    return Backend("cupy", xp)


def available_backends() -> list[str]:
    """The back ends this machine can run right now."""
    names = ["numpy", "torch"]
    try:
        importlib.import_module("array_api_strict")
        names.append("array-api-strict")
    except ImportError:
        pass
    try:
        import torch

        if torch.cuda.is_available():
            names.append("torch:cuda")
    except ImportError:
        names.remove("torch")
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() > 0:
            names.append("cupy")
    except Exception:
        pass
    return names
