"""The few-shot protocol: N-way K-shot episodes scored by a linear SVM."""

import numpy as np

from keras_ttp.evaluation.linear_svm import check_features
from keras_ttp.evaluation.linear_svm import check_labels
from keras_ttp.evaluation.linear_svm import linear_svm_accuracy


def few_shot_episodes(labels, n_way, k_shot, n_query=20, num_episodes=30, seed=0):
    """Draws a fixed, seeded set of N-way K-shot episodes.

    Each episode samples `n_way` distinct classes, then, for each of them,
    `k_shot + n_query` distinct shapes without replacement: the first
    `k_shot` are the support set, the other `n_query` the query set, so a
    shape is never in both. The same `seed` always gives the same episodes.

    Args:
        labels: int array `(S,)` (or `(S, 1)`), the class of each shape.
        n_way: classes per episode (at least 2).
        k_shot: support shapes per class.
        n_query: query shapes per class.
        num_episodes: number of episodes.
        seed: seed of the numpy random generator.

    Returns:
        A list of `num_episodes` dicts with `"classes"` `(n_way,)` (the
        sampled labels), `"support"` `(n_way * k_shot,)` and `"query"`
        `(n_way * n_query,)`, indices into `labels` grouped by class.

    Raises:
        ValueError: if fewer than `n_way` classes exist, or a class has fewer
            than `k_shot + n_query` shapes.

    Example:
    >>> labels = np.repeat(np.arange(5), 30)
    >>> episodes = few_shot_episodes(labels, n_way=5, k_shot=10, num_episodes=3)
    >>> episodes[0]["support"].shape, episodes[0]["query"].shape
    ((50,), (100,))
    """
    labels = check_labels(labels)
    for name, value, low in [
        ("n_way", n_way, 2),
        ("k_shot", k_shot, 1),
        ("n_query", n_query, 1),
        ("num_episodes", num_episodes, 1),
    ]:
        if int(value) != value or value < low:
            raise ValueError(f"`{name}` must be an integer >= {low}, got {value}.")
    classes, counts = np.unique(labels, return_counts=True)
    if classes.size < n_way:
        raise ValueError(
            f"A {n_way}-way episode needs {n_way} classes, the labels have "
            f"{classes.size}."
        )
    per_class = k_shot + n_query
    short = counts < per_class
    if short.any():
        found = ", ".join(f"{c}: {n}" for c, n in zip(classes[short], counts[short]))
        raise ValueError(
            f"Every class needs k_shot + n_query = {per_class} shapes; these "
            f"have fewer (class: count) {found}. Lower `n_query` or drop those "
            "classes from the data."
        )
    members = {c: np.flatnonzero(labels == c) for c in classes}
    rng = np.random.default_rng(seed)
    episodes = []
    for _ in range(num_episodes):
        chosen = rng.choice(classes, size=n_way, replace=False)
        picks = [rng.choice(members[c], size=per_class, replace=False) for c in chosen]
        episodes.append(
            {
                "classes": chosen,
                "support": np.concatenate([p[:k_shot] for p in picks]),
                "query": np.concatenate([p[k_shot:] for p in picks]),
            }
        )
    return episodes


def few_shot_accuracy(
    features, labels, n_way, k_shot, n_query=20, num_episodes=30, seed=0, C=0.1
):
    """Few-shot accuracy of frozen features: a linear SVM per episode.

    The paper's Table 4 protocol: for each episode of `few_shot_episodes`,
    fit `SVC(kernel="linear", C=C)` on the support features and score it on
    the query features.

    Args:
        features: float array `(S, D)`, e.g. from `extract_embeddings`.
        labels: int array `(S,)` (or `(S, 1)`).
        n_way, k_shot, n_query, num_episodes, seed: as in
            `few_shot_episodes`.
        C: the SVM's regularisation parameter.

    Returns:
        A dict: `"mean"` and `"std"` (population standard deviation) of the
        episode accuracies in percent, and `"accuracies"`, the list of them.

    Example:
    >>> result = few_shot_accuracy(features, labels, n_way=5, k_shot=10)
    >>> print(f"{result['mean']:.1f} +- {result['std']:.1f}")
    """
    features, labels = check_features(features, labels)
    accuracies = [
        linear_svm_accuracy(
            features[episode["support"]],
            labels[episode["support"]],
            features[episode["query"]],
            labels[episode["query"]],
            C=C,
        )
        for episode in few_shot_episodes(
            labels, n_way, k_shot, n_query, num_episodes, seed
        )
    ]
    return {
        "mean": float(np.mean(accuracies)),
        "std": float(np.std(accuracies)),
        "accuracies": accuracies,
    }
