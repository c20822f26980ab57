"""Throughput of the data loaders and their share of a pre-training step.

Prints, as the median of `--repeats` runs:
- shapes/s reading the ModelNet10 HDF5 folder (train and test splits);
- shapes/s sampling the 10 real ModelNet10 `.off` meshes (uncached), and
  the time of a cached second load;
- the time `PointCloudDataset` takes to make one batch (ShapeNet-260,
  B=32, N=1024) next to one ToThePoint PointNet pre-training step on the
  same batch, and the loader's share of the two.

Usage:
    KERAS_BACKEND=jax python tools/benchmark_data.py --data-dir ../shared/data
"""

import argparse
import os
import pathlib
import statistics
import tempfile
import time

import keras

import keras_ttp
from keras_ttp import datasets

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]


def parse_args():
    default = os.environ.get("KERAS_TTP_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(default), help="the shared data folder")
    parser.add_argument("--repeats", type=int, default=5, help="runs per measurement")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--num-points", type=int, default=1024)
    return parser.parse_args()


def median_seconds(function, repeats):
    """Median wall time of `repeats` calls of `function`, and its last result."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main():
    args = parse_args()
    data_dir = pathlib.Path(args.data_dir)
    print(f"Backend: {keras.backend.backend()}; {os.cpu_count()} CPUs; "
          f"median of {args.repeats} runs")  # fmt: skip

    h5_dir = data_dir / "modelnet10_ply_hdf5_2048"
    seconds, num_shapes = median_seconds(
        lambda: sum(len(datasets.load_modelnet_h5(h5_dir, s)) for s in ("train", "test")),
        args.repeats,
    )
    print(f"ModelNet10 HDF5 folder: {num_shapes} shapes in {seconds:.2f} s = "
          f"{num_shapes / seconds:,.0f} shapes/s")  # fmt: skip

    off_dir = data_dir / "formats" / "ModelNet10_off"
    seconds, data = median_seconds(
        lambda: datasets.load_modelnet_off(off_dir, "test", args.num_points, use_cache=False),
        args.repeats,
    )
    print(f".off sampling ({args.num_points} points, uncached): {len(data)} meshes in "
          f"{seconds:.3f} s = {len(data) / seconds:,.1f} shapes/s")  # fmt: skip
    with tempfile.TemporaryDirectory() as cache:
        datasets.load_modelnet_off(off_dir, "test", args.num_points, cache_dir=cache)
        seconds, _ = median_seconds(
            lambda: datasets.load_modelnet_off(off_dir, "test", args.num_points, cache_dir=cache),
            args.repeats,
        )
    print(f".off second load (cached): {seconds * 1000:.1f} ms = "
          f"{len(data) / seconds:,.0f} shapes/s")  # fmt: skip

    points = datasets.load_shapenet_ply(data_dir / "shapenet260").points
    dataset = datasets.PointCloudDataset(
        points, batch_size=args.batch_size, num_points=args.num_points,
        drop_last=True, seed=0,
    )  # fmt: skip
    batch_times = []
    for _ in range(args.repeats):
        for index in range(len(dataset)):
            start = time.perf_counter()
            batch = dataset[index]
            batch_times.append(time.perf_counter() - start)
        dataset.on_epoch_end()
    batch_seconds = statistics.median(batch_times)

    pretrainer = keras_ttp.models.ToThePoint(keras_ttp.models.PointNet(), seed=0)
    pretrainer.compile()
    for _ in range(2):  # build and compile the step
        pretrainer.train_on_batch(batch)
    step_seconds, _ = median_seconds(lambda: pretrainer.train_on_batch(batch), args.repeats)
    share = batch_seconds / (batch_seconds + step_seconds)
    print(f"Pipeline: {batch_seconds * 1000:.2f} ms per batch "
          f"(B={args.batch_size}, N={args.num_points})")  # fmt: skip
    print(f"ToThePoint PointNet pre-training step: {step_seconds * 1000:.0f} ms per batch")
    print(f"Loader share of a pre-training step: {100 * share:.4f} %")


if __name__ == "__main__":
    main()
