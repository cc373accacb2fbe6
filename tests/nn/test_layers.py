"""Layers: parameter shapes and init bounds, forward against NumPy, modes, and the errors
that name the module."""
import math

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember import nn


def has(*names):
    return pytest.mark.skipif(not all(hasattr(F, n) for n in names), reason=f"kernels {names} not available")


def test_linear_shapes_init_and_forward():
    ember.manual_seed(0)
    m = nn.Linear(50, 30)
    assert m.weight.shape == (30, 50) and m.bias.shape == (30,)
    bound = 1 / math.sqrt(50)
    assert m.weight.abs().max().item() <= bound and m.bias.abs().max().item() <= bound
    x = ember.randn(4, 7, 50)
    ref = x.numpy() @ m.weight.detach().numpy().T + m.bias.detach().numpy()
    np.testing.assert_allclose(m(x).detach().numpy(), ref, rtol=1e-5, atol=1e-5)
    assert nn.Linear(3, 2, bias=False).bias is None
    assert nn.Linear(3, 2, dtype=ember.float64).weight.dtype == ember.float64
    b = nn.Bilinear(3, 4, 5)
    assert b.weight.shape == (5, 3, 4) and b(ember.randn(2, 3), ember.randn(2, 4)).shape == (2, 5)


def test_module_errors_name_the_module():
    with pytest.raises(ValueError) as ei:
        nn.Linear(128, 10)(ember.randn(32, 127))
    assert str(ei.value) == ("Linear(in_features=128, out_features=10): expected input with 128 features in its "
                             "last dimension, got shape (32, 127)")
    with pytest.raises(ValueError, match=r"Conv2d\(3, 8, kernel_size=\(3, 3\), stride=\(1, 1\)\): expected input "
                                         r"with 3 channels \(in_channels=3\), got shape \(2, 4, 8, 8\)"):
        nn.Conv2d(3, 8, 3)(ember.randn(2, 4, 8, 8))
    with pytest.raises(ValueError, match=r"Conv1d.*expected 2-d \(unbatched\) or 3-d \(batched\) input"):
        nn.Conv1d(3, 8, 3)(ember.randn(3))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(16\): expected input with 16 channels \(dim 1\), got shape "
                                         r"\(2, 8, 4, 4\)"):
        nn.BatchNorm2d(16)(ember.randn(2, 8, 4, 4))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\): expected 4-d input"):
        nn.BatchNorm2d(3)(ember.randn(2, 3))
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training, got input size "
                                         r"\(1, 5\)"):
        nn.BatchNorm1d(5)(ember.randn(1, 5))
    with pytest.raises(ValueError, match=r"LayerNorm\(\(8,\)\): expected input with trailing shape \(8,\)"):
        nn.LayerNorm(8)(ember.randn(2, 7))
    with pytest.raises(ValueError, match=r"GroupNorm\(2, 6\): expected input with 6 channels"):
        nn.GroupNorm(2, 6)(ember.randn(2, 4, 3))
    with pytest.raises(ValueError, match="num_channels must be divisible by num_groups"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 6, 3, groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(3, 6, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match=r"PReLU\(num_parameters=3\): expected input with 3 channels"):
        nn.PReLU(3)(ember.randn(2, 4))


def test_conv_parameter_shapes_and_bounds():
    c = nn.Conv2d(4, 6, (3, 2), groups=2)
    assert c.weight.shape == (6, 2, 3, 2) and c.bias.shape == (6,)
    assert c.weight.abs().max().item() <= 1 / math.sqrt(12)
    t = nn.ConvTranspose2d(4, 6, 3, groups=2)
    assert t.weight.shape == (4, 3, 3, 3)
    assert repr(nn.Conv1d(2, 3, 3, padding="same", padding_mode="reflect")) == (
        "Conv1d(2, 3, kernel_size=(3,), stride=(1,), padding=same, padding_mode=reflect)")


@has("conv2d")
def test_conv2d_forward_against_numpy():
    m = nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular").double()
    x = np.random.default_rng(0).standard_normal((1, 2, 5, 5))
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="wrap")
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    ref = np.zeros((1, 3, 5, 5))
    for o in range(3):
        for i in range(5):
            for j in range(5):
                ref[0, o, i, j] = (xp[0, :, i:i + 3, j:j + 3] * w[o]).sum() + b[o]
    np.testing.assert_allclose(m(ember.from_numpy(x)).detach().numpy(), ref, rtol=1e-12)
    same = nn.Conv1d(1, 1, 4, padding="same", bias=False).double()   # even kernel: asymmetric padding
    assert same(ember.randn(1, 1, 9, dtype=ember.float64)).shape == (1, 1, 9)


