"""The pooling head's largest and recycled points against its largest alone,
compiled with `jax.jit` directly (not through Keras's `predict`), PointNet's
head at B=128, N=2048, one view; median of 3 after 1 warm-up:

    python docs/benchmarks/2026-12-01-jax-pooling-head.py
"""

import os
import statistics
import time

os.environ["KERAS_BACKEND"] = "jax"
import jax  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

import keras_ttp  # noqa: E402
from keras_ttp.layers.batch_norm_max import dense_batch_norm_max  # noqa: E402

dense = keras.layers.Dense(1024)
dense.build((None, 2048, 128))
bn = keras.layers.BatchNormalization()
bn.build((None, 2048, 1024))
pool = keras_ttp.layers.RecyclingMaxPooling(seed=0)
x = np.random.default_rng(0).normal(size=(128, 2048, 128)).astype("float32")
recycle = jax.jit(
    lambda x, rank: ops.stack(pool.pool_dense_batch_norm(dense, bn, x, False, rank=rank))
)
largest = jax.jit(lambda x: dense_batch_norm_max(dense, bn, x, False))
for name, function, args in (
    ("recycle", recycle, (x, np.int32(1000))),
    ("max", largest, (x,)),
):
    np.asarray(function(*args))
    times = []
    for _ in range(3):
        start = time.perf_counter()
        np.asarray(function(*args))
        times.append(time.perf_counter() - start)
    print(name, round(statistics.median(times), 3), flush=True)
