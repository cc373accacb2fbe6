"""Sequence-model functions: recurrent cells and the multi-layer RNN/LSTM/GRU driver,
``multi_head_attention_forward`` and ``ctc_loss``, all composed from ember ops so that
autograd gives their gradients.

The recurrent driver works on packed rows: a padded (T, B, C) batch is run as T steps of B
rows, a PackedSequence as steps of batch_sizes[t] rows. The input projection of every time
step is one matrix product per layer and direction; each step then costs one addmm for the
hidden projection and a few elementwise ops on views of the gate block.

Example:
    >>> import ember
    >>> from ember.nn._seq_functional import lstm_cell
    >>> h, c = lstm_cell(ember.randn(2, 3), (ember.zeros(2, 4), ember.zeros(2, 4)),
    ...                  ember.randn(16, 3), ember.randn(16, 4))
    >>> h.shape
    (2, 4)
"""
import math

import ember
from ember import Tensor, _C

from ._kernels import dropout, scaled_dot_product_attention, softmax
from ._functional.distance import linear, pad

__all__ = ["rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell", "multi_head_attention_forward", "ctc_loss"]

# A finite stand-in for log(0) in the CTC recursion: logaddexp(-inf, -inf) has a NaN gradient.
_LOG_ZERO = -1e30


# ---- cells --------------------------------------------------------------------------------------
def _addmm(bias, x, w_t):
    return ember.matmul(x, w_t) if bias is None else ember.addmm(bias, x, w_t)


def _rnn_step(act):
    def step(xp_t, h, c, w_hh_t, b_hh, w_hr_t):
        return act(ember.addmm(xp_t, h, w_hh_t)), None
    return step


def _lstm_step(xp_t, h, c, w_hh_t, b_hh, w_hr_t):
    gates = ember.addmm(xp_t, h, w_hh_t)  # (b, 4H): i, f, g, o
    if gates.dtype in _FUSED_DTYPES and c.dtype == gates.dtype:
        h, c = _C._nn.lstm_cell(gates, c)  # the pointwise step in one pass (and one backward pass)
        return (h if w_hr_t is None else ember.matmul(h, w_hr_t)), c
    H = c.shape[1]
    if_ = gates[:, :2 * H].sigmoid()
    g = gates[:, 2 * H:3 * H].tanh()
    o = gates[:, 3 * H:].sigmoid()
    c = if_[:, H:] * c + if_[:, :H] * g
    h = o * c.tanh()
    if w_hr_t is not None:
        h = ember.matmul(h, w_hr_t)
    return h, c


_FUSED_DTYPES = (ember.float32, ember.float64)


def _gru_step(xp_t, h, c, w_hh_t, b_hh, w_hr_t):
    gh = _addmm(b_hh, h, w_hh_t)  # (b, 3H): r, z, n
    H = h.shape[1]
    rz = (xp_t[:, :2 * H] + gh[:, :2 * H]).sigmoid()
    n = (xp_t[:, 2 * H:] + rz[:, :H] * gh[:, 2 * H:]).tanh()
    return n + rz[:, H:] * (h - n), None


_STEPS = {"RNN_TANH": _rnn_step(ember.tanh), "RNN_RELU": _rnn_step(ember.relu), "LSTM": _lstm_step, "GRU": _gru_step}


def _input_bias(mode, b_ih, b_hh):
    """The bias added to x W_ih^T: b_ih + b_hh (either may be None), or b_ih alone for the GRU,
    which keeps b_hh inside r * (W_hn h + b_hn)."""
    if mode == "GRU" or b_hh is None:
        return b_ih
    return b_hh if b_ih is None else b_ih + b_hh


