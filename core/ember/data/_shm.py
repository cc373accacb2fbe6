"""Moving batches from DataLoader workers to the main process through shared memory.

A worker pickles a batch with every tensor replaced by a reference (offset, dtype, shape)
into one shared-memory block: a file in /dev/shm that it sizes, maps and fills. Only the
small pickle (and the block's name) travels through the pipe. The main process opens the
file, maps it, unlinks it at once and wraps each tensor around the mapping with
``numpy.frombuffer`` + ``ember.from_numpy``: no copy, and the mapping lives exactly as long
as the last tensor that uses it (the ndarray holds the mmap, the tensor holds the ndarray).

Block names start with a per-iterator prefix (``ember_dl_<pid>_<n>_<token>``) and a per-worker
part (``_w<id>_``), so that whatever a worker created and nobody received (an early break, an
error, a killed worker) is found and unlinked when the workers shut down.
"""
import errno
import io
import itertools
import mmap
import os
import pickle
import secrets
import tempfile

import numpy as np

import ember

SHM_DIR = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
_ALIGN = 64
_counter = itertools.count()
_NUMPY_NAME = {ember.bool: "bool", ember.uint8: "uint8", ember.int8: "int8", ember.int16: "int16",
               ember.int32: "int32", ember.int64: "int64", ember.float16: "float16", ember.float32: "float32",
               ember.float64: "float64", ember.complex64: "complex64"}
# dtypes NumPy lacks travel as an integer type of the same width and are viewed back
_CARRIER = {ember.bfloat16: ember.int16}


def new_prefix():
    """A fresh block-name prefix for one set of workers (unique per process and call)."""
    return f"ember_dl_{os.getpid()}_{next(_counter)}_{secrets.token_hex(4)}"


def unlink_prefix(prefix):
    """Unlinks every block whose name starts with ``prefix + '_'``; returns how many."""
    n = 0
    try:
        names = os.listdir(SHM_DIR)
    except OSError:
        return 0
    for name in names:
        if name.startswith(prefix + "_"):
            try:
                os.unlink(os.path.join(SHM_DIR, name))
                n += 1
            except OSError:
                pass
    return n


class ShmBatch:
    """What a worker sends for one batch: the block's name (None when the batch holds no
    tensor bytes), its size, and the pickle with tensor references."""
    __slots__ = ("name", "nbytes", "payload")

    def __init__(self, name, nbytes, payload):
        self.name, self.nbytes, self.payload = name, nbytes, payload

    def __getstate__(self):
        return (self.name, self.nbytes, self.payload)

    def __setstate__(self, state):
        self.name, self.nbytes, self.payload = state

    def discard(self):
        """Unlinks the block without reading it (a batch nobody will use)."""
        if self.name is not None:
            try:
                os.unlink(os.path.join(SHM_DIR, self.name))
            except OSError:
                pass


