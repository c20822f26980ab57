"""Evaluates the reproduction runs of `tools/reproduce.py` on ModelNet10 and
prints the tables of RESULTS.md.

For every finished run (its `preset/`), and for randomly initialised
backbones (`<backbone>_random_seed<s>`: the same architecture, Keras seeded
with `s`), with the fixed protocols of docs/design.md, section 3, and no model
selection on the test split:

- `svm`: linear SVM (C = 0.1) on the frozen global features of the first
  1024 of each shape's 2048 points, fit on the train split, scored on the
  test split (Table 3);
- `svm-validated-c`: the same with C chosen from `C_CANDIDATES` on a
  validation split (20 %, stratified) of the train split, a diagnostic of
  how much the fixed C = 0.1 favours features of one scale;
- `few-shot`: 5/10-way, 10/20-shot, 20 queries per class, the same 30
  seeded episodes for every model, support and queries drawn disjointly
  from the test split (Table 4);
- `utilization`: distinct points behind the max-pooled and the recycled
  features of each test shape, `r` drawn per shape (Table 1).

Each result is stored as `<results-dir>/<model>_<protocol>.json` (by
default `<runs-dir>/results/`) and reused by later calls, so the tables grow
as runs finish. The results behind RESULTS.md are kept in the repository,
in `docs/results/`; `--tables --results-dir docs/results` prints their
tables. A run shipped as a package preset (`ttp_shapenet_<backbone>`) is
evaluated from the package when its run folder is gone.

A model `<run>@<epoch>` is the run's snapshot of that epoch
(`<runs-dir>/<run>/snapshots/epoch_XXXX`).

`--ship <run>` copies an evaluated run into the package as its backbone's
registered `ttp_shapenet_<backbone>` preset, with the run's settings and its
ModelNet10 results in `metadata.json` and the model card
(`tests/presets/test_shipped_presets.py` checks the recorded accuracy). When
`tools/learning_curve.py` has chosen a snapshot on validation and scored it
on the test split (`<curves-dir>/learning_curve_<run>.json`, with
`--score-test`), that snapshot ships, with its validation and test scores
(both SVM columns, robustness) and, with `--label-efficiency`, the
label-efficiency table of `tools/label_efficiency.py`; otherwise the run's
final preset.

    python tools/results.py --data-dir ../shared/data --runs-dir ../runs
    python tools/results.py --data-dir ../shared/data --runs-dir ../runs \
        --models pointnet_ttp_seed0 pointnet_random_seed0 --protocols svm
    python tools/results.py --data-dir ../shared/data --runs-dir ../runs \
        --models pointnet_ttp_seed0 --ship pointnet_ttp_seed0
    python tools/results.py --data-dir ../shared/data --runs-dir ../runs \
        --ship pointnet_ttp_seed0 --label-efficiency \
        docs/results/label_efficiency_pointnet.json
    python tools/results.py --tables --results-dir docs/results
"""

import argparse
import json
import os
import sys

import keras
import numpy as np

from keras_ttp import workflows
from keras_ttp import evaluation
from keras_ttp import models
from keras_ttp.presets import registry

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import label_efficiency as label_efficiency_tool  # noqa: E402  (tools/label_efficiency.py)
import reproduce  # noqa: E402  (tools/reproduce.py)

PROTOCOLS = ("svm", "svm-validated-c", "few-shot", "utilization")
C_CANDIDATES = (0.001, 0.01, 0.1, 1.0, 10.0, 100.0)
EVAL_POINTS = 1024
RANDOM_SEEDS = (0, 1, 2)
SHAPENET_260 = (
    "ShapeNet-260: the 260 ShapeNet shapes (13 synsets x 20, 2048 points each) "
    "that the ToThePoint authors pre-train on, turned from their z-up frame to "
    "y up (rotation augmentation about the vertical axis)"
)
MODELNET10 = "ModelNet10 (4,827 of 4,899 shapes: 3,928 train / 899 test), 1024 points"
FEW_SHOT = {"ways": (5, 10), "shots": (10, 20), "queries": 20, "episodes": 30}


def baselines():
    return [f"{b}_random_seed{s}" for b in reproduce.SETTINGS for s in RANDOM_SEEDS]


