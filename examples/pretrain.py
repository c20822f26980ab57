"""
Title: ToThePoint pre-training, then a linear-SVM evaluation
Description: pre-trains a PointNet or DGCNN encoder with ToThePoint and
compares the linear-SVM accuracy of its frozen features with a randomly
initialised encoder.

By default everything runs on the built-in synthetic shapes (six classes of
primitive solids, generated, no download): pre-training on unlabelled
training clouds, the SVM on their labels, the accuracy on held-out clouds.
With `--data-dir` pointing at a folder holding `shapenet260/` and
`modelnet10_ply_hdf5_2048/`, it pre-trains on the 260 ShapeNet shapes of the
paper and evaluates on ModelNet10 (1024 points, C = 0.1), the paper's Table 3
protocol.

Pre-training checkpoints every epoch into `--checkpoint-dir` (Keras's
`BackupAndRestore`): a run that is killed continues where it stopped when
started again with the same arguments.

    python examples/pretrain.py                    # synthetic, ~2 min on a CPU
    python examples/pretrain.py --backbone dgcnn --epochs 2 --num-points 512
    python examples/pretrain.py --data-dir ../shared/data --epochs 25
"""

import argparse
import json
import os
import time

import keras
import numpy as np

import keras_ttp

# === Settings (the paper's, scaled down for a CPU where noted) ===
SETTINGS = {
    "backbone": "pointnet",
    "epochs": 5,  # the paper: 800
    "batch_size": 32,  # the paper: 32 (DGCNN) or 128 (PointNet)
    "num_points": 1024,  # the paper: 2048 for pre-training
    "eval_points": 1024,
    "svm_c": 0.1,
    "seed": 0,
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    for name, value in SETTINGS.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    parser.add_argument("--data-dir", help="folder with shapenet260/ and modelnet10_ply_hdf5_2048/")
    parser.add_argument("--checkpoint-dir", default="runs/pretrain", help="resumable checkpoints")
    parser.add_argument("--output", help="write the results as JSON here")
    return parser.parse_args()


def load_data(args):
    """(pre-training clouds, (train clouds, labels), (test clouds, labels), names)."""
    datasets = keras_ttp.datasets
    if args.data_dir is None:
        train = datasets.make_synthetic_shapes(num_per_class=40, num_points=2048, seed=args.seed)
        test = datasets.make_synthetic_shapes(num_per_class=20, num_points=2048, seed=args.seed + 1)
        return train.points, train, test, "synthetic shapes (built-in)"
    pretrain = datasets.load_shapenet_ply(os.path.join(args.data_dir, "shapenet260"))
    folder = os.path.join(args.data_dir, "modelnet10_ply_hdf5_2048")
    train = datasets.load_modelnet_h5(folder, split="train")
    test = datasets.load_modelnet_h5(folder, split="test")
    return pretrain.points, train, test, "ShapeNet-260 -> ModelNet10"


def make_backbone(name):
    return {"pointnet": keras_ttp.models.PointNet, "dgcnn": keras_ttp.models.DGCNN}[name]()


def svm_accuracy(backbone, train, test, args):
    n = args.eval_points
    return keras_ttp.evaluation.evaluate_linear_svm(
        backbone,
        train.points[:, :n],
        train.labels,
        test.points[:, :n],
        test.labels,
        C=args.svm_c,
        verbose=0,
    )["accuracy"]


def main():
    args = parse_args()
    keras.utils.set_random_seed(args.seed)
    pretrain_points, train, test, data_name = load_data(args)
    print(f"Data: {data_name}; {len(pretrain_points)} clouds for pre-training, "
          f"{len(train.points)} / {len(test.points)} for the SVM")

    random_init = svm_accuracy(make_backbone(args.backbone), train, test, args)
    print(f"Linear SVM, random initialisation: {random_init:.2f} %")

    pretrainer = keras_ttp.models.ToThePoint(make_backbone(args.backbone), seed=args.seed)
    pretrainer.compile()
    dataset = keras_ttp.datasets.PointCloudDataset(
        pretrain_points,
        batch_size=args.batch_size,
        num_points=args.num_points,
        shuffle=True,
        drop_last=True,
        seed=args.seed,
    )
    start = time.time()
    pretrainer.fit(
        dataset,
        epochs=args.epochs,
        callbacks=[keras.callbacks.BackupAndRestore(args.checkpoint_dir)],
    )
    minutes = (time.time() - start) / 60
    pretrained = svm_accuracy(pretrainer.backbone, train, test, args)
    print(f"Linear SVM, ToThePoint ({args.epochs} epochs, {minutes:.1f} min): {pretrained:.2f} %")

    results = {
        "data": data_name,
        "backend": keras.backend.backend(),
        "settings": {k: getattr(args, k) for k in SETTINGS},
        "svm_accuracy_random_init": random_init,
        "svm_accuracy_tothepoint": pretrained,
        "pretraining_minutes": minutes,
    }
    if args.output:
        with open(args.output, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
