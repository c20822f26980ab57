"""Recycling's selection alone, compiled by XLA, one sample at a time as
`kth_largest_index` runs it: bisection from the keys' own (min, max) (the
code before 2026-12-02) against bisection from the whole int32 range (what
`last_axis_kth_largest_index` does now), on features of the PointNet
head's shape (1024 channels, N=2048, with points 100-399 copies of point
0, as after the authors' input dropout), B=32, random ranks:

    KERAS_BACKEND=tensorflow python docs/benchmarks/2026-12-02-recycling-full-range.py
    KERAS_BACKEND=jax python docs/benchmarks/2026-12-02-recycling-full-range.py

Prints the median of 3 calls after 1 warm-up, for each variant, three
times in alternation, and checks both give the same indices.
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
from keras_ttp.layers.argmax import first_true_index  # noqa: E402
from keras_ttp.layers.recycling_max_pooling import count_at_least  # noqa: E402
from keras_ttp.layers.recycling_max_pooling import last_axis_kth_largest_index  # noqa: E402
from tests.test_case import xla_compiled  # noqa: E402


def from_min_max(x, rank):
    """The selection as it was: the bisection starts at the keys' range."""
    bits = ops.view(ops.cast(x, "float32"), "int32")
    keys = ops.where(bits >= 0, bits, ops.bitwise_xor(bits, np.int32(0x7FFFFFFF)))
    needed = ops.reshape(ops.cast(rank, "int32") + 1, (-1, 1, 1))
    low = ops.min(keys, axis=-1, keepdims=True)
    high = ops.max(keys, axis=-1, keepdims=True)
    for _ in range(32):
        middle = ops.bitwise_or(low, high) - ops.right_shift(ops.bitwise_xor(low, high), 1)
        enough = count_at_least(keys, middle) >= needed
        low = ops.where(enough, middle, low)
        high = ops.where(enough, high, middle - 1)
    return first_true_index(keys == low)


def per_sample(select):
    return xla_compiled(
        lambda x, r: ops.map(lambda s: select(s[0][None], s[1][None])[0], (x, r))
    )


batch_size = 32
features = np.random.default_rng(0).normal(size=(batch_size, 1024, 2048)).astype("float32")
features[:, :, 100:400] = features[:, :, :1]
x = ops.convert_to_tensor(features)
ranks = ops.convert_to_tensor(
    np.random.default_rng(1).integers(1, 2048, (batch_size,)).astype("int32")
)
variants = {
    "from (min, max)": per_sample(from_min_max),
    "whole range": per_sample(last_axis_kth_largest_index),
}
results = [ops.convert_to_numpy(f(x, ranks)) for f in variants.values()]
for _ in range(3):
    for name, f in variants.items():
        times = []
        for _ in range(3):
            start = time.perf_counter()
            ops.convert_to_numpy(f(x, ranks))
            times.append(time.perf_counter() - start)
        print(
            f"{keras.backend.backend()} B={batch_size} {name:16s} median "
            f"{statistics.median(times):.3f} s {[round(t, 3) for t in times]}",
            flush=True,
        )
print("same indices:", np.array_equal(*results))
