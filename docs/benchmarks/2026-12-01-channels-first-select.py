"""The two selections of the pre-training step alone, under XLA, before and
after they went one sample at a time with the products channels first:

    python docs/benchmarks/2026-12-01-channels-first-select.py

recycling: PointNet's pooling head at B=128 N=2048 (128 -> 1024 channels),
one view: the products `x W`, each channel's largest point and its
`(r + 1)`-th largest. Before: the products for the whole batch as `(batch,
points, channels)`, `argmax` over the points and `kth_largest_index` (which
transposes each sample). After: per sample (`ops.map`) `W^T x^T` as
`(channels, points)`, `argmax` and `last_axis_kth_largest_index` along the
last axis, as `dense_batch_norm_rows` now does. knn: B=32 N=2048 k=20 at the
widths of DGCNN's four EdgeConv inputs; before: `smallest_k_indices` on the
whole batch's distances, after: `knn` (one cloud at a time). Each pair is
checked to give the same indices; for kNN it prints how many points get
other neighbours (the distances are products computed one cloud at a time
instead of for the batch, so they may round differently: a near-tie can
flip). The backend is KERAS_BACKEND's,
tensorflow by default (compiled with `jit_compile=True`; jax: `jax.jit`).
Prints the median of 5 calls after 1 warm-up.
"""

import importlib
import os
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

knn_module = importlib.import_module("keras_ttp.layers.knn")
pooling = importlib.import_module("keras_ttp.layers.recycling_max_pooling")


def compiled(function):
    if keras.backend.backend() == "jax":
        import jax

        return jax.jit(function)
    import tensorflow as tf

    return tf.function(function, jit_compile=True)


def recycling_before(x, kernel, rank):
    z = ops.matmul(x, kernel)
    return ops.argmax(z, axis=1), pooling.kth_largest_index(z, rank)


def recycling_after(x, kernel, rank):
    ranks = ops.broadcast_to(rank, ops.shape(x)[:1])
    kernel_t = ops.transpose(kernel)

    def one(sample):
        z = ops.matmul(kernel_t, ops.transpose(sample[0]))[None]
        return (
            ops.argmax(z, axis=-1)[0],
            pooling.last_axis_kth_largest_index(z, sample[1][None])[0],
        )

    return ops.map(one, (x, ranks))


def knn_before(points):
    return knn_module.smallest_k_indices(
        knn_module.pairwise_squared_distance(points), 20
    )


def knn_after(points):
    return knn_module.knn(points, 20)


def median_time(function, *args):
    outputs = keras.tree.map_structure(ops.convert_to_numpy, function(*args))
    times = []
    for _ in range(5):
        start = time.perf_counter()
        keras.tree.map_structure(ops.convert_to_numpy, function(*args))
        times.append(time.perf_counter() - start)
    return statistics.median(times), outputs


def same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(keras.tree.flatten(a), keras.tree.flatten(b)))


rng = np.random.default_rng(0)
x = rng.normal(size=(128, 2048, 128)).astype("float32")
x[:, 1500:] = x[:, :1]  # duplicated points, as input dropout makes them
kernel = rng.normal(size=(128, 1024)).astype("float32")
rank = np.int32(1000)
before, out_before = median_time(compiled(recycling_before), x, kernel, rank)
after, out_after = median_time(compiled(recycling_after), x, kernel, rank)
print(
    keras.backend.backend(), "recycling B=128 N=2048 128->1024:",
    f"before {before:.3f} s, after {after:.3f} s, same indices {same(out_before, out_after)}",
    flush=True,
)
for channels in (3, 64, 64, 128):
    points = rng.normal(size=(32, 2048, channels)).astype("float32")
    before, out_before = median_time(compiled(knn_before), points)
    after, out_after = median_time(compiled(knn_after), points)
    print(
        keras.backend.backend(), f"knn B=32 N=2048 C={channels} k=20:",
        f"before {before:.3f} s, after {after:.3f} s, points with other neighbours",
        f"{np.sum(np.any(out_before != out_after, axis=-1))} of {32 * 2048}",
        flush=True,
    )
