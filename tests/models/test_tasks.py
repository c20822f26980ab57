import keras
import numpy as np

from keras_ttp.models import DGCNN
from keras_ttp.models import PointCloudClassifier
from keras_ttp.models import PointCloudSegmenter
from keras_ttp.models import PointNet
from tests.test_case import TestCase
from tests.test_case import random_points


def small_dgcnn():
    return DGCNN(k=8, edge_filters=(8, 16), embedding_dim=32)


def segmenter_inputs(batch_size=4, num_points=32, num_categories=3):
    return {
        "points": random_points(batch_size, num_points),
        "category": np.arange(batch_size, dtype="int32") % num_categories,
    }


class PointCloudClassifierTest(TestCase):
    def test_task(self):
        classifier = PointCloudClassifier(
            PointNet(embedding_dim=32), num_classes=5, hidden_dims=(16,)
        )
        labels = np.array([0, 1, 4, 2])
        self.run_task_test(classifier, random_points(4, 32), labels, (4, 5))

    def test_default_head_and_compile(self):
        classifier = PointCloudClassifier(small_dgcnn(), num_classes=10)
        layers = classifier.head.layers
        widths = [layer.units for layer in layers if hasattr(layer, "units")]
        self.assertEqual(widths, [512, 256, 10])
        rates = [layer.rate for layer in layers if hasattr(layer, "rate")]
        self.assertEqual(rates, [0.5, 0.5])
        classifier.compile()
        self.assertIsInstance(classifier.optimizer, keras.optimizers.Adam)
        self.assertAlmostEqual(float(classifier.optimizer.learning_rate), 1e-3)
        self.assertTrue(classifier.loss.from_logits)
        # XLA on tensorflow, where Keras's "auto" turns it off on CPUs.
        if keras.backend.backend() == "tensorflow":
            self.assertTrue(classifier.jit_compile)
        classifier.compile(jit_compile=False)
        self.assertFalse(classifier.jit_compile)
        classifier.compile(optimizer="sgd", loss="mse", metrics=[])
        self.assertIsInstance(classifier.optimizer, keras.optimizers.SGD)
        self.assertEqual(classifier.loss, "mse")


class PointCloudSegmenterTest(TestCase):
    def test_task(self):
        segmenter = PointCloudSegmenter(
            small_dgcnn(), num_parts=6, num_categories=3, hidden_dims=(16,)
        )
        parts = np.random.default_rng(0).integers(0, 6, (4, 32))
        self.run_task_test(segmenter, segmenter_inputs(), parts, (4, 32, 6))

    def test_category_and_any_number_of_points(self):
        segmenter = PointCloudSegmenter(PointNet(embedding_dim=32), hidden_dims=(16,))
        inputs = segmenter_inputs(2, 48, num_categories=16)
        logits = segmenter(inputs)
        self.assertEqual(tuple(logits.shape), (2, 48, 50))
        other = dict(inputs, category=inputs["category"] + 5)
        difference = np.abs(keras.ops.convert_to_numpy(segmenter(other) - logits))
        self.assertGreater(difference.max(), 0)
