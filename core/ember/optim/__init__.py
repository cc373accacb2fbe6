"""ember.optim: optimizers and learning-rate schedulers (PyTorch's torch.optim).

Lives here: the ``Optimizer`` base (parameter groups, state, state_dict, step hooks), SGD,
Adam, AdamW, RMSprop, Adagrad and Adamax, their functional forms (``ember.optim._functional``:
one update function per algorithm, the seam for fused kernels) and ``lr_scheduler``.
Not here: gradient scaling for mixed precision (``ember.amp.GradScaler``).

Example:
    >>> import ember
    >>> w = ember.zeros(2, requires_grad=True)
    >>> opt = ember.optim.SGD([w], lr=0.1)
    >>> sched = ember.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    >>> (w - 1).square().sum().backward(); opt.step(); sched.step(); sched.get_last_lr()
    [0.05]
"""
from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .optimizer import Optimizer, register_optimizer_step_post_hook, register_optimizer_step_pre_hook
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Adagrad", "Adam", "Adamax", "AdamW", "Optimizer", "RMSprop", "SGD", "lr_scheduler",
           "register_optimizer_step_post_hook", "register_optimizer_step_pre_hook"]
