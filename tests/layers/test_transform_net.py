import keras
import numpy as np

from keras_ttp.layers import TransformNet
from keras_ttp.layers.transform_net import orthogonality_loss
from tests.test_case import TestCase
from tests.test_case import perturb_weights
from tests.test_case import random_points


class PlainTransformNet(TransformNet):
    """The textbook computation: every point layer at every point, then
    the max over points (what `batch_norm_max` must equal)."""

    def call(self, inputs, training=None):
        x = inputs
        for layer in self.point_layers:
            x = layer(x, training=training)
        x = keras.ops.max(x, axis=1)
        for layer in self.global_layers:
            x = layer(x, training=training)
        transform = keras.ops.reshape(self.transform_layer(x), (-1, self.size, self.size))
        transform = transform + keras.ops.eye(self.size)
        return keras.ops.matmul(inputs, transform), transform


def tnet_model(cls, size):
    keras.utils.set_random_seed(3)
    inputs = keras.Input((None, size))
    transformed, _ = cls(size)(inputs)
    model = keras.Model(inputs, transformed)
    perturb_weights(model, seed=4)
    # Gammas of both signs: a negative one must pick the smallest value.
    weights = model.get_weights()
    for i, w in enumerate(model.weights):
        if w.path.endswith("gamma"):
            weights[i] = np.random.default_rng(i).uniform(-1, 1, w.shape).astype("float32")
    model.set_weights(weights)
    return model


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

    def test_equals_the_plain_computation(self):
        points = random_points(8, 40, seed=5)
        fast, plain = tnet_model(TransformNet, 3), tnet_model(PlainTransformNet, 3)
        for training in (False, True):
            self.assertAllClose(
                fast(points, training=training), plain(points, training=training),
                atol=1e-5, rtol=1e-5,
            )  # fmt: skip

    def test_trains_like_the_plain_computation(self):
        """One SGD step: the same weights and moving statistics."""
        points = random_points(8, 40, seed=6)
        targets = random_points(8, 40, seed=7)
        models = [tnet_model(cls, 3) for cls in (TransformNet, PlainTransformNet)]
        for model in models:
            model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
            model.train_on_batch(points, targets)
        self.assertAllClose(
            models[0].get_weights(), models[1].get_weights(), atol=1e-5, rtol=1e-4
        )

    def test_regularizer_is_added_as_loss(self):
        inputs = keras.Input((None, 4))
        outputs, _ = TransformNet(4, regularization=0.5)(inputs)
        model = keras.Model(inputs, outputs)
        model(np.random.default_rng(1).normal(size=(2, 16, 4)).astype("float32"))
        self.assertEqual(len(model.losses), 1)

    def test_rejects_wrong_channels(self):
        with self.assertRaisesRegex(ValueError, "expects inputs with 3 channels"):
            TransformNet(3)(np.zeros((1, 8, 4), "float32"))
