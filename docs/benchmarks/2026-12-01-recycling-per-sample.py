"""Recycling's selection alone, compiled by XLA: the whole batch at once
(`batch_kth_largest_index`) against one sample at a time (what
`kth_largest_index` does under XLA), on features of the PointNet step's
shape (N=2048, 1024 channels), B=64:

    KERAS_BACKEND=tensorflow python docs/benchmarks/2026-12-01-recycling-per-sample.py
    KERAS_BACKEND=jax python docs/benchmarks/2026-12-01-recycling-per-sample.py

Prints the median of 5 calls after 1 warm-up, for each variant, twice in
alternation, and checks both give the same indices.
"""

import os
import statistics
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
from keras_ttp.layers.recycling_max_pooling import batch_kth_largest_index  # noqa: E402
from keras_ttp.layers.recycling_max_pooling import kth_largest_index  # noqa: E402
from tests.test_case import xla_compiled  # noqa: E402

batch_size = int(sys.argv[1]) if len(sys.argv) > 1 else 64
x = np.random.default_rng(0).normal(size=(batch_size, 2048, 1024)).astype("float32")
x = ops.convert_to_tensor(x)
rank = ops.convert_to_tensor(np.int32(700))
variants = {
    "whole batch": xla_compiled(batch_kth_largest_index),
    "per sample": xla_compiled(kth_largest_index),
}
results = {name: ops.convert_to_numpy(f(x, rank)) for name, f in variants.items()}
same = np.array_equal(*results.values())
for _ in range(2):
    for name, f in variants.items():
        times = []
        for _ in range(5):
            start = time.perf_counter()
            ops.convert_to_numpy(f(x, rank))
            times.append(time.perf_counter() - start)
        print(
            f"{keras.backend.backend()} B={batch_size} {name:12s} median "
            f"{statistics.median(times):.3f} s {[round(t, 3) for t in times]}",
            flush=True,
        )
print("same indices:", same)
