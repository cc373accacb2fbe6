"""Transformer encoder/decoder layers and stacks (PyTorch's torch.nn.Transformer family), built
from MultiheadAttention, Linear, Dropout and LayerNorm. There is no fused "fast path": every
configuration runs the same composed ops (PyTorch's fast path is an inference-only
optimisation with the same results)."""
import copy

import ember
from ember import Tensor

from .. import functional as F
from .. import init
from .._seq_functional import _canonical_mask
from .attention import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm

__all__ = ["Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
           "TransformerDecoderLayer"]


def _generate_square_subsequent_mask(sz, device=None, dtype=None):
    dtype = dtype if dtype is not None else ember.get_default_dtype()
    return ember.full((sz, sz), float("-inf"), dtype=dtype, device=device or "cpu").triu(1)


def _get_seq_len(src, batch_first):
    if src.dim() == 2:
        return src.shape[0]
    return src.shape[1 if batch_first else 0]


def _detect_is_causal_mask(mask, is_causal=None, size=None):
    """is_causal if given, else whether mask equals the (size, size) causal mask."""
    make_causal = is_causal is True
    if is_causal is None and mask is not None:
        sz = size if size is not None else mask.shape[-2]
        if tuple(mask.shape) == (sz, sz):
            causal = _generate_square_subsequent_mask(sz, dtype=mask.dtype) if mask.is_floating_point() else \
                ember.ones(sz, sz, dtype=ember.bool).triu(1)
            make_causal = bool((mask == causal).all())
    return make_causal


def _get_activation_fn(activation):
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise ValueError(f"[Transformer] activation must be 'relu', 'gelu' or a callable, got {activation!r}")


def _get_clones(module, n):
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


def _mask(mask, name, like):
    return _canonical_mask(mask, name, like.dtype)


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward block, each with a residual connection and LayerNorm
    (after the residual, or before the block with norm_first).

    Args:
        d_model (int): model width.
        nhead (int): attention heads.
        dim_feedforward (int): hidden width of the feed-forward block (default: 2048).
        dropout (float): dropout probability (default: 0.1).
        activation (str or callable): 'relu', 'gelu' or a function (default: F.relu).
        layer_norm_eps (float): LayerNorm eps (default: 1e-5).
        batch_first (bool): (N, S, E) instead of (S, N, E) (default: False).
        norm_first (bool): pre-norm (default: False).
        bias (bool): biases in the Linear and LayerNorm layers (default: True).
        device, dtype: where and how the parameters are created.

    Inputs (forward):
        src (S, N, E) (or (N, S, E), or unbatched (S, E)); src_mask (S, S) or (N * nhead, S, S);
        src_key_padding_mask (N, S); is_causal (bool): src_mask is the causal mask.

    Returns:
        Tensor: same shape as src.

    Example:
        >>> import ember
        >>> layer = ember.nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32)
        >>> layer(ember.randn(10, 2, 16)).shape
        (10, 2, 16)
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        fk = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **fk)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **fk)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **fk)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **fk)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **fk)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        if isinstance(activation, str):
            activation = _get_activation_fn(activation)
        elif not callable(activation):
            raise TypeError(f"[TransformerEncoderLayer] activation must be 'relu', 'gelu' or a callable, got "
                            f"{type(activation).__name__}")
        self.activation = activation

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        """Applies the layer to src; returns a tensor of src's shape."""
        if not isinstance(src, Tensor) or src.dim() not in (2, 3) or src.shape[-1] != self.self_attn.embed_dim:
            raise ValueError(f"{self._get_name()}(d_model={self.self_attn.embed_dim}): expected src of shape "
                             f"(S, N, {self.self_attn.embed_dim}) or (S, {self.self_attn.embed_dim}), got "
                             f"{tuple(src.shape) if isinstance(src, Tensor) else type(src).__name__}")
        src_key_padding_mask = _mask(src_key_padding_mask, "src_key_padding_mask", src)
        src_mask = _mask(src_mask, "src_mask", src)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal=is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal=is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout2(x)


