import keras
import numpy as np

from keras_ttp.ops.batch_norm_max import dense_batch_norm_max
from tests.test_case import TestCase
from tests.test_case import xla_compiled


class DenseBatchNormMaxTest(TestCase):
    def test_equals_numpy_max_of_batch_norm(self):
        rng = np.random.default_rng(0)
        x = (rng.normal(size=(3, 40, 6)) * 3 + 5).astype("float32")
        kernel, bias = rng.normal(size=(6, 16)), rng.normal(size=16)
        gamma = rng.uniform(-1, 1, 16)  # both signs
        beta, moving_mean = rng.normal(size=16), rng.normal(size=16)
        moving_var = rng.uniform(0.5, 2, 16)
        dense = keras.layers.Dense(16)
        dense.build(x.shape)
        dense.set_weights([kernel, bias])
        bn = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)
        bn.build(x.shape[:-1] + (16,))
        bn.set_weights([gamma, beta, moving_mean, moving_var])
        z = x.astype("float64") @ kernel + bias
        compiled = xla_compiled(lambda x: dense_batch_norm_max(dense, bn, x, False))
        if compiled is not None:  # one sample at a time, channels first
            expected = ((z - moving_mean) / np.sqrt(moving_var + 1e-5) * gamma + beta)
            self.assertAllClose(
                compiled(x), expected.max(axis=1), atol=1e-4, rtol=1e-4
            )
        for training in (False, True):
            mean = z.mean((0, 1)) if training else moving_mean
            var = z.var((0, 1)) if training else moving_var
            expected = ((z - mean) / np.sqrt(var + 1e-5) * gamma + beta).max(axis=1)
            self.assertAllClose(
                dense_batch_norm_max(dense, bn, x, training),
                expected,
                atol=1e-4,
                rtol=1e-4,
            )
        # The training call moved the moving statistics like BatchNormalization.
        self.assertAllClose(
            bn.moving_mean, 0.9 * moving_mean + 0.1 * z.mean((0, 1)), atol=1e-4
        )
        self.assertAllClose(
            bn.moving_variance, 0.9 * moving_var + 0.1 * z.var((0, 1)), rtol=1e-4
        )
