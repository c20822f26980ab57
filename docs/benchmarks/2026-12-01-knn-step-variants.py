"""One ToThePoint pre-training step at the paper's settings (PointNet
B=128, DGCNN B=32, N=2048), compiled with `jit_compile=True`, with parts of
it replaced, to bound what kNN and recycling cost inside the step:

    python docs/benchmarks/2026-12-01-knn-step-variants.py dgcnn
    python docs/benchmarks/2026-12-01-knn-step-variants.py dgcnn topk
    python docs/benchmarks/2026-12-01-knn-step-variants.py dgcnn fakeknn norecycle
    python docs/benchmarks/2026-12-01-knn-step-variants.py pointnet norecycle
    python docs/benchmarks/2026-12-01-knn-step-variants.py pointnet wholebatch
    python docs/benchmarks/2026-12-01-knn-step-variants.py pointnet plainhead
    python docs/benchmarks/2026-12-01-knn-step-variants.py pointnet batchselect

topk: kNN by `top_k` (the code before `smallest_k_indices`); fakeknn: the
neighbours fixed to the first k points (distances still computed);
norecycle: the recycled index is the max's (no selection); wholebatch:
recycling's selection over the whole batch at once (the code before it went
one sample at a time under XLA); plainhead: the backbone's last Dense +
BatchNorm (+ activation) computed at every point and then pooled (the code
before `Backbone.pooling_head`); batchselect: the pooling head's products
and selection for the whole batch at once (the code before they went one
sample at a time under XLA; channels first either way). The backend is
KERAS_BACKEND's, tensorflow by default. Prints the median of 3 steps (or
REPEATS) after 1 warm-up, and the process's peak resident memory.
"""

import importlib
import os
import resource
import statistics
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

import keras_ttp  # noqa: E402

knn_module = importlib.import_module("keras_ttp.layers.knn")
edge_conv = importlib.import_module("keras_ttp.layers.edge_conv")
pooling = importlib.import_module("keras_ttp.layers.recycling_max_pooling")
batch_norm_max = importlib.import_module("keras_ttp.layers.batch_norm_max")


def top_k_knn(points, k):
    return ops.top_k(-knn_module.pairwise_squared_distance(points), k)[1]


def first_points_knn(points, k):
    distances = knn_module.pairwise_squared_distance(points)
    zeros = ops.cast(ops.sum(distances, axis=-1, keepdims=True) * 0, "int32")
    return zeros + ops.arange(k, dtype="int32")


backbone, variants = sys.argv[1], sys.argv[2:]
if "topk" in variants:
    edge_conv.knn = top_k_knn
if "fakeknn" in variants:
    edge_conv.knn = first_points_knn
if "norecycle" in variants:
    pooling.kth_largest_index = lambda x, rank: ops.argmax(x, axis=1)
    pooling.last_axis_kth_largest_index = lambda x, rank: ops.argmax(x, axis=-1)
if "wholebatch" in variants:
    pooling.kth_largest_index = lambda x, rank: pooling.last_axis_kth_largest_index(
        ops.transpose(x, (0, 2, 1)), rank
    )
if "batchselect" in variants:
    batch_norm_max.one_sample_at_a_time_under_xla = lambda function, *tensors: function(
        *tensors
    )
keras.utils.set_random_seed(0)
if backbone == "dgcnn":
    encoder, batch_size = keras_ttp.models.DGCNN(), 32
else:
    encoder, batch_size = keras_ttp.models.PointNet(), 128
if "plainhead" in variants:
    encoder.pooling_head = lambda: None
model = keras_ttp.models.ToThePoint(encoder, seed=0)
model.compile(jit_compile=True)
x = np.random.default_rng(0).normal(size=(batch_size, 2048, 3)).astype("float32")
model.train_on_batch(x)
times = []
for _ in range(int(os.environ.get("REPEATS", 3))):
    start = time.perf_counter()
    model.train_on_batch(x)
    times.append(time.perf_counter() - start)
rounded = [round(t, 2) for t in times]
peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
print(
    keras.backend.backend(), backbone, variants, "step",
    round(statistics.median(times), 2), rounded, f"peak {peak_gib:.2f} GiB",
)