class TransformerDecoderLayer(Module):
    """Masked self-attention, attention over the encoder's memory, then a feed-forward block,
    each with a residual connection and LayerNorm (post-norm, or pre-norm with norm_first).

    Args:
        d_model (int), nhead (int), dim_feedforward (int, default: 2048), dropout (float,
        default: 0.1), activation (str or callable, default: F.relu), layer_norm_eps (float,
        default: 1e-5), batch_first (bool, default: False), norm_first (bool, default: False),
        bias (bool, default: True), device, dtype: as TransformerEncoderLayer.

    Inputs (forward):
        tgt (T, N, E), memory (S, N, E) (batch first with batch_first; no N unbatched);
        tgt_mask (T, T), memory_mask (T, S), tgt_key_padding_mask (N, T),
        memory_key_padding_mask (N, S), tgt_is_causal, memory_is_causal (bool).

    Returns:
        Tensor: same shape as tgt.

    Example:
        >>> import ember
        >>> layer = ember.nn.TransformerDecoderLayer(16, 4, dim_feedforward=32)
        >>> layer(ember.randn(7, 2, 16), ember.randn(10, 2, 16)).shape
        (7, 2, 16)
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        fk = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=batch_first, bias=bias, **fk)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=batch_first, bias=bias,
                                                 **fk)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **fk)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **fk)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **fk)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **fk)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **fk)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        if isinstance(activation, str):
            activation = _get_activation_fn(activation)
        elif not callable(activation):
            raise TypeError(f"[TransformerDecoderLayer] activation must be 'relu', 'gelu' or a callable, got "
                            f"{type(activation).__name__}")
        self.activation = activation

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        """Applies the layer; returns a tensor of tgt's shape."""
        E = self.self_attn.embed_dim
        for name, t in (("tgt", tgt), ("memory", memory)):
            if not isinstance(t, Tensor) or t.dim() not in (2, 3) or t.shape[-1] != E:
                raise ValueError(f"{self._get_name()}(d_model={E}): expected {name} with {E} features in its last "
                                 f"dimension, got {tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__}")
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, is_causal=is_causal,
                           need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal=False):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                is_causal=is_causal, need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout3(x)


