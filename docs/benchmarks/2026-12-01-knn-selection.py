"""The kNN selection alone, B=32 N=2048 C=64 k=20: `top_k` against
`smallest_k_indices`, compiled as each backend compiles a train step.

    python docs/benchmarks/2026-12-01-knn-selection.py tensorflow+xla
    (or tensorflow, jax, torch)
"""

import os
import statistics
import sys
import time

os.environ["KERAS_BACKEND"] = sys.argv[1].removesuffix("+xla")
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

from keras_ttp.layers.knn import pairwise_squared_distance  # noqa: E402
from keras_ttp.layers.knn import smallest_k_indices  # noqa: E402

x = np.random.default_rng(0).normal(size=(32, 2048, 64)).astype("float32")
x[:, 100:400] = x[:, :1]  # duplicated points, as after input dropout
if sys.argv[1].startswith("tensorflow"):
    import tensorflow as tf

    compiled = lambda f: tf.function(f, jit_compile=sys.argv[1].endswith("+xla"))  # noqa: E731
elif sys.argv[1] == "jax":
    import jax

    compiled = jax.jit
else:
    compiled = lambda f: f  # noqa: E731
distances = ops.convert_to_tensor(pairwise_squared_distance(ops.convert_to_tensor(x)))
results = {}
def top_k(d):
    return ops.top_k(-d, 20)[1]


def grouped(d):
    return smallest_k_indices(d, 20)


for name, select in (("top_k", top_k), ("smallest_k_indices", grouped)):
    select = compiled(select)
    results[name] = ops.convert_to_numpy(select(distances))
    times = []
    for _ in range(5):
        start = time.perf_counter()
        ops.convert_to_numpy(select(distances))
        times.append(time.perf_counter() - start)
    print(f"{sys.argv[1]} {name}: {statistics.median(times):.3f} s", flush=True)
print("identical indices:", np.array_equal(results["top_k"], results["smallest_k_indices"]))
