import pathlib

import numpy as np

from keras_ttp.datasets import DataFormatError
from keras_ttp.datasets import SHAPENET_SYNSETS
from keras_ttp.datasets import load_shapenet55
from keras_ttp.datasets import load_shapenet_ply
from keras_ttp.datasets import read_ply
from tests.datasets.layouts import assert_normalised
from tests.datasets.layouts import clouds
from tests.datasets.layouts import write_lines
from tests.datasets.layouts import write_shapenet55
from tests.datasets.layouts import write_shapenet_ply
from tests.test_case import TestCase
from tests.test_case import shared_data_dir

FLAT_CLASSES = ("airplane", "car", "sofa", "table")


class ShapeNetRealDataTest(TestCase):
    def test_shapenet260(self):
        root = shared_data_dir("shapenet260")
        data = load_shapenet_ply(root)
        self.assertEqual(data.points.shape, (260, 2048, 3))
        self.assertEqual(data.points.dtype, np.float32)
        self.assertEqual(len(data.class_names), 13)
        np.testing.assert_array_equal(np.bincount(data.labels), [20] * 13)
        self.assertEqual(data.class_names[0], "airplane")
        self.assertEqual(data.class_names[-1], "watercraft")
        assert_normalised(data.points)
        # The files are read unchanged except for the y/z swap.
        raw = load_shapenet_ply(root, normalize=False, z_up=False)
        self.assertAllClose(raw.points[5], read_ply(root / raw.files[5]), atol=0)
        swapped = load_shapenet_ply(root, normalize=False)
        self.assertAllClose(swapped.points, raw.points[..., [0, 2, 1]], atol=0)

    def test_shapenet260_is_turned_y_up(self):
        data = load_shapenet_ply(shared_data_dir("shapenet260"))
        extent = data.points.max(axis=1) - data.points.min(axis=1)
        flat = np.isin(data.labels, [data.class_names.index(c) for c in FLAT_CLASSES])
        # Airplanes, cars, sofas and tables are thinnest along the up axis...
        thinnest = np.bincount(extent[flat].argmin(axis=1), minlength=3) / flat.sum()
        self.assertGreater(thinnest[1], 0.75, thinnest)
        # ... and table tops, the bulk of a table's points, lie at +y.
        tables = data.points[data.labels == data.class_names.index("table")]
        middle = (tables.max(axis=1) + tables.min(axis=1)) / 2
        self.assertGreater(np.mean(tables.mean(axis=1)[:, 1] > middle[:, 1]), 0.75)


class ShapeNetLayoutTest(TestCase):
    def setUp(self):
        super().setUp()
        self.root = pathlib.Path(self.tmp_dir) / "shapenet"
        self.shapes = {"03001627": clouds(3, 64, 1), "02691156": clouds(2, 64, 2)}

    def test_binary_and_ascii_layouts(self):
        for binary in (True, False):
            root = write_shapenet_ply(self.root / str(binary), self.shapes, binary)
            data = load_shapenet_ply(root)
            self.assertEqual(data.class_names, ["airplane", "chair"])
            np.testing.assert_array_equal(data.labels, [0, 0, 1, 1, 1])
            self.assertEqual(data.files[2], "03001627/model000.ply")
            assert_normalised(data.points)
            expected = self.shapes["03001627"][0][:, [0, 2, 1]]
            expected = expected - expected.mean(0)
            expected /= np.linalg.norm(expected, axis=1).max()
            self.assertAllClose(data.points[2], expected, atol=1e-5)

    def test_resampling_to_num_points(self):
        self.shapes["02691156"] = [clouds(1, 80)[0], clouds(1, 50)[0]]
        write_shapenet_ply(self.root, self.shapes)
        with self.assertRaisesRegex(DataFormatError, "has 50 points where .* has 80.*num_points"):
            load_shapenet_ply(self.root)
        data = load_shapenet_ply(self.root, num_points=64, seed=3, normalize=False)
        self.assertEqual(data.points.shape, (5, 64, 3))
        # A subset of the file's points, without repeats when there are enough.
        self.assertEqual(len(np.unique(data.points[0], axis=0)), 64)
        source = self.shapes["02691156"][0][:, [0, 2, 1]]
        self.assertTrue(np.isin(data.points[0], source).all())
        # Padding with repeated points when there are too few; seeded.
        self.assertEqual(len(np.unique(data.points[1], axis=0)), 50)
        again = load_shapenet_ply(self.root, num_points=64, seed=3, normalize=False)
        self.assertAllClose(again.points, data.points, atol=0)

    def test_bad_folders(self):
        with self.assertRaisesRegex(
            FileNotFoundError, "shapenet260 data directory not found: .*missing"
        ):
            load_shapenet_ply(self.root / "missing")
        (self.root / "12345678").mkdir(parents=True)
        with self.assertRaisesRegex(DataFormatError, "12345678.* not one of the 55"):
            load_shapenet_ply(self.root)
        (self.root / "12345678").rmdir()
        (self.root / "03001627").mkdir()
        with self.assertRaisesRegex(DataFormatError, "03001627: no .ply files"):
            load_shapenet_ply(self.root)

    def test_shapenet55_layout(self):
        self.assertEqual(len(SHAPENET_SYNSETS), 55)
        cloud = clouds(3, 128)
        root = write_shapenet55(
            self.root,
            {
                "train": [("04379243", "a1", cloud[0]), ("02691156", "b2", cloud[1])],
                "test": [("04554684", "c3", cloud[2])],
            },
        )
        train = load_shapenet55(root, "train")
        self.assertEqual(train.points.shape, (2, 128, 3))
        self.assertEqual(len(train.class_names), 55)
        self.assertEqual(
            [train.class_names[i] for i in train.labels], ["table", "airplane"]
        )
        assert_normalised(train.points)
        test = load_shapenet55(root, "test", num_points=32)
        self.assertEqual(test.points.shape, (1, 32, 3))
        self.assertEqual(test.class_names[test.labels[0]], "washer")
        self.assertEqual(test.labels[0], 54)

    def test_shapenet55_bad_input(self):
        cloud = clouds(1, 16)[0]
        root = write_shapenet55(self.root, {"train": [("99999999", "x", cloud)]})
        with self.assertRaisesRegex(DataFormatError, "train.txt: '99999999' is not one of"):
            load_shapenet55(root)
        write_lines(root / "ShapeNet-55" / "train.txt", [])
        with self.assertRaisesRegex(DataFormatError, "train.txt: split list is empty"):
            load_shapenet55(root)
        write_shapenet55(root, {"train": [("02691156", "x", cloud.astype("int32"))]})
        with self.assertRaisesRegex(DataFormatError, "02691156-x.npy: expected floating-point"):
            load_shapenet55(root)
        write_shapenet55(root, {"train": [("02691156", "x", cloud[:, :2])]})
        with self.assertRaisesRegex(
            DataFormatError, r"02691156-x.npy: expected points of shape.*\(16, 2\)"
        ):
            load_shapenet55(root)
        (root / "shapenet_pc" / "02691156-x.npy").write_bytes(b"\x93NUMPY garbage")
        with self.assertRaisesRegex(DataFormatError, "02691156-x.npy: cannot read .npy"):
            load_shapenet55(root)
        with self.assertRaisesRegex(ValueError, "`split` must be one of \\['train', 'test'\\]"):
            load_shapenet55(root, "val")
