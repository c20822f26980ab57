"""`first_true_index` by a product with weights per position, tried and not
adopted (2026-12-02, session 5), against the shipped search
(`keras_ttp.layers.argmax.first_true_index`), under XLA, one (1024, 2048)
sample at a time, B=32, half of each sample's points a copy of its first
(as random input dropout leaves them):

    KERAS_BACKEND=tensorflow python docs/benchmarks/2026-12-02-first-true-matvec.py
    KERAS_BACKEND=jax python docs/benchmarks/2026-12-02-first-true-matvec.py

- `searched`: the shipped `first_true_index`.
- `matvec`: one mat-vec with the weights `n + position`: a row with one
  True sums to `n` plus its index, a row with more to at least `2 n`; a
  row whose first entry holds is index 0. Only when some other row holds
  several Trues (or none) does the sample take the search (`ops.cond`).
  Exact in float32 only: where XLA runs float32 products in bfloat16 or
  TF32 (GPUs, TPUs), `n + position` needs more than 8 bits.
- `twocolumn`: the same with two weights per position, `base + p // 64`
  and `64 + p % 64`, integers below 256 and so exact in bfloat16 too.

Times, in ms per sample (median of 5 calls after 1 warm-up): `index`, the
first index of each row's maximum (the max included); `argmax`,
`last_axis_argmax`; `recycling`, recycling's selection
`last_axis_kth_largest_index` (32 bisection steps and the index), each with
the variant swapped in. Prints whether each gives numpy's indices.
"""

import os
import statistics
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
from keras_ttp.layers import argmax as argmax_module  # noqa: E402
from keras_ttp.layers import recycling_max_pooling as recycling_module  # noqa: E402
from tests.test_case import xla_compiled  # noqa: E402
from tools.benchmark import median_time  # noqa: E402

B, C, N = 32, 1024, 2048
searched = argmax_module.first_true_index


def with_search_fallback(mask, index, easy):
    return ops.cond(
        ops.all(easy),
        lambda: index,
        lambda: ops.where(easy, index, searched(mask)),
    )


def matvec(mask):
    n = mask.shape[-1]
    weights = ops.cast(ops.arange(n, 2 * n, dtype="int32"), "float32")[:, None]
    sums = ops.matmul(ops.cast(mask, "float32"), weights)[..., 0]
    leading = mask[..., 0]
    index = ops.where(leading, 0, ops.cast(sums, "int32") - n)
    return with_search_fallback(mask, index, leading | ((sums >= n) & (sums < 2 * n)))


def twocolumn(mask):
    n = mask.shape[-1]
    base = 1 << max((n - 1).bit_length() - 6, 0)  # above (n - 1) // 64
    positions = ops.arange(n, dtype="int32")
    weights = ops.stack([base + positions // 64, 64 + positions % 64], axis=1)
    sums = ops.matmul(ops.cast(mask, "float32"), ops.cast(weights, "float32"))
    high, low = (ops.cast(sums[..., i], "int32") for i in (0, 1))
    leading = mask[..., 0]
    index = ops.where(leading, 0, 64 * (high - base) + low - 64)
    return with_search_fallback(mask, index, leading | ((high >= base) & (high < 2 * base)))


INDEX = {"searched": searched, "matvec": matvec, "twocolumn": twocolumn}

rng = np.random.default_rng(0)
x = rng.normal(size=(B, C, N)).astype("float32")
x[:, :, N // 2 :] = x[:, :, :1]
rank = rng.integers(1, N, size=(B,)).astype("int32")
maximum = x.max(-1, keepdims=True)
value = np.take_along_axis(-np.sort(-x, axis=-1), rank[:, None, None], axis=-1)
EXPECTED = {
    "index": np.argmax(x == maximum, axis=-1),
    "argmax": np.argmax(x, axis=-1),
    "recycling": np.argmax(x == value, axis=-1),
}
# On the backend once, so that the times leave out the copy of `x`.
inputs, ranks = ops.convert_to_tensor(x), ops.convert_to_tensor(rank)


def task(name):
    if name == "index":
        return lambda sample, rank: argmax_module.first_true_index(
            sample == ops.max(sample, axis=-1, keepdims=True)
        )
    if name == "argmax":
        return lambda sample, rank: argmax_module.last_axis_argmax(sample)
    return lambda sample, rank: recycling_module.last_axis_kth_largest_index(
        sample[None], rank[None]
    )[0]


def timed(name, index):
    # Both modules look `first_true_index` up at call time: swap it there.
    argmax_module.first_true_index = recycling_module.first_true_index = INDEX[index]
    run = xla_compiled(lambda x, rank: ops.map(lambda a: task(name)(*a), (x, rank)))
    picked = ops.convert_to_numpy(run(inputs, ranks))
    times = median_time(lambda: ops.convert_to_numpy(run(inputs, ranks)), 0, 5)
    return bool((picked == EXPECTED[name]).all()), 1000 * statistics.median(times) / B


for _ in range(2):
    for name in ("index", "argmax", "recycling"):
        for index in INDEX:
            same, ms = timed(name, index)
            print(f"{name:9s} {index:9s} same as numpy {same}, {ms:.2f} ms per sample", flush=True)
