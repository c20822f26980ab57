"""argmax over the last axis under XLA: `ops.argmax` against
`last_axis_argmax` (a max, then the first index holding it), one sample of
(1024 channels, 2048 points) at a time as the pooling heads run it, 64
samples, values rounded to 2 decimals (ties):

    python docs/benchmarks/2026-12-01-argmax.py

Also `ops.max` alone, for scale. Checks both against numpy's argmax (ties
to the first). The backend is KERAS_BACKEND's, tensorflow by default
(compiled with `jit_compile=True`; jax: `jax.jit`). Prints the median of 5
calls after 1 warm-up.
"""

import os
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

from keras_ttp.layers.argmax import last_axis_argmax  # noqa: E402


def compiled(function):
    if keras.backend.backend() == "jax":
        import jax

        return jax.jit(function)
    import tensorflow as tf

    return tf.function(function, jit_compile=True)


def per_sample(function):
    return compiled(lambda x: ops.map(function, x))


def median_time(function, x):
    output = ops.convert_to_numpy(function(x))
    times = []
    for _ in range(5):
        start = time.perf_counter()
        ops.convert_to_numpy(function(x))
        times.append(time.perf_counter() - start)
    return statistics.median(times), output


x = np.round(np.random.default_rng(0).normal(size=(64, 1024, 2048)), 2).astype("float32")
expected = np.argmax(x, axis=-1)
x = ops.convert_to_tensor(x)
line = [keras.backend.backend(), "B=64 (1024, 2048):"]
for name, function in (
    ("ops.argmax", lambda s: ops.argmax(s, axis=-1)),
    ("last_axis_argmax", last_axis_argmax),
):
    seconds, found = median_time(per_sample(function), x)
    line.append(f"{name} {seconds:.3f} s (same as numpy {np.array_equal(found, expected)}),")
seconds, _ = median_time(per_sample(lambda s: ops.max(s, axis=-1)), x)
line.append(f"ops.max alone {seconds:.3f} s")
print(*line)
