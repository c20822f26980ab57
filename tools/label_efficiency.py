"""Label efficiency: fine-tunes `PointCloudClassifier` on a fraction of the
ModelNet10 train labels, from a preset and from random initialisation.

For every fraction (default 1, 5, 10 and 100 %) a stratified, seeded subset
(`keras_ttp.evaluation.stratified_subset`, at least one shape per class) of
the fit part of the fixed validation split
(`keras_ttp.evaluation.validation_split`) is labelled; the classifier, its
encoder from `--preset` or the preset's architecture freshly initialised
(the same Keras seed for both), is fine-tuned end to end with Adam (1e-3)
and sparse cross-entropy on a fresh random `--num-points` of each shape
every epoch, for `--epochs` epochs or, where that would take more,
`--max-steps` optimizer steps' worth of epochs (with the defaults: 100
epochs of the small fractions, 20 of 100 %). The validation split scores
the model at most `--validations` times, evenly spaced; the epoch whose
weights are kept is the validated one with the best accuracy
(`keras_ttp.utils.KeepBestEpoch`); the test split then scores that one
model once and chooses nothing. Fractions below 100 % are repeated for
every `--seeds` (the subset and the initialisation change with the seed);
100 % uses the first seed.

Results go to `--output` (default `docs/results/label_efficiency_<backbone>
.json`): every fine-tuning as it finishes (a run started again skips those
done and keeps those of other `--fractions` or `--seeds`; it refuses to add
fine-tunings made with other settings), and a
summary, mean +- std over the seeds per fraction and start. A fine-tuning
in progress keeps a backup under `--runs-dir` every epoch: one killed part
way resumes where it stopped and ends as an uninterrupted one would.
`--plot` draws test accuracy against the fraction of labels (matplotlib).
`--starts random` runs random initialisation alone: it depends on the
preset's architecture only, so it can run before the preset is chosen, and
a later run with both starts adds the preset's fine-tunings beside it.

`--quick` checks the plumbing in seconds: a few synthetic shapes (not
ModelNet10), 64 points, 2 epochs, fractions 20 and 100 %, 2 seeds, and
without `--preset` a tiny random PointNet saved as a stand-in preset.

    python tools/label_efficiency.py --data-dir ../shared/data \\
        --preset ttp_shapenet_pointnet --runs-dir ../runs
    python tools/label_efficiency.py --quick --output /tmp/quick.json
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

import keras
import numpy as np

from keras_ttp import datasets
from keras_ttp import evaluation
from keras_ttp import models
from keras_ttp import utils
from keras_ttp import workflows

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import learning_curve  # noqa: E402  (tools/learning_curve.py)

SETTINGS = {
    "fractions": [0.01, 0.05, 0.1, 1.0],
    "seeds": [0, 1, 2],
    "epochs": 100,  # at most; fewer where `max_steps` is reached first
    "max_steps": 2000,
    "validations": 25,  # at most, evenly spaced (`fit`'s validation_freq)
    "batch_size": 32,
    "num_points": 1024,
    "jit_compile": "auto",  # XLA on tensorflow (`Task.compile`)
}
# Tiny models run eagerly: tracing would take longer than the training.
QUICK = {**SETTINGS, "fractions": [0.2, 1.0], "seeds": [0, 1], "epochs": 2, "batch_size": 8,
         "num_points": 64, "jit_compile": False, "run_eagerly": True}  # fmt: skip
STARTS = ("preset", "random")


def datasets_for(train, test, subset, validation, batch_size, num_points, seed):
    """The fit, validation and test `PointCloudDataset`s: the labelled
    `subset` of train resampled every epoch, the others on their first
    `num_points` points."""
    Dataset = datasets.PointCloudDataset
    fit = Dataset(
        train.points[subset], train.labels[subset], min(batch_size, len(subset)),
        num_points, shuffle=True, drop_last=True, seed=seed,
    )  # fmt: skip
    fixed = [
        Dataset(points, labels, batch_size, num_points, shuffle=False, resample=False)
        for points, labels in [(train.points[validation], train.labels[validation]), (test.points, test.labels)]
    ]  # fmt: skip
    return fit, *fixed


def schedule(num_labels, settings):
    """`(epochs, validation_freq)` of a fine-tuning on `num_labels` shapes:
    `epochs` epochs, fewer where they would pass `max_steps` optimizer
    steps, validated at most `validations` times, every `validation_freq`
    epochs."""
    steps = max(1, num_labels // settings["batch_size"])
    epochs = max(1, min(settings["epochs"], settings["max_steps"] // steps))
    return epochs, -(-epochs // settings["validations"])


def fine_tune(preset, start, train, test, split, fraction, seed, settings, folder=None,
              callbacks=(), verbose=2):  # fmt: skip
    """Fine-tunes one classifier; returns its record. With `folder`, a run
    killed part way resumes from there where it stopped, and keeps the best
    validated epoch of all its epochs; `folder` is removed once done."""
    fit, validation = split
    subset = fit[evaluation.stratified_subset(train.labels[fit], fraction, seed)]
    keras.utils.set_random_seed(seed)
    backbone = models.Backbone.from_preset(preset, load_weights=start == "preset")
    classifier = models.PointCloudClassifier(backbone, num_classes=len(train.class_names))
    # Adam(1e-3), sparse cross-entropy, accuracy
    classifier.compile(
        jit_compile=settings["jit_compile"], run_eagerly=settings.get("run_eagerly", False)
    )
    fit_data, validation_data, test_data = datasets_for(
        train, test, subset, validation, settings["batch_size"], settings["num_points"], seed
    )
    epochs, validation_freq = schedule(len(subset), settings)
    keep = utils.KeepBestEpoch(directory=folder and os.path.join(folder, "best"))
    # Every random draw of an epoch depends on (seed, epoch) only, so a
    # resumed run repeats the uninterrupted one.
    callbacks = [utils.EpochSeeds(seed, fit_data), *callbacks, keep]
    if folder:
        # double_checkpoint: a run killed while it writes resumes from the epoch before
        backup = os.path.join(folder, "backup")
        callbacks.append(keras.callbacks.BackupAndRestore(backup, double_checkpoint=True))
    start_time = time.time()
    classifier.fit(
        fit_data, validation_data=validation_data, epochs=epochs, shuffle=False,
        validation_freq=validation_freq, callbacks=callbacks, verbose=verbose,
    )  # fmt: skip
    test_accuracy = classifier.evaluate(test_data, return_dict=True, verbose=0)["accuracy"]
    if folder:
        shutil.rmtree(folder)
    return {
        "fraction": fraction, "start": start, "seed": seed, "num_labels": len(subset),
        "epochs": epochs, "validation_freq": validation_freq, "best_epoch": keep.best_epoch,
        "validation_accuracy": 100 * keep.best, "test_accuracy": 100 * test_accuracy,
        "minutes": (time.time() - start_time) / 60,  # a resumed run: since the resume
    }  # fmt: skip


def accuracy_text(row):
    """A `summarize` row's test accuracy: the mean +- std over its seeds,
    or its one seed's score (one seed has no spread)."""
    seeds = row["seeds"]
    if len(seeds) == 1:
        return f"{row['test_mean']:.2f} (one seed: {seeds[0]})"
    return f"{row['test_mean']:.2f} +- {row['test_std']:.2f} (seeds {seeds})"


