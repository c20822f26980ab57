"""Learning curves of the reproduction runs, chosen on validation: every
backbone snapshot of a run of `tools/reproduce.py`, scored on the fixed
validation split of ModelNet10 train; the test split scores the chosen one.

Validation (`keras_ttp.evaluation.validation_split`: 20 % of each class of
ModelNet10 train, seed 0, the same on every machine): the frozen global
features of the first 1024 points of each shape, a linear SVM fit on the
other 80 % and scored on the validation shapes, in two columns:

- `svm_c0.1`: `SVC(linear, C=0.1)`, the paper's protocol;
- `svm_fair`: features standardised on the fit part, C chosen by 5-fold
  cross-validation on it from `keras_ttp.evaluation.C_GRID` (1e-4 to 1e2;
  a choice on the grid's edge is flagged with `on_edge`);
- with `--robustness`, also the C = 0.1 SVM on the validation shapes
  rotated about the vertical axis, with half their points, and jittered
  (`keras_ttp.evaluation.corrupted_scores`).

Each run's results go to `<results-dir>/learning_curve_<run>.json`, one
entry per snapshot epoch (snapshots already there are not evaluated again,
so the curve grows as the run goes); the snapshot with the best validation
`--select` score (the earliest among ties) is `chosen_epoch`. `--plot`
draws validation accuracy and the three loss terms of `log.csv` against the
epochs, one column per run (needs matplotlib: `pip install keras-ttp[plots]`).

`--score-test` scores the test split once, for the chosen snapshot only (so
only after the run's last snapshot is in): the SVM fit on the whole train
split, both columns, and with `--robustness` the corrupted test clouds. It
is refused when the run's file already holds a test score (`--overwrite`
replaces it), and a later snapshot that changes the choice is warned about:
the test split never selects. With `--models`, it scores those models'
test split the same way, once each (`<results-dir>/test_<model>.json`):
random initialisation's seeds, the baseline of the fair column.

`--compare CURVE.json ... --plot PNG` draws stored learning curves (this
tool's JSON files) over each other, fair validation accuracy and rotated
accuracy against epochs, a line per run: the variants of one backbone side
by side (two curves of one run, a run made again, are told apart by their
files' folders). It reads no data and scores nothing.

`--dtype-policy float32` computes every preset's features in float32 (a
preset pre-trained under `mixed_bfloat16` keeps that policy otherwise).

`--models` scores presets (registered names or folders) and random
initialisation (`<backbone>_random_seed<s>`, as in `tools/results.py`) on
the same validation split through the same code, into
`<results-dir>/validation_<model>.json`.

    python tools/learning_curve.py --data-dir ../shared/data \\
        --runs ../runs/pointnet_ttp_seed0 ../runs/dgcnn_ttp_seed0 \\
        --plot docs/results/learning_curve.png
    python tools/learning_curve.py --data-dir ../shared/data --robustness \\
        --models ttp_shapenet_pointnet pointnet_random_seed0
    python tools/learning_curve.py --data-dir ../shared/data --robustness \\
        --runs ../runs/pointnet_ttp_seed0 --score-test \\
        --models pointnet_random_seed0 pointnet_random_seed1 pointnet_random_seed2
    python tools/learning_curve.py --plot docs/results/probes/variants.png \\
        --compare docs/results/learning_curve_pointnet_ttp_seed0.json \\
        docs/results/probes/learning_curve_pointnet_*_seed0.json
"""

import argparse
import csv
import json
import os
import sys

import numpy as np

from keras_ttp import evaluation
from keras_ttp import models
from keras_ttp import workflows

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import results  # noqa: E402  (tools/results.py)

METRICS = ("svm_c0.1", "svm_fair")
LOSSES = ("cross_branch_loss", "intra_branch_1_loss", "intra_branch_2_loss")


def load_data(data_dir):
    """`(train, test, description)` of `workflows.load_classification_data`, the
    clouds cut to their first `results.EVAL_POINTS` points, and the
    validation split `(fit, validation)` of train."""
    train, test, description = workflows.load_classification_data(data_dir)
    for data in (train, test):
        data.points = data.points[:, : results.EVAL_POINTS]
    return train, test, description, evaluation.validation_split(train.labels)


