"""ember.data: datasets, samplers and the DataLoader (PyTorch's torch.utils.data).

What lives here: the Dataset classes (map-style, iterable, TensorDataset, Subset,
ConcatDataset, ChainDataset, random_split, SerializedList), the samplers, collation
(default_collate, default_convert) and the DataLoader with worker processes that return
batches through shared memory. ``ember.data.datasets`` holds the small data sets shipped
with ember (the UCI digits). What does not: image/audio/text datasets and transforms, which
live in the domain packages.

Example:
    >>> import ember
    >>> from ember.data import DataLoader, TensorDataset
    >>> ds = TensorDataset(ember.randn(10, 3), ember.arange(10))
    >>> [x.shape for x, y in DataLoader(ds, batch_size=4, shuffle=True)]
    [(4, 3), (4, 3), (2, 3)]
"""
from . import datasets  # noqa: F401
from ._worker import WorkerInfo, get_worker_info
from .collate import collate, default_collate, default_convert
from .dataloader import DataLoader
from .dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, SerializedList, Subset, TensorDataset,
                      random_split)
from .sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
                      WeightedRandomSampler)

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "ChainDataset", "random_split",
           "SerializedList", "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler", "DataLoader", "default_collate", "default_convert", "collate",
           "get_worker_info", "WorkerInfo"]
