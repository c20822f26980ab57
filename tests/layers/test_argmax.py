import keras
import numpy as np

from keras_ttp.layers.argmax import first_true_index
from keras_ttp.layers.argmax import last_axis_argmax
from keras_ttp.utils.compiling import compiling_with_xla
from tests.test_case import TestCase
from tests.test_case import xla_compiled


class ArgmaxTest(TestCase):
    def test_last_axis_argmax_equals_numpy_with_ties(self):
        x = np.round(np.random.default_rng(0).normal(size=(3, 5, 40)), 1).astype("float32")
        x[0, 0] = 2.0  # all tied
        x[1, :, 7] = x[1, :, 30] = 9.0  # the maximum twice
        x[2, 1] = -np.inf
        x[2, 2, 4] = np.inf
        function = lambda x: (last_axis_argmax(x), compiling_with_xla(x))  # noqa: E731
        runs = [function]
        if xla_compiled(function) is not None:
            runs.append(xla_compiled(function))
        used_xla = []
        for run in runs:
            indices, xla = run(x)
            used_xla.append(bool(xla))
            self.assertEqual(keras.ops.convert_to_numpy(indices).dtype, np.int32)
            np.testing.assert_array_equal(
                keras.ops.convert_to_numpy(indices), np.argmax(x, axis=-1)
            )
        self.assertEqual(used_xla, [False, True][: len(runs)])

    def test_first_true_index(self):
        mask = np.zeros((3, 6), bool)
        mask[0, [2, 4]] = True
        mask[1, 5] = True
        # Row 2 holds none: the last index, still a valid one.
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(first_true_index(mask)), [2, 5, 5]
        )
