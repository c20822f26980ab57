"""Times one ToThePoint pre-training step per backbone and backend.

A step is what `fit` runs per batch: two augmented views, the backbone on
both, recycling, the projection head, the three NT-Xent terms and the Adam
update. Each backend runs in its own subprocess (Keras picks its backend at
import). Prints the median of `--repeats` timed steps after `--warmup`
untimed ones (the first includes tracing / compilation), and the peak
resident memory of the process.

Usage:
    python tools/benchmark.py --batch-size 32 --num-points 1024
    python tools/benchmark.py --backends tensorflow --backbones dgcnn --jit
"""

import argparse
import json
import os
import subprocess
import sys

BACKENDS = ("tensorflow", "jax", "torch")
BACKBONES = ("pointnet", "dgcnn")


def time_step(backbone_name, batch_size, num_points, warmup, repeats, jit, plain):
    """Runs in the subprocess: returns step times in seconds."""
    import resource
    import time

    import keras
    import numpy as np

    import keras_ttp

    if backbone_name == "dgcnn":
        backbone = keras_ttp.models.DGCNN(memory_efficient=not plain)
    else:
        backbone = keras_ttp.models.PointNet()
    model = keras_ttp.models.ToThePoint(backbone, seed=0)
    model.compile(jit_compile=jit if keras.backend.backend() != "torch" else False)
    points = np.random.default_rng(0).normal(size=(batch_size, num_points, 3))
    points = points.astype("float32")
    for _ in range(warmup):
        model.train_on_batch(points)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        logs = model.train_on_batch(points, return_dict=True)
        float(logs["loss"])  # wait for asynchronous backends
        times.append(time.perf_counter() - start)
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return {"times": times, "peak_gib": peak_gib}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=BACKENDS, choices=BACKENDS)
    parser.add_argument("--backbones", nargs="+", default=BACKBONES, choices=BACKBONES)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--num-points", type=int, default=1024)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--jit", action="store_true", help="jit_compile=True (XLA) on tensorflow and jax"
    )
    parser.add_argument(
        "--plain", action="store_true", help="DGCNN without EdgeConv's memory-saving path"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        result = time_step(
            args.worker, args.batch_size, args.num_points, args.warmup, args.repeats,
            args.jit, args.plain,
        )
        print("RESULT " + json.dumps(result))
        return

    print(
        f"ToThePoint pre-training step, B={args.batch_size}, N={args.num_points}, "
        f"warmup {args.warmup}, median of {args.repeats}, jit={args.jit}, "
        f"plain EdgeConv={args.plain}"
    )
    print(f"{'backbone':10} {'backend':11} {'median s':>9} {'min s':>7} {'peak GiB':>9}")
    for backbone in args.backbones:
        for backend in args.backends:
            command = [
                sys.executable, __file__, "--worker", backbone,
                "--batch-size", str(args.batch_size),
                "--num-points", str(args.num_points),
                "--warmup", str(args.warmup), "--repeats", str(args.repeats),
            ] + (["--jit"] if args.jit else []) + (["--plain"] if args.plain else [])
            env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
            run = subprocess.run(command, env=env, capture_output=True, text=True)
            lines = [line for line in run.stdout.splitlines() if line.startswith("RESULT ")]
            if run.returncode != 0 or not lines:
                print(f"{backbone:10} {backend:11} failed: {run.stderr.strip()[-500:]}")
                continue
            result = json.loads(lines[-1][len("RESULT "):])
            times = sorted(result["times"])
            median = times[len(times) // 2]
            print(
                f"{backbone:10} {backend:11} {median:9.3f} {times[0]:7.3f} "
                f"{result['peak_gib']:9.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
