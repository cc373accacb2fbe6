"""ember.autocast on the CPU: which ops run in the lower precision, which in float32, and
that gradients reach float32 parameters in float32."""
import threading

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import nn

BF = ember.bfloat16


def test_lower_precision_ops_cast_their_inputs():
    a, b = ember.randn(4, 8), ember.randn(8, 3)
    with ember.autocast("cpu"):
        assert ember.is_autocast_enabled("cpu") and ember.get_autocast_dtype("cpu") == BF
        assert (a @ b).dtype == BF
        assert ember.mm(a, b).dtype == BF
        assert ember.matmul(a, b).dtype == BF
        assert ember.bmm(a[None], b[None]).dtype == BF
        assert ember.addmm(ember.zeros(4, 3), a, b).dtype == BF
        assert ember.baddbmm(ember.zeros(1, 4, 3), a[None], b[None]).dtype == BF
        assert F.linear(a, b.t()).dtype == BF
        assert F.conv2d(ember.randn(1, 2, 5, 5), ember.randn(3, 2, 3, 3), ember.randn(3)).dtype == BF
        assert F.conv_transpose2d(ember.randn(1, 2, 5, 5), ember.randn(2, 3, 3, 3)).dtype == BF
        q = ember.randn(2, 4, 8)
        assert F.scaled_dot_product_attention(q, q, q).dtype == BF
        # not on the list: elementwise ops and reductions keep their input dtype
        assert (a + 1).dtype == ember.float32 and a.sum().dtype == ember.float32
        # float64 is never narrowed
        assert (a.double() @ b.double()).dtype == ember.float64
    assert not ember.is_autocast_enabled("cpu")
    assert (a @ b).dtype == ember.float32


def test_values_match_the_explicitly_cast_computation():
    a, b = ember.randn(16, 32), ember.randn(32, 8)
    with ember.autocast("cpu", dtype=BF):
        y = a @ b
    np.testing.assert_array_equal(y.float().numpy(), (a.to(BF) @ b.to(BF)).float().numpy())
    with ember.autocast("cpu", dtype=ember.float16):
        assert (a @ b).dtype == ember.float16


def test_losses_run_in_float32():
    logits = ember.randn(6, 5).to(BF)
    t = ember.tensor([0, 1, 2, 3, 4, 0])
    with ember.autocast("cpu"):
        assert F.cross_entropy(logits, t).dtype == ember.float32
        assert F.nll_loss(F.log_softmax(logits, 1), t).dtype == ember.float32
    assert F.cross_entropy(logits, t).dtype == BF  # outside autocast: the input's dtype


def test_training_step_gradients_are_float32():
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    x, y = ember.randn(10, 8), ember.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    with ember.autocast("cpu"):
        out = model(x)
        assert out.dtype == BF
        loss = F.cross_entropy(out, y)
    loss.backward()  # outside autocast, as PyTorch recommends; inside works too
    for p in model.parameters():
        assert p.grad is not None and p.grad.dtype == ember.float32
    with ember.autocast("cpu"):
        loss2 = F.cross_entropy(model(x), y)
        loss2.backward()  # backward itself never runs under autocast
    ref = model[0].weight.grad.numpy()
    assert np.isfinite(ref).all()


def test_nesting_decorator_and_threads():
    a = ember.randn(2, 2)
    with ember.autocast("cpu"):
        with ember.autocast("cpu", enabled=False):
            assert (a @ a).dtype == ember.float32
        assert (a @ a).dtype == BF

    @ember.autocast("cpu")
    def f():
        return (a @ a).dtype
    assert f() == BF and not ember.is_autocast_enabled("cpu")

    seen = []
    with ember.autocast("cpu"):
        th = threading.Thread(target=lambda: seen.append((a @ a).dtype))  # thread-local, as PyTorch
        th.start()
        th.join()
    assert seen == [ember.float32]


def test_errors_and_cuda_state():
    with pytest.raises(ValueError, match="device_type"):
        ember.autocast("tpu")
    with pytest.raises(ValueError, match="CPU autocast supports bfloat16 and float16"):
        ember.autocast("cpu", dtype=ember.float64)
    with ember.amp.autocast("cuda"):
        assert ember.is_autocast_enabled("cuda") and ember.get_autocast_dtype("cuda") == ember.float16
        assert not ember.is_autocast_enabled("cpu")
    assert not ember.is_autocast_enabled("cuda")


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div",
                                  "binary_cross_entropy_with_logits"])
def test_other_losses_run_in_float32(name):
    a = ember.rand(4, 3).to(BF)
    b = ember.rand(4, 3).to(BF)
    with ember.autocast("cpu"):
        assert getattr(F, name)(a, b).dtype == ember.float32
    assert getattr(F, name)(a, b).dtype == BF


def test_cuda_amp_spellings_map_to_the_cuda_switch():
    # torch.cuda.amp.autocast / GradScaler, still common in fine-tuning scripts
    with ember.cuda.amp.autocast():
        assert ember.is_autocast_enabled("cuda") and ember.get_autocast_dtype("cuda") == ember.float16
        assert not ember.is_autocast_enabled("cpu")
    with ember.cuda.amp.autocast(dtype=ember.bfloat16):
        assert ember.get_autocast_dtype("cuda") == ember.bfloat16
    assert not ember.is_autocast_enabled("cuda")
    assert ember.cuda.amp.GradScaler(init_scale=8.0).get_scale() == 8.0
