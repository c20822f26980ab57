import keras
import numpy as np

from keras_ttp.ops import random
from tests.test_case import TestCase


class RandomTest(TestCase):
    def test_same_numbers_as_keras_random(self):
        # Same seed state -> the same numbers as keras.random, eagerly and,
        # on tensorflow, under XLA (where the algorithm named makes the
        # difference in speed).
        shape = (3, 50, 3)
        draws = {
            "normal": (
                lambda seed: random.normal(shape, 0.5, "float32", seed),
                lambda seed: keras.random.normal(
                    shape, stddev=0.5, dtype="float32", seed=seed
                ),
            ),
            "uniform": (
                lambda seed: random.uniform(shape, -2.0, 3.0, "float32", seed),
                lambda seed: keras.random.uniform(
                    shape, -2.0, 3.0, dtype="float32", seed=seed
                ),
            ),
        }
        wrappers = [lambda f: f]
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            wrappers.append(lambda f: tf.function(f, jit_compile=True))
        for name, (ours, theirs) in draws.items():
            for wrap in wrappers:
                ours_seed, their_seed = (keras.random.SeedGenerator(7) for _ in "ab")
                ours_wrapped = wrap(lambda: ours(ours_seed))
                theirs_wrapped = wrap(lambda: theirs(their_seed))
                for _ in range(2):  # the second draw follows the advanced state
                    actual = keras.ops.convert_to_numpy(ours_wrapped())
                    expected = keras.ops.convert_to_numpy(theirs_wrapped())
                    np.testing.assert_array_equal(actual, expected, err_msg=name)
                self.assertGreater(np.std(actual), 0.1)
