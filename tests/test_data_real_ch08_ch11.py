"""The digits (Chapter 8) and breast-cancer (Chapter 11) loaders against scikit-learn's copies."""

import numpy as np
import pytest
import torch
from sklearn import datasets as skdatasets

from mlpbook import data


def test_digits_are_the_1797_images_of_scikit_learn_as_float32_and_int64():
    X, y = data.load_digits()
    reference = skdatasets.load_digits()
    assert X.dtype == torch.float32 and y.dtype == torch.int64
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert np.array_equal(X.numpy(), reference.data) and np.array_equal(y.numpy(),
                                                                         reference.target)
    assert X.min() == 0 and X.max() == 16
    assert torch.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_digit_rows_reshape_to_scikit_learns_8x8_images():
    X, _ = data.load_digits()
    images = skdatasets.load_digits().images
    assert np.array_equal(X[5].reshape(data.DIGITS_IMAGE_SHAPE).numpy(), images[5])


def test_fewer_digit_classes_keep_only_the_small_digits():
    X, y = data.load_digits(n_class=3)
    assert y.unique().tolist() == [0, 1, 2] and len(X) == 178 + 182 + 177


def test_breast_cancer_codes_malignant_as_the_positive_class_by_default():
    X, y = data.load_breast_cancer()
    reference = skdatasets.load_breast_cancer()
    assert X.dtype == torch.float32 and y.dtype == torch.int64
    assert X.shape == (569, 30) and y.shape == (569,)
    assert np.allclose(X.numpy(), reference.data, rtol=1e-6)
    malignant = list(reference.target_names).index("malignant")
    assert np.array_equal(y.numpy() == 1, reference.target == malignant)
    assert torch.bincount(y).tolist() == [357, 212]


def test_breast_cancer_positive_benign_flips_the_labels():
    _, y = data.load_breast_cancer()
    _, y_benign = data.load_breast_cancer(positive="benign")
    assert torch.equal(y_benign, 1 - y)


def test_breast_cancer_feature_names_match_scikit_learns():
    assert list(data.BREAST_CANCER_FEATURES) == list(
        skdatasets.load_breast_cancer().feature_names)


@pytest.mark.parametrize("call, error, message", [
    (lambda: data.load_digits(n_class=1), ValueError, "n_class: expected an int >= 2"),
    (lambda: data.load_digits(n_class=11), ValueError, "n_class: expected an int <= 10"),
    (lambda: data.load_digits(n_class=3.0), TypeError, "n_class: expected an int"),
    (lambda: data.load_digits(n_class=True), TypeError, "n_class: expected an int"),
    (lambda: data.load_breast_cancer(positive="cancer"), ValueError, "expected one of"),
    (lambda: data.load_breast_cancer(positive=1), ValueError, "expected one of"),
])
def test_real_loaders_reject_bad_arguments_clearly(call, error, message):
    with pytest.raises(error, match=message):
        call()
