import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed: parity suite skipped")