def _cell(mode, input, h, c, w_ih, w_hh, b_ih, b_hh):
    xp = _addmm(_input_bias(mode, b_ih, b_hh), input, w_ih.t())
    return _STEPS[mode](xp, h, c, w_hh.t(), b_hh, None)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One step of an Elman RNN: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh).

    Args:
        input (Tensor): (B, I). hx (Tensor): (B, H).
        w_ih (Tensor): (H, I). w_hh (Tensor): (H, H). b_ih, b_hh (Tensor, optional): (H,)
            (default: None).

    Returns:
        Tensor: (B, H).

    Example:
        >>> rnn_tanh_cell(ember.ones(2, 3), ember.zeros(2, 4), ember.ones(4, 3), ember.ones(4, 4)).shape
        (2, 4)
    """
    return _cell("RNN_TANH", input, hx, None, w_ih, w_hh, b_ih, b_hh)[0]


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One step of a ReLU RNN: h' = relu(x W_ih^T + b_ih + h W_hh^T + b_hh).

    Args:
        input (Tensor): (B, I). hx (Tensor): (B, H).
        w_ih (Tensor): (H, I). w_hh (Tensor): (H, H). b_ih, b_hh (Tensor, optional): (H,)
            (default: None).

    Returns:
        Tensor: (B, H).

    Example:
        >>> rnn_relu_cell(ember.ones(2, 3), ember.zeros(2, 4), ember.ones(4, 3), ember.ones(4, 4)).shape
        (2, 4)
    """
    return _cell("RNN_RELU", input, hx, None, w_ih, w_hh, b_ih, b_hh)[0]


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step with torch's gate order (i, f, g, o).

    Args:
        input (Tensor): (B, I). hx (tuple of Tensor): (h, c), each (B, H).
        w_ih (Tensor): (4H, I). w_hh (Tensor): (4H, H). b_ih, b_hh (Tensor, optional): (4H,)
            (default: None).

    Returns:
        (Tensor, Tensor): h' and c', each (B, H).

    Example:
        >>> z = ember.zeros(2, 4)
        >>> lstm_cell(ember.ones(2, 3), (z, z), ember.ones(16, 3), ember.ones(16, 4))[1].shape
        (2, 4)
    """
    return _cell("LSTM", input, hx[0], hx[1], w_ih, w_hh, b_ih, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step with torch's gate order (r, z, n):
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h.

    Args:
        input (Tensor): (B, I). hx (Tensor): (B, H).
        w_ih (Tensor): (3H, I). w_hh (Tensor): (3H, H). b_ih, b_hh (Tensor, optional): (3H,)
            (default: None).

    Returns:
        Tensor: (B, H).

    Example:
        >>> gru_cell(ember.ones(2, 3), ember.zeros(2, 4), ember.ones(12, 3), ember.ones(12, 4)).shape
        (2, 4)
    """
    return _cell("GRU", input, hx, None, w_ih, w_hh, b_ih, b_hh)[0]


# ---- multi-layer driver ------------------------------------------------------------------------
class _LstmSequence(ember.autograd.Function):
    """One direction of an LSTM layer over T steps of B rows (no projection), with its own
    backward: the step loop runs the fused cell backward and one (B, 4H) @ (4H, H) product per
    step, and the hidden weights' gradient is one (4H, T*B) @ (T*B, H) product instead of T
    small ones accumulated. Under create_graph the backward recomputes the steps with
    recording ops and differentiates them, so higher derivatives stay exact."""

    @staticmethod
    def forward(ctx, xp, h0, c0, w_hh, reverse):
        B = h0.shape[0]
        T = xp.shape[0] // B if B else 0
        order = range(T - 1, -1, -1) if reverse else range(T)
        w_t = w_hh.t()
        h, c = h0, c0
        hprev, cprev, cnew, acts, outs = [None] * T, [None] * T, [None] * T, [None] * T, [None] * T
        for t in order:
            gates = ember.addmm(xp[t * B:(t + 1) * B], h, w_t)  # (B, 4H): i, f, g, o
            hprev[t], cprev[t] = h, c
            h, c, a = _C._nn.lstm_cell_raw(gates, c)
            cnew[t], acts[t], outs[t] = c, a, h
        out = ember.cat(outs, 0) if T else xp.new_zeros((0, h0.shape[1]))
        ctx.reverse, ctx.B, ctx.T = reverse, B, T
        if T:
            ctx.save_for_backward(xp, h0, c0, w_hh, ember.cat(hprev, 0), ember.cat(cprev, 0), ember.cat(cnew, 0),
                                  ember.cat(acts, 0))
        else:
            ctx.save_for_backward(xp, h0, c0, w_hh, None, None, None, None)
        return out, h, c

    @staticmethod
    def backward(ctx, gout, gh, gc):
        xp, h0, c0, w_hh, hprev, cprev, cnew, acts = ctx.saved_tensors
        need = ctx.needs_input_grad[:4]
        if ember.is_grad_enabled():  # create_graph: differentiate a recorded recomputation
            ins = [t for t, n in zip((xp, h0, c0, w_hh), need) if n]
            out, h, c = _lstm_steps_recorded(xp, h0, c0, w_hh, ctx.reverse)
            gs = iter(ember.autograd.grad((out, h, c), ins, (gout, gh, gc), create_graph=True, allow_unused=True))
            return tuple(next(gs) if n else None for n in need) + (None,)
        B, T = ctx.B, ctx.T
        order = range(T) if ctx.reverse else range(T - 1, -1, -1)
        dh, dc = gh, gc
        G = [None] * T
        for t in order:
            r = slice(t * B, (t + 1) * B)
            gg, dc = _C._nn.lstm_cell_backward_raw(acts[r], cprev[r], cnew[r], dh + gout[r], dc)
            G[t] = gg
            dh = gg @ w_hh  # (B, H)
        Gs = ember.cat(G, 0) if T else ember.zeros_like(xp)
        gw = Gs.t() @ hprev if (need[3] and T) else (ember.zeros_like(w_hh) if need[3] else None)
        return (Gs if need[0] else None, dh if need[1] else None, dc if need[2] else None, gw, None)


