"""Optimizers against float64 NumPy re-implementations of their update rules; parameter
groups, skipped parameters, state_dict round trips, hooks, zero_grad and errors."""
import numpy as np
import pytest

import ember
import ember.optim as optim
from optim_reference import CASES, RefOptimizer, case_id

STEPS = 6


def _grads(seed, shape, n=STEPS):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for _ in range(n)]


def _run(name, opts, w0, grads, dtype):
    p = ember.tensor(w0, dtype=dtype, requires_grad=True)
    opt = getattr(optim, name)([p], **opts)
    for g in grads:
        p.grad = ember.tensor(g, dtype=dtype)
        opt.step()
    return p, opt


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_matches_float64_reference(case):
    name, opts = case
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((3, 4))
    grads = _grads(1, (3, 4))
    ref = RefOptimizer(name, **opts)
    expected = w0.copy()
    for g in grads:
        ref.step(expected, g)
    p64, _ = _run(name, opts, w0, grads, ember.float64)
    np.testing.assert_allclose(p64.detach().numpy(), expected, rtol=1e-12, atol=1e-14)
    p32, _ = _run(name, opts, w0, grads, ember.float32)
    assert p32.dtype == ember.float32
    np.testing.assert_allclose(p32.detach().numpy(), expected, rtol=2e-5, atol=1e-6)
    assert not np.allclose(expected, w0)  # the case really moves the parameters


@pytest.mark.parametrize("name", ["Adam", "AdamW", "RMSprop", "Adagrad", "Adamax"])
def test_step_state_is_float32_scalar_tensor(name):
    p, opt = _run(name, {}, np.ones(3), _grads(2, (3,), 3), ember.float64)
    step = opt.state[p]["step"]
    assert isinstance(step, ember.Tensor) and step.shape == () and step.dtype == ember.float32
    assert step.item() == 3.0


def test_param_groups_with_different_options():
    rng = np.random.default_rng(3)
    w0, w1 = rng.standard_normal(5), rng.standard_normal((2, 2))
    a = ember.tensor(w0, dtype=ember.float64, requires_grad=True)
    b = ember.tensor(w1, dtype=ember.float64, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.3, "nesterov": True, "momentum": 0.5}],
                    lr=0.05, momentum=0.9)
    assert opt.param_groups[0]["lr"] == 0.05 and opt.param_groups[0]["momentum"] == 0.9
    assert opt.param_groups[1]["lr"] == 0.3 and opt.param_groups[1]["dampening"] == 0
    ra, rb = RefOptimizer("SGD", lr=0.05, momentum=0.9), RefOptimizer("SGD", lr=0.3, momentum=0.5, nesterov=True)
    ea, eb = w0.copy(), w1.copy()
    for ga, gb in zip(_grads(4, (5,)), _grads(5, (2, 2))):
        a.grad, b.grad = ember.tensor(ga), ember.tensor(gb)
        opt.step()
        ra.step(ea, ga)
        rb.step(eb, gb)
    np.testing.assert_allclose(a.detach().numpy(), ea, rtol=1e-12)
    np.testing.assert_allclose(b.detach().numpy(), eb, rtol=1e-12)


def test_add_param_group_later_and_named_params():
    a = ember.zeros(2, requires_grad=True)
    b = ember.zeros(3, requires_grad=True)
    opt = optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": [b], "lr": 0.2})
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.2]
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)
    named = optim.SGD([("w", a), ("b", b)], lr=0.1)
    assert named.param_groups[0]["param_names"] == ["w", "b"]
    assert named.state_dict()["param_groups"][0]["param_names"] == ["w", "b"]


def test_params_without_grad_are_skipped():
    a = ember.ones(2, requires_grad=True)
    b = ember.ones(2, requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = ember.tensor([1.0, -1.0])
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [0.9, 1.1], rtol=1e-6)
    np.testing.assert_array_equal(b.detach().numpy(), [1.0, 1.0])
    assert b not in opt.state and len(opt.state[a]) == 3


def test_step_does_not_record_autograd_and_closure_runs_with_grad():
    w = ember.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.25, momentum=0.9)
    calls = []

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        calls.append(ember.is_grad_enabled())
        loss.backward()
        return loss

    with ember.no_grad():
        loss = opt.step(closure)
    assert calls == [True] and loss.item() == 5.0
    np.testing.assert_allclose(w.detach().numpy(), [0.5, 1.0])
    assert w.is_leaf and w.grad_fn is None and w.requires_grad
    assert opt.state[w]["momentum_buffer"].requires_grad is False


