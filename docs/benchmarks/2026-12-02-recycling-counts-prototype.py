"""The count-only search of 2026-12-02-recycling-count-only-passes.py as
XLA code, timed against the shipped selection (a prototype, not a
replacement: channels it leaves with more than one candidate get no index
here, where a full version would run the bisection on them):

    python docs/benchmarks/2026-12-02-recycling-counts-prototype.py [data_dir]

Tensorflow+XLA (or KERAS_BACKEND=jax), one (1024, 2048) sample at a time,
on the 32 clouds' products of the count-only script (`trained`: the
preset's trunk). `counts`: the point-0 value's two counts (one mat-vec of
a mask packing both), the moments of the other points (two mat-vecs), two
thresholds at a normal model's quantiles, 12 interpolation passes (a
comparison counted by a mat-vec each), then, where one candidate is left,
its index from two more mat-vecs (the sums of `position // 64` and
`position % 64` over the candidates: integers below 64, exact even in
bfloat16 products). Prints ms per sample (median of 5 calls after 1
warm-up), whether the indices it gives equal numpy's, and how many
channels per cloud it leaves.
"""

import importlib.util
import os
import statistics
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
from keras_ttp.layers.recycling_max_pooling import (  # noqa: E402
    count_at_least,
    float32_keys,
    last_axis_kth_largest_index,
)
from tests.test_case import xla_compiled  # noqa: E402
from tools.benchmark import median_time  # noqa: E402


