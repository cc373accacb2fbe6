"""Collation: turning a list of samples into a batch (default_collate), or converting one
sample's NumPy arrays to tensors (default_convert). ``collate`` with a type map lets a custom
collate_fn reuse the recursion for its own types."""
import collections.abc
import re

import ember

__all__ = ["collate", "default_collate", "default_convert", "default_collate_fn_map"]

_np_str_obj = re.compile(r"[SaUO]")
_ERR = "[default_collate] batch must contain tensors, numpy arrays, numbers, strings, dicts or lists: found {}"


def _is_numpy(x):
    return type(x).__module__ == "numpy"


def _numpy_to_tensor(x):
    import numpy as np
    a = np.asarray(x)
    if _np_str_obj.search(a.dtype.str) is not None:
        raise TypeError(_ERR.format(a.dtype))
    return ember.from_numpy(a if a.flags.c_contiguous else a.copy(order="C"))


def _shape(t):
    return tuple(t.shape)


def collate_tensor_fn(batch, *, collate_fn_map=None):
    """Stacks equally shaped tensors along a new first dimension.

    Args:
        batch (list of Tensor).
        collate_fn_map: unused (the signature every entry of a collate_fn_map has).

    Returns:
        Tensor: (len(batch), *shape).

    Example:
        >>> collate_tensor_fn([ember.zeros(2), ember.ones(2)]).shape
        (2, 2)
    """
    shape = _shape(batch[0])
    for i, t in enumerate(batch):
        if _shape(t) != shape:
            raise RuntimeError(f"[default_collate] tensors in a batch must have equal shapes to be stacked: "
                               f"expected {shape} (entry 0), got {_shape(t)} at entry {i}; pad them in a custom "
                               f"collate_fn, or use batch_size=None")
    return ember.stack(batch, 0)


