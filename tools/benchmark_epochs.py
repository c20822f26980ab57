"""Times whole pre-training epochs of `fit` (`workflows.pretrain_backbone`,
with `EpochSeeds`) and the memory the process keeps after each, against the
same run that also sets tensorflow's global seed at every epoch (what
`EpochSeeds` did through `keras.utils.set_random_seed` before; tensorflow
clears its kernel cache then, and XLA compiles the step again), in one run.

`tools/benchmark.py` times steps; this script sees what happens between
epochs. Each variant runs in its own subprocess on random clouds, so every
epoch repeats the same work: per epoch it prints the seconds, the resident
memory at its end and the loss (the two variants draw the same numbers, so
the losses must agree). The summary gives the median epoch time after the
first (which compiles) and the memory growth per epoch.

Usage:
    python tools/benchmark_epochs.py --backbone dgcnn --shapes 64 --epochs 5
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

VARIANTS = ("epoch-seeds", "reseed-tensorflow")


def resident_gib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 2**20
    return float("nan")


def worker(args):
    import keras
    import numpy as np

    from keras_ttp import workflows

    class Measure(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if args.variant == "reseed-tensorflow":
                import tensorflow as tf

                tf.random.set_seed(epoch)
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            row = {"epoch": epoch, "seconds": time.perf_counter() - self.start,
                   "rss_gib": resident_gib(), "loss": float(logs["loss"])}  # fmt: skip
            print(json.dumps(row), flush=True)

    keras.utils.set_random_seed(0)
    points = np.random.default_rng(0).normal(size=(args.shapes, args.num_points, 3))
    backbone = workflows.BACKBONES[args.backbone]()
    workflows.pretrain_backbone(
        backbone, points.astype("float32"), args.epochs, args.batch_size,
        args.num_points, seed=0, verbose=0, callbacks=[Measure()],
    )  # fmt: skip


def run_variant(args, variant):
    command = [sys.executable, __file__, "--worker", "--variant", variant]
    for name in ("backbone", "shapes", "epochs", "batch_size", "num_points"):
        command += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    env = dict(os.environ, KERAS_BACKEND="tensorflow")
    output = subprocess.run(command, env=env, capture_output=True, text=True)
    if output.returncode:
        sys.exit(f"{variant} failed:\n{output.stderr[-3000:]}")
    rows = [json.loads(line) for line in output.stdout.splitlines() if line.startswith("{")]
    for row in rows:
        print(f"{variant:18s} epoch {row['epoch']}: {row['seconds']:7.2f} s  "
              f"RSS {row['rss_gib']:6.2f} GiB  loss {row['loss']:.6f}")  # fmt: skip
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backbone", default="dgcnn", choices=("pointnet", "dgcnn"))
    parser.add_argument("--shapes", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--num-points", type=int, default=2048)
    parser.add_argument("--variant", choices=VARIANTS, default=VARIANTS[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.epochs < 3:
        parser.error("--epochs must be at least 3 (the first compiles)")
    if args.worker:
        return worker(args)
    print(f"{args.backbone}, {args.shapes} shapes, batch {args.batch_size}, "
          f"{args.num_points} points, {args.epochs} epochs, tensorflow")  # fmt: skip
    results = {variant: run_variant(args, variant) for variant in VARIANTS}
    summary = {}
    for variant, rows in results.items():
        later = rows[1:]
        seconds = statistics.median(row["seconds"] for row in later)
        growth = (later[-1]["rss_gib"] - rows[0]["rss_gib"]) / len(later)
        summary[variant] = seconds
        print(f"{variant:18s} median epoch after the first {seconds:7.2f} s, "
              f"memory {1024 * growth:+.0f} MiB an epoch")  # fmt: skip
    ratio = summary["reseed-tensorflow"] / summary["epoch-seeds"]
    same = [a["loss"] for a in results[VARIANTS[0]]] == [b["loss"] for b in results[VARIANTS[1]]]
    print(f"epoch time, reseeding tensorflow / EpochSeeds: {ratio:.2f}x; "
          f"losses identical: {same}")  # fmt: skip


if __name__ == "__main__":
    main()
