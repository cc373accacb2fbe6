"""DataLoader with worker processes: order, shared-memory transport, seeding, iterable
sharding, errors (exceptions, killed workers, timeouts), shutdown and /dev/shm hygiene."""
import gc
import multiprocessing
import os
import random
import signal
import time

import numpy as np
import pytest

import ember
from ember.data import DataLoader, Dataset, IterableDataset, TensorDataset, get_worker_info
from ember.data import _shm


def shm_leftovers():
    prefix = f"ember_dl_{os.getpid()}_"
    return sorted(n for n in os.listdir(_shm.SHM_DIR) if n.startswith(prefix))


@pytest.fixture(autouse=True)
def no_leftovers():
    """Every test must leave no shared-memory block and no live worker behind."""
    yield
    gc.collect()
    assert shm_leftovers() == []
    assert multiprocessing.active_children() == []


def gone(pid):
    """True once pid is reaped (a zombie still exists for kill(pid, 0))."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


class Mixed(Dataset):
    """Items with tensors of several dtypes, numbers and strings."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": ember.arange(6, dtype=ember.float32).reshape(2, 3) + i, "i": i, "f": i / 4, "s": f"item{i}",
                "h": ember.full((3,), float(i)).to(ember.bfloat16), "b": ember.tensor([i % 2 == 0]),
                "e": ember.zeros(0, 4)}


def flatten(batch):
    return {k: (v.float().numpy().tolist() if isinstance(v, ember.Tensor) else v) for k, v in batch.items()} | {
        "dtypes": {k: str(v.dtype) for k, v in batch.items() if isinstance(v, ember.Tensor)}}


def test_workers_give_the_same_batches_as_the_main_process():
    ds = Mixed(23)
    ember.manual_seed(0)
    ref = [flatten(b) for b in DataLoader(ds, batch_size=4, shuffle=True)]
    ember.manual_seed(0)
    got = [flatten(b) for b in DataLoader(ds, batch_size=4, shuffle=True, num_workers=2)]
    assert got == ref
    assert len(got) == 6 and got[0]["dtypes"]["h"] == "ember.bfloat16" and got[0]["dtypes"]["b"] == "ember.bool"
    ember.manual_seed(0)
    got3 = [flatten(b) for b in DataLoader(ds, batch_size=4, shuffle=True, num_workers=3, prefetch_factor=1)]
    assert got3 == ref


def test_drop_last_and_batch_size_none_with_workers():
    ds = TensorDataset(ember.arange(10))
    out = [b[0].tolist() for b in DataLoader(ds, batch_size=3, drop_last=True, num_workers=2)]
    assert out == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    out = [b[0].item() for b in DataLoader(ds, batch_size=None, num_workers=2)]
    assert out == list(range(10))


def test_batches_live_in_shared_memory_without_copy():
    ds = TensorDataset(ember.arange(4096.0).reshape(64, 64))
    it = iter(DataLoader(ds, batch_size=32, num_workers=1))
    (x,) = next(it)
    np.testing.assert_array_equal(x.numpy(), np.arange(4096.0).reshape(64, 64)[:32])
    ptr = x.data_ptr()
    with open("/proc/self/maps") as f:
        maps = [line.split() for line in f]
    hit = [m for m in maps if int(m[0].split("-")[0], 16) <= ptr < int(m[0].split("-")[1], 16)]
    assert hit and hit[0][-2].startswith(os.path.join(_shm.SHM_DIR, "ember_dl_")), hit
    assert hit[0][-1] == "(deleted)"  # unlinked as soon as it was mapped
    del it
    gc.collect()
    x.add_(1.0)  # the mapping outlives the iterator and is writable
    assert x[0, 0].item() == 1.0


class Stream(IterableDataset):
    def __init__(self, n, shard=True):
        self.n, self.shard = n, shard

    def __iter__(self):
        info = get_worker_info()
        if info is None or not self.shard:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


def test_iterable_dataset_sharded_by_worker_info_has_no_duplicates():
    out = [v for b in DataLoader(Stream(23), batch_size=4, num_workers=3) for v in b.tolist()]
    assert sorted(out) == list(range(23))
    # drop_last applies to each worker's own stream, as in PyTorch
    out = [b.tolist() for b in DataLoader(Stream(10), batch_size=3, num_workers=2, drop_last=True)]
    assert out == [[0, 2, 4], [1, 3, 5]] and sorted(v for b in out for v in b) == [0, 1, 2, 3, 4, 5]
    out = list(DataLoader(Stream(5), batch_size=None, num_workers=2))
    assert sorted(out) == [0, 1, 2, 3, 4]


