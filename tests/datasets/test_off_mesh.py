import json
import os
import pathlib
import time

import h5py
import numpy as np
import trimesh
from scipy.spatial import cKDTree

from keras_ttp.datasets import DataFormatError
from keras_ttp.datasets import load_modelnet_off
from keras_ttp.datasets import normalize_points
from keras_ttp.datasets import read_off
from keras_ttp.datasets import sample_mesh_surface
from tests.datasets.layouts import assert_normalised
from tests.datasets.layouts import truncate
from tests.datasets.layouts import write_lines
from tests.datasets.layouts import write_off
from tests.test_case import TestCase
from tests.test_case import shared_data_dir


# A unit cube of six quads (polygon faces).
CUBE = np.array([[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)], float)
CUBE_QUADS = [[0, 1, 3, 2], [4, 6, 7, 5], [0, 4, 5, 1], [2, 3, 7, 6], [0, 2, 6, 4], [1, 5, 7, 3]]


def distance_to_mesh(points, mesh, tolerance=1e-4):
    """Distance of each point to the nearest triangle of a trimesh mesh,
    computed by trimesh for the triangles whose bounding box (grown by
    `tolerance`) holds the point; `inf` where none does."""
    low = mesh.triangles.min(axis=1) - tolerance
    high = mesh.triangles.max(axis=1) + tolerance
    inside = ((points[:, None] >= low) & (points[:, None] <= high)).all(-1)
    point_index, face_index = np.nonzero(inside)
    closest = trimesh.triangles.closest_point(mesh.triangles[face_index], points[point_index])
    distance = np.full(len(points), np.inf)
    np.minimum.at(distance, point_index, np.linalg.norm(closest - points[point_index], axis=1))
    return distance


def chamfer(a, b):
    return cKDTree(a).query(b)[0].mean() + cKDTree(b).query(a)[0].mean()


class SurfaceSamplingTest(TestCase):
    def test_points_lie_on_real_mesh_surfaces(self):
        for path in sorted(shared_data_dir("formats", "ModelNet10_off").glob("*/test/*.off")):
            with self.subTest(path.name):
                vertices, faces = read_off(path)
                points = sample_mesh_surface(vertices, faces, 300, seed=0)
                mesh = trimesh.load(path, process=False)  # trimesh's own parser
                # In the meshes' raw units (up to ~800), with float64 vertices.
                self.assertLess(distance_to_mesh(points, mesh).max(), 1e-5)

    def test_density_matches_trimesh_sampler_on_real_meshes(self):
        # The share of points in each octant around the centroid agrees with
        # trimesh's area-weighted sampler within sampling error.
        n = 20000
        for name in ("bed/test/bed_0516.off", "chair/test/chair_0890.off"):
            path = shared_data_dir("formats", "ModelNet10_off", name)
            mesh = trimesh.load(path, process=False)
            ours = sample_mesh_surface(*read_off(path), n, seed=1)
            reference, _ = trimesh.sample.sample_surface(mesh, n, seed=2)
            octant = lambda p: ((p > mesh.centroid) * [1, 2, 4]).sum(1)  # noqa: E731
            p_ours = np.bincount(octant(ours), minlength=8) / n
            p_ref = np.bincount(octant(reference), minlength=8) / n
            stderr = np.sqrt(2 * p_ref * (1 - p_ref) / n) + 1e-9
            self.assertLess(np.max(np.abs(p_ours - p_ref) / stderr), 4.5, (p_ours, p_ref))

    def test_area_proportional_closed_form(self):
        # Four disjoint triangles at different heights, areas 1 : 2 : 3 : 10.
        scales = np.sqrt([1.0, 2.0, 3.0, 10.0])
        unit = np.array([[0, 0], [np.sqrt(2), 0], [0, np.sqrt(2)]])  # area 1
        vertices = np.concatenate(
            [np.c_[unit * s, np.full(3, z)] for z, s in enumerate(scales)]
        )
        faces = np.arange(12).reshape(4, 3)
        n = 40000
        points = sample_mesh_surface(vertices, faces, n, seed=0)
        counts = np.bincount(points[:, 2].round().astype(int), minlength=4)
        expected = n * np.array([1, 2, 3, 10]) / 16
        self.assertLess(np.sum((counts - expected) ** 2 / expected), 16.3)  # chi2(3), p=0.001
        # Uniform inside a triangle: P(x + y < half the legs' sum) = 1/4.
        big = points[points[:, 2] > 2.5]
        share = np.mean(big[:, 0] + big[:, 1] < np.sqrt(2) * scales[3] / 2)
        self.assertAlmostEqual(share, 0.25, delta=4 * np.sqrt(0.25 * 0.75 / len(big)))

    def test_seeded(self):
        square = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], float)
        faces = np.array([[0, 1, 2], [0, 2, 3]])
        a = sample_mesh_surface(square, faces, 50, seed=4)
        self.assertAllClose(a, sample_mesh_surface(square, faces, 50, seed=4), atol=0)
        self.assertGreater(np.abs(a - sample_mesh_surface(square, faces, 50, seed=5)).max(), 0)
        with self.assertRaisesRegex(DataFormatError, "no surface area"):
            sample_mesh_surface(square * 0, faces, 10)


