"""More random ops on the GPU: exponential_, random_, randint, randperm and multinomial. Unlike
uniform_/normal_/bernoulli_ (tests/cuda/test_cuda_random.py), their values are not required to
equal the CPU's for the same seed; these tests ask for the right support and statistics
(seeded, with wide margins) and for reproducibility: the same seed gives the same tensor on
the GPU, and the next draw or another seed a different one. Skips without a GPU."""
import numpy as np
import pytest

import ember

pytestmark = pytest.mark.skipif(not ember.cuda.is_available(), reason="no CUDA device")


def _dt(name):
    return getattr(ember, name)


def to_np(t):
    assert t.is_cuda, "the result is not on the GPU"
    t = t.cpu()
    if t.dtype in (ember.float16, ember.bfloat16):
        t = t.float()
    return np.array(t.numpy())


def seeded(seed, make):
    ember.manual_seed(seed)
    return make()


def reproducible(make, seed=5):
    """make() under one seed twice gives the same values; the next call, or another seed, different ones."""
    a = to_np(seeded(seed, make))
    b = to_np(seeded(seed, make))
    np.testing.assert_array_equal(a, b)
    c = to_np(make())                 # the generator moved on
    assert not np.array_equal(b, c), "two draws in a row gave the same values"
    d = to_np(seeded(seed + 1, make))
    assert not np.array_equal(a, d), "two seeds gave the same values"
    e = to_np(seeded(seed, make))     # and ember.cuda.manual_seed seeds the GPU's generator alike
    ember.cuda.manual_seed(seed)
    np.testing.assert_array_equal(to_np(make()), e)


# ---- exponential_ -----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize("lambd", [0.5, 1.0, 4.0])
def test_exponential_statistics(dtype, lambd):
    ember.manual_seed(1234)
    x = ember.empty(1_000_000, dtype=_dt(dtype), device="cuda")
    r = x.exponential_(lambd)
    assert r.is_cuda and r.dtype == _dt(dtype)
    a = to_np(x).astype(np.float64)
    assert np.isfinite(a).all()
    if dtype in ("float32", "float64"):
        assert (a > 0).all(), "exponential_ gave a zero or a negative value"
    else:
        assert (a >= 0).all()        # a tiny value may round to 0 in 16 bits
    mean = 1.0 / lambd
    half = dtype in ("float16", "bfloat16")
    assert abs(a.mean() - mean) < (0.015 if half else 0.01) * mean
    assert abs(a.std() - mean) < 0.02 * mean
    assert abs((a > mean).mean() - np.exp(-1)) < (0.006 if half else 0.003)    # P(X > 1/lambd) = 1/e
    assert abs((a > 3 * mean).mean() - np.exp(-3)) < (0.003 if half else 0.0015)


def test_exponential_reproducible_and_views():
    reproducible(lambda: ember.empty(4099, device="cuda").exponential_(2.0))
    reproducible(lambda: ember.empty(1000, dtype=ember.float64, device="cuda").exponential_())
    t = ember.zeros(1000, 6, device="cuda").t()        # a transposed target
    t.exponential_(3.0)
    assert (to_np(t) > 0).all()
    big = ember.zeros(20000, device="cuda")
    big[::2].exponential_()                              # a stepped target: the gaps stay 0
    b = to_np(big)
    assert (b[1::2] == 0).all() and (b[::2] > 0).all()
    assert abs(b[::2].mean() - 1.0) < 0.05


# ---- random_ ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8", "float32", "float64"])
def test_random_from_to(dtype):
    lo, hi = (2, 10) if dtype == "uint8" else (-3, 5)
    n = 100000
    make = lambda: ember.empty(n, dtype=_dt(dtype), device="cuda").random_(lo, hi)  # noqa: E731
    x = seeded(11, make)
    assert x.dtype == _dt(dtype)
    a = to_np(x)
    assert (a == np.floor(a)).all() and a.min() == lo and a.max() == hi - 1
    counts = np.bincount((a - lo).astype(np.int64), minlength=hi - lo)
    assert len(counts) == hi - lo and counts.min() > 0
    exp = n / (hi - lo)
    assert ((counts - exp) ** 2 / exp).sum() < 40  # chi-square, 7 degrees of freedom
    reproducible(make)
    y = to_np(ember.empty(n, dtype=_dt(dtype), device="cuda").random_(7))  # random_(to): [0, to)
    assert set(np.unique(y).tolist()) == set(range(7))


