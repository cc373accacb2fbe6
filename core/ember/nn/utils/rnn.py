"""Variable-length sequence batches for recurrent layers (PyTorch's torch.nn.utils.rnn).

A ``PackedSequence`` stores a batch of sequences of different lengths time step by time step:
``data`` holds, for t = 0, 1, ..., the rows of the sequences still running at t (longest
first), and ``batch_sizes[t]`` says how many there are. RNN, LSTM and GRU accept one and stop
each sequence at its own length. Packing and unpacking are single ``index_select`` calls on
the flattened batch, so gradients flow through them.

Example:
    >>> import ember
    >>> from ember.nn.utils.rnn import pad_sequence, pack_padded_sequence, pad_packed_sequence
    >>> seqs = [ember.ones(3, 2), ember.ones(1, 2)]
    >>> packed = pack_padded_sequence(pad_sequence(seqs), [3, 1])
    >>> packed.batch_sizes.tolist()
    [2, 1, 1]
    >>> pad_packed_sequence(packed)[1].tolist()
    [3, 1]
"""
from collections import namedtuple

import ember
from ember import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence",
           "pad_sequence", "unpad_sequence", "pack_sequence", "unpack_sequence"]


def invert_permutation(permutation):
    """The inverse of a permutation (None stays None).

    Args:
        permutation (Tensor or None): a 1-d int64 permutation of 0..n-1.

    Returns:
        Tensor or None: (n,) int64 ``inv`` with ``inv[permutation[i]] = i``.

    Example:
        >>> invert_permutation(ember.tensor([2, 0, 1])).tolist()
        [1, 2, 0]
    """
    if permutation is None:
        return None
    return ember.empty_like(permutation).scatter_(0, permutation,
                                                  ember.arange(permutation.numel(), device=permutation.device))


_PackedSequenceBase = namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


