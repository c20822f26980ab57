"""The `keras-ttp` command line: pre-train, evaluate, embed, list presets.

    keras-ttp presets
    keras-ttp pretrain --preset-dir runs/my_pointnet --epochs 5
    keras-ttp evaluate runs/my_pointnet --output results.json
    keras-ttp embed runs/my_pointnet --points clouds.npy --embeddings out.npy

Every command reads the built-in synthetic shapes unless given `--data-dir`
(a folder holding `shapenet260/` for pre-training, `modelnet10_ply_hdf5_2048/`
for evaluation), prints what it does with Keras progress bars, and with
`--output` also writes its results as JSON. Bad input (a missing file, NaN
coordinates, an unknown preset) ends with a one-line error and exit status 1.

What the commands share with the example scripts and the tools (data,
backbones, pre-training, few-shot tables, results files) is in
`keras_ttp.workflows`; this module parses the arguments and prints.
"""

import argparse
import sys

import numpy as np

from keras_ttp import evaluation
from keras_ttp import workflows
from keras_ttp.presets import registry
from keras_ttp.version import __version__

# === Arguments ===


def add_output_args(parser):
    parser.add_argument("--output", help="also write the results as JSON to this file")
    parser.add_argument(
        "--overwrite", action="store_true",
        help="replace an existing --output file (or preset / embeddings)",
    )  # fmt: skip


# === Commands ===


def presets_command(args):
    presets = registry.list_presets()
    for name, entry in presets.items():
        entry["shipped"] = (registry.PRESETS_DIR / entry["path"]).is_dir()
        where = "shipped with keras-ttp" if entry["shipped"] else entry["hf_handle"]
        print(f"{name}  ({entry['backbone']}, {where})")
        print(f"    {entry['description']}")
    return {"presets": presets}


def pretrain_command(args):
    workflows.check_output(args.preset_dir, args.overwrite)
    points, data = workflows.load_pretraining_points(
        args.data_dir, args.num_per_class, seed=args.seed
    )
    print(f"Pre-training a {args.backbone} on {data}")
    backbone = workflows.make_backbone(args.backbone, args.embedding_dim)
    settings = {
        key: getattr(args, key)
        for key in ("backbone", "embedding_dim", "epochs", "batch_size", "num_points", "seed")
    }
    summary = workflows.pretrain_backbone(
        backbone, points, args.epochs, args.batch_size, args.num_points,
        args.checkpoint_dir, args.seed,
    )  # fmt: skip
    backbone.save_to_preset(
        args.preset_dir,
        metadata={"pretraining": {"data": data, **settings, **summary}},
        model_card={"data": data, "settings": settings},
        overwrite=args.overwrite,
    )
    print(f"Loss {summary['loss']:.4f} after {args.epochs} epochs; "
          f"preset saved to {args.preset_dir}")
    return {"data": data, **summary}


def evaluate_command(args):
    backbone = workflows.make_backbone(preset=args.preset, pretrained=not args.random_init)
    train, test, data = workflows.load_classification_data(
        args.data_dir, args.num_per_class, seed=args.seed
    )
    print(f"Evaluating {args.preset}{' (random init)' * args.random_init} on {data}")
    n = args.num_points
    features = evaluation.extract_embeddings(  # both splits in one pass
        backbone, np.concatenate([train.points[:, :n], test.points[:, :n]])
    )
    train_features, test_features = features[: len(train)], features[len(train) :]
    results = {"data": data}
    if "svm" in args.protocol:
        accuracy = evaluation.linear_svm_accuracy(
            train_features, train.labels, test_features, test.labels, C=args.svm_c
        )
        print(f"Linear SVM (C={args.svm_c}): {accuracy:.2f} % test accuracy")
        results["linear_svm"] = {"accuracy": accuracy, "C": args.svm_c}
    if "few-shot" in args.protocol:
        results["few_shot"] = workflows.few_shot_table(
            test_features, test.labels, args.ways, args.shots, args.queries,
            args.episodes, args.seed, args.svm_c,
        )  # fmt: skip
    return results


def embed_command(args):
    workflows.check_output(args.embeddings, args.overwrite)
    labels = None
    if args.points:
        points, source = workflows.load_points_file(args.points, args.h5_key), args.points
    else:
        train, test, source = workflows.load_classification_data(
            args.data_dir, args.num_per_class, seed=args.seed
        )
        data = train if args.split == "train" else test
        points, labels = data.points, data.labels
        source = f"{source}, {args.split} split"
    if args.num_points:
        points = points[:, : args.num_points]
    backbone = workflows.make_backbone(preset=args.preset, pretrained=not args.random_init)
    features = evaluation.extract_embeddings(backbone, points, args.batch_size)
    np.save(workflows.make_parent(args.embeddings), features)
    print(f"Embedded {len(points)} clouds of {points.shape[1]} points from {source}: "
          f"{features.shape} saved to {args.embeddings}")
    results = {"source": source, "shape": list(features.shape)}
    if labels is not None:
        results["labels"] = args.embeddings.removesuffix(".npy") + "_labels.npy"
        np.save(results["labels"], labels)
    return results


