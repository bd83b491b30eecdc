"""The stall's benchmark set (issue 8): `python -m benchmarks.stall` writes BENCHMARKS.md."""
