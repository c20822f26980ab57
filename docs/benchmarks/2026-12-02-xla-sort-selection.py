"""Recycling's selection under XLA: the shipped bisection
(`kth_largest_key_by_bisection`) against a sort of the keys
(`kth_largest_key_by_sort`, what torch uses since 2026-12-02, session 6),
one (1024, 2048) sample at a time (`ops.map`), B=8, half of each sample's
points a copy of its first:

    python docs/benchmarks/2026-12-02-xla-sort-selection.py
    KERAS_BACKEND=jax python docs/benchmarks/2026-12-02-xla-sort-selection.py

Prints ms per sample for each (median of 3 calls after 1 warm-up) and
whether both find the same keys.
"""

import os
import statistics
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
from keras_ttp.layers import recycling_max_pooling as recycling  # noqa: E402
from tests.test_case import xla_compiled  # noqa: E402
from tools.benchmark import median_time  # noqa: E402

B, C, N = 8, 1024, 2048


def main():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(B, C, N)).astype("float32")
    x[:, :, N // 2 :] = x[:, :, :1]
    rank = rng.integers(1, N, size=(B,)).astype("int32")
    x, rank = ops.convert_to_tensor(x), ops.convert_to_tensor(rank)
    found = {}
    for name, find_key in (
        ("bisection", recycling.kth_largest_key_by_bisection),
        ("sort", recycling.kth_largest_key_by_sort),
    ):

        def select(sample, find_key=find_key):
            keys = recycling.float32_keys(sample[0][None])
            return find_key(keys, sample[1][None])[0, :, 0]

        run = xla_compiled(lambda x, rank, select=select: ops.map(select, (x, rank)))
        found[name] = ops.convert_to_numpy(run(x, rank))
        times = median_time(lambda: ops.convert_to_numpy(run(x, rank)), 1, 3)
        print(
            f"{keras.backend.backend()}+XLA {name:9s} "
            f"{1000 * statistics.median(times) / B:.1f} ms per sample",
            flush=True,
        )
    print("same keys:", bool((found["bisection"] == found["sort"]).all()))


if __name__ == "__main__":
    main()
