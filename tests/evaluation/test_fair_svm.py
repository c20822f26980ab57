import warnings

import numpy as np
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from keras_ttp.evaluation import C_GRID
from keras_ttp.evaluation import cross_validate_svm_c
from keras_ttp.evaluation import fair_svm_accuracy
from tests.test_case import TestCase


def noisy_problem(seed=0, num_shapes=120, dim=20):
    """Three classes, their means apart along 2 of `dim` axes, overlapping,
    the other axes noise of a much larger scale than the signal."""
    rng = np.random.default_rng(seed)
    labels = np.arange(num_shapes) % 3
    features = rng.normal(0, 1, (num_shapes, dim)) * np.r_[[1, 1], np.full(dim - 2, 50)]
    features[:, 0] += 1.2 * (labels == 1)
    features[:, 1] += 1.2 * (labels == 2)
    return features, labels


def reference_cv_accuracy(features, labels, C, folds=5, seed=0):
    """Mean held-out accuracy (%) by hand: scaler and SVM fit per fold."""
    scores = []
    for fit, held_out in StratifiedKFold(folds, shuffle=True, random_state=seed).split(features, labels):
        scaler = StandardScaler().fit(features[fit])
        svm = SVC(kernel="linear", C=C).fit(scaler.transform(features[fit]), labels[fit])
        scores.append(svm.score(scaler.transform(features[held_out]), labels[held_out]))
    return 100 * np.mean(scores)


class CrossValidateSvmCTest(TestCase):
    def test_matches_a_hand_written_cross_validation(self):
        features, labels = noisy_problem()
        grid = (1e-3, 1e-2, 1e-1, 1.0, 10.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = cross_validate_svm_c(features, labels, grid)
        expected = {C: reference_cv_accuracy(features, labels, C) for C in grid}
        for C in grid:
            self.assertAlmostEqual(result["cv_accuracy"][C], expected[C], places=6)
        self.assertEqual(result["C"], max(grid, key=lambda C: (expected[C], -C)))

    def test_known_answer_in_the_middle(self):
        # 15 shapes of class 0 and 5 of class 1, separable. A tiny C leaves
        # w ~ 0 and predicts the majority class (75 %); C = 1 and C = 1e4
        # both separate (100 %), and the smaller wins the tie: C = 1, inside
        # the grid, no warning.
        labels = np.repeat([0, 1], [15, 5])
        rng = np.random.default_rng(0)
        features = np.where(labels[:, None] == 1, 1.0, -1.0) + rng.normal(0, 0.1, (20, 2))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            result = cross_validate_svm_c(features, labels, (1e-6, 1.0, 1e4))
        self.assertEqual(result["C"], 1.0)
        self.assertFalse(result["on_edge"])
        self.assertEqual(result["cv_accuracy"][1e-6], 75.0)
        self.assertEqual(result["cv_accuracy"][1.0], 100.0)

    def test_warns_on_the_grid_edge(self):
        labels = np.repeat([0, 1], [15, 5])
        features = np.where(labels[:, None] == 1, 1.0, -1.0) * np.ones((20, 2))
        with self.assertWarnsRegex(UserWarning, "edge of the grid"):
            result = cross_validate_svm_c(features, labels, (1e-7, 1e-6, 1.0))
        self.assertEqual(result["C"], 1.0)
        self.assertTrue(result["on_edge"])

    def test_default_grid_is_wide(self):
        self.assertEqual(C_GRID[0], 1e-4)
        self.assertEqual(C_GRID[-1], 100.0)

    def test_fair_accuracy_standardises_on_train(self):
        # One informative feature, one feature of a scale 1e4 larger that
        # is noise: standardised, the SVM finds the informative one.
        rng = np.random.default_rng(1)
        labels = np.arange(100) % 2
        features = np.stack([labels + rng.normal(0, 0.1, 100), rng.normal(0, 1e4, 100)], 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # every C >= 1e-4 separates
            result = fair_svm_accuracy(features[:60], labels[:60], features[60:], labels[60:])
        self.assertEqual(result["accuracy"], 100.0)
        self.assertIn(result["C"], C_GRID)
        self.assertEqual(set(result["cv_accuracy"]), set(C_GRID))
