"""save -> load round trips: dtypes, shapes, views, nested containers, file kinds, mmap, map_location."""
import collections
import io
import json
import math
import struct

import numpy as np
import pytest

import ember
from ember.serialization import load, load_metadata, save

ALL_DTYPES = [ember.bool, ember.uint8, ember.int8, ember.int16, ember.int32, ember.int64, ember.float16,
              ember.bfloat16, ember.float32, ember.float64, ember.complex64]


def roundtrip(obj, **kw):
    buf = io.BytesIO()
    save(obj, buf, **kw)
    buf.seek(0)
    return load(buf)


def values(t):
    """Exact values of a tensor as a NumPy array (bfloat16 widened exactly to float32)."""
    return (t.float() if t.dtype == ember.bfloat16 else t).numpy()


def sample(dtype, shape):
    n = int(np.prod(shape))
    base = np.arange(n).reshape(shape) - n // 3

    def arr(a, dt):
        return ember.from_numpy(np.asarray(a, dtype=dt))
    if dtype == ember.bool:
        return arr(base % 3 == 0, np.bool_)
    if dtype == ember.uint8:
        return arr(base * 37 % 256, np.uint8)
    if dtype == ember.complex64:
        return arr(base * 0.5 - 1j * base, np.complex64)
    if dtype in (ember.float16, ember.bfloat16, ember.float32, ember.float64):
        return arr(base * 0.25, np.float32).to(dtype)
    return arr(base * 3, np.int64).to(dtype)


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("shape", [(), (0,), (3, 0, 2), (5,), (2, 3, 4)])
def test_every_dtype_and_shape(dtype, shape):
    t = sample(dtype, shape)
    out = roundtrip({"t": t})["t"]
    assert out.dtype == dtype and tuple(out.shape) == shape
    np.testing.assert_array_equal(values(out), values(t))


def test_extreme_values_are_bit_exact():
    f32 = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, 3.4028235e38], np.float32)
    i64 = np.array([-2 ** 63, 2 ** 63 - 1, 0], np.int64)
    bf = ember.from_numpy(np.array([0, -32768, 0x7F80, 0x7FC1, 1, 0x3F80], np.int16)).view(ember.bfloat16)
    out = roundtrip({"f": ember.from_numpy(f32), "i": ember.from_numpy(i64), "bf": bf})
    assert out["f"].numpy().tobytes() == f32.tobytes()
    np.testing.assert_array_equal(out["i"].numpy(), i64)
    np.testing.assert_array_equal(out["bf"].view(ember.int16).numpy(), [0, -32768, 0x7F80, 0x7FC1, 1, 0x3F80])


def test_non_contiguous_tensors_are_saved_by_value():
    x = ember.arange(24, dtype=ember.float32).reshape(2, 3, 4)
    views = {"t": x.transpose(0, 2), "slice": x[:, 1:, ::2], "expand": ember.tensor([1.0, 2.0]).expand(3, 2),
             "bf_t": x.to(ember.bfloat16).permute(2, 0, 1)}
    out = roundtrip(views)
    for k, v in views.items():
        assert tuple(out[k].shape) == tuple(v.shape)
        assert out[k].is_contiguous()
        np.testing.assert_array_equal(values(out[k]), values(v))


def test_views_of_one_tensor_come_back_separate():
    x = ember.arange(6, dtype=ember.float32)
    out = roundtrip({"a": x, "b": x[2:]})
    out["a"][3] = 100.0
    assert out["b"].tolist() == [2.0, 3.0, 4.0, 5.0]   # each tensor has its own bytes


def test_requires_grad_tensors_save_their_values():
    w = ember.tensor([1.0, -2.0]).requires_grad_()
    out = roundtrip({"w": w * 3})
    assert out["w"].tolist() == [3.0, -6.0] and not out["w"].requires_grad


