"""ember.data against torch.utils.data: collation, lengths, split sizes, batching of iterable
datasets with workers, error types and messages."""
import collections

import numpy as np
import pytest

import ember
import ember.data as ed

torch = pytest.importorskip("torch")
tud = torch.utils.data

P = collections.namedtuple("P", ["a", "b"])


def to_plain(x):
    """Nested structure -> comparable plain Python (tensors become (dtype, values))."""
    if isinstance(x, (ember.Tensor, torch.Tensor)):
        return (str(x.dtype).split(".")[-1], np.asarray(x.tolist(), dtype=np.float64).tolist())
    if isinstance(x, dict):
        return {k: to_plain(v) for k, v in x.items()}
    if isinstance(x, P):
        return ("P",) + tuple(to_plain(v) for v in x)
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [to_plain(v) for v in x])
    return x


def sample(i, lib):
    t = lib.tensor([[i, i + 1.0]])
    return {"t": t, "n": (i, i * 0.5, True), "s": f"x{i}", "np": np.full(3, i, dtype=np.int16),
            "np_scalar": np.float32(i) / 2, "nt": P(lib.tensor(i), [i, -i])}


def test_default_collate_matches_torch():
    ours = ed.default_collate([sample(i, ember) for i in range(3)])
    theirs = tud.default_collate([sample(i, torch) for i in range(3)])
    assert to_plain(ours) == to_plain(theirs)


def test_default_convert_matches_torch():
    data = {"a": np.arange(3.0), "b": (np.int64(4), "s", [np.ones(2, dtype=np.float32)]), "c": 1.5}
    assert to_plain(ed.default_convert(data)) == to_plain(tud.default_convert(data))


def test_collate_errors_have_torch_types():
    with pytest.raises(RuntimeError):
        tud.default_collate([torch.zeros(2), torch.zeros(3)])
    with pytest.raises(RuntimeError):
        ed.default_collate([ember.zeros(2), ember.zeros(3)])
    with pytest.raises(RuntimeError):
        tud.default_collate([[1, 2], [1]])
    with pytest.raises(RuntimeError):
        ed.default_collate([[1, 2], [1]])
    with pytest.raises(TypeError):
        tud.default_collate([object()])
    with pytest.raises(TypeError):
        ed.default_collate([object()])


@pytest.mark.parametrize("n,lengths", [(10, [0.33, 0.33, 0.34]), (7, [0.5, 0.5]), (101, [0.1] * 10),
                                       (10, [3, 7]), (3, [1.0])])
def test_random_split_sizes_match_torch(n, lengths):
    ours = [len(s) for s in ed.random_split(list(range(n)), lengths)]
    theirs = [len(s) for s in tud.random_split(list(range(n)), lengths)]
    assert ours == theirs


@pytest.mark.parametrize("n", [0, 1, 9, 10, 11])
@pytest.mark.parametrize("bs,drop", [(1, False), (3, False), (3, True), (None, False), (10, True)])
def test_len_matches_torch(n, bs, drop):
    ours = ed.DataLoader(list(range(n)), batch_size=bs, drop_last=drop)
    theirs = tud.DataLoader(list(range(n)), batch_size=bs, drop_last=drop)
    assert len(ours) == len(theirs)
    assert len(list(ours)) == len(list(theirs))


class EStream(ed.IterableDataset):
    def __iter__(self):
        info = ed.get_worker_info()
        return iter(range(info.id, 11, info.num_workers))


class TStream(tud.IterableDataset):
    def __iter__(self):
        info = tud.get_worker_info()
        return iter(range(info.id, 11, info.num_workers))


@pytest.mark.parametrize("drop", [False, True])
def test_iterable_batches_with_workers_match_torch(drop):
    ours = [b.tolist() for b in ed.DataLoader(EStream(), batch_size=3, num_workers=2, drop_last=drop)]
    theirs = [b.tolist() for b in tud.DataLoader(TStream(), batch_size=3, num_workers=2, drop_last=drop)]
    assert ours == theirs


class EBad(ed.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        raise ValueError("nope")


class TBad(tud.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        raise ValueError("nope")


def test_worker_exception_message_like_torch():
    with pytest.raises(ValueError) as ours:
        next(iter(ed.DataLoader(EBad(), num_workers=1)))
    with pytest.raises(ValueError) as theirs:
        next(iter(tud.DataLoader(TBad(), num_workers=1)))
    first = str(theirs.value).splitlines()[0]
    assert str(ours.value).splitlines()[0] == first == "Caught ValueError in DataLoader worker process 0."
    assert str(ours.value).splitlines()[1] == str(theirs.value).splitlines()[1]
