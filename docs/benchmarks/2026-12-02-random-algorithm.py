"""Random numbers under XLA on tensorflow: `keras.random.normal` and
`uniform` (tensorflow's stateless ops with their default algorithm,
"auto_select") against `keras_ttp.utils.random` (the same ops with
algorithm "philox" named), at the shapes the augmentation draws per view
(jitter's normals (B, 2048, 3), shuffle's and dropout's uniforms
(B, 2048)), B=32 (DGCNN) and B=128 (PointNet):

    python docs/benchmarks/2026-12-02-random-algorithm.py

Prints the median of 10 calls after 1 warm-up of each, compiled with
`jit_compile=True`, and whether both give the same numbers.
"""

import os
import statistics
import time

os.environ["KERAS_BACKEND"] = "tensorflow"
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_ttp.utils import random  # noqa: E402

for batch_size in (32, 128):
    for name, shape in (("normal", (batch_size, 2048, 3)), ("uniform", (batch_size, 2048))):
        if name == "normal":
            draws = {
                "keras.random": lambda seed: keras.random.normal(shape, seed=seed),
                "keras_ttp": lambda seed: random.normal(shape, 1.0, "float32", seed),
            }
        else:
            draws = {
                "keras.random": lambda seed: keras.random.uniform(shape, seed=seed),
                "keras_ttp": lambda seed: random.uniform(shape, 0.0, 1.0, "float32", seed),
            }
        values = []
        for label, draw in draws.items():
            seed = keras.random.SeedGenerator(0)
            compiled = tf.function(lambda: draw(seed), jit_compile=True)
            values.append(compiled().numpy())
            times = []
            for _ in range(10):
                start = time.perf_counter()
                compiled().numpy()
                times.append(time.perf_counter() - start)
            print(
                f"{name:7s} {str(shape):16s} {label:12s} median "
                f"{1000 * statistics.median(times):6.1f} ms",
                flush=True,
            )
        print(f"{name:7s} {str(shape):16s} same numbers: {np.array_equal(*values)}")
