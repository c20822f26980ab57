"""Density shift: is a model's loss at half the points a loss of
separability, or a shift between the SVM's train features and its test
features? Validation split only (issue 28, item 7); the test split is never
read.

On the fixed validation split of ModelNet10 train
(`keras_ttp.evaluation.validation_split`, the first 1024 points of each
shape, as in `tools/learning_curve.py`), a linear SVM (C = 0.1) scores:

- `clean`: fit on the fit part's 1024-point clouds, scored on the
  validation clouds;
- `subsampled`: the same SVM on the validation clouds cut to a random
  `--num-points` (`keras_ttp.evaluation.subsample_points`, seed 0: the
  learning curve's "512 points" column);
- `dropout`: the same SVM on those points padded back to 1024 with copies of
  their first point, the way pre-training's `RandomPointDropout` drops
  points;
- `matched`: an SVM fit on the fit part cut to `--num-points` (seed 1),
  scored on the subsampled validation clouds: no density shift between
  fit and score;
- `matched_scored_clean`: that SVM on the 1024-point validation clouds;

and `cosine`, the mean cosine similarity between a validation cloud's
features at 1024 and at `--num-points` points. `matched` near `clean` with
`subsampled` far below it says the features at fewer points are as
separable but have moved.

Results go to `--output` (default `docs/results/probes/density_shift.json`),
one entry per model; a model already there is not evaluated again.

    python tools/density_shift.py --data-dir ../shared/data \\
        --models ../runs/dgcnn_ttp_seed0/snapshots/epoch_0025 dgcnn_random_seed0
"""

import argparse
import os
import sys

import numpy as np

from keras_ttp import evaluation
from keras_ttp import workflows

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import learning_curve  # noqa: E402  (tools/learning_curve.py)


def padded_with_first_point(points, num_points):
    """`points` padded to `num_points` points with copies of each cloud's
    first point (`RandomPointDropout`'s replacement)."""
    copies = np.repeat(points[:, :1], num_points - points.shape[1], axis=1)
    return np.concatenate([points, copies], axis=1)


def density_shift(backbone, train, split, num_points=512, batch_size=64):
    """The scores above (%, and `cosine`) of `backbone` on `split` =
    `(fit, validation)` indices of `train`, embedded `batch_size` clouds at
    a time."""
    fit, validation = split
    fit_points, fit_labels = train.points[fit], train.labels[fit]
    held_points, held_labels = train.points[validation], train.labels[validation]
    full = held_points.shape[1]
    fit_few = evaluation.subsample_points(fit_points, num_points, seed=1)
    held_few = evaluation.subsample_points(held_points, num_points, seed=0)
    embed = lambda points: evaluation.extract_embeddings(backbone, points, batch_size, verbose=0)  # noqa: E731
    features = {
        "clean": embed(held_points),
        "subsampled": embed(held_few),
        "dropout": embed(padded_with_first_point(held_few, full)),
    }
    svm = evaluation.fit_linear_svm(embed(fit_points), fit_labels, C=0.1)
    scores = {k: evaluation.fitted_svm_accuracy(svm, f, held_labels) for k, f in features.items()}
    matched = evaluation.fit_linear_svm(embed(fit_few), fit_labels, C=0.1)
    scores["matched"] = evaluation.fitted_svm_accuracy(matched, features["subsampled"], held_labels)
    scores["matched_scored_clean"] = evaluation.fitted_svm_accuracy(
        matched, features["clean"], held_labels
    )
    unit = lambda f: f / np.linalg.norm(f, axis=1, keepdims=True)  # noqa: E731
    scores["cosine"] = float(np.mean(np.sum(unit(features["clean"]) * unit(features["subsampled"]), axis=1)))
    return scores


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, help="folder with modelnet10_ply_hdf5_2048/")
    parser.add_argument("--models", nargs="+", required=True,
                        help="presets (names or folders) or <backbone>_random_seed<s>")  # fmt: skip
    parser.add_argument("--num-points", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=64,
                        help="clouds embedded at a time (DGCNN's memory grows with it)")
    parser.add_argument("--output", default="docs/results/probes/density_shift.json")
    args = parser.parse_args(argv)
    train, _, description, split = learning_curve.load_data(args.data_dir)
    stored = learning_curve.read_json(args.output, {"data": description, "models": {}})
    for name in args.models:
        key = f"{name} @ {args.num_points} points"
        if key not in stored["models"]:
            backbone = learning_curve.load_model(name)
            stored["models"][key] = density_shift(
                backbone, train, split, args.num_points, args.batch_size
            )
            workflows.write_json(args.output, {**stored, **workflows.run_info()})
        print(key, {k: round(v, 4) for k, v in stored["models"][key].items()}, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
