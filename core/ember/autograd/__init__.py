"""ember.autograd: reverse-mode automatic differentiation.

The graph is recorded by the compiled core (ember._C): every differentiable op makes a node
whose backward is written with ember ops, so higher-order gradients work. This package holds
the Python API over it: backward/grad, grad modes, autograd.Function, anomaly detection,
gradcheck/gradgradcheck and the functional API (jacobian, hessian, vjp, jvp).

Example:
    >>> import ember
    >>> x = ember.tensor([1.0, 2.0]).requires_grad_()
    >>> (x ** 2).sum().backward()
    >>> x.grad
    tensor([2., 4.])
"""
from .. import _C
from .._C import Tensor, Node
from .anomaly_mode import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .function import Function, FunctionCtx, once_differentiable
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from . import functional, function  # noqa: F401


def _seq(x):
    if x is None:
        return None
    if isinstance(x, Tensor):
        return [x]
    return list(x)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulates into the leaves' .grad the gradients of `tensors` (weighted by
    `grad_tensors`; may be omitted for single-element tensors).

    Args:
        tensors: a Tensor or a sequence of Tensors.
        grad_tensors: matching gradients (None entries for single-element tensors).
        retain_graph (bool): keep the graph's saved tensors for another backward
            (default: create_graph).
        create_graph (bool): record the backward itself, for higher-order gradients.
        inputs: if given, accumulate only into these tensors' .grad.
    """
    ts = _seq(tensors)
    gs = _seq(grad_tensors) if grad_tensors is not None else [None] * len(ts)
    if retain_graph is None:
        retain_graph = create_graph
    ins = _seq(inputs) if inputs is not None else []
    if inputs is not None and not ins:
        raise RuntimeError("[backward] inputs= must be a non-empty sequence of tensors")
    _C._run_backward(ts, gs, bool(retain_graph), bool(create_graph), ins, True, True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Gradients of `outputs` with respect to `inputs`, returned (not accumulated into .grad).

    Args:
        outputs: a Tensor or sequence of Tensors.
        inputs: a Tensor or sequence of Tensors to differentiate with respect to.
        grad_outputs: gradients for the outputs (None for single-element outputs).
        retain_graph (bool): keep the graph (default: create_graph).
        create_graph (bool): make the returned gradients differentiable.
        allow_unused (bool): return None for inputs not reached, instead of raising.
        materialize_grads (bool): return zeros instead of None for unreached inputs.

    Returns:
        tuple of Tensors (or None), one per input.

    Example:
        >>> import ember
        >>> x = ember.tensor(3.0).requires_grad_()
        >>> ember.autograd.grad(x ** 2, x)
        (tensor(6.),)
    """
    outs = _seq(outputs)
    ins = _seq(inputs)
    gs = _seq(grad_outputs) if grad_outputs is not None else [None] * len(outs)
    if len(gs) != len(outs):
        raise ValueError(f"[grad] got {len(gs)} grad_outputs for {len(outs)} outputs")
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    if materialize_grads and allow_unused is False:
        raise ValueError("[grad] materialize_grads=True needs allow_unused to be None or True")
    r = _C._run_backward(outs, gs, bool(retain_graph), bool(create_graph), ins, bool(allow_unused), False)
    if materialize_grads:
        import ember
        r = tuple(g if g is not None else ember.zeros_like(x) for g, x in zip(r, ins))
    return tuple(r)


__all__ = ["backward", "grad", "Function", "FunctionCtx", "once_differentiable", "no_grad", "enable_grad",
           "set_grad_enabled", "inference_mode", "is_grad_enabled", "detect_anomaly", "set_detect_anomaly",
           "gradcheck", "gradgradcheck", "GradcheckError", "functional", "Node"]
