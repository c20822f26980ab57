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

The helpers below (data, backbones, pre-training, few-shot tables, results
files) are shared with the example scripts in `examples/`.
"""

import argparse
import json
import os
import sys
import time

import keras
import numpy as np

from keras_ttp import datasets
from keras_ttp import evaluation
from keras_ttp import models
from keras_ttp.datasets.hdf5 import read_h5
from keras_ttp.datasets.validation import check_points
from keras_ttp.datasets.validation import read_npy
from keras_ttp.presets import registry
from keras_ttp.utils import EpochSeeds
from keras_ttp.version import __version__

BACKBONES = {"pointnet": models.PointNet, "dgcnn": models.DGCNN}
SYNTHETIC = "synthetic shapes (built-in, not real objects)"


# === Data ===


def subfolder(data_dir, name):
    """`data_dir/name` when it exists, else `data_dir` itself (the data
    set's own folder was given); the readers check what they find."""
    if not os.path.isdir(data_dir):
        raise FileNotFoundError(f"data directory not found: {data_dir}")
    path = os.path.join(data_dir, name)
    return path if os.path.isdir(path) else data_dir


def load_classification_data(data_dir=None, num_per_class=40, num_points=2048, seed=0):
    """`(train, test, description)`: two `PointCloudData`.

    Without `data_dir`, synthetic shapes (`num_per_class` per class in each
    split, `num_points` points, train from `seed`, test from `seed + 1`);
    with it, ModelNet10 from `data_dir/modelnet10_ply_hdf5_2048` (or
    `data_dir` itself), its official train and test splits.
    """
    if data_dir is None:
        make = datasets.make_synthetic_shapes
        train = make(num_per_class=num_per_class, num_points=num_points, seed=seed)
        test = make(num_per_class=num_per_class, num_points=num_points, seed=seed + 1)
        return train, test, SYNTHETIC
    folder = subfolder(data_dir, "modelnet10_ply_hdf5_2048")
    train = datasets.load_modelnet_h5(folder, split="train")
    test = datasets.load_modelnet_h5(folder, split="test")
    description = f"ModelNet10 h5 from {folder} ({len(train)} train / {len(test)} test shapes)"
    return train, test, description


def load_pretraining_points(data_dir=None, num_per_class=40, num_points=2048, seed=0):
    """`(points, description)`: the synthetic training shapes of
    `load_classification_data`, or ShapeNet-260 from `data_dir/shapenet260`
    (or `data_dir` itself)."""
    if data_dir is None:
        data = datasets.make_synthetic_shapes(num_per_class, num_points, seed)
        return data.points, SYNTHETIC
    folder = subfolder(data_dir, "shapenet260")
    data = datasets.load_shapenet_ply(folder)
    return data.points, f"ShapeNet-260 from {folder} ({len(data)} shapes)"


def load_points_file(path, key="data"):
    """Point clouds `(S, N, 3)` float32 from a `.npy` file or dataset `key`
    of an `.h5` file; one cloud `(N, 3)` gets a leading axis. Raises a
    `FileNotFoundError` or `ValueError` naming the file and the problem
    (NaN coordinates included)."""
    if path.endswith(".npy"):
        points = read_npy(path)
    elif path.endswith((".h5", ".hdf5")):
        points = read_h5(path, [key])[key]
    else:
        raise ValueError(f"{path}: expected a .npy or .h5 file of point clouds")
    points = check_points(points, path)
    return points[None] if points.ndim == 2 else points


# === Models ===


def make_backbone(name="pointnet", embedding_dim=1024, preset=None, pretrained=True):
    """A fresh `name` backbone of width `embedding_dim`, or, with `preset`,
    the preset's backbone: its weights when `pretrained`, else the same
    architecture freshly initialised (the random-init baseline)."""
    if preset is not None:
        return models.Backbone.from_preset(preset, load_weights=pretrained)
    return BACKBONES[name](embedding_dim=embedding_dim)


def keep_best_epoch(epochs):
    """A callback that restores, at the end of `fit`, the weights of the
    epoch with the best validation accuracy (it never stops early)."""
    return keras.callbacks.EarlyStopping(
        monitor="val_accuracy", mode="max", patience=epochs, restore_best_weights=True
    )


def pretrain_backbone(
    backbone, points, epochs, batch_size=32, num_points=1024, checkpoint_dir=None,
    seed=0, verbose="auto", callbacks=(), **pretrainer_kwargs,
):  # fmt: skip
    """Pre-trains `backbone` in place with ToThePoint on `points` `(S, N, 3)`.

    Every epoch draws a fresh subset of `num_points` points per shape and
    drops the last incomplete batch, as the authors do. With
    `checkpoint_dir`, Keras's `BackupAndRestore` saves every epoch there and
    a run started again with the same arguments continues where the last
    one stopped; `EpochSeeds` makes every random draw a function of
    `(seed, epoch)`, so the resumed run ends where an uninterrupted one
    would. `callbacks` are added to those of `fit`; `pretrainer_kwargs` go
    to `ToThePoint` (e.g. the ablations `recycling=False` or `branches=1`).

    Returns a summary dict: `epochs`, `minutes` and the last value of every
    logged loss term.
    """
    pretrainer = models.ToThePoint(backbone, seed=seed, **pretrainer_kwargs)
    pretrainer.compile()
    pretrainer.build((None, num_points, 3))  # BackupAndRestore needs it built
    dataset = datasets.PointCloudDataset(
        points, batch_size=batch_size, num_points=num_points, shuffle=True,
        drop_last=True, seed=seed,
    )  # fmt: skip
    callbacks = [EpochSeeds(seed, dataset), *callbacks]
    if checkpoint_dir:
        callbacks.insert(0, keras.callbacks.BackupAndRestore(checkpoint_dir))
    start = time.time()
    history = pretrainer.fit(
        dataset, epochs=epochs, callbacks=callbacks, shuffle=False, verbose=verbose
    )
    summary = {"epochs": epochs, "minutes": (time.time() - start) / 60}
    summary.update({name: values[-1] for name, values in history.history.items()})
    return summary


# === Evaluation ===


def few_shot_table(features, labels, ways, shots, queries=20, episodes=30, seed=0, C=0.1):
    """Few-shot accuracy (%) of frozen `features` for every N-way K-shot
    pair of `ways` x `shots` (`keras_ttp.evaluation.few_shot_accuracy`, the
    same seeded episodes for every backbone). A pair the data cannot hold
    (too few classes, or shapes per class) is reported, not run.

    Returns `{"5-way 10-shot": {"mean": ..., "std": ...}, ...}`, with
    `{"skipped": reason}` for the pairs not run.
    """
    table = {}
    for n_way in ways:
        for k_shot in shots:
            name = f"{n_way}-way {k_shot}-shot"
            try:
                result = evaluation.few_shot_accuracy(
                    features, labels, n_way, k_shot, queries, episodes, seed, C
                )
            except ValueError as error:
                table[name] = {"skipped": str(error)}
                print(f"{name}: skipped: {error}")
                continue
            table[name] = {"mean": result["mean"], "std": result["std"]}
            print(f"{name}: {result['mean']:.1f} +- {result['std']:.1f} % ({episodes} episodes)")
    return table


# === Results ===


def add_output_args(parser):
    parser.add_argument("--output", help="also write the results as JSON to this file")
    parser.add_argument(
        "--overwrite", action="store_true",
        help="replace an existing --output file (or preset / embeddings)",
    )  # fmt: skip


def check_output(path, overwrite=False):
    """Raises `FileExistsError` if `path` exists (an empty folder aside) and
    `overwrite` is off; run before the work, so a long run never ends unable
    to save."""
    empty_dir = os.path.isdir(path or "") and not os.listdir(path)
    if path and os.path.exists(path) and not empty_dir and not overwrite:
        raise FileExistsError(f"{path} already exists: pass --overwrite to replace it")


def write_json(path, results):
    """Writes `results` (numpy values allowed) as indented JSON."""
    with open(make_parent(path), "w", encoding="utf-8") as file:
        json.dump(results, file, indent=2, default=to_builtin)
        file.write("\n")
    print(f"Results written to {path}")


def make_parent(path):
    """Creates the folder of the file `path` if needed; returns `path`."""
    if os.path.dirname(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
    return path


def to_builtin(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def run_info():
    """Where results came from: the Keras backend and keras-ttp version."""
    return {"backend": keras.backend.backend(), "keras_ttp_version": __version__}


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
    check_output(args.preset_dir, args.overwrite)
    points, data = load_pretraining_points(
        args.data_dir, args.num_per_class, seed=args.seed
    )
    print(f"Pre-training a {args.backbone} on {data}")
    backbone = make_backbone(args.backbone, args.embedding_dim)
    settings = {
        key: getattr(args, key)
        for key in ("backbone", "embedding_dim", "epochs", "batch_size", "num_points", "seed")
    }
    summary = pretrain_backbone(
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
    backbone = make_backbone(preset=args.preset, pretrained=not args.random_init)
    train, test, data = load_classification_data(
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
        results["few_shot"] = few_shot_table(
            test_features, test.labels, args.ways, args.shots, args.queries,
            args.episodes, args.seed, args.svm_c,
        )  # fmt: skip
    return results


def embed_command(args):
    check_output(args.embeddings, args.overwrite)
    labels = None
    if args.points:
        points, source = load_points_file(args.points, args.h5_key), args.points
    else:
        train, test, source = load_classification_data(
            args.data_dir, args.num_per_class, seed=args.seed
        )
        data = train if args.split == "train" else test
        points, labels = data.points, data.labels
        source = f"{source}, {args.split} split"
    if args.num_points:
        points = points[:, : args.num_points]
    backbone = make_backbone(preset=args.preset, pretrained=not args.random_init)
    features = evaluation.extract_embeddings(backbone, points, args.batch_size)
    np.save(make_parent(args.embeddings), features)
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
        "--backbone", choices=sorted(BACKBONES), default="pointnet", help="the encoder"
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
        check_output(args.output, args.overwrite)
        results = args.run(args)
    except (ValueError, OSError) as error:
        parser.exit(1, f"keras-ttp {args.command}: error: {error}\n")
    if args.output:
        skip = ("run", "output", "overwrite")
        arguments = {k: v for k, v in vars(args).items() if k not in skip}
        write_json(args.output, {**arguments, **run_info(), **results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