def test_iterable_dataset_without_sharding_repeats_per_worker():
    out = [v for b in DataLoader(Stream(5, shard=False), batch_size=2, num_workers=2) for v in b.tolist()]
    assert sorted(out) == sorted(list(range(5)) * 2)


class Noisy(Dataset):
    """Items drawn from the three random generators a worker seeds."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        return (ember.rand(1).item(), random.random(), float(np.random.rand()),
                -1 if info is None else info.id, -1 if info is None else info.seed)


def items(loader):
    """The per-item tuples of a loader over Noisy."""
    out = []
    for b in loader:
        cols = [t.tolist() for t in b]
        out.extend(zip(*cols))
    return out


def test_worker_seeding_is_reproducible():
    def run(seed):
        ember.manual_seed(seed)
        return items(DataLoader(Noisy(), batch_size=2, num_workers=2))

    a, b, c = run(3), run(3), run(4)
    assert len(a) == 8 and a == b and a != c
    ids = [it[3] for it in a]
    assert ids == [0, 0, 1, 1, 0, 0, 1, 1]  # batches go round-robin to the workers
    seeds = {it[3]: it[4] for it in a}
    assert seeds[1] == seeds[0] + 1  # base_seed + worker_id
    for k in range(3):  # ember, random and numpy: the two workers draw different streams
        w0 = [it[k] for it in a if it[3] == 0]
        w1 = [it[k] for it in a if it[3] == 1]
        assert len(set(w0 + w1)) == 8
    g = items(DataLoader(Noisy(), batch_size=2, num_workers=2, generator=ember.Generator().manual_seed(9)))
    g2 = items(DataLoader(Noisy(), batch_size=2, num_workers=2, generator=ember.Generator().manual_seed(9)))
    assert g == g2 and g != a


def test_worker_init_fn_runs_in_each_worker():
    class Tagged(Dataset):
        tag = "main"

        def __len__(self):
            return 4

        def __getitem__(self, i):
            return f"{self.tag}:{get_worker_info().id}"

    def init(worker_id):
        get_worker_info().dataset.tag = f"init{worker_id}"

    out = [s for b in DataLoader(Tagged(), batch_size=1, num_workers=2, worker_init_fn=init) for s in b]
    assert out == ["init0:0", "init1:1", "init0:0", "init1:1"]


class Faulty(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 5:
            raise ValueError(f"bad item {i}")
        if i == 6:
            raise KeyError("missing")
        return i


def test_worker_exception_carries_the_traceback():
    it = iter(DataLoader(Faulty(), batch_size=2, num_workers=2))
    assert next(it).tolist() == [0, 1]
    assert next(it).tolist() == [2, 3]
    with pytest.raises(ValueError, match=r"Caught ValueError in DataLoader worker process 0\.") as e:
        next(it)
    msg = str(e.value)
    assert "Original Traceback (most recent call last)" in msg and "in __getitem__" in msg
    assert 'raise ValueError(f"bad item {i}")' in msg and "ValueError: bad item 5" in msg
    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process 1") as e:
        next(it)  # the loader goes on after a failed batch, as PyTorch's does
    assert "\n" in str(e.value)  # readable, not a quoted repr
    with pytest.raises(StopIteration):
        next(it)


def test_worker_init_fn_exception():
    def init(worker_id):
        raise RuntimeError(f"init failed in {worker_id}")

    with pytest.raises(RuntimeError, match=r"Caught RuntimeError in DataLoader worker process 0\.(.|\n)*"
                                           r"init failed in 0"):
        list(DataLoader(Faulty(), batch_size=2, num_workers=1, worker_init_fn=init))


class Suicidal(Dataset):
    def __len__(self):
        return 16

    def __getitem__(self, i):
        if i == 9:
            os.kill(os.getpid(), signal.SIGKILL)
        return i


def test_killed_worker_raises_promptly():
    dl = DataLoader(Suicidal(), batch_size=2, num_workers=2)
    t0 = time.monotonic()
    got = []
    with pytest.raises(RuntimeError, match=r"\[DataLoader\] worker 0 \(pid \d+\) was killed by signal SIGKILL"):
        for b in dl:
            got.append(b.tolist())
    assert time.monotonic() - t0 < 10
    # batches come in order up to the death; it is reported as soon as it is seen (as in
    # PyTorch), so fewer of the batches before it may have arrived
    assert 1 <= len(got) <= 4 and got == [[0, 1], [2, 3], [4, 5], [6, 7]][:len(got)]


def test_worker_killed_from_outside():
    class Slow(Dataset):
        def __len__(self):
            return 40

        def __getitem__(self, i):
            time.sleep(0.01)
            return i

    it = iter(DataLoader(Slow(), batch_size=2, num_workers=2))
    next(it)
    pids = [w.pid for w in it._workers]
    os.kill(pids[1], signal.SIGKILL)
    t0 = time.monotonic()
    with pytest.raises(RuntimeError, match=rf"worker 1 \(pid {pids[1]}\) was killed by signal SIGKILL"):
        for _ in it:
            pass
    assert time.monotonic() - t0 < 10
    assert all(gone(p) for p in pids)


def test_timeout():
    class Stuck(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            if i == 2:
                time.sleep(30)
            return i

    it = iter(DataLoader(Stuck(), batch_size=2, num_workers=1, timeout=0.5))
    assert next(it).tolist() == [0, 1]
    t0 = time.monotonic()
    with pytest.raises(RuntimeError, match=r"timed out waiting for a batch from worker 0: expected one within "
                                           r"timeout=0.5 s"):
        next(it)
    assert 0.4 < time.monotonic() - t0 < 5
    pid = it._workers[0].pid
    assert gone(pid)


def test_no_shm_leftovers_after_full_epoch_early_break_and_error():
    ds = TensorDataset(ember.randn(50, 8))
    for _ in DataLoader(ds, batch_size=5, num_workers=2):
        pass
    assert shm_leftovers() == []
    it = iter(DataLoader(ds, batch_size=5, num_workers=2, prefetch_factor=4))
    next(it)
    deadline = time.monotonic() + 10
    while not shm_leftovers() and time.monotonic() < deadline:  # let the workers prefetch
        time.sleep(0.01)
    assert len(shm_leftovers()) > 0  # blocks waiting to be received exist...
    pids = [w.pid for w in it._workers]
    del it
    gc.collect()
    assert shm_leftovers() == []  # ...and are unlinked when the iterator goes
    assert all(gone(p) for p in pids)
    with pytest.raises(ValueError):
        for _ in DataLoader(Faulty(), batch_size=1, num_workers=2):
            pass
    gc.collect()
    assert shm_leftovers() == []


def test_workers_exit_after_exhaustion():
    it = iter(DataLoader(TensorDataset(ember.arange(6)), batch_size=2, num_workers=2))
    pids = [w.pid for w in it._workers]
    assert [b[0].tolist() for b in it] == [[0, 1], [2, 3], [4, 5]]
    assert all(gone(p) for p in pids)  # reaped: no zombies


def test_persistent_workers_over_epochs():
    ds = Mixed(10)
    dl = DataLoader(ds, batch_size=3, num_workers=2, persistent_workers=True)
    ref = [flatten(b) for b in DataLoader(ds, batch_size=3)]
    it1 = iter(dl)
    e1 = [flatten(b) for b in it1]
    pids = [w.pid for w in it1._workers]
    it2 = iter(dl)
    assert it2 is it1 and [w.pid for w in it2._workers] == pids and not any(gone(p) for p in pids)
    e2 = [flatten(b) for b in it2]
    assert e1 == ref and e2 == ref
    # an epoch broken off early: its in-flight batches must not leak into the next epoch
    it3 = iter(dl)
    assert flatten(next(it3)) == ref[0]
    assert [flatten(b) for b in iter(dl)] == ref
    assert [w.pid for w in dl._iterator._workers] == pids
    del dl, it1, it2, it3
    gc.collect()
    assert all(gone(p) for p in pids)


def test_persistent_iterable_dataset_restarts_each_epoch():
    dl = DataLoader(Stream(9), batch_size=2, num_workers=2, persistent_workers=True)
    for _ in range(2):
        assert sorted(v for b in dl for v in b.tolist()) == list(range(9))
    del dl


def test_spawn_context():
    ds = TensorDataset(ember.arange(8.0).reshape(4, 2), ember.arange(4).to(ember.bfloat16))
    out = list(DataLoader(ds, batch_size=2, num_workers=1, multiprocessing_context="spawn"))
    assert [b[0].tolist() for b in out] == [[[0.0, 1.0], [2.0, 3.0]], [[4.0, 5.0], [6.0, 7.0]]]
    assert out[0][1].dtype == ember.bfloat16 and out[1][1].float().tolist() == [2.0, 3.0]