def test_optimizer_like_state_round_trips_exactly():
    state = {
        "state": {0: {"step": ember.tensor(3.0), "exp_avg": ember.arange(4, dtype=ember.float32)},
                  1: {"step": ember.tensor(3.0), "momentum_buffer": None}},
        "param_groups": [{"lr": 0.1, "params": [0, 1], "betas": (0.9, 0.999), "eps": 1e-8,
                          "weight_decay": 0, "nesterov": False, "maximize": True, "foreach": None,
                          "name": "adam", "big": 2 ** 80, "neg_zero": -0.0,
                          "inf": float("inf"), "-inf": float("-inf"), "nan": float("nan")}],
    }
    out = roundtrip(state)
    g = out["param_groups"][0]
    assert set(out["state"]) == {0, 1} and all(type(k) is int for k in out["state"])
    assert out["state"][0]["exp_avg"].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert out["state"][0]["step"].item() == 3.0 and out["state"][0]["step"].ndim == 0
    assert out["state"][1]["momentum_buffer"] is None
    assert g["betas"] == (0.9, 0.999) and type(g["betas"]) is tuple
    assert g["params"] == [0, 1] and type(g["params"]) is list
    assert g["lr"] == 0.1 and g["eps"] == 1e-8 and g["big"] == 2 ** 80
    assert g["weight_decay"] == 0 and type(g["weight_decay"]) is int
    assert g["nesterov"] is False and g["maximize"] is True and g["foreach"] is None and g["name"] == "adam"
    assert math.copysign(1.0, g["neg_zero"]) == -1.0
    assert g["inf"] == math.inf and g["-inf"] == -math.inf and math.isnan(g["nan"])
    assert list(g) == list(state["param_groups"][0])  # key order kept


def test_lr_scheduler_like_state():
    sched = {"base_lrs": [0.1, 0.01], "last_epoch": 7, "_step_count": 8, "verbose": False,
             "_last_lr": [0.05, 0.005], "gamma": 0.5, "milestones": {30: 1, 80: 1}, "lr_lambdas": [None]}
    assert roundtrip(sched) == sched


def test_ordered_dict_state_dict_keeps_type_and_order():
    sd = collections.OrderedDict([("z.weight", ember.ones(2, 2)), ("a.bias", ember.zeros(2)),
                                  ("m.weight", ember.ones(1, dtype=ember.float16))])
    out = roundtrip(sd)
    assert type(out) is collections.OrderedDict
    assert list(out) == ["z.weight", "a.bias", "m.weight"]
    assert out["z.weight"].tolist() == [[1.0, 1.0], [1.0, 1.0]] and out["m.weight"].dtype == ember.float16


def test_mixed_keys_and_nesting():
    obj = [{None: 1, True: "t", 2: (3, [4.5]), 1.5: "float key", "s": ember.tensor([7])}, (), [], {}]
    out = roundtrip(obj)
    assert out[1:] == [(), [], {}]
    d = out[0]
    assert list(d) == [None, True, 2, 1.5, "s"]
    assert d[None] == 1 and d[True] == "t" and d[2] == (3, [4.5]) and d[1.5] == "float key"
    assert d["s"].tolist() == [7]


def test_single_tensor_and_plain_values():
    assert roundtrip(ember.tensor([1, 2, 3])).tolist() == [1, 2, 3]
    assert roundtrip(5) == 5 and roundtrip(None) is None and roundtrip("x") == "x"


def test_same_tensor_object_twice_comes_back_as_one_object():
    t = ember.ones(3)
    out = roundtrip({"a": [t], "b": {"c": t}})
    assert out["a"][0] is out["b"]["c"]


def test_flat_names_follow_the_paths_and_never_collide():
    t1, t2, t3 = ember.ones(1), ember.zeros(1), ember.full((1,), 2.0)
    buf = io.BytesIO()
    save({"a.b": t1, "a": {"b": t2}, "state": {0: {"exp_avg": t3}}}, buf)
    buf.seek(0)
    n = struct.unpack("<Q", buf.read(8))[0]
    names = set(json.loads(buf.read(n))) - {"__metadata__"}
    assert names == {"a.b", "a.b#1", "state.0.exp_avg"}
    buf.seek(0)
    out = load(buf)
    assert out["a.b"].item() == 1.0 and out["a"]["b"].item() == 0.0 and out["state"][0]["exp_avg"].item() == 2.0


class _Thing:
    pass


