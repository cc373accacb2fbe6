import numpy as np
import pytest

import ember


def test_arithmetic_matches_numpy():
    a = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    x = ember.tensor(a)
    np.testing.assert_allclose((x * 2 + 1).numpy(), a * 2 + 1, rtol=1e-6)
    np.testing.assert_allclose(x.exp().numpy(), np.exp(a.astype(np.float64)), rtol=2e-6)


def test_shape_error_is_clear():
    with pytest.raises(ValueError, match=r"\[add\] shapes cannot be broadcast"):
        ember.ones(2, 3) + ember.ones(4)
