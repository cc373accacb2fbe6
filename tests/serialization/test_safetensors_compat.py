"""Compatibility with the safetensors format and library: byte identity and reading both ways."""
import io
import json
import os
import struct

import numpy as np
import pytest

import ember
from ember.serialization import load, load_metadata, save

DATA = os.path.join(os.path.dirname(__file__), "data")


def header_of(raw):
    n = struct.unpack("<Q", raw[:8])[0]
    return n, raw[8:8 + n]


def saved(obj, **kw):
    buf = io.BytesIO()
    save(obj, buf, **kw)
    return buf.getvalue()


def test_known_bytes_of_a_single_tensor():
    # the example of the safetensors specification's test-suite: "attn.0" F32 (1, 2, 3)
    raw = saved({"attn.0": ember.arange(6, dtype=ember.float32).reshape(1, 2, 3)})
    expected_header = b'{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}'
    assert raw[:8] == struct.pack("<Q", 64)
    assert raw[8:72] == expected_header
    assert raw[72:] == np.arange(6, dtype="<f4").tobytes()


def test_empty_dict_and_padding():
    assert saved({}) == b"\x08\x00\x00\x00\x00\x00\x00\x00{}      "
    raw = saved({}, metadata={"framework": "pt"})
    assert raw == struct.pack("<Q", 40) + b'{"__metadata__":{"framework":"pt"}}' + b" " * 5


def test_data_order_is_dtype_rank_descending_then_name():
    tensors = {"b": ember.ones(3, dtype=ember.int8), "a": ember.ones(2, dtype=ember.float64),
               "z": ember.ones(2), "c": ember.zeros(0, 3), "s": ember.tensor(1.5).half(),
               "bo": ember.tensor([True, False]), "i": ember.ones(1, dtype=ember.int64),
               "c64": ember.ones(1, dtype=ember.complex64), "bf": ember.ones(1, dtype=ember.bfloat16),
               "u": ember.ones(1, dtype=ember.uint8), "i16": ember.ones(1, dtype=ember.int16),
               "i32": ember.ones(1, dtype=ember.int32)}
    _, hdr = header_of(saved(tensors))
    order = list(json.loads(hdr))
    assert order == ["i", "a", "c64", "c", "z", "i32", "bf", "s", "i16", "b", "u", "bo"]


def test_header_escapes_like_serde_json():
    raw = saved({'we"ird\n\u00e9\U0001f600': ember.ones(1)},
                metadata={"k": "".join(map(chr, range(0x20))) + "\x7f\\\u2028"})
    _, hdr = header_of(raw)
    text = hdr.decode("utf-8").rstrip(" ")
    assert '"we\\"ird\\n\u00e9\U0001f600"' in text
    assert text.startswith('{"__metadata__":{"k":"\\u0000\\u0001')
    assert "\\b\\t\\n\\u000b\\f\\r" in text and "\x7f\\\\\u2028" in text


def test_library_file_loads_without_the_library():
    out = load(os.path.join(DATA, "library.safetensors"))
    assert list(out) == ["half", "ids", "mask", "weight"]
    assert out["weight"].tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]] and out["weight"].dtype == ember.float32
    assert out["ids"].tolist() == [3, 1, 2] and out["ids"].dtype == ember.int64
    assert out["mask"].tolist() == [True, False]
    assert out["half"].tolist() == [0.5, -1.0] and out["half"].dtype == ember.float16
    assert load_metadata(os.path.join(DATA, "library.safetensors")) == {"format": "np", "source": "safetensors"}


# ---- against the safetensors library (skipped without it) ----------------------------------