class OffFormatTest(TestCase):
    def setUp(self):
        super().setUp()
        self.path = pathlib.Path(self.tmp_dir) / "mesh.off"
        self.vertices, self.quads = CUBE, CUBE_QUADS

    def test_header_variants_and_polygons(self):
        for fused in (False, True):
            write_off(self.path, self.vertices, self.quads, fused_header=fused)
            vertices, faces = read_off(self.path)
            self.assertAllClose(vertices, self.vertices, atol=0)
            self.assertEqual(faces.shape, (12, 3))
            mesh = trimesh.Trimesh(vertices, faces, process=False)
            self.assertAlmostEqual(mesh.area, 6.0)
            self.assertTrue(mesh.is_watertight)

    def test_mixed_polygons_and_colours(self):
        lines = ["OFF", "5 2 0"] + [" ".join(map(str, v)) for v in self.vertices[:5]]
        lines[2] += " 255 0 0"  # a vertex colour
        lines += ["4 0 1 3 2 255 0 0", "3 0 1 4 0.5 0.5 0.5 1"]
        write_lines(self.path, lines)
        vertices, faces = read_off(self.path)
        self.assertAllClose(vertices, self.vertices[:5], atol=0)
        np.testing.assert_array_equal(faces, [[0, 1, 3], [0, 3, 2], [0, 1, 4]])

    def test_bad_files(self):
        good = ["OFF", "3 1 0", "0 0 0", "1 0 0", "0 1 0"]
        cases = {
            "not an OFF file": ["PLY"] + good[1:] + ["3 0 1 2"],
            "bad OFF counts line": ["OFF", "three 1 0"] + good[2:] + ["3 0 1 2"],
            "truncated, the header declares 3 vertices and 1 faces": good,
            "refers to vertex 7, outside 0..2": good + ["3 0 1 7"],
            "face 0 has 2 of its 2 vertex indices": good + ["2 0 1"],
            "face 0 has 2 of its 3 vertex indices": good + ["3 0 1"],
            "bad face line": good + ["3 0 one 2"],
            "a vertex line has no three numbers": good[:3] + ["1 0", "0 1 0", "3 0 1 2"],
            "1 points have NaN": good[:3] + ["nan 0 0", "0 1 0", "3 0 1 2"],
            "the mesh has no faces": ["OFF", "3 0 0"] + good[2:],
        }
        for message, lines in cases.items():
            with self.subTest(message):
                write_lines(self.path, lines)
                with self.assertRaisesRegex(DataFormatError, f"mesh.off: .*{message}"):
                    read_off(self.path)
        write_off(self.path, self.vertices, self.quads)
        truncate(self.path, 0.7)
        with self.assertRaisesRegex(DataFormatError, "mesh.off: truncated"):
            read_off(self.path)


class ModelNetOffTest(TestCase):
    def test_real_meshes_match_the_hdf5_rows(self):
        # Sampled, turned y up and normalised, each mesh lies close to the
        # row made from the same mesh in the community HDF5 file.
        off_dir = shared_data_dir("formats", "ModelNet10_off")
        h5_dir = shared_data_dir("modelnet10_ply_hdf5_2048")
        data = load_modelnet_off(off_dir, "test", num_points=2048, cache_dir=self.tmp_dir)
        self.assertEqual(data.points.shape, (10, 2048, 3))
        self.assertEqual(data.class_names[:2], ["bathtub", "bed"])
        np.testing.assert_array_equal(data.labels, np.arange(10))
        assert_normalised(data.points)
        ids = json.loads((h5_dir / "ply_data_test_0_id2file.json").read_text())
        with h5py.File(h5_dir / "ply_data_test0.h5") as file:
            rows = file["data"][:]
        right, wrong = [], []
        for points, name in zip(data.points, data.files):
            row = rows[ids.index(name.replace("/test/", "/"))]
            right.append(chamfer(points, row))
            wrong.append(chamfer(normalize_points(points[:, [0, 2, 1]]), row))
        self.assertLess(max(right), 0.09, right)
        self.assertLess(np.mean(right), 0.4 * np.mean(wrong), (right, wrong))

    def test_cache(self):
        root = pathlib.Path(self.tmp_dir) / "ModelNet"
        for name, scale in (("box", [1, 1, 1]), ("plate", [2, 2, 0.1])):
            for i in range(2):
                write_off(
                    root / name / "train" / f"{name}_{i:04d}.off", CUBE * scale, CUBE_QUADS, i == 1
                )
        cache = pathlib.Path(self.tmp_dir) / "cache"
        first = load_modelnet_off(root, "train", num_points=256, seed=1, cache_dir=cache)
        self.assertEqual(len(list(cache.glob("keras_ttp/off_samples/ModelNet_train_*.npz"))), 1)
        start = time.perf_counter()
        second = load_modelnet_off(root, "train", num_points=256, seed=1, cache_dir=cache)
        self.assertLess(time.perf_counter() - start, 0.5)
        self.assertAllClose(second.points, first.points, atol=0)
        self.assertEqual(second.files, first.files)
        np.testing.assert_array_equal(second.labels, [0, 0, 1, 1])
        uncached = load_modelnet_off(root, "train", num_points=256, seed=1, use_cache=False)
        self.assertAllClose(uncached.points, first.points, atol=0)
        # A changed file or other arguments make a new cache entry.
        os.utime(root / "box" / "train" / "box_0000.off", ns=(1, 1))
        load_modelnet_off(root, "train", num_points=256, seed=1, cache_dir=cache)
        load_modelnet_off(root, "train", num_points=256, seed=2, cache_dir=cache)
        self.assertEqual(len(list(cache.glob("keras_ttp/off_samples/*.npz"))), 3)
        # Plates are flat along the meshes' z, so along y once turned y up.
        self.assertLess(np.ptp(first.points[2][:, 1]), 0.2)
        with self.assertRaisesRegex(FileNotFoundError, "split folder not found: .*box/test"):
            load_modelnet_off(root, "test", cache_dir=cache)
        (root / "plate" / "train" / "plate_0001.off").write_text("OFF\n8 1 0\n")
        with self.assertRaisesRegex(DataFormatError, "plate_0001.off: truncated"):
            load_modelnet_off(root, "train", cache_dir=cache)
