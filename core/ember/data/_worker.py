"""What runs inside a DataLoader worker process: seeding, the fetch loop, exception
wrapping, and get_worker_info(). The fetchers are shared with the in-process iterator."""
import os
import random
import signal
import sys
import traceback

import ember

from . import _shm

__all__ = ["WorkerInfo", "get_worker_info"]

_worker_info = None
_POLL_S = 1.0  # how often an idle worker checks that the main process is still alive


class WorkerInfo:
    """Facts about the current DataLoader worker, from :func:`get_worker_info`.

    Attributes:
        id (int): this worker's index, ``0 .. num_workers - 1``.
        num_workers (int): how many workers the loader runs.
        seed (int): the seed of this worker (``base_seed + id``), already given to ember,
            Python's ``random`` and NumPy.
        dataset: this worker's copy of the dataset.

    Example:
        >>> info = WorkerInfo(id=0, num_workers=2, seed=7, dataset=None); info.num_workers
        2
    """

    __initialized = False

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs)
        self.__initialized = True

    def __setattr__(self, key, val):
        if self.__initialized:
            raise RuntimeError(f"[WorkerInfo] cannot assign attribute {key!r}: WorkerInfo is read-only")
        return super().__setattr__(key, val)

    def __repr__(self):
        return "WorkerInfo(" + ", ".join(f"{k}={getattr(self, k)}" for k in self.__keys) + ")"


def get_worker_info():
    """Information about the DataLoader worker this code runs in.

    Returns:
        WorkerInfo (id, num_workers, seed, dataset) inside a worker process, None in the
        main process. Use it in an IterableDataset's ``__iter__`` to give each worker its
        own shard, or in ``worker_init_fn`` to configure each worker's dataset copy.

    Example:
        >>> get_worker_info() is None   # in the main process
        True
    """
    return _worker_info


class ExceptionWrapper:
    """An exception caught in a worker, with its formatted traceback, to re-raise in the
    main process as ``Caught <Type> in DataLoader worker process <id>. Original Traceback ...``."""

    def __init__(self, exc_info=None, where="in background"):
        if exc_info is None:
            exc_info = sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        try:
            exc = self.exc_type(msg)
        except Exception:  # its constructor wants other arguments
            raise RuntimeError(msg) from None
        raise exc


class _KeyErrorMessage(str):
    """KeyError quotes its argument in str(); this keeps the traceback readable."""

    def __repr__(self):
        return self


class IterableDatasetStopIteration:
    """A worker's answer to a task once its copy of an IterableDataset is exhausted."""

    def __init__(self, worker_id):
        self.worker_id = worker_id


class ResumeIteration:
    """Sent to persistent workers at the start of a new epoch; echoed back once the worker
    has answered everything sent before it."""


class MapFetcher:
    """Fetches the items of a map-style dataset for one index (or list of indices)."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn
        getitems = getattr(dataset, "__getitems__", None)
        self.getitems = getitems if callable(getitems) else None

    def fetch(self, index):
        if self.auto_collation:
            data = self.getitems(index) if self.getitems else [self.dataset[i] for i in index]
        else:
            data = self.dataset[index]
        return self.collate_fn(data)


class IterFetcher:
    """Draws items from an iterable dataset: ``len(index)`` of them per batch."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.it = iter(dataset)
        self.auto_collation, self.collate_fn, self.drop_last = auto_collation, collate_fn, drop_last
        self.ended = False

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if self.auto_collation:
            data = []
            for _ in index:
                try:
                    data.append(next(self.it))
                except StopIteration:
                    self.ended = True
                    break
            if not data or (self.drop_last and len(data) < len(index)):
                raise StopIteration
        else:
            data = next(self.it)
        return self.collate_fn(data)


def seed_worker(seed):
    """Seeds ember, Python's random and (when installed) NumPy's global generator."""
    ember.manual_seed(seed)
    random.seed(seed)
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        return
    np.random.seed([seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF])


def _recv_task(conn, ppid):
    """The next message from the main process; None when it says stop or is gone (its pipe
    end closed, or this process re-parented: ``ppid`` is the parent seen at start, the main
    process or, with 'forkserver', the server that dies with it)."""
    while True:
        try:
            if conn.poll(_POLL_S):
                return conn.recv()
        except (EOFError, OSError):
            return None
        if os.getppid() != ppid:
            return None


def worker_loop(iterable, dataset, index_conn, result_conn, auto_collation, collate_fn, drop_last, base_seed,
                init_fn, worker_id, num_workers, block_prefix, fds_to_close):
    """Body of a worker process: fetch the tasks sent on index_conn, answer on result_conn."""
    global _worker_info
    for fd in fds_to_close:  # the other workers' pipe ends, inherited through fork
        try:
            os.close(fd)
        except OSError:
            pass
    seq = 0
    ppid = os.getppid()
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's business
        ember.set_num_threads(1)
        seed = base_seed + worker_id
        seed_worker(seed)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        where = f"in DataLoader worker process {worker_id}"
        fetcher_cls = IterFetcher if iterable else MapFetcher
        init_error = None
        fetcher = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = fetcher_cls(dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_error = ExceptionWrapper(where=where)
        iteration_end = False
        while True:
            task = _recv_task(index_conn, ppid)
            if task is None:
                break
            if isinstance(task, ResumeIteration):
                iteration_end = False
                if init_error is None and iterable:
                    try:
                        fetcher = fetcher_cls(dataset, auto_collation, collate_fn, drop_last)
                    except Exception:
                        init_error = ExceptionWrapper(where=where)
                if not _send(result_conn, (task, None)):
                    break
                continue
            idx, index = task
            if iteration_end:
                continue  # the main process stopped asking this worker for this epoch
            if init_error is not None:
                out = init_error
            else:
                try:
                    out = _shm.pack(fetcher.fetch(index), f"{block_prefix}_w{worker_id}_", seq)
                    seq += 1
                except StopIteration:
                    if not iterable:
                        out = ExceptionWrapper(where=where)
                    else:
                        out = IterableDatasetStopIteration(worker_id)
                        iteration_end = True
                except Exception:
                    out = ExceptionWrapper(where=where)
            if not _send(result_conn, (idx, out), idx, where):
                break
            del out
    except KeyboardInterrupt:
        pass
    finally:
        _shm.unlink_prefix(f"{block_prefix}_w{worker_id}")
        for c in (index_conn, result_conn):
            try:
                c.close()
            except OSError:
                pass


def _send(conn, msg, idx=None, where=None):
    """Sends msg; False when the main process has closed its end (time to exit). An
    exception that cannot be pickled is replaced by a RuntimeError carrying its text."""
    try:
        conn.send(msg)
        return True
    except (BrokenPipeError, ConnectionResetError, EOFError):
        return False
    except Exception:
        if isinstance(msg[1], ExceptionWrapper):
            w = msg[1]
            fallback = ExceptionWrapper((RuntimeError, RuntimeError(), None), where)
            fallback.exc_msg = f"{w.exc_type.__name__} (not picklable) {w.exc_msg}"
            out = fallback
        else:
            out = ExceptionWrapper(where=where)
        if isinstance(msg[1], _shm.ShmBatch):
            msg[1].discard()
        try:
            conn.send((idx, out))
            return True
        except Exception:
            return False