def all_models(runs_dir):
    """Random-init baselines, then every finished run (or the snapshot of it
    that the package ships, once its run folder is gone), in `RUNS` order."""
    finished = []
    for run in reproduce.RUNS:
        model = run if os.path.isdir(own_folder(run, runs_dir)) else shipped_preset(run)[1]
        if model is not None:
            finished.append(model)
    return baselines() + finished


def parse_model(name):
    """`"pointnet_ttp_seed0@100"` -> `("pointnet_ttp_seed0", 100)`; a name
    without `@` -> `(name, None)` (the run's final preset)."""
    run, _, epoch = name.partition("@")
    return run, int(epoch) if epoch else None


def model_protocols(name, protocols):
    """The `protocols` that model `name` is evaluated with: few-shot and
    utilisation only for the first seed of ToThePoint (any of its
    snapshots) and of random init, the SVM columns for every model."""
    run, _ = parse_model(name)
    first = run.endswith("seed0") and ("_ttp_" in run or "_random_" in run)
    return [p for p in protocols if p.startswith("svm") or first]


def shipped_preset(run):
    """`(folder, model)`: the package's `ttp_shapenet_<backbone>` preset and
    the model it was shipped from (`run`, or `<run>@<epoch>` for a
    snapshot), when that is `run` (same variant and seed); else
    `(None, None)`."""
    backbone_name, variant, seed = reproduce.parse_run(run)
    folder = registry.package_folder(f"ttp_shapenet_{backbone_name}")
    if not (folder / "metadata.json").exists():
        return None, None
    pretraining = json.loads((folder / "metadata.json").read_text()).get("pretraining", {})
    if (pretraining.get("variant"), pretraining.get("seed")) != (variant, seed):
        return None, None
    epoch = pretraining.get("epoch")
    return str(folder), run if epoch is None else f"{run}@{epoch}"


def run_preset(name, runs_dir):
    """The preset folder of model `name` (a finished run, or `<run>@<epoch>`
    for one of its snapshots): its own, or else the package's
    `ttp_shapenet_<backbone>` when that was shipped from it (same variant,
    seed and snapshot epoch); `None` when neither exists."""
    folder = own_folder(name, runs_dir)
    if os.path.isdir(folder):
        return folder
    shipped, model = shipped_preset(parse_model(name)[0])
    return shipped if model == name else None


def own_folder(name, runs_dir):
    """Where model `name`'s own preset is (or would be) in `runs_dir`: the
    run's `preset/`, or its `snapshots/epoch_XXXX/` for `<run>@<epoch>`."""
    run, epoch = parse_model(name)
    if epoch is None:
        return os.path.join(runs_dir, run, "preset")
    return os.path.join(runs_dir, run, "snapshots", f"epoch_{epoch:04d}")


def check_fine_tuned(record, name, runs_dir):
    """Raises a `ValueError` unless the label-efficiency `record` fine-tuned
    model `name`: its own folder, or the package preset shipped from it (by
    folder or registered name)."""
    preset = record["preset"]
    if preset in registry.PRESETS:
        preset = str(registry.package_folder(preset))
    own, (shipped, model) = own_folder(name, runs_dir), shipped_preset(parse_model(name)[0])
    accepted = {own if os.path.isdir(own) else None, shipped if model == name else None} - {None}
    if os.path.realpath(preset) not in {os.path.realpath(p) for p in accepted}:
        raise ValueError(f"the label-efficiency results fine-tuned {record['preset']}, not {name}")


def load_backbone(name, runs_dir):
    backbone_name, variant, seed = name.split("_")
    if variant == "random":
        keras.utils.set_random_seed(int(seed.removeprefix("seed")))
        return workflows.BACKBONES[backbone_name]()
    return models.Backbone.from_preset(run_preset(name, runs_dir))


