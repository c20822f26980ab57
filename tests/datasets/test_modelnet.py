import json
import pathlib

import h5py
import numpy as np

from keras_ttp.datasets import DataFormatError
from keras_ttp.datasets import MODELNET10_CLASSES
from keras_ttp.datasets import MODELNET40_CLASSES
from keras_ttp.datasets import load_modelnet_h5
from keras_ttp.datasets import load_modelnet_resampled
from tests.datasets.layouts import assert_normalised
from tests.datasets.layouts import clouds
from tests.datasets.layouts import truncate
from tests.datasets.layouts import write_h5
from tests.datasets.layouts import write_lines
from tests.datasets.layouts import write_modelnet_h5
from tests.datasets.layouts import write_resampled
from tests.test_case import TestCase
from tests.test_case import shared_data_dir

CLASSES = ["bathtub", "bed", "chair"]


class ModelNetRealDataTest(TestCase):
    def test_modelnet10_h5(self):
        root = shared_data_dir("modelnet10_ply_hdf5_2048")
        train = load_modelnet_h5(root, "train")
        test = load_modelnet_h5(root, "test")
        self.assertEqual(train.points.shape, (3928, 2048, 3))
        self.assertEqual(test.points.shape, (899, 2048, 3))
        self.assertEqual(train.points.dtype, np.float32)
        self.assertEqual(train.class_names, MODELNET10_CLASSES)
        self.assertEqual(len(np.unique(np.concatenate([train.labels, test.labels]))), 10)
        self.assertEqual(train.files[2048], "ply_data_train1.h5[0]")
        assert_normalised(test.points)
        with h5py.File(root / "ply_data_test0.h5") as file:
            stored, labels = file["data"][:], file["label"][:, 0]
        # The community files are already centred and in the unit sphere.
        self.assertAllClose(test.points, stored, atol=1e-5)
        np.testing.assert_array_equal(test.labels, labels)
        # The id2file lists name each row's source mesh, of the row's class.
        for split, data in (("train", train), ("test", test)):
            sources = []
            for k in range(2 if split == "train" else 1):
                path = root / f"ply_data_{split}_{k}_id2file.json"
                sources += json.loads(path.read_text())
            self.assertEqual(len(sources), len(data))
            classes = [data.class_names[i] for i in data.labels]
            self.assertEqual([s.split("/")[0] for s in sources], classes)
        # y up: beds, sofas, tables and bathtubs are thinnest along y.
        extent = train.points.max(axis=1) - train.points.min(axis=1)
        flat = np.isin(train.labels, [0, 1, 7, 8])
        thinnest = np.bincount(extent[flat].argmin(axis=1), minlength=3) / flat.sum()
        self.assertGreater(thinnest[1], 0.8, thinnest)

    def test_modelnet40_normal_resampled(self):
        root = shared_data_dir("formats", "modelnet40_normal_resampled")
        names = (root / "modelnet40_shape_names.txt").read_text().split()
        self.assertEqual(names, MODELNET40_CLASSES)
        train = load_modelnet_resampled(root, "train")
        test = load_modelnet_resampled(root, "test", num_points=1024)
        self.assertEqual(train.points.shape, (5, 10000, 3))
        self.assertEqual(test.points.shape, (2, 1024, 3))
        self.assertEqual([train.class_names[i] for i in train.labels],
                         ["bathtub", "bottle", "guitar", "lamp", "person"])  # fmt: skip
        self.assertEqual(test.files, ["cup/cup_0080.txt", "piano/piano_0262.txt"])
        assert_normalised(train.points)
        rows = np.loadtxt(root / "cup" / "cup_0080.txt", delimiter=",")[:1024, :3]
        rows = rows - rows.mean(0)
        self.assertAllClose(test.points[0], rows / np.linalg.norm(rows, axis=1).max(), atol=1e-5)


