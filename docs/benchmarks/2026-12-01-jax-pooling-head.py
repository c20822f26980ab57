"""The pooling head's largest and recycled points against its largest alone,
compiled with `jax.jit` directly (not through Keras's `predict`), PointNet's
head at B=128, N=2048, one view; median of 3 after 1 warm-up:

    python docs/benchmarks/2026-12-01-jax-pooling-head.py
"""
import os
import statistics
import time
os.environ["KERAS_BACKEND"] = "jax"
import numpy as np, keras, jax
from keras import ops
import keras_ttp
from keras_ttp.layers.batch_norm_max import dense_batch_norm_max
dense = keras.layers.Dense(1024); bn = keras.layers.BatchNormalization()
dense.build((None, 2048, 128)); bn.build((None, 2048, 1024))
pool = keras_ttp.layers.RecyclingMaxPooling(seed=0)
x = np.random.default_rng(0).normal(size=(128, 2048, 128)).astype("float32")
f1 = jax.jit(lambda x, r: ops.stack(pool.pool_dense_batch_norm(dense, bn, x, False, rank=r)))
f2 = jax.jit(lambda x: dense_batch_norm_max(dense, bn, x, False))
for name, f, args in (("recycle", f1, (x, np.int32(1000))), ("max", f2, (x,))):
    np.asarray(f(*args)); ts = []
    for _ in range(3):
        t = time.perf_counter(); np.asarray(f(*args)); ts.append(time.perf_counter() - t)
    print(name, round(statistics.median(ts), 3), flush=True)
