"""Linear maps, distances and padding composed from ember ops."""
import ember
from ember import Tensor

__all__ = ["linear", "bilinear", "normalize", "cosine_similarity", "pairwise_distance", "pad"]


def linear(input, weight, bias=None):
    """y = x W^T + b.

    Args:
        input (Tensor): (*, in_features).
        weight (Tensor): (out_features, in_features) (or (in_features,) for a scalar map).
        bias (Tensor, optional): (out_features,).

    Returns:
        Tensor: (*, out_features).

    Example:
        >>> import ember, ember.nn.functional as F
        >>> F.linear(ember.ones(2, 3), ember.ones(4, 3), ember.zeros(4)).shape
        (2, 4)
    """
    if input.ndim == 2 and bias is not None and weight.ndim == 2:
        return ember.addmm(bias, input, weight.t())
    out = ember.matmul(input, weight.t() if weight.ndim == 2 else weight)
    return out if bias is None else out + bias


def bilinear(input1, input2, weight, bias=None):
    """y_k = x1^T A_k x2 + b_k.

    Args:
        input1 (Tensor): (*, in1_features).
        input2 (Tensor): (*, in2_features), same leading dims as input1.
        weight (Tensor): (out_features, in1_features, in2_features).
        bias (Tensor, optional): (out_features,).

    Returns:
        Tensor: (*, out_features).

    Example:
        >>> import ember, ember.nn.functional as F
        >>> F.bilinear(ember.ones(5, 2), ember.ones(5, 3), ember.ones(4, 2, 3)).shape
        (5, 4)
    """
    if weight.ndim != 3:
        raise ValueError(f"[bilinear] weight must be (out, in1, in2): got shape {tuple(weight.shape)}")
    out_f, in1, in2 = weight.shape
    if input1.shape[-1] != in1 or input2.shape[-1] != in2 or tuple(input1.shape[:-1]) != tuple(input2.shape[:-1]):
        raise ValueError(f"[bilinear] inputs must be (*, {in1}) and (*, {in2}) with the same leading dims: got "
                         f"{tuple(input1.shape)} and {tuple(input2.shape)}")
    lead = tuple(input1.shape[:-1])
    x1 = input1.reshape(-1, in1)
    x2 = input2.reshape(-1, in2)
    t = ember.matmul(x1, weight.permute(1, 0, 2).reshape(in1, out_f * in2)).reshape(-1, out_f, in2)
    out = (t * x2.unsqueeze(1)).sum(-1)
    if bias is not None:
        out = out + bias
    return out.reshape(lead + (out_f,))


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """x / max(||x||_p, eps) along dim.

    Args:
        input (Tensor): any shape.
        p (float): the norm degree (default: 2).
        dim (int): the dim normalised (default: 1).
        eps (float): lower bound of the norm (default: 1e-12).
        out (Tensor, optional): written with the result.

    Returns:
        Tensor of input's shape.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> F.normalize(ember.tensor([[3.0, 4.0]])).tolist()
        [[0.6000000238418579, 0.800000011920929]]
    """
    denom = ember.norm(input, p, dim, keepdim=True).clamp(min=eps).expand_as(input)
    r = input / denom
    if out is not None:
        out.copy_(r)
        return out
    return r


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Cosine of the angle between x1 and x2 along dim:
    x1 . x2 / (max(||x1||, eps) * max(||x2||, eps)) (inputs broadcast).

    Args:
        x1 (Tensor): any shape.
        x2 (Tensor): broadcastable with x1.
        dim (int): the dim of the vectors (default: 1).
        eps (float): lower bound of each norm (default: 1e-8).

    Returns:
        Tensor: the broadcast shape without dim.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> round(F.cosine_similarity(ember.tensor([[1.0, 0.0]]), ember.tensor([[1.0, 1.0]])).item(), 4)
        0.7071
    """
    x1, x2 = ember.broadcast_tensors(x1, x2)
    n1 = ember.norm(x1, 2, dim, keepdim=True).clamp(min=eps)
    n2 = ember.norm(x2, 2, dim, keepdim=True).clamp(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p along the last dim (inputs broadcast).

    Args:
        x1 (Tensor): (N, D) or (D,).
        x2 (Tensor): broadcastable with x1.
        p (float): the norm degree (default: 2).
        eps (float): added to the difference, avoids a zero norm's undefined gradient
            (default: 1e-6).
        keepdim (bool): keep the reduced dim (default: False).

    Returns:
        Tensor: (N,) or () (or with the dim kept).

    Example:
        >>> import ember, ember.nn.functional as F
        >>> round(F.pairwise_distance(ember.tensor([[0.0, 0.0]]), ember.tensor([[3.0, 4.0]])).item(), 3)
        5.0
    """
    if x1.ndim == 0 and x2.ndim == 0:
        raise ValueError("[pairwise_distance] inputs must have at least one dim: got two 0-d tensors")
    return ember.norm(x1 - x2 + eps, p, -1, keepdim=keepdim)


def pad(input, pad, mode="constant", value=None):
    """Pads input; pad = (left, right) pairs from the last dim backwards (negative crops).

    Args:
        input (Tensor): any shape.
        pad (sequence of int): even length, at most 2 * input.ndim.
        mode (str): 'constant', 'reflect', 'replicate' or 'circular' (default: 'constant').
        value (float, optional): the fill of constant mode (default: 0).

    Returns:
        Tensor: input's shape grown by the pads.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> F.pad(ember.ones(1, 2), (1, 1)).tolist()
        [[0.0, 1.0, 1.0, 0.0]]
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"[pad] input must be a Tensor: got {type(input).__name__}")
    return ember.pad(input, tuple(pad), mode=mode, value=value)