def test_random_defaults():
    ember.manual_seed(12)
    x = to_np(ember.empty(100000, dtype=ember.uint8, device="cuda").random_())
    assert set(np.unique(x).tolist()) == set(range(256))
    x = to_np(ember.empty(100000, dtype=ember.int8, device="cuda").random_())
    assert x.min() == 0 and x.max() == 127
    x = to_np(ember.empty(100000, device="cuda").random_())
    assert x.min() >= 0 and x.max() <= 2 ** 24 and x.max() > 2 ** 23 and (x == np.floor(x)).all()
    x = to_np(ember.empty(10000, dtype=ember.int64, device="cuda").random_())
    assert x.min() >= 0 and x.max() > 2 ** 60
    x = to_np(ember.empty(10000, dtype=ember.bool, device="cuda").random_())
    assert 0.45 < x.mean() < 0.55
    t = ember.zeros(3000, dtype=ember.int64, device="cuda")
    t[1::3].random_(1, 4)                                # a stepped target: the gaps stay 0
    b = to_np(t)
    assert (b[0::3] == 0).all() and (b[2::3] == 0).all() and set(np.unique(b[1::3]).tolist()) == {1, 2, 3}


# ---- randint ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("low,high", [(0, 2), (-3, 5), (10, 17)])
def test_randint(low, high):
    n = 200000
    make = lambda: ember.randint(low, high, (n,), device="cuda")  # noqa: E731
    x = seeded(21, make)
    assert x.dtype == ember.int64 and tuple(x.shape) == (n,)
    a = to_np(x)
    assert a.min() == low and a.max() == high - 1
    counts = np.bincount(a - low, minlength=high - low)
    assert len(counts) == high - low
    exp = n / (high - low)
    assert ((counts - exp) ** 2 / exp).sum() < 40
    reproducible(make)


def test_randint_forms():
    ember.manual_seed(22)
    x = ember.randint(5, (1000,), device="cuda")            # randint(high, size)
    assert set(np.unique(to_np(x)).tolist()) == set(range(5))
    x = ember.randint(0, 100, (3, 40, 50), dtype=ember.int32, device="cuda")
    a = to_np(x)
    assert x.dtype == ember.int32 and a.shape == (3, 40, 50) and a.min() == 0 and a.max() == 99
    x = ember.randint(-4, 4, (10000,), dtype=ember.float32, device="cuda")
    a = to_np(x)
    assert x.dtype == ember.float32 and set(np.unique(a).tolist()) == set(range(-4, 4))
    big = to_np(ember.randint(0, 2 ** 62, (10000,), device="cuda"))
    assert big.min() >= 0 and big.max() > 2 ** 60 and big.max() < 2 ** 62
    assert len(np.unique(big)) > 9990                        # no small set of repeated values
    neg = to_np(ember.randint(-2 ** 40, -2 ** 39, (10000,), device="cuda"))
    assert neg.min() >= -2 ** 40 and neg.max() < -2 ** 39 and neg.std() > 2 ** 36


# ---- randperm ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [0, 1, 10, 1000, 100000])
def test_randperm(n):
    make = lambda: ember.randperm(n, device="cuda")  # noqa: E731
    p = seeded(31, make)
    assert p.dtype == ember.int64 and tuple(p.shape) == (n,)
    a = to_np(p)
    np.testing.assert_array_equal(np.sort(a), np.arange(n))
    np.testing.assert_array_equal(to_np(seeded(31, make)), a)
    if n >= 10:
        assert not np.array_equal(a, np.arange(n))
        reproducible(make)
    if n >= 1000:
        bound = 0.15 if n < 10000 else 0.02  # about 5 / sqrt(n): no drift of the values with the position
        assert abs(np.corrcoef(np.arange(n), a)[0, 1]) < bound


def test_randperm_dtype_and_uniform_positions():
    ember.manual_seed(32)
    p = ember.randperm(100, dtype=ember.float32, device="cuda")
    assert p.dtype == ember.float32 and sorted(to_np(p).tolist()) == list(range(100))
    p = ember.randperm(300, dtype=ember.int32, device="cuda")
    assert p.dtype == ember.int32 and sorted(to_np(p).tolist()) == list(range(300))
    # every position is uniform: position 0 (and 3) take each of 4 values about equally often
    draws = np.stack([to_np(ember.randperm(4, device="cuda")) for _ in range(800)])
    for pos in (0, 3):
        assert np.bincount(draws[:, pos], minlength=4).min() > 140


