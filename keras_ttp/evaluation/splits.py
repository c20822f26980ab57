"""Fixed, stratified, seeded splits of a labelled train set: the validation
split that model selection uses (never the test split), and the labelled
subsets of the label-efficiency protocol."""

import numpy as np

from keras_ttp.evaluation.linear_svm import check_labels

# The project's one validation split of ModelNet10 train (RESULTS.md).
VALIDATION_FRACTION = 0.2
VALIDATION_SEED = 0


def stratified_subset(labels, fraction, seed=0, min_per_class=1):
    """Indices of a stratified, seeded subset of `labels`: from every class
    `round(fraction * n_class)` of its shapes, at least `min_per_class`.

    Deterministic across machines and library versions: the classes are
    taken in sorted order, the shapes of a class in index order, and one
    `numpy.random.default_rng(seed)` permutes each class in turn (numpy's
    `Generator.permutation` is stable across versions for a given seed).

    Args:
        labels: int array `(S,)` (or `(S, 1)`).
        fraction: fraction of each class to take, in `(0, 1]`.
        seed: seed of the draw.
        min_per_class: fewest shapes taken from a class (all of a class
            that has fewer).

    Returns:
        Sorted int64 indices into `labels`.

    Example:
    >>> stratified_subset([0, 0, 0, 0, 1, 1, 1, 1], 0.5, seed=0).size
    4
    """
    labels = check_labels(labels)
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"`fraction` must be in (0, 1], got {fraction}.")
    rng = np.random.default_rng(seed)
    chosen = []
    for label in np.unique(labels):  # sorted
        members = np.flatnonzero(labels == label)
        count = max(int(round(fraction * members.size)), min_per_class)
        chosen.append(rng.permutation(members)[: min(count, members.size)])
    return np.sort(np.concatenate(chosen)).astype("int64")


def validation_split(labels, fraction=VALIDATION_FRACTION, seed=VALIDATION_SEED):
    """`(fit, validation)` indices: a fixed, stratified, seeded validation
    split carved from a train set (`stratified_subset` of `fraction` of
    each class, at least one shape per class) and the rest.

    Model selection (snapshots, SVM settings, fine-tuning epochs) is made on
    `validation`; the test split only scores the choice. With the defaults,
    every machine carves the same split of ModelNet10 train.

    Args:
        labels: int array `(S,)` of the train set.
        fraction: fraction of each class held out, in `(0, 1)`.
        seed: seed of the split.

    Returns:
        Two sorted, disjoint int64 index arrays that together cover
        `range(S)`.

    Raises:
        ValueError: if a class has fewer than 2 shapes (it could not be both
            fit and validated).

    Example:
    >>> fit, validation = validation_split(train.labels)
    >>> svm.fit(features[fit], train.labels[fit]).score(
    ...     features[validation], train.labels[validation])
    """
    labels = check_labels(labels)
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"`fraction` must be in (0, 1), got {fraction}.")
    classes, counts = np.unique(labels, return_counts=True)
    if counts.min() < 2:
        raise ValueError(
            f"Class {classes[np.argmin(counts)]} has {counts.min()} shape: every "
            "class needs at least 2 to be both fit and validated."
        )
    validation = stratified_subset(labels, fraction, seed)
    fit = np.setdiff1d(np.arange(len(labels)), validation)
    if np.unique(labels[fit]).size < classes.size:
        raise ValueError(
            f"`fraction` {fraction} leaves some class with no shape to fit."
        )
    return fit.astype("int64"), validation
