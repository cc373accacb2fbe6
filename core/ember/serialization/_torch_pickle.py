"""Reading PyTorch checkpoints (``torch.save`` files) without torch and without running code.

Two layouts:

* zip (torch >= 1.6): ``<archive>/data.pkl`` (the object, tensors as persistent ids),
  ``<archive>/data/<key>`` (one uncompressed record per storage), ``<archive>/byteorder``.
* legacy (``_use_new_zipfile_serialization=False``): consecutive pickles (magic number,
  protocol 1001, sys_info, the object, the list of storage keys), then each storage as an
  8-byte element count followed by its raw bytes.

The pickles go through ``_SafeUnpickler``, whose ``find_class`` allow-lists the few globals a
checkpoint of tensors and plain containers needs, each replaced by an ember-side stand-in
(``torch._utils._rebuild_tensor_v2`` -> a function building an ember view of the storage).
Any other global (``posix.system``, ``builtins.eval``, ...) stops loading before anything runs.
"""
import collections
import io
import pickle
import struct
import zipfile

import numpy as np

from .. import _C
from ._dtypes import ST_DTYPES, TORCH_DTYPES, TORCH_STORAGES, TORCH_UNSUPPORTED_STORAGES, tensor_from_buffer

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001
LEGACY_PREFIX = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19."  # pickle.dumps(LEGACY_MAGIC, protocol=2)


class UnsafePickleError(pickle.UnpicklingError, ValueError):
    """Raised when a checkpoint's pickle names a global outside ember's allow-list (a file
    that would run code when unpickled, or one holding objects ember cannot rebuild)."""


def _fail(what):
    return ValueError(f"[load] malformed PyTorch checkpoint: {what}")


class _Guarded:
    """Base of the stand-ins find_class returns: pickle's BUILD cannot set their state."""
    __slots__ = ()

    def __setstate__(self, state):
        raise _fail(f"BUILD on {self!r} is not allowed")


class _Fn(_Guarded):
    """A callable stand-in for an allow-listed global."""
    __slots__ = ("fn", "name")

    def __init__(self, fn, name):
        self.fn, self.name = fn, name

    def __call__(self, *args):
        return self.fn(*args)

    def __repr__(self):
        return self.name


class _StorageType(_Guarded):
    """Stand-in for torch.FloatStorage & co.: only carries the dtype; not callable."""
    __slots__ = ("name", "st")

    def __init__(self, name, st):
        self.name, self.st = name, st

    def __repr__(self):
        return f"torch.{self.name}"


class _Storage(_Guarded):
    """A loaded storage: a 1-D ember tensor of numel elements."""
    __slots__ = ("tensor", "st", "numel", "key")

    def __init__(self, tensor, st, numel, key):
        self.tensor, self.st, self.numel, self.key = tensor, st, numel, key

    def __repr__(self):
        return f"<storage {self.key!r}>"


def _is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def _int_tuple(x, what):
    if not isinstance(x, (tuple, list)) or not all(_is_int(v) and v >= 0 for v in x):
        raise _fail(f"{what} must be a tuple of non-negative ints, got {x!r:.80}")
    return tuple(x)


def _rebuild_tensor(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                    metadata=None):
    """torch._utils._rebuild_tensor_v2: a strided view of the storage."""
    if not isinstance(storage, _Storage):
        raise _fail(f"a tensor must be rebuilt from a storage, got {type(storage).__name__}")
    if not _is_int(storage_offset) or storage_offset < 0:
        raise _fail(f"storage offset must be a non-negative int, got {storage_offset!r:.40}")
    size, stride = _int_tuple(size, "size"), _int_tuple(stride, "stride")
    if len(size) != len(stride):
        raise _fail(f"size {size} and stride {stride} have different lengths")
    if not isinstance(requires_grad, bool):
        raise _fail(f"requires_grad must be a bool, got {requires_grad!r:.40}")
    dtype = ST_DTYPES[storage.st][0]
    if 0 in size:
        t = _C.empty(size, dtype=dtype)
    else:
        last = storage_offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= storage.numel:
            raise _fail(f"a tensor of size {size}, stride {stride} at offset {storage_offset} reaches "
                        f"element {last}, but its storage {storage.key!r} holds {storage.numel}")
        base = storage.tensor
        t = _C.as_strided(base, size, stride, base.storage_offset() + storage_offset)
    if requires_grad and (dtype.is_floating_point or dtype.is_complex):
        t.requires_grad_()
    return t


