"""Frozen-backbone inference: global features of a set of point clouds."""

import keras
import numpy as np

from keras_ttp.utils.compiling import use_xla_on_tensorflow


def check_points(points, name="points"):
    """Returns `points` as a float32 array `(S, N, 3)`, or raises a clear
    `ValueError` for a wrong shape, an empty set or NaN/inf coordinates."""
    points = np.asarray(points, dtype="float32")
    if points.ndim != 3 or points.shape[-1] != 3:
        raise ValueError(
            f"`{name}` must be point clouds of shape (num_shapes, num_points, "
            f"3), got shape {points.shape}. A single cloud needs a leading "
            "axis: use `points[None]`."
        )
    if points.shape[0] == 0 or points.shape[1] == 0:
        raise ValueError(f"`{name}` holds no points: shape {points.shape}.")
    finite = np.isfinite(points).all(axis=(1, 2))
    if not finite.all():
        bad = np.flatnonzero(~finite)
        raise ValueError(
            f"`{name}` has NaN or infinite coordinates in {bad.size} of "
            f"{points.shape[0]} clouds (first at index {bad[0]})."
        )
    return points


def predict_from_backbone(backbone, points, head, batch_size=64, verbose="auto"):
    """Runs `head(backbone(x))` over `points` in batches, in inference mode.

    The backbone is wrapped in a functional model whose output is what `head`
    makes of the backbone's output dict, so only that output is gathered (not
    the `(S, N, D)` per-point features) and `Model.predict` compiles, batches
    and shows a progress bar on every backend. On tensorflow it runs with
    XLA, which Keras leaves off on CPUs: 1.4x (PointNet) and 2.1x (DGCNN)
    the shapes per second in the table of 2026-12-02
    (docs/benchmarks/2026-12-02-table-full-c0757ae.txt).

    Args:
        backbone: a `keras_ttp.models.Backbone` (any Keras model from
            `(batch, num_points, 3)` to a dict of features works).
        points: float array `(S, N, 3)`, checked with `check_points`.
        head: function from the backbone's output dict to one tensor.
        batch_size: clouds per batch.
        verbose: as in `keras.Model.predict` (`"auto"`, 0, 1 or 2).

    Returns:
        The numpy output of `head`, concatenated over the batches.
    """
    points = check_points(points)
    if hasattr(backbone, "check_points_shape"):
        backbone.check_points_shape(points.shape)
    inputs = keras.Input(shape=points.shape[1:], name="points")
    model = keras.Model(inputs, head(backbone(inputs)))
    model.compile()
    use_xla_on_tensorflow(model, "auto")
    return model.predict(points, batch_size=batch_size, verbose=verbose)


def extract_embeddings(backbone, points, batch_size=64, verbose="auto"):
    """Global (max-pooled) features of a frozen backbone.

    Runs the backbone in inference mode (BatchNorm uses its moving
    statistics) over `points` in batches, with a Keras progress bar.

    Args:
        backbone: a `keras_ttp.models.Backbone`, e.g. `PointNet` or `DGCNN`.
        points: float array `(S, N, 3)` of `S` clouds of `N` points.
        batch_size: clouds per batch.
        verbose: as in `keras.Model.predict` (`"auto"`, 0, 1 or 2).

    Returns:
        float32 numpy array `(S, D)`, the `"global_features"` of each cloud.

    Raises:
        ValueError: if `points` is not `(S, N, 3)`, is empty, or holds NaN or
            infinite coordinates.

    Example:
    >>> backbone = keras_ttp.models.PointNet(embedding_dim=32)
    >>> points = np.random.rand(10, 256, 3).astype("float32")
    >>> extract_embeddings(backbone, points, batch_size=4, verbose=0).shape
    (10, 32)
    """
    features = predict_from_backbone(
        backbone,
        points,
        lambda outputs: outputs["global_features"],
        batch_size=batch_size,
        verbose=verbose,
    )
    return np.asarray(features, dtype="float32")
