"""ember vs PyTorch benchmarks (see bench/README.md)."""
