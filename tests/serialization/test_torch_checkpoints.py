"""PyTorch checkpoints loaded without torch: the fixtures of data/make_fixtures.py, hand-made
archives, malicious pickles (refused and never run) and malformed files."""
import collections
import io
import os
import pickle
import struct
import zipfile

import numpy as np
import pytest

import ember
from ember.serialization import UnsafePickleError, load

DATA = os.path.join(os.path.dirname(__file__), "data")
MARKER = "/tmp/ember_serialization_pwned_marker"   # the command in the malicious fixtures


def fixture(name):
    return os.path.join(DATA, name)


def values(t):
    return (t.float() if t.dtype == ember.bfloat16 else t).tolist()


@pytest.mark.parametrize("mmap", [False, True])
def test_zip_state_dict(mmap):
    sd = load(fixture("torch_zip_state_dict.pt"), mmap=mmap)
    assert type(sd) is collections.OrderedDict
    assert list(sd) == ["f32", "f32_t", "f32_slice", "f16", "bf16", "i64", "i32", "u8", "bool", "c64",
                        "scalar", "empty"]
    grid = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert sd["f32"].tolist() == grid.tolist() and sd["f32"].dtype == ember.float32
    assert sd["f32_t"].tolist() == grid.T.tolist() and sd["f32_t"].stride() == (1, 4)
    assert sd["f32_slice"].tolist() == [[5.0, 6.0], [9.0, 10.0]]
    assert sd["f32_slice"].storage_offset() == 5 and sd["f32_slice"].stride() == (4, 1)
    assert sd["f16"].tolist() == [[0.0, 0.5, 1.0], [1.5, 2.0, 2.5]] and sd["f16"].dtype == ember.float16
    assert values(sd["bf16"]) == [-1.0, -0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75]
    assert sd["bf16"].dtype == ember.bfloat16
    assert sd["i64"].tolist() == [0, 10 ** 12, 2 * 10 ** 12, 3 * 10 ** 12, 4 * 10 ** 12]
    assert sd["i32"].tolist() == [0, -1, -2] and sd["i32"].dtype == ember.int32
    assert sd["u8"].tolist() == [250, 251, 252, 253, 254, 255] and sd["u8"].dtype == ember.uint8
    assert sd["bool"].tolist() == [True, False, True]
    assert sd["c64"].tolist() == [1 + 2j, -3.5j] and sd["c64"].dtype == ember.complex64
    assert sd["scalar"].item() == 7.25 and sd["scalar"].ndim == 0 and sd["scalar"].dtype == ember.float64
    assert tuple(sd["empty"].shape) == (0, 3)


@pytest.mark.parametrize("mmap", [False, True])
def test_zip_views_share_their_storage(mmap):
    sd = load(fixture("torch_zip_state_dict.pt"), mmap=mmap)
    f32, t, sl = sd["f32"], sd["f32_t"], sd["f32_slice"]
    assert t.data_ptr() == f32.data_ptr() and sl.data_ptr() == f32.data_ptr() + 5 * 4
    f32[1, 1] = -1.0
    assert t[1, 1].item() == -1.0 and sl[0, 0].item() == -1.0


def test_zip_mmap_leaves_the_file_alone(tmp_path):
    p = tmp_path / "ck.pt"
    p.write_bytes(open(fixture("torch_zip_state_dict.pt"), "rb").read())
    sd = load(p, mmap=True)
    sd["f32"].fill_(3.0)
    assert load(p)["f32"][0, 1].item() == 1.0


def test_zip_optimizer_state_and_extras():
    ck = load(fixture("torch_zip_optimizer.pt"))
    st = ck["state"]
    assert list(st) == [0, 1]
    assert st[0]["step"].item() == 3.0 and st[0]["step"].ndim == 0
    assert st[0]["exp_avg"].tolist() == [0.0, 0.5, 1.0, 1.5]
    assert st[0]["exp_avg_sq"].tolist() == [[0.0, 1.0], [4.0, 9.0]]
    assert st[1]["exp_avg"].tolist() == [-1.0, -1.0, -1.0] and st[1]["exp_avg_sq"].tolist() == [1.0, 1.0, 1.0]
    assert ck["param_groups"] == [{"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-08, "weight_decay": 0,
                                   "amsgrad": False, "foreach": None, "params": [0, 1], "name": "adam",
                                   "max": float("inf")}]
    assert ck["param"].tolist() == [1.5, -2.0] and ck["param"].requires_grad
    ex = ck["extras"]
    assert ex["dtype"] == ember.bfloat16 and ex["device"] == ember.device("cpu")
    assert ex["size"] == (2, 3) and ex["bytes"] == b"\x00\xffab" and ex["set"] == {1, 2, 3}
    assert ex["complex"] == 1 + 2j