def _collate_numpy_array(batch, *, collate_fn_map=None):
    return collate([_numpy_to_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def _collate_numpy_scalar(batch, *, collate_fn_map=None):
    import numpy as np
    return _numpy_to_tensor(np.array(batch))


def _collate_float(batch, *, collate_fn_map=None):
    return ember.tensor(batch, dtype=ember.float64)


def _collate_int(batch, *, collate_fn_map=None):
    return ember.tensor(batch)


def _collate_str(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map = {ember.Tensor: collate_tensor_fn, float: _collate_float, int: _collate_int,
                          str: _collate_str, bytes: _collate_str}


def collate(batch, *, collate_fn_map=None):
    """General collation: dispatches on the type of ``batch[0]`` through ``collate_fn_map``
    and recurses into dicts, namedtuples, tuples and lists.

    Args:
        batch (list): samples of the same structure.
        collate_fn_map (dict type -> callable, default None): ``fn(batch, *, collate_fn_map)``
            per element type (subclasses match too); None uses ``default_collate_fn_map``.

    Returns:
        The batch, with the structure of one sample.

    Example:
        >>> fns = dict(default_collate_fn_map); fns[str] = lambda b, *, collate_fn_map: "|".join(b)
        >>> collate([("a", 1), ("b", 2)], collate_fn_map=fns)[0]
        'a|b'
    """
    fns = default_collate_fn_map if collate_fn_map is None else collate_fn_map
    if not isinstance(batch, collections.abc.Sequence) or isinstance(batch, (str, bytes)):
        raise TypeError(f"[default_collate] expected a list of samples, got {type(batch).__name__}")
    if len(batch) == 0:
        raise ValueError("[default_collate] batch is empty: expected at least one sample")
    elem = batch[0]
    elem_type = type(elem)
    if elem_type in fns:
        return fns[elem_type](batch, collate_fn_map=fns)
    for t, fn in fns.items():
        if isinstance(elem, t):
            return fn(batch, collate_fn_map=fns)
    if _is_numpy(elem) and elem_type.__name__ not in ("str_", "bytes_", "string_"):
        if elem_type.__name__ in ("ndarray", "memmap"):
            if _np_str_obj.search(elem.dtype.str) is not None:
                raise TypeError(_ERR.format(elem.dtype))
            return _collate_numpy_array(batch, collate_fn_map=fns)
        if getattr(elem, "shape", None) == ():
            return _collate_numpy_scalar(batch, collate_fn_map=fns)
    if isinstance(elem, collections.abc.Mapping):
        keys = list(elem)
        for i, d in enumerate(batch):
            if not isinstance(d, collections.abc.Mapping) or set(d) != set(keys):
                got = sorted(map(str, d)) if isinstance(d, collections.abc.Mapping) else type(d).__name__
                raise RuntimeError(f"[default_collate] every dict in a batch must have the same keys: expected "
                                   f"{sorted(map(str, keys))} (entry 0), got {got} at entry {i}")
        out = {key: collate([d[key] for d in batch], collate_fn_map=fns) for key in keys}
        try:
            import copy
            clone = copy.copy(elem)
            clone.update(out)
            return clone
        except (TypeError, AttributeError):
            return out
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        _check_lengths(batch)
        return elem_type(*(collate(list(s), collate_fn_map=fns) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        _check_lengths(batch)
        transposed = [list(s) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return [collate(s, collate_fn_map=fns) for s in transposed]  # PyTorch returns a list here
        try:
            return elem_type([collate(s, collate_fn_map=fns) for s in transposed])
        except TypeError:
            return [collate(s, collate_fn_map=fns) for s in transposed]
    raise TypeError(_ERR.format(elem_type))


def _check_lengths(batch):
    n = len(batch[0])
    for i, s in enumerate(batch):
        if not isinstance(s, collections.abc.Sized) or len(s) != n:
            got = len(s) if isinstance(s, collections.abc.Sized) else type(s).__name__
            raise RuntimeError(f"[default_collate] each element in a batch should be of equal size: expected "
                               f"length {n} (entry 0), got {got} at entry {i}")


def default_collate(batch):
    """Merges a list of samples into a batch, following PyTorch's rules.

    Tensors are stacked (shapes must match); NumPy arrays become stacked tensors; NumPy
    scalars a tensor of their dtype; Python floats a float64 tensor; ints an int64 tensor
    (bools a bool tensor); strings and bytes stay a list. Dicts, namedtuples, tuples and
    lists are collated field by field (tuples come back as lists, as in PyTorch).

    Args:
        batch (list): samples of the same structure.

    Returns:
        The batch, structured as one sample with a leading batch dimension on each tensor.

    Raises:
        RuntimeError: tensors of different shapes, sequences of different lengths or dicts
            with different keys. TypeError: an element type it cannot collate.

    Example:
        >>> b = default_collate([(ember.zeros(2), 1, "a"), (ember.ones(2), 2, "b")])
        >>> b[0].shape, b[1].tolist(), b[2]
        ((2, 2), [1, 2], ['a', 'b'])
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)


def default_convert(data):
    """Converts NumPy arrays and scalars in one sample to tensors, leaving the rest as is
    (the collate_fn of a DataLoader with ``batch_size=None``).

    Args:
        data: a sample; dicts, namedtuples, tuples and lists are converted recursively
            (tuples become lists, as in PyTorch).

    Returns:
        The sample with its NumPy arrays as tensors (sharing memory).

    Example:
        >>> import numpy as np
        >>> default_convert({"x": np.zeros(2, dtype=np.float32), "y": 3})["x"].dtype
        ember.float32
    """
    elem_type = type(data)
    if isinstance(data, ember.Tensor):
        return data
    if _is_numpy(data) and elem_type.__name__ not in ("str_", "bytes_", "string_"):
        if elem_type.__name__ in ("ndarray", "memmap") or getattr(data, "shape", None) == ():
            if _np_str_obj.search(data.dtype.str) is not None:
                return data
            return _numpy_to_tensor(data)
        return data
    if isinstance(data, collections.abc.Mapping):
        out = {k: default_convert(v) for k, v in data.items()}
        try:
            import copy
            clone = copy.copy(data)
            clone.update(out)
            return clone
        except (TypeError, AttributeError):
            return out
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            return elem_type([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data