# Constructor arguments for every preset loaded (`--dtype-policy`).
PRESET_ARGUMENTS = {}


def load_preset(preset):
    return models.Backbone.from_preset(preset, **PRESET_ARGUMENTS)


def load_model(name, runs_dir=None):
    """A random-init baseline `<backbone>_random_seed<s>`, or a preset."""
    if "_random_seed" in name:
        return results.load_backbone(name, runs_dir)
    return load_preset(name)


def svm_scores(backbone, train, test, robustness=False, batch_size=64):
    """Both SVM columns (and with `robustness` the C = 0.1 SVM's corrupted
    scores) of `backbone`, fit on `train` and scored on `test`: pairs
    `(features, labels)`, with the clouds of `test` as a third item when
    `robustness`; the corrupted clouds are embedded `batch_size` at a time."""
    (train_features, train_labels), (test_features, test_labels) = train, test[:2]
    svm = evaluation.fit_linear_svm(train_features, train_labels, C=0.1)
    scores = {
        "svm_c0.1": evaluation.fitted_svm_accuracy(svm, test_features, test_labels),
        "svm_fair": evaluation.fair_svm_accuracy(train_features, train_labels, test_features, test_labels),
    }
    if robustness:
        points = test[2]
        scores["robustness_c0.1"] = evaluation.corrupted_scores(
            backbone, svm, points, test_labels, num_points=points.shape[1] // 2,
            batch_size=batch_size,
        )
    return scores


def validation_scores(backbone, train, split, robustness=False, batch_size=64):
    """`svm_scores` fit on the fit part of `train`, scored on validation."""
    fit, validation = split
    features = evaluation.extract_embeddings(backbone, train.points, batch_size, verbose=0)
    return svm_scores(
        backbone, (features[fit], train.labels[fit]),
        (features[validation], train.labels[validation], train.points[validation]),
        robustness, batch_size,
    )  # fmt: skip


def snapshot_folders(run_dir):
    """`{epoch: folder}` of the run's finished snapshots, by epoch."""
    folder = os.path.join(run_dir, "snapshots")
    names = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
    return {
        int(n.removeprefix("epoch_")): os.path.join(folder, n)
        for n in names if n.startswith("epoch_") and n.removeprefix("epoch_").isdigit()
    }  # fmt: skip


def choose(snapshots, metric):
    """The epoch with the best validation `metric` (earliest among ties)."""
    if not snapshots:
        return None
    accuracy = {int(e): accuracy_of(s[metric]) for e, s in snapshots.items()}
    return max(sorted(accuracy), key=lambda epoch: accuracy[epoch])


def accuracy_of(result):
    return result["accuracy"] if isinstance(result, dict) else result


def read_json(path, default):
    if not os.path.exists(path):
        return default
    with open(path, encoding="utf-8") as file:
        return json.load(file)


def learning_curve(run_dir, data, results_dir, select="svm_fair", robustness=False, batch_size=64):
    """Scores every snapshot of `run_dir` not yet in its results file on
    validation, chooses one, writes the file; returns its contents."""
    train, _, description, split = data
    name = os.path.basename(os.path.normpath(run_dir))
    path = os.path.join(results_dir, f"learning_curve_{name}.json")
    curve = read_json(path, {"run": name, "snapshots": {}})
    for epoch, folder in snapshot_folders(run_dir).items():
        stored = curve["snapshots"].get(str(epoch), {})
        if all(k in stored for k in METRICS) and (not robustness or "robustness_c0.1" in stored):
            continue
        print(f"{name}: validation scores of the epoch {epoch} snapshot", flush=True)
        backbone = load_preset(folder)
        curve["snapshots"][str(epoch)] = validation_scores(backbone, train, split, robustness, batch_size)
        write_curve(path, curve, select, description, split)
    curve = write_curve(path, curve, select, description, split)
    print(f"{name}: chosen on validation ({select}): epoch {curve['chosen_epoch']}")
    return curve


