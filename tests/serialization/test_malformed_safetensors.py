"""Malformed safetensors files: each raises a clear ValueError before allocating memory."""
import io
import json
import os
import struct

import pytest

import ember
from ember.serialization import _safetensors, load, load_metadata, save


def make(header, data=b"", n=None):
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    return io.BytesIO(struct.pack("<Q", len(raw) if n is None else n) + raw + data)


def f32(name="a", shape=(2,), offsets=(0, 8), dtype="F32"):
    return {name: {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}}


GOOD = (f32(), b"\x00" * 8)


def test_the_helper_makes_loadable_files():
    assert load(make(*GOOD))["a"].tolist() == [0.0, 0.0]


@pytest.mark.parametrize("raw, match", [
    (b"", "it has 0 bytes, fewer than the 8-byte header length"),
    (b"\x08\x00\x00", "it has 3 bytes"),
    (struct.pack("<Q", 1000) + b"{}", "header length 1000 is larger than the rest of the file"),
    (struct.pack("<Q", 2 ** 63) + b"{}      ", "header length 9223372036854775808 is larger"),
    (b"hello world, not a checkpoint", "larger than the rest of the file"),
])
def test_truncated_or_foreign_files(raw, match):
    with pytest.raises(ValueError, match=match):
        load(io.BytesIO(raw))


@pytest.mark.parametrize("header, match", [
    (b"\xff\xfe{}", "not UTF-8"),
    (b"{not json", "not valid JSON"),
    (b"[1, 2]", "must be a JSON object, got list"),
    (b'"text"', "must be a JSON object, got str"),
    (b"[" * 100000 + b"]" * 100000, "not valid JSON|must be a JSON object"),
], ids=["utf8", "json", "list", "str", "deep"])
def test_header_is_not_a_json_object(header, match):
    with pytest.raises(ValueError, match=match):
        load(make(header))


def test_header_larger_than_the_limit(monkeypatch):
    monkeypatch.setattr(_safetensors, "MAX_HEADER", 16)
    with pytest.raises(ValueError, match="exceeds the limit of 16 bytes"):
        load(make(*GOOD))


@pytest.mark.parametrize("header, data, match", [
    ({"__metadata__": ["x"]}, b"", "'__metadata__' must be an object of string values"),
    ({"__metadata__": {"k": 1}}, b"", "'__metadata__' must be an object of string values"),
    ({"a": [1, 2]}, b"", "tensor 'a': expected an object"),
    ({"a": {"dtype": "F32", "shape": [1]}}, b"", "tensor 'a': missing data_offsets"),
    (f32(dtype="F99"), b"\x00" * 8, "unknown dtype 'F99'"),
    (f32(dtype=3), b"\x00" * 8, "unknown dtype 3"),
    (f32(dtype="U16", shape=(4,)), b"\x00" * 8, "dtype U16, which ember does not support"),
    (f32(shape=(-2,)), b"\x00" * 8, "negative or huge size"),
    (f32(shape=(2 ** 70,)), b"\x00" * 8, "negative or huge size"),
    ({"a": {"dtype": "F32", "shape": "2", "data_offsets": [0, 8]}}, b"\x00" * 8, "shape must be a list"),
    ({"a": {"dtype": "F32", "shape": [True, 2], "data_offsets": [0, 8]}}, b"\x00" * 8, "shape must be a list"),
    ({"a": {"dtype": "F32", "shape": [2.0], "data_offsets": [0, 8]}}, b"\x00" * 8, "shape must be a list"),
    (f32(offsets=(0,)), b"\x00" * 8, r"data_offsets must be \[begin, end\]"),
    (f32(offsets=(0, "8")), b"\x00" * 8, r"data_offsets must be \[begin, end\]"),
    (f32(offsets=(8, 0)), b"\x00" * 8, "lie outside the data section"),
    (f32(offsets=(0, 1000)), b"\x00" * 8, "lie outside the data section of 8 bytes"),
    (f32(offsets=(-8, 0)), b"\x00" * 8, "lie outside"),
    (f32(shape=(3,)), b"\x00" * 8, r"shape \[3\] of F32 needs 12 bytes, data_offsets \[0, 8\] hold 8"),
    (f32(shape=(2 ** 31, 2 ** 31, 2 ** 31)), b"\x00" * 8, "needs more than 8 bytes"),
    ({**f32("a"), **f32("b", offsets=(4, 12))}, b"\x00" * 12, "tensor 'b'.*overlaps the previous tensor"),
    ({**f32("a"), **f32("b", offsets=(0, 8))}, b"\x00" * 8, "overlaps"),
    ({**f32("a"), **f32("b", offsets=(12, 20))}, b"\x00" * 20, "leaves a gap of 4 bytes"),
    (f32(), b"\x00" * 12, "the tensors cover 8 bytes but the data section holds 12"),
    (f32("a", shape=(0, 5), offsets=(0, 0)), b"\x00" * 4, "cover 0 bytes but the data section holds 4"),
])
def test_bad_entries(header, data, match):
    with pytest.raises(ValueError, match=match):
        load(make(header, data))


