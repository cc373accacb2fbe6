"""The ``Optimizer`` base class: parameter groups, per-parameter state, zero_grad, step hooks
and state_dict / load_state_dict in PyTorch's layout (``torch.optim.Optimizer``)."""
import functools
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from itertools import chain

import ember
from ember import Tensor

__all__ = ["Optimizer", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook", "required"]


class _RequiredParameter:
    """Marks an optimizer option that has no default and must be given."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()

_global_optimizer_pre_hooks = OrderedDict()
_global_optimizer_post_hooks = OrderedDict()


class RemovableHandle:
    """A handle that removes the hook it was returned for from its registry.

    Args:
        hooks_dict (dict): the registry the hook was stored in, keyed by ``handle.id``.

    Returns:
        A handle with ``remove()``; also a context manager that removes the hook on exit.

    Example:
        >>> registry = {}
        >>> h = RemovableHandle(registry); registry[h.id] = print
        >>> h.remove(); len(registry)
        0
    """

    _next_id = 0

    def __init__(self, hooks_dict):
        self.hooks_dict = hooks_dict
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self):
        """Removes the hook (does nothing if it is already gone)."""
        self.hooks_dict.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def register_optimizer_step_pre_hook(hook):
    """Registers a pre hook run before ``step()`` of every optimizer.

    Args:
        hook (Callable): ``hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs)``.

    Returns:
        RemovableHandle: ``handle.remove()`` unregisters the hook.

    Example:
        >>> h = register_optimizer_step_pre_hook(lambda opt, args, kwargs: None); h.remove()
    """
    handle = RemovableHandle(_global_optimizer_pre_hooks)
    _global_optimizer_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook):
    """Registers a post hook run after ``step()`` of every optimizer.

    Args:
        hook (Callable): ``hook(optimizer, args, kwargs) -> None``.

    Returns:
        RemovableHandle: ``handle.remove()`` unregisters the hook.

    Example:
        >>> h = register_optimizer_step_post_hook(lambda opt, args, kwargs: None); h.remove()
    """
    handle = RemovableHandle(_global_optimizer_post_hooks)
    _global_optimizer_post_hooks[handle.id] = hook
    return handle


def _get_scalar_dtype():
    """dtype of the ``step`` counters: float64 when that is the default dtype, else float32 (as torch)."""
    return ember.float64 if ember.get_default_dtype() == ember.float64 else ember.float32


def _to_float(x):
    """A hyper-parameter as a Python number (1-element tensors are read with ``.item()``)."""
    return x.item() if isinstance(x, Tensor) else x


def _deepcopy(value):
    """Deep copy of a nested dict/list/tuple structure; tensors are cloned (ember tensors do not
    support copy.deepcopy)."""
    import copy
    if isinstance(value, Tensor):
        return value.detach().clone()
    if isinstance(value, dict):
        return type(value)((k, _deepcopy(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return type(value)(_deepcopy(v) for v in value)
    return copy.deepcopy(value)


def _check_hyper(name, cond, what, value, expected):
    """Raises ValueError ``[name] Invalid <what>: expected <expected>, got <value>`` unless cond."""
    if not cond:
        raise ValueError(f"[{name}] Invalid {what}: expected {expected}, got {value}")


def _check_no_fused_or_differentiable(name, differentiable):
    if differentiable:
        raise NotImplementedError(f"[{name}] differentiable=True is not supported: the step always runs "
                                  "under ember.no_grad(); pass differentiable=False")


class Optimizer:
    """Base class of all optimizers: holds parameter groups and per-parameter state.

    Subclasses implement ``step()``; hooks registered with ``register_step_pre_hook`` /
    ``register_step_post_hook`` (or the global ``register_optimizer_step_*_hook``) run around it.

    Args:
        params (iterable): tensors to optimize, ``(name, tensor)`` pairs, or dicts defining
            parameter groups (a ``"params"`` entry plus per-group options).
        defaults (dict): default values of the options, used where a group does not set them.

    Returns:
        An optimizer with ``param_groups`` (list of dicts), ``defaults`` and ``state`` (a
        defaultdict(dict) keyed by parameter tensor).

    Example:
        >>> import ember
        >>> w = ember.zeros(3, requires_grad=True)
        >>> opt = ember.optim.SGD([w], lr=0.1)
        >>> (w - 1).square().sum().backward(); opt.step(); w
        tensor([0.2000, 0.2000, 0.2000])
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        self._optimizer_state_dict_pre_hooks = OrderedDict()
        self._optimizer_state_dict_post_hooks = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks = OrderedDict()
        self._optimizer_load_state_dict_post_hooks = OrderedDict()
        self._patch_step_function()
        if isinstance(params, Tensor):
            raise TypeError(f"[{type(self).__name__}] params argument given to the optimizer should be an iterable "
                            f"of Tensors or dicts: expected e.g. [tensor] or model.parameters(), got a Tensor")
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError(f"[{type(self).__name__}] optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    # -- pickling / repr -------------------------------------------------------------------
    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks", "_optimizer_state_dict_pre_hooks",
                     "_optimizer_state_dict_post_hooks", "_optimizer_load_state_dict_pre_hooks",
                     "_optimizer_load_state_dict_post_hooks"):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        self._patch_step_function()
        self.defaults.setdefault("differentiable", False)

    def __repr__(self):
        s = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    s += f"    {key}: {group[key]}\n"
        return s + ")"

    # -- step hooks ------------------------------------------------------------------------
    @staticmethod
    def _hooked_step(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            self, *_ = args
            for pre_hook in chain(_global_optimizer_pre_hooks.values(), self._optimizer_step_pre_hooks.values()):
                result = pre_hook(self, args, kwargs)
                if result is not None:
                    if isinstance(result, tuple) and len(result) == 2:
                        args, kwargs = result
                    else:
                        raise RuntimeError(f"[{type(self).__name__}.step] a step pre-hook must return None or a tuple "
                                           f"(new_args, new_kwargs), got {result!r}")
            out = func(*args, **kwargs)
            for post_hook in chain(self._optimizer_step_post_hooks.values(), _global_optimizer_post_hooks.values()):
                post_hook(self, args, kwargs)
            return out
        wrapper.hooked = True
        return wrapper

    def _patch_step_function(self):
        if not getattr(self.__class__.step, "hooked", False):
            self.__class__.step = self._hooked_step(self.__class__.step)

    def register_step_pre_hook(self, hook):
        """Registers a hook run before this optimizer's ``step()``.

        Args:
            hook (Callable): ``hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs)``.

        Returns:
            RemovableHandle: ``handle.remove()`` unregisters the hook.

        Example:
            >>> h = opt.register_step_pre_hook(lambda opt, args, kwargs: None)  # doctest: +SKIP
        """
        handle = RemovableHandle(self._optimizer_step_pre_hooks)
        self._optimizer_step_pre_hooks[handle.id] = hook
        return handle

    def register_step_post_hook(self, hook):
        """Registers a hook run after this optimizer's ``step()``.

        Args:
            hook (Callable): ``hook(optimizer, args, kwargs) -> None``.

        Returns:
            RemovableHandle: ``handle.remove()`` unregisters the hook.

        Example:
            >>> h = opt.register_step_post_hook(lambda opt, args, kwargs: None)  # doctest: +SKIP
        """
        handle = RemovableHandle(self._optimizer_step_post_hooks)
        self._optimizer_step_post_hooks[handle.id] = hook
        return handle

    def _register(self, registry, hook, prepend):
        handle = RemovableHandle(registry)
        registry[handle.id] = hook
        if prepend:
            registry.move_to_end(handle.id, last=False)
        return handle

    def register_state_dict_pre_hook(self, hook, prepend=False):
        """Registers ``hook(optimizer) -> None``, run before ``state_dict()``.

        Args:
            hook (Callable): the hook.
            prepend (bool): run it before the hooks already registered (default: False).

        Returns:
            RemovableHandle.

        Example:
            >>> h = opt.register_state_dict_pre_hook(lambda opt: None)  # doctest: +SKIP
        """
        return self._register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        """Registers ``hook(optimizer, state_dict) -> state_dict or None``, run after ``state_dict()``.

        Args:
            hook (Callable): the hook; a returned dict replaces the state dict.
            prepend (bool): run it before the hooks already registered (default: False).

        Returns:
            RemovableHandle.

        Example:
            >>> h = opt.register_state_dict_post_hook(lambda opt, sd: None)  # doctest: +SKIP
        """
        return self._register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        """Registers ``hook(optimizer, state_dict) -> state_dict or None``, run before ``load_state_dict()``.

        Args:
            hook (Callable): the hook; a returned dict is loaded instead.
            prepend (bool): run it before the hooks already registered (default: False).

        Returns:
            RemovableHandle.

        Example:
            >>> h = opt.register_load_state_dict_pre_hook(lambda opt, sd: None)  # doctest: +SKIP
        """
        return self._register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        """Registers ``hook(optimizer) -> None``, run after ``load_state_dict()``.

        Args:
            hook (Callable): the hook.
            prepend (bool): run it before the hooks already registered (default: False).

        Returns:
            RemovableHandle.

        Example:
            >>> h = opt.register_load_state_dict_post_hook(lambda opt: None)  # doctest: +SKIP
        """
        return self._register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # -- state dict ------------------------------------------------------------------------
    def state_dict(self):
        """Returns the optimizer state as a dict, in PyTorch's layout.

        ``{"state": {0: {...}, 1: {...}}, "param_groups": [{..options.., "params": [0, 1]}]}``:
        parameters are replaced by integer ids numbered across groups in order; only
        parameters that have state appear in ``"state"``. State tensors are not copied.

        Returns:
            dict: with keys ``"state"`` and ``"param_groups"``.

        Example:
            >>> import ember
            >>> w = ember.zeros(2, requires_grad=True); opt = ember.optim.SGD([w], lr=0.1)
            >>> opt.state_dict()["param_groups"][0]["params"]
            [0]
        """
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)
        param_mappings = {}
        start_index = 0

        def pack_group(group):
            nonlocal start_index
            packed = {k: v for k, v in group.items() if k != "params"}
            param_mappings.update({id(p): i for i, p in enumerate(group["params"], start_index)
                                   if id(p) not in param_mappings})
            packed["params"] = [param_mappings[id(p)] for p in group["params"]]
            start_index += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {(param_mappings[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        state_dict = {"state": packed_state, "param_groups": param_groups}
        for post_hook in self._optimizer_state_dict_post_hooks.values():
            result = post_hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    @staticmethod
    def _process_value_according_to_param_policy(param, value, key):
        if key == "step":
            return value
        if param.is_floating_point():
            return value.to(dtype=param.dtype)
        return value

    def load_state_dict(self, state_dict):
        """Loads optimizer state from a dict returned by ``state_dict()``.

        Parameters are matched by position (the ids in each group's ``"params"``); the
        options of each group are replaced by the saved ones. Floating-point state tensors
        are cast to their parameter's dtype, except ``step``. Tensors are not copied when
        no cast is needed (as in PyTorch).

        Args:
            state_dict (dict): a dict from ``state_dict()``.

        Returns:
            None.

        Raises:
            ValueError: if the number of groups or the size of a group differs.

        Example:
            >>> opt2.load_state_dict(opt.state_dict())  # doctest: +SKIP
        """
        name = type(self).__name__
        state_dict = state_dict.copy()
        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = pre_hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = _deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError(f"[{name}.load_state_dict] loaded state dict has a different number of parameter groups: "
                             f"expected {len(groups)}, got {len(saved_groups)}")
        for i, (g, sg) in enumerate(zip(groups, saved_groups)):
            if len(g["params"]) != len(sg["params"]):
                raise ValueError(f"[{name}.load_state_dict] loaded state dict contains a parameter group that doesn't "
                                 f"match the size of optimizer's group: group {i} expected {len(g['params'])} "
                                 f"parameters, got {len(sg['params'])}")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))

        def _cast(param, value, key=None):
            if isinstance(value, Tensor):
                return Optimizer._process_value_according_to_param_policy(param, value, key)
            if isinstance(value, dict):
                return {k: _cast(param, v, key=k) for k, v in value.items()}
            if isinstance(value, Iterable) and not isinstance(value, str):
                return type(value)(_cast(param, v) for v in value)
            return value

        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = _cast(param, v)
            else:
                state[k] = v

        def update_group(group, new_group):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups)]
        self.__setstate__({"state": state, "param_groups": param_groups})
        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)

    # -- gradients and groups --------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Resets the gradients of all optimized tensors.

        Args:
            set_to_none (bool): set ``.grad`` to None instead of filling it with zeros
                (default: True). Optimizers skip parameters whose grad is None.

        Returns:
            None.

        Example:
            >>> opt.zero_grad()  # doctest: +SKIP
        """
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if g.grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad_(False)
                    g.zero_()

    def step(self, closure=None):
        """Performs one optimization step (implemented by subclasses).

        Args:
            closure (Callable, optional): re-evaluates the model and returns the loss.

        Returns:
            The closure's loss, or None.

        Example:
            >>> opt.step()  # doctest: +SKIP
        """
        raise NotImplementedError(f"[{type(self).__name__}.step] the optimizer does not implement step()")

    def add_param_group(self, param_group):
        """Adds a parameter group (e.g. layers unfrozen during fine-tuning).

        Args:
            param_group (dict): ``{"params": tensors, **options}``; options not given take the
                optimizer's defaults.

        Returns:
            None.

        Raises:
            TypeError: if param_group is not a dict, params is a set, or holds non-tensors.
            ValueError: for a non-leaf tensor, a missing required option, or a parameter
                already in another group.

        Example:
            >>> opt.add_param_group({"params": [w2], "lr": 0.01})  # doctest: +SKIP
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"[{name}.add_param_group] param_group must be a dict: expected dict, "
                            f"got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError(f"[{name}.add_param_group] optimizer parameters need to be organized in ordered "
                            "collections, but the ordering of tensors in sets will change between runs: expected a "
                            "list, got a set")
        else:
            param_group["params"] = list(params)
        tensors, names = [], []
        for p in param_group["params"]:
            if isinstance(p, tuple):
                names.append(p[0])
                tensors.append(p[1])
            else:
                tensors.append(p)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError(f"[{name}.add_param_group] all optimizer params should be with/without names. "
                                 "Some param names are missing")
            param_group["param_names"] = names
        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError(f"[{name}.add_param_group] optimizer can only optimize Tensors: expected "
                                f"ember.Tensor, got {type(p).__name__}")
            if not self.defaults.get("differentiable", None) and not (p.is_leaf or p.retains_grad):
                raise ValueError(f"[{name}.add_param_group] can't optimize a non-leaf Tensor: expected a leaf "
                                 "(e.g. created with requires_grad=True), got the output of an op; use .detach()")
        for key, default in self.defaults.items():
            if default is required and key not in param_group:
                raise ValueError(f"[{name}.add_param_group] parameter group didn't specify a value of required "
                                 f"optimization parameter {key}")
            param_group.setdefault(key, default)
        if len(tensors) != len(set(tensors)):
            warnings.warn(f"[{name}] optimizer contains a parameter group with duplicate parameters; in future, "
                          "this will cause an error", stacklevel=3)
        param_set = set()
        for group in self.param_groups:
            param_set.update(group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                txt = "with names" if "param_names" in param_group else "without names"
                raise ValueError(f"[{name}.add_param_group] all optimizer param groups should be with/without "
                                 f"names. cannot add param group {txt} to the optimizer")
        if not param_set.isdisjoint(tensors):
            raise ValueError(f"[{name}.add_param_group] some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # -- helpers for subclasses ------------------------------------------------------------
    def _closure_loss(self, closure):
        if closure is None:
            return None
        with ember.enable_grad():
            return closure()
