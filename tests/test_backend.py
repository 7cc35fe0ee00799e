import numpy as np
import pytest

from explorer.backend import BACKEND_NAMES, available_backends, get_backend
from explorer.errors import ExplorerError


def test_numpy_is_the_default():
    assert get_backend().name == "numpy"


def test_round_trip_keeps_values(backend):
    be = get_backend(backend)
    host = np.array([0.5, -1.25, 3.0])
    assert np.array_equal(be.to_numpy(be.asarray(host)), host)
    ints = be.asarray(np.array([1, 2, 3]))
    assert be.to_numpy(ints).dtype.kind == "i"


def test_unknown_backend_names_the_choices():
    with pytest.raises(ExplorerError, match="unknown.*numpy"):
        get_backend("tensorflow")


@pytest.mark.parametrize("name", ["torch:cuda", "cupy"])
def test_gpu_backend_without_gpu_is_a_clear_error(name):
    if name in available_backends():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ExplorerError, match="needs a CUDA GPU.*available here: numpy"):
        get_backend(name)


def test_available_backends_are_all_usable():
    for name in available_backends():
        assert name in BACKEND_NAMES
        get_backend(name)
