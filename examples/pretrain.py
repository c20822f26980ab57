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
started again with the same arguments. `--preset-dir` saves the pre-trained
encoder as a preset, which the other examples take with `--preset`.

    python examples/pretrain.py                    # synthetic, ~2 min on a CPU
    python examples/pretrain.py --backbone dgcnn --epochs 2 --num-points 512
    python examples/pretrain.py --data-dir ../shared/data --epochs 25 \
        --preset-dir runs/ttp_pointnet
"""

import keras_ttp
from keras_ttp import workflows

import common  # examples/common.py

# === Settings (the paper's, scaled down for a CPU where noted) ===
SETTINGS = {
    "backbone": "pointnet",  # or "dgcnn"
    "embedding_dim": 1024,
    "epochs": 5,  # the paper: 800
    "batch_size": 32,  # the paper: 32 (DGCNN) or 128 (PointNet)
    "num_points": 1024,  # the paper: 2048 for pre-training
    "eval_points": 1024,
    "num_per_class": 40,  # synthetic shapes per class and split
    "svm_c": 0.1,
    "seed": 0,
}


def extra_flags(parser):
    parser.add_argument(
        "--checkpoint-dir", default="runs/pretrain", help="resumable checkpoints"
    )
    parser.add_argument("--preset-dir", help="save the pre-trained encoder here")


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
    args = common.parse_args(
        __doc__, SETTINGS, "folder with shapenet260/ and modelnet10_ply_hdf5_2048/",
        preset=False, extra=extra_flags, files=("output", "preset_dir"),
    )  # fmt: skip
    pretrain_points, pretrain_data = workflows.load_pretraining_points(
        args.data_dir, args.num_per_class, seed=args.seed
    )
    train, test, eval_data = workflows.load_classification_data(
        args.data_dir, args.num_per_class, seed=args.seed
    )
    print(f"Pre-training on {pretrain_data} ({len(pretrain_points)} clouds); "
          f"linear SVM on {eval_data}")

    backbone = workflows.make_backbone(args.backbone, args.embedding_dim)
    random_init = svm_accuracy(backbone, train, test, args)
    print(f"Linear SVM, random initialisation: {random_init:.2f} %")

    # ToThePoint + PointCloudDataset + fit, in keras_ttp.workflows.pretrain_backbone.
    summary = workflows.pretrain_backbone(
        backbone, pretrain_points, args.epochs, args.batch_size, args.num_points,
        args.checkpoint_dir, args.seed,
    )  # fmt: skip
    pretrained = svm_accuracy(backbone, train, test, args)
    print(f"Linear SVM, ToThePoint ({args.epochs} epochs, "
          f"{summary['minutes']:.1f} min): {pretrained:.2f} %")
    if args.preset_dir:
        backbone.save_to_preset(
            args.preset_dir,
            metadata={"pretraining": {"data": pretrain_data, **summary}},
            model_card={"data": pretrain_data, "metrics": {
                f"linear SVM accuracy (%), {eval_data}": pretrained
            }},
            overwrite=args.overwrite,
        )  # fmt: skip
        print(f"Pre-trained encoder saved to {args.preset_dir}")

    common.finish(args, SETTINGS, f"{pretrain_data} -> {eval_data}", {
        "svm_accuracy_random_init": random_init,
        "svm_accuracy_tothepoint": pretrained,
        "pretraining": summary,
    })  # fmt: skip


if __name__ == "__main__":
    main()
