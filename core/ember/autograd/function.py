"""``ember.autograd.Function``: ops defined in Python with their own backward."""
import functools

from .. import _C
from .._C import Tensor
from .grad_mode import no_grad


class FunctionCtx:
    """The `ctx` passed to forward and backward: saves tensors and flags between them."""

    def save_for_backward(self, *tensors):
        """Saves tensors (or None) for backward; read them back with ``ctx.saved_tensors``.
        Saved tensors are version-checked: modifying one in place before backward raises."""
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"[save_for_backward] expected Tensors or None, got {type(t).__name__}; "
                                "store other values as attributes of ctx")
        self._to_save = tensors

    @property
    def saved_tensors(self):
        """The tensors given to save_for_backward, as a tuple."""
        h = getattr(self, "_saved_handle", None)
        if h is not None:
            return h.unpack()
        return tuple(getattr(self, "_saved_plain", getattr(self, "_to_save", ())))

    def mark_dirty(self, *tensors):
        """Declares inputs that forward modified in place (they must be returned as outputs)."""
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors):
        """Declares outputs that have no gradient (indices, masks)."""
        self._non_diff = tensors

    def set_materialize_grads(self, value):
        """With True (default) backward receives zeros for outputs that got no gradient; with
        False it receives None."""
        self._materialize = bool(value)


class Function:
    """Base class for ops with a Python forward and backward.

    Subclass it with static ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)``
    (one gradient per forward argument, None for non-tensors or no gradient), then call
    ``MyOp.apply(*args)``.

    Example:
        >>> import ember
        >>> class Square(ember.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x * x
        ...     @staticmethod
        ...     def backward(ctx, g):
        ...         (x,) = ctx.saved_tensors
        ...         return 2 * x * g
        >>> x = ember.tensor([3.0]).requires_grad_()
        >>> Square.apply(x).sum().backward(); x.grad
        tensor([6.])
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("[Function] subclasses must define a static forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("[Function] subclasses must define a static backward(ctx, ...)")

    @classmethod
    def apply(cls, *args, **kwargs):
        if kwargs:
            raise TypeError(f"[{cls.__name__}.apply] pass arguments positionally (as PyTorch requires)")
        ctx = FunctionCtx()
        grad_on = _C.is_grad_enabled()
        ctx.needs_input_grad = tuple(bool(grad_on and isinstance(a, Tensor) and a.requires_grad) for a in args)
        with no_grad():
            outputs = cls.forward(ctx, *args)
        return _C._function_record(cls, ctx, tuple(args), outputs, tuple(getattr(ctx, "_to_save", ())),
                                   tuple(getattr(ctx, "_dirty", ())), tuple(getattr(ctx, "_non_diff", ())),
                                   getattr(ctx, "_materialize", True))


class _OnceDifferentiableError(Function):
    @staticmethod
    def forward(ctx, name, *xs):
        ctx.name = name
        return xs[0] if len(xs) == 1 else xs

    @staticmethod
    def backward(ctx, *gs):
        raise RuntimeError(f"[{ctx.name}] trying to differentiate twice a function that was marked with "
                           "@once_differentiable")


def once_differentiable(fn):
    """Decorator for a Function's backward that is not itself differentiable: it runs under
    no_grad, and differentiating its result again raises a clear error."""

    @functools.wraps(fn)
    def wrapper(ctx, *grads):
        with no_grad():
            out = fn(ctx, *grads)
        if not _C.is_grad_enabled() or not any(isinstance(g, Tensor) and g.requires_grad for g in grads):
            return out
        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        wrapped = []
        for o in outs:
            if isinstance(o, Tensor) and o.is_floating_point():
                # ties the result to the incoming gradients so that a second backward reaches the error
                grads_t = [g for g in grads if isinstance(g, Tensor) and g.requires_grad]
                r = _OnceDifferentiableError.apply(fn.__qualname__, o, *grads_t)
                wrapped.append(r[0] if isinstance(r, tuple) else r)
            else:
                wrapped.append(o)
        return wrapped[0] if single else tuple(wrapped)
    return wrapper
