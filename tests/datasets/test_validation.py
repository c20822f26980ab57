import pathlib

import numpy as np

from keras_ttp.datasets import DataFormatError
from keras_ttp.datasets import normalize_points
from keras_ttp.datasets import z_up_to_y_up
from keras_ttp.datasets.validation import check_labels
from keras_ttp.datasets.validation import read_list_file
from keras_ttp.datasets.validation import read_text_table
from tests.datasets.layouts import assert_normalised
from tests.datasets.layouts import clouds
from tests.test_case import TestCase


class FrameTest(TestCase):
    def test_normalize_points(self):
        points = clouds(3, 100)
        normalised = normalize_points(points)
        self.assertEqual(normalised.dtype, np.float32)
        assert_normalised(normalised)
        # A translation and a uniform scale, nothing else.
        ratio = (normalised[:, 1:] - normalised[:, :1]) / (points[:, 1:] - points[:, :1])
        self.assertAllClose(ratio, ratio[:, :1, :1] * np.ones_like(ratio), rtol=1e-4, atol=1e-6)
        assert_normalised(normalize_points(points[0]))
        flat = points.copy()
        flat[1] = 5.0
        with self.assertRaisesRegex(DataFormatError, "my clouds: all points of shape 1 coincide"):
            normalize_points(flat, "my clouds")

    def test_z_up_to_y_up(self):
        self.assertAllClose(
            z_up_to_y_up(np.array([[[1.0, 2.0, 3.0]]])), np.array([[[1.0, 3.0, 2.0]]])
        )


class ValidationTest(TestCase):
    def test_labels(self):
        np.testing.assert_array_equal(check_labels(np.array([2.0, 0.0]), 3, "f"), [2, 0])
        with self.assertRaisesRegex(DataFormatError, "f: labels are not whole numbers"):
            check_labels(np.array([0.5]), 3, "f")
        with self.assertRaisesRegex(DataFormatError, "f: labels are not whole numbers"):
            check_labels(np.array([np.nan]), 3, "f")
        with self.assertRaisesRegex(DataFormatError, "f: expected integer labels, got dtype <U1"):
            check_labels(np.array(["a"]), 3, "f")
        with self.assertRaisesRegex(
            DataFormatError, r"f: label -1 is outside the class table \(valid labels: 0 to 2\)"
        ):
            check_labels(np.array([0, -1]), 3, "f")

    def test_text_files(self):
        path = pathlib.Path(self.tmp_dir) / "list.txt"
        path.write_bytes(b"\xff\xfe\x00")
        with self.assertRaisesRegex(DataFormatError, "list.txt: list file is not text"):
            read_list_file(path)
        path.write_text("\n  \n")
        with self.assertRaisesRegex(DataFormatError, "list.txt: list file is empty"):
            read_list_file(path)
        with self.assertRaisesRegex(DataFormatError, "list.txt: no points"):
            read_text_table(path, 6)
