"""ember.save / ember.load / load_metadata: file handling, format detection, map_location."""
import io
import mmap as _mmap
import os

from .. import _C
from . import _nesting, _safetensors, _torch_pickle
from ._dtypes import is_tensor


def save(obj, f, metadata=None):
    """Saves tensors, state dicts and nested containers to a safetensors file.

    A plain ``dict`` of ``str -> Tensor`` is written as plain safetensors, byte-identical to
    ``safetensors.numpy.save_file`` with the same metadata. Anything else (an OrderedDict
    state dict, an optimizer state dict, a single tensor, nested dicts/lists/tuples of
    tensors and None/bool/int/float/str) is stored as flat tensors named by their path
    (``"state.0.exp_avg"``) plus a JSON description of the nesting in the metadata key
    ``"ember.structure"``; the file stays readable by any safetensors reader.

    Unlike ``torch.save`` nothing is pickled, so loading can never run code. Each tensor's
    own elements are written (contiguous, little-endian); tensors that shared memory come
    back as separate tensors (safetensors forbids overlapping data), except that in a nested
    object the very same tensor object appearing twice is stored once and comes back as one.
    ``requires_grad`` is not stored.

    Args:
        obj: what to save (see above).
        f (str, os.PathLike or binary file object): where to write.
        metadata (dict[str, str], optional): extra ``__metadata__`` entries (default: None).

    Returns:
        None

    Raises:
        TypeError: for an object that is not a tensor, plain value or plain container,
            naming where it sits (``obj['state'][0]['momentum']``).

    Example:
        >>> import ember, io
        >>> from ember.serialization import save, load   # also ember.save / ember.load
        >>> buf = io.BytesIO()
        >>> save({"w": ember.ones(2, 3), "step": 10}, buf)
        >>> _ = buf.seek(0); load(buf)["step"]
        10
    """
    if metadata is not None:
        if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                     for k, v in metadata.items()):
            raise TypeError(f"[save] metadata must be a dict of str -> str, got {type(metadata).__name__}")
        if _nesting.STRUCTURE_KEY in metadata:
            raise ValueError(f"[save] the metadata key {_nesting.STRUCTURE_KEY!r} is reserved for ember")
    if _nesting.is_flat(obj):
        tensors, md = obj, metadata
    else:
        tensors, text = _nesting.flatten(obj)
        md = dict(metadata or {})
        md[_nesting.STRUCTURE_KEY] = text
    header, order = _safetensors.build_header(tensors, md)   # validates before touching the file
    with _Output(f) as out:
        out.write(header)
        for _, t in order:
            if t.numel():
                out.write(_safetensors.tensor_bytes(t))


class _Output:
    def __init__(self, f):
        if isinstance(f, (str, os.PathLike)):
            self.f, self.own = open(f, "wb"), True
        elif hasattr(f, "write") and not isinstance(f, io.TextIOBase):
            self.f, self.own = f, False
        else:
            raise TypeError(f"[save] f must be a path or a binary file object, got {type(f).__name__}")

    def __enter__(self):
        return self.f

    def __exit__(self, *exc):
        if self.own:
            self.f.close()


class _Source:
    """The file being loaded: a binary file object, its start position and size."""

    def __init__(self, f, name="load"):
        self.own = isinstance(f, (str, os.PathLike))
        if self.own:
            self.f = open(f, "rb")
        elif hasattr(f, "read") and not isinstance(f, io.TextIOBase):
            self.f = f
        else:
            raise TypeError(f"[{name}] f must be a path or a binary file object, got {type(f).__name__}")
        self.original = self.f
        seekable = getattr(self.f, "seekable", None)
        if seekable is None or not seekable():
            self.f = io.BytesIO(self.f.read())   # a pipe or socket: memory as large as what it sent
        self.start = self.f.tell()
        self.size = self.f.seek(0, io.SEEK_END) - self.start
        self.f.seek(self.start)

    def head(self, n):
        b = self.f.read(n)
        self.f.seek(self.start)
        return b

    def map(self, name="load"):
        """The whole underlying file mapped copy-on-write (writes to tensors stay private)."""
        try:
            fd = self.original.fileno()
        except (AttributeError, OSError, io.UnsupportedOperation):
            raise ValueError(f"[{name}] mmap=True needs a path or a file opened from disk, got "
                             f"{type(self.original).__name__}") from None
        if self.original is not self.f:
            raise ValueError(f"[{name}] mmap=True needs a seekable file")
        return _mmap.mmap(fd, 0, access=_mmap.ACCESS_COPY)

    def close(self):
        if self.own:
            self.f.close()


def _kind(head):
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5 and head[8:9] != b"{":
        return "pickle"
    return "safetensors"


