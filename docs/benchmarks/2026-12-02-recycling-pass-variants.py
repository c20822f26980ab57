"""Recycling's selection with fewer or cheaper passes over the keys (tried
and not adopted, 2026-12-02, session 3). Tensorflow+XLA, one (1024, 2048)
sample at a time, B=32, half of each sample's points a copy of its first
(as random input dropout leaves them):

    python docs/benchmarks/2026-12-02-recycling-pass-variants.py [names]

- `shipped`: `last_axis_kth_largest_index`, 32 bisection steps, each a
  comparison counted by a mat-vec over a sample's (1024, 2048) keys.
- `blocks64`, `blocks32`: the same bisection over 64 or 32 channels at a
  time (`ops.map` over channel blocks), so a block's keys stay in the
  core's 1 MiB L2 cache through the 32 steps.
- `columns`: the keys points-first (2048, 1024), each step's count a sum
  over the points axis (a column reduction XLA could vectorise across
  channels).
- `ternary`: two thresholds per step, both counted by one mat-vec of one
  float32 mask (1 where a key reaches the lower threshold, 4097 where it
  reaches the upper one: two counts up to 2048 packed exactly), 21 steps
  instead of 32.

Prints whether each gives the indices of `shipped`, then ms per sample
(median of 5 calls after 1 warm-up).
"""

import os
import statistics
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
from keras_ttp.layers.argmax import first_true_index  # noqa: E402
from keras_ttp.layers.recycling_max_pooling import (  # noqa: E402
    float32_keys,
    last_axis_kth_largest_index,
)
from tests.test_case import xla_compiled  # noqa: E402

B, C, N = 32, 1024, 2048


def shipped(x, rank):
    return last_axis_kth_largest_index(x[None], rank[None])[0]


def blocks(size):
    def select(x, rank):
        parts = ops.reshape(x, (C // size, size, N))
        picked = ops.map(lambda part: shipped(part, rank), parts)
        return ops.reshape(picked, (C,))

    return select


def columns(x, rank):
    keys = float32_keys(ops.transpose(x))  # (N, C)
    low = ops.full_like(keys[:1], np.iinfo("int32").min)
    high = ops.full_like(keys[:1], np.iinfo("int32").max)
    for _ in range(32):
        middle = ops.bitwise_or(low, high) - ops.right_shift(ops.bitwise_xor(low, high), 1)
        count = ops.sum(ops.cast(keys >= middle, "float32"), axis=0, keepdims=True)
        enough = ops.cast(count, "int32") >= rank + 1
        low = ops.where(enough, middle, low)
        high = ops.where(enough, high, middle - 1)
    positions = ops.arange(N, dtype="int32")[:, None]
    return ops.min(ops.where(keys == low, positions, N - 1), axis=0)


def ternary(x, rank):
    keys = float32_keys(x)  # (C, N)
    low = ops.full((C, 1), np.iinfo("int32").min, dtype="int64")
    high = ops.full((C, 1), np.iinfo("int32").max, dtype="int64")
    ones = ops.ones((N, 1), "float32")
    for _ in range(21):  # 3**21 > 2**32
        size = high - low + 1
        lower, upper = low + (size + 2) // 3, low + (2 * size + 2) // 3
        mask = ops.where(
            keys >= ops.cast(ops.minimum(upper, high), "int32"),
            4097.0,
            ops.where(keys >= ops.cast(ops.minimum(lower, high), "int32"), 1.0, 0.0),
        )
        packed = ops.cast(ops.matmul(mask, ones), "int32")
        upper_count = packed // 4096
        lower_count = packed - upper_count * 4096
        up = (upper_count > rank) & (upper <= high)
        middle = (lower_count > rank) & (lower <= high)
        new_low = ops.where(up, upper, ops.where(middle, lower, low))
        high = ops.maximum(ops.where(up, high, ops.where(middle, upper - 1, lower - 1)), new_low)
        low = new_low
    return first_true_index(keys == ops.cast(low, "int32"))


VARIANTS = {
    "shipped": shipped,
    "blocks64": blocks(64),
    "blocks32": blocks(32),
    "columns": columns,
    "ternary": ternary,
}

rng = np.random.default_rng(0)
x = rng.normal(size=(B, C, N)).astype("float32")
x[:, :, N // 2 :] = x[:, :, :1]
rank = rng.integers(1, N, size=(B,)).astype("int32")
reference = None
for name in sys.argv[1:] or list(VARIANTS):
    select = VARIANTS[name]
    run = xla_compiled(lambda x, rank, select=select: ops.map(lambda a: select(*a), (x, rank)))
    picked = ops.convert_to_numpy(run(x, rank))
    reference = picked if reference is None else reference
    times = []
    for _ in range(5):
        start = time.perf_counter()
        ops.convert_to_numpy(run(x, rank))
        times.append(time.perf_counter() - start)
    print(
        f"{name:9s} same indices {bool((picked == reference).all())}, "
        f"{1000 * statistics.median(times) / B:.2f} ms per sample",
        flush=True,
    )
