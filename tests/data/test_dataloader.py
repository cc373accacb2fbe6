"""DataLoader in the main process: batching, shuffling, samplers, len, argument checks."""
import numpy as np
import pytest

import ember
from ember.data import (BatchSampler, DataLoader, Dataset, IterableDataset, SequentialSampler, TensorDataset,
                        get_worker_info)


class Items(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": ember.full((2,), float(i)), "i": i, "name": f"s{i}"}


class Stream(IterableDataset):
    def __init__(self, n, with_len=True):
        self.n, self.with_len = n, with_len

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        if not self.with_len:
            raise TypeError("no len")
        return self.n


def test_batches_in_order_with_last_short_batch():
    x = ember.arange(20.0).reshape(10, 2)
    y = ember.arange(10)
    batches = list(DataLoader(TensorDataset(x, y), batch_size=4))
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    np.testing.assert_array_equal(batches[2][0].numpy(), np.arange(20.0).reshape(10, 2)[8:])
    assert isinstance(batches[0], list)  # tuples collate to lists, as in PyTorch


def test_drop_last_and_len():
    ds = Items(10)
    assert len(DataLoader(ds, batch_size=4)) == 3
    assert len(DataLoader(ds, batch_size=4, drop_last=True)) == 2
    out = [b["i"].tolist() for b in DataLoader(ds, batch_size=4, drop_last=True)]
    assert out == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(DataLoader(ds, batch_size=None)) == 10
    assert len(DataLoader(ds, batch_size=5)) == 2


def test_nested_samples():
    b = next(iter(DataLoader(Items(5), batch_size=3)))
    assert b["x"].shape == (3, 2) and b["i"].tolist() == [0, 1, 2] and b["name"] == ["s0", "s1", "s2"]


def test_batch_size_none_converts_without_batching():
    class NumpyItems(Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return np.full(2, i, dtype=np.int16), i

    out = list(DataLoader(NumpyItems(), batch_size=None))
    assert len(out) == 3
    assert out[1][0].dtype == ember.int16 and out[1][0].tolist() == [1, 1] and out[1][1] == 1


def test_shuffle_is_seeded_by_global_and_by_generator():
    ds = Items(20)
    ember.manual_seed(5)
    a = [i for b in DataLoader(ds, batch_size=6, shuffle=True) for i in b["i"].tolist()]
    ember.manual_seed(5)
    b = [i for b in DataLoader(ds, batch_size=6, shuffle=True) for i in b["i"].tolist()]
    assert a == b and sorted(a) == list(range(20)) and a != list(range(20))
    g1 = DataLoader(ds, batch_size=6, shuffle=True, generator=ember.Generator().manual_seed(1))
    g2 = DataLoader(ds, batch_size=6, shuffle=True, generator=ember.Generator().manual_seed(1))
    e1 = [b["i"].tolist() for b in g1]
    assert e1 == [b["i"].tolist() for b in g2]
    assert [b["i"].tolist() for b in g1] != e1  # the next epoch reshuffles


def test_custom_sampler_batch_sampler_and_collate_fn():
    ds = Items(6)
    out = [b["i"].tolist() for b in DataLoader(ds, batch_size=2, sampler=[5, 4, 3, 2, 1, 0])]
    assert out == [[5, 4], [3, 2], [1, 0]]
    bs = BatchSampler(SequentialSampler(ds), 4, drop_last=False)
    assert [b["i"].tolist() for b in DataLoader(ds, batch_sampler=bs)] == [[0, 1, 2, 3], [4, 5]]
    assert [b["i"].tolist() for b in DataLoader(ds, batch_sampler=[[1, 3], [0]])] == [[1, 3], [0]]
    names = list(DataLoader(ds, batch_size=3, collate_fn=lambda items: [it["name"] for it in items]))
    assert names == [["s0", "s1", "s2"], ["s3", "s4", "s5"]]


def test_getitems_fetches_a_batch_at_once():
    class Batched(Dataset):
        calls = []

        def __len__(self):
            return 5

        def __getitem__(self, i):
            raise AssertionError("__getitems__ should be used")

        def __getitems__(self, idx):
            Batched.calls.append(list(idx))
            return [i * 10 for i in idx]

    out = [b.tolist() for b in DataLoader(Batched(), batch_size=2)]
    assert out == [[0, 10], [20, 30], [40]] and Batched.calls == [[0, 1], [2, 3], [4]]


def test_iterable_dataset_in_main_process():
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    assert list(DataLoader(Stream(3), batch_size=None)) == [0, 1, 2]
    assert len(DataLoader(Stream(7), batch_size=3)) == 3
    assert len(DataLoader(Stream(7), batch_size=3, drop_last=True)) == 2
    with pytest.raises(TypeError):
        len(DataLoader(Stream(7, with_len=False), batch_size=3))
    assert get_worker_info() is None


def test_argument_errors():
    ds = Items(4)
    with pytest.raises(ValueError, match="num_workers should be a non-negative int: got -1"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="timeout"):
        DataLoader(ds, timeout=-1)
    with pytest.raises(ValueError, match="prefetch_factor needs worker processes"):
        DataLoader(ds, prefetch_factor=2)
    with pytest.raises(ValueError, match="prefetch_factor should be a positive int: got 0"):
        DataLoader(ds, num_workers=1, prefetch_factor=0)
    with pytest.raises(ValueError, match="persistent_workers=True needs num_workers > 0"):
        DataLoader(ds, persistent_workers=True)
    with pytest.raises(ValueError, match="sampler is mutually exclusive with shuffle"):
        DataLoader(ds, sampler=[0, 1], shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler is mutually exclusive"):
        DataLoader(ds, batch_sampler=[[0]], batch_size=2)
    with pytest.raises(ValueError, match="batch_sampler is mutually exclusive"):
        DataLoader(ds, batch_sampler=[[0]], drop_last=True)
    with pytest.raises(ValueError, match="mutually exclusive with drop_last"):
        DataLoader(ds, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="cannot be shuffled"):
        DataLoader(Stream(3), shuffle=True)
    with pytest.raises(ValueError, match="takes no sampler"):
        DataLoader(Stream(3), sampler=[0])
    with pytest.raises(ValueError, match="multiprocessing_context needs worker processes"):
        DataLoader(ds, multiprocessing_context="spawn")
    with pytest.raises(ValueError, match="should be one of"):
        DataLoader(ds, num_workers=1, multiprocessing_context="teleport")
    with pytest.raises(TypeError, match="collate_fn should be callable"):
        DataLoader(ds, collate_fn=3)
    with pytest.raises(ValueError, match="batch_size should be a positive integer: got 0"):
        DataLoader(ds, batch_size=0)


def test_attributes_are_frozen_after_init():
    dl = DataLoader(Items(4), batch_size=2)
    with pytest.raises(ValueError, match="batch_size cannot be changed"):
        dl.batch_size = 3
    dl.num_workers = 0  # not frozen in PyTorch either
    assert dl.pin_memory is False


def test_pin_memory_is_accepted():
    out = [b["i"].tolist() for b in DataLoader(Items(3), batch_size=2, pin_memory=True)]
    assert out == [[0, 1], [2]]
