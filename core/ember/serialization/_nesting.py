"""Nested containers <-> (flat dict of tensors, JSON structure).

A checkpoint such as an optimizer state dict,
``{"state": {0: {"step": t0, "exp_avg": t1}}, "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999)}]}``,
is stored as the tensors under flat names (``"state.0.exp_avg"``) plus a JSON description of
the containers and plain values that refers to the tensors by those names. The JSON lives in
the safetensors ``__metadata__`` under ``STRUCTURE_KEY``.

Encoding of one node (version 1):

==========================  ================================================
Python value                JSON
==========================  ================================================
None, bool, str             null, true/false, "..."
int                         a JSON integer
float                       ``{"float": repr(x)}`` (exact, inf/nan/-0.0 too)
Tensor                      ``{"tensor": "<flat name>"}``
list                        ``[node, ...]``
tuple                       ``{"tuple": [node, ...]}``
dict / OrderedDict          ``{"dict": [[key, value], ...]}`` / ``{"odict": ...}``
==========================  ================================================

Dict keys may be None, bool, int, float or str and keep their type and order.
"""
import collections
import json

from ._dtypes import is_tensor

STRUCTURE_KEY = "ember.structure"
VERSION = 1
_KEY_TYPES = (type(None), bool, int, float, str)


def _path_str(path):
    return "obj" + "".join(f"[{k!r}]" for k in path)


def _plain(v):
    """v as its exact base type (int/float/str subclasses such as numpy scalars or IntEnums
    are stored as their base value); None if v is not a plain value."""
    if v is None or type(v) is bool:
        return v, True
    for base in (int, float, str):
        if isinstance(v, base):
            return base(v), True
    return None, False


class _Flattener:
    def __init__(self):
        self.tensors = {}      # flat name -> Tensor
        self._by_id = {}       # id(tensor) -> flat name (the same object is stored once)
        self._keep = []        # keeps ids valid while flattening
        self._active = set()   # ids of containers on the current path (cycle check)

    def name_for(self, t, path):
        if id(t) in self._by_id:
            return self._by_id[id(t)]
        base = ".".join(str(k) for k in path) if path else "tensor"
        name, i = base, 1
        while name in self.tensors or name == "__metadata__":
            name, i = f"{base}#{i}", i + 1
        self.tensors[name] = t
        self._by_id[id(t)] = name
        self._keep.append(t)
        return name

    def node(self, v, path):
        if is_tensor(v):
            return {"tensor": self.name_for(v, path)}
        if isinstance(v, (dict, list, tuple)):
            if id(v) in self._active:
                raise ValueError(f"[save] {_path_str(path)} contains itself: cyclic structures cannot be saved")
            self._active.add(id(v))
            try:
                return self._container(v, path)
            finally:
                self._active.discard(id(v))
        p, ok = _plain(v)
        if not ok:
            raise TypeError(f"[save] cannot save {_path_str(path)}: expected a Tensor, dict, list, tuple, int, "
                            f"float, bool, str or None, got {type(v).__module__}.{type(v).__qualname__}")
        if isinstance(p, float):
            return {"float": repr(p)}
        return p

    def _container(self, v, path):
        if isinstance(v, dict):
            items = []
            for k, x in v.items():
                pk, ok = _plain(k)
                if not ok:
                    raise TypeError(f"[save] cannot save a dict key of type {type(k).__qualname__} in "
                                    f"{_path_str(path)}: expected None, bool, int, float or str keys")
                items.append([self.node(pk, path), self.node(x, path + (pk,))])
            return {"odict" if isinstance(v, collections.OrderedDict) else "dict": items}
        if isinstance(v, tuple):
            if hasattr(v, "_fields"):
                raise TypeError(f"[save] cannot save {_path_str(path)}: named tuples "
                                f"({type(v).__qualname__}) are not plain containers; convert with tuple(x)")
            return {"tuple": [self.node(x, path + (i,)) for i, x in enumerate(v)]}
        if type(v) is not list:
            raise TypeError(f"[save] cannot save {_path_str(path)}: expected a plain list, got "
                            f"{type(v).__module__}.{type(v).__qualname__}")
        return [self.node(x, path + (i,)) for i, x in enumerate(v)]


