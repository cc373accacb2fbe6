"""Random ops: Philox stream, seeding and state, reproducibility across thread counts,
distribution checks with loose (but failing-when-wrong) statistical bounds, errors."""
import math

import numpy as np
import pytest

import ember

FLOATS = [ember.float32, ember.float64, ember.float16, ember.bfloat16]


def vals(t):
    return t.double().numpy() if t.dtype.is_floating_point else t.numpy()


def ks_stat(x, cdf):
    x = np.sort(np.asarray(x, dtype=np.float64))
    n = len(x)
    c = cdf(x)
    return max(np.max(np.arange(1, n + 1) / n - c), np.max(c - np.arange(n) / n))


norm_cdf = np.vectorize(lambda v: 0.5 * (1 + math.erf(v / math.sqrt(2))))


@pytest.fixture
def threads():
    n = ember.get_num_threads()
    yield
    ember.set_num_threads(n)


# ---- the generator ---------------------------------------------------------------------

def test_philox_known_answers():
    # Random123's known-answer tests for philox4x32-10
    assert ember._C._philox4x32([0, 0, 0, 0], [0, 0]) == [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]
    assert ember._C._philox4x32([0xFFFFFFFF] * 4, [0xFFFFFFFF] * 2) == [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]
    assert ember._C._philox4x32([0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [0xA4093822, 0x299F31D0]) == \
        [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1]


def test_manual_seed_reproducible():
    g = ember.manual_seed(123)
    assert isinstance(g, ember.Generator) and g is ember.default_generator
    assert ember.initial_seed() == 123
    a, b, c = ember.rand(100), ember.randn(50), ember.randint(0, 10, (30,))
    ember.manual_seed(123)
    np.testing.assert_array_equal(a.numpy(), ember.rand(100).numpy())
    np.testing.assert_array_equal(b.numpy(), ember.randn(50).numpy())
    np.testing.assert_array_equal(c.numpy(), ember.randint(0, 10, (30,)).numpy())
    ember.manual_seed(124)
    assert not np.array_equal(a.numpy(), ember.rand(100).numpy())


def test_successive_draws_differ():
    ember.manual_seed(0)
    assert not np.array_equal(ember.rand(64).numpy(), ember.rand(64).numpy())


def test_values_depend_on_element_index_only():
    # a shorter draw is a prefix of a longer one from the same state: element i uses block i // E
    for fn in [lambda n: ember.rand(n), lambda n: ember.randn(n), lambda n: ember.rand(n, dtype=ember.float64),
               lambda n: ember.randn(n, dtype=ember.float64), lambda n: ember.randint(0, 1000, (n,)),
               lambda n: ember.bernoulli(ember.full((n,), 0.5))]:
        ember.manual_seed(7)
        short = fn(13).numpy()
        ember.manual_seed(7)
        long = fn(100).numpy()
        np.testing.assert_array_equal(short, long[:13])


def test_seed_and_initial_seed():
    s = ember.seed()
    assert isinstance(s, int) and 0 <= s < 2 ** 64
    assert ember.initial_seed() == s
    ember.manual_seed(-1)
    assert ember.initial_seed() == 2 ** 64 - 1
    ember.manual_seed(2 ** 64 - 1)
    assert ember.initial_seed() == 2 ** 64 - 1


def test_rng_state_roundtrip():
    ember.manual_seed(5)
    ember.rand(3)
    state = ember.get_rng_state()
    assert state.dtype == ember.uint8 and state.shape == (16,)
    a = ember.randn(20)
    ember.rand(7)
    ember.set_rng_state(state)
    np.testing.assert_array_equal(a.numpy(), ember.randn(20).numpy())


def test_generator_objects():
    g = ember.Generator()
    assert g.initial_seed() == 67280421310721
    assert g.manual_seed(42) is g
    ember.manual_seed(0)
    d0 = ember.rand(5).numpy()
    a = ember.rand(10, generator=g)
    ember.manual_seed(0)
    np.testing.assert_array_equal(d0, ember.rand(5).numpy())  # g did not touch the default generator
    g2 = ember.Generator().manual_seed(42)
    np.testing.assert_array_equal(a.numpy(), ember.rand(10, generator=g2).numpy())
    st = g.get_state()
    b = ember.randn(4, generator=g)
    assert g.set_state(st) is g
    np.testing.assert_array_equal(b.numpy(), ember.randn(4, generator=g).numpy())
    s = g.seed()
    assert g.initial_seed() == s
    assert g.device == ember.device("cpu")


@pytest.mark.parametrize("name", ["rand", "randn", "randint", "bernoulli", "multinomial", "randperm", "normal",
                                  "exponential", "uniform_noncontig"])
def test_same_values_for_any_thread_count(name, threads):
    n = 1 << 18

    def draw():
        g = ember.Generator().manual_seed(99)
        if name == "rand":
            return ember.rand(n, generator=g)
        if name == "randn":
            return ember.randn(n, generator=g)
        if name == "randint":
            return ember.randint(-5, 5, (n,), generator=g)
        if name == "bernoulli":
            return ember.bernoulli(ember.full((n,), 0.3), generator=g)
        if name == "multinomial":
            return ember.multinomial(ember.ones(512, 20), 10, generator=g)
        if name == "randperm":
            return ember.randperm(5000, generator=g)
        if name == "normal":
            return ember.normal(ember.zeros(n), ember.ones(n), generator=g)
        if name == "exponential":
            return ember.empty(n, dtype=ember.float64).exponential_(generator=g)
        return ember.zeros(512, 512).t().uniform_(generator=g)

    ember.set_num_threads(1)
    a = draw().numpy()
    ember.set_num_threads(2)
    b = draw().numpy()
    np.testing.assert_array_equal(a, b)


# ---- distributions ---------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
def test_rand_uniform(dtype):
    g = ember.Generator().manual_seed(1)
    t = ember.rand(200000, generator=g, dtype=dtype)
    assert t.dtype == dtype and t.shape == (200000,)
    x = vals(t)
    assert x.min() >= 0 and x.max() < 1
    n = len(x)
    assert abs(x.mean() - 0.5) < 5 * math.sqrt(1 / 12 / n)
    assert abs(x.var() - 1 / 12) < 0.002
    bound = 1.63 / math.sqrt(n) + (2 ** -8 if dtype == ember.bfloat16 else 2 ** -11 if dtype == ember.float16 else 0)
    assert ks_stat(x, lambda v: np.clip(v, 0, 1)) < bound


@pytest.mark.parametrize("dtype", FLOATS)
def test_randn_normal(dtype):
    g = ember.Generator().manual_seed(2)
    x = vals(ember.randn(100000, generator=g, dtype=dtype))
    n = len(x)
    assert abs(x.mean()) < 5 / math.sqrt(n)
    assert abs(x.var() - 1) < 0.03
    assert abs(np.mean(x ** 3)) < 0.05 and abs(np.mean(x ** 4) - 3) < 0.15  # skew, kurtosis
    bound = 1.63 / math.sqrt(n) + (0.02 if dtype == ember.bfloat16 else 0.003 if dtype == ember.float16 else 0)
    assert ks_stat(x[:20000], norm_cdf) < 1.63 / math.sqrt(20000) + bound
    assert np.isfinite(x).all()


def test_uniform_and_normal_in_place():
    g = ember.Generator().manual_seed(3)
    t = ember.empty(50000, dtype=ember.float64)
    assert t.uniform_(-2, 3, generator=g)._is_same(t)
    x = t.numpy()
    assert x.min() >= -2 and x.max() < 3 and abs(x.mean() - 0.5) < 0.05
    t.normal_(10, 2, generator=g)
    x = t.numpy()
    assert abs(x.mean() - 10) < 0.05 and abs(x.std() - 2) < 0.05
    e = ember.empty(50000).exponential_(4, generator=g).double().numpy()
    assert e.min() >= 0 and abs(e.mean() - 0.25) < 0.01 and abs(e.std() - 0.25) < 0.01


def test_non_contiguous_targets_use_logical_order():
    g = ember.Generator().manual_seed(4)
    t = ember.zeros(4, 6).t()  # (6, 4), column-major
    t.uniform_(generator=g)
    g.manual_seed(4)
    np.testing.assert_array_equal(t.numpy(), ember.rand(6, 4, generator=g).numpy())
    big = ember.zeros(10)
    big[::2].normal_(generator=g)
    assert (big.numpy()[1::2] == 0).all() and (big.numpy()[::2] != 0).all()


def test_normal_overloads():
    g = ember.Generator().manual_seed(5)
    mean = ember.arange(4, dtype=ember.float32) * 100
    r = ember.normal(mean, 1.0, generator=g)
    assert r.shape == (4,) and np.allclose(r.numpy(), mean.numpy(), atol=6)
    r = ember.normal(0.0, ember.full((2, 3), 0.001), generator=g)
    assert r.shape == (2, 3) and np.abs(r.numpy()).max() < 0.01
    r = ember.normal(mean.unsqueeze(1), ember.zeros(1, 5), generator=g)
    assert r.shape == (4, 5)
    np.testing.assert_array_equal(r.numpy(), np.repeat(mean.numpy()[:, None], 5, 1))
    r = ember.normal(2.0, 3.0, (20000,), generator=g)
    assert r.dtype == ember.float32 and abs(r.numpy().mean() - 2) < 0.1 and abs(r.numpy().std() - 3) < 0.1
    r = ember.normal(2.0, 3.0, size=(3,), dtype=ember.float64)
    assert r.dtype == ember.float64
    out = ember.empty(4)
    assert ember.normal(mean, 1.0, out=out)._is_same(out)


@pytest.mark.parametrize("dtype", [ember.int64, ember.int32, ember.int16, ember.uint8, ember.float32, ember.float64])
def test_randint(dtype):
    g = ember.Generator().manual_seed(6)
    t = ember.randint(3, 10, (70000,), generator=g, dtype=dtype)
    assert t.dtype == dtype
    x = t.numpy()
    counts = np.bincount(x.astype(np.int64) - 3, minlength=7)
    assert len(counts) == 7 and counts.min() > 0
    chi2 = ((counts - 10000) ** 2 / 10000).sum()
    assert chi2 < 30  # 6 degrees of freedom: p ~ 4e-5
    t = ember.randint(5, (1000,), generator=g)
    assert t.dtype == ember.int64 and t.numpy().min() >= 0 and t.numpy().max() <= 4
    t = ember.randint(low=-3, high=-1, size=(100,), generator=g)
    assert set(t.numpy().tolist()) == {-3, -2}
    big = ember.randint(0, 2 ** 62, (1000,), generator=g).numpy()
    assert big.max() > 2 ** 60 and big.min() >= 0
    like = ember.randint_like(ember.zeros(3, 2), 4)
    assert like.shape == (3, 2) and like.dtype == ember.float32 and like.numpy().max() <= 3
    like = ember.randint_like(ember.zeros(50, dtype=ember.int64), 10, 12)
    assert set(like.numpy().tolist()) <= {10, 11}


def test_random_():
    g = ember.Generator().manual_seed(7)
    x = ember.empty(10000, dtype=ember.uint8).random_(generator=g).numpy()
    assert x.min() == 0 and x.max() == 255
    x = ember.empty(10000, dtype=ember.int8).random_(generator=g).numpy()
    assert x.min() >= 0 and x.max() == 127
    x = ember.empty(10000).random_(generator=g).numpy()
    assert x.min() >= 0 and x.max() <= 2 ** 24 and x.max() > 2 ** 23 and (x == np.floor(x)).all()
    x = ember.empty(1000, dtype=ember.int64).random_(10, generator=g).numpy()
    assert x.min() == 0 and x.max() == 9
    x = ember.empty(1000, dtype=ember.int64).random_(-4, 4, generator=g).numpy()
    assert x.min() == -4 and x.max() == 3
    x = ember.empty(1000, dtype=ember.bool).random_(generator=g).numpy()
    assert x.any() and not x.all()
    x = ember.empty(1000, dtype=ember.int64).random_(generator=g).numpy()
    assert x.min() >= 0 and x.max() > 2 ** 60


def test_randperm():
    g = ember.Generator().manual_seed(8)
    for n in [0, 1, 2, 10, 1000]:
        p = ember.randperm(n, generator=g)
        assert p.dtype == ember.int64 and p.shape == (n,)
        np.testing.assert_array_equal(np.sort(p.numpy()), np.arange(n))
    assert not np.array_equal(ember.randperm(1000, generator=g).numpy(), np.arange(1000))
    p = ember.randperm(100, dtype=ember.float32, generator=g)
    assert p.dtype == ember.float32 and sorted(p.numpy().tolist()) == list(range(100))
    # every position is uniform: position 0 takes each of 4 values about equally often
    firsts = np.array([ember.randperm(4, generator=g)[0].item() for _ in range(800)])
    assert np.bincount(firsts, minlength=4).min() > 140


def test_bernoulli():
    g = ember.Generator().manual_seed(9)
    x = ember.bernoulli(ember.full((100000,), 0.3), generator=g)
    assert x.dtype == ember.float32
    assert set(np.unique(x.numpy()).tolist()) == {0.0, 1.0}
    assert abs(x.numpy().mean() - 0.3) < 0.01
    p = ember.tensor([0.0, 1.0, 0.0, 1.0] * 100, dtype=ember.float64)
    np.testing.assert_array_equal(ember.bernoulli(p, generator=g).numpy(), p.numpy())
    t = ember.zeros(3, 1000, dtype=ember.int64)
    t.bernoulli_(ember.tensor([[0.0], [0.5], [1.0]]), generator=g)
    assert t.numpy()[0].sum() == 0 and t.numpy()[2].sum() == 1000 and 400 < t.numpy()[1].sum() < 600
    b = ember.empty(5000, dtype=ember.bool).bernoulli_(0.9, generator=g).numpy()
    assert b.dtype == np.bool_ and 0.87 < b.mean() < 0.93
    r = ember.bernoulli(ember.zeros(5000), 0.25, generator=g)
    assert abs(r.numpy().mean() - 0.25) < 0.03
    r = ember.ones(5000).bernoulli(generator=g)
    assert r.numpy().all()


def test_multinomial_with_replacement():
    g = ember.Generator().manual_seed(10)
    w = ember.tensor([1.0, 0.0, 3.0, 6.0])
    s = ember.multinomial(w, 50000, replacement=True, generator=g)
    assert s.dtype == ember.int64 and s.shape == (50000,)
    freq = np.bincount(s.numpy(), minlength=4) / 50000
    np.testing.assert_allclose(freq, [0.1, 0.0, 0.3, 0.6], atol=0.01)
    assert freq[1] == 0
    s2 = ember.multinomial(ember.tensor([[1.0, 0.0], [0.0, 1.0]]), 100, True, generator=g)
    assert s2.shape == (2, 100)
    assert (s2.numpy()[0] == 0).all() and (s2.numpy()[1] == 1).all()


def test_multinomial_without_replacement():
    g = ember.Generator().manual_seed(11)
    w = ember.rand(200, 30, generator=g)
    w[:, :5] = 0
    s = ember.multinomial(w, 25, generator=g).numpy()
    assert s.shape == (200, 25)
    for row in s:
        assert len(set(row.tolist())) == 25 and row.min() >= 5
    # first draw follows the weights
    firsts = ember.multinomial(ember.tensor([1.0, 2.0, 7.0]).expand(20000, 3), 2, generator=g).numpy()[:, 0]
    np.testing.assert_allclose(np.bincount(firsts, minlength=3) / 20000, [0.1, 0.2, 0.7], atol=0.015)
    assert (ember.multinomial(ember.tensor([0.0, 1.0, 0.0, 2.0]), 2, generator=g).numpy() % 2 == 1).all()


# ---- errors ----------------------------------------------------------------------------

def test_errors():
    with pytest.raises(TypeError, match=r"\[rand\] unsupported dtype: expected a floating point dtype, got ember.int64"):
        ember.rand(3, dtype=ember.int64)
    with pytest.raises(TypeError, match=r"\[uniform_\] unsupported dtype"):
        ember.zeros(3, dtype=ember.int64).uniform_()
    with pytest.raises(ValueError, match=r"\[uniform_\] expected a \[from, to\) range with from <= to, got from=2, to=1"):
        ember.zeros(3).uniform_(2, 1)
    with pytest.raises(ValueError, match=r"\[normal_\] expected std >= 0, got -1"):
        ember.zeros(3).normal_(0, -1)
    with pytest.raises(ValueError, match=r"\[normal\] expected all elements of std >= 0"):
        ember.normal(ember.zeros(2), ember.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"\[normal_\] expected std >= 0"):
        ember.normal(0.0, -1.0, (3,))
    with pytest.raises(TypeError, match=r"\[normal\] with a number mean and std, expected a size"):
        ember.normal(0.0, 1.0)
    with pytest.raises(ValueError, match=r"\[randint\] expected low < high, got low=5, high=3"):
        ember.randint(5, 3, (3,))
    with pytest.raises(ValueError, match=r"\[random_\] expected 'from' to be less than 'to'"):
        ember.zeros(3).random_(5, 3)
    with pytest.raises(ValueError, match=r"\[random_\] the range \[0, 300\) is out of bounds for ember.uint8"):
        ember.zeros(3, dtype=ember.uint8).random_(0, 300)
    with pytest.raises(ValueError, match=r"\[randperm\] expected a non-negative n, got -1"):
        ember.randperm(-1)
    with pytest.raises(ValueError, match=r"\[exponential_\] expected lambd > 0, got -1"):
        ember.zeros(3).exponential_(-1)
    with pytest.raises(ValueError, match=r"\[bernoulli_\] expected p in \[0, 1\], got p=1.5"):
        ember.zeros(3).bernoulli_(1.5)
    with pytest.raises(ValueError, match=r"\[bernoulli\] expected all probabilities in \[0, 1\]"):
        ember.bernoulli(ember.tensor([0.5, 1.5]))
    with pytest.raises(ValueError, match=r"cannot write into an expanded tensor"):
        ember.zeros(1).expand(4).uniform_()
    with pytest.raises(TypeError, match=r"expected an ember.Generator for generator, got int"):
        ember.rand(3, generator=1)
    with pytest.raises(ValueError, match=r"\[manual_seed\] seed must be in \[-2\*\*63, 2\*\*64\)"):
        ember.manual_seed(2 ** 64)
    with pytest.raises(TypeError, match=r"\[manual_seed\] expected an int seed, got float"):
        ember.manual_seed(1.5)
    with pytest.raises(ValueError, match=r"\[set_rng_state\] expected a state of 16 bytes"):
        ember.set_rng_state(ember.zeros(3, dtype=ember.uint8))
    with pytest.raises(TypeError, match=r"\[set_rng_state\] expected a uint8 state tensor, got ember.float32"):
        ember.set_rng_state(ember.zeros(16))


def test_multinomial_errors():
    with pytest.raises(ValueError, match=r"\[multinomial\] probability tensor contains either inf, nan or element < 0"):
        ember.multinomial(ember.tensor([-1.0, 1.0, 0.0]), 1)
    with pytest.raises(ValueError, match=r"probability tensor contains either inf, nan"):
        ember.multinomial(ember.tensor([float("nan"), 1.0]), 1)
    with pytest.raises(ValueError, match=r"\[multinomial\] invalid multinomial distribution \(sum of probabilities <= 0\)"):
        ember.multinomial(ember.zeros(3), 1)
    with pytest.raises(ValueError, match=r"\[multinomial\] cannot sample n=4 > 3 categories without replacement"):
        ember.multinomial(ember.ones(3), 4)
    with pytest.raises(ValueError, match=r"\[multinomial\] expected a positive number of samples, got 0"):
        ember.multinomial(ember.ones(3), 0)
    with pytest.raises(ValueError, match=r"without replacement, expected at least n=2 categories with non-zero"):
        ember.multinomial(ember.tensor([0.0, 1.0, 0.0]), 2)
    with pytest.raises(ValueError, match=r"\[multinomial\] expected a 1-D or 2-D probability tensor, got 3-D"):
        ember.multinomial(ember.ones(2, 2, 2), 1)
    with pytest.raises(TypeError, match=r"\[multinomial\] expected a floating point probability tensor"):
        ember.multinomial(ember.ones(3, dtype=ember.int64), 1)


def test_zero_size_and_defaults():
    assert ember.rand(0).shape == (0,)
    assert ember.randn(2, 0, 3).shape == (2, 0, 3)
    assert ember.rand(()).shape == ()
    assert ember.rand(2, 3).dtype == ember.float32
    assert ember.rand((2, 3)).shape == (2, 3)
    assert ember.rand_like(ember.zeros(2, dtype=ember.float64)).dtype == ember.float64
    assert ember.randn_like(ember.zeros(4, 5)).shape == (4, 5)
    out = ember.empty(3, 2)
    assert ember.rand(3, 2, out=out)._is_same(out)


def test_generator_device_is_recorded():
    import ember
    assert ember.Generator().device == ember.device("cpu")
    assert ember.Generator(device="cpu").device.type == "cpu"
    if not ember.cuda.is_available():
        with pytest.raises((RuntimeError, ValueError)):
            ember.Generator(device="cuda")  # no GPU to make it for
