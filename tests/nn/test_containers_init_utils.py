"""Containers, nn.init statistics and nn.utils (clipping, vector conversion)."""
import math
from collections import OrderedDict

import numpy as np
import pytest

import ember
from ember import nn
from ember.nn import init


def test_sequential():
    s = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(s) == 3 and isinstance(s[1], nn.ReLU) and isinstance(s[-1], nn.Linear)
    sub = s[1:]
    assert type(sub) is nn.Sequential and len(sub) == 2 and sub[0] is s[1]
    s.append(nn.Tanh())
    s.insert(0, nn.Identity())
    assert [type(m).__name__ for m in s] == ["Identity", "Linear", "ReLU", "Linear", "Tanh"]
    s.extend([nn.Sigmoid()])
    del s[0]
    assert [n for n, _ in s.named_children()] == ["0", "1", "2", "3", "4"]
    x = ember.randn(4, 2)
    ref = ember.sigmoid(ember.tanh(s[2](ember.relu(s[0](x)))))
    np.testing.assert_allclose(s(x).detach().numpy(), ref.detach().numpy(), rtol=1e-6)
    od = nn.Sequential(OrderedDict([("a", nn.Linear(1, 1)), ("b", nn.ReLU())]))
    assert od.a is od[0] and [n for n, _ in od.named_children()] == ["a", "b"]
    with pytest.raises(IndexError, match=r"\[Sequential\] index 5 is out of range"):
        s[5]
    assert len(s + nn.Sequential(nn.ReLU())) == 6


def test_module_list_and_dict():
    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    ml.append(nn.ReLU())
    ml.insert(1, nn.Tanh())
    assert [type(m).__name__ for m in ml] == ["Linear", "Tanh", "Linear", "Linear", "ReLU"]
    assert len(list(ml.parameters())) == 6 and isinstance(ml[1:3], nn.ModuleList)
    del ml[1]
    assert [n for n, _ in ml.named_children()] == ["0", "1", "2", "3"]
    with pytest.raises(TypeError):
        ml.extend(nn.ReLU())
    md = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Linear(1, 1)})
    assert list(md.keys()) == ["b", "a"] and "a" in md and len(md) == 2
    md["c"] = nn.Tanh()
    assert md.pop("b").__class__ is nn.ReLU and list(md) == ["a", "c"]
    md.update([("d", nn.Identity())])
    assert list(md) == ["a", "c", "d"]


def test_parameter_list_and_dict():
    pl = nn.ParameterList([nn.Parameter(ember.ones(2)), ember.zeros(3)])
    assert isinstance(pl[1], nn.Parameter) and len(pl) == 2
    pl.append(ember.ones(1))
    assert [n for n, _ in pl.named_parameters()] == ["0", "1", "2"]
    pd = nn.ParameterDict({"b": ember.ones(1), "a": nn.Parameter(ember.zeros(2))})
    assert list(pd.keys()) == ["a", "b"] and isinstance(pd["b"], nn.Parameter)
    pd["c"] = ember.ones(2)
    assert [n for n, _ in pd.named_parameters()] == ["a", "b", "c"]
    del pd["a"]
    assert "a" not in pd and len(pd) == 2
    holder = nn.Module()
    holder.pl = pl
    assert len(holder.state_dict()) == 3
    assert repr(nn.ParameterList([nn.Parameter(ember.zeros(2, 3)), ember.ones(1)])) == (
        "ParameterList(\n    (0): Parameter containing: [ember.float32 of size 2x3]\n"
        "    (1): Parameter containing: [ember.float32 of size 1]\n)")


def test_identity_flatten_unflatten():
    x = ember.randn(2, 3, 4)
    assert nn.Identity(3, foo=1)(x) is x
    assert nn.Flatten()(x).shape == (2, 12) and nn.Flatten(0, 1)(x).shape == (6, 4)
    assert nn.Unflatten(2, (2, 2))(x).shape == (2, 3, 2, 2)


def test_calculate_gain():
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    assert init.calculate_gain("conv2d") == 1 and init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")


def stats(t):
    a = t.detach().numpy().astype(np.float64)
    return a.mean(), a.std(), np.abs(a).max()