class TransformerEncoder(Module):
    """A stack of num_layers deep copies of encoder_layer, then an optional norm.

    Args:
        encoder_layer (TransformerEncoderLayer): the layer to copy (copy.deepcopy).
        num_layers (int): how many copies.
        norm (Module, optional): applied to the output (default: None).
        enable_nested_tensor, mask_check (bool): accepted for PyTorch compatibility; ember has
            no nested tensors, so padded positions are computed and masked (default: True).

    Inputs (forward):
        src (S, N, E) (or batch first / unbatched); mask (S, S) or (N * nhead, S, S);
        src_key_padding_mask (N, S); is_causal (bool or None: detect whether mask is causal).

    Returns:
        Tensor: same shape as src.

    Example:
        >>> import ember
        >>> layer = ember.nn.TransformerEncoderLayer(16, 4, 32, batch_first=True)
        >>> enc = ember.nn.TransformerEncoder(layer, num_layers=2)
        >>> enc(ember.randn(2, 10, 16)).shape
        (2, 10, 16)
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True):
        super().__init__()
        if not isinstance(encoder_layer, Module):
            raise TypeError(f"[TransformerEncoder] encoder_layer must be a Module, got {type(encoder_layer).__name__}")
        if num_layers <= 0:
            raise ValueError(f"[TransformerEncoder] num_layers must be greater than 0, got {num_layers}")
        self.layers = _get_clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = False
        self.mask_check = mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        """Runs src through every layer (and the norm)."""
        src_key_padding_mask = _mask(src_key_padding_mask, "src_key_padding_mask", src)
        mask = _mask(mask, "mask", src)
        first = self.layers[0]
        batch_first = first.self_attn.batch_first if hasattr(first, "self_attn") else False
        is_causal = _detect_is_causal_mask(mask, is_causal, _get_seq_len(src, batch_first))
        output = src
        for mod in self.layers:
            output = mod(output, src_mask=mask, is_causal=is_causal, src_key_padding_mask=src_key_padding_mask)
        if self.norm is not None:
            output = self.norm(output)
        return output


class TransformerDecoder(Module):
    """A stack of num_layers deep copies of decoder_layer, then an optional norm.

    Args:
        decoder_layer (TransformerDecoderLayer): the layer to copy (copy.deepcopy).
        num_layers (int): how many copies.
        norm (Module, optional): applied to the output (default: None).

    Inputs (forward):
        tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask,
        tgt_is_causal (bool or None: detect from tgt_mask), memory_is_causal (bool): as
        TransformerDecoderLayer.

    Returns:
        Tensor: same shape as tgt.

    Example:
        >>> import ember
        >>> dec = ember.nn.TransformerDecoder(ember.nn.TransformerDecoderLayer(16, 4, 32), num_layers=2)
        >>> dec(ember.randn(7, 2, 16), ember.randn(10, 2, 16)).shape
        (7, 2, 16)
    """

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        if not isinstance(decoder_layer, Module):
            raise TypeError(f"[TransformerDecoder] decoder_layer must be a Module, got {type(decoder_layer).__name__}")
        if num_layers <= 0:
            raise ValueError(f"[TransformerDecoder] num_layers must be greater than 0, got {num_layers}")
        self.layers = _get_clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        """Runs tgt through every layer, attending to memory (and the norm)."""
        first = self.layers[0]
        batch_first = first.self_attn.batch_first if hasattr(first, "self_attn") else False
        tgt_is_causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal, _get_seq_len(tgt, batch_first))
        output = tgt
        for mod in self.layers:
            output = mod(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                         tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                         tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """The encoder-decoder Transformer of "Attention Is All You Need".

    Args:
        d_model (int): model width (default: 512).
        nhead (int): attention heads (default: 8).
        num_encoder_layers (int): (default: 6). num_decoder_layers (int): (default: 6).
        dim_feedforward (int): (default: 2048). dropout (float): (default: 0.1).
        activation (str or callable): (default: F.relu).
        custom_encoder, custom_decoder (Module, optional): replace the default stacks (default: None).
        layer_norm_eps (float): (default: 1e-5). batch_first (bool): (default: False).
        norm_first (bool): (default: False). bias (bool): (default: True). device, dtype.

    Inputs (forward):
        src (S, N, E), tgt (T, N, E) (batch first with batch_first; no N unbatched); src_mask,
        tgt_mask, memory_mask; src/tgt/memory_key_padding_mask; src_is_causal, tgt_is_causal,
        memory_is_causal.

    Returns:
        Tensor: (T, N, E) (or (N, T, E)).

    Example:
        >>> import ember
        >>> model = ember.nn.Transformer(d_model=16, nhead=4, num_encoder_layers=1, num_decoder_layers=1,
        ...                              dim_feedforward=32)
        >>> tgt = ember.randn(7, 2, 16)
        >>> mask = model.generate_square_subsequent_mask(7)
        >>> model(ember.randn(10, 2, 16), tgt, tgt_mask=mask).shape
        (7, 2, 16)
    """

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6, dim_feedforward=2048,
                 dropout=0.1, activation=F.relu, custom_encoder=None, custom_decoder=None, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        fk = {"device": device, "dtype": dtype}
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                                            batch_first, norm_first, bias, **fk)
            self.encoder = TransformerEncoder(layer, num_encoder_layers, LayerNorm(d_model, eps=layer_norm_eps,
                                                                                  bias=bias, **fk))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            layer = TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                                            batch_first, norm_first, bias, **fk)
            self.decoder = TransformerDecoder(layer, num_decoder_layers, LayerNorm(d_model, eps=layer_norm_eps,
                                                                                  bias=bias, **fk))
        self._reset_parameters()
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        """Encodes src and decodes tgt against it."""
        label = f"{self._get_name()}(d_model={self.d_model}, nhead={self.nhead})"
        is_batched = src.dim() == 3
        bdim = 0 if self.batch_first else 1
        if is_batched and (tgt.dim() != 3 or src.shape[bdim] != tgt.shape[bdim]):
            raise ValueError(f"{label}: src and tgt must have the same batch size (dim {bdim}), got shapes "
                             f"{tuple(src.shape)} and {tuple(tgt.shape)}")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ValueError(f"{label}: expected src and tgt with {self.d_model} features in their last dimension, "
                             f"got shapes {tuple(src.shape)} and {tuple(tgt.shape)}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """The (sz, sz) causal mask: 0 on and below the diagonal, -inf above.

        Args:
            sz (int): the sequence length.
            device, dtype: of the mask (default: cpu, the default dtype).

        Returns:
            Tensor: (sz, sz).

        Example:
            >>> Transformer.generate_square_subsequent_mask(3).tolist()
            [[0.0, -inf, -inf], [0.0, 0.0, -inf], [0.0, 0.0, 0.0]]
        """
        return _generate_square_subsequent_mask(sz, device=device, dtype=dtype)

    def _reset_parameters(self):
        for p in self.parameters():
            if p.dim() > 1:
                init.xavier_uniform_(p)
