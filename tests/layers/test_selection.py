import keras
import numpy as np

from keras_ttp.ops.selection import first_true_index
from keras_ttp.ops.selection import last_axis_argmax
from keras_ttp.ops.xla import compiling_with_xla
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

    def test_first_true_index_by_groups_equals_numpy(self):
        # Rows of 4 groups of 32 (the grouped path under XLA) and rows of 40
        # (one plain min): sparse and dense Trues, a True only in the first
        # or the last group, and a row without any (the last index).
        rng = np.random.default_rng(1)
        for n in (128, 40):
            mask = rng.uniform(size=(2, 7, n)) < np.array([0.01, 0.3])[:, None, None]
            mask[0, 0] = False
            mask[0, 1] = False
            mask[0, 1, 3] = True
            mask[0, 2] = False
            mask[0, 2, n - 1] = True
            mask[0, 3] = False
            mask[0, 3, [33, 34, n - 3]] = True
            expected = np.where(mask.any(-1), np.argmax(mask, axis=-1), n - 1)
            runs = [first_true_index]
            if xla_compiled(first_true_index) is not None:
                runs.append(xla_compiled(first_true_index))
            for run in runs:
                np.testing.assert_array_equal(
                    keras.ops.convert_to_numpy(run(mask)), expected, err_msg=f"n={n}"
                )
