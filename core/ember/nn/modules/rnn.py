"""Recurrent layers: RNN, LSTM and GRU (multi-layer, bidirectional, packed sequences) and their
single-step cells, with PyTorch's constructor arguments, parameter names, initialisation and
gate order. The recurrence itself lives in ``ember.nn._seq_functional``."""
import math
import numbers
import warnings

import ember
from ember import Tensor

from .. import init
from .._seq_functional import _cell, rnn_packed
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _factory(device, dtype):
    return {"dtype": dtype if dtype is not None else ember.get_default_dtype(),
            "device": device if device is not None else "cpu"}


class RNNBase(Module):
    """The shared machinery of RNN, LSTM and GRU: parameters, argument checks and the packed or
    padded forward pass. Use one of the subclasses.

    Args:
        mode (str): 'RNN_TANH', 'RNN_RELU', 'LSTM' or 'GRU'.
        input_size (int): features of each input step.
        hidden_size (int): features of the hidden state.
        num_layers (int): stacked layers (default: 1).
        bias (bool): learn b_ih and b_hh (default: True).
        batch_first (bool): inputs and outputs are (B, T, *) instead of (T, B, *) (default: False).
        dropout (float): dropout on the outputs of every layer but the last, in training
            (default: 0.0).
        bidirectional (bool): also run each layer backwards and concatenate (default: False).
        proj_size (int): LSTM only: project h to this size (0: no projection) (default: 0).
        device, dtype: where and how the parameters are created.

    Parameters (per layer k, with ``_reverse`` appended for the backward direction):
        weight_ih_l{k} (G * hidden_size, input features), weight_hh_l{k} (G * hidden_size,
        hidden or proj size), bias_ih_l{k}, bias_hh_l{k} (G * hidden_size,), weight_hr_l{k}
        (proj_size, hidden_size); G = 4 (LSTM), 3 (GRU) or 1. All drawn from
        U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).

    Example:
        >>> import ember
        >>> ember.nn.modules.rnn.RNNBase("GRU", 4, 8).weight_ih_l0.shape
        (24, 4)
    """

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        name = {"RNN_TANH": "RNN", "RNN_RELU": "RNN"}.get(mode, mode)
        if mode not in _GATES:
            raise ValueError(f"[RNNBase] unknown mode: expected one of {sorted(_GATES)}, got {mode!r}")
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(f"[{name}] dropout must be a number in [0, 1], got {dropout!r}")
        for arg, v in (("bias", bias), ("batch_first", batch_first)):
            if not isinstance(v, bool):
                raise TypeError(f"[{name}] {arg} must be a bool, got {type(v).__name__}")
        for arg, v in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if not isinstance(v, numbers.Integral) or isinstance(v, bool):
                raise TypeError(f"[{name}] {arg} must be an int, got {type(v).__name__}")
            if v <= 0:
                raise ValueError(f"[{name}] {arg} must be greater than zero, got {v}")
        if proj_size < 0:
            raise ValueError(f"[{name}] proj_size must be >= 0 (0 disables projections), got {proj_size}")
        if proj_size >= hidden_size:
            raise ValueError(f"[{name}] proj_size must be smaller than hidden_size, got proj_size={proj_size} and "
                             f"hidden_size={hidden_size}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"[{name}] dropout applies between recurrent layers, so it has no effect with "
                          f"num_layers=1 (got dropout={dropout})", stacklevel=2)
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = int(input_size), int(hidden_size), int(num_layers)
        self.bias, self.batch_first = bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, int(proj_size)
        fk = _factory(device, dtype)
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        D = 2 if bidirectional else 1
        self._flat_weights_names, self._all_weights = [], []
        for layer in range(num_layers):
            for direction in range(D):
                layer_input = input_size if layer == 0 else real_hidden * D
                sfx = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                params = [("weight_ih" + sfx, (gate_size, layer_input)), ("weight_hh" + sfx, (gate_size, real_hidden))]
                if bias:
                    params += [("bias_ih" + sfx, (gate_size,)), ("bias_hh" + sfx, (gate_size,))]
                if proj_size > 0:
                    params += [("weight_hr" + sfx, (proj_size, hidden_size))]
                for pname, shape in params:
                    setattr(self, pname, Parameter(ember.empty(shape, **fk)))
                names = [p for p, _ in params]
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self):
        """Re-draws every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    @property
    def all_weights(self):
        """Parameters grouped per layer and direction (lists of Parameters)."""
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    def flatten_parameters(self):
        """A no-op kept for PyTorch compatibility (there is no cuDNN weight buffer to compact)."""

    def _label(self):
        return f"{self._get_name()}(input_size={self.input_size}, hidden_size={self.hidden_size})"

    def _layer_weights(self):
        out = []
        for sfx_names in self._all_weights:
            sfx = sfx_names[0][len("weight_ih"):]
            get = lambda n: getattr(self, n + sfx, None)  # noqa: E731
            out.append((get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh"), get("weight_hr")))
        return out

    def _hidden_shapes(self, batch):
        D = 2 if self.bidirectional else 1
        h = (self.num_layers * D, batch, self.proj_size if self.proj_size > 0 else self.hidden_size)
        return h, (self.num_layers * D, batch, self.hidden_size)

    def _check_state(self, name, t, shape):
        if not isinstance(t, Tensor):
            raise TypeError(f"{self._label()}: expected {name} to be a Tensor, got {type(t).__name__}")
        if tuple(t.shape) != shape:
            raise ValueError(f"{self._label()}: expected {name} of shape {shape}, got {tuple(t.shape)}")

    def _run(self, input, hx):
        """Shared forward: returns (output, h_n, c_n) with c_n None for RNN/GRU."""
        is_lstm = self.mode == "LSTM"
        weight = getattr(self, self._flat_weights_names[0])
        packed = isinstance(input, PackedSequence)
        if packed:
            data, batch_sizes_t, sorted_indices, unsorted_indices = input
            x = data
            if x.dim() != 2:
                raise ValueError(f"{self._label()}: expected packed data of shape (N, {self.input_size}), got "
                                 f"{tuple(x.shape)}")
            batch_sizes = [int(b) for b in batch_sizes_t.tolist()]
            batch = batch_sizes[0] if batch_sizes else 0
            batched = True
        else:
            if not isinstance(input, Tensor):
                raise TypeError(f"{self._label()}: expected input to be a Tensor or PackedSequence, got "
                                f"{type(input).__name__}")
            if input.dim() not in (2, 3):
                raise ValueError(f"{self._label()}: expected a 2-d (unbatched) or 3-d (batched) input, got shape "
                                 f"{tuple(input.shape)}")
            batched = input.dim() == 3
            x = input if batched else input.unsqueeze(1)
            if batched and self.batch_first:
                x = x.transpose(0, 1)
            T, batch = x.shape[0], x.shape[1]
            batch_sizes = [batch] * T
            sorted_indices = unsorted_indices = None
        if x.shape[-1] != self.input_size:
            raise ValueError(f"{self._label()}: expected input with {self.input_size} features in its last dimension, "
                             f"got shape {tuple(input.data.shape if packed else input.shape)}")
        if x.dtype != weight.dtype:
            raise TypeError(f"{self._label()}: input dtype {x.dtype} does not match the weights' {weight.dtype}: "
                            f"convert the input with .to({weight.dtype}) or the module with .to({x.dtype})")
        if not batch_sizes or batch == 0:
            raise ValueError(f"{self._label()}: expected a non-empty sequence batch, got shape "
                             f"{tuple(input.data.shape if packed else input.shape)}")
        h_shape, c_shape = self._hidden_shapes(batch)
        if hx is None:
            h0 = ember.zeros(h_shape, dtype=x.dtype, device=x.device)
            c0 = ember.zeros(c_shape, dtype=x.dtype, device=x.device) if is_lstm else None
        else:
            if is_lstm:
                if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                    raise TypeError(f"{self._label()}: expected hx to be a tuple (h_0, c_0), got {type(hx).__name__}")
                h0, c0 = hx
            else:
                h0, c0 = hx, None
            states = [("h_0", h0, h_shape)] + ([("c_0", c0, c_shape)] if is_lstm else [])
            for name, t, shape in states:
                if not isinstance(t, Tensor):
                    raise TypeError(f"{self._label()}: expected {name} to be a Tensor, got {type(t).__name__}")
                want = 3 if batched else 2
                if t.dim() != want:
                    raise ValueError(f"{self._label()}: for {'batched 3-d' if batched else 'unbatched 2-d'} input, "
                                     f"expected a {want}-d {name}, got shape {tuple(t.shape)}")
            if not batched:
                h0 = h0.unsqueeze(1)
                c0 = c0.unsqueeze(1) if is_lstm else None
            self._check_state("h_0", h0, h_shape)
            if is_lstm:
                self._check_state("c_0", c0, c_shape)
            if sorted_indices is not None:
                h0 = h0.index_select(1, sorted_indices)
                c0 = c0.index_select(1, sorted_indices) if is_lstm else None
        data = x if packed else x.reshape(len(batch_sizes) * batch, self.input_size)
        out, h_n, c_n = rnn_packed(self.mode, data, batch_sizes, h0, c0, self._layer_weights(), self.num_layers,
                                   self.bidirectional, self.dropout, self.training)
        if packed:
            if unsorted_indices is not None:
                h_n = h_n.index_select(1, unsorted_indices)
                c_n = c_n.index_select(1, unsorted_indices) if is_lstm else None
            return PackedSequence(out, batch_sizes_t, sorted_indices, unsorted_indices), h_n, c_n
        out = out.view(len(batch_sizes), batch, out.shape[-1])  # (T, B, D * Hout)
        if not batched:
            return out.squeeze(1), h_n.squeeze(1), (c_n.squeeze(1) if is_lstm else None)
        if self.batch_first:
            out = out.transpose(0, 1)  # (B, T, D * Hout)
        return out, h_n, c_n

    def forward(self, input, hx=None):
        """Runs the layer: returns (output, h_n); see the subclasses."""
        out, h_n, c_n = self._run(input, hx)
        return (out, (h_n, c_n)) if self.mode == "LSTM" else (out, h_n)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu), stacked over
    num_layers, optionally bidirectional.

    Args:
        input_size (int), hidden_size (int), num_layers (int, default: 1),
        nonlinearity (str): 'tanh' or 'relu' (default: 'tanh'),
        bias (bool, default: True), batch_first (bool, default: False),
        dropout (float, default: 0.0), bidirectional (bool, default: False), device, dtype:
        as in RNNBase.

    Inputs:
        input: (T, B, input_size), (B, T, input_size) with batch_first, unbatched
            (T, input_size), or a PackedSequence.
        hx: (num_layers * D, B, hidden_size) (no B when unbatched) (default: zeros).

    Returns:
        (output, h_n): output (T, B, D * hidden_size) (or (B, T, ...), (T, ...), or a
        PackedSequence), h_n (num_layers * D, B, hidden_size) holding each sequence's last
        valid state; D = 2 if bidirectional else 1.

    Example:
        >>> import ember
        >>> rnn = ember.nn.RNN(10, 20, 2)
        >>> out, h = rnn(ember.randn(5, 3, 10))
        >>> out.shape, h.shape
        ((5, 3, 20), (2, 3, 20))
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("[RNN] proj_size is only supported by LSTM")
        if len(args) > 3:
            nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"[RNN] nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", *args, **kwargs)

    def forward(self, input, hx=None):
        """Applies the RNN: returns (output, h_n)."""
        return super().forward(input, hx)


class LSTM(RNNBase):
    """Long short-term memory, torch's gate order (i, f, g, o):
    c_t = f * c_{t-1} + i * g, h_t = o * tanh(c_t) (then h_t W_hr^T with proj_size).

    Args:
        input_size (int), hidden_size (int), num_layers (int, default: 1), bias (bool, default:
        True), batch_first (bool, default: False), dropout (float, default: 0.0),
        bidirectional (bool, default: False), proj_size (int, default: 0), device, dtype: as in
        RNNBase.

    Inputs:
        input: (T, B, input_size), (B, T, input_size) with batch_first, (T, input_size), or a
            PackedSequence.
        hx: optional (h_0, c_0): (num_layers * D, B, proj_size or hidden_size) and
            (num_layers * D, B, hidden_size) (default: zeros).

    Returns:
        (output, (h_n, c_n)): output (T, B, D * (proj_size or hidden_size)) (or batch-first,
        unbatched or packed), h_n and c_n shaped as h_0 and c_0.

    Example:
        >>> import ember
        >>> lstm = ember.nn.LSTM(10, 20, batch_first=True, bidirectional=True)
        >>> out, (h, c) = lstm(ember.randn(3, 5, 10))
        >>> out.shape, h.shape
        ((3, 5, 40), (2, 3, 20))
    """

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def forward(self, input, hx=None):
        """Applies the LSTM: returns (output, (h_n, c_n))."""
        return super().forward(input, hx)


class GRU(RNNBase):
    """Gated recurrent unit, torch's gate order (r, z, n):
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h_t = (1 - z) * n + z * h_{t-1}.

    Args:
        input_size (int), hidden_size (int), num_layers (int, default: 1), bias (bool, default:
        True), batch_first (bool, default: False), dropout (float, default: 0.0),
        bidirectional (bool, default: False), device, dtype: as in RNNBase.

    Inputs and returns: as RNN.

    Example:
        >>> import ember
        >>> gru = ember.nn.GRU(10, 20)
        >>> out, h = gru(ember.randn(5, 10))             # unbatched (T, input_size)
        >>> out.shape, h.shape
        ((5, 20), (1, 20))
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("[GRU] proj_size is only supported by LSTM")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input, hx=None):
        """Applies the GRU: returns (output, h_n)."""
        return super().forward(input, hx)


