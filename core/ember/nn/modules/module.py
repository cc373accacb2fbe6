"""``nn.Module``: the base class of every layer. Registration of parameters, buffers and
submodules by attribute assignment, traversal, train/eval, dtype conversion, state_dict
save/load, forward and backward hooks, and torch's nested repr."""
import copy
import itertools
from collections import OrderedDict

import ember
from ember import Tensor

from ..parameter import Buffer, Parameter
from ._hooks import (RemovableHandle, _IncompatibleKeys, _IncompatibleKeysMismatched, _addindent,  # noqa: F401
                     _shape, _wrap_inputs, _wrap_outputs)

__all__ = ["Module", "RemovableHandle"]


class Module:
    """Base class of every layer and model. Subclasses set parameters (``nn.Parameter``),
    buffers and submodules as attributes in ``__init__`` and define ``forward``; calling the
    module runs its forward hooks around ``forward``.

    Example:
        >>> import ember
        >>> from ember import nn
        >>> class Net(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.fc = nn.Linear(4, 2)
        ...     def forward(self, x):
        ...         return self.fc(x).relu()
        >>> Net()(ember.ones(3, 4)).shape
        (3, 2)
    """

    training: bool
    _version = 1
    call_super_init = False

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"[{type(self).__name__}] Module.__init__() takes no arguments: "
                            f"got {len(args)} positional and {sorted(kwargs)} keyword arguments")
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = {}
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_pre_hooks_with_kwargs"] = {}
        d["_forward_hooks"] = OrderedDict()
        d["_forward_hooks_with_kwargs"] = {}
        d["_forward_hooks_always_called"] = {}
        d["_backward_hooks"] = OrderedDict()
        d["_backward_pre_hooks"] = OrderedDict()

    def forward(self, *args, **kwargs):
        """Computes the module's output; every subclass defines it."""
        raise NotImplementedError(f'[{self._get_name()}] is missing the required "forward" function')

    # ---- registration ------------------------------------------------------------------
    def _check_name(self, kind, name, table):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain "."')
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if hasattr(self, name) and name not in table:
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name, param):
        """Adds a parameter (or None, a declared but absent parameter) under ``name``.

        Args:
            name (str): the attribute name.
            param (Parameter or None): the parameter.

        Example:
            >>> import ember
            >>> m = ember.nn.Module(); m.register_parameter("w", ember.nn.Parameter(ember.ones(2)))
            >>> [n for n, _ in m.named_parameters()]
            ['w']
        """
        self._check_name("parameter", name, self._parameters)
        if param is None:
            self._parameters[name] = None
        elif not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                            "(ember.nn.Parameter or None required)")
        elif param.grad_fn is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be "
                             "created explicitly. To express '{name}' as a function of another Tensor, compute "
                             "the value in the forward() method.")
        else:
            self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Adds a buffer: state that is not a parameter (running statistics, step counters).

        Args:
            name (str): the attribute name.
            tensor (Tensor or None): the value (None: declared but absent).
            persistent (bool): saved in state_dict (default: True).

        Example:
            >>> import ember
            >>> m = ember.nn.Module(); m.register_buffer("mean", ember.zeros(3))
            >>> list(m.state_dict())
            ['mean']
        """
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        self._check_name("buffer", name, self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            "(ember Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Adds a child module under ``name`` (an attribute of this module).

        Args:
            name (str): the attribute name.
            module (Module or None): the child.

        Example:
            >>> import ember
            >>> m = ember.nn.Module(); m.add_module("fc", ember.nn.Linear(2, 2))
            >>> [n for n, _ in m.named_children()]
            ['fc']
        """
        if not isinstance(module, Module) and module is not None:
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name("module", name, self._modules)
        self._modules[name] = module

    def register_module(self, name, module):
        """Alias of add_module."""
        self.add_module(name, module)

    def get_submodule(self, target):
        """Returns the submodule at the dotted path ``target`` ("" is this module).

        Args:
            target (str): e.g. ``"encoder.layers.0"``.

        Returns:
            Module

        Example:
            >>> import ember
            >>> ember.nn.Sequential(ember.nn.Linear(2, 2)).get_submodule("0")
            Linear(in_features=2, out_features=2, bias=True)
        """
        if target == "":
            return self
        mod = self
        for item in target.split("."):
            if not isinstance(mod, Module) or item not in mod._modules:
                raise AttributeError(f"{mod._get_name()} has no attribute `{item}`")
            mod = mod._modules[item]
            if not isinstance(mod, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return mod

    def get_parameter(self, target):
        """Returns the parameter at the dotted path ``target`` (e.g. ``"fc.weight"``).

        Args:
            target (str): module path, a dot, then the parameter name.

        Returns:
            Parameter

        Example:
            >>> import ember
            >>> ember.nn.Sequential(ember.nn.Linear(2, 3)).get_parameter("0.bias").shape
            (3,)
        """
        module_path, _, name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if not hasattr(mod, name):
            raise AttributeError(f"{mod._get_name()} has no attribute `{name}`")
        p = getattr(mod, name)
        if not isinstance(p, Parameter):
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return p

    def get_buffer(self, target):
        """Returns the buffer at the dotted path ``target`` (e.g. ``"bn.running_mean"``)."""
        module_path, _, name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if not hasattr(mod, name):
            raise AttributeError(f"{mod._get_name()} has no attribute `{name}`")
        if name not in mod._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return mod._buffers[name]

    # ---- attribute protocol ------------------------------------------------------------
    def __getattr__(self, name):
        d = self.__dict__
        if "_parameters" in d and name in d["_parameters"]:
            return d["_parameters"][name]
        if "_buffers" in d and name in d["_buffers"]:
            return d["_buffers"][name]
        if "_modules" in d and name in d["_modules"]:
            return d["_modules"][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name, value):
        d = self.__dict__

        def remove_from(*dicts_or_sets):
            for ds in dicts_or_sets:
                if name in ds:
                    if isinstance(ds, dict):
                        del ds[name]
                    else:
                        ds.discard(name)

        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            remove_from(d, self._buffers, self._modules, self._non_persistent_buffers_set)
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(ember.nn.Parameter or None expected)")
            self.register_parameter(name, value)
            return
        modules = d.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            remove_from(d, self._parameters, self._buffers, self._non_persistent_buffers_set)
            modules[name] = value
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' "
                                "(ember.nn.Module or None expected)")
            modules[name] = value
            return
        buffers = d.get("_buffers")
        if isinstance(value, Buffer):
            if buffers is None:
                raise AttributeError("cannot assign buffer before Module.__init__() call")
            remove_from(d, self._parameters, self._modules)
            self.register_buffer(name, value, value.persistent)
            return
        if buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                "(ember.Tensor or None expected)")
            buffers[name] = value
            return
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def __dir__(self):
        keys = set(dir(type(self))) | set(self.__dict__)
        keys |= set(self._parameters) | set(self._modules) | set(self._buffers)
        return sorted(k for k in keys if not k[0].isdigit())

    def __setstate__(self, state):
        self.__dict__.update(state)

    def __deepcopy__(self, memo):
        # plain Tensors (buffers, tensor attributes) are cloned here: ember.Tensor has no
        # __deepcopy__ of its own; Parameters copy themselves (keeping requires_grad)
        if id(self) in memo:
            return memo[id(self)]
        new = type(self).__new__(type(self))
        memo[id(self)] = new
        for v in list(self._buffers.values()) + list(self.__dict__.values()):
            if isinstance(v, Tensor) and not isinstance(v, Parameter) and id(v) not in memo:
                with ember.no_grad():
                    c = v.detach().clone()
                memo[id(v)] = c.requires_grad_() if v.requires_grad and v.is_leaf else c
        for k, v in self.__dict__.items():
            new.__dict__[k] = copy.deepcopy(v, memo)
        return new

    # ---- traversal ---------------------------------------------------------------------
    def _named_members(self, get_members_fn, prefix="", recurse=True, remove_duplicate=True):
        memo = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse \
            else [(prefix, self)]
        for module_prefix, module in modules:
            for k, v in get_members_fn(module):
                if v is None or (remove_duplicate and id(v) in memo):
                    continue
                if remove_duplicate:
                    memo.add(id(v))
                yield (module_prefix + ("." if module_prefix else "") + k), v

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """Yields (dotted name, Parameter) for this module's parameters (and its submodules').

        Args:
            prefix (str): prepended to each name (default: "").
            recurse (bool): include submodules' parameters (default: True).
            remove_duplicate (bool): yield a shared parameter once (default: True).

        Example:
            >>> import ember
            >>> [n for n, _ in ember.nn.Linear(2, 3).named_parameters()]
            ['weight', 'bias']
        """
        yield from self._named_members(lambda m: m._parameters.items(), prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """Yields the module's parameters (see named_parameters).

        Example:
            >>> import ember
            >>> sum(p.numel() for p in ember.nn.Linear(2, 3).parameters())
            9
        """
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """Yields (dotted name, Tensor) for the buffers, persistent or not.

        Args:
            prefix (str): prepended to each name (default: "").
            recurse (bool): include submodules' buffers (default: True).
            remove_duplicate (bool): yield a shared buffer once (default: True).

        Example:
            >>> import ember
            >>> [n for n, _ in ember.nn.BatchNorm1d(3).named_buffers()]
            ['running_mean', 'running_var', 'num_batches_tracked']
        """
        yield from self._named_members(lambda m: m._buffers.items(), prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        """Yields the module's buffers (see named_buffers)."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def named_children(self):
        """Yields (name, module) for the direct children (each module once).

        Example:
            >>> import ember
            >>> [n for n, _ in ember.nn.Sequential(ember.nn.ReLU(), ember.nn.Tanh()).named_children()]
            ['0', '1']
        """
        memo = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in memo:
                memo.add(id(module))
                yield name, module

    def children(self):
        """Yields the direct children."""
        for _, m in self.named_children():
            yield m

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """Yields (dotted name, module) for this module ("" or prefix) and every descendant,
        depth first.

        Args:
            memo (set, optional): ids of modules already yielded.
            prefix (str): this module's name (default: "").
            remove_duplicate (bool): yield a shared module once (default: True).

        Example:
            >>> import ember
            >>> [n for n, _ in ember.nn.Sequential(ember.nn.Linear(1, 1)).named_modules()]
            ['', '0']
        """
        if memo is None:
            memo = set()
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self):
        """Yields this module and every descendant (each once)."""
        for _, m in self.named_modules():
            yield m

    def apply(self, fn):
        """Calls ``fn(module)`` on every child (recursively) and then on this module.

        Args:
            fn (callable): takes a Module.

        Returns:
            self

        Example:
            >>> import ember
            >>> names = []; _ = ember.nn.Sequential(ember.nn.ReLU()).apply(lambda m: names.append(m._get_name()))
            >>> names
            ['ReLU', 'Sequential']
        """
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ---- modes -------------------------------------------------------------------------
    def train(self, mode=True):
        """Sets training mode (Dropout drops, BatchNorm uses batch statistics) here and below.

        Args:
            mode (bool): True for training, False for evaluation (default: True).

        Returns:
            self
        """
        if not isinstance(mode, bool):
            raise ValueError(f"[{self._get_name()}.train] mode must be a bool: expected True or False, got {mode!r}")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        """Sets evaluation mode (same as ``train(False)``); returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Sets requires_grad on every parameter (freezes with False); returns self.

        Example:
            >>> import ember
            >>> all(not p.requires_grad for p in ember.nn.Linear(2, 2).requires_grad_(False).parameters())
            True
        """
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Resets the gradients of every parameter.

        Args:
            set_to_none (bool): set ``.grad`` to None instead of filling zeros (default: True).
        """
        for p in self.parameters():
            g = p.grad
            if g is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                with ember.no_grad():
                    if g.grad_fn is not None:
                        g = g.detach()
                        p.grad = g
                    g.zero_()

    # ---- conversion --------------------------------------------------------------------
    def _apply(self, fn, recurse=True):
        if recurse:
            for module in self.children():
                module._apply(fn)
        for key, param in self._parameters.items():
            if param is None:
                continue
            with ember.no_grad():
                new = fn(param)
            g = param.grad
            if new is not param:
                param._set_data(new.detach())  # same Parameter object, as torch's param.data = new
            if g is not None:
                with ember.no_grad():
                    new_g = fn(g)
                if new_g is not g or param.grad is None:
                    param.grad = new_g
        for key, buf in self._buffers.items():
            if buf is not None:
                self._buffers[key] = fn(buf)
        return self

    def to(self, *args, **kwargs):
        """Converts the floating-point parameters and buffers to a dtype (and/or moves them to
        a device). The Parameter objects keep their identity: their data is replaced.

        Args:
            dtype (ember.dtype, optional): the floating-point dtype.
            device (str or ember.device, optional): the device ("cpu" only for now).
            tensor (Tensor, optional): take dtype and device from it.

        Returns:
            self

        Example:
            >>> import ember
            >>> ember.nn.Linear(2, 2).to(ember.float64).weight.dtype
            ember.float64
        """
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"[{self._get_name()}.to] unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, ember.dtype):
                dtype = a
            elif isinstance(a, Tensor):
                dtype, device = a.dtype, a.device
            elif isinstance(a, (str, ember.device)):
                device = a
            else:
                raise TypeError(f"[{self._get_name()}.to] expected a dtype, device or Tensor, "
                                f"got {type(a).__name__}")
        if dtype is not None and not (dtype.is_floating_point or dtype.is_complex):
            raise TypeError(f"[{self._get_name()}.to] nn.Module.to only accepts floating point or complex dtypes, "
                            f"but got desired dtype={dtype}")

        def convert(t):
            if dtype is not None and (t.is_floating_point() or t.is_complex()):
                return t.to(dtype=dtype, device=device)
            if device is not None:
                return t.to(device=device)
            return t
        return self._apply(convert)

    def _cast(self, dtype):
        return self._apply(lambda t: t.to(dtype) if t.is_floating_point() else t)

    def float(self):
        """Casts floating-point parameters and buffers to float32; returns self."""
        return self._cast(ember.float32)

    def double(self):
        """Casts floating-point parameters and buffers to float64; returns self."""
        return self._cast(ember.float64)

    def half(self):
        """Casts floating-point parameters and buffers to float16; returns self."""
        return self._cast(ember.float16)

    def bfloat16(self):
        """Casts floating-point parameters and buffers to bfloat16; returns self."""
        return self._cast(ember.bfloat16)

    def cpu(self):
        """Moves parameters and buffers to the CPU (they are there already); returns self."""
        return self._apply(lambda t: t.cpu())

    def cuda(self, device=None):
        """Moves parameters and buffers to a CUDA device; returns self."""
        return self._apply(lambda t: t.cuda(device))

    def type(self, dst_type):
        """Casts all parameters and buffers to dst_type (an ember.dtype); returns self."""
        return self._apply(lambda t: t.to(dst_type))

    # ---- state_dict --------------------------------------------------------------------
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """Returns an OrderedDict of the parameters and persistent buffers, by dotted name.

        Args:
            destination (dict, optional): filled and returned instead of a new OrderedDict.
            prefix (str): prepended to every key (default: "").
            keep_vars (bool): keep the Parameters themselves instead of detached aliases
                (default: False).

        Returns:
            OrderedDict[str, Tensor]

        Example:
            >>> import ember
            >>> list(ember.nn.Sequential(ember.nn.Linear(2, 2)).state_dict())
            ['0.weight', '0.bias']
        """
        if args:
            raise TypeError(f"[{self._get_name()}.state_dict] pass destination, prefix and keep_vars by keyword")
        if destination is None:
            destination = OrderedDict()
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        return destination

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs, assign=False, skip_mismatched=False, mismatched_keys=None):
        persistent_buffers = {k: v for k, v in self._buffers.items() if k not in self._non_persistent_buffers_set}
        local_state = {k: v for k, v in itertools.chain(self._parameters.items(), persistent_buffers.items())
                       if v is not None}
        for name, param in local_state.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            input_param = state_dict[key]
            if not isinstance(input_param, Tensor):
                error_msgs.append(f'While copying the parameter named "{key}", expected ember.Tensor or '
                                  f"Tensor-like object from checkpoint but received {type(input_param)}")
                continue
            if _shape(input_param) != _shape(param):
                if skip_mismatched:
                    mismatched_keys.append((key, _shape(param), _shape(input_param)))
                else:
                    error_msgs.append(f"size mismatch for {key}: copying a param with shape {_shape(input_param)} "
                                      f"from checkpoint, the shape in current model is {_shape(param)}.")
                continue
            try:
                with ember.no_grad():
                    if assign:
                        if isinstance(param, Parameter):
                            new = input_param if isinstance(input_param, Parameter) else \
                                Parameter(input_param, requires_grad=param.requires_grad)
                            setattr(self, name, new)
                        else:
                            setattr(self, name, input_param)
                    else:
                        param.copy_(input_param)
            except Exception as ex:  # noqa: BLE001 - reported like torch, all at once
                error_msgs.append(f'While copying the parameter named "{key}", whose dimensions in the model are '
                                  f"{_shape(param)} and whose dimensions in the checkpoint are "
                                  f"{_shape(input_param)}, an exception occurred : {ex.args}.")
        if strict:
            for key in state_dict.keys():
                if key.startswith(prefix):
                    input_name = key[len(prefix):].split(".", 1)
                    if input_name[0] not in self._modules and input_name[0] not in local_state:
                        unexpected_keys.append(key)

    def load_state_dict(self, state_dict, strict=True, assign=False, *, skip_mismatched=False):
        """Copies parameters and persistent buffers from ``state_dict`` into this module.

        Args:
            state_dict (dict): name -> Tensor, as returned by ``state_dict()``.
            strict (bool): raise if keys are missing or unexpected (default: True).
            assign (bool): replace the tensors by those of state_dict instead of copying into
                them (Parameters keep their requires_grad) (default: False).
            skip_mismatched (bool): beyond PyTorch: skip (and report) entries whose shape
                differs instead of raising (default: False).

        Returns:
            NamedTuple (missing_keys, unexpected_keys), plus ``mismatched_keys`` (a list of
            (key, expected_shape, got_shape)) when skip_mismatched is True.

        Raises:
            RuntimeError: listing every missing/unexpected key (when strict) and every shape
                mismatch (unless skip_mismatched).

        Example:
            >>> import ember
            >>> a, b = ember.nn.Linear(2, 2), ember.nn.Linear(2, 2)
            >>> b.load_state_dict(a.state_dict())
            <All keys matched successfully>
        """
        if not isinstance(state_dict, dict):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing_keys, unexpected_keys, error_msgs, mismatched = [], [], [], []
        state_dict = OrderedDict(state_dict)

        def load(module, prefix=""):
            module._load_from_state_dict(state_dict, prefix, {}, True, missing_keys, unexpected_keys, error_msgs,
                                         assign=assign, skip_mismatched=skip_mismatched, mismatched_keys=mismatched)
            for name, child in module._modules.items():
                if child is not None:
                    load(child, prefix + name + ".")

        load(self)
        if strict:
            if unexpected_keys:
                error_msgs.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected_keys)))
            if missing_keys:
                error_msgs.insert(0, "Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in missing_keys)))
        if error_msgs:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                self._get_name(), "\n\t".join(error_msgs)))
        if skip_mismatched:
            return _IncompatibleKeysMismatched(missing_keys, unexpected_keys, mismatched)
        return _IncompatibleKeys(missing_keys, unexpected_keys)

    # ---- hooks -------------------------------------------------------------------------
    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """Registers ``hook(module, args)`` (or ``hook(module, args, kwargs)`` with
        with_kwargs) to run before forward; it may return new args (or (args, kwargs)).

        Args:
            hook (callable): the hook.
            prepend (bool): run before the hooks already registered (default: False).
            with_kwargs (bool): pass and accept keyword arguments (default: False).

        Returns:
            RemovableHandle

        Example:
            >>> import ember
            >>> m = ember.nn.Identity()
            >>> h = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
            >>> m(ember.ones(1)).item()
            2.0
        """
        handle = RemovableHandle(self._forward_pre_hooks, extra_dict=self._forward_pre_hooks_with_kwargs)
        self._forward_pre_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        if prepend:
            self._forward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """Registers ``hook(module, args, output)`` (or ``hook(module, args, kwargs, output)``
        with with_kwargs) to run after forward; it may return a new output.

        Args:
            hook (callable): the hook.
            prepend (bool): run before the hooks already registered (default: False).
            with_kwargs (bool): also pass the keyword arguments (default: False).
            always_call (bool): run even if forward raised (default: False).

        Returns:
            RemovableHandle

        Example:
            >>> import ember
            >>> seen = []; m = ember.nn.ReLU()
            >>> h = m.register_forward_hook(lambda mod, args, out: seen.append(out.shape))
            >>> _ = m(ember.ones(2)); seen
            [(2,)]
        """
        handle = RemovableHandle(self._forward_hooks, extra_dict=[self._forward_hooks_with_kwargs,
                                                                  self._forward_hooks_always_called])
        self._forward_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        if prepend:
            self._forward_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_hook(self, hook, prepend=False):
        """Registers ``hook(module, grad_input, grad_output)``, called once the gradients
        with respect to the module's positional inputs are computed; it may return a new
        grad_input tuple. grad_input has one entry per positional argument (None for
        non-tensors and inputs without grad); grad_output one per output tensor needing grad.

        Args:
            hook (callable): the hook.
            prepend (bool): run before the hooks already registered (default: False).

        Returns:
            RemovableHandle

        Example:
            >>> import ember
            >>> m = ember.nn.Linear(2, 1); got = []
            >>> h = m.register_full_backward_hook(lambda mod, gi, go: got.append(go[0].shape))
            >>> m(ember.ones(3, 2, requires_grad=True)).sum().backward(); got
            [(3, 1)]
        """
        handle = RemovableHandle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        if prepend:
            self._backward_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """Registers ``hook(module, grad_output)``, called when the gradients with respect to
        the module's outputs arrive, before the gradients of its inputs are computed; it may
        return a new grad_output tuple.

        Args:
            hook (callable): the hook.
            prepend (bool): run before the hooks already registered (default: False).

        Returns:
            RemovableHandle
        """
        handle = RemovableHandle(self._backward_pre_hooks)
        self._backward_pre_hooks[handle.id] = hook
        if prepend:
            self._backward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_backward_hook(self, hook):
        """Deprecated in PyTorch: ember maps it to register_full_backward_hook."""
        return self.register_full_backward_hook(hook)

    def _call_impl(self, *args, **kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks
                or self._backward_pre_hooks):
            return self.forward(*args, **kwargs)
        for hid, hook in list(self._forward_pre_hooks.items()):
            if hid in self._forward_pre_hooks_with_kwargs:
                r = hook(self, args, kwargs)
                if r is not None:
                    if isinstance(r, tuple) and len(r) == 2:
                        args, kwargs = r
                    else:
                        raise RuntimeError(f"forward pre-hook must return None or a tuple of (new_args, "
                                           f"new_kwargs), but got {r}.")
            else:
                r = hook(self, args)
                if r is not None:
                    args = r if isinstance(r, tuple) else (r,)
        state = None
        if self._backward_hooks or self._backward_pre_hooks:
            args, state = _wrap_inputs(self, args)
        try:
            result = self.forward(*args, **kwargs)
        except Exception:
            for hid, hook in list(self._forward_hooks.items()):
                if hid in self._forward_hooks_always_called:
                    try:
                        if hid in self._forward_hooks_with_kwargs:
                            hook(self, args, kwargs, None)
                        else:
                            hook(self, args, None)
                    except Exception:  # noqa: BLE001 - the forward's error wins
                        pass
            raise
        for hid, hook in list(self._forward_hooks.items()):
            if hid in self._forward_hooks_with_kwargs:
                r = hook(self, args, kwargs, result)
            else:
                r = hook(self, args, result)
            if r is not None:
                result = r
        if state is not None:
            result = _wrap_outputs(state, result)
        return result

    __call__ = _call_impl

    # ---- repr --------------------------------------------------------------------------
    def _get_name(self):
        return type(self).__name__

    def extra_repr(self):
        """The module's own settings for its repr (one line, or several); override it."""
        return ""

    def __repr__(self):
        extra_lines = []
        extra = self.extra_repr()
        if extra:
            extra_lines = extra.split("\n")
        child_lines = []
        for key, module in self._modules.items():
            mod_str = _addindent(repr(module), 2)
            child_lines.append("(" + key + "): " + mod_str)
        lines = extra_lines + child_lines
        main = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"
