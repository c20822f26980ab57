import pathlib

import numpy as np

from keras_ttp.datasets import DataFormatError
from keras_ttp.datasets import SCANOBJECTNN_CLASSES
from keras_ttp.datasets import load_scanobjectnn
from tests.datasets.layouts import assert_normalised
from tests.datasets.layouts import clouds
from tests.datasets.layouts import truncate
from tests.datasets.layouts import write_scanobjectnn
from tests.test_case import TestCase


class ScanObjectNNTest(TestCase):
    def setUp(self):
        super().setUp()
        self.root = pathlib.Path(self.tmp_dir) / "h5_files"

    def test_every_variant_and_split(self):
        self.assertEqual(len(SCANOBJECTNN_CLASSES), 15)
        for seed, variant in enumerate(("OBJ_BG", "OBJ_ONLY", "PB_T50_RS")):
            for split in ("train", "test"):
                data = clouds(4, 64, seed)
                labels = np.array([0, 14, 3, seed])
                write_scanobjectnn(self.root, variant, split, data, labels)
                with self.subTest(variant=variant, split=split):
                    read = load_scanobjectnn(self.root, variant, split, normalize=False)
                    self.assertAllClose(read.points, data, atol=0)
                    np.testing.assert_array_equal(read.labels, labels)
                    self.assertEqual(read.class_names[14], "toilet")
                    assert_normalised(load_scanobjectnn(self.root, variant, split).points)
        self.assertTrue((self.root / "main_split_nobg" / "test_objectdataset.h5").exists())
        self.assertTrue(
            (self.root / "main_split" / "training_objectdataset_augmentedrot_scale75.h5").exists()
        )

    def test_bad_input(self):
        path = write_scanobjectnn(self.root, "OBJ_BG", "train", clouds(2, 16), [1, 15])
        with self.assertRaisesRegex(
            DataFormatError, r"training_objectdataset.h5: label 15 is outside the 15 classes"
        ):
            load_scanobjectnn(self.root, "OBJ_BG")
        data = clouds(2, 16)
        data[0, 0, 0] = np.inf
        write_scanobjectnn(self.root, "OBJ_BG", "train", data, [1, 2])
        with self.assertRaisesRegex(
            DataFormatError, "training_objectdataset.h5: 1 points have NaN or infinite"
        ):
            load_scanobjectnn(self.root, "OBJ_BG")
        truncate(path)
        with self.assertRaisesRegex(DataFormatError, "training_objectdataset.h5: cannot read HDF5"):
            load_scanobjectnn(self.root, "OBJ_BG")
        with self.assertRaisesRegex(
            FileNotFoundError, "HDF5 file not found: .*main_split_nobg/test_objectdataset.h5"
        ):
            load_scanobjectnn(self.root, "OBJ_ONLY", "test")
        with self.assertRaisesRegex(ValueError, "`variant` must be one of"):
            load_scanobjectnn(self.root, "PB_T25")
        with self.assertRaisesRegex(FileNotFoundError, "scanobjectnn data directory not found"):
            load_scanobjectnn(self.root / "missing")
