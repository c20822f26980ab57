"""
Title: Data-parallel ToThePoint pre-training on several devices and hosts
Description: pre-trains a PointNet or DGCNN encoder data-parallel, on jax
(`keras.distribution.DataParallel`) or tensorflow (`tf.distribute`), with
NT-Xent's negatives taken from the global batch.

The engine is the Keras backend's: jax or tensorflow (Keras 3.15 has no
torch distribution). Every process reads only its shard of the shapes
(`keras_ttp.distribution.process_shard`) and feeds batches of
`--batch-size / processes` clouds; the global batch is `--batch-size`.
Launch commands, one host and several: docs/distributed.md.

    # One host, every local device (jax: GPUs; on a CPU, fake 4 devices):
    XLA_FLAGS=--xla_force_host_platform_device_count=4 KERAS_BACKEND=jax \\
        python examples/pretrain_distributed.py --epochs 1
    KERAS_BACKEND=tensorflow python examples/pretrain_distributed.py --epochs 1

    # Several hosts, jax: on each host i of N
    KERAS_BACKEND=jax python examples/pretrain_distributed.py \\
        --coordinator host0:1234 --num-processes N --process-id i
    # Several hosts, tensorflow: TF_CONFIG names the workers and this one
    KERAS_BACKEND=tensorflow TF_CONFIG='{"cluster": {"worker": ["host0:12345",
        "host1:12345"]}, "task": {"type": "worker", "index": 0}}' \\
        python examples/pretrain_distributed.py --multi-worker
"""

import argparse
import os

import keras

import keras_ttp
from keras_ttp import workflows
from keras_ttp import distribution

# === Settings (the paper's, scaled down for a CPU where noted) ===
SETTINGS = {
    "backbone": "pointnet",  # or "dgcnn"
    "embedding_dim": 1024,
    "epochs": 5,  # the paper: 800
    "batch_size": 32,  # global; the paper: 32 (DGCNN) or 128 (PointNet)
    "num_points": 1024,  # the paper: 2048
    "num_per_class": 40,  # synthetic shapes per class
    "learning_rate": 1e-3,  # the paper's, at the paper's batch size
    "seed": 0,
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[2])
    for name, value in SETTINGS.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    parser.add_argument("--data-dir", help="folder with shapenet260/")
    parser.add_argument("--preset-dir", help="process 0 saves the encoder here")
    parser.add_argument(
        "--reference-batch-size", type=int, default=None,
        help="scale the learning rate linearly from this global batch size",
    )  # fmt: skip
    parser.add_argument(
        "--per-replica-negatives", action="store_true",
        help="keep NT-Xent's negatives per replica (tensorflow; comparison)",
    )  # fmt: skip
    parser.add_argument(
        "--sync-batch-norm", action="store_true",
        help="tensorflow: BatchNorm statistics over the global batch",
    )  # fmt: skip
    parser.add_argument("--multi-worker", action="store_true",
                        help="tensorflow: MultiWorkerMirroredStrategy (TF_CONFIG)")
    parser.add_argument("--coordinator", help="jax: address of process 0, host:port")
    parser.add_argument("--num-processes", type=int, help="jax: number of processes")
    parser.add_argument("--process-id", type=int, help="jax: this process's index")
    return parser.parse_args()


def main():
    args = parse_args()
    if args.coordinator:
        # jax, several processes: before anything touches a device.
        keras.distribution.initialize(
            args.coordinator, args.num_processes, args.process_id
        )
    keras.utils.set_random_seed(args.seed)
    with distribution.data_parallel(multi_worker=args.multi_worker):
        index, count = distribution.process_index_and_count()
        if args.batch_size % count:
            raise ValueError(
                f"--batch-size {args.batch_size} is not divisible by the "
                f"{count} processes."
            )
        points, description = workflows.load_pretraining_points(
            args.data_dir, args.num_per_class, seed=args.seed
        )
        shard = distribution.process_shard(points, index, count)
        print(f"Process {index} of {count}: {len(shard)} of {len(points)} "
              f"clouds of {description}")  # fmt: skip

        learning_rate = args.learning_rate
        if args.reference_batch_size:
            learning_rate *= args.batch_size / args.reference_batch_size
        backbone = workflows.make_backbone(args.backbone, args.embedding_dim)
        pretrainer = keras_ttp.models.ToThePoint(
            backbone, seed=args.seed,
            gather_negatives=not args.per_replica_negatives,
        )  # fmt: skip
        if args.sync_batch_norm:
            distribution.synchronize_batch_norm(pretrainer)
        pretrainer.compile(
            optimizer=keras.optimizers.Adam(learning_rate, weight_decay=1e-4)
        )
        # A process's batches hold batch_size / processes clouds; the
        # engine splits them over the process's devices (`process_input`:
        # as they are on jax and MirroredStrategy, through
        # `distribute_datasets_from_function` on several tensorflow workers).
        dataset = keras_ttp.datasets.PointCloudDataset(
            shard, batch_size=args.batch_size // count,
            num_points=args.num_points, shuffle=True, drop_last=True,
            seed=args.seed,
        )  # fmt: skip
        # The dataset shuffles itself; the number of steps is given because a
        # distributed dataset's is unknown to Keras.
        history = pretrainer.fit(
            distribution.process_input(dataset), epochs=args.epochs,
            steps_per_epoch=len(dataset), shuffle=False,
            verbose=2 if index == 0 else 0,
        )  # fmt: skip
    print({k: round(v[-1], 4) for k, v in history.history.items()})
    if args.preset_dir and index == 0:
        backbone.save_to_preset(args.preset_dir)
        print(f"Encoder saved to {os.path.abspath(args.preset_dir)}")


if __name__ == "__main__":
    main()