def write_curve(path, curve, select, description, split):
    curve["snapshots"] = dict(sorted(curve["snapshots"].items(), key=lambda kv: int(kv[0])))
    curve.update({
        "data": description,
        "validation": validation_record(split),
        "select": select,
        "chosen_epoch": choose(curve["snapshots"], select),
        **workflows.run_info(),
    })  # fmt: skip
    tested = curve.get("test", {}).get("epoch")
    if tested is not None and tested != curve["chosen_epoch"]:
        print(f"Warning: {path} holds the test score of epoch {tested}, but validation now "
              f"chooses epoch {curve['chosen_epoch']}: score the test split after the last snapshot")  # fmt: skip
    workflows.write_json(path, curve)
    return curve


def validation_record(split):
    fit, validation = split
    return {
        "function": "keras_ttp.evaluation.validation_split",
        "fraction": evaluation.splits.VALIDATION_FRACTION,
        "seed": evaluation.splits.VALIDATION_SEED,
        "num_fit": len(fit), "num_validation": len(validation),
        "points": results.EVAL_POINTS,
    }  # fmt: skip


def score_test(run_dir, data, results_dir, robustness=False, overwrite=False, batch_size=64):
    """Scores the test split once, for the run's chosen snapshot."""
    train, test, _, _ = data
    name = os.path.basename(os.path.normpath(run_dir))
    path = os.path.join(results_dir, f"learning_curve_{name}.json")
    curve = read_json(path, {})
    if curve.get("chosen_epoch") is None:
        raise ValueError(f"{path}: no snapshot chosen on validation yet; run without --score-test first")
    if "test" in curve and not overwrite:
        raise FileExistsError(
            f"{path} already holds the test score of epoch {curve['test']['epoch']}: the "
            "test split is scored once (--overwrite replaces it)"
        )
    epoch = curve["chosen_epoch"]
    backbone = load_preset(snapshot_folders(run_dir)[epoch])
    print(f"{name}: scoring the test split once, epoch {epoch} (chosen by {curve['select']})")
    curve["test"] = {"epoch": epoch, **scores_on_test(backbone, data, robustness, batch_size)}
    workflows.write_json(path, curve)
    return curve


def scores_on_test(backbone, data, robustness=False, batch_size=64):
    """`svm_scores` fit on the whole train split, scored on test."""
    train, test = data[:2]
    features = [evaluation.extract_embeddings(backbone, d.points, batch_size, verbose=0) for d in (train, test)]
    scores = svm_scores(
        backbone, (features[0], train.labels), (features[1], test.labels, test.points),
        robustness, batch_size,
    )  # fmt: skip
    return {"fit_on": "the whole train split", **scores}


def model_test_scores(name, data, results_dir, runs_dir=None, robustness=False, overwrite=False,
                      batch_size=64):  # fmt: skip
    """Test scores of a preset or random-init model, the baselines of a
    run's test score (nothing is chosen from them), written once to
    `<results-dir>/test_<name>.json`."""
    path = os.path.join(results_dir, f"test_{os.path.basename(os.path.normpath(name))}.json")
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{path} already holds {name}'s test score: the test split is "
                              "scored once (--overwrite replaces it)")  # fmt: skip
    print(f"{name}: scoring the test split once", flush=True)
    scores = scores_on_test(load_model(name, runs_dir), data, robustness, batch_size)
    stored = {"model": name, "data": data[2], **scores, **workflows.run_info()}
    workflows.write_json(path, stored)
    return stored


def model_scores(name, data, results_dir, runs_dir=None, robustness=False, batch_size=64):
    """Validation scores of a preset or random-init model, cached in
    `<results-dir>/validation_<name>.json`."""
    train, _, description, split = data
    stem = os.path.basename(os.path.normpath(name))
    path = os.path.join(results_dir, f"validation_{stem}.json")
    stored = read_json(path, {})
    if all(k in stored for k in METRICS) and (not robustness or "robustness_c0.1" in stored):
        return stored
    print(f"{name}: validation scores", flush=True)
    scores = validation_scores(load_model(name, runs_dir), train, split, robustness, batch_size)
    stored = {
        "model": name, "data": description, "validation": validation_record(split),
        **scores, **workflows.run_info(),
    }  # fmt: skip
    workflows.write_json(path, stored)
    return stored


