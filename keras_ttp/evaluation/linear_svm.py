"""The linear-SVM protocol: a linear SVM on frozen backbone features."""

import numpy as np
from sklearn.model_selection import GridSearchCV
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.svm import SVC

from keras_ttp.evaluation.embeddings import extract_embeddings


def check_labels(labels, num_shapes=None, name="labels"):
    """Returns `labels` as an array `(S,)`, or raises a clear `ValueError`.
    Labels of shape `(S, 1)` (the ModelNet HDF5 layout) are flattened."""
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1 or (num_shapes is not None and len(labels) != num_shapes):
        expected = "num_shapes" if num_shapes is None else num_shapes
        raise ValueError(
            f"`{name}` must have shape ({expected},), one label per shape, "
            f"got {labels.shape}."
        )
    return labels


def check_features(features, labels, name="features"):
    """Returns `(features, labels)` as arrays `(S, D)` and `(S,)`, or raises a
    clear `ValueError`."""
    features = np.asarray(features)
    if features.ndim != 2:
        raise ValueError(
            f"`{name}` must have shape (num_shapes, dim), got {features.shape}."
        )
    if features.shape[0] == 0:
        raise ValueError(f"`{name}` is empty.")
    if not np.isfinite(features).all():
        raise ValueError(f"`{name}` holds NaN or infinite values.")
    labels = check_labels(labels, len(features), f"the labels of `{name}`")
    return features, labels


def linear_svm_accuracy(
    train_features, train_labels, test_features, test_labels, C=0.1
):
    """Test accuracy (%) of `SVC(kernel="linear", C=C)` fit on the train set.

    The protocol of the ToThePoint paper (Table 3): the features come from a
    frozen backbone, the SVM is fit on the train split only and scored once
    on the test split. `C` is fixed in advance; to choose it, use
    `select_svm_c` on the train split, never the test split.

    Args:
        train_features: float array `(S_train, D)`.
        train_labels: int array `(S_train,)` (or `(S_train, 1)`).
        test_features: float array `(S_test, D)`.
        test_labels: int array `(S_test,)` (or `(S_test, 1)`).
        C: the SVM's regularisation parameter.

    Returns:
        The test accuracy in percent, a float.

    Example:
    >>> x = np.array([[-1.0], [-2.0], [1.0], [2.0]])
    >>> y = np.array([0, 0, 1, 1])
    >>> linear_svm_accuracy(x, y, np.array([[-3.0], [3.0]]), [0, 1], C=1.0)
    100.0
    """
    train_features, train_labels = check_features(
        train_features, train_labels, "train_features"
    )
    test_features, test_labels = check_features(
        test_features, test_labels, "test_features"
    )
    if train_features.shape[1] != test_features.shape[1]:
        raise ValueError(
            f"Train features have {train_features.shape[1]} dimensions, test "
            f"features {test_features.shape[1]}."
        )
    if np.unique(train_labels).size < 2:
        raise ValueError("The SVM needs at least 2 classes in the train set.")
    svm = SVC(kernel="linear", C=C).fit(train_features, train_labels)
    return 100.0 * float(svm.score(test_features, test_labels))


def select_svm_c(
    train_features,
    train_labels,
    candidates=(0.001, 0.01, 0.1, 1.0, 10.0),
    validation_fraction=0.2,
    seed=0,
):
    """Chooses the SVM's `C` on a validation split carved from the train set.

    One stratified, seeded split of the train set (sklearn's
    `StratifiedShuffleSplit` in a `GridSearchCV`) holds out
    `validation_fraction` of it; every candidate is fit on the rest and
    scored on the held-out part. The test set is never seen.

    Args:
        train_features: float array `(S_train, D)`.
        train_labels: int array `(S_train,)`.
        candidates: values of `C` to try.
        validation_fraction: fraction of the train set held out.
        seed: seed of the split.

    Returns:
        A dict: `"C"` the best candidate (the smallest among ties) and
        `"validation_accuracy"`, a dict from each candidate to its
        validation accuracy in percent.

    Example:
    >>> C = select_svm_c(train_features, train_labels)["C"]
    >>> linear_svm_accuracy(
    ...     train_features, train_labels, test_features, test_labels, C=C
    ... )
    """
    train_features, train_labels = check_features(
        train_features, train_labels, "train_features"
    )
    candidates = sorted(float(c) for c in candidates)
    if not candidates:
        raise ValueError("`candidates` must hold at least one value of C.")
    split = StratifiedShuffleSplit(
        n_splits=1, test_size=validation_fraction, random_state=seed
    )
    search = GridSearchCV(
        SVC(kernel="linear"), {"C": candidates}, cv=split, refit=False
    )
    search.fit(train_features, train_labels)
    scores = 100.0 * search.cv_results_["mean_test_score"]
    return {
        "C": candidates[int(np.argmax(scores))],
        "validation_accuracy": dict(zip(candidates, scores.tolist())),
    }


def evaluate_linear_svm(
    backbone,
    train_points,
    train_labels,
    test_points,
    test_labels,
    C=0.1,
    batch_size=64,
    verbose="auto",
):
    """The linear-SVM protocol end to end: embed, fit on train, score on test.

    Args:
        backbone: a frozen `keras_ttp.models.Backbone`.
        train_points: float array `(S_train, N, 3)`.
        train_labels: int array `(S_train,)` (or `(S_train, 1)`).
        test_points: float array `(S_test, N, 3)`.
        test_labels: int array `(S_test,)` (or `(S_test, 1)`).
        C: the SVM's `C` (the paper: 0.1), or a sequence of candidates, in
            which case `select_svm_c` picks one on a validation split of the
            train set and the SVM is refit on the whole train set with it.
        batch_size: clouds per batch when embedding.
        verbose: progress bar, as in `keras.Model.predict`.

    Returns:
        A dict: `"accuracy"` (test accuracy, %), `"C"`, `"num_train"`,
        `"num_test"`, and `"validation_accuracy"` when `C` was chosen.

    Example:
    >>> result = evaluate_linear_svm(backbone, x_train, y_train, x_test, y_test)
    >>> print(f"linear SVM: {result['accuracy']:.1f}%")
    """
    train_features = extract_embeddings(backbone, train_points, batch_size, verbose)
    test_features = extract_embeddings(backbone, test_points, batch_size, verbose)
    result = {}
    if np.ndim(C) > 0:
        result = select_svm_c(train_features, train_labels, candidates=C)
        C = result["C"]
    accuracy = linear_svm_accuracy(
        train_features, train_labels, test_features, test_labels, C=C
    )
    result.update(
        {
            "accuracy": accuracy,
            "C": C,
            "num_train": len(train_features),
            "num_test": len(test_features),
        }
    )
    return result
