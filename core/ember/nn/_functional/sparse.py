"""embedding_bag composed from index_select / index_add / scatter_reduce."""
import ember
from ember import Tensor

__all__ = ["embedding_bag"]


def _renorm_rows_(weight, idx, max_norm, norm_type):
    """Rescales in place the rows of weight used by idx whose norm exceeds max_norm."""
    with ember.no_grad():
        rows = ember.unique(idx)
        w = weight.detach()
        sel = w.index_select(0, rows)
        norms = ember.norm(sel, norm_type, 1, keepdim=True)
        scale = ember.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        w.index_copy_(0, rows, sel * scale)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Sums, averages or takes the max of bags of embeddings, without building the
    intermediate (num_indices, dim) tensor's per-bag copies.

    Args:
        input (Tensor): int64/int32 indices: (B, N) (B bags of N) or (total,) with offsets.
        weight (Tensor): (num_embeddings, embedding_dim).
        offsets (Tensor, optional): (B,) start of each bag in a 1-d input
            ((B + 1,) with include_last_offset).
        max_norm (float, optional): rows used are renormalised in place to at most this norm.
        norm_type (float): the norm of max_norm (default: 2).
        scale_grad_by_freq (bool): not supported (must be False).
        mode (str): 'sum', 'mean' or 'max' (default: 'mean').
        sparse (bool): ignored (dense gradients).
        per_sample_weights (Tensor, optional): input's shape, float; only with mode='sum'.
        include_last_offset (bool): offsets has B + 1 entries, the last one the end (default: False).
        padding_idx (int, optional): entries equal to it are left out of their bag.

    Returns:
        Tensor: (B, embedding_dim); empty bags give zeros.

    Example:
        >>> import ember, ember.nn.functional as F
        >>> w = ember.arange(6.0).reshape(3, 2)
        >>> F.embedding_bag(ember.tensor([0, 2, 1]), w, ember.tensor([0, 2]), mode="sum").tolist()
        [[4.0, 6.0], [2.0, 3.0]]
    """
    name = "embedding_bag"
    if not isinstance(input, Tensor) or input.dtype not in (ember.int64, ember.int32):
        raise TypeError(f"[{name}] input must be an int64 or int32 tensor of indices: got "
                        f"{getattr(input, 'dtype', type(input).__name__)}")
    if weight.ndim != 2:
        raise ValueError(f"[{name}] weight must be (num_embeddings, embedding_dim): got shape {tuple(weight.shape)}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"[{name}] mode must be 'sum', 'mean' or 'max': got {mode!r}")
    if scale_grad_by_freq:
        raise NotImplementedError(f"[{name}] scale_grad_by_freq=True is not supported")
    num, dim = weight.shape
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise ValueError(f"[{name}] padding_idx must be within num_embeddings: expected -{num} <= padding_idx "
                             f"< {num}, got {padding_idx}")
        padding_idx %= num
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(f"[{name}] per_sample_weights is only supported for mode='sum': got mode={mode!r}")
        if tuple(per_sample_weights.shape) != tuple(input.shape):
            raise ValueError(f"[{name}] per_sample_weights must have input's shape: expected {tuple(input.shape)}, "
                             f"got {tuple(per_sample_weights.shape)}")
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(f"[{name}] offsets must be None for a 2-d input (each row is a bag): got a tensor")
        nbags, per = input.shape
        idx = input.reshape(-1)
        bag = ember.arange(nbags).repeat_interleave(per) if per else ember.zeros(0, dtype=ember.int64)
        psw = per_sample_weights.reshape(-1) if per_sample_weights is not None else None
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError(f"[{name}] offsets must be given for a 1-d input: got None")
        if offsets.ndim != 1:
            raise ValueError(f"[{name}] offsets must be 1-d: got shape {tuple(offsets.shape)}")
        offsets = offsets.to(ember.int64)
        if offsets.numel() and offsets[0].item() != 0:
            raise ValueError(f"[{name}] offsets[0] has to be 0, i.e. the first sequence in the mini-batch has to "
                             f"start from position 0: got {offsets[0].item()}")
        if offsets.numel() and offsets[-1].item() > input.numel():
            raise ValueError(f"[{name}] offsets[-1] can not be greater than input's length ({input.numel()}): "
                             f"got {offsets[-1].item()}")
        starts = offsets[:-1] if include_last_offset else offsets
        nbags = starts.numel()
        idx = input
        bag = ember.searchsorted(starts, ember.arange(input.numel()), right=True) - 1
        psw = per_sample_weights
    else:
        raise ValueError(f"[{name}] input must be 1-d (with offsets) or 2-d: got shape {tuple(input.shape)}")
    idx = idx.to(ember.int64)
    if idx.numel():
        lo, hi = idx.min().item(), idx.max().item()
        if lo < 0 or hi >= num:
            raise IndexError(f"[{name}] index out of range: expected indices in [0, {num}), got "
                             f"{lo if lo < 0 else hi}")
    if include_last_offset and input.ndim == 1 and offsets.numel():
        keep = bag < nbags
        keep = keep & (ember.arange(idx.numel()) < offsets[-1].item())
    else:
        keep = None
    if padding_idx is not None:
        k = idx != padding_idx
        keep = k if keep is None else (keep & k)
    if keep is not None:
        sel = ember.nonzero(keep).reshape(-1)
        idx, bag = idx.index_select(0, sel), bag.index_select(0, sel)
        if psw is not None:
            psw = psw.index_select(0, sel)
    if max_norm is not None and idx.numel():
        _renorm_rows_(weight, idx, max_norm, norm_type)
    emb = weight.index_select(0, idx)                               # (total, D)
    if psw is not None:
        emb = emb * psw.unsqueeze(1)
    out = ember.zeros(nbags, dim, dtype=weight.dtype)
    if mode == "max":
        if idx.numel() == 0:
            return out + weight.sum() * 0
        return out.scatter_reduce(0, bag.unsqueeze(1).expand(-1, dim), emb, "amax", include_self=False)
    out = out.index_add(0, bag, emb)
    if mode == "mean":
        counts = ember.zeros(nbags, dtype=weight.dtype).index_add(0, bag, ember.ones(bag.numel(), dtype=weight.dtype))
        out = out / counts.clamp(min=1).unsqueeze(1)
    return out
