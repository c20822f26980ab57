"""`first_true_index` under XLA, one (1024, 2048) mask at a time as the
pooling heads run it (recycling's final match and the argmax's), B=32:
one int32 `min` over each row (`first_true_in_row`, the code before
2026-12-02) against the grouped search (`first_true_index`):

    KERAS_BACKEND=tensorflow python docs/benchmarks/2026-12-02-first-true-grouped.py
    KERAS_BACKEND=jax python docs/benchmarks/2026-12-02-first-true-grouped.py

Prints the median of 5 calls after 1 warm-up, twice in alternation, and
checks both give the same indices.
"""

import os
import statistics
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
from keras_ttp.layers.argmax import first_true_in_row  # noqa: E402
from keras_ttp.layers.argmax import first_true_index  # noqa: E402
from tests.test_case import xla_compiled  # noqa: E402


def per_sample(find):
    return xla_compiled(
        lambda keys, value: ops.map(lambda s: find(s[0] == s[1]), (keys, value))
    )


rng = np.random.default_rng(0)
keys = ops.convert_to_tensor(rng.integers(0, 50, size=(32, 1024, 2048)).astype("int32"))
value = ops.convert_to_tensor(rng.integers(0, 50, size=(32, 1024, 1)).astype("int32"))
variants = {"one min per row": per_sample(first_true_in_row), "grouped": per_sample(first_true_index)}
results = [ops.convert_to_numpy(f(keys, value)) for f in variants.values()]
for _ in range(2):
    for name, f in variants.items():
        times = []
        for _ in range(5):
            start = time.perf_counter()
            ops.convert_to_numpy(f(keys, value))
            times.append(time.perf_counter() - start)
        print(
            f"{keras.backend.backend()} B=32 {name:16s} median "
            f"{1000 * statistics.median(times):.1f} ms {[round(1000 * t, 1) for t in times]}",
            flush=True,
        )
print("same indices:", np.array_equal(*results))
