"""Datasets: the map-style and iterable base classes, TensorDataset, Subset, ConcatDataset,
ChainDataset, random_split and SerializedList (a big read-only list that forked workers can
share without copy-on-write growth)."""
import bisect
import itertools
import math
import pickle
import warnings
from array import array

import ember

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "ConcatDataset", "ChainDataset", "Subset",
           "random_split", "SerializedList"]


class Dataset:
    """A map-style dataset: an object with ``__getitem__(index)`` and usually ``__len__``.

    Subclasses override ``__getitem__`` (and ``__len__`` for samplers that need it). An
    optional ``__getitems__(indices)`` returning a list of items lets the DataLoader fetch a
    whole batch at once. ``a + b`` concatenates two datasets.

    Example:
        >>> class Squares(Dataset):
        ...     def __len__(self): return 4
        ...     def __getitem__(self, i): return i * i
        >>> [Squares()[i] for i in range(4)]
        [0, 1, 4, 9]
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"[{type(self).__name__}] subclasses of Dataset must define __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset that is a stream: subclasses define ``__iter__``.

    With ``num_workers > 0`` every worker process gets its own copy and iterates it in full,
    so shard the stream yourself with :func:`ember.data.get_worker_info` (``id`` and
    ``num_workers``), or each item arrives ``num_workers`` times.

    Example:
        >>> class Count(IterableDataset):
        ...     def __init__(self, n): self.n = n
        ...     def __iter__(self):
        ...         info = ember.data.get_worker_info()
        ...         start, step = (0, 1) if info is None else (info.id, info.num_workers)
        ...         return iter(range(start, self.n, step))
        >>> list(Count(3))
        [0, 1, 2]
    """

    def __iter__(self):
        raise NotImplementedError(f"[{type(self).__name__}] subclasses of IterableDataset must define __iter__")

    def __add__(self, other):
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Wraps tensors that share their first dimension; item ``i`` is ``(t[i] for t in tensors)``.

    Args:
        *tensors (Tensor): tensors of equal ``size(0)``.

    Returns:
        A dataset of length ``tensors[0].size(0)`` whose items are tuples of views.

    Example:
        >>> ds = TensorDataset(ember.arange(6).reshape(3, 2), ember.tensor([0, 1, 0]))
        >>> x, y = ds[1]; x.tolist(), y.item(), len(ds)
        ([2, 3], 1, 3)
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("[TensorDataset] needs at least one tensor: expected 1 or more, got 0")
        for i, t in enumerate(tensors):
            if not isinstance(t, ember.Tensor):
                raise TypeError(f"[TensorDataset] argument {i}: expected a Tensor, got {type(t).__name__}")
            if t.dim() == 0:
                raise ValueError(f"[TensorDataset] argument {i} is 0-d: expected tensors with a first dimension")
        n = tensors[0].size(0)
        for i, t in enumerate(tensors):
            if t.size(0) != n:
                raise ValueError(f"[TensorDataset] size mismatch between tensors: expected size(0) == {n} "
                                 f"(tensor 0), got {t.size(0)} for tensor {i}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].size(0)


class ConcatDataset(Dataset):
    """Concatenation of map-style datasets: item ``i`` comes from the dataset it falls in.

    Args:
        datasets (iterable of Dataset): at least one, none of them iterable-style.

    Returns:
        A dataset of length ``sum(len(d) for d in datasets)``; ``cumulative_sizes`` holds the
        running totals.

    Example:
        >>> ds = ConcatDataset([TensorDataset(ember.zeros(2)), TensorDataset(ember.ones(3))])
        >>> len(ds), ds[2][0].item()
        (5, 1.0)
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("[ConcatDataset] datasets should not be an empty iterable: expected 1 or more, got 0")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("[ConcatDataset] does not support IterableDataset: use ChainDataset")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        n = len(self)
        if idx < 0:
            if -idx > n:
                raise IndexError(f"[ConcatDataset] index out of range: expected -{n} <= index < {n}, got {idx}")
            idx += n
        elif idx >= n:
            raise IndexError(f"[ConcatDataset] index out of range: expected -{n} <= index < {n}, got {idx}")
        d = bisect.bisect_right(self.cumulative_sizes, idx)
        return self.datasets[d][idx - (self.cumulative_sizes[d - 1] if d else 0)]


class ChainDataset(IterableDataset):
    """Chains iterable datasets one after the other (built on the fly, nothing is copied).

    Args:
        datasets (iterable of IterableDataset).

    Returns:
        An IterableDataset yielding every item of every dataset in order.

    Example:
        >>> class R(IterableDataset):
        ...     def __init__(self, n): self.n = n
        ...     def __iter__(self): return iter(range(self.n))
        >>> list(ChainDataset([R(2), R(3)]))
        [0, 1, 0, 1, 2]
    """

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError(f"[ChainDataset] only supports IterableDataset: got {type(d).__name__}")
            yield from d

    def __len__(self):
        return sum(len(d) for d in self.datasets)


class Subset(Dataset):
    """The items of ``dataset`` at ``indices``, in that order.

    Args:
        dataset (Dataset): the whole dataset.
        indices (sequence of int): indices into it.

    Returns:
        A dataset of length ``len(indices)``.

    Example:
        >>> s = Subset(TensorDataset(ember.arange(10)), [7, 3])
        >>> len(s), s[0][0].item()
        (2, 7)
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices):
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self):
        return len(self.indices)