@pytest.mark.parametrize("obj, where, what", [
    ({"state": {0: {"momentum": _Thing()}}}, "obj['state'][0]['momentum']", "_Thing"),
    ([1, 2, {"x": object()}], "obj[2]['x']", "builtins.object"),
    ({"f": len}, "obj['f']", "builtin_function_or_method"),
    ({"s": {1, 2}}, "obj['s']", "set"),
    ({"b": b"bytes"}, "obj['b']", "bytes"),
    ({"dt": ember.float32}, "obj['dt']", "dtype"),
    (np.zeros(2), "obj:", "ndarray"),
])
def test_unsupported_values_name_their_path(obj, where, what):
    with pytest.raises(TypeError, match=r"\[save\]") as e:
        roundtrip(obj)
    assert where.rstrip(":") in str(e.value) and what in str(e.value)


def test_unsupported_keys_and_named_tuples_and_cycles():
    with pytest.raises(TypeError, match=r"dict key of type tuple in obj\['a'\]"):
        roundtrip({"a": {(1, 2): 3}})
    Point = collections.namedtuple("Point", "x y")
    with pytest.raises(TypeError, match="named tuples"):
        roundtrip({"p": Point(1, 2)})
    cyc = {"a": []}
    cyc["a"].append(cyc)
    with pytest.raises(ValueError, match="contains itself"):
        roundtrip(cyc)


def test_nothing_is_written_when_the_object_is_refused(tmp_path):
    p = tmp_path / "ck.safetensors"
    with pytest.raises(TypeError):
        save({"w": ember.ones(1), "bad": _Thing()}, p)
    assert not p.exists()


def test_paths_pathlike_and_file_objects(tmp_path):
    obj = {"w": ember.arange(4, dtype=ember.int32), "cfg": {"depth": 3}}
    save(obj, str(tmp_path / "a.st"))
    save(obj, tmp_path / "b.st")
    with open(tmp_path / "c.st", "wb") as f:
        f.write(b"")
        save(obj, f)
    for name in ("a.st", "b.st", "c.st"):
        out = load(tmp_path / name)
        assert out["w"].tolist() == [0, 1, 2, 3] and out["cfg"] == {"depth": 3}
    assert (tmp_path / "a.st").read_bytes() == (tmp_path / "c.st").read_bytes()
    with open(tmp_path / "a.st", "rb") as f:
        assert load(f)["cfg"] == {"depth": 3}
    with pytest.raises(TypeError, match=r"\[load\] f must be a path or a binary file object"):
        load(12)
    with pytest.raises(TypeError, match=r"\[save\] f must be a path or a binary file object"):
        save(obj, io.StringIO())


def test_two_checkpoints_in_one_stream():
    buf = io.BytesIO()
    save({"a": ember.ones(1)}, buf)
    save({"b": ember.zeros(2)}, buf)
    buf.seek(0)
    # load reads from the current position; the first file's data section ends where the
    # second starts, so the first load sees trailing bytes and refuses them
    with pytest.raises(ValueError, match="data section"):
        load(buf)


def test_file_object_starting_mid_stream():
    buf = io.BytesIO(b"junk!")
    buf.seek(5)
    save({"a": ember.tensor([1.5])}, buf)
    buf.seek(5)
    assert load(buf)["a"].tolist() == [1.5]


def test_user_metadata():
    buf = io.BytesIO()
    save({"w": ember.ones(1)}, buf, metadata={"format": "pt", "note": "é\n"})
    buf.seek(0)
    assert load_metadata(buf) == {"format": "pt", "note": "é\n"}
    buf = io.BytesIO()
    save({"w": [ember.ones(1)]}, buf, metadata={"format": "pt"})
    buf.seek(0)
    md = load_metadata(buf)
    assert md["format"] == "pt" and json.loads(md["ember.structure"])["version"] == 1
    with pytest.raises(ValueError, match="reserved"):
        save({}, io.BytesIO(), metadata={"ember.structure": "x"})
    with pytest.raises(TypeError, match="metadata must be a dict of str -> str"):
        save({}, io.BytesIO(), metadata={"n": 1})
    with pytest.raises(ValueError, match="'__metadata__'"):
        save({"__metadata__": ember.ones(1)}, io.BytesIO())