def test_zero_grad():
    w = ember.ones(3, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * 2).sum().backward()
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(w.grad.numpy(), np.zeros(3))
    opt.zero_grad()
    assert w.grad is None
    opt.zero_grad()  # no grads: nothing to do


def _train(opt_fn, w0, grads):
    p = ember.tensor(w0, requires_grad=True)
    opt = opt_fn([p])
    for g in grads:
        p.grad = ember.tensor(g, dtype=p.dtype)
        opt.step()
    return p, opt


@pytest.mark.parametrize("case", [c for c in CASES if c[1].get("momentum", 1) != 0 or c[0] != "SGD"], ids=case_id)
def test_state_dict_round_trip_continues_identically(case):
    name, opts = case
    rng = np.random.default_rng(7)
    w0 = rng.standard_normal(6).astype(np.float32)
    grads = [g.astype(np.float32) for g in _grads(8, (6,), 8)]
    full, _ = _train(lambda ps: getattr(optim, name)(ps, **opts), w0, grads)
    half, opt = _train(lambda ps: getattr(optim, name)(ps, **opts), w0, grads[:4])
    sd = opt.state_dict()
    saved = {k: {n: v.clone() if isinstance(v, ember.Tensor) else v for n, v in s.items()} for k, s in sd["state"].items()}
    resumed = ember.tensor(half.detach().numpy().copy(), requires_grad=True)
    opt2 = getattr(optim, name)([resumed], lr=123.0)  # the loaded groups replace these options
    opt2.load_state_dict({"state": saved, "param_groups": sd["param_groups"]})
    assert opt2.param_groups[0]["lr"] == opts["lr"] and opt2.param_groups[0]["params"][0] is resumed
    for g in grads[4:]:
        resumed.grad = ember.tensor(g)
        opt2.step()
    np.testing.assert_array_equal(resumed.detach().numpy(), full.detach().numpy())


def test_state_dict_layout():
    a = ember.zeros(2, requires_grad=True)
    b = ember.zeros(3, requires_grad=True)
    c = ember.zeros(1, requires_grad=True)
    opt = optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.5}], amsgrad=True)
    a.grad, c.grad = ember.ones(2), ember.ones(1)
    opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert list(sd["state"]) == [0, 2]
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    assert sd["param_groups"][0]["params"] == [0, 1] and sd["param_groups"][1]["params"] == [2]
    assert sd["param_groups"][1]["lr"] == 0.5 and sd["param_groups"][0]["lr"] == 1e-3
    assert list(sd["param_groups"][0]) == ["lr", "betas", "eps", "weight_decay", "amsgrad", "maximize", "foreach",
                                           "capturable", "differentiable", "fused", "decoupled_weight_decay", "params"]
    assert opt.param_groups[0]["params"][0] is a  # packing does not touch the optimizer


def test_load_state_dict_casts_to_param_dtype_except_step():
    _, opt = _train(lambda ps: optim.Adam(ps, lr=0.1), np.ones(3, np.float32), _grads(9, (3,), 2))
    p64 = ember.zeros(3, dtype=ember.float64, requires_grad=True)
    opt2 = optim.Adam([p64])
    opt2.load_state_dict(opt.state_dict())
    st = opt2.state[p64]
    assert st["exp_avg"].dtype == ember.float64 and st["exp_avg_sq"].dtype == ember.float64
    assert st["step"].dtype == ember.float32 and st["step"].item() == 2.0


def test_load_state_dict_errors():
    a, b = ember.zeros(2, requires_grad=True), ember.zeros(2, requires_grad=True)
    sd = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size"):
        optim.SGD([a], lr=0.1).load_state_dict(sd)


