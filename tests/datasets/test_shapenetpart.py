import pathlib

import numpy as np

from keras_ttp.datasets import DataFormatError
from keras_ttp.datasets import SHAPENETPART_CLASSES
from keras_ttp.datasets import SHAPENETPART_PARTS
from keras_ttp.datasets import load_shapenetpart
from keras_ttp.datasets import load_shapenetpart_h5
from tests.datasets.layouts import assert_normalised
from tests.datasets.layouts import clouds
from tests.datasets.layouts import truncate
from tests.datasets.layouts import write_lines
from tests.datasets.layouts import write_shapenetpart_h5
from tests.datasets.layouts import write_shapenetpart_txt
from tests.test_case import TestCase
from tests.test_case import shared_data_dir

CATEGORIES = [("Airplane", "02691156"), ("Table", "04379243")]


class PartTableTest(TestCase):
    def test_standard_table(self):
        self.assertEqual(len(SHAPENETPART_CLASSES), 16)
        parts = [p for name in SHAPENETPART_CLASSES for p in SHAPENETPART_PARTS[name]]
        self.assertEqual(parts, list(range(50)))
        self.assertEqual(SHAPENETPART_PARTS["Airplane"], [0, 1, 2, 3])
        self.assertEqual(SHAPENETPART_PARTS["Motorbike"], [30, 31, 32, 33, 34, 35])
        self.assertEqual(SHAPENETPART_PARTS["Table"], [47, 48, 49])


class ShapeNetPartRealDataTest(TestCase):
    def test_v0_normal_files(self):
        root = shared_data_dir("formats", "shapenetcore_partanno_segmentation_benchmark_v0_normal")
        data = load_shapenetpart(root, "trainval", num_points=2048)
        test = load_shapenetpart(root, "test", num_points=1024)
        self.assertEqual(data.points.shape, (3, 2048, 3))
        self.assertEqual(data.part_labels.shape, (3, 2048))
        self.assertEqual(test.points.shape, (1, 1024, 3))
        self.assertEqual(
            [data.class_names[i] for i in data.labels], ["Skateboard", "Table", "Skateboard"]
        )
        self.assertEqual(test.files, ["04379243/1a2abbc9712e2fffc3bd24f986301745.txt"])
        assert_normalised(data.points)
        unnormalised = load_shapenetpart(root, "trainval", normalize=False).points
        for points, parts, label, name in zip(
            unnormalised, data.part_labels, data.labels, data.files
        ):
            rows = np.loadtxt(root / name)
            category = SHAPENETPART_CLASSES[label]
            self.assertTrue(
                set(np.unique(rows[:, 6]).astype(int)) <= set(SHAPENETPART_PARTS[category])
            )
            # Every sampled point is a point of the file with its own part label.
            lookup = {tuple(r[:3].astype("float32")): r[6] for r in rows}
            self.assertEqual([lookup[tuple(p)] for p in points], list(parts))
        # y up: a table's top, the bulk of its points, lies at +y.
        table = data.points[data.labels == SHAPENETPART_CLASSES.index("Table")][0]
        self.assertGreater(table[:, 1].mean(), (table[:, 1].max() + table[:, 1].min()) / 2)


def shapes(seed, entries):
    """`[(synset, id, xyz, parts)]` with `entries` `[(synset, id, part ids)]`."""
    rng = np.random.default_rng(seed)
    return [(s, i, clouds(1, 40, seed)[0], rng.choice(p, 40).astype(float)) for s, i, p in entries]


