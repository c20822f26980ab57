"""What the `keras-ttp` command line, the example scripts and the tools
share: the data they read, the backbones they make, pre-training, few-shot
tables and results files.

- Data: `load_classification_data` (synthetic shapes or ModelNet10),
  `load_pretraining_points` (synthetic shapes or ShapeNet-260),
  `load_points_file` (a `.npy` / `.h5` file of clouds), `first_points`,
  `subfolder`.
- Models: `BACKBONES`, `make_backbone`, `pretrain_backbone` (ToThePoint,
  resumable).
- Evaluation: `few_shot_table`.
- Results: `check_output` (run before the work), `check_writable`,
  `write_json`, `make_parent`, `run_info`.
"""

import json
import os
import tempfile
import time

import keras
import numpy as np

from keras_ttp import datasets
from keras_ttp import evaluation
from keras_ttp import models
from keras_ttp.datasets.hdf5 import read_h5
from keras_ttp.datasets.validation import check_points
from keras_ttp.datasets.validation import read_npy
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


def first_points(points, num_points, name="num_points"):
    """The first `num_points` points of each cloud of `points` `(S, N, 3)`
    (all of them when `None`); a `ValueError` naming `name` if the clouds
    hold fewer."""
    if num_points is None:
        return points
    if num_points > points.shape[1]:
        raise ValueError(
            f"{name} {num_points}: the clouds hold only {points.shape[1]} points each"
        )
    return points[:, :num_points]


# === Models ===


def make_backbone(name="pointnet", embedding_dim=1024, preset=None, pretrained=True):
    """A fresh `name` backbone of width `embedding_dim`, or, with `preset`,
    the preset's backbone: its weights when `pretrained`, else the same
    architecture freshly initialised (the random-init baseline)."""
    if preset is not None:
        return models.Backbone.from_preset(preset, load_weights=pretrained)
    return BACKBONES[name](embedding_dim=embedding_dim)


def pretrain_backbone(
    backbone, points, epochs, batch_size=32, num_points=1024, checkpoint_dir=None,
    seed=0, verbose="auto", callbacks=(), **pretrainer_kwargs,
):  # fmt: skip
    """Pre-trains `backbone` in place with ToThePoint on `points` `(S, N, 3)`.

    Every epoch draws a fresh subset of `num_points` points per shape and
    drops the last incomplete batch, as the authors do. With
    `checkpoint_dir`, Keras's `BackupAndRestore` saves every epoch there,
    keeping the epoch before as well (`double_checkpoint`: a run killed while
    it writes resumes from that one), and a run started again with the same
    arguments continues where the last one stopped; `EpochSeeds` makes every
    random draw a function of `(seed, epoch)`, so the resumed run ends where
    an uninterrupted one would. `callbacks` are added to those of `fit`;
    `pretrainer_kwargs` go to `ToThePoint` (e.g. the ablations
    `recycling=False` or `branches=1`).

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
        callbacks.insert(0, keras.callbacks.BackupAndRestore(checkpoint_dir, double_checkpoint=True))
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


def check_output(path, overwrite=False, folder=False):
    """Checks, before the work, that the file `path` (with `folder`, the
    folder) can be written, so a long run never ends unable to save its
    results. `None` passes. Raises an `OSError` naming `path`:

    - `FileExistsError` if it exists (an empty folder aside) and
      `overwrite` is off;
    - `IsADirectoryError` if it is (or ends like) a folder where a file is
      expected,
      `NotADirectoryError` if it is a file where a folder is expected or a
      file stands where one of its parent folders would be created;
    - `PermissionError` if the folder it would be written in (or the
      nearest existing parent of that folder) cannot be written.
    """
    if not path:
        return
    if (os.path.isdir(path) or path.endswith(os.sep)) and not folder:
        raise IsADirectoryError(f"{path} is a folder: give the name of a file to write")
    if os.path.exists(path) and not os.path.isdir(path) and folder:
        raise NotADirectoryError(f"{path} is a file: give the name of a folder to write")
    empty_dir = os.path.isdir(path) and not os.listdir(path)
    if os.path.exists(path) and not empty_dir and not overwrite:
        raise FileExistsError(f"{path} already exists: pass --overwrite to replace it")
    if os.path.isfile(path) and not os.access(path, os.W_OK):
        raise PermissionError(f"{path} is read-only: it cannot be replaced")
    check_writable(path if folder else os.path.dirname(path) or ".", path)


def check_writable(folder, path):
    """Raises an `OSError` naming `path` unless `folder` exists and can be
    written in, or can be created (its nearest existing parent is a folder
    that can be written in). Writes and removes a temporary file to know."""
    existing = os.path.abspath(folder)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise NotADirectoryError(f"{path}: {existing} is a file, not a folder to write in")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise PermissionError(f"{path}: cannot write in {existing} ({reason})") from None


def write_json(path, results):
    """Writes `results` (numpy values allowed) as indented JSON, whole or
    not at all: a process killed while it writes leaves the old file."""
    with open(make_parent(path) + ".partial", "w", encoding="utf-8") as file:
        json.dump(results, file, indent=2, default=to_builtin)
        file.write("\n")
    os.replace(path + ".partial", path)
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
