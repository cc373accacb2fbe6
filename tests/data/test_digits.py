"""The shipped UCI digits: values against a NumPy parse of the file, the split, the licence."""
import gzip
import hashlib
import os

import numpy as np
import pytest

import ember
from ember.data import DataLoader
from ember.data.datasets import DIGITS_PATH, Digits, load_digits

COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]  # images per class in the UCI test split


@pytest.fixture(scope="module")
def reference():
    with gzip.open(DIGITS_PATH, "rt") as f:
        raw = np.loadtxt(f, delimiter=",", dtype=np.float64)
    return raw[:, :64].reshape(-1, 1, 8, 8) / 16.0, raw[:, 64].astype(np.int64)


def test_load_digits_matches_the_file(reference):
    x, y = load_digits()
    assert x.shape == (1797, 1, 8, 8) and x.dtype == ember.float32
    assert y.shape == (1797,) and y.dtype == ember.int64
    np.testing.assert_array_equal(x.numpy().astype(np.float64), reference[0])  # k/16 is exact in float32
    np.testing.assert_array_equal(y.numpy(), reference[1])
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    assert np.bincount(y.numpy(), minlength=10).tolist() == COUNTS
    x[0].fill_(5.0)  # callers get their own copies
    assert float(load_digits()[0].max()) == 1.0


def test_split_is_stratified_disjoint_and_fixed(reference):
    train, test = Digits(train=True), Digits(train=False)
    assert len(train) + len(test) == 1797
    assert set(train.indices).isdisjoint(test.indices)
    assert sorted(train.indices + test.indices) == list(range(1797))
    test_counts = np.bincount(test.targets.numpy(), minlength=10)
    assert test_counts.tolist() == [int(round(c * 0.2)) for c in COUNTS]
    assert Digits(train=False).indices == test.indices  # same split every call
    assert Digits(train=False, seed=1).indices != test.indices
    assert len(Digits(train=False, split=0.5)) == sum(int(round(c * 0.5)) for c in COUNTS)
    img, label = test[3]
    j = test.indices[3]
    assert isinstance(label, int) and label == reference[1][j]
    np.testing.assert_array_equal(img.numpy(), reference[0][j])
    assert img.shape == (1, 8, 8)


def test_digits_transforms_and_loader():
    ds = Digits(train=False, transform=lambda im: im * 2, target_transform=lambda y: y + 100)
    img, label = ds[0]
    assert label == int(ds.targets[0]) + 100
    np.testing.assert_array_equal(img.numpy(), ds.data[0].numpy() * 2)
    x, y = next(iter(DataLoader(Digits(), batch_size=64, shuffle=True)))
    assert x.shape == (64, 1, 8, 8) and y.dtype == ember.int64


def test_split_errors():
    with pytest.raises(ValueError, match=r"expected 0 < split < 1, got 1.5"):
        Digits(split=1.5)


def test_licence_file_is_shipped():
    data_dir = os.path.dirname(DIGITS_PATH)
    with open(os.path.join(data_dir, "README.md")) as f:
        readme = f.read()
    assert "CC BY 4.0" in readme and "Alpaydin" in readme and "UCI" in readme
    with open(DIGITS_PATH, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    assert digest in readme
