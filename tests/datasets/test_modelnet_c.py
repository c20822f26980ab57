import pathlib

import numpy as np

from keras_ttp.datasets import DataFormatError
from keras_ttp.datasets import MODELNET40C_CORRUPTIONS
from keras_ttp.datasets import MODELNET40_CLASSES
from keras_ttp.datasets import load_modelnet40c
from tests.datasets.layouts import assert_normalised
from tests.datasets.layouts import clouds
from tests.datasets.layouts import truncate
from tests.datasets.layouts import write_modelnet40c
from tests.test_case import TestCase


class ModelNet40CTest(TestCase):
    def setUp(self):
        super().setUp()
        self.root = pathlib.Path(self.tmp_dir) / "modelnet40_c"
        self.labels = np.array([0, 39, 7])

    def test_corruptions_and_original(self):
        self.assertEqual(len(MODELNET40C_CORRUPTIONS), 15)
        for name, kwargs in (
            ("data_original", {"corruption": "original"}),
            ("data_lidar_3", {"corruption": "lidar", "severity": 3}),
            ("data_distortion_rbf_inv_5", {"corruption": "distortion_rbf_inv", "severity": 5}),
        ):
            data = clouds(3, 32)
            write_modelnet40c(self.root, name, data, self.labels)
            with self.subTest(name):
                read = load_modelnet40c(self.root, normalize=False, **kwargs)
                self.assertAllClose(read.points, data, atol=0)
                np.testing.assert_array_equal(read.labels, self.labels)
                self.assertEqual(read.class_names, MODELNET40_CLASSES)
                self.assertEqual(read.files[1], f"{name}.npy[1]")
                assert_normalised(load_modelnet40c(self.root, **kwargs).points)

    def test_bad_input(self):
        write_modelnet40c(self.root, "data_shear_2", clouds(3, 32), [0, 40, 1])
        with self.assertRaisesRegex(
            DataFormatError, "label.npy: label 40 is outside the 40 ModelNet40 classes"
        ):
            load_modelnet40c(self.root, "shear", 2)
        write_modelnet40c(self.root, "data_shear_2", clouds(3, 32), [0, 1])
        with self.assertRaisesRegex(DataFormatError, "label.npy: 2 labels for 3 shapes"):
            load_modelnet40c(self.root, "shear", 2)
        write_modelnet40c(self.root, "data_shear_2", clouds(3, 32)[0], [0, 1, 2])
        with self.assertRaisesRegex(DataFormatError, r"data_shear_2.npy: expected points of shape"):
            load_modelnet40c(self.root, "shear", 2)
        write_modelnet40c(self.root, "data_shear_2", clouds(3, 32).astype("float16"), [0, 1, 2])
        self.assertEqual(load_modelnet40c(self.root, "shear", 2).points.dtype, np.float32)
        truncate(self.root / "data_shear_2.npy")
        with self.assertRaisesRegex(DataFormatError, "data_shear_2.npy: cannot read .npy file"):
            load_modelnet40c(self.root, "shear", 2)
        with self.assertRaisesRegex(FileNotFoundError, ".npy file not found: .*data_shear_1.npy"):
            load_modelnet40c(self.root, "shear", 1)
        with self.assertRaisesRegex(
            ValueError, r"`severity` must be one of \[1, 2, 3, 4, 5\], got 0"
        ):
            load_modelnet40c(self.root, "shear", 0)
        with self.assertRaisesRegex(
            ValueError, r"`corruption` must be one of \[.original., .occlusion.,.*got .snow."
        ):
            load_modelnet40c(self.root, "snow", 1)
        with self.assertRaisesRegex(ValueError, "takes no severity"):
            load_modelnet40c(self.root, "original", 1)