def test_truncated_data_section(tmp_path):
    buf = io.BytesIO()
    save({"w": ember.ones(16), "b": ember.zeros(3, dtype=ember.int64)}, buf)
    raw = buf.getvalue()
    for cut in (1, 7, 40):
        with pytest.raises(ValueError, match="lie outside the data section|truncated"):
            load(io.BytesIO(raw[:-cut]))
        p = tmp_path / f"cut{cut}.safetensors"
        p.write_bytes(raw[:-cut])
        with pytest.raises(ValueError, match="lie outside the data section|truncated"):
            load(p, mmap=True)
    with pytest.raises(ValueError, match="larger than the rest of the file"):
        load(io.BytesIO(raw[:20]))


def test_huge_claims_fail_fast_without_allocating():
    # claims 2**40 float64 elements backed by 8 bytes: refused from the header alone
    with pytest.raises(ValueError, match="needs more than 8 bytes"):
        load(make(f32(dtype="F64", shape=(2 ** 20, 2 ** 20), offsets=(0, 8)), b"\x00" * 8))
    with pytest.raises(ValueError, match="lie outside"):
        load(make(f32(dtype="F64", shape=(2 ** 37,), offsets=(0, 2 ** 40)), b"\x00" * 8))


STRUCT = "ember.structure"


def with_structure(text, tensors=("a",)):
    header = {"__metadata__": {STRUCT: text}}
    for i, name in enumerate(tensors):
        header.update(f32(name, offsets=(8 * i, 8 * i + 8)))
    return make(header, b"\x00" * (8 * len(tensors)))


def doc(root, version=1):
    return json.dumps({"version": version, "root": root})


@pytest.mark.parametrize("text, match", [
    ("{oops", "not valid JSON"),
    (json.dumps([1]), "expected an object with 'version' and 'root'"),
    (doc({"tensor": "a"}, version=2), "unsupported version: expected 1, got 2"),
    (doc({"tensor": "missing"}), "refers to tensor 'missing', which the file does not hold"),
    (doc({"tensor": 3}), "refers to tensor 3"),
    (doc({"list": []}), "unknown node kind 'list'"),
    (doc({"tensor": "a", "x": 1}), "expected a node"),
    (doc(1.5), "expected a node"),
    (doc({"float": 1.5}), "a float must be written as a string"),
    (doc({"float": "one"}), "not a float: 'one'"),
    (doc({"tuple": 3}), "a tuple must hold a list"),
    (doc({"dict": [[1]]}), r"a dict must hold a list of \[key, value\] pairs"),
    (doc({"dict": [[[1], 2]]}), "dict keys must be None, bool, int, float or str, got list"),
    (doc({"dict": [["x", {"tensor": "a"}]]}), "tensor 'b' of the file is not referenced"),
], ids=lambda x: x[:40] if isinstance(x, str) else None)
def test_bad_structure_metadata(text, match):
    tensors = ("a", "b") if "'b' of the file" in match else ("a",)
    with pytest.raises(ValueError, match=match):
        load(with_structure(text, tensors))


def test_deeply_nested_structure_is_refused_cleanly():
    for depth in (3000, 200000):
        text = '{"version":1,"root":' + "[" * depth + '{"tensor":"a"}' + "]" * depth + "}"
        with pytest.raises(ValueError, match="nested too deeply|not valid JSON"):
            load(with_structure(text))


def test_load_metadata_errors():
    with pytest.raises(ValueError, match="larger than the rest of the file"):
        load_metadata(io.BytesIO(b"\xff" * 16))
    buf = io.BytesIO()
    with open(os.path.join(os.path.dirname(__file__), "data", "torch_legacy.pt"), "rb") as f:
        buf.write(f.read())
    buf.seek(0)
    with pytest.raises(ValueError, match="PyTorch checkpoint, not safetensors"):
        load_metadata(buf)
