"""A short tour of ember's core: tensors, views, broadcasting, type promotion, reductions,
linear algebra, indexing, sorting, random numbers, NumPy/DLPack interop, autograd and errors.

Run: python examples/tour.py
"""
import numpy as np

import ember


def main():
    x = ember.arange(12, dtype=ember.float32).reshape(3, 4)
    print("x =", x)
    print("x.T is a view:", x.T.shape, "contiguous?", x.T.is_contiguous())
    print("broadcast x + [10, 20, 30, 40] =", x + ember.tensor([10.0, 20.0, 30.0, 40.0]))
    print("int tensor * 2.5 promotes to", (ember.tensor([1, 2, 3]) * 2.5).dtype)
    print("gelu(x[0]) =", ember.gelu(x[0]))
    print("basic indexing x[1:, ::2] =", x[1:, ::2])

    y = x.clone()
    y[0] = -1.0
    print("after y[0] = -1:", y[0])
    print("in-place ops return the tensor itself:", y.mul_(2) is y)

    # reductions, linear algebra, advanced indexing, sorting
    print("row sums =", x.sum(dim=1), " column max =", x.max(dim=0).values)
    print("mean / std of x:", x.mean().item(), round(x.std().item(), 4))
    print("x @ x.T =", x @ x.T)
    print("einsum('ij,ij->i') =", ember.einsum("ij,ij->i", x, x))
    print("x[[0, 2]] =", x[ember.tensor([0, 2])])
    print("x[x > 6] =", x[x > 6])
    v, i = ember.sort(ember.tensor([3.0, 1.0, 2.0]), descending=True)
    print("sorted:", v, "indices:", i)
    print("topk(2) of x[1] =", ember.topk(x[1], 2).values)

    # random numbers: reproducible from a seed, whatever the thread count
    ember.manual_seed(0)
    a = ember.randn(2, 3)
    ember.manual_seed(0)
    print("randn is reproducible:", bool((a == ember.randn(2, 3)).all()))

    # NumPy shares memory both ways
    n = np.zeros(3, dtype=np.float32)
    t = ember.from_numpy(n)
    t += 1
    print("ember.from_numpy shares memory:", n)

    # autograd: record ops on tensors that require grad, then backward()
    w = ember.zeros(3).requires_grad_()
    ember.manual_seed(1)
    inputs = ember.randn(64, 3)
    targets = inputs @ ember.tensor([2.0, -1.0, 0.5]) + 0.1 * ember.randn(64)
    for step in range(100):
        loss = ((inputs @ w - targets) ** 2).mean()
        loss.backward()
        with ember.no_grad():
            w -= 0.1 * w.grad
        w.grad = None
    print("least squares by gradient descent: w =", w.detach(), "loss", round(loss.item(), 4))
    s = ember.tensor(2.0).requires_grad_()
    (d1,) = ember.autograd.grad(s ** 3, s, create_graph=True)
    (d2,) = ember.autograd.grad(d1, s)
    print("d/ds s^3 at 2 =", d1.item(), " second derivative =", d2.item())

    try:
        x + ember.ones(5)
    except ValueError as e:
        print("clear error:", e)
    try:
        x.view(5, -1)
    except ValueError as e:
        print("clear error:", e)


if __name__ == "__main__":
    main()