def _rebuild_tensor_v1(storage, storage_offset, size, stride):
    """torch._utils._rebuild_tensor (checkpoints from before torch 1.0)."""
    return _rebuild_tensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad, backward_hooks, state=None):
    """torch._utils._rebuild_parameter[_with_state]: ember keeps a plain tensor with requires_grad."""
    if not isinstance(data, _C.Tensor) or not isinstance(requires_grad, bool):
        raise _fail("a parameter must be rebuilt from a tensor and a bool")
    if requires_grad and (data.dtype.is_floating_point or data.dtype.is_complex):
        data.requires_grad_()
    return data


def _encode(text, encoding="latin1"):
    """_codecs.encode, as protocol-2 pickles write bytes: only (str, 'latin1')."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise _fail("_codecs.encode is only allowed as (str, 'latin1')")
    return text.encode("latin1")


def _device(spec, index=None):
    if not isinstance(spec, str) or not (index is None or _is_int(index)):
        raise _fail(f"torch.device expects a string, got {spec!r:.40}")
    return _C.device(spec if index is None else f"{spec}:{index}")


def _safe_globals():
    g = {
        ("torch._utils", "_rebuild_tensor_v2"): _Fn(_rebuild_tensor, "torch._utils._rebuild_tensor_v2"),
        ("torch._utils", "_rebuild_tensor"): _Fn(_rebuild_tensor_v1, "torch._utils._rebuild_tensor"),
        ("torch._utils", "_rebuild_parameter"): _Fn(_rebuild_parameter, "torch._utils._rebuild_parameter"),
        ("torch._utils", "_rebuild_parameter_with_state"):
            _Fn(_rebuild_parameter, "torch._utils._rebuild_parameter_with_state"),
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("torch", "Size"): _Fn(lambda dims=(): _int_tuple(dims, "torch.Size"), "torch.Size"),
        ("torch", "device"): _Fn(_device, "torch.device"),
        ("_codecs", "encode"): _Fn(_encode, "_codecs.encode"),
    }
    for mod in ("builtins", "__builtin__"):
        g[(mod, "set")] = set
        g[(mod, "frozenset")] = frozenset
        g[(mod, "complex")] = complex
    for name, st in TORCH_STORAGES.items():
        g[("torch", name)] = _StorageType(name, st)
    for name in TORCH_UNSUPPORTED_STORAGES:
        g[("torch", name)] = _StorageType(name, None)
    g[("torch.storage", "UntypedStorage")] = g[("torch", "UntypedStorage")]
    g[("torch.storage", "TypedStorage")] = g[("torch", "TypedStorage")] = _StorageType("TypedStorage", None)
    for name, dt in TORCH_DTYPES.items():
        g[("torch", name)] = dt
    return g


SAFE_GLOBALS = _safe_globals()


class _SafeUnpickler(pickle._Unpickler):
    """An Unpickler that resolves only allow-listed globals, hands persistent ids to a
    callback and lets BUILD set state only on OrderedDicts (torch state dicts carry a
    ``_metadata`` attribute). It is pickle's pure-Python unpickler, whose opcode table can
    be restricted; checkpoint pickles hold only metadata, so speed does not matter."""

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file, persistent=None):
        super().__init__(file, fix_imports=False, encoding="utf-8")
        self._persistent = persistent

    def load_build(self):
        state = self.stack.pop()
        inst = self.stack[-1]
        if type(inst) is collections.OrderedDict and type(state) is dict and all(type(k) is str for k in state):
            inst.__dict__.update(state)
            return
        raise _fail(f"BUILD on {type(inst).__name__} is not allowed: only OrderedDict attributes may be set")

    dispatch[pickle.BUILD[0]] = load_build

    def find_class(self, module, name):
        obj = SAFE_GLOBALS.get((module, name))
        if obj is None:
            raise UnsafePickleError(
                f"[load] refusing to unpickle global '{module}.{name}': ember.load rebuilds only tensors, "
                "storages and plain containers (dict, OrderedDict, list, tuple, set, numbers, strings) "
                "and never runs code from a file; if you trust the file, load it with torch and "
                "re-save the tensors")
        return obj

    def persistent_load(self, pid):
        if self._persistent is None:
            raise _fail("unexpected persistent id outside the checkpoint's main pickle")
        return self._persistent(pid)


def unpickle(file, persistent=None):
    """Runs the restricted unpickler on file; malformed input becomes a ValueError."""
    try:
        return _SafeUnpickler(file, persistent).load()
    except RecursionError:
        raise _fail("the pickle is nested too deeply") from None
    except Exception as e:  # pickle raises many kinds on garbage (EOFError, KeyError, TypeError, ...)
        if str(e).startswith("[load]"):   # ours (refusals, checks, map_location): as they are
            raise
        raise _fail(f"{type(e).__name__}: {e}") from None


def _storage_type(obj):
    if not isinstance(obj, _StorageType):
        raise _fail(f"expected a storage type in a persistent id, got {obj!r:.60}")
    if obj.st is None:
        raise ValueError(f"[load] the checkpoint holds a torch.{obj.name}, which ember does not support")
    return obj


def _resolve_storages(obj, depth=0):
    """Bare storages saved as objects come back as 1-D tensors."""
    if isinstance(obj, _Storage):
        return obj.tensor
    if depth > 200:
        return obj
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, (_Storage, dict, list)):
                obj[k] = _resolve_storages(v, depth + 1)
    elif isinstance(obj, list):
        obj[:] = [_resolve_storages(v, depth + 1) for v in obj]
    elif isinstance(obj, tuple) and any(isinstance(v, (_Storage, dict, list, tuple)) for v in obj):
        return tuple(_resolve_storages(v, depth + 1) for v in obj)
    return obj


# ---- zip format ------------------------------------------------------------------------------

def _member(zf, name, size_limit):
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise _fail(f"the archive has no record {name!r}") from None
    if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
        raise _fail(f"record {name!r} is compressed or encrypted; PyTorch writes records uncompressed")
    if info.file_size != info.compress_size or info.file_size > size_limit:
        raise _fail(f"record {name!r} claims {info.file_size} bytes in a file of {size_limit}")
    return info


def _record_offset(buf, info):
    """Where a stored record's bytes start in the archive (after its local header)."""
    h = info.header_offset
    if buf[h:h + 4] != b"PK\x03\x04":
        raise _fail(f"bad local header for record {info.filename!r}")
    name_len, extra_len = struct.unpack("<HH", buf[h + 26:h + 30])
    start = h + 30 + name_len + extra_len
    if start + info.file_size > len(buf):
        raise _fail(f"record {info.filename!r} runs past the end of the file")
    return start


