import numpy as np
from sklearn.ensemble import RandomForestClassifier

from keras_ttp.datasets import SYNTHETIC_CLASSES
from keras_ttp.datasets import make_synthetic_shapes
from keras_ttp.datasets import sample_mesh_surface
from keras_ttp.datasets.synthetic import primitive_mesh
from tests.datasets.layouts import assert_normalised
from tests.test_case import TestCase


def upright_histograms(points, bins=8):
    """Features invariant to rotations about y: 2-D histograms of each
    point's distance from the y axis and its height."""
    radial = np.linalg.norm(points[..., [0, 2]], axis=-1)
    return np.stack(
        [
            np.histogram2d(r, y, bins, [[0, 1], [-1, 1]])[0].ravel()
            for r, y in zip(radial, points[..., 1])
        ]
    )


class SyntheticShapesTest(TestCase):
    def test_shapes_labels_and_normalisation(self):
        data = make_synthetic_shapes(num_per_class=3, num_points=256, seed=0)
        self.assertEqual(data.points.shape, (18, 256, 3))
        self.assertEqual(data.points.dtype, np.float32)
        self.assertEqual(data.class_names, SYNTHETIC_CLASSES)
        np.testing.assert_array_equal(data.labels, np.repeat(np.arange(6), 3))
        self.assertEqual(data.files[3], "box_0000")
        assert_normalised(data.points)

    def test_seeded(self):
        a = make_synthetic_shapes(num_per_class=2, num_points=64, seed=1)
        b = make_synthetic_shapes(num_per_class=2, num_points=64, seed=1)
        c = make_synthetic_shapes(num_per_class=2, num_points=64, seed=2)
        self.assertAllClose(a.points, b.points, atol=0)
        self.assertGreater(np.abs(a.points - c.points).min(axis=(1, 2)).min(), 0)
        # A shape does not depend on which classes are asked for.
        tori = make_synthetic_shapes(num_per_class=2, num_points=64, seed=1, classes=["torus"])
        self.assertAllClose(tori.points, a.points[a.labels == 4], atol=0)

    def test_primitive_surfaces(self):
        rng = np.random.default_rng(0)
        # A cylinder's points lie on its side (a 32-gon around the y axis)
        # or on its caps; the caps get their share of the area.
        vertices, faces = primitive_mesh("cylinder", rng)
        points = sample_mesh_surface(vertices, faces, 4000, seed=0)
        radius, height = vertices[:, 0].max(), vertices[:, 1].max()
        radial = np.linalg.norm(points[:, [0, 2]], axis=1)
        on_side = radial > radius * np.cos(np.pi / 32) - 1e-9
        on_caps = np.isclose(np.abs(points[:, 1]), height)
        self.assertTrue((on_side | on_caps).all())
        caps = np.pi * radius**2 / (np.pi * radius**2 + 2 * np.pi * radius * height)
        self.assertAlmostEqual(on_caps.mean(), caps, delta=0.03)
        # A torus's points lie on its tube around the unit circle.
        vertices, faces = primitive_mesh("torus", rng)
        points = sample_mesh_surface(vertices, faces, 1000, seed=0)
        tube = vertices[:, 1].max()
        radial = np.linalg.norm(points[:, [0, 2]], axis=1)
        np.testing.assert_allclose(np.hypot(radial - 1, points[:, 1]), tube, atol=0.02)

    def test_classes_are_learnable(self):
        train = make_synthetic_shapes(num_per_class=30, num_points=512, seed=0)
        test = make_synthetic_shapes(num_per_class=15, num_points=512, seed=1)
        model = RandomForestClassifier(100, random_state=0)
        model.fit(upright_histograms(train.points), train.labels)
        accuracy = model.score(upright_histograms(test.points), test.labels)
        self.assertGreater(accuracy, 0.75)  # chance: 1/6
