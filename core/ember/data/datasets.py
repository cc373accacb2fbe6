"""Small data sets shipped with ember: the UCI handwritten digits (1,797 8x8 images, CC BY 4.0;
see ``_data/README.md`` for the attribution). Domain datasets that download live in
ember.vision / ember.audio / ember.text, not here."""
import csv
import gzip
import os

import ember

from .dataset import Dataset

__all__ = ["load_digits", "Digits"]

DIGITS_PATH = os.path.join(os.path.dirname(__file__), "_data", "digits.csv.gz")
_cache = {}


def _read_digits(path):
    pixels, labels = [], []
    with gzip.open(path, "rt", newline="") as f:
        for lineno, row in enumerate(csv.reader(f), 1):
            if len(row) != 65:
                raise ValueError(f"[load_digits] {path} line {lineno}: expected 65 values, got {len(row)}")
            values = [int(v) for v in row]
            pixels.append(values[:64])
            labels.append(values[64])
    images = ember.tensor(pixels, dtype=ember.float32).reshape(len(labels), 1, 8, 8) / 16.0
    return images, ember.tensor(labels, dtype=ember.int64)


def load_digits():
    """Loads the UCI handwritten digits (the copy shipped with scikit-learn).

    Returns:
        (images, labels): images a float32 tensor (1797, 1, 8, 8) with values in [0, 1]
        (the 0..16 grey levels divided by 16); labels an int64 tensor (1797,) in 0..9.
        Fresh copies on every call (the parsed file is cached).

    Example:
        >>> x, y = load_digits(); x.shape, y.shape, y[:3].tolist()
        ((1797, 1, 8, 8), (1797,), [0, 1, 2])
    """
    if "digits" not in _cache:
        _cache["digits"] = _read_digits(DIGITS_PATH)
    images, labels = _cache["digits"]
    return images.clone(), labels.clone()


def _split_indices(labels, split, seed):
    """Stratified split: in each class, a seeded permutation puts round(n_c * split) items in
    the held-out part. Returns (train, test) sorted index lists."""
    g = ember.Generator().manual_seed(seed)
    by_class = {}
    for i, c in enumerate(labels):
        by_class.setdefault(c, []).append(i)
    train, test = [], []
    for c in sorted(by_class):
        idx = by_class[c]
        perm = ember.randperm(len(idx), generator=g).tolist()
        n_test = int(round(len(idx) * split))
        test.extend(idx[p] for p in perm[:n_test])
        train.extend(idx[p] for p in perm[n_test:])
    return sorted(train), sorted(test)


class Digits(Dataset):
    """The handwritten digits as a Dataset with a fixed, stratified train/test split.

    Args:
        train (bool, default True): the training part; False gives the held-out part.
        split (float, default 0.2): fraction of each class held out (0 < split < 1).
        seed (int, default 0): seed of the split; the same arguments give the same split in
            every process and every call.
        transform (callable, default None): applied to each image.
        target_transform (callable, default None): applied to each label.

    Returns:
        A dataset whose items are ``(image, label)``: image a float32 (1, 8, 8) view in [0, 1],
        label an int. Attributes ``data`` (N, 1, 8, 8), ``targets`` (N,) int64 and
        ``indices`` (positions in load_digits()).

    Example:
        >>> train, test = Digits(train=True), Digits(train=False)
        >>> len(train) + len(test), train[0][0].shape
        (1797, (1, 8, 8))
    """

    classes = [str(i) for i in range(10)]

    def __init__(self, train=True, split=0.2, seed=0, transform=None, target_transform=None):
        if not isinstance(split, (int, float)) or not 0 < split < 1:
            raise ValueError(f"[Digits] split is the held-out fraction: expected 0 < split < 1, got {split!r}")
        images, labels = load_digits()
        label_list = labels.tolist()
        train_idx, test_idx = _split_indices(label_list, split, seed)
        self.train = train
        self.indices = train_idx if train else test_idx
        sel = ember.tensor(self.indices, dtype=ember.int64)
        self.data = images.index_select(0, sel)
        self.targets = labels.index_select(0, sel)
        self._labels = self.targets.tolist()
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return len(self._labels)

    def __getitem__(self, i):
        image, label = self.data[i], self._labels[i]
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label

    def __repr__(self):
        return f"Digits(train={self.train}, n={len(self)})"
