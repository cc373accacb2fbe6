"""MultiheadAttention (PyTorch's torch.nn.MultiheadAttention); the computation is
``ember.nn._seq_functional.multi_head_attention_forward``."""
import ember
from ember import Tensor

from .. import init
from .._seq_functional import multi_head_attention_forward
from ..parameter import Parameter
from .linear import Linear
from .module import Module

__all__ = ["MultiheadAttention", "NonDynamicallyQuantizableLinear"]


def _factory(device, dtype):
    return {"dtype": dtype if dtype is not None else ember.get_default_dtype(),
            "device": device if device is not None else "cpu"}


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear under torch's name for MultiheadAttention's out_proj (so state dicts and
    ``isinstance(m, Linear)`` both carry over).

    Args: as Linear.

    Example:
        >>> import ember
        >>> NonDynamicallyQuantizableLinear(4, 4)(ember.ones(2, 4)).shape
        (2, 4)
    """


class MultiheadAttention(Module):
    """Multi-head attention: softmax(Q K^T / sqrt(head_dim) + mask) V per head, then out_proj.

    Args:
        embed_dim (int): E, the model width (split into num_heads heads).
        num_heads (int): heads; must divide embed_dim.
        dropout (float): dropout on the attention weights in training (default: 0.0).
        bias (bool): learn in_proj_bias and out_proj.bias (default: True).
        add_bias_kv (bool): learn one extra key and value row, bias_k and bias_v (1, 1, E)
            (default: False).
        add_zero_attn (bool): append a zero key/value row (default: False).
        kdim, vdim (int, optional): key and value widths (default: embed_dim); when they differ
            from embed_dim the projections are q_proj_weight, k_proj_weight, v_proj_weight
            instead of the packed in_proj_weight (3E, E).
        batch_first (bool): inputs and output are (N, L, E) instead of (L, N, E) (default: False).
        device, dtype: where and how the parameters are created.

    Inputs (forward):
        query (L, N, E), key (S, N, kdim), value (S, N, vdim) (batch first with batch_first;
        no N when unbatched); key_padding_mask (N, S) bool (True = ignore) or float (added);
        need_weights (bool, default True); attn_mask (L, S) or (N * num_heads, L, S), bool
        (True = not allowed) or float (added); average_attn_weights (bool, default True);
        is_causal (bool, default False): a hint that attn_mask is causal (attn_mask still needed).

    Returns:
        (attn_output, attn_weights): (L, N, E) (or (N, L, E)) and, with need_weights,
        (N, L, S) averaged over heads or (N, num_heads, L, S); None otherwise.

    Example:
        >>> import ember
        >>> mha = ember.nn.MultiheadAttention(16, 4, batch_first=True)
        >>> x = ember.randn(2, 5, 16)
        >>> out, w = mha(x, x, x)
        >>> out.shape, w.shape
        ((2, 5, 16), (2, 5, 5))
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"[MultiheadAttention] embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads}")
        if embed_dim % num_heads:
            raise ValueError(f"[MultiheadAttention] embed_dim must be divisible by num_heads, got embed_dim="
                             f"{embed_dim} and num_heads={num_heads}")
        fk = _factory(device, dtype)
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads, self.dropout, self.batch_first = num_heads, dropout, batch_first
        self.head_dim = embed_dim // num_heads
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(ember.empty(embed_dim, embed_dim, **fk))
            self.k_proj_weight = Parameter(ember.empty(embed_dim, self.kdim, **fk))
            self.v_proj_weight = Parameter(ember.empty(embed_dim, self.vdim, **fk))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(ember.empty(3 * embed_dim, embed_dim, **fk))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(ember.empty(3 * embed_dim, **fk))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, device=device, dtype=dtype)
        if add_bias_kv:
            self.bias_k = Parameter(ember.empty(1, 1, embed_dim, **fk))
            self.bias_v = Parameter(ember.empty(1, 1, embed_dim, **fk))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def _label(self):
        return f"{self._get_name()}(embed_dim={self.embed_dim}, num_heads={self.num_heads})"

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        """Attends query to key/value; returns (attn_output, attn_weights or None)."""
        for name, t, width in (("query", query, self.embed_dim), ("key", key, self.kdim), ("value", value, self.vdim)):
            if not isinstance(t, Tensor):
                raise TypeError(f"{self._label()}: expected {name} to be a Tensor, got {type(t).__name__}")
            if t.dim() not in (2, 3) or t.shape[-1] != width:
                raise ValueError(f"{self._label()}: expected {name} of shape (L, N, {width}) or (L, {width}) (batch "
                                 f"first with batch_first) with {width} features in its last dimension, got shape "
                                 f"{tuple(t.shape)}")
        is_batched = query.dim() == 3
        if self.batch_first and is_batched:
            if key is value:
                if query is key:
                    query = key = value = query.transpose(1, 0)
                else:
                    query, key = query.transpose(1, 0), key.transpose(1, 0)
                    value = key
            else:
                query, key, value = (x.transpose(1, 0) for x in (query, key, value))
        common = dict(training=self.training, key_padding_mask=key_padding_mask, need_weights=need_weights,
                      attn_mask=attn_mask, average_attn_weights=average_attn_weights, is_causal=is_causal)
        if not self._qkv_same_embed_dim:
            out, weights = multi_head_attention_forward(
                query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias,
                self.bias_k, self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
                use_separate_proj_weight=True, q_proj_weight=self.q_proj_weight, k_proj_weight=self.k_proj_weight,
                v_proj_weight=self.v_proj_weight, **common)
        else:
            out, weights = multi_head_attention_forward(
                query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias,
                self.bias_k, self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
                **common)
        if self.batch_first and is_batched:
            out = out.transpose(1, 0)  # (N, L, E)
        return out, weights

    def merge_masks(self, attn_mask, key_padding_mask, query):
        """Combines attn_mask and key_padding_mask into one (N, num_heads, L, L) additive mask, as
        torch's fast path does.

        Args:
            attn_mask (Tensor or None): (L, L) or (N * num_heads, L, L) float mask.
            key_padding_mask (Tensor or None): (N, L) float mask.
            query (Tensor): (N, L, E).

        Returns:
            (Tensor or None, int or None): the merged mask and its kind (1: padding only, 2: merged).

        Example:
            >>> import ember
            >>> m = MultiheadAttention(4, 2)
            >>> m.merge_masks(ember.zeros(3, 3), None, ember.zeros(2, 3, 4))[0].shape
            (2, 2, 3, 3)
        """
        mask_type, merged = None, None
        if key_padding_mask is not None:
            mask_type, merged = 1, key_padding_mask
        if attn_mask is not None:
            batch_size, seq_len, _ = query.shape
            mask_type = 2
            if attn_mask.dim() == 3:
                expanded = attn_mask.view(batch_size, -1, seq_len, seq_len)
            else:
                expanded = attn_mask.view(1, 1, seq_len, seq_len).expand(batch_size, self.num_heads, seq_len, seq_len)
            merged = expanded
            if key_padding_mask is not None:
                merged = expanded + key_padding_mask.view(batch_size, 1, 1, seq_len).expand(
                    batch_size, self.num_heads, 1, seq_len)
        return merged, mask_type

    def extra_repr(self):
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, batch_first={self.batch_first}"
