"""Test set-up shared by every test module."""

import os

# One thread: on these 2-core machines torch with two threads ran slower than one when the other core
# was busy (a browser, a server, a second process).
os.environ.setdefault("OMP_NUM_THREADS", "1")
# Measured worlds' tables go to a folder of this test session, never to the user's ~/.cache.
if "EXPLORER_CACHE_DIR" not in os.environ:
    import atexit
    import shutil
    import tempfile

    os.environ["EXPLORER_CACHE_DIR"] = tempfile.mkdtemp(prefix="explorer-test-cache-")
    atexit.register(shutil.rmtree, os.environ["EXPLORER_CACHE_DIR"], ignore_errors=True)  # tens of MB a run

import pytest  # noqa: E402

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover - torch is a core dependency
    torch = None

from explorer.backend import available_backends  # noqa: E402

#: Back ends every cross-back-end test runs on; GPU ones join when this machine has them.
BACKENDS = ["numpy", "torch", "array-api-strict", "torch:cuda", "cupy"]


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Each back end in turn; GPU back ends skip on a machine without a GPU."""
    if request.param not in available_backends():
        pytest.skip(f"back end {request.param} is not available here (needs a CUDA GPU)")
    return request.param


@pytest.fixture(autouse=True)
def _fresh_shared_results():
    """Each test starts without the process-wide shared tables and selections (explorer.shared), as it
    did before they existed; the table cache's own last two tables stay, as they always have."""
    from explorer import shared

    shared.clear()


@pytest.fixture
def link(monkeypatch):
    """Serve-like address bar for a page that reads its link: `link("?a=1")` is the Location it reads
    and writes back (the apps' link tests)."""
    import panel as pn
    from panel.io.location import Location

    def open_at(search: str) -> Location:
        location = Location(search=search)
        monkeypatch.setattr(pn.state, "_location", location)  # what pn.state.location is outside a session
        return location

    return open_at
