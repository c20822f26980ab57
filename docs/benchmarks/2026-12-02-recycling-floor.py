"""What recycling's selection would have to cost for issue 5's target (at
most 5 % of a PointNet pre-training step), against what its parts and the
alternatives cost on this machine (2026-12-02, session 6):

    python docs/benchmarks/2026-12-02-recycling-floor.py

Tensorflow+XLA, the default for pre-training on CPUs. (A first run under
jax put 120 ms per sample on the selection, more than the jax step's whole
36 ms per sample: its head left the pooling layer unbuilt, so jax's
`predict_on_batch` ran the head eagerly at every call
(docs/benchmarks/2026-12-02-unbuilt-layer.txt). `pool_dense_batch_norm`
builds it now.)

1. `step`: the PointNet step at the paper's settings (B=128, N=2048),
   tools/benchmark.py's `keras_step`, and its time per selected sample
   (two views of 128: 256 selections over (1024, 2048) products).
2. `head`: the pooling head as tools/benchmark.py times recycling's share
   (Dense 128 -> 1024, BatchNorm, one sample at a time), per sample: its
   largest point alone, and what the shipped selection
   (`last_axis_kth_largest_index`) adds to it.
3. `count pass`: one comparison-and-count over a (1024, 2048) sample
   alone: the shipped mat-vec with a ones vector, and a float32 or int32
   sum over the row (what a search with row reductions would pay).
4. `histogram pass`: one 11-bit histogram of each row's keys
   (`ops.segment_sum`), one pass of a radix select.
5. `numpy`: `np.partition`, `np.argpartition` and `np.sort` along each row
   of a sample, one core (numpy's own vectorised selection and sort).
"""

import os
import statistics
import sys

os.environ["KERAS_BACKEND"] = "tensorflow"
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
import keras_ttp  # noqa: E402
from keras_ttp.layers import recycling_max_pooling as recycling  # noqa: E402
from keras_ttp.layers.batch_norm_max import dense_batch_norm_max  # noqa: E402
from tests.test_case import xla_compiled  # noqa: E402
from tools.benchmark import keras_step, median_time  # noqa: E402

B, N, C, HEAD_INPUTS = 128, 2048, 1024, 128
# The fewest passes a count-only search left few channels after, simulated
# on the real products (docs/benchmarks/2026-12-02-recycling-interpolation.txt).
FEWEST_PASSES = 18


def median_ms(run, repeats=5):
    return 1000 * statistics.median(median_time(run, 1, repeats))


class HeadPool(keras.layers.Layer):
    """The PointNet pooling head: its largest point, and with `recycle`
    also the recycled one (as tools/benchmark.py's component timing)."""

    def __init__(self, recycle):
        super().__init__()
        self.recycle = recycle
        self.dense = keras.layers.Dense(C)
        self.batch_norm = keras.layers.BatchNormalization()
        self.pooling = keras_ttp.layers.RecyclingMaxPooling(seed=0)

    def build(self, input_shape):
        self.dense.build(input_shape)
        self.batch_norm.build(input_shape[:-1] + (C,))

    def call(self, x):
        if self.recycle:
            pooled = self.pooling.pool_dense_batch_norm(
                self.dense, self.batch_norm, x, training=False
            )
            return ops.stack(pooled)
        return dense_batch_norm_max(self.dense, self.batch_norm, x, False)


def head_ms(recycle, features):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((N, HEAD_INPUTS), batch_size=B)
    model = keras.Model(inputs, HeadPool(recycle)(inputs))
    model.compile(jit_compile=True)
    return median_ms(lambda: ops.convert_to_numpy(model.predict_on_batch(features))) / B


def head():
    """ms per sample: the head's largest point alone, and what the shipped
    selection adds."""
    features = np.random.default_rng(0).normal(size=(B, N, HEAD_INPUTS)).astype("float32")
    largest = head_ms(False, features)
    added = head_ms(True, features) - largest
    print(
        f"head: its largest point alone {largest:.2f} ms per sample, "
        f"the selection adds {added:.2f}"
    )
    return added


