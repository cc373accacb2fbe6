"""ember.backends: switches of the compute backends, as torch.backends."""
from . import cuda, cudnn  # noqa: F401