# ---- cells ---------------------------------------------------------------------------------------
class RNNCellBase(Module):
    """The shared machinery of RNNCell, LSTMCell and GRUCell.

    Args:
        input_size (int), hidden_size (int), bias (bool), num_chunks (int): gates (1, 4 or 3),
        device, dtype.

    Parameters:
        weight_ih (num_chunks * hidden_size, input_size), weight_hh (num_chunks * hidden_size,
        hidden_size), bias_ih, bias_hh (num_chunks * hidden_size,): U(-1/sqrt(hidden_size),
        1/sqrt(hidden_size)).

    Example:
        >>> import ember
        >>> ember.nn.GRUCell(3, 4).weight_hh.shape
        (12, 4)
    """

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        for arg, v in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"[{type(self).__name__}] {arg} must be a positive int, got {v!r}")
        self.input_size, self.hidden_size, self.bias = int(input_size), int(hidden_size), bias
        fk = _factory(device, dtype)
        self.weight_ih = Parameter(ember.empty(num_chunks * hidden_size, input_size, **fk))
        self.weight_hh = Parameter(ember.empty(num_chunks * hidden_size, hidden_size, **fk))
        if bias:
            self.bias_ih = Parameter(ember.empty(num_chunks * hidden_size, **fk))
            self.bias_hh = Parameter(ember.empty(num_chunks * hidden_size, **fk))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Re-draws every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _label(self):
        return f"{self._get_name()}(input_size={self.input_size}, hidden_size={self.hidden_size})"

    def _prepare(self, input, states):
        """(batched input, batched states, whether a batch dim was added), with checks."""
        if not isinstance(input, Tensor):
            raise TypeError(f"{self._label()}: expected input to be a Tensor, got {type(input).__name__}")
        if input.dim() not in (1, 2):
            raise ValueError(f"{self._label()}: expected a 1-d (unbatched) or 2-d (batched) input, got shape "
                             f"{tuple(input.shape)}")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{self._label()}: expected input with {self.input_size} features in its last dimension, "
                             f"got shape {tuple(input.shape)}")
        if input.dtype != self.weight_ih.dtype:
            raise TypeError(f"{self._label()}: input dtype {input.dtype} does not match the weights' "
                            f"{self.weight_ih.dtype}")
        unbatched = input.dim() == 1
        x = input.unsqueeze(0) if unbatched else input
        out = []
        for name, s in states:
            if s is None:
                s = ember.zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.device)
            else:
                if not isinstance(s, Tensor):
                    raise TypeError(f"{self._label()}: expected {name} to be a Tensor, got {type(s).__name__}")
                want = (self.hidden_size,) if unbatched else (x.shape[0], self.hidden_size)
                if tuple(s.shape) != want:
                    raise ValueError(f"{self._label()}: expected {name} of shape {want}, got {tuple(s.shape)}")
                s = s.unsqueeze(0) if unbatched else s
            out.append(s)
        return x, out, unbatched


