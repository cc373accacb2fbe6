"""Samplers: orders, lengths, reproducibility with generators, distributions, errors."""
import numpy as np
import pytest

import ember
from ember.data import (BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                        WeightedRandomSampler)


def gen(seed):
    return ember.Generator().manual_seed(seed)


def test_sequential_sampler():
    s = SequentialSampler(range(5))
    assert list(s) == [0, 1, 2, 3, 4]
    assert len(s) == 5
    assert list(SequentialSampler([])) == []


def test_random_sampler_is_a_permutation_and_reproducible():
    s = RandomSampler(range(50), generator=gen(3))
    a, b = list(s), list(s)
    assert sorted(a) == list(range(50)) and sorted(b) == list(range(50))
    assert a != b  # the generator advances: a new order every epoch
    assert list(RandomSampler(range(50), generator=gen(3))) == a
    assert len(s) == 50


def test_random_sampler_global_seed():
    ember.manual_seed(11)
    a = list(RandomSampler(range(30)))
    ember.manual_seed(11)
    assert list(RandomSampler(range(30))) == a
    assert a != list(range(30))


def test_random_sampler_num_samples_without_replacement():
    s = RandomSampler(range(4), num_samples=10, generator=gen(0))
    out = list(s)
    assert len(out) == 10 == len(s)
    # two full permutations, then a partial one
    assert sorted(out[:4]) == [0, 1, 2, 3] and sorted(out[4:8]) == [0, 1, 2, 3]
    assert len(set(out[8:])) == 2


def test_random_sampler_with_replacement():
    s = RandomSampler(range(3), replacement=True, num_samples=3000, generator=gen(1))
    out = np.array(list(s))
    assert len(out) == 3000 and out.min() == 0 and out.max() == 2
    counts = np.bincount(out, minlength=3)
    assert np.all(np.abs(counts - 1000) < 120)  # about 6 sigma
    assert len(list(RandomSampler(range(3), replacement=True, num_samples=33, generator=gen(1)))) == 33


def test_random_sampler_errors():
    with pytest.raises(TypeError, match="replacement should be a boolean"):
        RandomSampler(range(3), replacement=1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer: got 0"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler([])


def test_subset_random_sampler():
    idx = [10, 20, 30, 40]
    out = list(SubsetRandomSampler(idx, generator=gen(5)))
    assert sorted(out) == idx
    assert list(SubsetRandomSampler(idx, generator=gen(5))) == out
    assert len(SubsetRandomSampler(idx)) == 4


def test_weighted_random_sampler_distribution():
    w = [0.1, 0.0, 0.6, 0.3]
    s = WeightedRandomSampler(w, 10000, generator=gen(2))
    out = np.array(list(s))
    assert len(out) == 10000 == len(s)
    freq = np.bincount(out, minlength=4) / 10000
    assert freq[1] == 0
    np.testing.assert_allclose(freq, [0.1, 0.0, 0.6, 0.3], atol=0.03)
    out2 = list(WeightedRandomSampler(w, 3, replacement=False, generator=gen(0)))
    assert sorted(out2) == [0, 2, 3]


def test_weighted_random_sampler_reproducible():
    a = list(WeightedRandomSampler([1.0, 2.0, 3.0], 40, generator=gen(9)))
    assert list(WeightedRandomSampler(ember.tensor([1.0, 2.0, 3.0]), 40, generator=gen(9))) == a


def test_weighted_random_sampler_errors():
    with pytest.raises(ValueError, match=r"1-d sequence: got shape \(2, 2\)"):
        WeightedRandomSampler([[1.0, 2.0], [3.0, 4.0]], 2)
    with pytest.raises(ValueError, match="non-negative"):
        WeightedRandomSampler([1.0, -1.0], 2)
    with pytest.raises(ValueError, match="can not exceed the number of non-zero weights: expected <= 1, got 2"):
        WeightedRandomSampler([1.0, 0.0], 2, replacement=False)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        WeightedRandomSampler([1.0], -1)


def test_batch_sampler():
    assert list(BatchSampler(range(7), 3, drop_last=False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(BatchSampler(range(7), 3, drop_last=True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(BatchSampler(range(7), 3, False)) == 3
    assert len(BatchSampler(range(7), 3, True)) == 2
    assert len(BatchSampler(range(6), 3, False)) == 2
    assert list(BatchSampler(SequentialSampler(range(0)), 2, False)) == []
    with pytest.raises(ValueError, match="batch_size should be a positive integer: got 0"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="batch_size should be a positive integer: got True"):
        BatchSampler(range(3), True, False)
    with pytest.raises(TypeError, match="drop_last should be a boolean"):
        BatchSampler(range(3), 2, 0)


def test_sampler_base_class():
    class Evens(Sampler):
        def __iter__(self):
            return iter([0, 2])

    assert list(Evens()) == [0, 2]
    with pytest.raises(NotImplementedError, match="must define __iter__"):
        iter(Sampler())
