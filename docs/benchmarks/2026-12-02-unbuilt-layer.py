"""ToThePoint's step with its pooling layer left unbuilt (before commit
"ToThePoint builds its pooling layer") and built, by `train_on_batch` as
tools/benchmark.py times it:

    KERAS_BACKEND=jax python docs/benchmarks/2026-12-02-unbuilt-layer.py pointnet 32 1024
    PYTHONPATH=<worktree of the commit before> KERAS_BACKEND=jax python ... (the same)

`ToThePoint.pool` uses `RecyclingMaxPooling.pool_dense_batch_norm` without
calling the layer, so before that commit the layer stayed unbuilt. With any
layer unbuilt, Keras's jax and torch trainers build the whole model again
(`_symbolic_build`, a symbolic pass through it) in every `train_on_batch`,
and jax's `predict_on_batch` first runs the model eagerly. Prints whether
every layer is built after the steps, and the seconds of 4 steps (the first
compiles).
"""

import statistics
import sys
import time

import keras
import numpy as np

import keras_ttp


def main():
    name, batch_size, num_points = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    keras.utils.set_random_seed(0)
    backbone = keras_ttp.models.PointNet() if name == "pointnet" else keras_ttp.models.DGCNN()
    model = keras_ttp.models.ToThePoint(backbone, seed=0)
    model.compile()
    points = np.random.default_rng(0).normal(size=(batch_size, num_points, 3)).astype("float32")
    times = []
    for _ in range(4):
        start = time.perf_counter()
        float(model.train_on_batch(points, return_dict=True)["loss"])
        times.append(time.perf_counter() - start)
    built = all(layer.built for layer in model._flatten_layers())
    print(
        f"{keras.backend.backend()} {name} B={batch_size} N={num_points}, every layer "
        f"built: {built}; steps {[round(t, 2) for t in times]} s, "
        f"median of the last 3 {statistics.median(times[1:]):.2f} s",
        flush=True,
    )


if __name__ == "__main__":
    main()
