"""Times ToThePoint pre-training per backbone, backend and jit setting,
against a plain PyTorch implementation of the same step, in one run.

A step is what `fit` runs per batch: two augmented views, the backbone on
both, recycling, the projection head, the three NT-Xent terms and the Adam
update. For every backbone and point count the script prints, per
implementation (Keras on each backend, tensorflow with and without XLA, and
`tools/torch_reference.py`, eager and `torch.compile`):

- the median step time over `--repeats` steps after `--warmup` untimed ones
  (the first includes tracing / compilation);
- the epoch time on the 260 ShapeNet shapes (`260 // batch` steps, the
  last incomplete batch dropped as in pre-training);
- the peak resident memory of the process;
- achieved GFLOP/s: matmul FLOPs counted analytically (`step_flops`,
  backward = 2x forward, kNN distances forward only) over the step time,
  and its share of the matmul peak measured in the same run (the best of
  numpy and the backends on a 4096^2 float32 matmul);
- the speed-up over the plain PyTorch eager step;

and, for the Keras rows, the time share of kNN, EdgeConv (forward and
backward, its kNN included), recycling and the loss (`--components`), each
timed alone at the shapes it has in the step (recycling: the pooling
head's largest and recycled points, less its largest alone, so the cost of
selecting the recycled point), and the embedding throughput
(shapes/s of `extract_embeddings`-style inference, B=64, N=1024).

Every measurement runs in its own subprocess (Keras picks its backend at
import; peak memory is per process). Batch sizes default to the paper's:
128 for PointNet, 32 for DGCNN.

Usage:
    python tools/benchmark.py                            # everything (long)
    python tools/benchmark.py --compiled-memory          # jax step memory, no run
    python tools/benchmark.py --backbones dgcnn --num-points 1024 \
        --implementations tensorflow+xla torch-eager --repeats 3
    python tools/benchmark.py --precision-peak           # 2048^2 matmul, f32 and bf16
    python tools/benchmark.py --implementations tensorflow+xla tensorflow \
        --dtype-policies float32 mixed_bfloat16 --rounds 2 --no-components --no-embedding

`--dtype-policies` adds a row per Keras dtype policy (`mixed_bfloat16`: the
rows named `.../bf16`); their `% peak` is of the float32 peak. `--rounds`
measures every row that many times, alternating the rows, which evens out
the load of a shared machine between them.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

BACKBONES = ("pointnet", "dgcnn")
PAPER_BATCH = {"pointnet": 128, "dgcnn": 32}
IMPLEMENTATIONS = {
    # name: (backend, jit_compile) for Keras; the reference rows (first, the
    # ratios are to them) run tools/torch_reference.py.
    "torch-eager": ("torch", "reference"),
    "torch-compile": ("torch", "reference-compile"),
    "tensorflow+xla": ("tensorflow", True),
    "tensorflow": ("tensorflow", False),
    "jax": ("jax", True),
    "torch": ("torch", False),
}
DTYPE_POLICIES = ("float32", "mixed_bfloat16")
POLICY_LABEL = {"float32": "f32", "mixed_bfloat16": "bf16"}
SHAPES = 260  # ShapeNet-260, the paper's pre-training set
DGCNN_WIDTHS = (64, 64, 128, 256)
# Channels into each backbone's last Dense, the one recycling pools.
PREPOOL_CHANNELS = {"pointnet": 128, "dgcnn": sum(DGCNN_WIDTHS)}


# === Analytic FLOPs ===


def step_flops(backbone, batch_size, num_points, embedding_dim=1024, k=20):
    """Matmul FLOPs of one pre-training step as Keras-ttp computes it: the
    forward pass of two views, twice that for the backward pass, and the
    kNN distance products (forward only, no gradient). EdgeConv counts its
    kernel applied before the gather (`2 * N * C_in * C_out` per layer)."""
    points = batch_size * num_points
    head = 4 * batch_size * (embedding_dim * 512 + 512 * 256)  # 2 views x (max, r)
    knn = 0
    if backbone == "pointnet":

        def tnet(size):
            per_point = size * 64 + 64 * 128 + 128 * 1024 + size * size
            per_cloud = 1024 * 512 + 512 * 256 + 256 * size * size
            return points * per_point + batch_size * per_cloud

        per_view = tnet(3) + tnet(64) + points * (3 * 64 + 64 * 128 + 128 * embedding_dim)
    else:
        per_view, channels = 0, 3
        for width in DGCNN_WIDTHS:
            per_view += points * 2 * channels * width
            knn += batch_size * num_points * num_points * channels
            channels = width
        per_view += points * sum(DGCNN_WIDTHS) * embedding_dim
    forward = 2 * per_view + head
    return 2 * (3 * forward + 2 * knn)  # multiply-adds -> FLOPs


# === Workers (each in its own subprocess) ===


def peak_rss_gib():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def median_time(run, warmup, repeats):
    import time

    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return times


def keras_step(
    backbone_name, batch_size, num_points, warmup, repeats, jit, components, plain=False,
    dtype_policy=None,
):  # fmt: skip
    """Step times of the Keras implementation; with `components`, the time
    of kNN, EdgeConv, recycling and the loss alone at the step's shapes.
    `dtype_policy` (e.g. "mixed_bfloat16") is set as Keras's global dtype
    policy before the model is built."""
    import keras
    import numpy as np

    import keras_ttp

    if dtype_policy:
        keras.config.set_dtype_policy(dtype_policy)
    keras.utils.set_random_seed(0)
    backbone = make_keras_backbone(backbone_name, plain)
    model = keras_ttp.models.ToThePoint(backbone, seed=0)
    model.compile(jit_compile=jit)
    points = np.random.default_rng(0).normal(size=(batch_size, num_points, 3))
    points = points.astype("float32")

    def step():
        float(model.train_on_batch(points, return_dict=True)["loss"])

    result = {"times": median_time(step, warmup, repeats), "peak_gib": peak_rss_gib()}
    if components:
        result["components"] = keras_components(
            backbone_name, batch_size, num_points, warmup, repeats, jit
        )
    return result


def make_keras_backbone(name, plain=False):
    import keras_ttp

    if name == "dgcnn":
        return keras_ttp.models.DGCNN(memory_efficient=not plain)
    return keras_ttp.models.PointNet()


def keras_components(backbone_name, batch_size, num_points, warmup, repeats, jit):
    """Seconds per step spent in each component, each timed alone (in a
    small Keras model at the shapes and call counts of one step)."""
    import keras
    import numpy as np
    from keras import ops

    import keras_ttp
    from keras_ttp.layers import knn

    rng = np.random.default_rng(0)

    def timed(model, x, train):
        loss = lambda y_true, y_pred: ops.mean(ops.cast(y_pred, "float32"))  # noqa: E731
        model.compile(optimizer="sgd", loss=loss, jit_compile=jit)
        if train:
            run = lambda: float(model.train_on_batch(x, np.zeros(len(x), "float32")))  # noqa: E731
        else:
            run = lambda: ops.convert_to_numpy(model.predict_on_batch(x))  # noqa: E731
        return statistics.median(median_time(run, warmup, repeats))

    def wrap(layer_fn, channels):
        inputs = keras.Input((num_points, channels), batch_size=batch_size)
        return keras.Model(inputs, layer_fn(inputs))

    def normal(*shape):
        return rng.normal(size=shape).astype("float32")

    class KNN(keras.layers.Layer):
        def call(self, x):
            return knn(x, 20)

    class HeadPool(keras.layers.Layer):
        def __init__(self, recycle):
            super().__init__()
            self.recycle = recycle
            self.stage = keras_ttp.layers.PoolingStage(1024)
            self.rank = keras_ttp.layers.RecycledRank(seed=0)

        def build(self, input_shape):
            self.stage.build(input_shape)

        def call(self, x):
            if self.recycle:
                return ops.stack(self.stage(x, training=False, rank=self.rank(x)))
            return self.stage(x, training=False)[0]

    views = 2
    times = {}
    if backbone_name == "dgcnn":
        times["knn"] = times["edgeconv"] = 0.0
        channels = 3
        for width in DGCNN_WIDTHS:
            x = normal(batch_size, num_points, channels)
            times["knn"] += views * timed(wrap(KNN(), channels), x, train=False)
            edge_conv = keras_ttp.layers.EdgeConv(width)
            times["edgeconv"] += views * timed(wrap(edge_conv, channels), x, train=True)
            channels = width
    # Recycling as the step runs it (`Backbone.pool`): the stage's
    # largest and recycled points against its largest alone.
    head_inputs = PREPOOL_CHANNELS[backbone_name]
    features = normal(batch_size, num_points, head_inputs)
    pooled = {}
    for recycle in (True, False):
        model = wrap(HeadPool(recycle), head_inputs)
        pooled[recycle] = timed(model, features, train=False)
    times["recycling"] = views * (pooled[True] - pooled[False])

    class PairLoss(keras.layers.Layer):
        def call(self, pairs):
            return keras_ttp.losses.nt_xent(pairs[:, 0], pairs[:, 1], 0.1)

    inputs = keras.Input((2, 256), batch_size=batch_size)
    loss_model = keras.Model(inputs, PairLoss()(keras.layers.Dense(256)(inputs)))
    pairs = normal(batch_size, 2, 256)
    times["loss"] = 3 * timed(loss_model, pairs, train=True)
    return times


def keras_embedding(backbone_name, repeats, jit):
    """Shapes per second of inference with a frozen backbone, B=64, N=1024,
    compiled with `jit_compile=jit`."""
    import numpy as np

    backbone = make_keras_backbone(backbone_name)
    backbone.compile(jit_compile=jit)
    points = np.random.default_rng(0).normal(size=(64, 1024, 3)).astype("float32")
    times = median_time(lambda: backbone.predict_on_batch(points), 1, repeats)
    return {"shapes_per_s": 64 / statistics.median(times), "peak_gib": peak_rss_gib()}


def jax_compiled_memory(backbone_name, batch_size, num_points):
    """GiB of temporaries that XLA assigns to the jitted jax train step
    (`memory_analysis()` of the compiled step): a memory figure that needs
    no run, so it is exact even on a loaded machine. Uses Keras's jax
    trainer internals (`_symbolic_build`, `_get_jax_state`)."""
    import jax
    import numpy as np

    import keras_ttp

    model = keras_ttp.models.ToThePoint(make_keras_backbone(backbone_name), seed=0)
    model.compile()
    data = (np.zeros((batch_size, num_points, 3), "float32"), None, None)
    model._symbolic_build(data_batch=data)
    state = model._get_jax_state(
        trainable_variables=True, non_trainable_variables=True,
        optimizer_variables=True, metrics_variables=True,
    )  # fmt: skip
    compiled = jax.jit(model.train_step).lower(state, data).compile()
    return {"temp_gib": compiled.memory_analysis().temp_size_in_bytes / 2**30}


def reference_step(backbone_name, batch_size, num_points, warmup, repeats, compile):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import torch_reference

    return torch_reference.time_step(
        backbone_name, batch_size, num_points, warmup, repeats, compile=compile
    )


def matmul_peak(repeats):
    """GFLOP/s of a 4096 x 4096 float32 matmul with this backend's Keras
    ops (jitted where the backend can) and with numpy."""
    import keras
    import numpy as np
    from keras import ops

    size = 4096
    a = np.random.default_rng(0).normal(size=(size, size)).astype("float32")
    flops = 2 * size**3
    result = {}
    result["numpy"] = flops / statistics.median(median_time(lambda: a @ a, 1, repeats)) / 1e9
    x = ops.convert_to_tensor(a)
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        matmul = jax.jit(lambda x: x @ x)
    elif backend == "tensorflow":
        import tensorflow as tf

        matmul = tf.function(lambda x: x @ x, jit_compile=True)
    else:
        matmul = lambda x: ops.matmul(x, x)  # noqa: E731
    run = lambda: ops.convert_to_numpy(matmul(x))  # noqa: E731
    result[backend] = flops / statistics.median(median_time(run, 1, repeats)) / 1e9
    return result


def precision_peak(size=2048, repeats=5):
    """GFLOP/s of a `size` x `size` matmul in float32 and bfloat16, the best
    of `repeats` after one warm-up, with this backend's own matmul: on
    tensorflow both eager and compiled by XLA (`tf.function(jit_compile=
    True)`), on jax jitted, on torch eager."""
    import keras
    import numpy as np
    from keras import ops

    backend = keras.backend.backend()
    a = np.random.default_rng(0).normal(size=(size, size)).astype("float32")
    flops = 2 * size**3
    if backend == "tensorflow":
        import tensorflow as tf

        matmuls = {
            "tensorflow": tf.function(lambda x: x @ x, jit_compile=False),
            "tensorflow+xla": tf.function(lambda x: x @ x, jit_compile=True),
        }
    elif backend == "jax":
        import jax

        matmuls = {"jax": jax.jit(lambda x: x @ x)}
    else:
        matmuls = {backend: lambda x: ops.matmul(x, x)}
    result = {}
    for dtype in ("float32", "bfloat16"):
        x = ops.convert_to_tensor(a, dtype=dtype)
        for name, matmul in matmuls.items():
            run = lambda: ops.convert_to_numpy(ops.cast(matmul(x), "float32"))  # noqa: E731
            result[f"{name} {dtype}"] = flops / min(median_time(run, 1, repeats)) / 1e9
    return result


def worker(args):
    if args.worker == "peak":
        return matmul_peak(args.repeats)
    if args.worker == "precision-peak":
        return precision_peak()
    if args.worker.startswith("embed:"):
        _, jit = IMPLEMENTATIONS[args.worker.removeprefix("embed:")]
        return keras_embedding(args.backbones[0], args.repeats, jit)
    if args.worker == "jax-memory":
        return jax_compiled_memory(
            args.backbones[0], args.batch_size, args.num_points[0]
        )
    backend, mode = IMPLEMENTATIONS[args.worker]
    backbone, n = args.backbones[0], args.num_points[0]
    if mode in ("reference", "reference-compile"):
        return reference_step(
            backbone, args.batch_size, n, args.warmup, args.repeats, mode == "reference-compile"
        )
    return keras_step(
        backbone, args.batch_size, n, args.warmup, args.repeats, mode, args.components,
        args.plain_edgeconv, args.dtype_policies[0],
    )  # fmt: skip


# === The table ===


def run_worker(name, backend, extra):
    """Runs `--worker name` on `backend`; returns its JSON result or an
    error string."""
    command = [sys.executable, os.path.abspath(__file__), "--worker", name, *extra]
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    run = subprocess.run(command, env=env, capture_output=True, text=True)
    lines = [line for line in run.stdout.splitlines() if line.startswith("RESULT ")]
    if run.returncode != 0 or not lines:
        return "failed: " + (run.stderr.strip().splitlines() or ["no output"])[-1][-300:]
    return json.loads(lines[-1][len("RESULT ") :])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbones", nargs="+", default=BACKBONES, choices=BACKBONES)
    parser.add_argument("--num-points", nargs="+", type=int, default=[2048, 1024])
    parser.add_argument(
        "--batch-size", type=int, help="default: the paper's, 128 (PointNet), 32 (DGCNN)"
    )
    parser.add_argument(
        "--implementations", nargs="+", default=list(IMPLEMENTATIONS),
        choices=list(IMPLEMENTATIONS),
    )  # fmt: skip
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--components", action=argparse.BooleanOptionalAction, default=True,
        help="time kNN, EdgeConv, recycling and the loss alone (Keras rows)",
    )  # fmt: skip
    parser.add_argument(
        "--embedding", action=argparse.BooleanOptionalAction, default=True,
        help="embedding throughput, B=64, N=1024 (Keras rows)",
    )  # fmt: skip
    parser.add_argument(
        "--plain-edgeconv", action="store_true",
        help="DGCNN(memory_efficient=False) in the Keras rows (memory comparison)",
    )  # fmt: skip
    parser.add_argument(
        "--compiled-memory", action="store_true",
        help="only print the temporaries XLA assigns to the jax step (no run)",
    )  # fmt: skip
    parser.add_argument(
        "--dtype-policies", nargs="+", default=["float32"], choices=DTYPE_POLICIES,
        help="a row per implementation and Keras dtype policy (reference rows: float32)",
    )  # fmt: skip
    parser.add_argument(
        "--rounds", type=int, default=1,
        help="measure every row this many times, the rows alternating, and "
        "report the median over all rounds' steps",
    )  # fmt: skip
    parser.add_argument(
        "--precision-peak", action="store_true",
        help="only print the 2048^2 matmul GFLOP/s in float32 and bfloat16 "
        "(tensorflow with and without XLA, jax, torch), best of 5",
    )  # fmt: skip
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print("RESULT " + json.dumps(worker(args)), flush=True)
        return

    if args.compiled_memory:
        for backbone in args.backbones:
            batch_size = args.batch_size or PAPER_BATCH[backbone]
            for n in args.num_points:
                shape = ["--backbones", backbone, "--num-points", str(n),
                         "--batch-size", str(batch_size)]  # fmt: skip
                result = run_worker("jax-memory", "jax", shape)
                text = result if isinstance(result, str) else f"{result['temp_gib']:.2f} GiB"
                print(f"{backbone}, B={batch_size}, N={n}, jax step temporaries: {text}")
        return
    if args.precision_peak:
        print("Matmul 2048^2, best of 5, GFLOP/s:")
        for backend in sorted({IMPLEMENTATIONS[i][0] for i in args.implementations}):
            result = run_worker("precision-peak", backend, [])
            if isinstance(result, str):
                print(f"  {backend:22} {result}")
                continue
            for name, gflops in result.items():
                print(f"  {name:22} {gflops:7.0f}", flush=True)
        return
    repeats = ["--warmup", str(args.warmup), "--repeats", str(args.repeats)]
    peaks = {}
    for backend in sorted({IMPLEMENTATIONS[i][0] for i in args.implementations}):
        result = run_worker("peak", backend, repeats)
        if isinstance(result, dict):
            peaks.update(result)
    peak = max(peaks.values())
    print("Matmul peak, 4096^2 float32, GFLOP/s: "
          + ", ".join(f"{k} {v:.0f}" for k, v in sorted(peaks.items()))
          + f" -> peak {peak:.0f}")  # fmt: skip
    for backbone in args.backbones:
        batch_size = args.batch_size or PAPER_BATCH[backbone]
        for num_points in args.num_points:
            report(backbone, batch_size, num_points, args, repeats, peak)
        if args.embedding:
            print(f"\n{backbone} embedding throughput, B=64, N=1024 (shapes/s):")
            for name in args.implementations:
                backend, mode = IMPLEMENTATIONS[name]
                if str(mode).startswith("reference"):
                    continue
                result = run_worker(f"embed:{name}", backend, ["--backbones", backbone, *repeats])
                text = result if isinstance(result, str) else f"{result['shapes_per_s']:.1f}"
                print(f"  {name:15} {text}", flush=True)


def report(backbone, batch_size, num_points, args, repeats, peak):
    flops = step_flops(backbone, batch_size, num_points)
    steps = SHAPES // batch_size
    print(
        f"\n{backbone}, B={batch_size}, N={num_points}: one pre-training step "
        f"({flops / 1e9:.0f} GFLOP of matmuls), median of {args.rounds} x "
        f"{args.repeats} after {args.warmup} warm-up; an epoch of {SHAPES} shapes = {steps} steps"
    )
    print(
        f"{'implementation':19} {'step s':>8} {'epoch s':>8} {'peak GiB':>9} "
        f"{'GFLOP/s':>8} {'% peak':>7} {'vs eager':>9}  time shares"
    )
    shape = ["--backbones", backbone, "--num-points", str(num_points),
             "--batch-size", str(batch_size), *repeats]  # fmt: skip
    extra = shape + (["--components"] if args.components else ["--no-components"])
    extra += ["--plain-edgeconv"] if args.plain_edgeconv else []
    rows = [
        (name, policy)
        for name in args.implementations
        for policy in args.dtype_policies
        # The plain PyTorch reference is float32 only.
        if policy == "float32" or not str(IMPLEMENTATIONS[name][1]).startswith("reference")
    ]
    results = {row: [] for row in rows}
    steps_s = {}
    for round_ in range(args.rounds):
        for row in rows:
            name, policy = row
            result = run_worker(name, IMPLEMENTATIONS[name][0], extra + ["--dtype-policies", policy])
            results[row].append(result)
            if round_ == args.rounds - 1:
                print_row(row, results[row], flops, steps, peak, steps_s)


def print_row(row, results, flops, steps, peak, steps_s):
    """One line of the step table: `results` are one row's workers' results,
    one per round (the median step over all their steps)."""
    name, policy = row
    label = name if policy == "float32" else f"{name}/{POLICY_LABEL[policy]}"
    failures = [result for result in results if isinstance(result, str)]
    if failures:
        print(f"{label:19} {failures[0]}", flush=True)
        return
    step = statistics.median([t for result in results for t in result["times"]])
    steps_s[row] = step
    eager = steps_s.get(("torch-eager", "float32"), float("nan"))
    shares = ", ".join(
        f"{part} {100 * seconds / step:.0f}%"
        for part, seconds in results[-1].get("components", {}).items()
    )
    peak_gib = max(result["peak_gib"] for result in results)
    print(
        f"{label:19} {step:8.2f} {step * steps:8.1f} {peak_gib:9.2f} "
        f"{flops / step / 1e9:8.0f} {100 * flops / step / 1e9 / peak:6.0f}% "
        f"{eager / step:8.2f}x  {shares}",
        flush=True,
    )


if __name__ == "__main__":
    main()
