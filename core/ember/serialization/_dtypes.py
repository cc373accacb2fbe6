"""dtype tables and the byte interop between ember tensors and NumPy buffers.

NumPy is used only to move bytes: a buffer (a bytearray, an mmap, a zip member read into
memory) becomes a NumPy array of the right element type, then an ember tensor sharing it.
"""
import sys

import numpy as np

from .. import _C
from .._C import Tensor

_dt = _C.dtype

# safetensors dtype name -> (ember dtype, NumPy dtype of the stored bits). bfloat16 is stored
# as its 16-bit patterns (int16) and reinterpreted by _from_bits.
ST_DTYPES = {
    "BOOL": (_dt.bool, np.dtype(np.bool_)),
    "U8": (_dt.uint8, np.dtype(np.uint8)),
    "I8": (_dt.int8, np.dtype(np.int8)),
    "I16": (_dt.int16, np.dtype(np.int16)),
    "F16": (_dt.float16, np.dtype(np.float16)),
    "BF16": (_dt.bfloat16, np.dtype(np.int16)),
    "I32": (_dt.int32, np.dtype(np.int32)),
    "F32": (_dt.float32, np.dtype(np.float32)),
    "C64": (_dt.complex64, np.dtype(np.complex64)),
    "F64": (_dt.float64, np.dtype(np.float64)),
    "I64": (_dt.int64, np.dtype(np.int64)),
}
# Valid safetensors dtypes ember cannot hold (named in the error instead of "unknown dtype").
ST_UNSUPPORTED = {"U16": 2, "U32": 4, "U64": 8, "F8_E5M2": 1, "F8_E4M3": 1, "F8_E8M0": 1,
                  "F4": 1, "F6_E2M3": 1, "F6_E3M2": 1}

# The safetensors library orders tensor data by its Dtype enum, descending, then by name.
# Ranks are the enum's positions (BOOL < U8 < I8 < F8_* < I16 < U16 < F16 < BF16 < I32 < U32
# < F32 < C64 < F64 < I64 < U64): only the relative order of ember's dtypes matters.
ST_RANK = {"BOOL": 0, "U8": 1, "I8": 2, "I16": 5, "F16": 7, "BF16": 8, "I32": 9, "F32": 11,
           "C64": 12, "F64": 13, "I64": 14}

EMBER_TO_ST = {ember_dt.name: name for name, (ember_dt, _) in ST_DTYPES.items()}

# torch storage class name (as pickled: torch.FloatStorage, ...) -> safetensors dtype name.
TORCH_STORAGES = {
    "FloatStorage": "F32", "DoubleStorage": "F64", "HalfStorage": "F16", "BFloat16Storage": "BF16",
    "LongStorage": "I64", "IntStorage": "I32", "ShortStorage": "I16", "CharStorage": "I8",
    "ByteStorage": "U8", "BoolStorage": "BOOL", "ComplexFloatStorage": "C64", "UntypedStorage": "U8",
}
# torch storages and dtypes ember has no counterpart for (clear error instead of "unknown").
TORCH_UNSUPPORTED_STORAGES = {"ComplexDoubleStorage", "QInt8Storage", "QUInt8Storage", "QInt32Storage",
                              "QUInt4x2Storage", "QUInt2x4Storage", "UInt16Storage", "UInt32Storage",
                              "UInt64Storage", "Float8_e5m2Storage", "Float8_e4m3fnStorage"}
TORCH_DTYPES = {
    "float32": _dt.float32, "float": _dt.float32, "float64": _dt.float64, "double": _dt.float64,
    "float16": _dt.float16, "half": _dt.float16, "bfloat16": _dt.bfloat16, "int64": _dt.int64,
    "long": _dt.int64, "int32": _dt.int32, "int": _dt.int32, "int16": _dt.int16, "short": _dt.int16,
    "int8": _dt.int8, "uint8": _dt.uint8, "bool": _dt.bool, "complex64": _dt.complex64,
    "cfloat": _dt.complex64,
}

_LITTLE = sys.byteorder == "little"


def _to_bits(t):
    """A bfloat16 tensor's 16-bit patterns as an int16 tensor (same shape).

    Uses ``Tensor.view(dtype)`` (a bit reinterpretation); where the core lacks it, goes
    through float32 (bfloat16 -> float32 is exact) and keeps the high 16 bits.
    """
    try:
        return t.view(_dt.int16)
    except (TypeError, ValueError, AttributeError, RuntimeError):
        return _bits_via_float32(t)


def _bits_via_float32(t):
    """Fallback of _to_bits: bfloat16 -> float32 (exact), then the high halves of the words."""
    words = t.float().contiguous().numpy().view(np.uint32)
    return _C.from_numpy((words >> 16).astype(np.uint16).view(np.int16))


def _from_bits(bits):
    """An int16 tensor of bfloat16 bit patterns reinterpreted as bfloat16 (shares memory
    when ``Tensor.view(dtype)`` is available; otherwise an exact converted copy)."""
    try:
        return bits.view(_dt.bfloat16)
    except (TypeError, ValueError, AttributeError, RuntimeError):
        return _bf16_via_float32(bits)


def _bf16_via_float32(bits):
    """Fallback of _from_bits: widen the patterns to float32 words and convert (exact)."""
    words = bits.contiguous().numpy().view(np.uint16).astype(np.uint32) << 16
    return _C.from_numpy(words.view(np.float32))._to_dtype(_dt.bfloat16)


def tensor_bytes(t):
    """The tensor's elements, C-contiguous and little-endian, as a flat uint8 NumPy array
    (shares the tensor's memory when it is already contiguous)."""
    t = t.detach()
    if t.device.type != "cpu":
        t = t.cpu()
    t = t.contiguous()
    if t.dtype == _dt.bfloat16:
        t = _to_bits(t).contiguous()
    arr = t.numpy()
    if not _LITTLE and arr.dtype.itemsize > 1:  # pragma: no cover (big-endian hosts)
        arr = arr.byteswap()
    return arr.reshape(-1).view(np.uint8)


def tensor_from_buffer(buf, offset, st_dtype, shape, byteswap=False):
    """An ember tensor over ``buf[offset:offset + nbytes]`` (shared, no copy) with the given
    safetensors dtype and shape. Copies only when the bytes are misaligned for the element
    type or need swapping. The caller has checked that the range lies inside buf."""
    ember_dt, np_dt = ST_DTYPES[st_dtype]
    count = 1
    for s in shape:
        count *= s
    if count == 0:
        arr = np.empty(0, dtype=np_dt)
    else:
        arr = np.frombuffer(buf, dtype=np_dt, count=count, offset=offset)
        if byteswap != (not _LITTLE) and np_dt.itemsize > 1:
            arr = arr.byteswap()
        elif not arr.flags.aligned:
            arr = arr.copy()
    t = _C.from_numpy(arr.reshape(shape))
    return _from_bits(t) if ember_dt == _dt.bfloat16 else t


def is_tensor(obj):
    """True for ember tensors (parameters included)."""
    return isinstance(obj, Tensor)