def evaluate(name, protocols, data, runs_dir, results_dir):
    """Runs the `protocols` not yet stored for model `name`; returns all
    its stored results `{protocol: result}`."""
    train, test = data
    paths = {p: os.path.join(results_dir, f"{name}_{p}.json") for p in protocols}
    missing = [p for p in protocols if not os.path.exists(paths[p])]
    if missing:
        print(f"{name}: evaluating {', '.join(missing)}", flush=True)
        backbone = load_backbone(name, runs_dir)
        n = EVAL_POINTS
        if missing != ["utilization"]:  # utilisation runs the backbone itself
            features = evaluation.extract_embeddings(
                backbone, np.concatenate([train.points[:, :n], test.points[:, :n]]),
                verbose=0,
            )  # fmt: skip
            train_features, test_features = features[: len(train)], features[len(train) :]
        for protocol in missing:
            if protocol == "svm":
                result = {"accuracy": evaluation.linear_svm_accuracy(
                    train_features, train.labels, test_features, test.labels, C=0.1
                )}  # fmt: skip
            elif protocol == "svm-validated-c":
                chosen = evaluation.select_svm_c(train_features, train.labels, C_CANDIDATES)
                result = {"accuracy": evaluation.linear_svm_accuracy(
                    train_features, train.labels, test_features, test.labels, C=chosen["C"]
                ), **chosen}  # fmt: skip
            elif protocol == "few-shot":
                result = workflows.few_shot_table(
                    test_features, test.labels, FEW_SHOT["ways"], FEW_SHOT["shots"],
                    FEW_SHOT["queries"], FEW_SHOT["episodes"], seed=0, C=0.1,
                )  # fmt: skip
            else:
                stats = evaluation.point_utilization(
                    backbone, test.points[:, :n], seed=0, verbose=0
                )
                result = {"mean": stats["mean"], "std": stats["std"]}
            workflows.write_json(paths[protocol], {"model": name, **workflows.run_info(), **result})
    return {p: json.load(open(paths[p])) for p in protocols}


def stored_results(results_dir):
    """`{model: {protocol: result}}` of every result stored in
    `results_dir`, baselines first, then runs in `RUNS` order."""
    results = {}
    for name in baselines() + reproduce.RUNS:
        for protocol in PROTOCOLS:
            path = os.path.join(results_dir, f"{name}_{protocol}.json")
            if os.path.exists(path):
                results.setdefault(name, {})[protocol] = json.load(open(path))
    return results


def mean_std(values):
    if not values:
        return "not run yet"
    text = f"{np.mean(values):.2f}"
    if len(values) > 1:
        text += f" +- {np.std(values):.2f}"
    return text + f" (n={len(values)})"


def svm_table(results):
    """`{(backbone, variant): (cell at C = 0.1, cell with C chosen on
    validation)}`, each cell the `mean_std` of the accuracies of the
    variant's seeds in `results` (`{model: {protocol: result}}`)."""
    return {
        (backbone, variant): tuple(
            mean_std([
                r[protocol]["accuracy"] for m, r in results.items()
                if m.startswith(f"{backbone}_{variant}_") and protocol in r
            ])  # fmt: skip
            for protocol in ("svm", "svm-validated-c")
        )
        for backbone in reproduce.SETTINGS
        for variant in ("random", *reproduce.VARIANTS)
    }


def print_tables(results):
    """Markdown tables of the results found (`{model: {protocol: result}}`)."""
    print("\n## Linear SVM, ModelNet10 test accuracy (%)\n")
    print("| backbone | model | C = 0.1 (the protocol) | C chosen on validation |")
    print("|---|---|---|---|")
    for (backbone, variant), cells in svm_table(results).items():
        print(f"| {backbone} | {variant} | " + " | ".join(cells) + " |")
    few_shot = {m: r["few-shot"] for m, r in results.items() if "few-shot" in r}
    if few_shot:
        print("\n## Few-shot, ModelNet10 test split (%)\n")
        settings = [k for k in next(iter(few_shot.values())) if "way" in k]
        print("| model | " + " | ".join(settings) + " |")
        print("|---|" + "---|" * len(settings))
        for model, table in few_shot.items():
            cells = [f"{table[s]['mean']:.1f} +- {table[s]['std']:.1f}" for s in settings]
            print(f"| {model} | " + " | ".join(cells) + " |")
    usage = {m: r["utilization"] for m, r in results.items() if "utilization" in r}
    if usage:
        print("\n## Point utilisation, ModelNet10 test split, 1024 points\n")
        print("| model | max | recycled | either |")
        print("|---|---|---|---|")
        for model, stats in usage.items():
            cells = [
                f"{stats['mean'][k]:.1f} +- {stats['std'][k]:.1f}"
                for k in ("max", "recycled", "either")
            ]  # fmt: skip
            print(f"| {model} | " + " | ".join(cells) + " |")


