"""A short tour of ember's core: tensors, views, broadcasting, type promotion and errors.

Run: python examples/tour.py
"""
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

    for name in ("sum", "matmul", "sort"):
        print(f"has ember.{name}:", hasattr(ember, name))
    if hasattr(ember, "sum"):
        print("row sums =", x.sum(dim=1))
    if hasattr(ember, "matmul"):
        print("x @ x.T =", x @ x.T)

    try:
        x + ember.ones(5)
    except ValueError as e:
        print("clear error:", e)


if __name__ == "__main__":
    main()