def test_mmap_shares_the_mapping(tmp_path):
    p = tmp_path / "m.safetensors"
    x = ember.arange(1024, dtype=ember.float32)
    save({"x": x, "y": ember.ones(2, 2, dtype=ember.bfloat16)}, p)
    original = p.read_bytes()
    a = load(p, mmap=True)
    b = load(p, mmap=True)
    assert a["x"].tolist() == x.tolist() and a["y"].float().tolist() == [[1.0, 1.0], [1.0, 1.0]]
    # tensors share one mapping: their data lie at the file's offsets from one base address
    n = struct.unpack("<Q", original[:8])[0]
    hdr = json.loads(original[8:8 + n])
    base_a = a["x"].data_ptr() - (8 + n + hdr["x"]["data_offsets"][0])
    assert a["y"].data_ptr() - base_a == 8 + n + hdr["y"]["data_offsets"][0]
    # copy-on-write: a write is private to the writer and never reaches the file
    a["x"][0] = -5.0
    assert a["x"][0].item() == -5.0 and b["x"][0].item() == 0.0
    del a, b
    assert p.read_bytes() == original


def test_mmap_needs_a_real_file(tmp_path):
    buf = io.BytesIO()
    save({"a": ember.ones(1)}, buf)
    buf.seek(0)
    with pytest.raises(ValueError, match="mmap=True needs a path"):
        load(buf, mmap=True)
    p = tmp_path / "f.st"
    p.write_bytes(buf.getvalue())
    with open(p, "rb") as f:
        assert load(f, mmap=True)["a"].tolist() == [1.0]


def test_map_location_variants():
    buf = io.BytesIO()
    save({"a": ember.tensor([1.0, 2.0])}, buf)
    for ml in (None, "cpu", ember.device("cpu"), {"cuda:0": "cpu"}, lambda storage, loc: storage,
               lambda storage, loc: None):
        buf.seek(0)
        assert load(buf, map_location=ml)["a"].tolist() == [1.0, 2.0]
    buf.seek(0)
    seen = []
    assert load(buf, map_location=lambda s, loc: seen.append(loc) or s * 2)["a"].tolist() == [2.0, 4.0]
    assert seen == ["cpu"]
    for ml in ("cuda", "cuda:1", {"cpu": "cuda:0"}):
        buf.seek(0)
        if ember.cuda.device_count() > (1 if ml == "cuda:1" else 0):
            assert load(buf, map_location=ml)["a"].is_cuda  # a GPU is there: as torch.load
            continue
        with pytest.raises(RuntimeError, match=r"\[load\] cannot load to .*map_location='cpu'"):
            load(buf, map_location=ml)
    buf.seek(0)
    with pytest.raises(TypeError, match="map_location"):
        load(buf, map_location=3)
    buf.seek(0)
    with pytest.raises(TypeError, match="map_location callable"):
        load(buf, map_location=lambda s, loc: "cpu")


def test_weights_only_is_accepted_and_changes_nothing():
    buf = io.BytesIO()
    save({"a": ember.ones(1)}, buf)
    buf.seek(0)
    assert load(buf, weights_only=False)["a"].tolist() == [1.0]
    with pytest.raises(TypeError, match="bools"):
        load(buf, weights_only="yes")


def test_flat_dict_loads_sorted_by_name():
    out = roundtrip({"b": ember.ones(1, dtype=ember.int8), "a": ember.ones(1), "c": ember.ones(1)})
    assert list(out) == ["a", "b", "c"] and type(out) is dict


def test_bfloat16_fallback_helpers_match_the_bit_view():
    from ember.serialization import _dtypes
    bits = ember.from_numpy(np.array([0, -32768, 0x3F80, -16384, 0x7F80, 0x0001], np.int16))
    bf = bits.view(ember.bfloat16)
    assert _dtypes._bits_via_float32(bf).tolist() == bits.tolist()
    assert _dtypes._bf16_via_float32(bits).view(ember.int16).tolist() == bits.tolist()
    assert _dtypes._to_bits(bf).tolist() == bits.tolist()
    assert _dtypes._from_bits(bits).float().tolist() == [0.0, -0.0, 1.0, -2.0, math.inf, bf[5].float().item()]