def chosen_snapshot(run, curves_dir):
    """`(epoch, curve)` of the snapshot of `run` that validation chose and
    the test split scored once (`tools/learning_curve.py`), or `(None,
    None)` when the run has no learning curve."""
    path = os.path.join(curves_dir, f"learning_curve_{run}.json")
    if not os.path.exists(path):
        return None, None
    curve = json.load(open(path))
    if "test" not in curve:
        raise ValueError(
            f"{path}: epoch {curve.get('chosen_epoch')} is chosen on validation but the "
            "test split has not scored it: run tools/learning_curve.py --score-test first"
        )
    return curve["test"]["epoch"], curve


def curve_record(curve):
    """The selection and the scores of the chosen snapshot, for the
    preset's `metadata.json`."""
    epoch, test = curve["test"]["epoch"], curve["test"]
    validation = curve["snapshots"][str(epoch)]
    return {
        "chosen_epoch": epoch,
        "selection": f"the snapshot with the best {curve['select']} on the validation "
        f"split ({curve['validation']}), among epochs {', '.join(curve['snapshots'])}"
        + (f"; {curve['note']}" if curve.get("note") else ""),  # a note written into the curve
        "validation": {"svm_c0.1": validation["svm_c0.1"], "svm_fair": validation["svm_fair"]["accuracy"]},
        "linear_svm_fair": {"accuracy": test["svm_fair"]["accuracy"], "C": test["svm_fair"]["C"],
                            "protocol": "features standardised on train, C by 5-fold CV on train"},
        **({"robustness_c0.1": test["robustness_c0.1"]} if "robustness_c0.1" in test else {}),
    }  # fmt: skip


def card_metrics(evaluation_record, label_efficiency=None):
    """The model card's metrics: `{name: text}`."""
    svm = evaluation_record["linear_svm_accuracy"]
    metrics = {"ModelNet10 linear-SVM test accuracy (%), C=0.1, 1024 points": f"{svm:.2f}"}
    fair = evaluation_record.get("linear_svm_fair")
    if fair:
        metrics["ModelNet10 linear-SVM test accuracy (%), standardised, C by 5-fold CV"] = (
            f"{fair['accuracy']:.2f} (C = {fair['C']:g})"
        )
        metrics["Snapshot"] = (
            f"epoch {evaluation_record['chosen_epoch']}, chosen on validation: "
            f"{evaluation_record['selection']}"
        )
    for name, value in evaluation_record.get("robustness_c0.1", {}).items():
        metrics[f"ModelNet10 test, {name} (%), SVM fit on aligned train, C=0.1"] = f"{value:.2f}"
    for setting, value in evaluation_record["few_shot"].items():
        metrics[f"ModelNet10 few-shot {setting} (%)"] = (
            f"{value['mean']:.1f} +- {value['std']:.1f} (30 episodes, test split)"
        )
    for row, value in (label_efficiency or {}).items():
        metrics[f"ModelNet10 fine-tuning with {row.replace(' ', ' of the labels, from ', 1)} (%)"] = (
            label_efficiency_tool.accuracy_text(value)
        )
    metrics["Evaluation data"] = evaluation_record["data"]
    return metrics


