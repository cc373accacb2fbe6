"""Reading and writing the safetensors format, byte for byte as the ``safetensors`` library does.

Layout: an 8-byte little-endian header length N; N bytes of UTF-8 JSON
``{"__metadata__": {str: str}, name: {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}``
padded with spaces to a multiple of 8; then the tensors' bytes, C-contiguous and
little-endian, ordered by dtype (the library's Dtype enum, descending) then by name, with
offsets relative to the end of the header. The ranges tile the data section exactly: no gap,
no overlap, nothing after the last tensor.
"""
import json
import struct

import numpy as np

from ._dtypes import EMBER_TO_ST, ST_DTYPES, ST_RANK, ST_UNSUPPORTED, tensor_bytes, tensor_from_buffer

MAX_HEADER = 100_000_000  # the safetensors library's limit
_MAX_DIM = 2 ** 62


def _json(obj):
    """serde_json's compact output (the escapes coincide with Python's for ensure_ascii=False)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def build_header(tensors, metadata):
    """The padded header bytes and the tensors in data order.

    Args:
        tensors (dict[str, Tensor]): the flat tensors.
        metadata (dict[str, str] or None): written as ``__metadata__`` (keys sorted) unless None.

    Returns:
        (bytes, list of (name, Tensor)): the header including its 8-byte length prefix.
    """
    entries = []
    for name, t in tensors.items():
        if name == "__metadata__":
            raise ValueError("[save] a tensor cannot be named '__metadata__': the name is reserved by safetensors")
        st = EMBER_TO_ST.get(t.dtype.name)
        if st is None:  # pragma: no cover (every ember dtype has a safetensors name)
            raise TypeError(f"[save] tensor {name!r}: dtype {t.dtype} has no safetensors counterpart")
        entries.append((name, st, t))
    entries.sort(key=lambda e: (-ST_RANK[e[1]], e[0]))
    header = {}
    if metadata is not None:
        header["__metadata__"] = {k: metadata[k] for k in sorted(metadata)}
    offset, order = 0, []
    for name, st, t in entries:
        n = t.numel() * t.element_size()
        header[name] = {"dtype": st, "shape": list(t.shape), "data_offsets": [offset, offset + n]}
        offset += n
        order.append((name, t))
    try:
        raw = _json(header).encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError(f"[save] names and metadata must be valid Unicode text: {e}") from None
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw, order


def write(f, tensors, metadata):
    """Writes tensors (dict name -> Tensor) and metadata (dict str -> str or None) to the
    binary file object f."""
    header, order = build_header(tensors, metadata)
    f.write(header)
    for _, t in order:
        if t.numel():
            f.write(tensor_bytes(t))


def _fail(what):
    return ValueError(f"[load] malformed safetensors file: {what}")


def parse_header(read, size):
    """Reads and validates the header.

    Args:
        read (callable): read(n) -> bytes from the start of the file.
        size (int): the file's size in bytes (from the start).

    Returns:
        (metadata dict or None, entries, data_start): entries are
        (name, st_dtype, shape tuple, begin, end), sorted by begin, offsets relative to data_start.
    """
    if size < 8:
        raise _fail(f"it has {size} bytes, fewer than the 8-byte header length")
    (n,) = struct.unpack("<Q", read(8))
    if n > size - 8:
        raise _fail(f"the header length {n} is larger than the rest of the file ({size - 8} bytes); "
                    "the file is truncated or not a safetensors file")
    if n > MAX_HEADER:
        raise _fail(f"the header length {n} exceeds the limit of {MAX_HEADER} bytes")
    raw = read(n)
    if len(raw) != n:
        raise _fail(f"the file ended inside the header ({len(raw)} of {n} bytes)")
    try:
        header = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise _fail("the header is not UTF-8 text") from None
    except (ValueError, RecursionError) as e:
        raise _fail(f"the header is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise _fail(f"the header must be a JSON object, got {type(header).__name__}")
    metadata = header.pop("__metadata__", None)
    if metadata is not None and not (isinstance(metadata, dict) and
                                     all(isinstance(v, str) for v in metadata.values())):
        raise _fail("'__metadata__' must be an object of string values")
    data_size = size - 8 - n
    entries = [_entry(name, info, data_size) for name, info in header.items()]
    entries.sort(key=lambda e: (e[3], e[4]))
    pos = 0
    for name, _, _, begin, end in entries:
        if begin != pos:
            what = "overlaps the previous tensor" if begin < pos else f"leaves a gap of {begin - pos} bytes before it"
            raise _fail(f"tensor {name!r}: data_offsets [{begin}, {end}] {what} (expected to start at {pos})")
        pos = end
    if pos != data_size:
        raise _fail(f"the tensors cover {pos} bytes but the data section holds {data_size}"
                    + ("; the file is truncated" if pos > data_size else ""))
    return metadata, entries, 8 + n


def _is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def _entry(name, info, data_size):
    if not isinstance(info, dict):
        raise _fail(f"tensor {name!r}: expected an object with dtype, shape and data_offsets, got {type(info).__name__}")
    missing = [k for k in ("dtype", "shape", "data_offsets") if k not in info]
    if missing:
        raise _fail(f"tensor {name!r}: missing {', '.join(missing)}")
    st, shape, offs = info["dtype"], info["shape"], info["data_offsets"]
    if st not in ST_DTYPES:
        if st in ST_UNSUPPORTED:
            raise ValueError(f"[load] tensor {name!r} has dtype {st}, which ember does not support")
        raise _fail(f"tensor {name!r}: unknown dtype {st!r}; expected one of {', '.join(ST_DTYPES)}")
    if not isinstance(shape, list) or not all(_is_int(s) for s in shape):
        raise _fail(f"tensor {name!r}: shape must be a list of integers, got {shape!r:.80}")
    if any(s < 0 or s > _MAX_DIM for s in shape):
        raise _fail(f"tensor {name!r}: shape {shape!r:.80} has a negative or huge size")
    if not (isinstance(offs, list) and len(offs) == 2 and all(_is_int(o) for o in offs)):
        raise _fail(f"tensor {name!r}: data_offsets must be [begin, end], got {offs!r:.80}")
    begin, end = offs
    if not 0 <= begin <= end <= data_size:
        raise _fail(f"tensor {name!r}: data_offsets [{begin}, {end}] lie outside the data section "
                    f"of {data_size} bytes")
    itemsize = ST_DTYPES[st][1].itemsize
    count, exact = (0 if 0 in shape else 1), True
    for i, s in enumerate(shape):   # stops early rather than building a huge product
        count *= s
        if count * itemsize > data_size and i + 1 < len(shape):
            exact = False
            break
    if count * itemsize != end - begin:
        needs = count * itemsize if exact else f"more than {data_size}"
        raise _fail(f"tensor {name!r}: shape {shape!r:.80} of {st} needs {needs} bytes, "
                    f"data_offsets [{begin}, {end}] hold {end - begin}")
    return name, st, tuple(shape), begin, end


def read_tensors(entries, data_start, readinto=None, buffer=None):
    """Builds the tensors, either reading each into its own memory (readinto, called in
    file order) or as views of buffer (an mmap or bytes-like covering the whole file).

    Returns:
        dict name -> Tensor, in file order.
    """
    out = {}
    for name, st, shape, begin, end in entries:
        if buffer is not None:
            out[name] = tensor_from_buffer(buffer, data_start + begin, st, shape)
            continue
        mem = np.empty(end - begin, dtype=np.uint8)
        if end > begin:
            got = readinto(mem)
            if got != end - begin:
                raise _fail(f"the file ended inside tensor {name!r}")
        out[name] = tensor_from_buffer(mem, 0, st, shape)
    return out
