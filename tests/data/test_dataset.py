"""Datasets: TensorDataset, Subset, ConcatDataset, ChainDataset, random_split, SerializedList."""
import pickle

import numpy as np
import pytest

import ember
from ember.data import (ChainDataset, ConcatDataset, Dataset, IterableDataset, SerializedList, Subset, TensorDataset,
                        random_split)


class Range(Dataset):
    def __init__(self, n, offset=0):
        self.n, self.offset = n, offset

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return self.offset + i


class Stream(IterableDataset):
    def __init__(self, items):
        self.items = items

    def __iter__(self):
        return iter(self.items)


def test_tensor_dataset_items_are_views_of_rows():
    x = ember.arange(12.0).reshape(4, 3)
    y = ember.tensor([3, 1, 4, 1])
    ds = TensorDataset(x, y)
    assert len(ds) == 4
    a, b = ds[2]
    np.testing.assert_array_equal(a.numpy(), np.arange(12.0).reshape(4, 3)[2])
    assert b.item() == 4
    assert a._shares_storage(x)


def test_tensor_dataset_errors():
    with pytest.raises(ValueError, match=r"\[TensorDataset\] size mismatch.*got 3 for tensor 1"):
        TensorDataset(ember.zeros(4), ember.zeros(3))
    with pytest.raises(TypeError, match="expected a Tensor, got list"):
        TensorDataset([1, 2])
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()


def test_subset_and_getitems():
    ds = Subset(Range(10, offset=100), [7, 2, 5])
    assert len(ds) == 3
    assert [ds[i] for i in range(3)] == [107, 102, 105]
    assert ds.__getitems__([2, 0]) == [105, 107]


def test_concat_dataset_indexing():
    ds = ConcatDataset([Range(3), Range(0), Range(4, offset=10)])
    assert len(ds) == 7
    assert ds.cumulative_sizes == [3, 3, 7]
    assert [ds[i] for i in range(7)] == [0, 1, 2, 10, 11, 12, 13]
    assert ds[-1] == 13 and ds[-7] == 0
    with pytest.raises(IndexError, match=r"expected -7 <= index < 7, got 7"):
        ds[7]
    with pytest.raises(IndexError):
        ds[-8]
    assert [(Range(2) + Range(2, offset=5))[i] for i in range(4)] == [0, 1, 5, 6]


def test_concat_dataset_errors():
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])
    with pytest.raises(TypeError, match="ChainDataset"):
        ConcatDataset([Stream([1])])


def test_chain_dataset():
    ds = Stream([1, 2]) + Stream([3])
    assert isinstance(ds, ChainDataset)
    assert list(ds) == [1, 2, 3]
    assert list(ChainDataset([Stream("ab"), Stream("c")])) == ["a", "b", "c"]


def test_random_split_lengths_and_reproducible():
    ds = Range(10)
    a, b, c = random_split(ds, [5, 3, 2], generator=ember.Generator().manual_seed(42))
    assert (len(a), len(b), len(c)) == (5, 3, 2)
    items = [s[i] for s in (a, b, c) for i in range(len(s))]
    assert sorted(items) == list(range(10))
    a2, b2, c2 = random_split(ds, [5, 3, 2], generator=ember.Generator().manual_seed(42))
    assert a.indices == a2.indices and b.indices == b2.indices and c.indices == c2.indices
    a3, _, _ = random_split(ds, [5, 3, 2], generator=ember.Generator().manual_seed(43))
    assert a3.indices != a.indices
    # the global generator, seeded, gives the same split twice
    ember.manual_seed(7)
    g1 = random_split(ds, [4, 6])[0].indices
    ember.manual_seed(7)
    assert random_split(ds, [4, 6])[0].indices == g1


def test_random_split_fractions():
    # PyTorch: floor(n * f) each, the remainder handed out round-robin from the first split
    splits = random_split(Range(10), [0.33, 0.33, 0.34], generator=ember.Generator().manual_seed(0))
    assert [len(s) for s in splits] == [4, 3, 3]
    splits = random_split(Range(5), [0.5, 0.5], generator=ember.Generator().manual_seed(0))
    assert [len(s) for s in splits] == [3, 2]
    with pytest.warns(UserWarning, match="index 1 is 0"):
        random_split(Range(1), [0.5, 0.5])


def test_random_split_errors():
    with pytest.raises(ValueError, match=r"must sum to the length of the dataset: expected 10, got 9"):
        random_split(Range(10), [5, 4])
    with pytest.raises(ValueError, match="non-negative"):
        random_split(Range(10), [12, -2])


def test_serialized_list_round_trip():
    items = [{"path": f"img{i}.png", "label": i % 3} for i in range(50)] + [(1, 2.5), "s", None]
    s = SerializedList(items)
    assert len(s) == 53
    assert [s[i] for i in range(53)] == items
    assert list(s) == items
    assert s[-1] is None and s[-3] == (1, 2.5)
    assert s[1:4] == items[1:4]
    with pytest.raises(IndexError, match=r"expected -53 <= index < 53, got 53"):
        s[53]
    # reading hands back fresh objects, never the stored ones
    assert s[0] is not s[0]
    assert pickle.loads(pickle.dumps(s))[5] == items[5]
    assert len(SerializedList([])) == 0
