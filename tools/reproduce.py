"""The reproduction runs of RESULTS.md: ToThePoint pre-training on the 260
ShapeNet shapes, for both backbones, the paper's two ablations and several
seeds, as one resumable queue.

Each run lives in `<runs-dir>/<name>/`: `backup/` (Keras `BackupAndRestore`,
every epoch), `log.csv` (loss terms and seconds per epoch), `snapshots/`
(the backbone as a preset after epochs 25, 50, 100, 200, 400, 600, 800
and the last, `epoch_0025/` ...; the learning curve is evaluated on them)
and, once finished, `preset/` (the pre-trained backbone, with its settings
and timings in `metadata.json`). Starting the command again skips the
finished runs and resumes the interrupted one from its last epoch (one
killed after its last epoch, from its last snapshot); `EpochSeeds`
makes the resumed run end where an uninterrupted one would. Runs go in
the order of `RUNS` (or of `--only`), each in its own process.

    python tools/reproduce.py --data-dir ../shared/data --runs-dir ../runs
    python tools/reproduce.py --data-dir ../shared/data --runs-dir ../runs \
        --only pointnet_ttp_seed0 --epochs 2    # a short check
    python tools/reproduce.py --list

The probes of `PROBES` (a horizontal rotation axis, the feature-transform
regulariser, a rank per cloud, temperature 0.5) are not in the queue; run
them by name, e.g. `--only pointnet_ftreg_seed0 --epochs 100`.
`--dtype-policy mixed_bfloat16` pre-trains in bfloat16 (its own runs dir).
"""

import argparse
import os
import subprocess
import sys
import time

import keras

from keras_ttp import layers
from keras_ttp import models
from keras_ttp import workflows
from keras_ttp.presets import preset_utils

# The paper's settings (docs/design.md section 2), its 800 epochs included.
# The runs of RESULTS.md before 2026-12-05 used `--epochs 25`.
SETTINGS = {
    "pointnet": {"batch_size": 128, "num_points": 2048, "epochs": 800},
    "dgcnn": {"batch_size": 32, "num_points": 2048, "epochs": 800},
}
SNAPSHOT_EPOCHS = (25, 50, 100, 200, 400, 600, 800)
# ToThePoint's arguments; "backbone" and "augmentation" hold the
# backbone's and `PointCloudAugmentation`'s.
VARIANTS = {
    "ttp": {},  # two branches with recycling: ToThePoint
    "norecycling": {"recycling": False},  # two branches, cross-branch term only
    "onebranch": {"branches": 1},  # one branch, intra-branch term only
    # Probes of issue 28's item 7, compared on the validation split:
    "authorsaxis": {"augmentation": {"rotation_axis": 2}},  # a horizontal axis
    "ftreg": {"backbone": {"feature_transform_regularization": 1e-3}},  # PointNet
    "persample": {"per_sample_rank": True},  # a rank r per cloud
    "temperature05": {"temperature": 0.5},
}
ABLATIONS = ("norecycling", "onebranch")
PROBES = ("authorsaxis", "ftreg", "persample", "temperature05")
# Priority order: the presets first, then the ablations, then more seeds.
RUNS = [
    f"{backbone}_{variant}_seed{seed}"
    for seed, variants in ((0, ("ttp",)), (0, ABLATIONS), (1, ("ttp",)), (2, ("ttp",)), (1, ABLATIONS), (2, ABLATIONS))
    for variant in variants
    for backbone in ("pointnet", "dgcnn")
]


def parse_run(name):
    """`"dgcnn_onebranch_seed1"` -> `("dgcnn", "onebranch", 1)`."""
    backbone, variant, seed = name.split("_")
    if backbone not in SETTINGS or variant not in VARIANTS or not seed.startswith("seed"):
        raise ValueError(f"unknown run {name!r}; the runs are: {', '.join(RUNS)}")
    return backbone, variant, int(seed.removeprefix("seed"))


def variant_arguments(variant, seed):
    """`(backbone arguments, ToThePoint arguments)` of `variant`."""
    arguments = dict(VARIANTS[variant])
    backbone_arguments = arguments.pop("backbone", {})
    if "augmentation" in arguments:
        arguments["augmentation"] = layers.PointCloudAugmentation(
            seed=seed, name="augmentation", **arguments["augmentation"]
        )
    return backbone_arguments, arguments


class EpochSeconds(keras.callbacks.Callback):
    """Adds the wall time of each epoch to the logs (for `CSVLogger`)."""

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.time()

    def on_epoch_end(self, epoch, logs=None):
        logs["seconds"] = time.time() - self.start


def save_whole(backbone, preset_dir, **kwargs):
    """`backbone.save_to_preset(preset_dir, **kwargs)`, whole or absent after
    a kill: written beside it, then renamed."""
    backbone.save_to_preset(preset_dir + ".partial", overwrite=True, **kwargs)
    os.replace(preset_dir + ".partial", preset_dir)