def count_pass():
    rng = np.random.default_rng(0)
    keys = recycling.float32_keys(rng.normal(size=(32, C, N)).astype("float32"))
    thresholds = rng.integers(-(2**31), 2**31, size=(32, 32, C, 1), dtype="int32")
    thresholds = ops.convert_to_tensor(thresholds)

    def row_sum(dtype):
        return lambda k, t: ops.cast(
            ops.sum(ops.cast(k >= t, dtype), -1, keepdims=True), "int32"
        )

    ways = {
        "mat-vec (shipped)": recycling.count_at_least,
        "float32 row sum": row_sum("float32"),
        "int32 row sum": row_sum("int32"),
    }
    per_pass = {}
    for name, count in ways.items():
        # 32 counts per sample, each at its own thresholds (as a bisection).
        def passes(keys, thresholds, count=count):
            return ops.map(
                lambda kt: sum(count(kt[0], kt[1][i]) for i in range(32)), (keys, thresholds)
            )

        run = xla_compiled(passes)
        ms = median_ms(lambda: ops.convert_to_numpy(run(keys, thresholds))) / (32 * 32)
        per_pass[name] = ms
        print(f"count pass alone, {name:18s} {1000 * ms:.0f} us per sample", flush=True)
    return per_pass["mat-vec (shipped)"]


def histogram_pass(bits=11):
    x = np.random.default_rng(0).normal(size=(16, C, N)).astype("float32")

    def histogram(x):
        bucket = ops.right_shift(recycling.float32_keys(x), 32 - bits) + (1 << (bits - 1))
        ids = ops.reshape(ops.arange(C, dtype="int32")[:, None] * (1 << bits) + bucket, (-1,))
        counts = ops.segment_sum(ops.ones_like(ids, "float32"), ids, num_segments=C << bits)
        return ops.reshape(counts, (C, 1 << bits))

    run = xla_compiled(lambda x: ops.map(histogram, x))
    buckets = (ops.convert_to_numpy(recycling.float32_keys(x[0])) >> (32 - bits)) + (
        1 << (bits - 1)
    )
    expected = [np.bincount(row, minlength=1 << bits) for row in buckets]
    same = bool((ops.convert_to_numpy(run(x))[0] == np.stack(expected)).all())
    ms = median_ms(lambda: ops.convert_to_numpy(run(x))) / len(x)
    print(f"{bits}-bit histogram pass (equal to np.bincount: {same}) {ms:.2f} ms per sample")


def numpy_selection():
    x = np.random.default_rng(0).normal(size=(8, C, N)).astype("float32")
    ways = {
        "np.partition": lambda a: np.partition(a, N // 2, axis=-1),
        "np.argpartition": lambda a: np.argpartition(a, N // 2, axis=-1),
        "np.sort": lambda a: np.sort(a, axis=-1),
    }
    for name, way in ways.items():
        ms = median_ms(lambda way=way: [way(a) for a in x], repeats=3) / len(x)
        print(f"numpy, one core, {name:15s} {ms:.2f} ms per sample")


def main():
    step = statistics.median(keras_step("pointnet", B, N, 1, 3, True, False)["times"])
    per_sample = 1000 * step / (2 * B)
    print(f"step: PointNet B={B} N={N} {step:.2f} s, {per_sample:.2f} ms per selected sample")
    selection = head()
    per_pass = count_pass()
    histogram_pass()
    numpy_selection()
    floor = FEWEST_PASSES * per_pass
    print(
        f"share of the step: the shipped selection {selection / per_sample:.0%}; "
        f"{FEWEST_PASSES} count passes alone {floor:.2f} ms, {floor / per_sample:.0%}; "
        "target 5%"
    )


if __name__ == "__main__":
    main()
