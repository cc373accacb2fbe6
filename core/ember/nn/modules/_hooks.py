"""Module hook machinery: removable handles, load_state_dict's report types and the identity
autograd Functions that run full backward hooks (torch's BackwardHook)."""
import itertools
from collections import namedtuple

import ember
from ember import Tensor


class RemovableHandle:
    """Handle returned by the ``register_*_hook`` methods: ``handle.remove()`` unregisters
    the hook. Usable as a context manager (the hook is removed on exit).

    Args:
        hooks_dict (dict): the dict the hook was stored in.
        extra_dict (dict or list of dicts, optional): dicts holding per-hook flags, cleaned too.

    Example:
        >>> import ember
        >>> m = ember.nn.Identity()
        >>> h = m.register_forward_hook(lambda mod, inp, out: None); h.remove()
    """

    _next_id = itertools.count()

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict_ref = hooks_dict
        self.id = next(RemovableHandle._next_id)
        if extra_dict is None:
            extra_dict = []
        elif isinstance(extra_dict, dict):
            extra_dict = [extra_dict]
        self.extra_dict_ref = tuple(extra_dict)

    def remove(self):
        """Unregisters the hook (a no-op if already removed)."""
        for d in (self.hooks_dict_ref,) + self.extra_dict_ref:
            d.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *args):
        self.remove()


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What load_state_dict found: keys the module expected but did not get, and the reverse."""

    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return f"_IncompatibleKeys(missing_keys={self.missing_keys}, unexpected_keys={self.unexpected_keys})"

    __str__ = __repr__


class _IncompatibleKeysMismatched(namedtuple("IncompatibleKeys",
                                             ["missing_keys", "unexpected_keys", "mismatched_keys"])):
    """load_state_dict's report with ``skip_mismatched=True``: also the skipped entries as
    (key, expected_shape, got_shape)."""

    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys and not self.mismatched_keys:
            return "<All keys matched successfully>"
        return (f"_IncompatibleKeys(missing_keys={self.missing_keys}, unexpected_keys={self.unexpected_keys}, "
                f"mismatched_keys={self.mismatched_keys})")

    __str__ = __repr__


def _addindent(s, num_spaces):
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    first = lines.pop(0)
    return first + "\n" + "\n".join(num_spaces * " " + line for line in lines)


def _shape(t):
    return tuple(t.shape)


# ---- full backward hooks: identity autograd Functions around the forward (torch's BackwardHook) ----

class _HookState:
    """Per-call state shared by the input and output identity nodes of one module call."""

    def __init__(self, module, n_inputs, input_index):
        self.module = module
        self.n_inputs = n_inputs
        self.input_index = input_index   # positions of the args that went through the input node
        self.grad_outputs = None

    def pack(self, grads, index, n):
        out = [None] * n
        for i, g in zip(index, grads):
            out[i] = g
        return tuple(out)


class _OutputHookFn(ember.autograd.Function):
    @staticmethod
    def forward(ctx, state, *outs):
        ctx.state = state
        return tuple(o.view_as(o) for o in outs)

    @staticmethod
    def backward(ctx, *grads):
        st = ctx.state
        m = st.module
        grads = tuple(grads)
        for hook in list(m._backward_pre_hooks.values()):
            r = hook(m, grads)
            if r is not None:
                r = tuple(r) if isinstance(r, (tuple, list)) else (r,)
                if len(r) != len(grads):
                    raise RuntimeError(f"[{m._get_name()}] backward pre hook returned {len(r)} gradients: "
                                       f"expected {len(grads)} (one per output)")
                grads = r
        st.grad_outputs = grads
        if st.input_index is None:   # no input needs a gradient: the hooks run now
            grad_inputs = (None,) * st.n_inputs
            for hook in list(m._backward_hooks.values()):
                r = hook(m, grad_inputs, grads)
                if r is not None and not all(x is None for x in r):
                    raise RuntimeError(f"[{m._get_name()}] a backward hook for a module where no input requires "
                                       "gradient must return None (or None for every gradient)")
        return (None,) + grads


class _InputHookFn(ember.autograd.Function):
    @staticmethod
    def forward(ctx, state, *ins):
        ctx.state = state
        return tuple(i.view_as(i) for i in ins)

    @staticmethod
    def backward(ctx, *grads):
        st = ctx.state
        m = st.module
        grad_inputs = st.pack(grads, st.input_index, st.n_inputs)
        grad_outputs = st.grad_outputs if st.grad_outputs is not None else ()
        for hook in list(m._backward_hooks.values()):
            r = hook(m, grad_inputs, grad_outputs)
            if r is None:
                continue
            r = tuple(r) if isinstance(r, (tuple, list)) else (r,)
            if len(r) != len(grad_inputs):
                raise RuntimeError(f"[{m._get_name()}] backward hook returned {len(r)} gradients: "
                                   f"expected {len(grad_inputs)} (one per positional input)")
            grad_inputs = r
        return (None,) + tuple(grad_inputs[i] for i in st.input_index)


def _wrap_inputs(module, args):
    idx = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    state = _HookState(module, len(args), idx if idx and ember.is_grad_enabled() else None)
    if state.input_index is None:
        return args, state
    new = _InputHookFn.apply(state, *[args[i] for i in idx])
    args = list(args)
    for i, t in zip(idx, new):
        args[i] = t
    return tuple(args), state


def _wrap_outputs(state, result):
    if not ember.is_grad_enabled():
        return result
    single = isinstance(result, Tensor)
    outs = (result,) if single else (tuple(result) if isinstance(result, (tuple, list)) else None)
    if outs is None:
        return result
    idx = [i for i, o in enumerate(outs) if isinstance(o, Tensor) and o.requires_grad]
    if not idx:
        return result
    new = _OutputHookFn.apply(state, *[outs[i] for i in idx])
    outs = list(outs)
    for i, t in zip(idx, new):
        outs[i] = t
    if single:
        return outs[0]
    return type(result)(outs) if isinstance(result, list) else tuple(outs)