def test_legacy_format():
    ck = load(fixture("torch_legacy.pt"))
    assert ck["a"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert ck["b"].tolist() == [[2.0, 3.0], [4.0, 5.0]] and ck["b"].storage_offset() == 2
    assert values(ck["h"]) == [-1.0, 0.0, 1.0] and ck["h"].dtype == ember.bfloat16
    assert ck["n"].tolist() == [10, 20] and ck["n"].dtype == ember.int64
    assert ck["meta"] == {"epoch": 4, "tag": "legacy"}
    ck["a"][3] = 30.0
    assert ck["b"][0, 1].item() == 30.0   # the view still shares the storage
    with open(fixture("torch_legacy.pt"), "rb") as f:
        assert load(io.BytesIO(f.read()))["n"].tolist() == [10, 20]
    with pytest.raises(ValueError, match="legacy torch.save files cannot be mapped"):
        load(fixture("torch_legacy.pt"), mmap=True)


def test_detection_ignores_the_extension(tmp_path):
    p = tmp_path / "weights.safetensors"
    p.write_bytes(open(fixture("torch_zip_optimizer.pt"), "rb").read())
    assert load(p)["state"][0]["exp_avg"].tolist() == [0.0, 0.5, 1.0, 1.5]


# ---- malicious files: refused, and the command never runs -------------------------------------

@pytest.mark.parametrize("name, glob", [
    ("malicious_system.pkl", "posix.system"),
    ("malicious_eval.pkl", "builtins.eval"),
    ("malicious_zip.pt", "posix.system"),
    ("malicious_legacy.pt", "posix.system"),
    ("malicious_fake_archive.pt", "posix.system"),
])
@pytest.mark.parametrize("weights_only", [True, False])
def test_malicious_pickles_are_refused_and_not_run(name, glob, weights_only):
    if os.path.exists(MARKER):
        os.remove(MARKER)
    with pytest.raises(UnsafePickleError, match=rf"\[load\] refusing to unpickle global '{glob}'"):
        load(fixture(name), weights_only=weights_only)
    assert not os.path.exists(MARKER)


def test_refusal_is_a_value_error_and_an_unpickling_error():
    with pytest.raises(ValueError):
        load(fixture("malicious_system.pkl"))
    with pytest.raises(pickle.UnpicklingError):
        load(fixture("malicious_system.pkl"))


@pytest.mark.parametrize("mod, name", [("subprocess", "Popen"), ("builtins", "exec"), ("builtins", "getattr"),
                                       ("os", "system"), ("torch", "load"), ("torch.nn.modules.linear", "Linear"),
                                       ("numpy.core.multiarray", "_reconstruct"), ("collections", "deque"),
                                       ("torch._utils", "_rebuild_device_tensor_from_numpy")])
def test_other_globals_are_refused(mod, name):
    raw = b"\x80\x02c" + f"{mod}\n{name}\n".encode() + b")R."
    with pytest.raises(UnsafePickleError, match=f"'{mod}.{name}'"):
        load(io.BytesIO(raw))


def test_plain_pickle_without_magic_is_not_a_checkpoint():
    with pytest.raises(ValueError, match="not a PyTorch checkpoint"):
        load(io.BytesIO(pickle.dumps({"a": [1, 2]}, protocol=2)))


def test_build_is_refused_except_on_ordered_dicts():
    # BUILD could re-initialise a shared object (ember.float32 has a pybind __setstate__)
    with pytest.raises(ValueError, match="BUILD on dtype is not allowed"):
        load(io.BytesIO(b"\x80\x02ctorch\nfloat32\nK\x03b."))
    assert ember.zeros(1, dtype=ember.float32).dtype == ember.float32 and ember.float32.name == "float32"
    with pytest.raises(ValueError, match="BUILD on set"):
        load(io.BytesIO(b"\x80\x02c__builtin__\nset\n)R}b."))
    assert load(fixture("torch_zip_state_dict.pt"))._metadata == {"": {"version": 1}}


def test_stand_ins_cannot_be_modified_by_build():
    # BUILD with a (None, slotstate) tuple would setattr on the allow-listed object
    raw = b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\nN}X\x04\x00\x00\x00nameX\x01\x00\x00\x00xs\x86b."
    with pytest.raises(ValueError, match="BUILD"):
        load(io.BytesIO(raw))