def _numpy_dict():
    return {
        "weight": np.arange(12, dtype=np.float32).reshape(3, 4) / 3,
        "bias": np.array([-1.5, 2.25], dtype=np.float64),
        "emb": np.arange(10, dtype=np.float16).reshape(5, 2),
        "ids": np.array([[1, -2], [3, 2 ** 40]], dtype=np.int64),
        "i32": np.array([7, -8, 9], dtype=np.int32),
        "i16": np.array([-300], dtype=np.int16),
        "i8": np.array([-5, 5], dtype=np.int8),
        "u8": np.array([0, 255], dtype=np.uint8),
        "mask": np.array([[True], [False]]),
        "z": np.array([1 + 2j, -3j], dtype=np.complex64),
        "scalar": np.array(4.5, dtype=np.float32),
        "empty": np.zeros((2, 0), dtype=np.float32),
        "a.b.c": np.ones(1, dtype=np.float32),
    }


@pytest.mark.parametrize("metadata", [None, {}, {"format": "pt"}])
def test_byte_identical_to_the_library(tmp_path, metadata):
    stn = pytest.importorskip("safetensors.numpy")
    arrays = _numpy_dict()
    stn.save_file(arrays, tmp_path / "lib.safetensors", metadata=metadata)
    save({k: ember.from_numpy(v) for k, v in arrays.items()}, tmp_path / "ember.safetensors", metadata=metadata)
    assert (tmp_path / "ember.safetensors").read_bytes() == (tmp_path / "lib.safetensors").read_bytes()


def test_bfloat16_byte_identical_to_the_library_core():
    st = pytest.importorskip("safetensors")
    bits = np.array([0x3F80, -16384, 0x7FC0, 1], dtype=np.int16)   # 1.0, -2.0, nan, tiny
    spec = st.TensorSpec(dtype="bfloat16", shape=(2, 2), data_ptr=bits.ctypes.data, data_len=bits.nbytes)
    lib = bytes(st.serialize({"h": spec, "f": st.TensorSpec(dtype="float32", shape=(1,),
                                                                 data_ptr=np.ones(1, np.float32).ctypes.data,
                                                                 data_len=4)}))
    mine = saved({"h": ember.from_numpy(bits.reshape(2, 2)).view(ember.bfloat16), "f": ember.ones(1)})
    assert mine == lib


def test_library_reads_ember_files(tmp_path):
    stn = pytest.importorskip("safetensors.numpy")
    from safetensors import safe_open
    arrays = _numpy_dict()
    p = tmp_path / "e.safetensors"
    save({k: ember.from_numpy(v) for k, v in arrays.items()}, p, metadata={"who": "ember"})
    back = stn.load_file(p)
    assert set(back) == set(arrays)
    for k, v in arrays.items():
        assert back[k].dtype == v.dtype and back[k].shape == v.shape
        np.testing.assert_array_equal(back[k], v)
    with safe_open(p, framework="np") as f:
        assert f.metadata() == {"who": "ember"}


def test_library_reads_nested_ember_files(tmp_path):
    stn = pytest.importorskip("safetensors.numpy")
    p = tmp_path / "n.safetensors"
    save({"state": {0: {"exp_avg": ember.arange(3, dtype=ember.float32)}}, "lr": 0.5}, p)
    back = stn.load_file(p)
    assert list(back) == ["state.0.exp_avg"]
    np.testing.assert_array_equal(back["state.0.exp_avg"], [0.0, 1.0, 2.0])


def test_ember_reads_library_files_with_and_without_mmap(tmp_path):
    stn = pytest.importorskip("safetensors.numpy")
    arrays = _numpy_dict()
    p = tmp_path / "lib.safetensors"
    stn.save_file(arrays, p, metadata={"format": "np"})
    for mm in (False, True):
        out = load(p, mmap=mm)
        assert list(out) == sorted(arrays)
        for k, v in arrays.items():
            np.testing.assert_array_equal(out[k].numpy(), v)
            assert tuple(out[k].shape) == v.shape
    assert load_metadata(p) == {"format": "np"}


def test_ember_reads_library_bytes():
    stn = pytest.importorskip("safetensors.numpy")
    raw = stn.save({"x": np.arange(4, dtype=np.int32)})
    assert load(io.BytesIO(raw))["x"].tolist() == [0, 1, 2, 3]