def is_flat(obj):
    """True if obj is a plain dict of str -> Tensor (written as plain safetensors)."""
    return type(obj) is dict and all(type(k) is str and is_tensor(v) for k, v in obj.items())


def flatten(obj):
    """Splits obj into (flat dict name -> Tensor, structure JSON string).

    Raises:
        TypeError: for an unsupported value or key, naming its path (``obj['state'][0]``).
    """
    fl = _Flattener()
    root = fl.node(obj, ())
    text = json.dumps({"version": VERSION, "root": root}, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False)
    return fl.tensors, text


def _bad(what):
    return ValueError(f"[load] bad '{STRUCTURE_KEY}' metadata: {what}")


class _Builder:
    def __init__(self, tensors):
        self.tensors = tensors
        self.used = set()

    def key(self, n):
        v = self.value(n)
        if not isinstance(v, _KEY_TYPES):
            raise _bad(f"dict keys must be None, bool, int, float or str, got {type(v).__name__}")
        return v

    def value(self, n):
        if n is None or isinstance(n, (bool, int, str)):
            return n
        if isinstance(n, list):
            return [self.value(x) for x in n]
        if not isinstance(n, dict) or len(n) != 1:
            raise _bad(f"expected a node (null, bool, int, str, list or a one-key object), got {_short(n)}")
        (tag, arg), = n.items()
        if tag == "tensor":
            if not isinstance(arg, str) or arg not in self.tensors:
                raise _bad(f"it refers to tensor {_short(arg)}, which the file does not hold")
            self.used.add(arg)
            return self.tensors[arg]
        if tag == "float":
            if not isinstance(arg, str):
                raise _bad(f"a float must be written as a string, got {_short(arg)}")
            try:
                return float(arg)
            except ValueError:
                raise _bad(f"not a float: {_short(arg)}") from None
        if tag == "tuple":
            if not isinstance(arg, list):
                raise _bad(f"a tuple must hold a list, got {_short(arg)}")
            return tuple(self.value(x) for x in arg)
        if tag in ("dict", "odict"):
            if not isinstance(arg, list) or not all(isinstance(p, list) and len(p) == 2 for p in arg):
                raise _bad(f"a {tag} must hold a list of [key, value] pairs, got {_short(arg)}")
            out = collections.OrderedDict() if tag == "odict" else {}
            for k, v in arg:
                out[self.key(k)] = self.value(v)
            return out
        raise _bad(f"unknown node kind {tag!r}: expected tensor, float, tuple, dict or odict")


def _short(x):
    s = repr(x)
    return s if len(s) <= 60 else s[:57] + "..."


def unflatten(text, tensors):
    """Rebuilds the nested object from the structure JSON and the flat tensors.

    Raises:
        ValueError: if the JSON is malformed, refers to tensors the file does not hold, or
            leaves tensors of the file unreferenced.
    """
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise _bad(f"not valid JSON ({e})") from None
    if not isinstance(doc, dict) or "root" not in doc or "version" not in doc:
        raise _bad("expected an object with 'version' and 'root'")
    if doc["version"] != VERSION:
        raise _bad(f"unsupported version: expected {VERSION}, got {_short(doc['version'])}; "
                   "the file may come from a newer ember")
    b = _Builder(tensors)
    try:
        obj = b.value(doc["root"])
    except RecursionError:
        raise _bad("nested too deeply") from None
    unused = sorted(set(tensors) - b.used)
    if unused:
        raise _bad(f"tensor {unused[0]!r} of the file is not referenced ({len(unused)} unreferenced)")
    return obj