# ---- hand-made archives ------------------------------------------------------------------------

def _s(x):
    b = x.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def _i(n):
    return b"J" + struct.pack("<i", n)


def _tup(*parts):
    return b"(" + b"".join(parts) + b"t"


def _g(mod, name):
    return b"c" + f"{mod}\n{name}\n".encode()


def _tensor(key, numel, offset, size, stride, storage="FloatStorage", location="cpu"):
    pid = _tup(_s("storage"), _g("torch", storage), _s(key), _s(location), _i(numel)) + b"Q"
    args = _tup(pid, _i(offset), _tup(*map(_i, size)), _tup(*map(_i, stride)), b"\x89",
                _g("collections", "OrderedDict") + b")R")
    return _g("torch._utils", "_rebuild_tensor_v2") + args + b"R"


def _dict(**items):
    return b"}(" + b"".join(_s(k) + v for k, v in items.items()) + b"u"


def archive(pkl_body, records, compress=zipfile.ZIP_STORED, byteorder=b"little"):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("ck/data.pkl", b"\x80\x02" + pkl_body + b".", compress_type=compress)
        if byteorder is not None:
            z.writestr("ck/byteorder", byteorder)
        for key, data in records.items():
            z.writestr(f"ck/data/{key}", data, compress_type=compress)
    buf.seek(0)
    return buf


F6 = np.arange(6, dtype="<f4").tobytes()


def test_hand_made_archive_with_shared_storage():
    body = _dict(a=_tensor("0", 6, 0, (2, 3), (3, 1)), b=_tensor("0", 6, 1, (2, 2), (1, 3)))
    out = load(archive(body, {"0": F6}))
    assert out["a"].tolist() == [[0, 1, 2], [3, 4, 5]] and out["b"].tolist() == [[1, 4], [2, 5]]
    assert out["b"].data_ptr() == out["a"].data_ptr() + 4


def test_archive_without_byteorder_record_is_little_endian():
    out = load(archive(_dict(a=_tensor("0", 6, 0, (3,), (2,))), {"0": F6}, byteorder=None))
    assert out["a"].tolist() == [0, 2, 4]


def test_zip_mmap_storages_lie_at_their_record_offsets():
    path = fixture("torch_zip_state_dict.pt")
    sd = load(path, mmap=True)
    with open(path, "rb") as f:
        raw = f.read()
    with zipfile.ZipFile(path) as z:
        info = {i.filename.rsplit("/", 1)[-1]: i for i in z.infolist() if "/data/" in i.filename}

    def record_start(i):
        name_len, extra_len = struct.unpack("<HH", raw[i.header_offset + 26:i.header_offset + 30])
        return i.header_offset + 30 + name_len + extra_len
    # every record of this fixture is 64-byte aligned in the file, as torch writes it
    starts = {k: record_start(i) for k, i in info.items()}
    assert all(v % 64 == 0 for v in starts.values())
    f16_key = next(k for k, i in info.items() if i.file_size == 12)    # the 6 float16 values
    f32_key = next(k for k, i in info.items() if i.file_size == 48)    # the 12 float32 values
    assert sd["f16"].data_ptr() - sd["f32"].data_ptr() == starts[f16_key] - starts[f32_key]


def test_big_endian_archive():
    body = _dict(a=_tensor("0", 6, 0, (6,), (1,)))
    out = load(archive(body, {"0": np.arange(6, dtype=">f4").tobytes()}, byteorder=b"big"))
    assert out["a"].tolist() == [0, 1, 2, 3, 4, 5]


