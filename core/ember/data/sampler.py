"""Samplers: iterables of dataset indices (or of index lists, for BatchSampler) that the
DataLoader draws from. Random samplers use ember's Philox generators, so a seed fixes them."""
import numbers

import ember

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
           "BatchSampler"]


def _fresh_generator(generator):
    """The generator to draw from: the given one, or a new one seeded from the global stream
    (PyTorch's rule, so that ``ember.manual_seed`` fixes every epoch's order)."""
    if generator is not None:
        return generator
    seed = int(ember.empty((), dtype=ember.int64).random_().item())
    return ember.Generator().manual_seed(seed)


def _check_positive_int(name, what, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"[{name}] {what} should be a positive integer: got {value!r}")


def _check_bool(name, what, value):
    if not isinstance(value, bool):
        raise TypeError(f"[{name}] {what} should be a boolean: got {value!r}")


class Sampler:
    """Base class of samplers: subclasses define ``__iter__`` (yielding indices) and,
    where it is known, ``__len__``.

    Example:
        >>> class Evens(Sampler):
        ...     def __init__(self, n): self.n = n
        ...     def __iter__(self): return iter(range(0, self.n, 2))
        ...     def __len__(self): return (self.n + 1) // 2
        >>> list(Evens(5))
        [0, 2, 4]
    """

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"[{type(self).__name__}] subclasses of Sampler must define __iter__")


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1`` in order.

    Args:
        data_source (Sized): the dataset.

    Returns:
        An iterable of ``len(data_source)`` ints.

    Example:
        >>> list(SequentialSampler(range(3)))
        [0, 1, 2]
    """

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """Random indices: a permutation (or several, then a partial one) without replacement,
    uniform draws with replacement.

    Args:
        data_source (Sized): the dataset.
        replacement (bool, default False): draw with replacement.
        num_samples (int, default None): how many indices per epoch; ``len(data_source)`` when None.
        generator (ember.Generator, default None): None draws a seed from ember's global
            generator at the start of each epoch.

    Returns:
        An iterable of ``num_samples`` ints in ``[0, len(data_source))``.

    Example:
        >>> sorted(RandomSampler(range(4), generator=ember.Generator().manual_seed(0)))
        [0, 1, 2, 3]
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        _check_bool("RandomSampler", "replacement", replacement)
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        _check_positive_int("RandomSampler", "num_samples", self.num_samples)

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        g = _fresh_generator(self.generator)
        if self.replacement:
            for _ in range(self.num_samples // 32):
                yield from ember.randint(0, n, (32,), generator=g).tolist()
            yield from ember.randint(0, n, (self.num_samples % 32,), generator=g).tolist()
        else:
            for _ in range(self.num_samples // n):
                yield from ember.randperm(n, generator=g).tolist()
            yield from ember.randperm(n, generator=g).tolist()[:self.num_samples % n]

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order, without replacement.

    Args:
        indices (sequence of int): the indices to sample from.
        generator (ember.Generator, default None): None uses ember's global generator.

    Returns:
        An iterable of ``len(indices)`` ints, a permutation of ``indices``.

    Example:
        >>> sorted(SubsetRandomSampler([5, 1, 9]))
        [1, 5, 9]
    """

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        g = self.generator if self.generator is not None else ember.default_generator
        for i in ember.randperm(len(self.indices), generator=g).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """Indices ``0 .. len(weights) - 1`` drawn with probability proportional to ``weights``.

    Args:
        weights (sequence of float or Tensor): non-negative, 1-d, need not sum to 1.
        num_samples (int): how many indices per epoch.
        replacement (bool, default True): without replacement no index repeats (so
            ``num_samples <= len(weights)``).
        generator (ember.Generator, default None): None uses ember's global generator.

    Returns:
        An iterable of ``num_samples`` ints.

    Example:
        >>> list(WeightedRandomSampler([0.0, 1.0, 0.0], 3))
        [1, 1, 1]
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        _check_positive_int("WeightedRandomSampler", "num_samples", num_samples)
        _check_bool("WeightedRandomSampler", "replacement", replacement)
        w = weights.to(ember.float64) if isinstance(weights, ember.Tensor) else ember.tensor(weights, dtype=ember.float64)
        if w.dim() != 1:
            raise ValueError(f"[WeightedRandomSampler] weights should be a 1-d sequence: got shape {tuple(w.shape)}")
        if w.numel() == 0:
            raise ValueError("[WeightedRandomSampler] weights is empty: expected at least one weight")
        if bool((w < 0).any()) or not bool(w.isfinite().all()) or float(w.sum()) <= 0:
            raise ValueError("[WeightedRandomSampler] weights must be finite, non-negative and not all zero")
        if not replacement and num_samples > int((w > 0).sum()):
            raise ValueError(f"[WeightedRandomSampler] without replacement num_samples can not exceed the number of "
                             f"non-zero weights: expected <= {int((w > 0).sum())}, got {num_samples}")
        self.weights = w
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        g = self.generator if self.generator is not None else ember.default_generator
        yield from ember.multinomial(self.weights, self.num_samples, self.replacement, generator=g).tolist()

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of another sampler into lists of ``batch_size``.

    Args:
        sampler (Sampler or iterable): yields indices.
        batch_size (int): positive.
        drop_last (bool): drop a last, shorter batch.

    Returns:
        An iterable of lists of indices; ``len`` is ``ceil`` (or ``floor`` with drop_last)
        of ``len(sampler) / batch_size``.

    Example:
        >>> list(BatchSampler(SequentialSampler(range(5)), 2, drop_last=False))
        [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler, batch_size, drop_last):
        _check_positive_int("BatchSampler", "batch_size", batch_size)
        _check_bool("BatchSampler", "drop_last", drop_last)
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        batch = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