def read_log(run_dir):
    """`{column: array}` of the run's `log.csv`, epochs counted from 1."""
    path = os.path.join(run_dir, "log.csv")
    if not os.path.exists(path):
        return {}
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    columns = {"epoch": np.array([int(r["epoch"]) + 1 for r in rows])}
    for key in ("loss", *LOSSES):
        if rows and key in rows[0]:
            columns[key] = np.array([float(r[key]) for r in rows])
    return columns


def random_init_scores(results_dir, backbone):
    """The fair validation accuracies of the stored random-init models of
    `backbone` (`validation_<backbone>_random_seed<s>.json`)."""
    names = sorted(os.listdir(results_dir)) if os.path.isdir(results_dir) else []
    prefix = f"validation_{backbone}_random_seed"
    return [
        read_json(os.path.join(results_dir, n), {})["svm_fair"]["accuracy"]
        for n in names if n.startswith(prefix) and n.endswith(".json")
    ]  # fmt: skip


def rotated_scores(curve):
    """`[(epoch, rotated accuracy)]` of the snapshots scored with
    `--robustness`, in epoch order."""
    epochs = sorted(int(e) for e in curve["snapshots"])
    return [(e, curve["snapshots"][str(e)]["robustness_c0.1"]["rotated"])
            for e in epochs if "robustness_c0.1" in curve["snapshots"][str(e)]]  # fmt: skip


def plot(curves, run_dirs, path, results_dir="docs/results"):
    """Validation accuracy and loss terms against epochs, a column a run,
    with the mean fair accuracy of random initialisation when stored."""
    figure, axes = import_pyplot().subplots(
        2, len(curves), figsize=(5.5 * len(curves), 7), squeeze=False, sharex="col"
    )
    for column, (curve, run_dir) in enumerate(zip(curves, run_dirs)):
        top, bottom = axes[0, column], axes[1, column]
        epochs = sorted(int(e) for e in curve["snapshots"])
        for metric, label in (("svm_c0.1", "SVM, C = 0.1"), ("svm_fair", "SVM, standardised, C by 5-fold CV")):
            values = [accuracy_of(curve["snapshots"][str(e)][metric]) for e in epochs]
            top.plot(epochs, values, marker="o", label=label)
        rotated = rotated_scores(curve)
        if rotated:
            top.plot(*zip(*rotated), marker="s", linestyle="--", label="SVM, C = 0.1, rotated")
        random = random_init_scores(results_dir, curve["run"].split("_")[0])
        if random:
            top.axhline(np.mean(random), color="black", linestyle="--", linewidth=1,
                        label=f"random init, standardised (mean of {len(random)})")  # fmt: skip
        if curve.get("chosen_epoch") is not None:
            top.axvline(curve["chosen_epoch"], color="grey", linestyle=":", label="chosen")
        top.set_title(f"{curve['run']}: validation (ModelNet10 train, 20 %)")
        top.set_ylabel("accuracy (%)")
        top.legend(fontsize=8)
        log = read_log(run_dir)
        for key in LOSSES:
            if key in log:
                bottom.plot(log["epoch"], log[key], label=key.removesuffix("_loss"))
        bottom.set_xlabel("pre-training epoch")
        bottom.set_ylabel("loss")
        bottom.legend(fontsize=8)
    save_figure(figure, path, "Learning curve")


def curve_labels(curves, paths):
    """A legend label per stored curve: its run's name, followed by its
    file's folder where two curves are of one run (a run made again)."""
    runs = [curve["run"] for curve in curves]
    return [
        run if runs.count(run) == 1 else f"{run} ({os.path.basename(os.path.dirname(os.path.abspath(p)))})"
        for run, p in zip(runs, paths)
    ]


