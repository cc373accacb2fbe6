"""CPU autocast against torch.autocast("cpu", bfloat16): output dtypes of listed ops and values."""
import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as F

CASES = {
    "matmul": (lambda L, F_, a, b, w: L.matmul(a, b), True),
    "addmm": (lambda L, F_, a, b, w: L.addmm(L.zeros(4, 3), a, b), True),
    "linear": (lambda L, F_, a, b, w: F_.linear(a, b.t(), b[0]), True),
    "conv2d": (lambda L, F_, a, b, w: F_.conv2d(a.reshape(1, 2, 4, 4), w), True),
    "softmax": (lambda L, F_, a, b, w: F_.softmax(a, -1), False),
    "add": (lambda L, F_, a, b, w: a + 1, False),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_autocast_dtypes_and_values_match_torch(name):
    fn, lowered = CASES[name]
    rng = np.random.default_rng(0)
    a, b, w = rng.standard_normal((4, 8)).astype(np.float32), rng.standard_normal((8, 3)).astype(np.float32), \
        rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    with ember.autocast("cpu", dtype=ember.bfloat16):
        ye = fn(ember, F, *(ember.from_numpy(v) for v in (a, b, w)))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        yt = fn(torch, torch.nn.functional, *(torch.from_numpy(v) for v in (a, b, w)))
    assert str(ye.dtype).split(".")[-1] == str(yt.dtype).split(".")[-1]
    assert (ye.dtype == ember.bfloat16) == lowered
    np.testing.assert_allclose(ye.float().numpy(), yt.float().numpy(), rtol=2e-2, atol=2e-2)


def test_cross_entropy_is_float32_in_both():
    x = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    t = np.array([0, 1, 2, 3, 0])
    with ember.autocast("cpu"):
        le = F.cross_entropy(F.linear(ember.from_numpy(x), ember.eye(4)), ember.from_numpy(t))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        lt = torch.nn.functional.cross_entropy(torch.nn.functional.linear(torch.from_numpy(x), torch.eye(4)),
                                               torch.from_numpy(t))
    assert le.dtype == ember.float32 and lt.dtype == torch.float32
    assert abs(le.item() - lt.item()) < 1e-5