@has("batch_norm")
def test_batchnorm_running_stats_and_eval():
    bn = nn.BatchNorm1d(3, momentum=None).double()
    xs = [np.random.default_rng(i).standard_normal((8, 3)) * (i + 1) for i in range(3)]
    for x in xs:
        bn(ember.from_numpy(x))
    allx = np.stack(xs)
    np.testing.assert_allclose(bn.running_mean.numpy(), allx.mean(1).mean(0), rtol=1e-10)
    np.testing.assert_allclose(bn.running_var.numpy(), allx.var(1, ddof=1).mean(0), rtol=1e-10)
    assert bn.num_batches_tracked.item() == 3
    bn.eval()
    x = xs[0]
    ref = (x - bn.running_mean.numpy()) / np.sqrt(bn.running_var.numpy() + 1e-5)
    np.testing.assert_allclose(bn(ember.from_numpy(x)).detach().numpy(), ref, rtol=1e-10)
    assert bn.num_batches_tracked.item() == 3
    assert nn.BatchNorm1d(3).eval()(ember.randn(1, 3)).shape == (1, 3)   # one sample is fine in eval


@has("dropout")
def test_dropout_modes():
    d = nn.Dropout(0.5)
    x = ember.ones(1000)
    y = d(x).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0} and 350 < (y == 0).sum() < 650
    d.eval()
    assert d(x) is x or d(x).tolist() == x.tolist()


@has("embedding")
def test_embedding():
    e = nn.Embedding(10, 3, padding_idx=2)
    assert e.weight[2].tolist() == [0.0, 0.0, 0.0]
    idx = ember.tensor([[1, 2], [4, 9]])
    np.testing.assert_array_equal(e(idx).detach().numpy(), e.weight.detach().numpy()[[[1, 2], [4, 9]]])
    e(idx).sum().backward()
    assert e.weight.grad[2].tolist() == [0.0, 0.0, 0.0] and e.weight.grad[1].tolist() == [1.0, 1.0, 1.0]
    pre = nn.Embedding.from_pretrained(ember.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert not pre.weight.requires_grad and pre(ember.tensor([1])).tolist() == [[3.0, 4.0]]
    bag = nn.EmbeddingBag(10, 3, mode="max")
    out = bag(ember.tensor([1, 2, 4, 5]), ember.tensor([0, 2]))
    np.testing.assert_array_equal(out.detach().numpy(), np.stack([bag.weight.detach().numpy()[[1, 2]].max(0),
                                                                  bag.weight.detach().numpy()[[4, 5]].max(0)]))


@has("softmax", "log_softmax")
def test_softmax_modules():
    x = ember.randn(2, 3, 4)
    np.testing.assert_allclose(nn.Softmax(dim=-1)(x).sum(-1).numpy(), np.ones((2, 3)), rtol=1e-6)
    np.testing.assert_allclose(nn.Softmin(dim=1)(x).numpy(), nn.Softmax(dim=1)(-x).numpy(), rtol=1e-6)
    np.testing.assert_allclose(nn.LogSoftmax(dim=1)(x).exp().sum(1).numpy(), np.ones((2, 4)), rtol=1e-6)
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"


def test_activation_module_reprs():
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.GELU("tanh")) == "GELU(approximate='tanh')"
    assert repr(nn.Hardtanh()) == "Hardtanh(min_val=-1.0, max_val=1.0)"
    assert repr(nn.PReLU()) == "PReLU(num_parameters=1)"
    assert repr(nn.Softplus()) == "Softplus(beta=1.0, threshold=20.0)"
    assert nn.ReLU6()(ember.tensor([-1.0, 7.0])).tolist() == [0.0, 6.0]