def plot_comparison(curves, labels, path, results_dir="docs/results"):
    """The fair validation accuracy and the rotated accuracy of several
    runs' snapshots against epochs, a line per run (`curve_labels`), with
    the mean fair accuracy of random initialisation when stored."""
    figure, (fair, rotated) = import_pyplot().subplots(1, 2, figsize=(11, 4.5))
    random = random_init_scores(results_dir, curves[0]["run"].split("_")[0])
    if random:
        fair.axhline(np.mean(random), color="black", linestyle="--", linewidth=1,
                     label=f"random init (mean of {len(random)})")  # fmt: skip
    ticks = sorted({int(e) for curve in curves for e in curve["snapshots"]})
    for curve, label in zip(curves, labels):
        epochs = sorted(int(e) for e in curve["snapshots"])
        snapshots = [curve["snapshots"][str(e)] for e in epochs]
        line = fair.plot(epochs, [accuracy_of(s["svm_fair"]) for s in snapshots], marker="o",
                         label=label)  # fmt: skip
        turned = rotated_scores(curve)
        if turned:
            rotated.plot(*zip(*turned), marker="s", color=line[0].get_color(), label=label)
    for axis, title in ((fair, "standardised, C by 5-fold CV"), (rotated, "C = 0.1, rotated about the vertical")):
        axis.set_title(f"validation SVM accuracy: {title}", fontsize=10)
        axis.set_xlabel("pre-training epoch")
        axis.set_ylabel("accuracy (%)")
        axis.set_xscale("log", base=2)
        axis.set_xticks(ticks, [str(t) for t in ticks])
        axis.legend(fontsize=8)
    save_figure(figure, path, "Comparison")


def import_pyplot():
    """matplotlib's `pyplot`, drawing to files only (the Agg backend), or
    an `ImportError` that says how to install it."""
    try:
        import matplotlib
    except ImportError as error:
        raise ImportError("plots need matplotlib: pip install keras-ttp[plots]") from error
    matplotlib.use("Agg")
    from matplotlib import pyplot

    return pyplot


def save_figure(figure, path, what):
    """Writes `figure` to the PNG `path` and closes it."""
    figure.tight_layout()
    figure.savefig(workflows.make_parent(path), dpi=100)
    import_pyplot().close(figure)
    print(f"{what} plotted in {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="folder with modelnet10_ply_hdf5_2048/")
    parser.add_argument("--runs", nargs="+", default=[], help="run folders of tools/reproduce.py")
    parser.add_argument("--models", nargs="+", default=[], help="presets or <backbone>_random_seed<s>")
    parser.add_argument("--results-dir", default="docs/results")
    parser.add_argument("--select", choices=METRICS, default="svm_fair", help="default: %(default)s")
    parser.add_argument("--robustness", action="store_true", help="also rotated, sparser, jittered clouds")
    parser.add_argument(
        "--batch-size", type=int, default=64,
        help="clouds embedded at a time; DGCNN's memory grows with it (default: %(default)s)",
    )
    parser.add_argument("--plot", help="write the learning curves of --runs to this PNG")
    parser.add_argument("--score-test", action="store_true", help="score the test split once: the runs' chosen snapshots, the --models")
    parser.add_argument("--overwrite", action="store_true", help="replace a stored test score")
    parser.add_argument(
        "--dtype-policy", help="features in this Keras dtype policy (default: each preset's own)"
    )
    parser.add_argument("--compare", nargs="+", help="stored learning curves (JSON) to plot together")
    args = parser.parse_args(argv)
    if args.compare:
        if not args.plot:
            parser.error("--compare draws a plot: give --plot")
        curves = [json.load(open(path)) for path in args.compare]
        plot_comparison(curves, curve_labels(curves, args.compare), args.plot, args.results_dir)
        return 0
    if args.dtype_policy:
        PRESET_ARGUMENTS["dtype"] = args.dtype_policy
    if not (args.runs or args.models):
        parser.error("give --runs and/or --models")
    data = load_data(args.data_dir)
    print(f"Evaluating on {data[2]}; validation: {validation_record(data[3])}")
    if args.score_test:
        for run_dir in args.runs:
            score_test(run_dir, data, args.results_dir, args.robustness, args.overwrite, args.batch_size)
        for name in args.models:
            model_test_scores(name, data, args.results_dir, robustness=args.robustness,
                              overwrite=args.overwrite, batch_size=args.batch_size)  # fmt: skip
        return 0
    curves = [
        learning_curve(
            run_dir, data, args.results_dir, args.select, args.robustness, args.batch_size
        )
        for run_dir in args.runs
    ]  # fmt: skip
    for name in args.models:
        model_scores(name, data, args.results_dir, robustness=args.robustness, batch_size=args.batch_size)
    if args.plot and curves:
        plot(curves, args.runs, args.plot, args.results_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