class RNNCell(RNNCellBase):
    """One Elman RNN step: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu).

    Args:
        input_size (int), hidden_size (int), bias (bool, default: True),
        nonlinearity (str): 'tanh' or 'relu' (default: 'tanh'), device, dtype.

    Inputs:
        input (B, input_size) or (input_size,); hx (B, hidden_size) or (hidden_size,) (default: zeros).

    Returns:
        Tensor: h' (B, hidden_size) or (hidden_size,).

    Example:
        >>> import ember
        >>> ember.nn.RNNCell(10, 20)(ember.randn(3, 10)).shape
        (3, 20)
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"[RNNCell] nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        """Applies one step; returns h'."""
        x, (h,), unbatched = self._prepare(input, [("hx", hx)])
        mode = "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"
        h = _cell(mode, x, h, None, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)[0]
        return h.squeeze(0) if unbatched else h


class LSTMCell(RNNCellBase):
    """One LSTM step (gate order i, f, g, o).

    Args:
        input_size (int), hidden_size (int), bias (bool, default: True), device, dtype.

    Inputs:
        input (B, input_size) or (input_size,); hx: optional (h, c), each (B, hidden_size) or
        (hidden_size,) (default: zeros).

    Returns:
        (Tensor, Tensor): h' and c'.

    Example:
        >>> import ember
        >>> h, c = ember.nn.LSTMCell(10, 20)(ember.randn(3, 10))
        >>> h.shape, c.shape
        ((3, 20), (3, 20))
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        """Applies one step; returns (h', c')."""
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"{self._label()}: expected hx to be a tuple (h, c), got {type(hx).__name__}")
        h0, c0 = (None, None) if hx is None else hx
        x, (h, c), unbatched = self._prepare(input, [("h", h0), ("c", c0)])
        h, c = _cell("LSTM", x, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)


class GRUCell(RNNCellBase):
    """One GRU step (gate order r, z, n).

    Args:
        input_size (int), hidden_size (int), bias (bool, default: True), device, dtype.

    Inputs:
        input (B, input_size) or (input_size,); hx (B, hidden_size) or (hidden_size,) (default: zeros).

    Returns:
        Tensor: h'.

    Example:
        >>> import ember
        >>> ember.nn.GRUCell(10, 20)(ember.randn(10)).shape
        (20,)
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        """Applies one step; returns h'."""
        x, (h,), unbatched = self._prepare(input, [("hx", hx)])
        h = _cell("GRU", x, h, None, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)[0]
        return h.squeeze(0) if unbatched else h
