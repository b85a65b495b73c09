"""`python -m lib bench`: a large HealBridge data set in the embedded stores (lib.bench.data) and the
measurements taken on it (lib.bench.measure, lib.bench.report)."""
