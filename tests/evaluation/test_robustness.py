import numpy as np

from keras_ttp.evaluation import jitter_points
from keras_ttp.evaluation import robustness_accuracy
from keras_ttp.evaluation import rotate_about_vertical
from keras_ttp.evaluation import subsample_points
from keras_ttp.layers import RandomRotation
from tests.evaluation.helpers import identity_backbone
from tests.test_case import TestCase
from tests.test_case import random_points


class CorruptionsTest(TestCase):
    def test_rotation_keeps_the_vertical_coordinate(self):
        points = random_points(8, 32)
        rotated = rotate_about_vertical(points, seed=3)
        np.testing.assert_allclose(rotated[..., 1], points[..., 1], atol=1e-6)
        # A rotation: distances to the vertical axis kept, one angle a cloud.
        radius = np.hypot(points[..., 0], points[..., 2])
        np.testing.assert_allclose(np.hypot(rotated[..., 0], rotated[..., 2]), radius, atol=1e-5)
        angles = np.arctan2(points[..., 2], points[..., 0]) - np.arctan2(rotated[..., 2], rotated[..., 0])
        angles = np.mod(angles, 2 * np.pi)
        np.testing.assert_allclose(angles, angles[:, :1].repeat(32, 1), atol=1e-4)
        self.assertGreater(np.ptp(angles[:, 0]), 0.5)  # clouds differ
        np.testing.assert_array_equal(rotate_about_vertical(points, seed=3), rotated)

    def test_rotation_is_the_augmentation_s(self):
        # Same formula as the pre-training's RandomRotation: at the angle
        # it draws with max_angle -> 0 both are the identity; at pi / 2,
        # x -> z and z -> -x.
        cloud = np.array([[[1.0, 2.0, 0.0], [0.0, 5.0, 1.0]]], "float32")
        angle = np.random.default_rng(0).uniform(0, 2 * np.pi)
        c, s = np.cos(angle), np.sin(angle)
        expected = np.array([[[c, 2, -s], [s, 5, c]]], "float32")
        np.testing.assert_allclose(rotate_about_vertical(cloud, seed=0), expected, atol=1e-6)
        # The pre-training's rotation turns about the same (y) axis.
        points = random_points(4, 16)
        augmented = np.asarray(RandomRotation(seed=0)(points, training=True))
        np.testing.assert_allclose(augmented[..., 1], points[..., 1], atol=1e-6)

    def test_subsample_and_jitter(self):
        points = random_points(4, 64)
        subset = subsample_points(points, 16, seed=0)
        self.assertEqual(subset.shape, (4, 16, 3))
        for cloud, sub in zip(points, subset):  # distinct points of the cloud
            self.assertEqual(len({tuple(p) for p in sub}), 16)
            self.assertTrue({tuple(p) for p in sub} <= {tuple(p) for p in cloud})
        with self.assertRaisesRegex(ValueError, "num_points"):
            subsample_points(points, 65)
        noisy = jitter_points(points, 0.01, seed=0)
        noise = noisy - points
        self.assertLess(np.abs(noise).max(), 0.05 + 1e-6)
        self.assertAlmostEqual(float(noise.std()), 0.01, delta=0.002)

    def test_svm_on_corrupted_sets(self):
        # Identity backbone: the global feature is the per-axis maximum.
        # Two classes that differ in height (y) only: rotation about y,
        # subsampling and small jitter keep max y apart, so 100 % on each.
        rng = np.random.default_rng(0)
        labels = np.arange(40) % 2
        points = rng.uniform(-0.3, 0.3, (40, 64, 3)).astype("float32")
        points[..., 1] += 0.5 * labels[:, None]
        result = robustness_accuracy(
            identity_backbone(), points[:20], labels[:20], points[20:], labels[20:],
            C=10.0, num_points=32, batch_size=8,
        )  # fmt: skip
        self.assertEqual(result, {"clean": 100.0, "rotated": 100.0, "32 points": 100.0, "jitter 0.01": 100.0})
