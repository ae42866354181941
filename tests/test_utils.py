import random

import numpy as np
import pytest
import torch

from mlpbook import utils


def test_set_seed_makes_torch_numpy_and_python_repeat():
    utils.set_seed(3)
    first = (torch.rand(3), np.random.rand(3), random.random())
    gen = utils.set_seed(3)
    second = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(first[0], second[0])
    assert np.array_equal(first[1], second[1])
    assert first[2] == second[2]
    assert torch.equal(torch.rand(2, generator=gen), torch.rand(2, generator=utils.set_seed(3)))


@pytest.mark.parametrize("bad, error", [(-1, ValueError), (1.5, TypeError), ("0", TypeError),
                                        (True, TypeError)])
def test_set_seed_rejects_bad_seeds(bad, error):
    with pytest.raises(error, match="seed"):
        utils.set_seed(bad)


def test_get_device_prefers_an_available_device():
    device = utils.get_device()
    expected = "cuda" if torch.cuda.is_available() else (
        "mps" if torch.backends.mps.is_available() else "cpu")
    assert device.type == expected
    assert utils.get_device("cpu") == torch.device("cpu")


def test_get_device_rejects_unknown_and_unavailable_names():
    with pytest.raises(ValueError, match="expected one of"):
        utils.get_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="not available"):
            utils.get_device("cuda")


def test_is_static_follows_the_environment(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("MLPBOOK_STATIC", "1")
    assert utils.is_static()
    monkeypatch.setenv("MLPBOOK_STATIC", "")
    assert not utils.is_static()
    monkeypatch.setenv("CI", "true")
    assert utils.is_static()
    monkeypatch.setenv("MLPBOOK_STATIC", "0")  # asked for live widgets: CI does not override
    assert not utils.is_static()
    monkeypatch.setenv("MLPBOOK_STATIC", "1")
    assert utils.is_static()