# === Parser ===


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows the defaults in `--help`, except empty ones (`None`, off)."""

    def _get_help_string(self, action):
        if action.default in (None, False):
            return action.help
        return super()._get_help_string(action)


def add_data_args(parser, what):
    parser.add_argument(
        "--data-dir",
        help=f"folder holding {what} (default: the built-in synthetic shapes)",
    )
    parser.add_argument(
        "--num-per-class", type=int, default=40,
        help="synthetic shapes per class (and split)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="seed of data and training")


def add_preset_args(parser):
    parser.add_argument(
        "preset", help="a preset folder, a registered name, or hf://owner/name"
    )
    parser.add_argument(
        "--random-init", action="store_true",
        help="the preset's architecture freshly initialised (a baseline)",
    )  # fmt: skip


def add_command(commands, run, help):
    """A subcommand parser that runs `run(args)`, with `--output` and
    `--overwrite`; named after `run` (`embed_command` -> `embed`)."""
    name = run.__name__.removesuffix("_command")
    command = commands.add_parser(name, help=help, formatter_class=HelpFormatter)
    command.set_defaults(run=run)
    add_output_args(command)
    return command


def build_parser():
    parser = argparse.ArgumentParser(
        prog="keras-ttp",
        description="ToThePoint point-cloud pre-training and evaluation (keras-ttp).",
    )
    parser.add_argument("--version", action="version", version=f"keras-ttp {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    add_command(commands, presets_command, "list the registered presets")

    command = add_command(
        commands, pretrain_command,
        "pre-train a backbone with ToThePoint and save it as a preset",
    )  # fmt: skip
    command.add_argument(
        "--preset-dir", required=True, help="where to save the pre-trained preset"
    )
    command.add_argument(
        "--backbone", choices=sorted(workflows.BACKBONES), default="pointnet", help="the encoder"
    )
    command.add_argument(
        "--embedding-dim", type=int, default=1024, help="width of the global feature"
    )
    add_data_args(command, "shapenet260/")
    command.add_argument("--epochs", type=int, default=5, help="the paper: 800")
    command.add_argument("--batch-size", type=int, default=32, help="shapes per batch")
    command.add_argument(
        "--num-points", type=int, default=1024, help="points per shape, drawn anew every epoch"
    )
    command.add_argument(
        "--checkpoint-dir", help="back up every epoch here; a rerun resumes from it"
    )

    command = add_command(
        commands, evaluate_command,
        "linear-SVM and few-shot accuracy of a preset's frozen features",
    )  # fmt: skip
    add_preset_args(command)
    add_data_args(command, "modelnet10_ply_hdf5_2048/")
    command.add_argument(
        "--protocol", nargs="+", choices=["svm", "few-shot"], default=["svm", "few-shot"],
        help="linear SVM (train -> test split) and/or few-shot (test split)",
    )  # fmt: skip
    command.add_argument(
        "--num-points", type=int, default=1024, help="the first N points of each shape"
    )
    command.add_argument("--svm-c", type=float, default=0.1, help="C of the linear SVMs")
    command.add_argument("--ways", type=int, nargs="+", default=[5, 10], help="N of N-way")
    command.add_argument("--shots", type=int, nargs="+", default=[10, 20], help="K of K-shot")
    command.add_argument(
        "--queries", type=int, default=20, help="query shapes per class and episode"
    )
    command.add_argument("--episodes", type=int, default=30, help="seeded episodes per N, K")

    command = add_command(
        commands, embed_command, "global features of point clouds, saved as .npy"
    )
    add_preset_args(command)
    command.add_argument(
        "--embeddings", required=True, help="the .npy file to write, (S, dim)"
    )
    command.add_argument(
        "--points", help=".npy or .h5 file of clouds (S, N, 3) or (N, 3); "
        "without it, a split of the evaluation data",
    )  # fmt: skip
    command.add_argument("--h5-key", default="data", help="dataset of the .h5 file")
    add_data_args(command, "modelnet10_ply_hdf5_2048/")
    command.add_argument(
        "--split", choices=["train", "test"], default="test", help="the split to embed"
    )
    command.add_argument(
        "--num-points", type=int, help="keep the first N points of each cloud"
    )
    command.add_argument("--batch-size", type=int, default=32, help="clouds per batch")
    return parser


def main(argv=None):
    """Runs `keras-ttp` with `argv` (default: the process's arguments)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        workflows.check_output(args.output, args.overwrite)
        results = args.run(args)
    except (ValueError, OSError) as error:
        parser.exit(1, f"keras-ttp {args.command}: error: {error}\n")
    if args.output:
        skip = ("run", "output", "overwrite")
        arguments = {k: v for k, v in vars(args).items() if k not in skip}
        workflows.write_json(args.output, {**arguments, **workflows.run_info(), **results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