# ---- multinomial --------------------------------------------------------------------------------------------
def test_multinomial_with_replacement_1d():
    n = 200000
    w = ember.tensor([1.0, 0.0, 3.0, 6.0]).cuda()
    make = lambda: ember.multinomial(w, n, replacement=True)  # noqa: E731
    s = seeded(41, make)
    assert s.dtype == ember.int64 and tuple(s.shape) == (n,)
    freq = np.bincount(to_np(s), minlength=4) / n
    assert len(freq) == 4 and freq[1] == 0                   # a zero-weight category is never drawn
    np.testing.assert_allclose(freq, [0.1, 0.0, 0.3, 0.6], atol=0.005)
    reproducible(make)


def test_multinomial_with_replacement_2d():
    w = ember.tensor([[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 5.0, 5.0], [1.0, 0.0, 0.0, 0.0], [0.2, 0.3, 0.5, 0.0]],
                     dtype=ember.float64)
    ember.manual_seed(42)
    s = ember.multinomial(w.cuda(), 50000, True)
    assert tuple(s.shape) == (4, 50000)
    a = to_np(s)
    p = to_np(w.cuda() / w.cuda().sum(1, keepdim=True))
    for row in range(4):
        freq = np.bincount(a[row], minlength=4) / 50000
        assert len(freq) == 4 and (freq[p[row] == 0] == 0).all()
        np.testing.assert_allclose(freq, p[row], atol=0.01)


def test_multinomial_many_categories():
    rng = np.random.default_rng(43)
    w = rng.random(1000)
    w[rng.random(1000) < 0.2] = 0
    ember.manual_seed(43)
    s = to_np(ember.multinomial(ember.from_numpy(w).float().cuda(), 500000, replacement=True))
    freq = np.bincount(s, minlength=1000) / 500000
    assert len(freq) == 1000 and (freq[w == 0] == 0).all()
    np.testing.assert_allclose(freq, w / w.sum(), atol=5e-4)


def test_multinomial_without_replacement():
    rng = np.random.default_rng(51)
    w = rng.random((200, 30)).astype(np.float32)
    w[:, :5] = 0
    wg = ember.from_numpy(w).cuda()
    make = lambda: ember.multinomial(wg, 25)  # noqa: E731
    s = to_np(seeded(51, make))
    assert s.shape == (200, 25)
    for row in s:   # 25 draws from 25 non-zero categories: every one of them, once
        np.testing.assert_array_equal(np.sort(row), np.arange(5, 30))
    assert not (s == np.arange(5, 30)).all()                # and not in a fixed order
    reproducible(make)
    s = to_np(ember.multinomial(wg, 10))
    assert s.shape == (200, 10) and s.min() >= 5
    assert all(len(set(row.tolist())) == 10 for row in s)
    s = to_np(ember.multinomial(ember.tensor([0.0, 1.0, 0.0, 2.0]).cuda(), 2))
    assert sorted(s.tolist()) == [1, 3]


def test_multinomial_without_replacement_follows_the_weights():
    ember.manual_seed(52)
    w = ember.tensor([1.0, 2.0, 7.0]).cuda().expand(50000, 3)   # a non-contiguous (expanded) input
    s = to_np(ember.multinomial(w, 2))
    assert (s[:, 0] != s[:, 1]).all()
    np.testing.assert_allclose(np.bincount(s[:, 0], minlength=3) / 50000, [0.1, 0.2, 0.7], atol=0.012)
    # the second draw is from what is left: P(j second) = sum_i P(i first) w_j / (10 - w_i)
    second = [0.2 / 8 + 0.7 / 3, 0.1 * 2 / 9 + 0.7 * 2 / 3, 0.1 * 7 / 9 + 0.2 * 7 / 8]
    np.testing.assert_allclose(np.bincount(s[:, 1], minlength=3) / 50000, second, atol=0.012)
    one = to_np(ember.multinomial(ember.tensor([[1.0, 3.0]], dtype=ember.float64).cuda().expand(40000, 2), 1))
    assert one.shape == (40000, 1) and abs(one.mean() - 0.75) < 0.01


def test_explicit_generator():
    """A seeded generator passed as generator= gives the same values twice."""
    makes = [lambda g: ember.empty(1000, device="cuda").exponential_(1.5, generator=g),
             lambda g: ember.empty(1000, dtype=ember.int64, device="cuda").random_(0, 50, generator=g),
             lambda g: ember.randint(0, 50, (1000,), generator=g, device="cuda"),
             lambda g: ember.randperm(1000, generator=g, device="cuda"),
             lambda g: ember.multinomial(ember.ones(4, 50).cuda(), 20, generator=g)]
    for make in makes:
        a = to_np(make(ember.Generator().manual_seed(9)))
        b = to_np(make(ember.Generator().manual_seed(9)))
        np.testing.assert_array_equal(a, b)
        g = ember.Generator().manual_seed(9)
        make(g)
        assert not np.array_equal(to_np(make(g)), a)