@pytest.mark.parametrize("body, records, match", [
    (_dict(a=_tensor("0", 6, 4, (2, 2), (2, 1))), {"0": F6}, "reaches element 7"),
    (_dict(a=_tensor("0", 7, 0, (6,), (1,))), {"0": F6}, "should hold 7 x 4 bytes"),
    (_dict(a=_tensor("1", 6, 0, (6,), (1,))), {"0": F6}, "no record 'ck/data/1'"),
    (_dict(a=_tensor("0", 6, 0, (6,), (1,)), b=_tensor("0", 6, 0, (6,), (1,), storage="IntStorage")),
     {"0": F6}, "two different dtypes"),
    (_dict(a=_tensor("0", 6, 0, (6,), (1,), storage="ComplexDoubleStorage")), {"0": F6},
     "ComplexDoubleStorage, which ember does not support"),
    (_dict(a=_tup(_s("storage"), _s("0")) + b"Q"), {"0": F6}, "unexpected persistent id"),
    (_dict(a=_g("torch._utils", "_rebuild_tensor_v2") + _tup(_i(1), _i(0), _tup(), _tup(), b"\x89", b"N")
           + b"R"), {}, "rebuilt from a storage"),
    (_dict(a=_tensor("0", 6, 0, (2, 3), (3,))), {"0": F6}, "different lengths"),
    (b"X\x05\x00\x00\x00ab", {}, "malformed PyTorch checkpoint"),
    (_g("torch", "FloatStorage") + b")R", {}, "not callable"),
])
def test_malformed_archives(body, records, match):
    with pytest.raises(ValueError, match=match):
        load(archive(body, records))


def test_archive_location_and_map_location():
    body = _dict(a=_tensor("0", 6, 0, (6,), (1,), location="cuda:0"))
    if ember.cuda.is_available():  # saved on a GPU, loaded on a GPU: as torch.load
        assert load(archive(body, {"0": F6}))["a"].is_cuda
    else:
        with pytest.raises(RuntimeError, match=r"saved on 'cuda:0'.*no CUDA device.*map_location='cpu'"):
            load(archive(body, {"0": F6}))
    for ml in ("cpu", {"cuda:0": "cpu"}, ember.device("cpu")):
        assert load(archive(body, {"0": F6}), map_location=ml)["a"].tolist() == [0, 1, 2, 3, 4, 5]
    seen = []
    load(archive(body, {"0": F6}), map_location=lambda s, loc: seen.append((loc, s.numel())) or s)
    assert seen == [("cuda:0", 6)]


def test_compressed_records_are_refused():
    body = _dict(a=_tensor("0", 6, 0, (6,), (1,)))
    with pytest.raises(ValueError, match="compressed or encrypted"):
        load(archive(body, {"0": F6}, compress=zipfile.ZIP_DEFLATED))


def test_archives_that_are_not_checkpoints():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "hello")
    buf.seek(0)
    with pytest.raises(ValueError, match="expected one '<archive>/data.pkl'"):
        load(buf)
    raw = open(fixture("torch_zip_state_dict.pt"), "rb").read()
    with pytest.raises(ValueError, match="not a readable zip archive"):
        load(io.BytesIO(raw[: len(raw) // 2]))


def test_truncated_legacy_file():
    raw = open(fixture("torch_legacy.pt"), "rb").read()
    for cut in (len(raw) - 3, len(raw) - 40, 60):
        with pytest.raises(ValueError, match=r"\[load\]"):
            load(io.BytesIO(raw[:cut]))


def test_legacy_storage_claims_are_checked_before_allocating():
    # a legacy header followed by a tensor whose storage claims 2**40 floats
    head = b"".join(pickle.dumps(x, protocol=2) for x in
                    (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True}))
    pid = _tup(_s("storage"), _g("torch", "FloatStorage"), _s("k"), _s("cpu"),
               b"\x8a\x06" + (2 ** 40).to_bytes(6, "little"), b"N") + b"Q"
    body = _g("torch._utils", "_rebuild_tensor_v2") + _tup(pid, _i(0), _tup(_i(1)), _tup(_i(1)), b"\x89",
                                                           _g("collections", "OrderedDict") + b")R") + b"R"
    with pytest.raises(ValueError, match="more than the file holds"):
        load(io.BytesIO(head + b"\x80\x02" + body + b"."))