def sibling_script(name):
    """The benchmark script `name` of this folder, as a module."""
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(os.path.dirname(__file__), f"2026-12-02-{name}.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


count_only = sibling_script("recycling-count-only-passes")
from_keys = sibling_script("recycling-interpolation").from_keys

INTERPOLATION_PASSES = 12
SMALLEST = np.iinfo("int32").min
LARGEST = np.iinfo("int32").max


def shipped(x, rank):
    return last_axis_kth_largest_index(x[None], rank[None])[0]


def counts(x, rank):
    """x `(channels, n)`; the index, -1 where more than one candidate is
    left."""
    n = x.shape[-1]
    keys = float32_keys(x)
    needed = ops.cast(rank + 1, "float32")
    ones = ops.ones((n, 1), "float32")

    def count(threshold):
        return ops.cast(count_at_least(keys, threshold), "float32")

    state = {
        "low": ops.full_like(keys[:, :1], SMALLEST),
        "at_low": ops.full_like(x[:, :1], float(n)),
        "high": ops.full_like(keys[:, :1], LARGEST),
        "has_high": ops.zeros_like(keys[:, :1], dtype="bool"),
        "at_high": ops.zeros_like(x[:, :1]),
    }

    def update(threshold, c):
        enough = c >= needed
        raise_low = enough & (threshold > state["low"])
        lower_high = ~enough & (~state["has_high"] | (threshold < state["high"]))
        state["low"] = ops.where(raise_low, threshold, state["low"])
        state["at_low"] = ops.where(raise_low, c, state["at_low"])
        state["high"] = ops.where(lower_high, threshold, state["high"])
        state["at_high"] = ops.where(lower_high, c, state["at_high"])
        state["has_high"] = state["has_high"] | lower_high
        return enough

    first = keys[:, :1]
    packed = ops.matmul(ops.where(keys > first, 4097.0, ops.where(keys >= first, 1.0, 0.0)), ones)
    above_first = ops.floor(packed / 4096.0)
    at_least_first = packed - 4096.0 * above_first
    update(first, at_least_first)
    update(ops.where(first < LARGEST, first + 1, first), above_first)
    point_zero = (above_first < needed) & (at_least_first >= needed)
    ties = at_least_first - above_first
    rest = ops.maximum(float(n) - ties, 1.0)
    x0 = x[:, :1]
    mean = (ops.matmul(x, ones) - ties * x0) / rest
    variance = (ops.matmul(x * x, ones) - ties * x0 * x0) / rest - mean * mean
    std = ops.sqrt(ops.maximum(variance, 1e-30))
    target = ops.where(above_first >= needed, needed, needed - ties)
    error = ops.sqrt(ops.maximum(target * (rest - target), 1.0)) / rest**1.5
    for side in (-3.0, 3.0):
        q = ops.clip((target - 0.5) / rest + side * error, 0.5 / rest, 1 - 0.5 / rest)
        threshold = float32_keys(mean + std * np.sqrt(2.0) * ops.erfinv(1.0 - 2.0 * q))
        update(threshold, count(threshold))
    stuck_low = stuck_high = ops.zeros_like(x[:, :1])
    reach = ops.ones_like(x[:, :1])
    for _ in range(INTERPOLATION_PASSES):
        has_low, has_high = state["low"] > SMALLEST, state["has_high"]
        low_value, high_value = from_keys(state["low"]), from_keys(state["high"])
        weight_low = (state["at_low"] - needed + 0.5) * 0.5**stuck_low
        weight_high = (needed - 0.5 - state["at_high"]) * 0.5**stuck_high
        guess = low_value + (high_value - low_value) * weight_low / (weight_low + weight_high)
        guess = ops.where(has_low & ~has_high, low_value + reach * std, guess)
        guess = ops.where(~has_low & has_high, high_value - reach * std, guess)
        reach = ops.where(has_low & has_high, reach, 2.0 * reach)
        low_bound = ops.where(state["low"] < LARGEST, state["low"] + 1, state["low"])
        threshold = ops.minimum(ops.maximum(float32_keys(guess), low_bound), state["high"])
        enough = update(threshold, count(threshold))
        stuck_low = ops.where(enough, 0.0, stuck_low + 1.0)
        stuck_high = ops.where(enough, stuck_high + 1.0, 0.0)
    candidates = (keys >= state["low"]) & (~state["has_high"] | (keys < state["high"]))
    positions = ops.arange(n, dtype="int32")
    parts = ops.cast(ops.stack([positions // 64, positions % 64], axis=1), "float32")
    mask = ops.cast(candidates, "float32")
    high_part = ops.matmul(mask, parts[:, :1])
    low_part = ops.matmul(mask, parts[:, 1:])
    index = ops.cast(64.0 * high_part + low_part, "int32")
    single = (state["at_low"] - state["at_high"]) == 1.0
    index = ops.where(point_zero, 0, ops.where(single, index, -1))
    return index[:, 0]


def timed(select, x, rank):
    run = xla_compiled(lambda x, rank: ops.map(lambda a: select(*a), (x, rank)))
    picked = ops.convert_to_numpy(run(x, rank))
    times = median_time(lambda: ops.convert_to_numpy(run(x, rank)), 0, 5)
    return picked, 1000 * statistics.median(times) / x.shape[0]


if __name__ == "__main__":
    data_dir = sys.argv[1] if len(sys.argv) > 1 else count_only.default_data_dir()
    x = count_only.products(data_dir)["trained"]
    rank = np.random.default_rng(0).integers(1, x.shape[-1], size=x.shape[0]).astype("int32")
    value = np.take_along_axis(-np.sort(-x, axis=-1), rank[:, None, None], axis=-1)
    expected = np.argmax(x == value, axis=-1)
    inputs, ranks = ops.convert_to_tensor(x), ops.convert_to_tensor(rank)
    for _ in range(2):
        for name, select in (("shipped", shipped), ("counts", counts)):
            picked, ms = timed(select, inputs, ranks)
            given = picked >= 0
            left = (~given).sum(axis=-1)
            print(
                f"{name:8s} {ms:.2f} ms per sample; indices given equal numpy's "
                f"{bool((picked[given] == expected[given]).all())}; channels left per "
                f"cloud median {int(np.median(left))}, most {left.max()}",
                flush=True,
            )
