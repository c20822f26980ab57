"""Recycling's selection on torch: the 32-step bisection (shipped on every
backend until 2026-12-02, session 6; on torch each step counted by a bool
sum, `bisection`, or by the mat-vec used under XLA, `bisection, mat-vec`)
against one sort of the keys (shipped on torch since, `sort`), on
(1024, 2048) samples, B=8, half of each sample's points a copy of its first
(as random input dropout leaves them):

    python docs/benchmarks/2026-12-02-torch-sort-selection.py

Prints whether each gives numpy's indices (a stable sort of the negated
values; ties to the first point holding the value), then ms per sample
(median of 3 calls after 1 warm-up).
"""

import os
import statistics
import sys

os.environ["KERAS_BACKEND"] = "torch"
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
from keras_ttp.layers import recycling_max_pooling as recycling  # noqa: E402
from keras_ttp.layers.argmax import first_true_index  # noqa: E402
from tools.benchmark import median_time  # noqa: E402

B, C, N = 8, 1024, 2048


def selection(find_key):
    def select(x, rank):
        keys = recycling.float32_keys(x)
        return first_true_index(keys == find_key(keys, rank))

    return select


def bool_sum_count(keys, threshold):
    """The count of the bisection's steps as shipped on torch before."""
    return ops.sum(keys >= threshold, axis=-1, keepdims=True)


def with_count(count, find_key):
    def find(keys, rank):
        shipped = recycling.count_at_least
        recycling.count_at_least = count
        try:
            return find_key(keys, rank)
        finally:
            recycling.count_at_least = shipped

    return find


def numpy_indices(x, rank):
    order = np.argsort(-x, axis=-1, kind="stable")
    values = np.take_along_axis(x, order[..., rank][..., None], axis=-1)
    return np.argmax(x == values, axis=-1)


def main():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(B, C, N)).astype("float32")
    x[:, :, N // 2 :] = x[:, :, :1]
    rank = rng.integers(1, N, size=(B,)).astype("int32")
    expected = np.stack([numpy_indices(x[i], rank[i]) for i in range(B)])
    tensor, ranks = ops.convert_to_tensor(x), ops.convert_to_tensor(rank)
    for name, find_key in (
        ("bisection", with_count(bool_sum_count, recycling.kth_largest_key_by_bisection)),
        ("bisection, mat-vec", recycling.kth_largest_key_by_bisection),
        ("sort", recycling.kth_largest_key_by_sort),
    ):
        select = selection(find_key)
        same = bool((ops.convert_to_numpy(select(tensor, ranks)) == expected).all())
        times = median_time(lambda: ops.convert_to_numpy(select(tensor, ranks)), 1, 3)
        print(
            f"{name:18s} numpy's indices {same}, "
            f"{1000 * statistics.median(times) / B:.1f} ms per sample",
            flush=True,
        )


if __name__ == "__main__":
    main()