def _lstm_steps_recorded(xp, h0, c0, w_hh, reverse):
    """The same recurrence as _LstmSequence, recorded op by op (for create_graph)."""
    B = h0.shape[0]
    T = xp.shape[0] // B if B else 0
    h, c, outs = h0, c0, [None] * T
    w_t = w_hh.t()
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        h, c = _lstm_step(xp[t * B:(t + 1) * B], h, c, w_t, None, None)
        outs[t] = h
    return (ember.cat(outs, 0) if T else xp.new_zeros((0, h0.shape[1]))), h, c


def _run_direction(mode, xp, batch_sizes, offsets, h0, c0, w_hh, b_hh, w_hr, reverse):
    """Runs one direction of one layer over packed rows.

    xp: (N, G) input projections of all steps; h0: (B, Hout); c0: (B, H) or None.
    Returns (out (N, Hout), h_n (B, Hout), c_n (B, H) or None)."""
    if (mode == "LSTM" and w_hr is None and c0 is not None and len(batch_sizes) and xp.dtype in _FUSED_DTYPES
            and c0.dtype == xp.dtype and h0.dtype == xp.dtype and w_hh.dtype == xp.dtype
            and all(int(b) == h0.shape[0] for b in batch_sizes)):
        return _LstmSequence.apply(xp, h0, c0, w_hh, bool(reverse))  # every sequence runs all T steps
    step = _STEPS[mode]
    w_hh_t = w_hh.t()
    w_hr_t = None if w_hr is None else w_hr.t()
    T = len(batch_sizes)
    outs = []
    # one split node for all steps: its backward is one concatenation, where a slice per step
    # would build a full-size gradient of xp per step (quadratic in T)
    steps = ember.split(xp, [int(b) for b in batch_sizes]) if T else []
    if not reverse:
        h, c = h0, c0
        done_h, done_c = [], []
        for t in range(T):
            b = batch_sizes[t]
            if b < h.shape[0]:  # sequences b.. ended at t - 1: keep their last state
                done_h.append(h[b:])
                h = h[:b]
                if c is not None:
                    done_c.append(c[b:])
                    c = c[:b]
            h, c = step(steps[t], h, c, w_hh_t, b_hh, w_hr_t)
            outs.append(h)
        h_n = ember.cat([h] + done_h[::-1], 0) if done_h else h
        c_n = (ember.cat([c] + done_c[::-1], 0) if done_c else c) if c is not None else None
    else:
        b_last = batch_sizes[-1]
        h = h0[:b_last] if b_last < h0.shape[0] else h0
        c = None if c0 is None else (c0[:b_last] if b_last < c0.shape[0] else c0)
        for t in range(T - 1, -1, -1):
            b = batch_sizes[t]
            if b > h.shape[0]:  # sequences h.shape[0]..b start here (their step t is their last)
                h = ember.cat([h, h0[h.shape[0]:b]], 0)
                if c is not None:
                    c = ember.cat([c, c0[c.shape[0]:b]], 0)
            h, c = step(steps[t], h, c, w_hh_t, b_hh, w_hr_t)
            outs.append(h)
        outs.reverse()
        h_n, c_n = h, c
    return ember.cat(outs, 0), h_n, c_n


