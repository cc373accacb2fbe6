"""Float64 NumPy re-implementations of the optimizer update rules (test references)."""
import numpy as np


class RefOptimizer:
    """Applies one algorithm's update to a float64 array, keeping its own state."""

    def __init__(self, name, **opts):
        self.name, self.o, self.s, self.t = name, opts, {}, 0

    def step(self, p, g):
        o, s = self.o, self.s
        self.t += 1
        t = self.t
        g = -g if o.get("maximize", False) else g.copy()
        getattr(self, "_" + self.name.lower())(p, g, o, s, t)

    def _sgd(self, p, g, o, s, t):
        lr, mom, damp, wd = o.get("lr", 1e-3), o.get("momentum", 0), o.get("dampening", 0), o.get("weight_decay", 0)
        if wd:
            g = g + wd * p
        if mom:
            s["buf"] = g.copy() if t == 1 else mom * s["buf"] + (1 - damp) * g
            g = g + mom * s["buf"] if o.get("nesterov", False) else s["buf"]
        p -= lr * g

    def _adam(self, p, g, o, s, t, decoupled=False):
        lr, (b1, b2), eps = o.get("lr", 1e-3), o.get("betas", (0.9, 0.999)), o.get("eps", 1e-8)
        wd = o.get("weight_decay", 1e-2 if decoupled else 0)
        if wd:
            if decoupled:
                p *= 1 - lr * wd
            else:
                g = g + wd * p
        s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
        v = s["v"]
        if o.get("amsgrad", False):
            s["vmax"] = np.maximum(s.get("vmax", 0), s["v"])
            v = s["vmax"]
        p -= lr / (1 - b1 ** t) * s["m"] / (np.sqrt(v) / np.sqrt(1 - b2 ** t) + eps)

    def _adamw(self, p, g, o, s, t):
        self._adam(p, g, o, s, t, decoupled=True)

    def _rmsprop(self, p, g, o, s, t):
        lr, alpha, eps = o.get("lr", 1e-2), o.get("alpha", 0.99), o.get("eps", 1e-8)
        wd, mom = o.get("weight_decay", 0), o.get("momentum", 0)
        if wd:
            g = g + wd * p
        s["v"] = alpha * s.get("v", 0) + (1 - alpha) * g * g
        if o.get("centered", False):
            s["gavg"] = alpha * s.get("gavg", 0) + (1 - alpha) * g
            avg = np.sqrt(s["v"] - s["gavg"] ** 2) + eps
        else:
            avg = np.sqrt(s["v"]) + eps
        if mom > 0:
            s["buf"] = mom * s.get("buf", 0) + g / avg
            p -= lr * s["buf"]
        else:
            p -= lr * g / avg

    def _adagrad(self, p, g, o, s, t):
        lr, lr_decay, eps, wd = o.get("lr", 1e-2), o.get("lr_decay", 0), o.get("eps", 1e-10), o.get("weight_decay", 0)
        if wd:
            g = g + wd * p
        clr = lr / (1 + (t - 1) * lr_decay)
        s["sum"] = s.get("sum", o.get("initial_accumulator_value", 0)) + g * g
        p -= clr * g / (np.sqrt(s["sum"]) + eps)

    def _adamax(self, p, g, o, s, t):
        lr, (b1, b2), eps, wd = o.get("lr", 2e-3), o.get("betas", (0.9, 0.999)), o.get("eps", 1e-8), o.get("weight_decay", 0)
        if wd:
            g = g + wd * p
        s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
        s["u"] = np.maximum(b2 * s.get("u", 0), np.abs(g) + eps)
        p -= lr / (1 - b1 ** t) * s["m"] / s["u"]


# (optimizer name, options) pairs covering every option of every optimizer
CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.5, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.05, maximize=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.02, weight_decay=0.3, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.7)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.05, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-6, maximize=True)),
    ("Adamax", dict(lr=0.01)),
    ("Adamax", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1)),
    ("Adamax", dict(lr=0.01, maximize=True)),
]


def case_id(case):
    name, opts = case
    return name + "-" + ",".join(f"{k}={v}" for k, v in opts.items())
