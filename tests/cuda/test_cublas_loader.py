"""cuBLAS is loaded at run time (pip install "ember[cuda]" brings the nvidia-cublas wheel), so a
CPU-only install neither needs nor downloads it. These run without a GPU: loading the library
does not touch the device."""
import os
import subprocess
import sys
import textwrap

import pytest

import ember

pytestmark = pytest.mark.skipif(not ember.cuda.is_built(), reason="ember built without CUDA")


def _run(code, **env):
    # the child imports the same ember as this process
    root = os.path.dirname(os.path.dirname(ember.__file__))
    e = dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]), **env)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=e,
                          timeout=120)


def test_missing_cublas_says_how_to_install(tmp_path):
    r = _run("""
        import ember
        ember.cuda._rt.set_library_path("cublas", "/nonexistent/libcublas.so.13")
        try:
            ember.cuda._load_cublas()
        except RuntimeError as e:
            print("ERR", e)
        else:
            print("LOADED")
    """, EMBER_CUBLAS_PATH=str(tmp_path / "none.so"), LD_LIBRARY_PATH=str(tmp_path))
    assert r.returncode == 0, r.stderr
    if "LOADED" in r.stdout:
        pytest.skip("a system cuBLAS is on the loader's path")
    assert 'pip install "ember[cuda]"' in r.stdout and "EMBER_CUBLAS_PATH" in r.stdout, r.stdout


def test_cublas_from_the_wheel_or_env_loads():
    path = os.environ.get("EMBER_CUBLAS_PATH") or ember.cuda._wheel_library("libcublas.so.13")
    if not path:
        pytest.skip("nvidia-cublas is not installed (pip install \"ember[cuda]\")")
    r = _run("import ember; print(ember.cuda._load_cublas())", EMBER_CUBLAS_PATH=path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == path


def test_tf32_switch_round_trips():
    old = ember.backends.cuda.matmul.allow_tf32
    try:
        assert old is False  # PyTorch's default
        ember.set_float32_matmul_precision("high")
        assert ember.backends.cuda.matmul.allow_tf32 and ember.get_float32_matmul_precision() == "high"
        ember.backends.cuda.matmul.allow_tf32 = False
        assert ember.get_float32_matmul_precision() == "highest"
        with pytest.raises(ValueError):
            ember.set_float32_matmul_precision("fast")
    finally:
        ember.backends.cuda.matmul.allow_tf32 = old


def test_cudnn_switches_are_accepted_like_torch():
    cudnn = ember.backends.cudnn
    assert cudnn.allow_tf32 is True and cudnn.is_available() is False  # PyTorch's default; no cuDNN
    cudnn.benchmark = True
    cudnn.deterministic = True
    assert cudnn.benchmark and cudnn.deterministic
    try:
        cudnn.allow_tf32 = False
        assert ember._C._cuda.conv_allow_tf32() is False and ember.backends.cuda.matmul.allow_tf32 is False
    finally:
        cudnn.allow_tf32 = True
        cudnn.benchmark = cudnn.deterministic = False
