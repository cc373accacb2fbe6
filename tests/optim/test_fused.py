"""The fused C++ updates (ember._C._nn.fused_adam_ / fused_sgd_) against the op-by-op path
they replace, and the fallback for tensors the fused path does not take."""
import numpy as np
import pytest

import ember
from ember.optim import _functional

CASES = [
    (ember.optim.Adam, dict(lr=1e-2)),
    (ember.optim.Adam, dict(lr=1e-2, weight_decay=0.1, amsgrad=True, maximize=True)),
    (ember.optim.AdamW, dict(lr=1e-2, weight_decay=0.05)),
    (ember.optim.AdamW, dict(lr=1e-2, amsgrad=True)),
    (ember.optim.SGD, dict(lr=0.1)),
    (ember.optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=1e-2)),
    (ember.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True)),
]


def run(opt_cls, kw, dtype, fused, monkeypatch):
    if not fused:
        monkeypatch.setattr(_functional._C._nn, "fused_adam_", lambda *a: False)
        monkeypatch.setattr(_functional._C._nn, "fused_sgd_", lambda *a: False)
    rng = np.random.default_rng(0)
    params = [ember.tensor(rng.standard_normal(s), dtype=dtype).requires_grad_() for s in ((5, 3), (7,), ())]
    opt = opt_cls(params, **kw)
    for step in range(6):
        for p in params:
            p.grad = ember.tensor(rng.standard_normal(tuple(p.shape)), dtype=dtype)
        opt.step()
    monkeypatch.undo()
    return [p.detach().numpy().copy() for p in params], opt.state_dict()


@pytest.mark.parametrize("opt_cls,kw", CASES)
@pytest.mark.parametrize("dtype,tol", [(ember.float64, 1e-13), (ember.float32, 2e-6)])
def test_fused_matches_op_by_op(opt_cls, kw, dtype, tol, monkeypatch):
    fused, sf = run(opt_cls, kw, dtype, True, monkeypatch)
    plain, sp = run(opt_cls, kw, dtype, False, monkeypatch)
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    for i, st in sf["state"].items():
        for k, v in st.items():
            if isinstance(v, ember.Tensor):
                np.testing.assert_allclose(v.numpy(), sp["state"][i][k].numpy(), rtol=tol, atol=tol)


def test_fused_path_is_taken_and_bumps_versions():
    p = ember.ones(4, requires_grad=True)
    p.grad = ember.full((4,), 0.5)
    opt = ember.optim.Adam([p], lr=0.1)
    v0 = p._version
    opt.step()
    assert p._version == v0 + 1  # one fused write, not a chain of in-place ops
    assert opt.state[p]["step"].item() == 1.0
    np.testing.assert_allclose(p.detach().numpy(), 0.9, rtol=1e-6)


def test_non_contiguous_parameters_fall_back():
    base = ember.arange(12.0).view(3, 4)
    p = base.t().detach().requires_grad_()  # a non-contiguous leaf
    assert not p.is_contiguous()
    p.grad = ember.ones(4, 3)
    assert not ember._C._nn.fused_sgd_([p], [p.grad], [], 0.1, 0.0, 0.0, 0.0, False, False)
    ember.optim.SGD([p], lr=0.5).step()
    np.testing.assert_allclose(p.detach().numpy(), np.arange(12.0).reshape(3, 4).T - 0.5)