class BackboneSnapshots(keras.callbacks.Callback):
    """Saves `backbone` as a preset `folder/epoch_XXXX/` after each epoch
    (counted from 1) in `epochs`; a snapshot already there is kept, so a
    resumed run never overwrites one."""

    def __init__(self, backbone, folder, epochs, metadata):
        super().__init__()
        self.backbone, self.folder = backbone, folder
        self.epochs, self.metadata = set(epochs), metadata

    def on_epoch_end(self, epoch, logs=None):
        path = os.path.join(self.folder, f"epoch_{epoch + 1:04d}")
        if epoch + 1 not in self.epochs or os.path.isdir(path):
            return
        metadata = {**self.metadata, "epoch": epoch + 1, "logs": {k: float(v) for k, v in (logs or {}).items()}}
        save_whole(self.backbone, path, metadata={"pretraining": metadata})


def run(name, data_dir, runs_dir, epochs=None, dtype_policy=None):
    """Pre-trains run `name` (or resumes it); returns its preset folder."""
    backbone_name, variant, seed = parse_run(name)
    folder = os.path.join(runs_dir, name)
    preset_dir = os.path.join(folder, "preset")
    if os.path.isdir(preset_dir):
        print(f"{name}: finished earlier ({preset_dir})")
        return preset_dir
    settings = dict(SETTINGS[backbone_name])
    settings["epochs"] = epochs or settings["epochs"]
    if dtype_policy:
        keras.config.set_dtype_policy(dtype_policy)
        settings["dtype_policy"] = dtype_policy
    backbone_arguments, arguments = variant_arguments(variant, seed)
    points, data = workflows.load_pretraining_points(data_dir)
    print(f"{name}: {settings} on {data}", flush=True)
    final = os.path.join(folder, "snapshots", f"epoch_{settings['epochs']:04d}")
    if os.path.isdir(final):
        # Killed after its last epoch (`fit` had removed the backup) and
        # before the preset was written: the last snapshot holds the result.
        print(f"{name}: trained earlier, its preset made from {final}", flush=True)
        backbone = models.Backbone.from_preset(final)
        summary = preset_utils.load_json(final, preset_utils.METADATA_FILE)["pretraining"]["logs"]
    else:
        keras.utils.set_random_seed(seed)  # the same initial weights on a restart
        backbone = workflows.BACKBONES[backbone_name](**backbone_arguments)
        os.makedirs(folder, exist_ok=True)
        log = keras.callbacks.CSVLogger(os.path.join(folder, "log.csv"), append=True)
        snapshots = BackboneSnapshots(
            backbone, os.path.join(folder, "snapshots"), {*SNAPSHOT_EPOCHS, settings["epochs"]},
            {"data": data, "backbone": backbone_name, "variant": variant, "seed": seed, **settings},
        )  # fmt: skip
        summary = workflows.pretrain_backbone(
            backbone, points, settings["epochs"], settings["batch_size"],
            settings["num_points"], os.path.join(folder, "backup"), seed,
            verbose=2, callbacks=[EpochSeconds(), log, snapshots], **arguments,
        )  # fmt: skip
    pretraining = {
        "data": data, "backbone": backbone_name, "variant": variant,
        "pretrainer_arguments": VARIANTS[variant], "seed": seed, **settings,
        "final_losses": {k: v for k, v in summary.items() if k.endswith("loss")},
        "backend": keras.backend.backend(), "log": "log.csv",
    }  # fmt: skip
    save_whole(
        backbone, preset_dir, metadata={"pretraining": pretraining},
        model_card={"data": data, "settings": pretraining},
    )  # fmt: skip
    print(f"{name}: done, preset in {preset_dir}", flush=True)
    return preset_dir


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="folder holding shapenet260/")
    parser.add_argument("--runs-dir", default="runs", help="where the runs live")
    parser.add_argument("--only", nargs="+", help="these runs, in this order")
    parser.add_argument("--epochs", type=int, help="override the epochs (short checks)")
    parser.add_argument(
        "--dtype-policy", help="e.g. mixed_bfloat16 (default: Keras's, float32)"
    )
    parser.add_argument("--list", action="store_true", help="list the runs and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name in RUNS:
            done = os.path.isdir(os.path.join(args.runs_dir, name, "preset"))
            print(f"{name}{'  (finished)' if done else ''}")
        return 0
    if args.data_dir is None:
        parser.error("--data-dir is required (the folder holding shapenet260/)")
    names = args.only or RUNS
    if len(names) == 1:
        run(names[0], args.data_dir, args.runs_dir, args.epochs, args.dtype_policy)
        return 0
    # One process per run: a process that has run DGCNN keeps its memory
    # pools, and PointNet at B=128 then ran out of 24 GiB (measured).
    for name in names:
        command = [sys.executable, os.path.abspath(__file__), "--only", name,
                   "--data-dir", args.data_dir, "--runs-dir", args.runs_dir]  # fmt: skip
        command += ["--epochs", str(args.epochs)] if args.epochs else []
        if args.dtype_policy:
            command += ["--dtype-policy", args.dtype_policy]
        if subprocess.call(command) != 0:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