class ShapeNetPartLayoutTest(TestCase):
    def setUp(self):
        super().setUp()
        self.root = pathlib.Path(self.tmp_dir) / "v0_normal"
        self.splits = {
            "train": shapes(0, [("02691156", "a", [0, 3]), ("04379243", "b", [47, 49])]),
            "val": shapes(1, [("04379243", "c", [48])]),
            "test": shapes(2, [("02691156", "d", [1, 2])]),
        }
        write_shapenetpart_txt(self.root, self.splits, CATEGORIES)

    def test_txt_layout(self):
        data = load_shapenetpart(self.root, "trainval", num_points=40, normalize=False)
        self.assertEqual(data.files, ["02691156/a.txt", "04379243/b.txt", "04379243/c.txt"])
        np.testing.assert_array_equal(data.labels, [0, 15, 15])
        self.assertAllClose(data.points[2], self.splits["val"][0][2], atol=1e-5)
        np.testing.assert_array_equal(data.part_labels[2], self.splits["val"][0][3])
        self.assertEqual(data.part_labels.dtype, np.int32)
        test = load_shapenetpart(self.root, "test", num_points=64)
        self.assertEqual(test.part_labels.shape, (1, 64))
        assert_normalised(test.points)

    def test_txt_bad_input(self):
        bad = shapes(3, [("04379243", "b", [12])])
        write_shapenetpart_txt(self.root, {"train": bad}, CATEGORIES)
        with self.assertRaisesRegex(
            DataFormatError,
            r"04379243/b.txt: part label 12.0 of point 0 is outside the parts of Table \[47, 48, 49\]",
        ):
            load_shapenetpart(self.root)
        write_shapenetpart_txt(self.root, {"train": []}, CATEGORIES)
        with self.assertRaisesRegex(
            DataFormatError, "shuffled_train_file_list.json: split list is empty"
        ):
            load_shapenetpart(self.root)
        write_shapenetpart_txt(
            self.root, {"train": shapes(4, [("03001627", "e", [12])])}, CATEGORIES
        )
        truncate(self.root / "03001627" / "e.txt", 0.97)
        with self.assertRaisesRegex(DataFormatError, "e.txt: bad line"):
            load_shapenetpart(self.root)
        write_shapenetpart_txt(
            self.root, {"train": shapes(4, [("01234567", "e", [12])])}, CATEGORIES
        )
        with self.assertRaisesRegex(
            DataFormatError, "synset 01234567 is not a ShapeNetPart category"
        ):
            load_shapenetpart(self.root)
        write_lines(self.root / "synsetoffset2category.txt", ["Plane\t02691156"])
        with self.assertRaisesRegex(
            DataFormatError,
            r"synsetoffset2category.txt: 'Plane\\t02691156' is not in the 16-category",
        ):
            load_shapenetpart(self.root)
        with self.assertRaisesRegex(ValueError, "`split` must be one of"):
            load_shapenetpart(self.root, "all")

    def test_h5_layout(self):
        root = pathlib.Path(self.tmp_dir) / "hdf5_data"
        pid = np.full((2, 32), 47)
        pid[0] = np.arange(32) % 4  # an airplane's parts 0..3
        data = clouds(2, 32)
        write_shapenetpart_h5(root, {"train": (data, [0, 15], pid), "val": (data, [0, 15], pid)})
        read = load_shapenetpart_h5(root, "trainval", normalize=False)
        self.assertEqual(read.points.shape, (4, 32, 3))
        self.assertAllClose(read.points[:2], data, atol=0)
        np.testing.assert_array_equal(read.labels, [0, 15, 0, 15])
        np.testing.assert_array_equal(read.part_labels[1], pid[1])
        self.assertEqual(read.files[3], "ply_data_val0.h5[1]")
        assert_normalised(load_shapenetpart_h5(root, "train").points)
        pid[1, 5] = 3  # an airplane part on a table
        write_shapenetpart_h5(root, {"train": (data, [0, 15], pid)})
        with self.assertRaisesRegex(
            DataFormatError,
            r"ply_data_train0.h5\[1\]: part label 3 of point 5 is outside the parts of Table",
        ):
            load_shapenetpart_h5(root)
        write_shapenetpart_h5(root, {"train": (data, [0, 16], pid)})
        with self.assertRaisesRegex(
            DataFormatError, "label 16 is outside the 16 ShapeNetPart categories"
        ):
            load_shapenetpart_h5(root)
        write_shapenetpart_h5(root, {"train": (data, [0, 15], pid[:, :16])})
        with self.assertRaisesRegex(
            DataFormatError, r"'pid' has shape \(2, 16\), expected \(2, 32\)"
        ):
            load_shapenetpart_h5(root)
        with self.assertRaisesRegex(FileNotFoundError, "test_hdf5_file_list.txt"):
            load_shapenetpart_h5(root, "test")
