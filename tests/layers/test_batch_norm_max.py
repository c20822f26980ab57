import keras
import numpy as np

from keras_ttp.layers.batch_norm_max import batch_norm_max
from tests.test_case import TestCase


class BatchNormMaxTest(TestCase):
    def test_equals_numpy_max_of_batch_norm(self):
        rng = np.random.default_rng(0)
        z = (rng.normal(size=(3, 40, 16)) * 3 + 5).astype("float32")
        gamma = rng.uniform(-1, 1, 16)  # both signs
        beta, moving_mean = rng.normal(size=16), rng.normal(size=16)
        moving_var = rng.uniform(0.5, 2, 16)
        bn = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)
        bn.build(z.shape)
        bn.set_weights([gamma, beta, moving_mean, moving_var])
        z64 = z.astype("float64")
        for training in (False, True):
            mean = z64.mean((0, 1)) if training else moving_mean
            var = z64.var((0, 1)) if training else moving_var
            expected = ((z64 - mean) / np.sqrt(var + 1e-5) * gamma + beta).max(axis=1)
            self.assertAllClose(
                batch_norm_max(bn, z, training), expected, atol=1e-5, rtol=1e-5
            )
        # The training call moved the moving statistics like BatchNormalization.
        self.assertAllClose(
            bn.moving_mean, 0.9 * moving_mean + 0.1 * z64.mean((0, 1)), atol=1e-5
        )
        self.assertAllClose(
            bn.moving_variance, 0.9 * moving_var + 0.1 * z64.var((0, 1)), atol=1e-5
        )
