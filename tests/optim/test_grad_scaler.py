"""GradScaler: scaling, unscaling, skipped steps on inf/NaN, growth and backoff, state."""
import math

import numpy as np
import pytest

import ember
import ember.optim as optim
from ember.amp.grad_scaler import GradScaler


def _setup(init_scale=8.0, **kw):
    w = ember.tensor([1.0, 2.0], requires_grad=True)
    return w, optim.SGD([w], lr=0.5), GradScaler(init_scale=init_scale, **kw)


def test_scale_unscale_and_step():
    w, opt, scaler = _setup()
    loss = scaler.scale((w * w).sum())
    assert loss.item() == 40.0
    loss.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [16.0, 32.0])
    scaler.unscale_(opt)
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 4.0])
    assert scaler.step(opt) is None  # SGD.step returns None; not skipped
    np.testing.assert_array_equal(w.detach().numpy(), [0.0, 0.0])
    scaler.update()
    assert scaler.get_scale() == 8.0 and scaler._get_growth_tracker() == 1


def test_step_returns_closure_result_and_nested_scale():
    w, opt, scaler = _setup(init_scale=4.0)
    out = scaler.scale([ember.tensor(1.0), (ember.tensor(2.0), [ember.tensor(3.0)])])
    assert isinstance(out, list) and isinstance(out[1], tuple)
    assert [out[0].item(), out[1][0].item(), out[1][1][0].item()] == [4.0, 8.0, 12.0]
    assert [t.item() for t in scaler.scale(iter([ember.tensor(1.0)]))] == [4.0]
    (w.sum()).backward()
    assert scaler.step(opt, lambda: 7.0) == 7.0
    with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
        scaler.step(opt, closure=lambda: 1.0)
    with pytest.raises(ValueError, match="must be a Tensor or an iterable of Tensors"):
        scaler.scale(3.0)


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_skips_step_and_backs_off_on_non_finite(bad):
    w, opt, scaler = _setup(init_scale=16.0)
    before = w.detach().numpy().copy()
    scaler.scale(w.sum()).backward()
    w.grad = ember.tensor([1.0, bad])
    assert scaler.step(opt) is None
    np.testing.assert_array_equal(w.detach().numpy(), before)
    scaler.update()
    assert scaler.get_scale() == 8.0 and scaler._get_growth_tracker() == 0


def test_growth_after_interval_and_tracker_reset():
    w, opt, scaler = _setup(init_scale=2.0, growth_interval=3, growth_factor=4.0, backoff_factor=0.25)
    scales = []
    for i in range(7):
        opt.zero_grad()
        scaler.scale(w.sum()).backward()
        if i == 4:
            w.grad = ember.tensor([math.nan, 0.0])
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
    assert scales == [2.0, 2.0, 8.0, 8.0, 2.0, 2.0, 2.0]
    assert scaler._get_growth_tracker() == 2


def test_unscale_twice_and_after_step_errors():
    w, opt, scaler = _setup()
    scaler.scale(w.sum()).backward()
    scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) is being called after step\\(\\)"):
        scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(opt)
    scaler.update()
    scaler.unscale_(opt)  # a new iteration


def test_update_errors_and_explicit_scale():
    w, opt, scaler = _setup()
    with pytest.raises(RuntimeError, match="call scaler.scale"):
        scaler.update()
    scaler.scale(w.sum())
    with pytest.raises(RuntimeError, match="No inf checks were recorded"):
        scaler.update()
    scaler.update(new_scale=3.0)
    assert scaler.get_scale() == 3.0
    scaler.update(new_scale=ember.tensor(5.0))
    assert scaler.get_scale() == 5.0
    with pytest.raises(ValueError, match="growth factor must be > 1.0"):
        GradScaler(growth_factor=1.0)
    with pytest.raises(ValueError, match="backoff factor must be < 1.0"):
        GradScaler(backoff_factor=1.0)


def test_disabled_passes_through():
    w, opt, _ = _setup()
    scaler = GradScaler(enabled=False)
    loss = (w * w).sum()
    assert scaler.scale(loss) is loss and scaler.get_scale() == 1.0 and not scaler.is_enabled()
    loss.backward()
    scaler.unscale_(opt)
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 4.0])
    scaler.step(opt)
    np.testing.assert_array_equal(w.detach().numpy(), [0.0, 0.0])
    scaler.update()
    assert scaler.state_dict() == {}


def test_state_dict_and_setters():
    w, opt, scaler = _setup(init_scale=32.0, growth_interval=10)
    scaler.scale(w.sum()).backward()
    scaler.step(opt)
    scaler.update()
    sd = scaler.state_dict()
    assert sd == {"scale": 32.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 10,
                  "_growth_tracker": 1}
    other = GradScaler()
    other.load_state_dict(sd)
    assert other.get_scale() == 32.0 and other.get_growth_interval() == 10 and other._get_growth_tracker() == 1
    other.set_growth_factor(3.0), other.set_backoff_factor(0.1), other.set_growth_interval(5)
    assert (other.get_growth_factor(), other.get_backoff_factor(), other.get_growth_interval()) == (3.0, 0.1, 5)
    with pytest.raises(RuntimeError, match="source state dict is empty"):
        other.load_state_dict({})
    scaler.load_state_dict({**sd, "scale": 4.0, "_growth_tracker": 0})
    assert scaler.get_scale() == 4.0 and scaler._get_growth_tracker() == 0


def test_fp16_grads_refused_by_unscale():
    w = ember.zeros(2, dtype=ember.float16, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    scaler = GradScaler()
    scaler.scale(w.sum()).backward()
    with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients"):
        scaler.unscale_(opt)