def random_split(dataset, lengths, generator=None):
    """Splits a dataset into non-overlapping random subsets.

    Args:
        dataset (Dataset): with ``len()``.
        lengths (sequence of int or float): the subsets' lengths, summing to ``len(dataset)``;
            or fractions summing to 1, turned into ``floor(len * f)`` each with the remainder
            handed out one by one from the first subset (PyTorch's rule).
        generator (ember.Generator, default None): source of the permutation; None uses
            ember's global generator (so ``ember.manual_seed`` fixes the split).

    Returns:
        list of Subset.

    Example:
        >>> a, b = random_split(TensorDataset(ember.arange(10)), [0.7, 0.3],
        ...                     generator=ember.Generator().manual_seed(0))
        >>> len(a), len(b)
        (7, 3)
    """
    lengths = list(lengths)
    n = len(dataset)
    if any(isinstance(x, float) for x in lengths) and math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"[random_split] fraction at index {i} is not between 0 and 1: got {frac}")
            counts.append(int(math.floor(n * frac)))
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, c in enumerate(counts):
            if c == 0:
                warnings.warn(f"[random_split] length of split at index {i} is 0: this leads to an empty Subset")
        lengths = counts
    for i, x in enumerate(lengths):
        if isinstance(x, float) or int(x) != x or x < 0:
            raise ValueError(f"[random_split] lengths must be non-negative ints or fractions summing to 1: "
                             f"got {x!r} at index {i}")
    if sum(lengths) != n:
        raise ValueError(f"[random_split] the lengths must sum to the length of the dataset: expected {n}, "
                         f"got {sum(lengths)} (lengths {lengths})")
    perm = ember.randperm(n, generator=generator if generator is not None else ember.default_generator).tolist()
    out = []
    for offset, length in zip(itertools.accumulate(lengths), lengths):
        out.append(Subset(dataset, perm[offset - length: offset]))
    return out


class SerializedList:
    """A read-only list stored as one pickled byte buffer plus an offset table.

    A DataLoader worker that reads items from a plain Python list touches each item's
    reference count, which un-shares (copies) the memory page holding it: every worker ends
    up with a private copy of the whole list. A SerializedList holds three Python objects
    whatever its length, so reading it writes nothing and forked workers keep sharing its
    memory. Each read unpickles a fresh copy of the item (a few microseconds).

    Args:
        items (iterable): picklable objects.

    Returns:
        A sequence supporting ``len``, ``[i]`` (negative indices too) and iteration.

    Example:
        >>> s = SerializedList([{"path": "a.png", "label": 3}, (1, 2.5)])
        >>> len(s), s[0]["label"], s[-1]
        (2, 3, (1, 2.5))
    """

    def __init__(self, items):
        chunks = [pickle.dumps(x, protocol=pickle.HIGHEST_PROTOCOL) for x in items]
        self._offsets = array("q", itertools.accumulate((len(c) for c in chunks), initial=0))
        self._buffer = b"".join(chunks)

    def __len__(self):
        return len(self._offsets) - 1

    def __getitem__(self, i):
        n = len(self)
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(n))]
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"[SerializedList] index out of range: expected -{n} <= index < {n}, got {i}")
        return pickle.loads(memoryview(self._buffer)[self._offsets[i]:self._offsets[i + 1]])

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self):
        return f"SerializedList(len={len(self)}, bytes={len(self._buffer)})"
