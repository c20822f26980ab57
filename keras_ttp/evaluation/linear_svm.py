"""The linear-SVM protocol: a linear SVM on frozen backbone features."""

import warnings

import numpy as np
from sklearn.model_selection import GridSearchCV
from sklearn.model_selection import StratifiedKFold
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
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
    svm = fit_linear_svm(train_features, train_labels, C)
    return fitted_svm_accuracy(svm, test_features, test_labels)


def fit_linear_svm(train_features, train_labels, C=0.1):
    """`SVC(kernel="linear", C=C)` fit on the train features, or with
    `C="cv"` the fair protocol's `StandardScaler` + SVM with `C` chosen by
    `cross_validate_svm_c` (the choice in the estimator's `cv_result`).
    Returns the fitted sklearn estimator; `fitted_svm_accuracy` scores it."""
    train_features, train_labels = check_features(
        train_features, train_labels, "train_features"
    )
    if np.unique(train_labels).size < 2:
        raise ValueError("The SVM needs at least 2 classes in the train set.")
    if C == "cv":
        chosen = cross_validate_svm_c(train_features, train_labels)
        svm = standardized_svm(chosen["C"]).fit(train_features, train_labels)
        svm.cv_result = chosen
        return svm
    return SVC(kernel="linear", C=C).fit(train_features, train_labels)


def fitted_svm_accuracy(svm, test_features, test_labels):
    """Accuracy (%) of the fitted `svm` on the test features."""
    test_features, test_labels = check_features(
        test_features, test_labels, "test_features"
    )
    if svm.n_features_in_ != test_features.shape[1]:
        raise ValueError(
            f"Train features have {svm.n_features_in_} dimensions, test "
            f"features {test_features.shape[1]}."
        )
    return 100.0 * float(svm.score(test_features, test_labels))


def grid_search(estimator, features, labels, candidates, cv):
    """Scores every `C` of `candidates` (sorted) for `estimator` over the
    splits `cv` of `(features, labels)`; returns the candidates and their
    mean held-out accuracies in percent."""
    candidates = sorted(float(c) for c in candidates)
    if not candidates:
        raise ValueError("`candidates` must hold at least one value of C.")
    search = GridSearchCV(estimator, {param_name(estimator): candidates}, cv=cv, refit=False)
    search.fit(features, labels)
    return candidates, 100.0 * search.cv_results_["mean_test_score"]


def param_name(estimator):
    """The name of `C` in `estimator`: `"C"`, or `"svc__C"` in a pipeline."""
    return "C" if isinstance(estimator, SVC) else "svc__C"


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
    split = StratifiedShuffleSplit(
        n_splits=1, test_size=validation_fraction, random_state=seed
    )
    candidates, scores = grid_search(
        SVC(kernel="linear"), train_features, train_labels, candidates, split
    )
    return {
        "C": candidates[int(np.argmax(scores))],
        "validation_accuracy": dict(zip(candidates, scores.tolist())),
    }


# The fair protocol's grid of C: 1e-4 to 1e2, one value per decade.
C_GRID = tuple(float(10.0**k) for k in range(-4, 3))


def standardized_svm(C):
    """A pipeline: features standardised (`StandardScaler`, fit on what the
    pipeline is fit on), then `SVC(kernel="linear", C=C)`."""
    return make_pipeline(StandardScaler(), SVC(kernel="linear", C=C))


def cross_validate_svm_c(train_features, train_labels, grid=C_GRID, folds=5, seed=0):
    """Chooses `C` for the fair protocol by stratified k-fold cross-validation
    on the train set, of a linear SVM on standardised features.

    In every fold the scaler is fit on that fold's training part only (a
    `StandardScaler` + `SVC` pipeline), so no held-out statistics leak. The
    best mean accuracy wins, the smallest `C` among ties. A choice on the
    grid's first or last value may mean the grid is too narrow: it warns
    (`UserWarning`) and reports `"on_edge": True`.

    Args:
        train_features: float array `(S_train, D)`.
        train_labels: int array `(S_train,)`.
        grid: values of `C` to try.
        folds: number of stratified folds (shuffled with `seed`).
        seed: seed of the folds.

    Returns:
        A dict: `"C"`, `"cv_accuracy"` (each candidate's mean held-out
        accuracy in percent), `"on_edge"`, `"folds"`, `"grid"`.

    Example:
    >>> chosen = cross_validate_svm_c(train_features, train_labels)
    >>> chosen["C"], chosen["on_edge"]
    (0.01, False)
    """
    train_features, train_labels = check_features(
        train_features, train_labels, "train_features"
    )
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    grid, scores = grid_search(
        standardized_svm(1.0), train_features, train_labels, grid, cv
    )
    best = int(np.argmax(scores))
    on_edge = len(grid) > 1 and best in (0, len(grid) - 1)
    if on_edge:
        warnings.warn(
            f"Cross-validation chose C = {grid[best]:g}, on the edge of the grid "
            f"[{grid[0]:g}, {grid[-1]:g}]: widen the grid.",
            stacklevel=2,
        )
    return {
        "C": grid[best],
        "cv_accuracy": dict(zip(grid, scores.tolist())),
        "on_edge": on_edge,
        "folds": folds,
        "grid": list(grid),
    }


def fair_svm_accuracy(train_features, train_labels, test_features, test_labels):
    """The fair column: test accuracy (%) of a linear SVM on features
    standardised on the train set, `C` chosen by `cross_validate_svm_c`
    (5 folds of the train set, `C_GRID`); every model, random
    initialisation included, goes through this one function.

    Returns:
        A dict: `"accuracy"` and the `cross_validate_svm_c` result.

    Example:
    >>> fair_svm_accuracy(x_train, y_train, x_test, y_test)["accuracy"]
    """
    svm = fit_linear_svm(train_features, train_labels, C="cv")
    return {"accuracy": fitted_svm_accuracy(svm, test_features, test_labels), **svm.cv_result}


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