class PackedSequence(_PackedSequenceBase):
    """A batch of variable-length sequences packed time step by time step (a namedtuple, as
    torch's).

    Build one with ``pack_padded_sequence`` or ``pack_sequence`` rather than by hand.

    Args:
        data (Tensor): (sum of lengths, *) the rows of all sequences, time-major.
        batch_sizes (Tensor): (max length,) int64: how many sequences are running at each step.
        sorted_indices (Tensor, optional): (B,) int64: the original index of the i-th longest
            sequence (None when the batch was already sorted) (default: None).
        unsorted_indices (Tensor, optional): (B,) the inverse of sorted_indices (default:
            computed from it).

    Example:
        >>> p = pack_sequence([ember.ones(2, 3), ember.ones(1, 3)])
        >>> tuple(p.data.shape), p.batch_sizes.tolist()
        ((3, 3), [2, 1])
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not isinstance(data, (list, tuple)) or len(data) != 2:
                raise TypeError("[PackedSequence] expected data and batch_sizes, or a (data, batch_sizes) pair: "
                                f"got {type(data).__name__}")
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def _map_data(self, fn):
        return type(self)(fn(self.data), self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def to(self, *args, **kwargs):
        """Returns the sequence with data converted by ``Tensor.to`` (self if nothing changes)."""
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else type(self)(data, self.batch_sizes, self.sorted_indices,
                                                         self.unsorted_indices)

    def cpu(self):
        """Returns the sequence on the CPU."""
        return self.to("cpu")

    def double(self):
        """Returns the sequence with float64 data."""
        return self.to(ember.float64)

    def float(self):
        """Returns the sequence with float32 data."""
        return self.to(ember.float32)

    def half(self):
        """Returns the sequence with float16 data."""
        return self.to(ember.float16)

    def long(self):
        """Returns the sequence with int64 data."""
        return self.to(ember.int64)

    def int(self):
        """Returns the sequence with int32 data."""
        return self.to(ember.int32)

    @property
    def is_cuda(self):
        """Whether data lives on a CUDA device."""
        return self.data.is_cuda

    def is_pinned(self):
        """Always False: ember has no pinned host memory."""
        return False


def _lengths_list(op, lengths):
    if isinstance(lengths, Tensor):
        if lengths.dim() != 1:
            raise ValueError(f"[{op}] lengths must be a 1-d tensor, got shape {tuple(lengths.shape)}")
        return [int(v) for v in lengths.tolist()]
    try:
        return [int(v) for v in lengths]
    except TypeError:
        raise TypeError(f"[{op}] lengths must be a 1-d tensor or a list of ints, got "
                        f"{type(lengths).__name__}") from None


def _batch_sizes(lengths):
    """batch_sizes[t] = number of (descending) lengths > t."""
    out, i = [], len(lengths)
    for t in range(lengths[0] if lengths else 0):
        while i > 0 and lengths[i - 1] <= t:
            i -= 1
        out.append(i)
    return out


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Packs a padded batch of variable-length sequences.

    Args:
        input (Tensor): (T, B, *) padded sequences, or (B, T, *) with batch_first.
        lengths (Tensor or list of int): (B,) each sequence's length (1 <= length <= T).
        batch_first (bool): input is (B, T, *) (default: False).
        enforce_sorted (bool): require lengths in decreasing order; with False the batch is
            sorted here and the permutation kept in the result (default: True).

    Returns:
        PackedSequence: data (sum(lengths), *).

    Example:
        >>> x = ember.randn(4, 2, 3)                       # (T, B, C)
        >>> pack_padded_sequence(x, [4, 2]).data.shape
        (6, 3)
    """
    op = "pack_padded_sequence"
    if not isinstance(input, Tensor):
        raise TypeError(f"[{op}] expected input to be a Tensor, got {type(input).__name__}")
    if input.dim() < 2:
        raise ValueError(f"[{op}] expected input of at least 2 dims (T, B, *), got shape {tuple(input.shape)}")
    lens = _lengths_list(op, lengths)
    T, B = (input.shape[1], input.shape[0]) if batch_first else (input.shape[0], input.shape[1])
    if len(lens) != B:
        raise ValueError(f"[{op}] expected {B} lengths (one per sequence in the batch), got {len(lens)}")
    if any(v <= 0 for v in lens):
        raise ValueError(f"[{op}] every length must be greater than 0: got lengths {lens}")
    if max(lens) > T:
        raise ValueError(f"[{op}] a length exceeds the padded length: expected lengths <= {T}, got {max(lens)}")
    if enforce_sorted:
        if any(lens[i] < lens[i + 1] for i in range(B - 1)):
            raise ValueError(f"[{op}] lengths must be sorted in decreasing order when enforce_sorted=True, got "
                             f"{lens}; pass enforce_sorted=False to sort them here")
        order, sorted_indices = list(range(B)), None
    else:
        order = sorted(range(B), key=lambda i: -lens[i])
        sorted_indices = ember.tensor(order, dtype=ember.int64, device=input.device)  # batch_sizes stay on the CPU
    sorted_lens = [lens[i] for i in order]
    bs = _batch_sizes(sorted_lens)
    # one gather over the flattened (T * B) rows: packed row (t, i) is sequence order[i] at step t
    if batch_first:
        idx = [order[i] * T + t for t in range(len(bs)) for i in range(bs[t])]
    else:
        idx = [t * B + order[i] for t in range(len(bs)) for i in range(bs[t])]
    flat = input.reshape(T * B, *input.shape[2:])
    data = flat.index_select(0, ember.tensor(idx, dtype=ember.int64, device=flat.device))
    return PackedSequence(data, ember.tensor(bs, dtype=ember.int64), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Unpacks a PackedSequence into a padded batch (the inverse of pack_padded_sequence).

    Args:
        sequence (PackedSequence): the batch.
        batch_first (bool): return (B, T, *) instead of (T, B, *) (default: False).
        padding_value (float): the value of padded positions (default: 0.0).
        total_length (int, optional): pad to this many steps (>= the longest sequence)
            (default: None: the longest sequence).

    Returns:
        (Tensor, Tensor): the padded batch (T, B, *) or (B, T, *), in the original batch order,
        and the (B,) int64 lengths.

    Example:
        >>> p = pack_sequence([ember.ones(3, 2), ember.ones(1, 2)])
        >>> padded, lengths = pad_packed_sequence(p, batch_first=True)
        >>> padded.shape, lengths.tolist()
        ((2, 3, 2), [3, 1])
    """
    op = "pad_packed_sequence"
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"[{op}] expected a PackedSequence, got {type(sequence).__name__}")
    data, bs = sequence.data, [int(v) for v in sequence.batch_sizes.tolist()]
    T = len(bs)
    B = bs[0] if bs else 0
    if total_length is not None:
        if total_length < T:
            raise ValueError(f"[{op}] total_length must be at least the longest sequence's length: expected "
                             f">= {T}, got {total_length}")
    else:
        total_length = T
    unsorted = (list(range(B)) if sequence.unsorted_indices is None
                else [int(v) for v in sequence.unsorted_indices.tolist()])
    offsets = [0]
    for b in bs:
        offsets.append(offsets[-1] + b)
    n = offsets[-1]
    # padded (t, j) reads packed row offsets[t] + unsorted[j] when that sequence runs at t, else the pad row n
    if batch_first:
        idx = [offsets[t] + unsorted[j] if t < T and unsorted[j] < bs[t] else n
               for j in range(B) for t in range(total_length)]
        shape = (B, total_length)
    else:
        idx = [offsets[t] + unsorted[j] if t < T and unsorted[j] < bs[t] else n
               for t in range(total_length) for j in range(B)]
        shape = (total_length, B)
    rest = tuple(data.shape[1:])
    pad_row = ember.full((1,) + rest, padding_value, dtype=data.dtype, device=data.device)
    padded = ember.cat([data, pad_row], 0).index_select(0, ember.tensor(idx, dtype=ember.int64, device=data.device))
    padded = padded.view(*shape, *rest)
    sorted_lens = [sum(1 for b in bs if b > i) for i in range(B)]
    lengths = ember.tensor([sorted_lens[unsorted[j]] for j in range(B)], dtype=ember.int64)
    return padded, lengths


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stacks variable-length sequences into one padded batch.

    Args:
        sequences (list of Tensor): each (L_i, *), all with the same trailing shape.
        batch_first (bool): return (B, T, *) instead of (T, B, *) (default: False).
        padding_value (float): the value of padded positions (default: 0.0).
        padding_side (str): 'right' (pad after each sequence) or 'left' (default: 'right').

    Returns:
        Tensor: (T, B, *) or (B, T, *) with T the longest length.

    Example:
        >>> pad_sequence([ember.ones(2), ember.ones(1)], batch_first=True).tolist()
        [[1.0, 1.0], [1.0, 0.0]]
    """
    op = "pad_sequence"
    if padding_side not in ("right", "left"):
        raise ValueError(f"[{op}] padding_side must be 'left' or 'right', got {padding_side!r}")
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if not sequences:
        raise ValueError(f"[{op}] expected at least one sequence, got an empty list")
    for i, s in enumerate(sequences):
        if not isinstance(s, Tensor) or s.dim() < 1:
            raise TypeError(f"[{op}] expected each sequence to be a tensor of at least 1 dim, sequence {i} is "
                            f"{type(s).__name__ if not isinstance(s, Tensor) else tuple(s.shape)}")
        if tuple(s.shape[1:]) != tuple(sequences[0].shape[1:]):
            raise ValueError(f"[{op}] sequences must share their trailing shape: expected "
                             f"{tuple(sequences[0].shape[1:])}, got {tuple(s.shape[1:])} for sequence {i}")
    T = max(s.shape[0] for s in sequences)
    out = []
    for s in sequences:
        extra = T - s.shape[0]
        if extra:
            pads = [0, 0] * (s.dim() - 1) + ([0, extra] if padding_side == "right" else [extra, 0])
            s = ember.pad(s, pads, value=padding_value)
        out.append(s)
    return ember.stack(out, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Splits a padded batch into its sequences (the inverse of pad_sequence).

    Args:
        padded_sequences (Tensor): (T, B, *) or (B, T, *) with batch_first.
        lengths (Tensor or list of int): (B,) the lengths.
        batch_first (bool): the batch dim comes first (default: False).

    Returns:
        list of Tensor: B views, the i-th of shape (lengths[i], *).

    Example:
        >>> x = pad_sequence([ember.ones(2), ember.ones(1)])
        >>> [s.shape for s in unpad_sequence(x, [2, 1])]
        [(2,), (1,)]
    """
    lens = _lengths_list("unpad_sequence", lengths)
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    if len(lens) != x.shape[0]:
        raise ValueError(f"[unpad_sequence] expected {x.shape[0]} lengths, got {len(lens)}")
    return [x[i, :n] for i, n in enumerate(lens)]


def pack_sequence(sequences, enforce_sorted=True):
    """Packs a list of variable-length sequences.

    Args:
        sequences (list of Tensor): each (L_i, *).
        enforce_sorted (bool): require decreasing lengths (default: True).

    Returns:
        PackedSequence.

    Example:
        >>> pack_sequence([ember.ones(1), ember.ones(3)], enforce_sorted=False).batch_sizes.tolist()
        [2, 1, 1]
    """
    sequences = list(sequences)
    lengths = [s.shape[0] if isinstance(s, Tensor) and s.dim() else 0 for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """Splits a PackedSequence into its sequences, in the original order.

    Args:
        packed_sequences (PackedSequence): the batch.

    Returns:
        list of Tensor: each (L_i, *).

    Example:
        >>> seqs = unpack_sequence(pack_sequence([ember.ones(1), ember.ones(3)], enforce_sorted=False))
        >>> [s.shape for s in seqs]
        [(1,), (3,)]
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
