"""Robustness of a frozen representation: a linear SVM fit on the aligned
train clouds, scored on held-out clouds at another yaw, density or noise.

The corruptions are numpy functions of a seed, so every model is scored on
the same corrupted clouds. The data are y up (every reader's frame,
`keras_ttp.datasets`), and pre-training rotates about y
(`keras_ttp.layers.RandomRotation`): the vertical axis is y.
"""

import numpy as np

from keras_ttp.evaluation.embeddings import check_points
from keras_ttp.evaluation.embeddings import extract_embeddings
from keras_ttp.evaluation.linear_svm import fit_linear_svm
from keras_ttp.evaluation.linear_svm import fitted_svm_accuracy


def rotate_about_vertical(points, seed=0):
    """Rotates every cloud about the vertical (y) axis by its own angle
    drawn from `U(0, 2 pi)` (`numpy.random.default_rng(seed)`, one angle per
    cloud in order), as `RandomRotation` does: `x' = cos x + sin z`,
    `z' = -sin x + cos z`, `y' = y`.

    Args:
        points: float array `(S, N, 3)`, y up.
        seed: seed of the angles.

    Returns:
        float32 array `(S, N, 3)`.
    """
    points = check_points(points)
    angles = np.random.default_rng(seed).uniform(0.0, 2.0 * np.pi, len(points))
    cos, sin = np.cos(angles)[:, None], np.sin(angles)[:, None]
    x, y, z = points[..., 0], points[..., 1], points[..., 2]
    return np.stack([cos * x + sin * z, y, -sin * x + cos * z], axis=-1).astype("float32")


def subsample_points(points, num_points, seed=0):
    """A random subset of `num_points` points of every cloud, drawn without
    replacement, one seeded draw per cloud. Returns `(S, num_points, 3)`."""
    points = check_points(points)
    if not 0 < num_points <= points.shape[1]:
        raise ValueError(
            f"`num_points` must be in [1, {points.shape[1]}], got {num_points}."
        )
    rng = np.random.default_rng(seed)
    keys = rng.random(points.shape[:2])
    order = np.argsort(keys, axis=1)[:, :num_points]
    return np.take_along_axis(points, order[..., None], axis=1)


def jitter_points(points, stddev=0.01, clip=0.05, seed=0):
    """Adds Gaussian noise `N(0, stddev)` to every coordinate, clipped to
    `[-clip, clip]` (the pre-training jitter's `RandomJitter` defaults)."""
    points = check_points(points)
    noise = np.random.default_rng(seed).normal(0.0, stddev, points.shape)
    return (points + np.clip(noise, -clip, clip)).astype("float32")


def corrupted_sets(points, num_points=512, stddev=0.01, seed=0):
    """`{name: clouds}`: `points` clean, rotated about the vertical axis,
    with `num_points` of their points, and jittered by `stddev`."""
    return {
        "clean": check_points(points),
        "rotated": rotate_about_vertical(points, seed),
        f"{num_points} points": subsample_points(points, num_points, seed),
        f"jitter {stddev:g}": jitter_points(points, stddev, seed=seed),
    }


def robustness_accuracy(
    backbone, train_points, train_labels, test_points, test_labels, C=0.1,
    num_points=512, stddev=0.01, seed=0, batch_size=64, verbose=0,
):  # fmt: skip
    """SVM accuracy (%) on clean and corrupted held-out clouds.

    One linear SVM is fit on the frozen features of the aligned, clean
    `train_points`, and scores `test_points` clean, rotated about the
    vertical axis (one seeded angle per cloud), with a seeded `num_points`
    of their points, and jittered by `stddev` (`corrupted_sets`).
    `test_points` may be the test split (to report) or a validation split
    (to select).

    Args:
        backbone: a frozen `keras_ttp.models.Backbone`.
        train_points: float array `(S_train, N, 3)`, y up.
        train_labels: int array `(S_train,)`.
        test_points: float array `(S_test, N, 3)`, y up.
        test_labels: int array `(S_test,)`.
        C: the SVM's `C`, or `"cv"` for the fair protocol
            (`keras_ttp.evaluation.fair_svm_accuracy`).
        num_points: points kept of each held-out cloud.
        stddev: standard deviation of the jitter.
        seed: seed of the corruptions.
        batch_size, verbose: as in `extract_embeddings`.

    Returns:
        `{"clean": ..., "rotated": ..., "512 points": ..., "jitter 0.01": ...}`.

    Example:
    >>> robustness_accuracy(backbone, x_train, y_train, x_test, y_test)
    {'clean': 89.3, 'rotated': 46.1, '512 points': 89.3, 'jitter 0.01': 88.9}
    """
    features = extract_embeddings(backbone, train_points, batch_size, verbose)
    svm = fit_linear_svm(features, train_labels, C)
    return corrupted_scores(
        backbone, svm, test_points, test_labels, num_points, stddev, seed,
        batch_size, verbose,
    )  # fmt: skip


def corrupted_scores(
    backbone, svm, points, labels, num_points=512, stddev=0.01, seed=0,
    batch_size=64, verbose=0,
):  # fmt: skip
    """Accuracy (%) of a fitted `svm` (`fit_linear_svm`) on the features of
    each of `corrupted_sets(points, ...)`: `{name: accuracy}`. The sets of
    the same number of points are embedded together, in one pass."""
    sets = corrupted_sets(points, num_points, stddev, seed)
    features = {}
    for size in {clouds.shape[1] for clouds in sets.values()}:
        names = [name for name, clouds in sets.items() if clouds.shape[1] == size]
        stacked = np.concatenate([sets[name] for name in names])
        embedded = extract_embeddings(backbone, stacked, batch_size, verbose)
        features.update(zip(names, np.split(embedded, len(names))))
    return {name: fitted_svm_accuracy(svm, features[name], labels) for name in sets}
