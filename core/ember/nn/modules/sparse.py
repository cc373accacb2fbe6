"""Embedding and EmbeddingBag."""
import ember

from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["Embedding", "EmbeddingBag"]


def _check_padding_idx(padding_idx, num, name):
    if padding_idx is None:
        return None
    if not -num <= padding_idx < num:
        raise ValueError(f"[{name}] padding_idx must be within num_embeddings: expected -{num} <= padding_idx < "
                         f"{num}, got {padding_idx}")
    return padding_idx % num


class Embedding(Module):
    """A lookup table: row i of weight for index i.

    Args:
        num_embeddings (int): the table size.
        embedding_dim (int): the size of each vector.
        padding_idx (int, optional): this row gets no gradient and starts at zero.
        max_norm (float, optional): rows looked up are renormalised in place to at most this.
        norm_type (float): the norm of max_norm (default: 2.0).
        scale_grad_by_freq (bool): scale gradients by inverse frequency in the batch (default: False).
        sparse (bool): sparse gradients (not supported by ember: dense) (default: False).
        _weight (Tensor, optional): an initial table.
        _freeze (bool): weight.requires_grad = not _freeze (default: False).
        device, dtype: where and how the table is created.

    Shape:
        input (*) int64 -> output (*, embedding_dim).

    Example:
        >>> import ember
        >>> ember.nn.Embedding(10, 3)(ember.tensor([[1, 2], [4, 5]])).shape
        (2, 2, 3)
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = _check_padding_idx(padding_idx, num_embeddings, "Embedding")
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = Parameter(ember.empty(num_embeddings, embedding_dim, dtype=dtype or ember.get_default_dtype(),
                                                device=device), requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"[Embedding] shape of weight does not match num_embeddings and embedding_dim: "
                                 f"expected {(num_embeddings, embedding_dim)}, got {tuple(_weight.shape)}")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self):
        """Draws the table from N(0, 1); the padding row is zeroed."""
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self):
        if self.padding_idx is not None:
            with ember.no_grad():
                self.weight[self.padding_idx].fill_(0)

    def forward(self, input):
        """Looks up the rows of input's indices."""
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse is not False:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, sparse=False):
        """An Embedding whose table is ``embeddings`` (2-d; shared, not copied).

        Args:
            embeddings (Tensor): (num_embeddings, embedding_dim).
            freeze (bool): the table gets no gradient (default: True).
            padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse: as for Embedding.

        Returns:
            Embedding

        Example:
            >>> import ember
            >>> e = ember.nn.Embedding.from_pretrained(ember.tensor([[1.0, 2.0], [3.0, 4.0]]))
            >>> e(ember.tensor([1])).tolist(), e.weight.requires_grad
            ([[3.0, 4.0]], False)
        """
        if embeddings.ndim != 2:
            raise ValueError(f"[Embedding.from_pretrained] embeddings must be 2-d: got shape "
                             f"{tuple(embeddings.shape)}")
        rows, cols = embeddings.shape
        return cls(rows, cols, _weight=embeddings, _freeze=freeze, padding_idx=padding_idx, max_norm=max_norm,
                   norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


class EmbeddingBag(Module):
    """Sums, averages or maxes bags of embeddings (F.embedding_bag) without materialising the
    per-index embeddings of each bag.

    Args:
        num_embeddings (int): the table size.
        embedding_dim (int): the size of each vector.
        max_norm (float, optional): rows used are renormalised in place to at most this.
        norm_type (float): the norm of max_norm (default: 2.0).
        scale_grad_by_freq (bool): not supported (default: False).
        mode (str): 'sum', 'mean' or 'max' (default: 'mean').
        sparse (bool): ignored (default: False).
        _weight (Tensor, optional): an initial table.
        include_last_offset (bool): offsets has one extra final entry (default: False).
        padding_idx (int, optional): entries with this index are left out of their bag.
        device, dtype: where and how the table is created.

    Example:
        >>> import ember
        >>> bag = ember.nn.EmbeddingBag(10, 3, mode="sum")
        >>> bag(ember.tensor([1, 2, 4, 5, 4, 3, 2, 9]), ember.tensor([0, 4])).shape
        (2, 3)
    """

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                 mode="mean", sparse=False, _weight=None, include_last_offset=False, padding_idx=None, device=None,
                 dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        self.padding_idx = _check_padding_idx(padding_idx, num_embeddings, "EmbeddingBag")
        if _weight is None:
            self.weight = Parameter(ember.empty(num_embeddings, embedding_dim, dtype=dtype or ember.get_default_dtype(),
                                                device=device))
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"[EmbeddingBag] shape of weight does not match num_embeddings and embedding_dim: "
                                 f"expected {(num_embeddings, embedding_dim)}, got {tuple(_weight.shape)}")
            self.weight = Parameter(_weight)
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"[EmbeddingBag] mode must be 'sum', 'mean' or 'max': got {mode!r}")
        self.mode, self.sparse, self.include_last_offset = mode, sparse, include_last_offset

    def reset_parameters(self):
        """Draws the table from N(0, 1); the padding row is zeroed."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with ember.no_grad():
                self.weight[self.padding_idx].fill_(0)

    def forward(self, input, offsets=None, per_sample_weights=None):
        """Applies F.embedding_bag."""
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                               self.mode, self.sparse, per_sample_weights, self.include_last_offset,
                               self.padding_idx)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                        mode="mean", sparse=False, include_last_offset=False, padding_idx=None):
        """An EmbeddingBag whose table is ``embeddings`` (2-d).

        Args:
            embeddings (Tensor): (num_embeddings, embedding_dim).
            freeze (bool): the table gets no gradient (default: True).
            other arguments: as for EmbeddingBag.

        Returns:
            EmbeddingBag

        Example:
            >>> import ember
            >>> b = ember.nn.EmbeddingBag.from_pretrained(ember.tensor([[1.0], [3.0]]))
            >>> b(ember.tensor([[0, 1]])).tolist()
            [[2.0]]
        """
        if embeddings.ndim != 2:
            raise ValueError(f"[EmbeddingBag.from_pretrained] embeddings must be 2-d: got shape "
                             f"{tuple(embeddings.shape)}")
        rows, cols = embeddings.shape
        bag = cls(rows, cols, max_norm, norm_type, scale_grad_by_freq, mode, sparse, embeddings, include_last_offset,
                  padding_idx)
        bag.weight.requires_grad_(not freeze)
        return bag