def rnn_packed(mode, data, batch_sizes, hx, cx, weights, num_layers, bidirectional, dropout_p, training):
    """The multi-layer (bi)directional recurrence behind RNN, LSTM and GRU, on packed rows.

    Args:
        mode (str): 'RNN_TANH', 'RNN_RELU', 'LSTM' or 'GRU'.
        data (Tensor): (N, I) the rows of all steps, time-major (a padded (T, B, I) batch
            flattened to (T * B, I) is the case batch_sizes = [B] * T).
        batch_sizes (list of int): rows per step, non-increasing.
        hx (Tensor): (num_layers * D, B, Hout) initial hidden states (sorted batch order).
        cx (Tensor or None): (num_layers * D, B, H) initial LSTM cell states.
        weights (list of tuple): per layer and direction, (w_ih, w_hh, b_ih, b_hh, w_hr) with
            None for the absent ones.
        num_layers (int), bidirectional (bool), dropout_p (float): dropout on the outputs of all
            but the last layer, training (bool): apply it.

    Returns:
        (Tensor, Tensor, Tensor or None): output rows (N, D * Hout), h_n
        (num_layers * D, B, Hout), c_n (num_layers * D, B, H) for LSTM.

    Example:
        >>> w = [(ember.randn(4, 3), ember.randn(4, 4), None, None, None)]
        >>> out, h, _ = rnn_packed("RNN_TANH", ember.randn(6, 3), [2, 2, 2], ember.zeros(1, 2, 4), None,
        ...                        w, 1, False, 0.0, False)
        >>> out.shape, h.shape
        ((6, 4), (1, 2, 4))
    """
    D = 2 if bidirectional else 1
    offsets = [0]
    for b in batch_sizes:
        offsets.append(offsets[-1] + b)
    x = data
    h_n, c_n = [], []
    for layer in range(num_layers):
        outs = []
        for d in range(D):
            w_ih, w_hh, b_ih, b_hh, w_hr = weights[layer * D + d]
            xp = _addmm(_input_bias(mode, b_ih, b_hh), x, w_ih.t())  # (N, G)
            k = layer * D + d
            out, h, c = _run_direction(mode, xp, batch_sizes, offsets, hx[k], None if cx is None else cx[k],
                                       w_hh, b_hh, w_hr, reverse=d == 1)
            outs.append(out)
            h_n.append(h)
            c_n.append(c)
        x = outs[0] if D == 1 else ember.cat(outs, 1)
        if dropout_p > 0 and training and layer < num_layers - 1:
            x = dropout(x, dropout_p, True)
    return x, ember.stack(h_n, 0), (ember.stack(c_n, 0) if cx is not None else None)