def test_init_distributions():
    ember.manual_seed(0)
    w = ember.empty(400, 300)
    m, s, mx = stats(init.uniform_(w, -2, 3))
    assert abs(m - 0.5) < 0.03 and abs(s - 5 / math.sqrt(12)) < 0.02 and mx <= 3
    m, s, _ = stats(init.normal_(w, 1.0, 0.5))
    assert abs(m - 1.0) < 0.01 and abs(s - 0.5) < 0.01
    m, s, mx = stats(init.xavier_uniform_(w, gain=2.0))
    bound = 2.0 * math.sqrt(6 / 700)
    assert mx <= bound and abs(s - bound / math.sqrt(3)) < 0.002
    _, s, _ = stats(init.xavier_normal_(w))
    assert abs(s - math.sqrt(2 / 700)) < 0.001
    _, s, mx = stats(init.kaiming_uniform_(w, a=math.sqrt(5)))
    assert mx <= 1 / math.sqrt(300) and abs(s - 1 / math.sqrt(300) / math.sqrt(3)) < 0.001
    _, s, _ = stats(init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu"))
    assert abs(s - math.sqrt(2 / 400)) < 0.001
    m, s, mx = stats(init.trunc_normal_(w, mean=0.5, std=1.0, a=-1.0, b=2.0))
    assert mx <= 2.0 and w.min().item() >= -1.0 and abs(m - 0.5) < 0.02
    assert init.constant_(ember.empty(3), 0.25).tolist() == [0.25] * 3
    assert init.zeros_(ember.ones(2)).tolist() == [0.0, 0.0] and init.ones_(ember.zeros(1)).tolist() == [1.0]
    assert init.eye_(ember.empty(2, 3)).tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    with pytest.raises(ValueError, match="fewer than 2 dims"):
        init.xavier_uniform_(ember.empty(3))
    with pytest.raises(ValueError, match="mode 'fan_avg' not supported"):
        init.kaiming_uniform_(w, mode="fan_avg")


def test_init_reproducible_and_no_grad():
    p = nn.Parameter(ember.empty(5, 4))
    ember.manual_seed(3)
    init.kaiming_uniform_(p)
    a = p.detach().numpy().copy()
    ember.manual_seed(3)
    init.kaiming_uniform_(p)
    np.testing.assert_array_equal(a, p.detach().numpy())
    assert p.grad_fn is None and p.is_leaf
    g1, g2 = ember.Generator().manual_seed(7), ember.Generator().manual_seed(7)
    x1, x2 = init.normal_(ember.empty(6), generator=g1), init.normal_(ember.empty(6), generator=g2)
    assert x1.tolist() == x2.tolist()


@pytest.mark.parametrize("shape", [(6, 6), (4, 9), (9, 4), (4, 2, 3)])
def test_orthogonal(shape):
    ember.manual_seed(1)
    w = init.orthogonal_(ember.empty(*shape), gain=2.0).detach().numpy().reshape(shape[0], -1).astype(np.float64)
    r, c = w.shape
    gram = w @ w.T if r <= c else w.T @ w
    np.testing.assert_allclose(gram, 4.0 * np.eye(min(r, c)), atol=1e-5)


def test_dirac():
    w = init.dirac_(ember.empty(4, 2, 3, 3), groups=2).numpy()
    x = np.zeros_like(w)
    x[0, 0, 1, 1] = x[1, 1, 1, 1] = x[2, 0, 1, 1] = x[3, 1, 1, 1] = 1
    np.testing.assert_array_equal(w, x)


def _params_with_grads(grads):
    ps = []
    for g in grads:
        p = nn.Parameter(ember.zeros(*g.shape, dtype=ember.float64))
        (p * ember.from_numpy(g)).sum().backward()
        ps.append(p)
    return ps


def test_clip_grad_norm():
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    flat = np.concatenate([g.ravel() for g in grads])
    for norm_type, ref in [(2.0, np.linalg.norm(flat)), (1.0, np.abs(flat).sum()), ("inf", np.abs(flat).max()),
                           (3.0, (np.abs(flat) ** 3).sum() ** (1 / 3))]:
        ps = _params_with_grads(grads)
        total = nn.utils.clip_grad_norm_(ps, 0.5, norm_type=norm_type)
        np.testing.assert_allclose(total.item(), ref, rtol=1e-12)
        coef = 0.5 / (ref + 1e-6)
        for p, g in zip(ps, grads):
            np.testing.assert_allclose(p.grad.numpy(), g * coef, rtol=1e-12)
    ps = _params_with_grads(grads)
    nn.utils.clip_grad_norm_(ps, 100.0)
    np.testing.assert_array_equal(ps[0].grad.numpy(), grads[0])
    bad = _params_with_grads([np.array([np.inf, 1.0])])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(bad, 1.0, error_if_nonfinite=True)
    assert nn.utils.clip_grad_norm_([nn.Parameter(ember.ones(2))], 1.0).item() == 0.0


def test_clip_grad_value_and_vectors():
    ps = _params_with_grads([np.array([3.0, -0.5, -4.0])])
    nn.utils.clip_grad_value_(ps, 1.0)
    assert ps[0].grad.tolist() == [1.0, -0.5, -1.0]
    m = nn.Linear(3, 2)
    v = nn.utils.parameters_to_vector(m.parameters())
    np.testing.assert_array_equal(v.detach().numpy(), np.concatenate([m.weight.detach().numpy().ravel(),
                                                                      m.bias.detach().numpy()]))
    nn.utils.vector_to_parameters(ember.arange(8.0), m.parameters())
    assert m.weight.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]] and m.bias.tolist() == [6.0, 7.0]
    assert m.weight.is_leaf and m.weight.requires_grad
    with pytest.raises(ValueError, match="expected 8, got 7"):
        nn.utils.vector_to_parameters(ember.zeros(7), m.parameters())
