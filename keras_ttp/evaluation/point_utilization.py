"""Point utilisation of max pooling and recycling (the paper's Table 1)."""

import numpy as np

from keras_ttp.evaluation.embeddings import predict_from_backbone
from keras_ttp.layers.recycling_max_pooling import RecyclingMaxPooling

UTILIZATION_ROWS = ("max", "recycled", "either")


def point_utilization(
    backbone, points, batch_size=64, seed=0, per_sample=True, verbose="auto"
):
    """How many points the max-pooled and the recycled features draw on.

    For every cloud, the backbone's per-point features go through
    `RecyclingMaxPooling(return_utilization=True, seed=seed)`, which counts
    the distinct points that win at least one channel of the max row, of the
    recycled row (a random rank `r` in `[1, N - 1]`), and of either. The
    counts are averaged over the clouds. The backbone runs in inference mode.

    Args:
        backbone: a `keras_ttp.models.Backbone`.
        points: float array `(S, N, 3)`.
        batch_size: clouds per batch.
        seed: seed of the draws of `r`; a given seed and `batch_size` always
            give the same counts.
        per_sample: draw `r` once per cloud (default) rather than once per
            batch as in pre-training, so that the clouds' recycled counts are
            independent draws.
        verbose: progress bar, as in `keras.Model.predict`.

    Returns:
        A dict: `"mean"` and `"std"` (population), each a dict with keys
        `"max"`, `"recycled"` and `"either"`, and `"counts"`, the int array
        `(S, 3)` of per-cloud counts in that order.

    Example:
    >>> stats = point_utilization(PointNet(), points, seed=0)
    >>> stats["mean"]["max"], stats["mean"]["recycled"]
    """
    pooling = RecyclingMaxPooling(
        per_sample=per_sample, return_utilization=True, seed=seed
    )
    counts = predict_from_backbone(
        backbone,
        points,
        lambda outputs: pooling(outputs["point_features"])[2],
        batch_size=batch_size,
        verbose=verbose,
    ).astype("int64")
    return {
        "mean": dict(zip(UTILIZATION_ROWS, counts.mean(axis=0).tolist())),
        "std": dict(zip(UTILIZATION_ROWS, counts.std(axis=0).tolist())),
        "counts": counts,
    }