def load_zip(fileobj, size, place, buffer=None):
    """Loads a torch zip checkpoint from fileobj (positioned anywhere; size is the file's size).

    Args:
        place (callable): place(storage_tensor, location) -> tensor, applies map_location.
        buffer: the mapped file (mmap=True) whose records the storages share, or None.
    """
    try:
        zf = zipfile.ZipFile(fileobj)
        names = zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise _fail(f"not a readable zip archive ({e})") from None
    pkls = [n for n in names if n.count("/") == 1 and n.endswith("/data.pkl")]
    if len(pkls) != 1:
        raise ValueError("[load] unrecognised zip archive: expected one '<archive>/data.pkl' record as "
                         f"torch.save writes, found {len(pkls)}")
    prefix = pkls[0][:-len("data.pkl")]
    byteswap = False
    if prefix + "byteorder" in names:
        order = zf.read(_member(zf, prefix + "byteorder", size)).strip()
        if order not in (b"little", b"big"):
            raise _fail(f"byteorder must be 'little' or 'big', got {order[:20]!r}")
        byteswap = order == b"big"
    storages = {}

    def persistent(pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise _fail(f"unexpected persistent id {pid!r:.80}")
        _, stype, key, location, numel = pid
        stype = _storage_type(stype)
        if not isinstance(key, str) or not isinstance(location, str) or not _is_int(numel) or numel < 0:
            raise _fail(f"bad storage reference {pid!r:.80}")
        if key in storages:
            s = storages[key]
            if s.st != stype.st or s.numel != numel:
                raise _fail(f"storage {key!r} is referenced with two different dtypes or sizes")
            return s
        itemsize = ST_DTYPES[stype.st][1].itemsize
        info = _member(zf, f"{prefix}data/{key}", size)
        if info.file_size != numel * itemsize:
            raise _fail(f"storage {key!r} should hold {numel} x {itemsize} bytes, its record has {info.file_size}")
        if buffer is not None:
            t = tensor_from_buffer(buffer, _record_offset(buffer, info), stype.st, (numel,), byteswap)
        else:
            mem = np.empty(info.file_size, dtype=np.uint8)
            with zf.open(info) as rec:
                if read_fully(rec, mem) != info.file_size:
                    raise _fail(f"record of storage {key!r} is truncated")
            t = tensor_from_buffer(mem, 0, stype.st, (numel,), byteswap)
        s = storages[key] = _Storage(place(t, location), stype.st, numel, key)
        return s

    with zf:
        raw = zf.read(_member(zf, prefix + "data.pkl", size))
        return _resolve_storages(unpickle(io.BytesIO(raw), persistent))


def read_fully(f, mem):
    """readinto until mem (a uint8 array) is full or the file ends; returns the byte count."""
    view, got = memoryview(mem), 0
    while got < len(view):
        n = f.readinto(view[got:])
        if not n:
            break
        got += n
    return got


# ---- legacy format -----------------------------------------------------------------------------

def load_legacy(f, size, place):
    """Loads a pre-1.6 (or _use_new_zipfile_serialization=False) checkpoint from f."""
    start = f.tell()
    magic = unpickle(f)
    if magic != LEGACY_MAGIC:
        raise ValueError("[load] unrecognised file: it is a pickle but not a PyTorch checkpoint "
                         "(no legacy magic number); ember.load reads safetensors and torch.save files")
    if unpickle(f) != LEGACY_PROTOCOL:
        raise _fail(f"unsupported legacy protocol version: expected {LEGACY_PROTOCOL}")
    sys_info = unpickle(f)
    if not isinstance(sys_info, dict):
        raise _fail("sys_info must be a dict")
    little = sys_info.get("little_endian", True)
    storages, views = {}, {}
    allocated = [0]

    def persistent(pid):
        if not (isinstance(pid, tuple) and len(pid) == 6 and pid[0] == "storage"):
            raise _fail(f"unexpected persistent id {pid!r:.80}")
        _, stype, key, location, numel, view = pid
        stype = _storage_type(stype)
        if not isinstance(key, str) or not isinstance(location, str) or not _is_int(numel) or numel < 0:
            raise _fail(f"bad storage reference {pid!r:.80}")
        if key in storages:
            s = storages[key]
            if s.st != stype.st or s.numel != numel:
                raise _fail(f"storage {key!r} is referenced with two different dtypes or sizes")
        else:
            nbytes = numel * ST_DTYPES[stype.st][1].itemsize
            allocated[0] += nbytes
            if allocated[0] > size - (f.tell() - start):
                raise _fail(f"its storages claim {allocated[0]} bytes, more than the file holds")
            mem = np.zeros(nbytes, dtype=np.uint8)
            t = tensor_from_buffer(mem, 0, stype.st, (numel,))
            s = storages[key] = _Storage(place(t, location), stype.st, numel, key)
        if view is None:
            return s
        if not (isinstance(view, tuple) and len(view) == 3 and isinstance(view[0], str)
                and _is_int(view[1]) and _is_int(view[2]) and 0 <= view[1] <= view[1] + view[2] <= s.numel):
            raise _fail(f"bad storage view {view!r:.80}")
        if view[0] not in views:
            vt = s.tensor[view[1]:view[1] + view[2]]
            views[view[0]] = _Storage(vt, s.st, view[2], view[0])
        return views[view[0]]

    result = unpickle(f, persistent)
    keys = unpickle(f)
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise _fail("the storage key list must be a list of strings")
    missing = set(storages) - set(keys)
    if missing:
        raise _fail(f"storage {sorted(missing)[0]!r} has no data in the file")
    for key in keys:
        s = storages.get(key)
        if s is None:
            raise _fail(f"data for storage {key!r}, which no tensor uses")
        head = f.read(8)
        if len(head) != 8:
            raise _fail(f"the file ended before storage {key!r}")
        (count,) = struct.unpack("<q" if little else ">q", head)
        if count != s.numel:
            raise _fail(f"storage {key!r} has {count} elements in the file, {s.numel} in the pickle")
        t = s.tensor
        bits = t.view(_C.dtype.int16) if t.dtype == _C.dtype.bfloat16 else t
        mem = bits.numpy().reshape(-1).view(np.uint8)
        if read_fully(f, mem) != mem.size:
            raise _fail(f"the file ended inside storage {key!r}")
        if not little and t.element_size() > 1:
            swapped = mem.view(ST_DTYPES[s.st][1]).byteswap()
            mem[:] = swapped.view(np.uint8)
    return _resolve_storages(result)