def test_hooks():
    w = ember.ones(2, requires_grad=True)
    opt = optim.SGD([w], lr=0.5)
    seen = []
    h1 = opt.register_step_pre_hook(lambda o, args, kwargs: seen.append(("pre", o is opt)))
    h2 = opt.register_step_post_hook(lambda o, args, kwargs: seen.append(("post", w.detach().numpy().tolist())))
    g = optim.register_optimizer_step_pre_hook(lambda o, args, kwargs: seen.append(("global",)))
    w.grad = ember.ones(2)
    opt.step()
    assert seen == [("global",), ("pre", True), ("post", [0.5, 0.5])]
    h1.remove(), h2.remove(), g.remove()
    opt.step()
    assert len(seen) == 3

    def replace_closure(o, args, kwargs):
        return (args[0],), {"closure": lambda: 42.0}
    opt.register_step_pre_hook(replace_closure)
    assert opt.step() == 42.0


def test_state_dict_hooks():
    w = ember.ones(2, requires_grad=True)
    opt = optim.SGD([w], lr=0.5)
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    assert opt.state_dict()["extra"] == 1
    loaded = []
    opt.register_load_state_dict_post_hook(lambda o: loaded.append(o.param_groups[0]["lr"]))
    sd = opt.state_dict()
    sd["param_groups"][0]["lr"] = 0.25
    opt.load_state_dict(sd)
    assert loaded == [0.25]


def test_adagrad_initial_state_and_accumulator():
    a = ember.zeros(2, requires_grad=True)
    b = ember.zeros(2, requires_grad=True)
    opt = optim.Adagrad([{"params": [a]}, {"params": [b], "initial_accumulator_value": 2.0}],
                        initial_accumulator_value=0.5)
    np.testing.assert_array_equal(opt.state[a]["sum"].numpy(), [0.5, 0.5])
    np.testing.assert_array_equal(opt.state[b]["sum"].numpy(), [2.0, 2.0])
    assert opt.state[a]["step"].item() == 0.0


def test_constructor_errors():
    w = ember.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match=r"\[SGD\] Invalid learning rate: expected lr >= 0, got -0.1"):
        optim.SGD([w], lr=-0.1)
    with pytest.raises(ValueError, match="Invalid momentum value"):
        optim.SGD([w], momentum=-1)
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero dampening"):
        optim.SGD([w], momentum=0.9, dampening=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1"):
        optim.Adam([w], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Invalid epsilon value"):
        optim.AdamW([w], eps=-1)
    with pytest.raises(ValueError, match="Invalid alpha value"):
        optim.RMSprop([w], alpha=-0.5)
    with pytest.raises(ValueError, match="Invalid lr_decay value"):
        optim.Adagrad([w], lr_decay=-1)
    with pytest.raises(ValueError, match="Invalid weight_decay value"):
        optim.Adamax([w], weight_decay=-1)
    with pytest.raises(NotImplementedError, match="differentiable=True is not supported"):
        optim.Adam([w], differentiable=True)
    optim.Adam([w], foreach=True, fused=False, capturable=False)  # accepted and ignored


def test_param_errors():
    w = ember.zeros(2, requires_grad=True)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(w)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([])
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": {w}}])
    with pytest.raises(TypeError, match="can only optimize Tensors: expected ember.Tensor, got int"):
        optim.SGD([w, 3])
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([w * 2])
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        optim.SGD([{"params": [w]}, {"params": [w], "lr": 0.1}])
    opt = optim.SGD([w])
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": w})
    with pytest.raises(TypeError, match="param_group must be a dict"):
        opt.add_param_group([w])
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([w, w])
    with pytest.raises(NotImplementedError):
        optim.Optimizer([w], {}).step()


def test_complex_params_use_real_view():
    rng = np.random.default_rng(11)
    z0 = (rng.standard_normal(3) + 1j * rng.standard_normal(3)).astype(np.complex64)
    g = (rng.standard_normal(3) + 1j * rng.standard_normal(3)).astype(np.complex64)
    p = ember.tensor(z0)  # complex tensors cannot require grad in ember; a grad can still be set
    opt = optim.Adam([p], lr=0.1)
    p.grad = ember.tensor(g)
    opt.step()
    # first Adam step: each real and imaginary coordinate moves by lr * sign(grad)
    expected = z0 - 0.1 * (np.sign(g.real) + 1j * np.sign(g.imag))
    np.testing.assert_allclose(p.detach().numpy(), expected, rtol=1e-5)


def test_repr():
    opt = optim.SGD([ember.zeros(1, requires_grad=True)], lr=0.1)
    r = repr(opt)
    assert r.startswith("SGD (\nParameter Group 0\n") and "    lr: 0.1\n" in r
