"""DataLoader: batches from a dataset, in the main process or in worker processes that send
their batches back through shared memory (see ``_shm``)."""
import atexit
import gc
import itertools
import multiprocessing
import multiprocessing.connection
import signal
import sys
import threading
import time
import weakref

import ember

from . import _shm, _worker
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader"]


class _InfiniteConstantSampler(Sampler):
    """The index sampler of an iterable dataset: None forever (the dataset decides the end)."""

    def __iter__(self):
        while True:
            yield None


class DataLoader:
    """Iterates over a dataset in batches, optionally loading them in worker processes.

    Args:
        dataset (Dataset or IterableDataset): where the samples come from.
        batch_size (int or None, default 1): samples per batch; None disables batching
            (each sample goes through ``collate_fn``, by default ``default_convert``).
        shuffle (bool, default None = False): reshuffle the indices every epoch
            (a RandomSampler with ``generator``). Not for iterable datasets.
        sampler (Sampler or iterable, default None): the indices to draw; excludes ``shuffle``.
        batch_sampler (Sampler or iterable, default None): yields lists of indices; excludes
            batch_size, shuffle, sampler and drop_last.
        num_workers (int, default 0): worker processes; 0 loads in the main process.
        collate_fn (callable, default None): list of samples -> batch; None uses
            ``default_collate`` (``default_convert`` when batch_size is None).
        pin_memory (bool, default False): copy every batch's tensors into page-locked host
            memory (``Tensor.pin_memory()``), so that ``batch.to("cuda", non_blocking=True)``
            overlaps the copy with GPU work. Needs a CUDA device; without one it is a no-op.
        drop_last (bool, default False): drop the last, shorter batch.
        timeout (float, default 0): with workers, raise RuntimeError when no batch arrives
            within this many seconds (0 waits for ever; a dead worker is reported at once).
        worker_init_fn (callable, default None): ``fn(worker_id)`` run in each worker after
            seeding, before loading.
        multiprocessing_context (str or context, default None): 'fork' (the default on
            Linux), 'spawn' or 'forkserver', or a multiprocessing context.
        generator (ember.Generator, default None): draws the workers' base seed and the
            shuffling seed; None uses ember's global generator, so ``ember.manual_seed``
            makes runs repeatable.
        prefetch_factor (int, default None = 2 with workers): batches in flight per worker.
        persistent_workers (bool, default False): keep the workers (and their dataset copies)
            alive between epochs.
        pin_memory_device (str, default ""): accepted and ignored.

    Returns:
        An iterable of batches; ``len()`` is the number of batches when it is known.

    Workers each seed ember, Python's ``random`` and NumPy with ``base_seed + worker_id``
    (``get_worker_info().seed``), where ``base_seed`` is drawn from ``generator`` when the
    workers start (each epoch, or once with persistent workers). Batches arrive in sampler
    order. A worker's exception is re-raised in the main process with the worker's traceback;
    a worker that dies (e.g. killed by a signal) raises RuntimeError naming it and the signal.

    Memory: on Linux the workers are forked and share the dataset's memory copy-on-write.
    ember freezes the garbage collector (``gc.freeze()``) before forking so that collections
    do not write to inherited objects (the objects that existed at the fork are collected
    again once the last workers stop), but merely reading items of a big Python list still
    writes their reference counts and un-shares their pages; store such data in tensors,
    NumPy arrays or :class:`SerializedList` to keep it shared.

    Example:
        >>> ds = ember.data.TensorDataset(ember.arange(10.0), ember.arange(10))
        >>> [y.tolist() for x, y in DataLoader(ds, batch_size=4)]
        [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    """

    _FROZEN_ATTRS = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")
    __initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device=""):
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"[DataLoader] num_workers should be a non-negative int: got {num_workers!r}; "
                             f"use num_workers=0 to load in the main process")
        if not isinstance(timeout, (int, float)) or timeout < 0:
            raise ValueError(f"[DataLoader] timeout should be a non-negative number of seconds: got {timeout!r}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("[DataLoader] prefetch_factor needs worker processes: expected prefetch_factor=None "
                             f"with num_workers=0, got {prefetch_factor!r}")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if prefetch_factor is not None and (isinstance(prefetch_factor, bool) or not isinstance(prefetch_factor, int)
                                            or prefetch_factor <= 0):
            raise ValueError(f"[DataLoader] prefetch_factor should be a positive int: got {prefetch_factor!r}")
        if persistent_workers and num_workers == 0:
            raise ValueError("[DataLoader] persistent_workers=True needs num_workers > 0: got num_workers=0")
        if worker_init_fn is not None and not callable(worker_init_fn):
            raise TypeError(f"[DataLoader] worker_init_fn should be callable: got {type(worker_init_fn).__name__}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"[DataLoader] collate_fn should be callable: got {type(collate_fn).__name__}")

        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            if shuffle not in (False, None):
                raise ValueError(f"[DataLoader] an IterableDataset cannot be shuffled by the loader: expected "
                                 f"shuffle unspecified, got shuffle={shuffle!r}")
            if sampler is not None:
                raise ValueError("[DataLoader] an IterableDataset takes no sampler: expected sampler=None, "
                                 f"got {type(sampler).__name__}")
            if batch_sampler is not None:
                raise ValueError("[DataLoader] an IterableDataset takes no batch_sampler: expected "
                                 f"batch_sampler=None, got {type(batch_sampler).__name__}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("[DataLoader] sampler is mutually exclusive with shuffle: pass one of them")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("[DataLoader] batch_sampler is mutually exclusive with batch_size, shuffle, "
                                 "sampler and drop_last: leave those at their defaults")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("[DataLoader] batch_size=None disables batching and is mutually exclusive with "
                             "drop_last=True")
        if sampler is None:
            if iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self.persistent_workers = persistent_workers
        self.multiprocessing_context = multiprocessing_context
        self._iterable = iterable
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self._iterator = None
        self.__initialized = True

    @property
    def multiprocessing_context(self):
        """The multiprocessing context the workers start from (None with num_workers=0)."""
        return self.__ctx

    @multiprocessing_context.setter
    def multiprocessing_context(self, ctx):
        if ctx is not None:
            if self.num_workers == 0:
                raise ValueError("[DataLoader] multiprocessing_context needs worker processes: got num_workers=0")
            if isinstance(ctx, str):
                methods = multiprocessing.get_all_start_methods()
                if ctx not in methods:
                    raise ValueError(f"[DataLoader] multiprocessing_context should be one of {methods}: got {ctx!r}")
                ctx = multiprocessing.get_context(ctx)
            elif not hasattr(ctx, "Process") or not hasattr(ctx, "get_start_method"):
                raise TypeError("[DataLoader] multiprocessing_context should be a start method name or a "
                                f"multiprocessing context: got {type(ctx).__name__}")
        elif self.num_workers > 0:
            default = "fork" if sys.platform.startswith("linux") else None
            ctx = multiprocessing.get_context(default)
        self.__ctx = ctx

    def __setattr__(self, name, value):
        if self.__initialized and name in self._FROZEN_ATTRS:
            raise ValueError(f"[DataLoader] {name} cannot be changed after the DataLoader is created: "
                             f"make a new DataLoader")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def _draw_base_seed(self):
        return int(ember.empty((), dtype=ember.int64).random_(generator=self.generator).item())

    def _get_iterator(self):
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        return _MultiProcessIter(self)

    def __iter__(self):
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None or self._iterator._shutdown:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    def __len__(self):
        if self._iterable:
            length = len(self.dataset)  # TypeError for a dataset without __len__, as in PyTorch
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else -(-length // self.batch_size)
            return length
        return len(self._index_sampler)


def _cuda_available():
    from .. import cuda
    return cuda.is_available()


def _pin_memory(data):
    """The batch with every CPU tensor in it copied to page-locked memory (structure kept)."""
    from .. import Tensor
    if isinstance(data, Tensor):
        return data.pin_memory() if not data.is_cuda else data
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return type(data)(*(_pin_memory(d) for d in data))
    if isinstance(data, (list, tuple)):
        return type(data)(_pin_memory(d) for d in data)
    if isinstance(data, dict):
        return {k: _pin_memory(v) for k, v in data.items()}
    return data


class _BaseIter:
    def __init__(self, loader):
        self._dataset = loader.dataset
        self._iterable = loader._iterable
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._collate_fn = loader.collate_fn
        self._pin = bool(loader.pin_memory) and _cuda_available()
        self._sampler_iter = iter(self._index_sampler)
        self._base_seed = loader._draw_base_seed()
        self._num_yielded = 0

    def __iter__(self):
        return self

    def _reset(self, loader, first_iter=False):
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0

    def _next_index(self):
        return next(self._sampler_iter)

    def __next__(self):
        data = self._next_data()
        self._num_yielded += 1
        return _pin_memory(data) if self._pin else data

    def __len__(self):
        return len(self._index_sampler)


class _SingleProcessIter(_BaseIter):
    def __init__(self, loader):
        super().__init__(loader)
        cls = _worker.IterFetcher if self._iterable else _worker.MapFetcher
        self._fetcher = cls(self._dataset, self._auto_collation, self._collate_fn, self._drop_last)

    def _next_data(self):
        index = self._next_index()
        return self._fetcher.fetch(index)


# ---- bookkeeping shared by all worker sets of this process ----------------------------------
_lock = threading.Lock()
_live_iters = weakref.WeakSet()
_parent_fds = set()           # main-side pipe ends of live workers: new fork children close them
_gc_state = {"users": 0, "unfreeze": False}


def _gc_freeze_acquire():
    """Freezes the collector before forking workers so that their collections never touch
    (and so un-share) the objects they inherit; undone when the last worker set stops."""
    with _lock:
        if _gc_state["users"] == 0:
            _gc_state["unfreeze"] = gc.get_freeze_count() == 0
        _gc_state["users"] += 1
        gc.freeze()


def _gc_freeze_release():
    with _lock:
        _gc_state["users"] -= 1
        if _gc_state["users"] == 0 and _gc_state["unfreeze"]:
            gc.unfreeze()


@atexit.register
def _shutdown_all():
    for it in list(_live_iters):
        it._shutdown_workers()


def _describe_exit(code):
    if code is None:
        return "is no longer responding"
    if code < 0:
        try:
            sig = signal.Signals(-code)
            return f"was killed by signal {sig.name} ({signal.strsignal(sig)})"
        except ValueError:
            return f"was killed by signal {-code}"
        if sig == signal.SIGBUS:
            return (f"was killed by signal SIGBUS ({signal.strsignal(sig)}), which usually means that shared memory "
                    f"({_shm.SHM_DIR}) is full")
    return f"exited with code {code}"


_DEAD = object()


class _MultiProcessIter(_BaseIter):
    _shutdown = True  # until the workers exist

    def __init__(self, loader):
        super().__init__(loader)
        self._num_workers = loader.num_workers
        self._prefetch_factor = loader.prefetch_factor
        self._timeout = loader.timeout
        self._persistent = loader.persistent_workers
        ctx = loader.multiprocessing_context
        fork = ctx.get_start_method() == "fork"
        if not fork:
            _shm.register_tensor_reduction()
        self._prefix = _shm.new_prefix()
        self._workers, self._index_conns, self._result_conns = [], [], []
        self._gc_frozen = fork
        if fork:
            _gc_freeze_acquire()
        self._shutdown = False
        _live_iters.add(self)
        try:
            for wid in range(self._num_workers):
                result_r, result_w = ctx.Pipe(duplex=False)
                index_r, index_w = ctx.Pipe(duplex=False)
                with _lock:  # fds the child must close: every main-side pipe end, its own included
                    inherited = sorted(_parent_fds | {result_r.fileno(), index_w.fileno()}) if fork else []
                self._index_conns.append(index_w)
                self._result_conns.append(result_r)
                with _lock:
                    _parent_fds.update((index_w.fileno(), result_r.fileno()))
                w = ctx.Process(
                    target=_worker.worker_loop, daemon=True, name=f"ember DataLoader worker {wid}",
                    args=(self._iterable, self._dataset, index_r, result_w, self._auto_collation, self._collate_fn,
                          self._drop_last, self._base_seed, loader.worker_init_fn, wid, self._num_workers,
                          self._prefix, inherited))
                try:
                    w.start()
                finally:
                    result_w.close()
                    index_r.close()
                self._workers.append(w)
        except BaseException:
            self._shutdown_workers()
            raise
        self._reset(loader, first_iter=True)

    def _reset(self, loader, first_iter=False):
        super()._reset(loader, first_iter)
        self._send_idx = 0
        self._rcvd_idx = 0
        self._task_info = {}
        self._tasks_outstanding = 0
        self._workers_status = [True] * self._num_workers
        self._worker_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:
            # persistent workers: answers to the last epoch's tasks may still be on their way
            for wid in range(self._num_workers):
                self._send(wid, _worker.ResumeIteration())
            for wid in range(self._num_workers):
                while True:
                    idx, msg = self._get_data(wid, decode=False)
                    if isinstance(idx, _worker.ResumeIteration):
                        break
                    if isinstance(msg, _shm.ShmBatch):
                        msg.discard()
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def _send(self, wid, msg):
        try:
            self._index_conns[wid].send(msg)
            return
        except OSError:
            pass
        self._raise_dead(wid)

    def _try_put_index(self):
        if self._tasks_outstanding >= self._prefetch_factor * self._num_workers:
            return
        try:
            index = self._next_index()
        except StopIteration:
            return
        for _ in range(self._num_workers):
            wid = next(self._worker_cycle)
            if self._workers_status[wid]:
                break
        else:
            return
        self._send(wid, (self._send_idx, index))
        self._task_info[self._send_idx] = (wid,)
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _raise_dead(self, wid):
        w = self._workers[wid]
        w.join(timeout=1.0)
        pid, desc = w.pid, _describe_exit(w.exitcode)
        self._shutdown_workers(grace_s=0.2)
        raise RuntimeError(f"[DataLoader] worker {wid} (pid {pid}) {desc} while loading; if it ran out of memory "
                           f"(SIGKILL), use fewer workers, a smaller batch_size or prefetch_factor")

    def _get_data(self, wid, decode=True):
        conn = self._result_conns[wid]
        sentinels = {w.sentinel: i for i, w in enumerate(self._workers)}
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            wait_s = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready = multiprocessing.connection.wait([conn, *sentinels], wait_s)
            if conn in ready:
                try:
                    idx, msg = conn.recv()
                except (EOFError, OSError):
                    idx = msg = _DEAD
                if idx is _DEAD:
                    self._raise_dead(wid)
                if decode and isinstance(msg, _shm.ShmBatch):
                    msg = _shm.unpack(msg)
                return idx, msg
            for s in ready:
                self._raise_dead(sentinels[s])
            if deadline is not None and time.monotonic() >= deadline:
                self._shutdown_workers(grace_s=0.2)
                raise RuntimeError(f"[DataLoader] timed out waiting for a batch from worker {wid}: expected one "
                                   f"within timeout={self._timeout} s")

    def _next_data(self):
        if self._shutdown:
            raise StopIteration
        while True:
            while self._rcvd_idx < self._send_idx:
                info = self._task_info[self._rcvd_idx]
                if len(info) == 2 or self._workers_status[info[0]]:
                    break
                del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                if not self._persistent:
                    self._shutdown_workers()
                raise StopIteration
            info = self._task_info[self._rcvd_idx]
            if len(info) == 2:
                del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
                return self._process(info[1])
            idx, msg = self._get_data(info[0])
            self._tasks_outstanding -= 1
            if isinstance(msg, _worker.IterableDatasetStopIteration):
                self._workers_status[msg.worker_id] = False
                self._try_put_index()
                continue
            if idx != self._rcvd_idx:
                self._task_info[idx] += (msg,)
                continue
            del self._task_info[idx]
            self._rcvd_idx += 1
            return self._process(msg)

    def _process(self, data):
        self._try_put_index()
        if isinstance(data, _worker.ExceptionWrapper):
            data.reraise()
        return data

    def _shutdown_workers(self, grace_s=1.0):
        """Stops the workers (asking first; after grace_s seconds SIGTERM, then SIGKILL),
        reaps them and unlinks every shared-memory block they left. Safe to call more than once."""
        if self._shutdown:
            return
        self._shutdown = True
        try:
            for c in self._index_conns:
                try:
                    c.send(None)
                except OSError:
                    pass
            with _lock:
                for c in self._index_conns + self._result_conns:
                    _parent_fds.discard(c.fileno())
            for c in self._result_conns:  # a worker blocked sending a batch gets EPIPE and exits
                c.close()
            deadline = time.monotonic() + grace_s
            for w in self._workers:
                w.join(max(0.0, deadline - time.monotonic()))
            for w in self._workers:
                if w.is_alive():
                    w.terminate()
                    w.join(1.0)
                if w.is_alive():
                    w.kill()
                    w.join()
            for c in self._index_conns:
                c.close()
        finally:
            _shm.unlink_prefix(self._prefix)
            if self._gc_frozen:
                self._gc_frozen = False
                _gc_freeze_release()
            _live_iters.discard(self)

    def __del__(self):
        self._shutdown_workers()
