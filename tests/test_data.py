import numpy as np
import pytest
import torch
from sklearn.svm import LinearSVC

from mlpbook import data

SYNTHETIC = [data.blobs, data.xor, data.moons, data.circles, data.spirals]


@pytest.mark.parametrize("make", SYNTHETIC)
def test_synthetic_sets_have_float32_inputs_int64_labels_and_are_seeded(make):
    X, y = make(n=90, seed=1)
    assert X.dtype == torch.float32 and y.dtype == torch.int64
    assert X.shape == (90, 2) and y.shape == (90,)
    X2, y2 = make(n=90, seed=1)
    assert torch.equal(X, X2) and torch.equal(y, y2)
    assert not torch.equal(X, make(n=90, seed=2)[0])


def test_blobs_are_linearly_separable_with_the_requested_margin():
    X, y = data.blobs(200, margin=0.4, seed=0)
    distance = X.sum(dim=1) / 2**0.5  # signed distance to x1 + x2 = 0
    t = 2 * y - 1
    assert (t * distance).min() >= 0.4
    assert LinearSVC(C=1e4, max_iter=100_000).fit(X.numpy(), y.numpy()).score(
        X.numpy(), y.numpy()) == 1.0


@pytest.mark.parametrize("gate, outputs", [("and", [0, 0, 0, 1]), ("or", [0, 1, 1, 1]),
                                           ("nand", [1, 1, 1, 0]), ("xor", [0, 1, 1, 0])])
def test_logic_gates_match_their_truth_tables(gate, outputs):
    X, y = data.logic_gate(gate)
    a, b = X[:, 0].bool(), X[:, 1].bool()
    expected = {"and": a & b, "or": a | b, "nand": ~(a & b), "xor": a ^ b}[gate]
    assert y.tolist() == outputs == expected.float().tolist()


def test_spirals_have_balanced_classes():
    _, y = data.spirals(n=300, classes=3)
    assert torch.bincount(y.long()).tolist() == [100, 100, 100]


def test_split_is_a_stratified_partition():
    X, y = data.moons(200, seed=0)
    X = torch.cat([X, torch.arange(200.0)[:, None]], dim=1)  # remember each row's index
    parts = data.split(X, y, val=0.2, test=0.25, seed=0)
    X_tr, y_tr, X_va, y_va, X_te, y_te = parts
    assert (len(X_tr), len(X_va), len(X_te)) == (110, 40, 50)
    ids = torch.cat([X_tr[:, 2], X_va[:, 2], X_te[:, 2]]).long()
    assert sorted(ids.tolist()) == list(range(200))
    for y_part in (y_tr, y_va, y_te):
        assert abs(y_part.float().mean().item() - 0.5) < 0.05


@pytest.mark.parametrize("call, error, message", [
    (lambda: data.logic_gate("xnor"), ValueError, "expected one of"),
    (lambda: data.moons(0), ValueError, "n: expected an int >= 2"),
    (lambda: data.moons(10.0), TypeError, "n: expected an int"),
    (lambda: data.circles(noise=-0.1), ValueError, "noise"),
    (lambda: data.spirals(classes=1), ValueError, "classes"),
    (lambda: data.blobs(margin=2.0), ValueError, "margin"),
    (lambda: data.split(torch.zeros(5, 2), torch.zeros(4)), ValueError, "same number of rows"),
    (lambda: data.split(torch.zeros(5, 2), torch.zeros(5, 1)), ValueError, "1-D"),
    (lambda: data.split([[0.0]], torch.zeros(1)), TypeError, "torch.Tensor"),
    (lambda: data.split(torch.full((5, 2), np.nan), torch.zeros(5)), ValueError, "NaN"),
    (lambda: data.split(torch.zeros(9, 2), torch.zeros(9), val=0.5, test=0.5), ValueError,
     "less than 1"),
])
def test_data_functions_reject_bad_input_clearly(call, error, message):
    with pytest.raises(error, match=message):
        call()