def ship(name, results, runs_dir, data_description, overwrite=False, curve=None,
         label_efficiency=None):  # fmt: skip
    """Writes model `name` (a run, or `<run>@<epoch>`) as the package's
    `ttp_shapenet_<backbone>` preset, its pre-training settings and
    `results` recorded with it; `curve` (a `tools/learning_curve.py` record
    whose test split scored this snapshot) adds the selection and both SVM
    columns, `label_efficiency` (a `tools/label_efficiency.py` summary) the
    fine-tuning table."""
    run, epoch = parse_model(name)
    backbone_name, variant, _ = reproduce.parse_run(run)
    if curve is not None and curve["test"]["epoch"] != epoch:
        raise ValueError(
            f"{name} is not the snapshot that validation chose (epoch {curve['test']['epoch']})"
        )
    preset_name = f"ttp_shapenet_{backbone_name}"
    target = registry.package_folder(preset_name)
    source = run_preset(name, runs_dir)
    if source is None:
        raise FileNotFoundError(f"{name}: no preset or snapshot of it in {runs_dir}")
    backbone = models.Backbone.from_preset(source)
    pretraining = json.load(open(os.path.join(source, "metadata.json")))["pretraining"]
    pretraining["data"] = SHAPENET_260
    few_shot = {
        k: {"mean": v["mean"], "std": v["std"]}
        for k, v in results.get("few-shot", {}).items() if "way" in k and "mean" in v
    }  # fmt: skip
    command = f"python tools/reproduce.py --data-dir DATA --only {run} && "
    if curve is not None:
        command += (
            f"python tools/learning_curve.py --data-dir DATA --runs RUNS/{run} --robustness && "
            f"python tools/learning_curve.py --data-dir DATA --runs RUNS/{run} --robustness --score-test && "
        )  # fmt: skip
    command += f"python tools/results.py --data-dir DATA --models {name}"
    evaluation_record = {
        "data": data_description, "protocol": "linear SVM, C=0.1, 1024 points, "
        "fit on the train split, scored on the test split",
        "linear_svm_accuracy": results["svm"]["accuracy"],
        **(curve_record(curve) if curve is not None else {}),
        "few_shot": few_shot,
        **({"label_efficiency": label_efficiency} if label_efficiency else {}),
        "command": command,
    }  # fmt: skip
    trained = f"for {pretraining['epochs']} epochs (the paper: 800)"
    if epoch is not None:
        trained = f"for {epoch} epochs of the paper's {pretraining['epochs']}-epoch schedule"
    backbone.save_to_preset(
        target,
        metadata={"pretraining": pretraining, "evaluation": evaluation_record},
        model_card={
            "title": f"keras-ttp {preset_name}",
            "description": (
                f"{registry.PRESETS[preset_name]['description']} Pre-trained by "
                f"keras-ttp itself on only 260 shapes, {trained}, on a 2-core "
                "CPU; see RESULTS.md."
            ),
            "data": pretraining["data"],
            "settings": pretraining,
            "metrics": card_metrics(evaluation_record, label_efficiency),
            "handle": preset_name,
        },
        overwrite=overwrite,
    )
    print(f"{name} shipped as {preset_name} in {target}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="folder with modelnet10_ply_hdf5_2048/")
    parser.add_argument("--runs-dir", default="runs", help="the runs of tools/reproduce.py")
    parser.add_argument("--results-dir", help="where results are stored (default: <runs-dir>/results)")
    parser.add_argument("--models", nargs="+", help="default: every baseline and finished run")
    parser.add_argument("--protocols", nargs="+", choices=PROTOCOLS, default=PROTOCOLS)
    parser.add_argument(
        "--tables", action="store_true", help="only print the tables of the stored results"
    )
    parser.add_argument("--ship", help="a run to write into the package as its preset")
    parser.add_argument(
        "--curves-dir", default="docs/results",
        help="where tools/learning_curve.py stored the run's learning curve (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--label-efficiency", help="tools/label_efficiency.py's JSON for the shipped snapshot"
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace a preset the package ships"
    )
    args = parser.parse_args(argv)
    results_dir = args.results_dir or os.path.join(args.runs_dir, "results")
    if args.tables:
        print_tables(stored_results(results_dir))
        return 0
    if args.data_dir is None:
        parser.error("--data-dir is required (the folder holding modelnet10_ply_hdf5_2048/)")
    train, test, description = workflows.load_classification_data(args.data_dir)
    print(f"Evaluating on {description}")
    for name in args.models or all_models(args.runs_dir):
        evaluate(name, model_protocols(name, args.protocols), (train, test), args.runs_dir, results_dir)
    print_tables(stored_results(results_dir))
    if args.ship:
        epoch, curve = chosen_snapshot(args.ship, args.curves_dir)
        name = args.ship if epoch is None else f"{args.ship}@{epoch}"
        label_efficiency = None
        if args.label_efficiency:
            record = json.load(open(args.label_efficiency))
            try:
                check_fine_tuned(record, name, args.runs_dir)
            except ValueError as error:
                parser.error(f"{args.label_efficiency}: {error}")
            label_efficiency = record["summary"]
        evaluated = evaluate(name, ["svm", "few-shot"], (train, test), args.runs_dir, results_dir)
        ship(name, evaluated, args.runs_dir, MODELNET10, args.overwrite, curve, label_efficiency)
    return 0


if __name__ == "__main__":
    sys.exit(main())