class ModelNetH5LayoutTest(TestCase):
    def setUp(self):
        super().setUp()
        self.root = pathlib.Path(self.tmp_dir) / "modelnet40_ply_hdf5_2048"
        self.data = clouds(7, 32)
        self.labels = np.array([2, 0, 1, 1, 0, 2, 2])
        write_modelnet_h5(
            self.root,
            {
                "train": [(self.data[:3], self.labels[:3]), (self.data[3:5], self.labels[3:5])],
                "test": [(self.data[5:], self.labels[5:])],
            },
            CLASSES,
        )

    def test_read_back(self):
        train = load_modelnet_h5(self.root, "train", normalize=False)
        self.assertAllClose(train.points, self.data[:5], atol=0)
        np.testing.assert_array_equal(train.labels, self.labels[:5])
        self.assertEqual(train.labels.dtype, np.int32)
        self.assertEqual(train.class_names, CLASSES)
        self.assertEqual(train.files[3], "ply_data_train1.h5[0]")
        test = load_modelnet_h5(self.root, "test")
        self.assertEqual(len(test), 2)
        assert_normalised(test.points)

    def rewrite(self, **arrays):
        write_h5(self.root / "ply_data_train1.h5", **arrays)

    def assertFails(self, error, message, split="train"):
        with self.assertRaisesRegex(error, message):
            load_modelnet_h5(self.root, split)

    def test_bad_input(self):
        with self.assertRaisesRegex(FileNotFoundError, "data directory not found: .*nowhere"):
            load_modelnet_h5(self.root / "nowhere")
        with self.assertRaisesRegex(ValueError, "`split` must be one of"):
            load_modelnet_h5(self.root, "val")
        truncate(self.root / "ply_data_train1.h5")
        self.assertFails(DataFormatError, "ply_data_train1.h5: cannot read HDF5 file, truncated")
        self.rewrite(data=self.data[3:5])
        self.assertFails(
            DataFormatError, r"ply_data_train1.h5: no dataset 'label' \(it holds \['data'\]\)"
        )
        self.rewrite(data=self.data[3:5].astype("int64"), label=self.labels[3:5])
        self.assertFails(
            DataFormatError,
            "ply_data_train1.h5: expected floating-point coordinates, got dtype int64",
        )
        self.rewrite(data=self.data[3:5, :, :2], label=self.labels[3:5])
        self.assertFails(
            DataFormatError, r"ply_data_train1.h5: expected points of shape .*\(2, 32, 2\)"
        )
        self.rewrite(data=self.data[3:5, :16], label=self.labels[3:5])
        self.assertFails(
            DataFormatError, "train_files.txt: the files hold arrays of different shapes"
        )
        nan = self.data[3:5].copy()
        nan[1, 4, 2] = np.nan
        self.rewrite(data=nan, label=self.labels[3:5])
        self.assertFails(DataFormatError, "ply_data_train1.h5: 1 points have NaN.*shape 1, point 4")
        self.rewrite(data=self.data[3:5], label=np.array([[1], [3]], "uint8"))
        self.assertFails(
            DataFormatError,
            r"train_files.txt: label 3 is outside shape_names.txt \(valid labels: 0 to 2\)",
        )
        self.rewrite(data=self.data[3:5], label=np.array([[1]], "uint8"))
        self.assertFails(DataFormatError, "ply_data_train1.h5: 1 rows of 'label' for 2 shapes")
        write_h5(
            self.root / "ply_data_test0.h5", data=self.data[5:], label=np.ones((2, 2), "uint8")
        )
        self.assertFails(DataFormatError, "test_files.txt: 4 labels for 2 shapes", "test")
        write_lines(self.root / "test_files.txt", [])
        self.assertFails(DataFormatError, "test_files.txt: split list is empty", "test")
        (self.root / "ply_data_test0.h5").unlink()
        write_lines(self.root / "test_files.txt", ["data/x/ply_data_test0.h5"])
        self.assertFails(FileNotFoundError, "HDF5 file not found: .*ply_data_test0.h5", "test")


class ModelNetResampledLayoutTest(TestCase):
    def setUp(self):
        super().setUp()
        self.root = pathlib.Path(self.tmp_dir) / "modelnet40_normal_resampled"
        rows = np.concatenate([clouds(3, 40), np.ones((3, 40, 3), "float32")], axis=-1)
        self.rows = rows
        write_resampled(
            self.root,
            {"train": [("bed_0001", rows[0]), ("chair_0002", rows[1])],
             "test": [("bathtub_0001", rows[2])]},
            CLASSES,
            num_classes=10,
        )  # fmt: skip

    def test_read_back(self):
        train = load_modelnet_resampled(self.root, "train", num_classes=10, normalize=False)
        self.assertAllClose(train.points, self.rows[:2, :, :3], atol=1e-5)
        np.testing.assert_array_equal(train.labels, [1, 2])
        first = load_modelnet_resampled(self.root, "test", num_classes=10, num_points=8)
        self.assertEqual(first.points.shape, (1, 8, 3))
        with self.assertRaisesRegex(FileNotFoundError, "modelnet40_shape_names.txt"):
            load_modelnet_resampled(self.root, "train")

    def test_bad_input(self):
        path = self.root / "chair" / "chair_0002.txt"
        text = path.read_text().splitlines()
        path.write_text("\n".join(text[:-1] + ["0.1,0.2"]))
        with self.assertRaisesRegex(DataFormatError, "chair_0002.txt: bad line"):
            load_modelnet_resampled(self.root, num_classes=10)
        path.write_text("\n".join(line[: line.rfind(",")] for line in text))
        with self.assertRaisesRegex(
            DataFormatError, "chair_0002.txt: 5 values per line, expected 6"
        ):
            load_modelnet_resampled(self.root, num_classes=10)
        path.write_text("\n".join(["nan,0,0,0,0,1"] + text[1:]))
        with self.assertRaisesRegex(DataFormatError, "chair_0002.txt: 1 points have NaN"):
            load_modelnet_resampled(self.root, num_classes=10)
        write_lines(self.root / "modelnet10_train.txt", ["sofa_0001"])
        with self.assertRaisesRegex(
            DataFormatError, "modelnet10_train.txt: class 'sofa' .* outside the class table"
        ):
            load_modelnet_resampled(self.root, num_classes=10)
        with self.assertRaisesRegex(ValueError, r"`num_classes` must be one of \[10, 40\], got 55"):
            load_modelnet_resampled(self.root, num_classes=55)
