"""Writes the small checkpoint fixtures of tests/serialization (needs torch and safetensors).

Run from the repository root:  python tests/serialization/data/make_fixtures.py

The tests load these files without torch and compare them with values written into the
tests (arange-based), so regenerate them only when this script changes.
"""
import collections
import os
import pickle
import zipfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
# The command the malicious fixtures try to run; the tests check this file never appears.
MARKER = "/tmp/ember_serialization_pwned_marker"


class Evil:
    """Unpickling this runs `touch MARKER` (with an unrestricted unpickler)."""

    def __reduce__(self):
        return (os.system, ("touch " + MARKER,))


class EvilEval:
    def __reduce__(self):
        return (eval, ("__import__('os').system('touch " + MARKER + "')",))


def state_dict():
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    sd = collections.OrderedDict()
    sd["f32"] = base
    sd["f32_t"] = base.t()                 # non-contiguous view of the same storage
    sd["f32_slice"] = base[1:, 1:3]        # storage offset 5, strides (4, 1)
    sd["f16"] = torch.arange(6, dtype=torch.float16).reshape(2, 3) * 0.5
    sd["bf16"] = (torch.arange(8, dtype=torch.float32) - 4).to(torch.bfloat16) * 0.25
    sd["i64"] = torch.arange(5, dtype=torch.int64) * 1_000_000_000_000
    sd["i32"] = -torch.arange(3, dtype=torch.int32)
    sd["u8"] = torch.arange(250, 256, dtype=torch.int64).to(torch.uint8)
    sd["bool"] = torch.tensor([True, False, True])
    sd["c64"] = torch.tensor([1 + 2j, -3.5j], dtype=torch.complex64)
    sd["scalar"] = torch.tensor(7.25, dtype=torch.float64)
    sd["empty"] = torch.zeros(0, 3)
    sd._metadata = {"": {"version": 1}}
    return sd


def optimizer_state():
    return {
        "state": {
            0: {"step": torch.tensor(3.0), "exp_avg": torch.arange(4, dtype=torch.float32) * 0.5,
                "exp_avg_sq": torch.arange(4, dtype=torch.float32).reshape(2, 2) ** 2},
            1: {"step": torch.tensor(3.0), "exp_avg": torch.full((3,), -1.0),
                "exp_avg_sq": torch.ones(3)},
        },
        "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-08, "weight_decay": 0,
                          "amsgrad": False, "foreach": None, "params": [0, 1], "name": "adam",
                          "max": float("inf")}],
        "param": torch.nn.Parameter(torch.tensor([1.5, -2.0])),
        "extras": {"dtype": torch.bfloat16, "device": torch.device("cpu"), "size": torch.Size([2, 3]),
                   "bytes": b"\x00\xffab", "set": {1, 2, 3}, "complex": 1 + 2j},
    }


def legacy_state():
    x = torch.arange(6, dtype=torch.float32)
    return {"a": x, "b": x[2:].view(2, 2), "h": torch.arange(3, dtype=torch.bfloat16) - 1,
            "n": torch.tensor([10, 20], dtype=torch.int64), "meta": {"epoch": 4, "tag": "legacy"}}


def main():
    torch.save(state_dict(), os.path.join(HERE, "torch_zip_state_dict.pt"))
    torch.save(optimizer_state(), os.path.join(HERE, "torch_zip_optimizer.pt"))
    torch.save(legacy_state(), os.path.join(HERE, "torch_legacy.pt"), _use_new_zipfile_serialization=False)

    # Malicious files: a plain pickle, one using builtins.eval, and torch.save archives
    # (zip and legacy) whose data pickle reduces through os.system.
    with open(os.path.join(HERE, "malicious_system.pkl"), "wb") as f:
        pickle.dump({"weights": [1.0, 2.0], "payload": Evil()}, f, protocol=2)
    with open(os.path.join(HERE, "malicious_eval.pkl"), "wb") as f:
        pickle.dump(EvilEval(), f, protocol=4)
    torch.save({"w": torch.ones(2), "payload": Evil()}, os.path.join(HERE, "malicious_zip.pt"))
    torch.save({"w": torch.ones(2), "payload": Evil()}, os.path.join(HERE, "malicious_legacy.pt"),
               _use_new_zipfile_serialization=False)
    # The same payload in a hand-made archive that only looks like a torch checkpoint.
    with zipfile.ZipFile(os.path.join(HERE, "malicious_fake_archive.pt"), "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps(Evil(), protocol=2))
        z.writestr("archive/byteorder", "little")
        z.writestr("archive/version", "3\n")

    # A safetensors file written by the safetensors library (loaded without it in the tests).
    from safetensors.numpy import save_file
    save_file({"weight": np.arange(6, dtype=np.float32).reshape(2, 3), "ids": np.array([3, 1, 2], dtype=np.int64),
               "mask": np.array([True, False]), "half": np.array([0.5, -1.0], dtype=np.float16)},
              os.path.join(HERE, "library.safetensors"), metadata={"format": "np", "source": "safetensors"})
    assert not os.path.exists(MARKER)


if __name__ == "__main__":
    main()
