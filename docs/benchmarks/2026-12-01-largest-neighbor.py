"""EdgeConv's search for each point's and channel's largest neighbour,
under tensorflow + XLA, at DGCNN's four EdgeConv layers (B=32, N=2048,
k=20, fixed random neighbours so kNN is left out):

    python docs/benchmarks/2026-12-01-largest-neighbor.py

argmax: the code before `largest_neighbor`: the `(B, N, k, C)` gather and
`argmax` over its neighbour axis; fused: `largest_neighbor` for the whole
batch (a running maximum over the k neighbours); per cloud: what EdgeConv
now runs, `largest_neighbor` one cloud at a time. Times the search alone
(checked to give the same neighbours as numpy's argmax), then the layer's
forward pass, and its forward and backward pass (gradients of a fixed
linear function of the output with respect to the input and the weights)
with each search in the layer. Prints the median of 5 calls after 1
warm-up.
"""

import os
import statistics
import time

os.environ["KERAS_BACKEND"] = "tensorflow"
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import ops  # noqa: E402

from keras_ttp.layers import edge_conv  # noqa: E402
from keras_ttp.layers.knn import gather_neighbors  # noqa: E402
from keras_ttp.layers.knn import largest_neighbor  # noqa: E402
from keras_ttp.utils.compiling import one_sample_at_a_time_under_xla  # noqa: E402

B, N, K = 32, 2048, 20


def argmax_search(features, indices):
    best = ops.argmax(gather_neighbors(features, indices), axis=2)
    return ops.take_along_axis(indices, ops.cast(best, indices.dtype), axis=2)


def per_cloud_search(features, indices):
    return one_sample_at_a_time_under_xla(largest_neighbor, features, indices)


SEARCHES = {"argmax": argmax_search, "fused": largest_neighbor, "per cloud": per_cloud_search}


def median_time(function, *args):
    def run():
        return [ops.convert_to_numpy(t) for t in tf.nest.flatten(function(*args))]

    outputs = run()
    times = []
    for _ in range(5):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), outputs


def layer_time(search, channels, filters, indices, backward):
    # EdgeConv looks both names up in its module when it runs.
    edge_conv.largest_neighbor = search
    edge_conv.one_sample_at_a_time_under_xla = lambda function, *tensors: function(*tensors)
    edge_conv.knn = lambda points, k: indices
    keras.utils.set_random_seed(0)
    layer = edge_conv.EdgeConv(filters, k=K)
    rng = np.random.default_rng(1)
    x = tf.constant(rng.normal(size=(B, N, channels)).astype("float32"))
    layer.build(x.shape)
    weights = tf.constant(rng.normal(size=(B, N, filters)).astype("float32"))

    @tf.function(jit_compile=True)
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
            loss = tf.reduce_sum(y * weights)
        if not backward:
            return y
        return y, tape.gradient(loss, [x] + layer.trainable_variables)

    return median_time(step, x)


rng = np.random.default_rng(0)
for channels, filters in ((3, 64), (64, 64), (64, 128), (128, 256)):
    indices = tf.constant(rng.integers(0, N, (B, N, K)).astype("int32"))
    features = rng.normal(size=(B, N, filters)).astype("float32")
    gathered = np.stack([features[b][ops.convert_to_numpy(indices)[b]] for b in range(B)])
    expected = np.take_along_axis(
        ops.convert_to_numpy(indices), np.argmax(gathered, axis=2), axis=2
    )
    line = [f"{channels} -> {filters}:"]
    for name, search in SEARCHES.items():
        seconds, (found,) = median_time(tf.function(search, jit_compile=True), features, indices)
        line.append(f"{name} {seconds:.3f} s (same {np.array_equal(found, expected)})")
    print("search alone,", *line, flush=True)
    for backward in (False, True):
        line = [f"{channels} -> {filters}:"]
        for name, search in SEARCHES.items():
            seconds, _ = layer_time(search, channels, filters, indices, backward)
            line.append(f"{name} {seconds:.3f} s")
        print("layer forward" + (" and backward," if backward else ","), *line, flush=True)
