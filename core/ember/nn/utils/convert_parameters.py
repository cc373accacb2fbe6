"""Flattening parameters into one vector and back."""
import ember
from ember import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters):
    """Concatenates the parameters, flattened, into one vector.

    Args:
        parameters (iterable of Tensors): e.g. ``model.parameters()``.

    Returns:
        Tensor: (total numel,), differentiable with respect to the parameters.

    Example:
        >>> import ember
        >>> ember.nn.utils.parameters_to_vector(ember.nn.Linear(3, 2).parameters()).shape
        (8,)
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return ember.cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Copies consecutive slices of vec into the parameters (in place, no gradient recorded).

    Args:
        vec (Tensor): 1-d, with as many elements as the parameters together.
        parameters (iterable of Tensors): filled in order.

    Returns:
        None

    Example:
        >>> import ember
        >>> m = ember.nn.Linear(3, 2)
        >>> ember.nn.utils.vector_to_parameters(ember.zeros(8), m.parameters()); m.bias.tolist()
        [0.0, 0.0]
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"[vector_to_parameters] expected vec to be a Tensor, but got: {type(vec).__name__}")
    if vec.ndim != 1:
        raise ValueError(f"[vector_to_parameters] vec must be 1-d: got shape {tuple(vec.shape)}")
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    parameters = list(parameters)
    total = sum(p.numel() for p in parameters)
    if total != vec.numel():
        raise ValueError(f"[vector_to_parameters] vec must have as many elements as the parameters: expected "
                         f"{total}, got {vec.numel()}")
    pointer = 0
    with ember.no_grad():
        for p in parameters:
            n = p.numel()
            p.detach().copy_(vec[pointer:pointer + n].reshape(tuple(p.shape)))
            pointer += n
