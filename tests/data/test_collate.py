"""default_collate / default_convert / collate: values, dtypes, nesting, errors."""
import collections

import numpy as np
import pytest

import ember
from ember.data import collate, default_collate, default_convert
from ember.data.collate import default_collate_fn_map

Point = collections.namedtuple("Point", ["x", "y"])


def test_tensors_are_stacked():
    out = default_collate([ember.tensor([1.0, 2.0]), ember.tensor([3.0, 4.0]), ember.tensor([5.0, 6.0])])
    assert out.shape == (3, 2) and out.dtype == ember.float32
    np.testing.assert_array_equal(out.numpy(), [[1, 2], [3, 4], [5, 6]])
    scalars = default_collate([ember.tensor(1), ember.tensor(2)])
    assert scalars.shape == (2,) and scalars.tolist() == [1, 2]


def test_numbers_and_strings():
    f = default_collate([1.5, 2.0])
    assert f.dtype == ember.float64 and f.tolist() == [1.5, 2.0]
    i = default_collate([1, 2, 3])
    assert i.dtype == ember.int64 and i.tolist() == [1, 2, 3]
    b = default_collate([True, False])
    assert b.dtype == ember.bool and b.tolist() == [True, False]
    assert default_collate(["a", "b"]) == ["a", "b"]
    assert default_collate([b"x", b"y"]) == [b"x", b"y"]


def test_numpy_arrays_and_scalars():
    a = default_collate([np.arange(3, dtype=np.int32), np.arange(3, 6, dtype=np.int32)])
    assert a.dtype == ember.int32 and a.shape == (2, 3)
    np.testing.assert_array_equal(a.numpy(), [[0, 1, 2], [3, 4, 5]])
    s = default_collate([np.float32(1.5), np.float32(2.5)])
    assert s.dtype == ember.float32 and s.tolist() == [1.5, 2.5]
    d = default_collate([np.float64(1.0), np.float64(3.0)])
    assert d.dtype == ember.float64
    with pytest.raises(TypeError, match="found <U1"):
        default_collate([np.array(["a"]), np.array(["b"])])


def test_nested_structures():
    batch = [
        {"img": ember.full((2, 2), float(i)), "meta": {"id": i, "name": f"n{i}"}, "pair": (i, float(i) / 2),
         "pt": Point(ember.tensor([i]), i * 10)}
        for i in range(3)
    ]
    out = default_collate(batch)
    assert set(out) == {"img", "meta", "pair", "pt"}
    assert out["img"].shape == (3, 2, 2)
    np.testing.assert_array_equal(out["img"].numpy()[:, 0, 0], [0, 1, 2])
    assert out["meta"]["id"].tolist() == [0, 1, 2] and out["meta"]["name"] == ["n0", "n1", "n2"]
    # tuples come back as lists (PyTorch's rule); the float part is float64
    assert isinstance(out["pair"], list)
    assert out["pair"][0].tolist() == [0, 1, 2] and out["pair"][1].dtype == ember.float64
    assert out["pair"][1].tolist() == [0.0, 0.5, 1.0]
    # namedtuples keep their type
    assert isinstance(out["pt"], Point) and out["pt"].x.shape == (3, 1) and out["pt"].y.tolist() == [0, 10, 20]


def test_lists_and_dict_subclasses():
    out = default_collate([[1, 2.0, "a"], [3, 4.0, "b"]])
    assert isinstance(out, list) and out[0].tolist() == [1, 3] and out[1].tolist() == [2.0, 4.0]
    assert out[2] == ["a", "b"]
    od = default_collate([collections.OrderedDict(b=1, a=2), collections.OrderedDict(b=3, a=4)])
    assert isinstance(od, collections.OrderedDict) and list(od) == ["b", "a"] and od["a"].tolist() == [2, 4]


def test_unequal_shapes_error_names_the_shapes():
    with pytest.raises(RuntimeError, match=r"equal shapes to be stacked: expected \(3,\) \(entry 0\), "
                                           r"got \(4,\) at entry 2"):
        default_collate([ember.zeros(3), ember.zeros(3), ember.zeros(4)])
    with pytest.raises(RuntimeError, match=r"expected \(2, 2\).*got \(2, 3\) at entry 1"):
        default_collate([(ember.zeros(2, 2), 0), (ember.zeros(2, 3), 1)])


def test_structure_errors():
    with pytest.raises(RuntimeError, match="equal size: expected length 2 \\(entry 0\\), got 3 at entry 1"):
        default_collate([[1, 2], [1, 2, 3]])
    with pytest.raises(RuntimeError, match=r"same keys: expected \['a'\] \(entry 0\), got \['b'\] at entry 1"):
        default_collate([{"a": 1}, {"b": 1}])
    with pytest.raises(TypeError, match="found <class 'object'>"):
        default_collate([object(), object()])
    with pytest.raises(ValueError, match="batch is empty"):
        default_collate([])


def test_default_convert():
    arr = np.arange(4, dtype=np.float32)
    out = default_convert({"x": arr, "y": (np.int64(3), "s"), "z": 1.5, "p": Point(arr, 2)})
    assert isinstance(out["x"], ember.Tensor) and out["x"].dtype == ember.float32
    arr[0] = 42.0  # shares memory with the array
    assert out["x"][0].item() == 42.0
    assert isinstance(out["y"], list) and out["y"][1] == "s"
    assert out["y"][0].shape == () and out["y"][0].dtype == ember.int64 and out["y"][0].item() == 3
    assert default_convert(np.arange(6).reshape(2, 3).T).tolist() == [[0, 3], [1, 4], [2, 5]]
    assert out["z"] == 1.5
    assert isinstance(out["p"], Point) and isinstance(out["p"].x, ember.Tensor) and out["p"].y == 2
    t = ember.zeros(2)
    assert default_convert(t) is t
    assert default_convert("abc") == "abc"
    strs = np.array(["a", "b"])
    assert default_convert(strs) is strs


def test_collate_with_custom_map():
    fns = dict(default_collate_fn_map)
    fns[str] = lambda batch, *, collate_fn_map: "|".join(batch)
    out = collate([("a", ember.tensor(1.0)), ("b", ember.tensor(2.0))], collate_fn_map=fns)
    assert out[0] == "a|b" and out[1].tolist() == [1.0, 2.0]
