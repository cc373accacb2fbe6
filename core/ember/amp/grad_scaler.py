"""``GradScaler``: dynamic loss scaling for mixed-precision training (PyTorch's ``torch.amp.GradScaler``).

The loss is multiplied by a scale before ``backward()`` so that small float16 gradients do
not underflow; ``unscale_`` divides the gradients back and records whether any is inf/NaN;
``step`` skips the optimizer step on such iterations; ``update`` backs the scale off after an
overflow and grows it after ``growth_interval`` clean steps.
"""
from collections import defaultdict
from enum import Enum

import ember
from ember import Tensor

__all__ = ["GradScaler", "OptState"]


class OptState(Enum):
    """Where an optimizer is in the current iteration: READY, UNSCALED or STEPPED."""

    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _refresh_per_optimizer_state():
    return {"stage": OptState.READY, "found_inf": None}


class GradScaler:
    """Scales the loss, unscales the gradients, skips steps with inf/NaN gradients and
    adapts the scale.

    Typical loop::

        scaler.scale(loss).backward()
        scaler.step(optimizer)     # unscales (unless unscale_ was called), steps if finite
        scaler.update()

    Args:
        device (str): device of the scale (default: "cpu"; PyTorch's default is "cuda").
        init_scale (float): starting scale (default: 2.0 ** 16).
        growth_factor (float): scale multiplier after growth_interval clean steps, > 1 (default: 2.0).
        backoff_factor (float): scale multiplier after an inf/NaN, < 1 (default: 0.5).
        growth_interval (int): clean steps between growths (default: 2000).
        enabled (bool): when False every method passes through (default: True).

    Returns:
        The scaler.

    Raises:
        ValueError: for growth_factor <= 1 or backoff_factor >= 1 (PyTorch raises AssertionError).

    Example:
        >>> import ember
        >>> w = ember.ones(2, requires_grad=True)
        >>> opt = ember.optim.SGD([w], lr=0.1)
        >>> scaler = ember.amp.GradScaler(init_scale=1024.0)
        >>> scaler.scale((w * 3).sum()).backward()
        >>> w.grad                       # scaled gradients
        tensor([3072., 3072.])
        >>> scaler.step(opt); scaler.update(); w   # unscaled: 1 - 0.1 * 3
        tensor([0.7000, 0.7000])
    """

    def __init__(self, device="cpu", init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        self._device = device
        self._enabled = enabled
        if self._enabled:
            if growth_factor <= 1.0:
                raise ValueError(f"[GradScaler] The growth factor must be > 1.0: expected growth_factor > 1, "
                                 f"got {growth_factor}")
            if backoff_factor >= 1.0:
                raise ValueError(f"[GradScaler] The backoff factor must be < 1.0: expected backoff_factor < 1, "
                                 f"got {backoff_factor}")
            self._init_scale = init_scale
            self._scale = None
            self._growth_factor = growth_factor
            self._backoff_factor = backoff_factor
            self._growth_interval = growth_interval
            self._init_growth_tracker = 0
            self._growth_tracker = None
            self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)

    def _check_scale_growth_tracker(self, funcname):
        if self._scale is None or self._growth_tracker is None:
            raise RuntimeError(f"[GradScaler.{funcname}] the scale is not initialised: call scaler.scale(loss) "
                               "earlier in the iteration")
        return self._scale, self._growth_tracker

    def _lazy_init_scale_growth_tracker(self, dev):
        self._scale = ember.full((), self._init_scale, dtype=ember.float32, device=dev)
        self._growth_tracker = ember.full((), self._init_growth_tracker, dtype=ember.int32, device=dev)

    def scale(self, outputs):
        """Multiplies outputs (a tensor, or nested lists/tuples/iterables of tensors) by the scale.

        Args:
            outputs (Tensor or iterable of Tensors): the loss(es) to scale.

        Returns:
            The scaled outputs, in the same structure (outputs unchanged when disabled).

        Raises:
            ValueError: for anything that is neither a tensor nor an iterable of tensors.

        Example:
            >>> import ember
            >>> ember.amp.GradScaler(init_scale=4.0).scale([ember.tensor(1.5)])
            [tensor(6.)]
        """
        if not self._enabled:
            return outputs

        def apply_scale(val):
            if isinstance(val, Tensor):
                if self._scale is None:
                    self._lazy_init_scale_growth_tracker(val.device)
                return val * self._scale
            if isinstance(val, (list, tuple)):
                return type(val)(apply_scale(v) for v in val)
            if isinstance(val, (str, bytes, dict)) or not hasattr(val, "__iter__"):
                raise ValueError(f"[GradScaler.scale] outputs must be a Tensor or an iterable of Tensors: expected "
                                 f"Tensor, got {type(val).__name__}")
            return map(apply_scale, val)

        return apply_scale(outputs)

    def _unscale_grads_(self, optimizer, inv_scale, allow_fp16):
        """Multiplies every gradient by inv_scale in place; returns 1.0 if any was inf/NaN else 0.0."""
        finite = {}  # device -> per-gradient "all finite" flags, read back once per device
        with ember.no_grad():
            for group in optimizer.param_groups:
                for param in group["params"]:
                    grad = param.grad
                    if grad is None:
                        continue
                    if not allow_fp16 and grad.dtype == ember.float16:
                        raise ValueError("[GradScaler.unscale_] Attempting to unscale FP16 gradients: keep the "
                                         "parameters (master weights) in float32, got a float16 gradient")
                    finite.setdefault(str(grad.device), []).append(ember.isfinite(grad).all())
                    if inv_scale != 1.0:
                        grad.mul_(inv_scale)
        found_inf = any(not bool(ember.stack(flags).all().item()) for flags in finite.values())
        return ember.full((), 1.0 if found_inf else 0.0, dtype=ember.float32)

    def unscale_(self, optimizer):
        """Divides the optimizer's gradients by the scale in place (e.g. before gradient clipping)
        and records whether any is inf/NaN. At most once per optimizer per iteration.

        Args:
            optimizer (Optimizer): owns the gradients to unscale.

        Returns:
            None.

        Raises:
            RuntimeError: if called twice before ``update()``, or after ``step()``.

        Example:
            >>> scaler.unscale_(opt); clip_grad_norm_(params, 1.0); scaler.step(opt)  # doctest: +SKIP
        """
        if not self._enabled:
            return
        self._check_scale_growth_tracker("unscale_")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.UNSCALED:
            raise RuntimeError("[GradScaler.unscale_] unscale_() has already been called on this optimizer since "
                               "the last update(): expected one unscale_ per iteration, got a second call")
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("[GradScaler.unscale_] unscale_() is being called after step(): expected it before "
                               "step() in the iteration")
        # the reciprocal in double, rounded to float32, as PyTorch
        inv_scale = float(ember.full((), 1.0 / self._scale.item(), dtype=ember.float32).item())
        state["found_inf"] = self._unscale_grads_(optimizer, inv_scale, False)
        state["stage"] = OptState.UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """Unscales the gradients (unless ``unscale_`` was called) and calls
        ``optimizer.step(*args, **kwargs)`` unless a gradient is inf/NaN.

        Args:
            optimizer (Optimizer): the optimizer to step.
            *args, **kwargs: forwarded to ``optimizer.step``; a closure is not supported.

        Returns:
            What ``optimizer.step`` returned, or None when the step was skipped.

        Raises:
            RuntimeError: for a closure, or a second ``step()`` before ``update()``.

        Example:
            >>> scaler.step(opt); scaler.update()  # doctest: +SKIP
        """
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("[GradScaler.step] Closure use is not currently supported if GradScaler is enabled: "
                               "expected step(optimizer), got a closure keyword")
        self._check_scale_growth_tracker("step")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("[GradScaler.step] step() has already been called since the last update(): expected "
                               "one step per optimizer per iteration")
        if state["stage"] is OptState.READY:
            self.unscale_(optimizer)
        retval = None
        if state["found_inf"].item() == 0.0:
            retval = optimizer.step(*args, **kwargs)
        state["stage"] = OptState.STEPPED
        return retval

    def update(self, new_scale=None):
        """Updates the scale for the next iteration: ``new_scale`` if given, else backoff after
        an inf/NaN in any optimizer stepped this iteration, growth after ``growth_interval``
        clean iterations.

        Args:
            new_scale (float or 1-element Tensor, optional): a scale to set directly.

        Returns:
            None.

        Raises:
            RuntimeError: if no inf checks were recorded (no step/unscale_ this iteration).

        Example:
            >>> scaler.update(); scaler.get_scale()  # doctest: +SKIP
            65536.0
        """
        if not self._enabled:
            return
        scale, tracker = self._check_scale_growth_tracker("update")
        if new_scale is not None:
            if isinstance(new_scale, Tensor):
                if new_scale.numel() != 1 or new_scale.requires_grad:
                    raise ValueError("[GradScaler.update] new_scale should be a float or a 1-element tensor with "
                                     f"requires_grad=False: got shape {tuple(new_scale.shape)}, "
                                     f"requires_grad={new_scale.requires_grad}")
                scale.fill_(new_scale.item())
            else:
                scale.fill_(float(new_scale))
        else:
            found = [s["found_inf"] for s in self._per_optimizer_states.values() if s["found_inf"] is not None]
            if len(found) == 0:
                raise RuntimeError("[GradScaler.update] No inf checks were recorded prior to update: expected "
                                   "scaler.step(optimizer) or scaler.unscale_(optimizer) first")
            found_inf = sum(f.item() for f in found)
            if found_inf:
                scale.mul_(self._backoff_factor)
                tracker.fill_(0)
            else:
                successful = int(tracker.item()) + 1
                if successful == self._growth_interval:
                    grown = ember.full((), scale.item(), dtype=ember.float32).mul_(self._growth_factor)
                    if bool(ember.isfinite(grown).item()):
                        scale.copy_(grown)
                    tracker.fill_(0)
                else:
                    tracker.fill_(successful)
        self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)

    def get_scale(self):
        """Returns the current scale as a Python float (1.0 when disabled).

        Returns:
            float.

        Example:
            >>> import ember
            >>> ember.amp.GradScaler().get_scale()
            65536.0
        """
        if self._enabled:
            return float(self._init_scale) if self._scale is None else self._scale.item()
        return 1.0

    def get_growth_factor(self):
        """Returns the growth factor.

        Returns:
            float.

        Example:
            >>> import ember
            >>> ember.amp.GradScaler().get_growth_factor()
            2.0
        """
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        """Sets the growth factor.

        Args:
            new_factor (float): the new factor.

        Returns:
            None.

        Example:
            >>> scaler.set_growth_factor(4.0)  # doctest: +SKIP
        """
        self._growth_factor = new_factor

    def get_backoff_factor(self):
        """Returns the backoff factor.

        Returns:
            float.

        Example:
            >>> import ember
            >>> ember.amp.GradScaler().get_backoff_factor()
            0.5
        """
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        """Sets the backoff factor.

        Args:
            new_factor (float): the new factor.

        Returns:
            None.

        Example:
            >>> scaler.set_backoff_factor(0.25)  # doctest: +SKIP
        """
        self._backoff_factor = new_factor

    def get_growth_interval(self):
        """Returns the growth interval.

        Returns:
            int.

        Example:
            >>> import ember
            >>> ember.amp.GradScaler().get_growth_interval()
            2000
        """
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        """Sets the growth interval.

        Args:
            new_interval (int): the new interval.

        Returns:
            None.

        Example:
            >>> scaler.set_growth_interval(100)  # doctest: +SKIP
        """
        self._growth_interval = new_interval

    def _get_growth_tracker(self):
        if self._enabled:
            return self._init_growth_tracker if self._growth_tracker is None else int(self._growth_tracker.item())
        return 0

    def is_enabled(self):
        """Returns whether the scaler is enabled.

        Returns:
            bool.

        Example:
            >>> import ember
            >>> ember.amp.GradScaler(enabled=False).is_enabled()
            False
        """
        return self._enabled

    def state_dict(self):
        """Returns the scaler's state (empty when disabled).

        Returns:
            dict: ``scale``, ``growth_factor``, ``backoff_factor``, ``growth_interval``, ``_growth_tracker``.

        Example:
            >>> import ember
            >>> ember.amp.GradScaler().state_dict()["scale"]
            65536.0
        """
        if self._enabled:
            return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                    "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                    "_growth_tracker": self._get_growth_tracker()}
        return {}

    def load_state_dict(self, state_dict):
        """Loads a state from ``state_dict()`` (ignored when disabled).

        Args:
            state_dict (dict): the saved state.

        Returns:
            None.

        Raises:
            RuntimeError: for an empty state dict (saved from a disabled scaler).

        Example:
            >>> scaler.load_state_dict(saved)  # doctest: +SKIP
        """
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("[GradScaler.load_state_dict] The source state dict is empty, possibly because it was "
                               "saved from a disabled instance of GradScaler: expected the keys of state_dict()")
        self._init_scale = state_dict["scale"]
        if self._scale is not None:
            self._scale.fill_(state_dict["scale"])
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._init_growth_tracker = state_dict["_growth_tracker"]
        if self._growth_tracker is not None:
            self._growth_tracker.fill_(state_dict["_growth_tracker"])