class _Packer(pickle.Pickler):
    def __init__(self, file):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.tensors = []
        self.nbytes = 0

    def persistent_id(self, obj):
        if not isinstance(obj, ember.Tensor):
            return None
        if obj.device.type != "cpu":
            raise RuntimeError(f"[DataLoader] workers can only return CPU tensors: got one on {obj.device}; "
                               f"move it to the device in the main process")
        t = obj.detach()
        dtype = t.dtype
        if dtype in _CARRIER:
            t = t.contiguous().view(_CARRIER[dtype])
        if t.dtype not in _NUMPY_NAME:
            raise TypeError(f"[DataLoader] cannot send a tensor of dtype {dtype} from a worker")
        offset = -(-self.nbytes // _ALIGN) * _ALIGN
        size = t.numel() * t.element_size()
        if size:
            self.tensors.append((offset, t))
            self.nbytes = offset + size
        return ("ember.Tensor", offset, dtype, tuple(t.shape), obj.requires_grad)


class _Unpacker(pickle.Unpickler):
    def __init__(self, file, buffer):
        super().__init__(file)
        self.buffer = buffer

    def persistent_load(self, pid):
        tag, offset, dtype, shape, requires_grad = pid
        if tag != "ember.Tensor":
            raise pickle.UnpicklingError(f"[DataLoader] unknown reference in a worker's batch: {tag!r}")
        carrier = _CARRIER.get(dtype, dtype)
        count = 1
        for s in shape:
            count *= s
        if count == 0:
            t = ember.empty(shape, dtype=dtype)
        else:
            arr = np.frombuffer(self.buffer, dtype=_NUMPY_NAME[carrier], count=count, offset=offset).reshape(shape)
            t = ember.from_numpy(arr)
            if carrier != dtype:
                t = t.view(dtype)
        return t.requires_grad_() if requires_grad else t


def pack(obj, block_prefix, seq):
    """Pickles obj, writing its tensors' bytes into a new block ``<block_prefix><seq>``.

    Returns:
        ShmBatch: the message to send.
    """
    buf = io.BytesIO()
    p = _Packer(buf)
    p.dump(obj)
    if not p.tensors:
        return ShmBatch(None, 0, buf.getvalue())
    name = f"{block_prefix}{seq}"
    path = os.path.join(SHM_DIR, name)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            # reserve the pages now: a full tmpfs then fails here with ENOSPC instead of
            # killing the worker with SIGBUS when it writes
            os.posix_fallocate(fd, 0, p.nbytes)
        except OSError as e:
            if e.errno not in (errno.ENOSPC, errno.ENOMEM):
                os.ftruncate(fd, p.nbytes)  # a file system without fallocate
            else:
                raise RuntimeError(
                    f"[DataLoader] not enough shared memory in {SHM_DIR} for a batch of {p.nbytes} bytes: "
                    f"enlarge it (docker: --shm-size) or lower batch_size, prefetch_factor or num_workers") from None
        mm = mmap.mmap(fd, p.nbytes)
    except BaseException:
        os.close(fd)
        os.unlink(path)
        raise
    os.close(fd)
    try:
        for offset, t in p.tensors:
            dst = np.frombuffer(mm, dtype=_NUMPY_NAME[t.dtype], count=t.numel(), offset=offset).reshape(tuple(t.shape))
            ember.from_numpy(dst).copy_(t)
            del dst
    except BaseException:
        os.unlink(path)
        raise
    finally:
        p.tensors.clear()
        try:
            mm.close()
        except BufferError:  # a view is still alive somewhere: the mapping goes with it
            pass
    return ShmBatch(name, p.nbytes, buf.getvalue())


def unpack(msg):
    """Rebuilds a batch from a ShmBatch: maps and unlinks its block, wraps the tensors
    around the mapping (no copy)."""
    mm = None
    if msg.name is not None:
        path = os.path.join(SHM_DIR, msg.name)
        fd = os.open(path, os.O_RDWR)
        try:
            os.unlink(path)
            mm = mmap.mmap(fd, msg.nbytes)
        finally:
            os.close(fd)
    return _Unpacker(io.BytesIO(msg.payload), mm).load()


def _rebuild_tensor(data, dtype, shape, requires_grad):
    carrier = _CARRIER.get(dtype, dtype)
    t = ember.from_numpy(np.frombuffer(bytearray(data), dtype=_NUMPY_NAME[carrier]).reshape(shape))
    if carrier != dtype:
        t = t.view(dtype)
    return t.requires_grad_() if requires_grad else t


def _reduce_tensor(t):
    """multiprocessing reduction of a CPU tensor (by value): lets datasets holding tensors
    reach workers started with 'spawn' or 'forkserver'."""
    x = t.detach().contiguous()
    dtype = x.dtype
    if dtype in _CARRIER:
        x = x.view(_CARRIER[dtype])
    return _rebuild_tensor, (x.numpy().tobytes(), dtype, tuple(x.shape), t.requires_grad)


def register_tensor_reduction():
    """Teaches multiprocessing's pickler to send ember tensors by value (idempotent)."""
    from multiprocessing.reduction import ForkingPickler
    ForkingPickler.register(ember.Tensor, _reduce_tensor)