# ---- attention --------------------------------------------------------------------------------
def _canonical_mask(mask, name, target_dtype):
    """A bool mask (True = masked out) as an additive float mask (-inf where True)."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise TypeError(f"[multi_head_attention_forward] {name} must be a Tensor, got {type(mask).__name__}")
    if mask.dtype == ember.bool:
        return ember.zeros(tuple(mask.shape), dtype=target_dtype, device=mask.device).masked_fill(mask, float("-inf"))
    if not mask.is_floating_point():
        raise TypeError(f"[multi_head_attention_forward] {name} must be a bool or floating mask, got {mask.dtype}")
    return mask


def _mha_batched(query, key, value, key_padding_mask, attn_mask, num_heads):
    op = "multi_head_attention_forward"
    q, k, v = query.dim(), key.dim(), value.dim()
    if q == 3:
        if k != 3 or v != 3:
            raise ValueError(f"[{op}] for batched (3-d) query, expected key and value to be 3-d, got {k}-d and {v}-d")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise ValueError(f"[{op}] for batched (3-d) query, expected key_padding_mask to be 2-d (N, S), got "
                             f"shape {tuple(key_padding_mask.shape)}")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise ValueError(f"[{op}] for batched (3-d) query, expected attn_mask to be 2-d or 3-d, got shape "
                             f"{tuple(attn_mask.shape)}")
        return True
    if q == 2:
        if k != 2 or v != 2:
            raise ValueError(f"[{op}] for unbatched (2-d) query, expected key and value to be 2-d, got {k}-d and "
                             f"{v}-d")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise ValueError(f"[{op}] for unbatched (2-d) query, expected key_padding_mask to be 1-d (S,), got "
                             f"shape {tuple(key_padding_mask.shape)}")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise ValueError(f"[{op}] for unbatched (2-d) query, expected attn_mask to be 2-d or 3-d, got "
                                 f"shape {tuple(attn_mask.shape)}")
            if attn_mask.dim() == 3 and tuple(attn_mask.shape) != (num_heads, query.shape[0], key.shape[0]):
                raise ValueError(f"[{op}] expected a 3-d attn_mask of shape {(num_heads, query.shape[0], key.shape[0])}"
                                 f", got {tuple(attn_mask.shape)}")
        return False
    raise ValueError(f"[{op}] expected query to be 2-d (unbatched) or 3-d (batched), got shape {tuple(query.shape)}")


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """Multi-head attention with torch's argument list and semantics (sequence-first layout).

    Args:
        query (Tensor): (L, N, E) or unbatched (L, E). key, value (Tensor): (S, N, Ek/Ev) or (S, Ek/Ev).
        embed_dim_to_check (int): E. num_heads (int): heads (E must be divisible by it).
        in_proj_weight (Tensor or None): (3E, E) packed q/k/v projections.
        in_proj_bias (Tensor or None): (3E,).
        bias_k, bias_v (Tensor or None): (1, 1, E) extra key/value rows appended to the sequence.
        add_zero_attn (bool): append a zero key/value row.
        dropout_p (float): dropout on the attention weights (only when training).
        out_proj_weight (Tensor): (E, E). out_proj_bias (Tensor or None): (E,).
        training (bool): apply dropout (default: True).
        key_padding_mask (Tensor, optional): (N, S) or (S,): True / -inf marks keys to ignore
            (bool or additive float) (default: None).
        need_weights (bool): also return the attention weights (default: True).
        attn_mask (Tensor, optional): (L, S) or (N * num_heads, L, S) bool (True = masked) or
            additive float mask (default: None).
        use_separate_proj_weight (bool): use q/k/v_proj_weight instead of in_proj_weight
            (default: False).
        q_proj_weight, k_proj_weight, v_proj_weight (Tensor, optional): (E, E), (E, Ek), (E, Ev).
        static_k, static_v (Tensor, optional): (N * num_heads, S, E / num_heads) keys/values used as
            they are (default: None).
        average_attn_weights (bool): average the returned weights over heads (default: True).
        is_causal (bool): a hint that attn_mask is the causal mask; needs attn_mask, as torch
            (default: False).

    Returns:
        (Tensor, Tensor or None): output (L, N, E) (or (L, E)) and, with need_weights, weights
        (N, L, S) averaged or (N, num_heads, L, S) per head (no N when unbatched).

    Example:
        >>> E, x = 8, ember.randn(5, 2, 8)
        >>> out, w = multi_head_attention_forward(x, x, x, E, 2, ember.randn(3 * E, E), None, None, None, False,
        ...                                       0.0, ember.randn(E, E), None)
        >>> out.shape, w.shape
        ((5, 2, 8), (2, 5, 5))
    """
    op = "multi_head_attention_forward"
    is_batched = _mha_batched(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise ValueError(f"[{op}] is_causal=True needs attn_mask (the causal mask itself); make one with "
                         f"Transformer.generate_square_subsequent_mask")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # let scaled_dot_product_attention apply the causal mask
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", query.dtype)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise ValueError(f"[{op}] query has the wrong embedding size: expected {embed_dim_to_check}, got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise ValueError(f"[{op}] embed_dim must be divisible by num_heads: got {embed_dim} and {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise ValueError(f"[{op}] key and value must share their sequence and batch dims: got "
                             f"{tuple(key.shape)} and {tuple(value.shape)}")
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise ValueError(f"[{op}] use_separate_proj_weight=True needs q_proj_weight, k_proj_weight and "
                             f"v_proj_weight")
        b_q, b_k, b_v = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
        q, k, v = linear(query, q_proj_weight, b_q), linear(key, k_proj_weight, b_k), linear(value, v_proj_weight, b_v)
    else:
        if tuple(key.shape) != tuple(value.shape):
            raise ValueError(f"[{op}] key and value must have the same shape: got {tuple(key.shape)} and "
                             f"{tuple(value.shape)}")
        if in_proj_weight is None:
            raise ValueError(f"[{op}] in_proj_weight is None but use_separate_proj_weight is False")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise ValueError(f"[{op}] 2-d attn_mask has the wrong shape: expected {(tgt_len, src_len)}, got "
                                 f"{tuple(attn_mask.shape)}")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise ValueError(f"[{op}] 3-d attn_mask has the wrong shape: expected "
                                 f"{(bsz * num_heads, tgt_len, src_len)}, got {tuple(attn_mask.shape)}")
        else:
            raise ValueError(f"[{op}] attn_mask must be 2-d or 3-d, got shape {tuple(attn_mask.shape)}")
    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise ValueError(f"[{op}] bias_k/bias_v cannot be added to static_k/static_v")
        k = ember.cat([k, bias_k.expand(1, bsz, embed_dim)], 0)
        v = ember.cat([v, bias_v.expand(1, bsz, embed_dim)], 0)
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    elif (bias_k is None) != (bias_v is None):
        raise ValueError(f"[{op}] bias_k and bias_v must be given together")
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)  # (N*h, L, hd)
    if static_k is None:
        k = k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1)  # (N*h, S, hd)
    else:
        if tuple(static_k.shape[::2]) != (bsz * num_heads, head_dim):
            raise ValueError(f"[{op}] static_k must be (N * num_heads, S, head_dim) = ({bsz * num_heads}, S, "
                             f"{head_dim}), got {tuple(static_k.shape)}")
        k = static_k
    if static_v is None:
        v = v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    else:
        if tuple(static_v.shape[::2]) != (bsz * num_heads, head_dim):
            raise ValueError(f"[{op}] static_v must be (N * num_heads, S, head_dim) = ({bsz * num_heads}, S, "
                             f"{head_dim}), got {tuple(static_v.shape)}")
        v = static_v
    if add_zero_attn:
        z = ember.zeros(bsz * num_heads, 1, head_dim, dtype=k.dtype, device=k.device)
        k = ember.cat([k, z], 1)
        v = ember.cat([v, z.to(v.dtype)], 1)
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    src_len = k.shape[1]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise ValueError(f"[{op}] key_padding_mask has the wrong shape: expected {(bsz, src_len)}, got "
                             f"{tuple(key_padding_mask.shape)}")
        kpm = key_padding_mask.view(bsz, 1, 1, src_len).expand(bsz, num_heads, 1, src_len)
        kpm = kpm.reshape(bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0
    if need_weights:
        scores = ember.bmm(q * math.sqrt(1.0 / head_dim), k.transpose(-2, -1))  # (N*h, L, S)
        if attn_mask is not None:
            scores = scores + attn_mask
        weights = softmax(scores, dim=-1)
        if dropout_p > 0.0:
            weights = dropout(weights, dropout_p, True)
        out = ember.bmm(weights, v)  # (N*h, L, hd)
        out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias).view(tgt_len, bsz, -1)
        weights = weights.view(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not is_batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights
    if attn_mask is not None:
        attn_mask = attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1 else attn_mask.view(bsz, num_heads, -1, src_len)
    q = q.view(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)  # (N, h, L, hd)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).view(tgt_len, bsz, -1)
    return (out if is_batched else out.squeeze(1)), None


def _in_projection_packed(q, k, v, w, b):
    E = q.shape[-1]
    if k is v:
        if q is k:  # self-attention: one product
            proj = linear(q, w, b)  # (L, N, 3E)
            return proj[..., :E], proj[..., E:2 * E], proj[..., 2 * E:]
        w_q, w_kv = w[:E], w[E:]
        b_q, b_kv = (None, None) if b is None else (b[:E], b[E:])
        kv = linear(k, w_kv, b_kv)
        return linear(q, w_q, b_q), kv[..., :E], kv[..., E:]
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = (None, None, None) if b is None else b.chunk(3)
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


# ---- CTC ---------------------------------------------------------------------------------------
def _int_list(op, name, v, n):
    if isinstance(v, Tensor):
        if v.is_floating_point():
            raise TypeError(f"[{op}] {name} must hold integers, got {v.dtype}")
        v = v.reshape(-1).tolist()
    elif isinstance(v, int):
        v = [v]
    out = [int(a) for a in v]
    if len(out) != n:
        raise ValueError(f"[{op}] {name} must have one entry per batch element: expected {n}, got {len(out)}")
    return out


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """Connectionist Temporal Classification loss (the forward algorithm in log space).

    The alpha recursion runs over time, vectorised over the batch and the 2S + 1 positions of
    the blank-extended targets, with ember ops, so autograd gives the exact gradient. Note:
    torch's ctc_loss returns a different gradient with respect to log_probs, one that assumes
    they come from log_softmax (it adds exp(log_probs)); through a log_softmax both agree.

    Args:
        log_probs (Tensor): (T, N, C) or unbatched (T, C) log-probabilities.
        targets (Tensor): (N, S) padded targets, or 1-d: all targets concatenated.
        input_lengths (Tensor or list of int): (N,) each input's length (<= T).
        target_lengths (Tensor or list of int): (N,) each target's length.
        blank (int): the blank label (default: 0).
        reduction (str): 'none' | 'mean' (each loss divided by its target length, then the
            batch mean) | 'sum' (default: 'mean').
        zero_infinity (bool): replace infinite losses (impossible alignments) and their
            gradients by zero (default: False).

    Returns:
        Tensor: scalar, or (N,) with reduction='none' (a scalar when unbatched).

    Example:
        >>> lp = ember.nn.functional.log_softmax(ember.randn(10, 2, 5), 2)
        >>> ctc_loss(lp, ember.tensor([[1, 2, 3], [4, 4, 0]]), [10, 8], [3, 2]).shape
        ()
    """
    op = "ctc_loss"
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"[{op}] reduction must be 'none', 'mean' or 'sum', got {reduction!r}")
    if not isinstance(log_probs, Tensor) or log_probs.dim() not in (2, 3):
        raise ValueError(f"[{op}] expected log_probs of shape (T, N, C) or (T, C), got "
                         f"{tuple(log_probs.shape) if isinstance(log_probs, Tensor) else type(log_probs).__name__}")
    if not log_probs.is_floating_point():
        raise TypeError(f"[{op}] log_probs must be floating point, got {log_probs.dtype}")
    unbatched = log_probs.dim() == 2
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
        if targets.dim() == 1:
            targets = targets.unsqueeze(0)
    T, N, C = log_probs.shape
    dev = log_probs.device  # every helper tensor lives there
    if not 0 <= blank < C:
        raise ValueError(f"[{op}] blank must be a class index in [0, {C}), got {blank}")
    in_lens = _int_list(op, "input_lengths", input_lengths, N)
    tg_lens = _int_list(op, "target_lengths", target_lengths, N)
    for n in range(N):
        if not 0 <= in_lens[n] <= T:
            raise ValueError(f"[{op}] input_lengths[{n}] must be in [0, {T}] (T of log_probs), got {in_lens[n]}")
        if tg_lens[n] < 0:
            raise ValueError(f"[{op}] target_lengths[{n}] must be >= 0, got {tg_lens[n]}")
    if targets.is_floating_point():
        raise TypeError(f"[{op}] targets must hold integer class indices, got {targets.dtype}")
    targets = targets.long().to(dev)  # CPU targets with GPU log_probs, as PyTorch allows
    S = max(tg_lens) if N else 0
    if targets.dim() == 2:
        if targets.shape[0] != N:
            raise ValueError(f"[{op}] padded targets must be (N, S) with N = {N}, got shape {tuple(targets.shape)}")
        if S > targets.shape[1]:
            raise ValueError(f"[{op}] a target length exceeds the padded targets: expected target_lengths <= "
                             f"{targets.shape[1]}, got {S}")
        tg = targets[:, :S]
    elif targets.dim() == 1:
        if sum(tg_lens) != targets.shape[0]:
            raise ValueError(f"[{op}] concatenated targets must hold sum(target_lengths) = {sum(tg_lens)} labels, "
                             f"got {targets.shape[0]}")
        starts = [sum(tg_lens[:n]) for n in range(N)]
        last = max(targets.shape[0] - 1, 0)  # padded slots read any valid label; they are masked below
        idx = [min(starts[n] + min(s, max(tg_lens[n] - 1, 0)), last) for n in range(N) for s in range(S)]
        tg = targets.index_select(0, ember.tensor(idx, dtype=ember.int64, device=dev)).view(N, S) if S \
            else ember.zeros(N, 0, dtype=ember.int64, device=dev)
    else:
        raise ValueError(f"[{op}] targets must be (N, S) padded or 1-d concatenated, got shape {tuple(targets.shape)}")
    valid = (ember.arange(S, device=dev).unsqueeze(0)
             < ember.tensor(tg_lens, dtype=ember.int64, device=dev).unsqueeze(1))  # (N, S)
    if S and bool(((tg < 0) | (tg >= C)).logical_and(valid).any()):
        raise IndexError(f"[{op}] targets out of range: expected class indices in [0, {C}), got values outside")
    tg = ember.where(valid, tg, ember.full_like(tg, blank))
    L = 2 * S + 1
    # blank-extended labels: blank, y1, blank, y2, ..., blank
    ext = ember.full((N, L), blank, dtype=ember.int64, device=dev)
    if S:
        ext = ember.stack([ext[:, :S], tg], 2).reshape(N, 2 * S)
        ext = ember.cat([ext, ember.full((N, 1), blank, dtype=ember.int64, device=dev)], 1)
    emit = log_probs.gather(2, ext.unsqueeze(0).expand(T, N, L))  # (T, N, L)
    dt = log_probs.dtype
    # skip transition s-2 -> s allowed where ext[s] is a label differing from ext[s-2]
    if L > 2:
        skip = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
        zero, log_zero = ember.zeros((), dtype=dt, device=dev), ember.full((), _LOG_ZERO, dtype=dt, device=dev)
        skip_pen = ember.cat([ember.full((N, 2), _LOG_ZERO, dtype=dt, device=dev),
                              ember.where(skip, zero, log_zero)], 1)
    else:
        skip_pen = ember.full((N, L), _LOG_ZERO, dtype=dt, device=dev)
    neg2 = ember.full((N, 2), _LOG_ZERO, dtype=dt, device=dev)
    alpha = ember.full((N, L), _LOG_ZERO, dtype=dt, device=dev)
    if T:  # alpha_0: start in the first blank or the first label
        alpha = ember.where((ember.arange(L, device=dev) < 2).unsqueeze(0), emit[0], alpha)
    lens_t = ember.tensor(in_lens, dtype=ember.int64, device=dev).unsqueeze(1)  # (N, 1)
    max_t = max(in_lens) if N else 0
    for t in range(1, max_t):
        ap = ember.cat([neg2, alpha], 1)  # (N, L + 2): ap[:, s + 2] = alpha[s]
        new = ember.logaddexp(ember.logaddexp(alpha, ap[:, 1:L + 1]), ap[:, :L] + skip_pen) + emit[t]
        alpha = new if min(in_lens) > t else ember.where(lens_t > t, new, alpha)
    # log-likelihood: the last blank or the last label of each target
    last = ember.tensor([[2 * s, max(2 * s - 1, 0)] for s in tg_lens], dtype=ember.int64, device=dev).view(N, 2)
    ends = alpha.gather(1, last)  # (N, 2)
    has_label = ember.tensor([s > 0 for s in tg_lens], dtype=ember.bool, device=dev)
    second = ember.where(has_label, ends[:, 1], ember.full((), _LOG_ZERO, dtype=dt, device=dev))
    ll = ember.logaddexp(ends[:, 0], second)
    no_input = ember.tensor([n == 0 for n in in_lens], dtype=ember.bool, device=dev)
    if bool(no_input.any()):  # an empty input explains only an empty target
        ll = ember.where(no_input, ember.zeros((), dtype=dt, device=dev), ll)
    impossible = (ll < _LOG_ZERO / 2) | (no_input & has_label)
    if bool(impossible.any()):
        ll = ember.where(impossible, ember.full((), float("-inf"), dtype=dt, device=dev), ll)
    loss = -ll  # (N,)
    if zero_infinity:
        loss = ember.where(ember.isinf(loss), ember.zeros((), dtype=dt, device=dev), loss)
    if reduction == "none":
        return loss.squeeze(0) if unbatched else loss
    if reduction == "sum":
        return loss.sum()
    return (loss / ember.tensor(tg_lens, dtype=dt, device=dev).clamp(min=1)).mean()
