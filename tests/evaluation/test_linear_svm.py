import numpy as np

from keras_ttp.evaluation import evaluate_linear_svm
from keras_ttp.evaluation import linear_svm_accuracy
from keras_ttp.evaluation import select_svm_c
from tests.evaluation.helpers import identity_backbone
from tests.test_case import TestCase

# Two separable classes on a line: class 0 left of 0, class 1 right of it.
TRAIN_X = np.array([[-3.0], [-2.0], [-1.0], [1.0], [2.0], [3.0]])
TRAIN_Y = np.array([0, 0, 0, 1, 1, 1])


class LinearSvmAccuracyTest(TestCase):
    def test_separable(self):
        test_x = np.array([[-5.0], [-1.5], [1.5], [5.0]])
        accuracy = linear_svm_accuracy(TRAIN_X, TRAIN_Y, test_x, [0, 0, 1, 1], C=1.0)
        self.assertEqual(accuracy, 100.0)

    def test_hand_computed(self):
        # The boundary is x = 0: the third test shape lies on the wrong side
        # of it, so 3 of 4 are right.
        test_x = np.array([[-4.0], [4.0], [2.0], [-2.0]])
        test_y = np.array([[0], [1], [0], [0]])  # (S, 1) labels, as in ModelNet
        accuracy = linear_svm_accuracy(TRAIN_X, TRAIN_Y, test_x, test_y, C=1.0)
        self.assertEqual(accuracy, 75.0)

    def test_bad_inputs(self):
        with self.assertRaisesRegex(ValueError, "dimensions"):
            linear_svm_accuracy(TRAIN_X, TRAIN_Y, np.zeros((2, 2)), [0, 1])
        with self.assertRaisesRegex(ValueError, "one label per shape"):
            linear_svm_accuracy(TRAIN_X, TRAIN_Y[:5], TRAIN_X, TRAIN_Y)
        with self.assertRaisesRegex(ValueError, "2 classes"):
            linear_svm_accuracy(TRAIN_X, np.zeros(6), TRAIN_X, TRAIN_Y)
        with self.assertRaisesRegex(ValueError, "NaN"):
            linear_svm_accuracy(TRAIN_X, TRAIN_Y, TRAIN_X * np.nan, TRAIN_Y)
        with self.assertRaisesRegex(ValueError, r"\(num_shapes, dim\)"):
            linear_svm_accuracy(TRAIN_X[:, 0], TRAIN_Y, TRAIN_X, TRAIN_Y)


class SelectSvmCTest(TestCase):
    def test_chooses_on_validation_split(self):
        # 15 shapes of class 0, 5 of class 1; the stratified 20% validation
        # split holds 3 and 1. A tiny C leaves w ~ 0 and the intercept
        # predicts the majority class for all: 3 / 4. A large C separates
        # the classes: 4 / 4.
        labels = np.repeat([0, 1], [15, 5])
        features = np.where(labels[:, None] == 1, 1.0, -1.0) * np.ones((20, 2))
        result = select_svm_c(features, labels, candidates=(1e4, 1e-4))
        self.assertEqual(result["validation_accuracy"], {1e-4: 75.0, 1e4: 100.0})
        self.assertEqual(result["C"], 1e4)


class EvaluateLinearSvmTest(TestCase):
    def test_end_to_end(self):
        # Identity backbone: the global feature is the per-axis maximum, below
        # 0 for the class-0 clouds and above 1 for the class-1 clouds.
        rng = np.random.default_rng(0)
        labels = np.repeat([0, 1], 10)
        points = rng.uniform(-2, -1, (20, 8, 3)).astype("float32")
        points[labels == 1] += 3.0
        backbone = identity_backbone()
        result = evaluate_linear_svm(
            backbone, points, labels, points[::-1], labels[::-1], verbose=0
        )
        self.assertEqual(
            result, {"accuracy": 100.0, "C": 0.1, "num_train": 20, "num_test": 20}
        )
        result = evaluate_linear_svm(
            backbone, points, labels, points, labels, C=[0.1, 1.0], verbose=0
        )
        self.assertEqual(result["C"], 0.1)
        self.assertEqual(result["validation_accuracy"], {0.1: 100.0, 1.0: 100.0})
