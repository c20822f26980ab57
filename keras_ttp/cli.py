"""The `keras-ttp` command line: pre-train, evaluate, embed, list presets.

    keras-ttp presets
    keras-ttp pretrain --preset-dir runs/my_pointnet --epochs 5
    keras-ttp evaluate runs/my_pointnet --output results.json
    keras-ttp embed runs/my_pointnet --points clouds.npy --embeddings out.npy

Every command reads the built-in synthetic shapes unless given `--data-dir`
(a folder holding `shapenet260/` for pre-training, `modelnet10_ply_hdf5_2048/`
for evaluation), prints what it does with Keras progress bars, and with
`--output` also writes its results as JSON. `python -m keras_ttp` is the
same command.

Every file and folder a command writes (`--output`, the preset and
checkpoint folders, the embeddings and their `*_labels.npy`) is checked
before any work: it must be writable, of the right kind (file or folder),
and not replace an existing one without `--overwrite`. Counts must be
positive. Bad input (a missing file, NaN coordinates, an unknown preset, an
output that cannot be written) ends with a one-line error and exit status 1;
a bad flag value with argparse's usage error and exit status 2.

What the commands share with the example scripts and the tools (data,
backbones, pre-training, few-shot tables, results files) is in
`keras_ttp.workflows`; this module parses the arguments and prints.
"""

import argparse
import os
import sys

import keras
import numpy as np

from keras_ttp import evaluation
from keras_ttp import workflows
from keras_ttp.presets import registry
from keras_ttp.version import __version__

# How long `announce_compiling` says a first step takes: from the first
# step of `keras-ttp pretrain`'s defaults and the first batch of its
# embedding, against the later ones, on tensorflow and jax on a 2-core CPU
# (the commit that added this message gives the figures).
COMPILE_TIME = {
    "training": "tens of seconds to a few minutes on a CPU",
    "embedding": "a few seconds",
}

# === Arguments ===


def add_output_args(parser):
    parser.add_argument("--output", help="also write the results as JSON to this file")
    parser.add_argument(
        "--overwrite", action="store_true",
        help="replace an existing --output file (or preset, embeddings and labels)",
    )  # fmt: skip


# === Commands ===


def presets_command(args):
    presets = registry.list_presets()
    for name, entry in presets.items():
        entry["shipped"] = registry.package_folder(name).is_dir()
        where = "shipped with keras-ttp" if entry["shipped"] else entry["hf_handle"]
        print(f"{name}  ({entry['backbone']}, {where})")
        print(f"    {entry['description']}")
    return {"presets": presets}