def _placer(map_location):
    """place(tensor, location) applying map_location the way torch.load does: tensors go to the
    CPU, or to a CUDA device when one is available."""
    if map_location is None or isinstance(map_location, (str, _C.device)):
        target = None if map_location is None else str(map_location)
        route = (lambda loc: loc) if target is None else (lambda loc: target)
    elif isinstance(map_location, dict):
        table = {str(k): str(v) for k, v in map_location.items()}
        route = lambda loc: table.get(loc, loc)  # noqa: E731
    elif callable(map_location):
        route = None
    else:
        raise TypeError("[load] map_location must be None, a device, a str, a dict or a callable, got "
                        f"{type(map_location).__name__}")

    def move(t, loc, dest):
        try:
            dev = _C.device(dest)
        except Exception:
            raise ValueError(f"[load] map_location: {dest!r} is not a device") from None
        if dev.type == "cpu":
            return t
        from .. import cuda
        if dev.type != "cuda" or not cuda.is_available() or (dev.index or 0) >= cuda.device_count():
            how = ("its tensors were saved on " + repr(loc) if dest == loc
                   else f"map_location sends {loc!r} to {dest!r}")
            why = ("no CUDA device is available (ember.cuda.is_available() is False)" if dev.type == "cuda"
                   and not cuda.is_available() else f"{dest!r} is not a device here")
            raise RuntimeError(f"[load] cannot load to {dest!r} ({how}): {why}; pass map_location='cpu'")
        return t.to(dev)

    def place(t, loc):
        if route is None:
            r = map_location(t, loc)
            if r is None:
                return move(t, loc, loc)
            if not is_tensor(r) or r.dtype != t.dtype or r.numel() != t.numel():
                raise TypeError("[load] a map_location callable must return None or a tensor of the "
                                f"storage's dtype and size, got {type(r).__name__}")
            return r
        return move(t, loc, route(loc))

    return place


def load(f, map_location=None, mmap=False, weights_only=True):
    """Loads a checkpoint: safetensors (ember.save or any safetensors writer) or a PyTorch
    ``torch.save`` file (zip or legacy format), without torch and without running code.

    The format is recognised from the file's first bytes, not its extension. PyTorch
    pickles go through a restricted unpickler that rebuilds only tensors (with their sizes,
    strides and offsets; tensors that shared a storage still share it), parameters (as
    tensors with requires_grad), dtypes, devices, sizes and plain containers; any other
    global, such as ``posix.system``, is refused with ``UnsafePickleError`` before it runs.

    Args:
        f (str, os.PathLike or binary file object): what to read.
        map_location (None, str, ember.device, dict or callable): where tensors go, as in
            ``torch.load``: the CPU or a CUDA device (default: None, the saved location; tensors
            saved on a GPU go to that GPU when it is there).
        mmap (bool): map the file instead of reading it; the tensors share the mapping
            (copy-on-write: writing to them never changes the file). Needs a path or a file
            opened from disk; not for legacy torch files (default: False).
        weights_only (bool): accepted for compatibility; ember always loads as torch does with
            weights_only=True, whatever the value (default: True).

    Returns:
        what was saved: a dict of tensors for a plain safetensors file, the nested object
        for a file from ember.save, the unpickled object for a PyTorch checkpoint.

    Raises:
        ValueError: for a malformed or truncated file (checked before memory is allocated).
        UnsafePickleError (a ValueError): for a pickle naming a global outside the allow-list.
        RuntimeError: for tensors bound to a CUDA device that this machine does not have.

    Example:
        >>> import ember, io
        >>> from ember.serialization import save, load   # also ember.save / ember.load
        >>> buf = io.BytesIO(); save({"a": ember.arange(3)}, buf); _ = buf.seek(0)
        >>> load(buf)
        {'a': tensor([0, 1, 2])}
    """
    if not isinstance(weights_only, bool) or not isinstance(mmap, bool):
        raise TypeError("[load] mmap and weights_only must be bools")
    place = _placer(map_location)
    src = _Source(f)
    buffer = None
    try:
        kind = _kind(src.head(16))
        if mmap and src.size > 0:
            if kind == "pickle":
                raise ValueError("[load] mmap=True needs a safetensors file or a torch zip checkpoint; "
                                 "legacy torch.save files cannot be mapped")
            buffer = src.map()
        if kind == "zip":
            return _torch_pickle.load_zip(src.f, src.start + src.size, place, buffer)
        if kind == "pickle":
            return _torch_pickle.load_legacy(src.f, src.size, place)
        return _load_safetensors(src, place, buffer)
    finally:
        src.close()


def _load_safetensors(src, place, buffer):
    metadata, entries, data_start = _safetensors.parse_header(src.f.read, src.size)
    if buffer is not None:
        tensors = _safetensors.read_tensors(entries, src.start + data_start, buffer=buffer)
    else:
        src.f.seek(src.start + data_start)
        tensors = _safetensors.read_tensors(
            entries, data_start, readinto=lambda mem: _torch_pickle.read_fully(src.f, mem))
    tensors = {k: place(v, "cpu") for k, v in tensors.items()}
    text = (metadata or {}).get(_nesting.STRUCTURE_KEY)
    if text is not None:
        return _nesting.unflatten(text, tensors)
    return {k: tensors[k] for k in sorted(tensors)}


def load_metadata(f):
    """Reads only the ``__metadata__`` of a safetensors file (ember's own key included).

    Args:
        f (str, os.PathLike or binary file object): the file.

    Returns:
        dict[str, str]: the metadata, empty if the file has none.

    Example:
        >>> import ember, io
        >>> from ember.serialization import save, load_metadata
        >>> buf = io.BytesIO(); save({"a": ember.ones(1)}, buf, metadata={"format": "pt"})
        >>> _ = buf.seek(0); load_metadata(buf)
        {'format': 'pt'}
    """
    src = _Source(f, "load_metadata")
    try:
        if _kind(src.head(16)) != "safetensors":
            raise ValueError("[load_metadata] the file is a PyTorch checkpoint, not safetensors: it has no metadata")
        metadata, _, _ = _safetensors.parse_header(src.f.read, src.size)
        return dict(metadata or {})
    finally:
        src.close()
