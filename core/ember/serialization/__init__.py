"""ember.save / ember.load: pickle-free checkpoints in the safetensors format.

What lives here:

* ``save(obj, f)`` writes safetensors: a plain ``dict`` of tensors byte-identical to the
  ``safetensors`` library's output; nested state (state dicts, optimizer and scheduler
  state) as flat tensors plus a JSON description of the nesting in ``__metadata__``.
* ``load(f, map_location=None, mmap=False, weights_only=True)`` reads those files, any
  safetensors file, and PyTorch ``torch.save`` checkpoints (zip and legacy formats) without
  torch, through a restricted unpickler that never runs code from the file.
* ``load_metadata(f)`` reads a safetensors file's ``__metadata__`` only.

What does not: module and optimizer ``state_dict`` logic (ember.nn, ember.optim), the
weight hub (ember.hub), and writing PyTorch's pickle format.

Example:
    >>> import ember, io
    >>> from ember.serialization import save, load
    >>> buf = io.BytesIO()
    >>> save({"state": {0: {"step": ember.tensor(3.0)}}, "lr": 0.1}, buf)
    >>> _ = buf.seek(0); load(buf)["state"][0]["step"]
    tensor(3.)
"""
from ._api import load, load_metadata, save
from ._torch_pickle import UnsafePickleError

__all__ = ["save", "load", "load_metadata", "UnsafePickleError"]
