"""Recycling's selection by interpolation search on the values, against the
shipped 32-step bisection on the keys. Tensorflow+XLA (or jax), one (1024,
2048) sample at a time, B=32:

    python docs/benchmarks/2026-12-02-recycling-interpolation.py [data] [names]

`data`: `normal` (standard normal), `dropout` (half of each sample's
points a copy of its first, as random input dropout leaves them), `relu`
(products of ReLU features with a random kernel, with dropout's copies).

- `shipped`: `last_axis_kth_largest_index`.
- `interpolation`: a while loop (`ops.while_loop`) that keeps, per
  channel, the smallest and largest candidate values `[low, high]` (both
  values present in the row) and how many values are `>= low` and `>
  high`. Each pass places a threshold where the `needed`-th largest would
  sit if the candidates were evenly spread, and counts the values at or
  above it, with the smallest of those and the largest of the others in
  the same pass: the bounds snap to values of the row, and the pass is
  exact as soon as the count is `needed` or `needed - 1`. A pass that
  does not halve a channel's candidates makes its next threshold the
  midpoint of its keys (bounded: 32 such passes pin any key).

Prints whether each gives numpy's indices, the fewest and most passes
over a sample (the bisection always takes 32), and ms per sample (median of
5 calls after 1 warm-up).
"""

import os
import statistics
import sys

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
from tools.benchmark import median_time  # noqa: E402

B, C, N = 32, 1024, 2048


def from_keys(keys):
    """The float32 values of `float32_keys`."""
    bits = ops.where(keys >= 0, keys, ops.bitwise_xor(keys, np.int32(0x7FFFFFFF)))
    return ops.view(bits, "float32")


def shipped(x, rank):
    return last_axis_kth_largest_index(x[None], rank[None])[0], ops.full((), 32, "int32")


def interpolation(x, rank):
    needed = ops.cast(rank + 1, "float32")
    n = ops.cast(ops.shape(x)[-1], "float32")
    low = ops.min(x, axis=-1, keepdims=True)
    high = ops.max(x, axis=-1, keepdims=True)
    at_least_low = ops.full_like(low, n)
    above_high = ops.zeros_like(low)
    bisect = ops.zeros_like(low, dtype="bool")

    def cond(low, high, at_least_low, above_high, bisect, passes):
        return ops.any(low < high)

    def body(low, high, at_least_low, above_high, bisect, passes):
        candidates = at_least_low - above_high
        fraction = (needed - above_high - 0.5) / ops.maximum(candidates - 1.0, 1.0)
        guess = high - (high - low) * ops.clip(fraction, 0.0, 1.0)
        key_low, key_high = float32_keys(low), float32_keys(high)
        halfway = from_keys(
            ops.bitwise_or(key_low, key_high)
            - ops.right_shift(ops.bitwise_xor(key_low, key_high), 1)
        )
        threshold = ops.maximum(ops.minimum(ops.where(bisect, halfway, guess), high), low)
        at_or_above = (x >= threshold) & (x > low)
        count = ops.sum(ops.cast(at_or_above, "float32"), axis=-1, keepdims=True)
        smallest_above = ops.min(ops.where(at_or_above, x, np.inf), axis=-1, keepdims=True)
        largest_below = ops.max(ops.where(at_or_above, -np.inf, x), axis=-1, keepdims=True)
        enough = count >= needed
        new_low = ops.where(enough, smallest_above, low)
        new_high = ops.where(enough, high, largest_below)
        new_low = ops.where(count == needed - 1.0, largest_below, new_low)
        new_high = ops.where(count == needed, smallest_above, new_high)
        new_at_least_low = ops.where(enough, count, at_least_low)
        new_above_high = ops.where(enough, above_high, count)
        slow = 2.0 * (new_at_least_low - new_above_high) > candidates
        return new_low, new_high, new_at_least_low, new_above_high, slow, passes + 1

    low, *_, passes = ops.while_loop(
        cond,
        body,
        (low, high, at_least_low, above_high, bisect, ops.zeros((), "int32")),
    )
    return first_true_index(x == low), passes


VARIANTS = {"shipped": shipped, "interpolation": interpolation}


def data(kind, rng):
    if kind == "relu":
        features = np.maximum(rng.normal(size=(B, N, 128)), 0).astype("float32")
        kernel = rng.normal(size=(128, C)).astype("float32") / np.sqrt(128)
        x = np.ascontiguousarray(np.einsum("bnc,cd->bdn", features, kernel), "float32")
    else:
        x = rng.normal(size=(B, C, N)).astype("float32")
    if kind in ("dropout", "relu"):
        x[:, :, N // 2 :] = x[:, :, :1]
    return x


def main():
    rng = np.random.default_rng(0)
    args = sys.argv[1:]
    kind = args.pop(0) if args and args[0] in ("normal", "dropout", "relu") else "dropout"
    x = data(kind, rng)
    rank = rng.integers(1, N, size=(B,)).astype("int32")
    # The numpy reference: the value from a sort, ties to the first point.
    value = np.take_along_axis(-np.sort(-x, axis=-1), rank[:, None, None], axis=-1)
    expected = np.argmax(x == value, axis=-1)
    # On the backend once, so that the times leave out the copy of `x`.
    inputs, ranks = ops.convert_to_tensor(x), ops.convert_to_tensor(rank)
    for name in args or list(VARIANTS):
        select = VARIANTS[name]
        run = xla_compiled(lambda x, rank, select=select: ops.map(lambda a: select(*a), (x, rank)))
        picked, passes = (ops.convert_to_numpy(t) for t in run(inputs, ranks))
        times = median_time(lambda: ops.convert_to_numpy(run(inputs, ranks)[0]), 0, 5)
        print(
            f"{kind} {name:13s} same as numpy {bool((picked == expected).all())}, "
            f"passes {passes.min()}-{passes.max()}, "
            f"{1000 * statistics.median(times) / B:.2f} ms per sample",
            flush=True,
        )


if __name__ == "__main__":
    main()
