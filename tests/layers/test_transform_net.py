import keras
import numpy as np

from keras_ttp.layers import TransformNet
from keras_ttp.layers.transform_net import orthogonality_loss
from tests.test_case import TestCase
from tests.test_case import random_points


class TransformNetTest(TestCase):
    def test_layer_basics(self):
        self.run_layer_test(
            TransformNet(3),
            random_points(2, 32),
            expected_output_shape=((2, 32, 3), (2, 3, 3)),
        )

    def test_starts_as_identity(self):
        points = random_points(2, 32)
        transformed, transform = TransformNet(3)(points)
        self.assertAllClose(transform, np.tile(np.eye(3), (2, 1, 1)))
        self.assertAllClose(transformed, points)

    def test_orthogonality_loss_equals_numpy(self):
        a = np.random.default_rng(0).normal(size=(4, 5, 5)).astype("float32")
        expected = np.mean(
            [np.sum((np.eye(5) - m @ m.T) ** 2) for m in a.astype("float64")]
        )
        np.testing.assert_allclose(float(orthogonality_loss(a)), expected, rtol=1e-5)

    def test_regularizer_is_added_as_loss(self):
        inputs = keras.Input((None, 4))
        outputs, _ = TransformNet(4, regularization=0.5)(inputs)
        model = keras.Model(inputs, outputs)
        model(np.random.default_rng(1).normal(size=(2, 16, 4)).astype("float32"))
        self.assertEqual(len(model.losses), 1)

    def test_rejects_wrong_channels(self):
        with self.assertRaisesRegex(ValueError, "expects inputs with 3 channels"):
            TransformNet(3)(np.zeros((1, 8, 4), "float32"))