def pretrain_command(args):
    points, data = workflows.load_pretraining_points(
        args.data_dir, args.num_per_class, seed=args.seed
    )
    print(f"Pre-training a {args.backbone} on {data}")
    backbone = workflows.make_backbone(args.backbone, args.embedding_dim)
    settings = {
        key: getattr(args, key)
        for key in ("backbone", "embedding_dim", "epochs", "batch_size", "num_points", "seed")
    }
    announce_compiling("training")
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
    points = [workflows.first_points(split.points, n, "--num-points") for split in (train, test)]
    announce_compiling("embedding")
    features = evaluation.extract_embeddings(  # both splits in one pass
        backbone, np.concatenate(points)
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
    embeddings_file, labels_file = embed_files(args)
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
    points = workflows.first_points(points, args.num_points, "--num-points")
    backbone = workflows.make_backbone(preset=args.preset, pretrained=not args.random_init)
    announce_compiling("embedding")
    features = evaluation.extract_embeddings(backbone, points, args.batch_size)
    np.save(workflows.make_parent(embeddings_file), features)
    print(f"Embedded {len(points)} clouds of {points.shape[1]} points from {source}: "
          f"{features.shape} saved to {embeddings_file}")
    results = {"source": source, "shape": list(features.shape)}
    if labels is not None:
        results["labels"] = labels_file
        np.save(labels_file, labels)
    return results


def embed_files(args):
    """`(embeddings, labels)`: the files `embed` writes. `np.save` adds
    `.npy` to a name without it; the labels of a split (no `--points`) go
    next to the embeddings as `*_labels.npy`, else `labels` is `None`."""
    embeddings = args.embeddings
    if not embeddings.endswith((".npy", os.sep)) and not os.path.isdir(embeddings):
        embeddings += ".npy"  # a folder stays, for `check_outputs` to refuse
    labels = None if args.points else embeddings.removesuffix(".npy") + "_labels.npy"
    return embeddings, labels


# === Before the work ===


def output_paths(args):
    """`[(path, folder, resumed), ...]`: every file and folder the command
    writes (`folder`: a folder; `resumed`: one a rerun continues from,
    never refused for existing); `None` paths are outputs not asked for."""
    paths = [(args.output, False, False)]
    if args.command == "pretrain":
        paths += [(args.preset_dir, True, False), (args.checkpoint_dir, True, True)]
    if args.command == "embed":
        paths += [(path, False, False) for path in embed_files(args)]
    return [entry for entry in paths if entry[0]]


def check_outputs(args):
    """Raises an `OSError` naming the path unless every output of the
    command can be written (`workflows.check_output`), a `ValueError` if
    two outputs share a path; run before any work."""
    paths = output_paths(args)
    where = [os.path.abspath(path) for path, _, _ in paths]
    for path, folder, resumed in paths:
        if where.count(os.path.abspath(path)) > 1:
            raise ValueError(f"{path} is given for two outputs: give each its own path")
        workflows.check_output(path, args.overwrite or resumed, folder)


def announce_compiling(what):
    """Prints, on the backends whose first step compiles (tensorflow: a
    traced function, with XLA for training; jax: `jax.jit`), one line
    saying so and roughly how long it takes, so that a silent first step
    is not taken for a hang. `what`: a key of `COMPILE_TIME`."""
    if keras.backend.backend() in ("tensorflow", "jax"):
        print(
            f"The first {what} step compiles and may take {COMPILE_TIME[what]}; "
            "the later steps are faster.", flush=True,
        )  # fmt: skip


# === Parser ===


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows the defaults in `--help`, except empty ones (`None`, off)."""

    def _get_help_string(self, action):
        if action.default in (None, False):
            return action.help
        return super()._get_help_string(action)


def number(parse, accepts, wanted):
    """An argparse `type`: `parse(text)`, refused unless `accepts(value)`,
    with a message argparse prefixes with the flag's name."""

    def convert(text):
        try:
            value = parse(text)
        except ValueError:
            value = None
        if value is None or not accepts(value):
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}")
        return value

    convert.__name__ = wanted
    return convert


positive_int = number(int, lambda value: value >= 1, "a positive integer")
non_negative_int = number(int, lambda value: value >= 0, "a non-negative integer")
positive_float = number(float, lambda value: value > 0, "a positive number")


def add_data_args(parser, what):
    parser.add_argument(
        "--data-dir",
        help=f"folder holding {what} (default: the built-in synthetic shapes)",
    )
    parser.add_argument(
        "--num-per-class", type=positive_int, default=40,
        help="synthetic shapes per class (and split)",
    )  # fmt: skip
    parser.add_argument(
        "--seed", type=non_negative_int, default=0, help="seed of data and training"
    )


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
        "--embedding-dim", type=positive_int, default=1024, help="width of the global feature"
    )
    add_data_args(command, "shapenet260/")
    command.add_argument("--epochs", type=positive_int, default=5, help="the paper: 800")
    command.add_argument("--batch-size", type=positive_int, default=32, help="shapes per batch")
    command.add_argument(
        "--num-points", type=positive_int, default=1024,
        help="points per shape, drawn anew every epoch",
    )  # fmt: skip
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
        "--num-points", type=positive_int, default=1024, help="the first N points of each shape"
    )
    command.add_argument("--svm-c", type=positive_float, default=0.1, help="C of the linear SVMs")
    command.add_argument("--ways", type=positive_int, nargs="+", default=[5, 10], help="N of N-way")
    command.add_argument(
        "--shots", type=positive_int, nargs="+", default=[10, 20], help="K of K-shot"
    )
    command.add_argument(
        "--queries", type=positive_int, default=20, help="query shapes per class and episode"
    )
    command.add_argument(
        "--episodes", type=positive_int, default=30, help="seeded episodes per N, K"
    )

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
        "--num-points", type=positive_int, help="keep the first N points of each cloud"
    )
    command.add_argument("--batch-size", type=positive_int, default=32, help="clouds per batch")
    return parser


def main(argv=None):
    """Runs `keras-ttp` with `argv` (default: the process's arguments)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        check_outputs(args)
        results = args.run(args)
        if args.output:
            skip = ("run", "output", "overwrite")
            arguments = {k: v for k, v in vars(args).items() if k not in skip}
            workflows.write_json(args.output, {**arguments, **workflows.run_info(), **results})
    except (ValueError, OSError) as error:
        parser.exit(1, f"keras-ttp {args.command}: error: {error}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
