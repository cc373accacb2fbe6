"""Random numbers on the GPU: the same Philox stream as the CPU, so the same generator state
gives the CPU's values (uniform_ and bernoulli_ exactly, normal_ to float rounding); each device
has its own default generator, seeded by ember.manual_seed / ember.cuda.manual_seed. Skips
without a GPU."""
import numpy as np
import pytest

import ember

pytestmark = pytest.mark.skipif(not ember.cuda.is_available(), reason="no CUDA device")


def _pair(dtype, n=1000):
    return ember.empty(n, dtype=getattr(ember, dtype)), ember.empty(n, dtype=getattr(ember, dtype), device="cuda")


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize("n", [1, 17, 1000, 4099])
def test_uniform_matches_cpu_exactly(dtype, n):
    c, g = _pair(dtype, n)
    c.uniform_(-2, 3, generator=ember.Generator().manual_seed(7))
    g.uniform_(-2, 3, generator=ember.Generator().manual_seed(7))
    np.testing.assert_array_equal(g.cpu().float().numpy(), c.float().numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_normal_matches_cpu(dtype):
    c, g = _pair(dtype, 4099)
    c.normal_(1.0, 2.0, generator=ember.Generator().manual_seed(3))
    g.normal_(1.0, 2.0, generator=ember.Generator().manual_seed(3))
    np.testing.assert_allclose(g.cpu().numpy(), c.numpy(), rtol=1e-5, atol=1e-5)


def test_bernoulli_matches_cpu_and_checks_p():
    c, g = _pair("float32", 1000)
    c.bernoulli_(0.3, generator=ember.Generator().manual_seed(1))
    g.bernoulli_(0.3, generator=ember.Generator().manual_seed(1))
    np.testing.assert_array_equal(g.cpu().numpy(), c.numpy())
    p = ember.full((100,), 1.5, device="cuda")
    with pytest.raises(ValueError, match=r"\[bernoulli\] expected all probabilities in \[0, 1\]"):
        ember.bernoulli(p)


def test_device_generators_are_seeded_and_reproducible():
    ember.manual_seed(123)
    a = ember.rand(64, device="cuda")
    ember.cuda.manual_seed(123)
    b = ember.rand(64, device="cuda")
    np.testing.assert_array_equal(a.cpu().numpy(), b.cpu().numpy())
    assert ember.cuda.initial_seed() == 123
    c = ember.rand(64, device="cuda")
    assert not np.array_equal(b.cpu().numpy(), c.cpu().numpy())  # the offset moved on
    d = ember.nn.functional.dropout(ember.ones(1000, device="cuda"), p=0.5, training=True)
    kept = (d.cpu().numpy() != 0).mean()
    assert 0.4 < kept < 0.6 and set(np.unique(d.cpu().numpy())) <= {0.0, 2.0}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_exponential_matches_cpu(dtype):
    c, g = _pair(dtype, 4099)
    c.exponential_(0.5, generator=ember.Generator().manual_seed(5))
    g.exponential_(0.5, generator=ember.Generator().manual_seed(5))
    np.testing.assert_allclose(g.cpu().numpy(), c.numpy(), rtol=1e-6, atol=0)


@pytest.mark.parametrize("dtype,low,high", [("int64", -5, 9), ("int32", 0, 1 << 20), ("int64", -(1 << 40), 1 << 40),
                                            ("float32", 0, 100), ("uint8", 0, 256)])
def test_random_matches_cpu_exactly(dtype, low, high):
    c, g = _pair(dtype, 4099)
    c.random_(low, high, generator=ember.Generator().manual_seed(9))
    g.random_(low, high, generator=ember.Generator().manual_seed(9))
    np.testing.assert_array_equal(g.cpu().numpy(), c.numpy())


def test_generator_for_cuda_drives_cuda_ops_like_diffusers_pipelines():
    g = ember.Generator(device="cuda").manual_seed(11)
    assert g.device.type == "cuda"
    a = ember.randn(16, generator=g, device="cuda")
    b = ember.randn(16, generator=ember.Generator(device="cuda").manual_seed(11), device="cuda")
    np.testing.assert_array_equal(a.cpu().numpy(), b.cpu().numpy())
    assert ember.cuda.default_generators[0].device == ember.device("cuda:0")