def summarize(runs):
    """`{"<fraction>% <start>": {"test_mean", "test_std", "validation_mean",
    "num_labels", "seeds"}}`: one row per fraction and start, over its seeds."""
    table = {}
    for key in sorted({(r["fraction"], r["start"]) for r in runs}):
        chosen = [r for r in runs if (r["fraction"], r["start"]) == key]
        table[f"{100 * key[0]:g}% {key[1]}"] = {
            "test_mean": float(np.mean([r["test_accuracy"] for r in chosen])),
            "test_std": float(np.std([r["test_accuracy"] for r in chosen])),
            "validation_mean": float(np.mean([r["validation_accuracy"] for r in chosen])),
            "num_labels": chosen[0]["num_labels"],
            "seeds": [r["seed"] for r in chosen],
        }
    return table


def plot(summary, path):
    """Test accuracy against the fraction of labels, a line per start."""
    figure, axis = learning_curve.import_pyplot().subplots(figsize=(5.5, 4))
    for start in STARTS:
        rows = [(float(k.split("%")[0]), v) for k, v in summary.items() if k.endswith(start)]
        if rows:
            x, values = zip(*sorted(rows))
            axis.errorbar(x, [v["test_mean"] for v in values], [v["test_std"] for v in values],
                          marker="o", capsize=3, label=start)  # fmt: skip
    axis.set_xscale("log")
    axis.set_xlabel("labelled train shapes (%)")
    axis.set_ylabel("test accuracy (%)")
    axis.legend()
    learning_curve.save_figure(figure, path, "Label efficiency")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="folder with modelnet10_ply_hdf5_2048/ (default: synthetic shapes)")
    parser.add_argument("--preset", help="the pre-trained encoder (name or folder)")
    parser.add_argument("--fractions", type=float, nargs="+")
    parser.add_argument("--seeds", type=int, nargs="+")
    parser.add_argument("--epochs", type=int, help="at most this many epochs")
    parser.add_argument("--max-steps", type=int, help="at most this many optimizer steps")
    parser.add_argument("--validations", type=int, help="at most this many validations")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--num-points", type=int)
    parser.add_argument("--starts", nargs="+", choices=STARTS, default=list(STARTS),
                        help="run only these starts (random initialisation depends on the "
                        "preset's architecture only, so it can run before the preset is chosen)")
    parser.add_argument("--output", help="results JSON (default: docs/results/label_efficiency_<backbone>.json)")
    parser.add_argument("--plot", help="write the plot to this PNG")
    parser.add_argument("--runs-dir", default="runs",
                        help="where a fine-tuning in progress keeps its backup (removed once done)")
    parser.add_argument("--quick", action="store_true", help="a seconds-long check on synthetic shapes")
    args = parser.parse_args(argv)
    settings = dict(QUICK if args.quick else SETTINGS)
    for name in settings:
        if getattr(args, name, None) is not None:
            settings[name] = getattr(args, name)
    if not all(0 < f <= 1 for f in settings["fractions"]):
        parser.error("--fractions are fractions of the labels, in (0, 1]")
    if args.quick:
        train, test, data = workflows.load_classification_data(None, num_per_class=10, num_points=64)
    else:
        train, test, data = workflows.load_classification_data(args.data_dir)
    preset = args.preset
    preset_name = args.preset or "tiny random PointNet (--quick)"
    with tempfile.TemporaryDirectory() as stand_in:
        if preset is None:
            if not args.quick:
                parser.error("--preset is required (e.g. ttp_shapenet_pointnet)")
            preset = os.path.join(stand_in, "tiny_pointnet")
            models.PointNet(embedding_dim=16).save_to_preset(preset)
        backbone_name = type(models.Backbone.from_preset(preset, load_weights=False)).__name__.lower()
        output = args.output or f"docs/results/label_efficiency_{backbone_name}.json"
        runs_dir = os.path.join(args.runs_dir, f"label_efficiency_{backbone_name}")
        split = evaluation.validation_split(train.labels)
        stored = json.load(open(output)) if os.path.exists(output) else {}
        runs = list(stored.get("runs", []))  # `--fractions` and `--seeds` choose what runs, not what is kept
        done = {(r["fraction"], r["start"], r["seed"]) for r in runs}
        if stored:
            protocol = lambda s: {k: v for k, v in s.items() if k not in ("fractions", "seeds")}  # noqa: E731
            if protocol(stored["settings"]) != protocol(settings):
                parser.error(f"{output} holds fine-tunings made with other settings "
                             f"({stored['settings']}): give another --output")  # fmt: skip
            if stored["preset"] != preset_name and any(r["start"] == "preset" for r in runs):
                parser.error(f"{output} holds fine-tunings of {stored['preset']}, "
                             f"not {preset_name}: give another --output")  # fmt: skip
        for fraction in settings["fractions"]:
            seeds = settings["seeds"] if fraction < 1.0 else settings["seeds"][:1]
            for seed in seeds:
                for start in args.starts:
                    if (fraction, start, seed) in done:
                        continue
                    print(f"--- {100 * fraction:g}% of the labels, {start}, seed {seed}", flush=True)
                    folder = os.path.join(runs_dir, f"{100 * fraction:g}pct_{start}_seed{seed}")
                    runs.append(fine_tune(preset, start, train, test, split, fraction, seed,
                                          settings, folder))  # fmt: skip
                    record = {
                        "data": data, "preset": preset_name,
                        "settings": settings, "validation": {"num_fit": len(split[0]), "num_validation": len(split[1])},
                        "runs": runs, "summary": summarize(runs), **workflows.run_info(),
                    }  # fmt: skip
                    workflows.write_json(output, record)
    summary = summarize(runs)
    for key, row in summary.items():
        print(f"{key}: test {accuracy_text(row)}, {row['num_labels']} labels")
    if args.plot:
        plot(summary, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
