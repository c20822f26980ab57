import math

import keras
import numpy as np

from keras_ttp import layers
from tests.test_case import TestCase
from tests.test_case import random_points


def numpy_(x):
    return keras.ops.convert_to_numpy(x)


class AugmentationTest(TestCase):
    def setUp(self):
        super().setUp()
        self.points = random_points(4, 128)

    def test_layer_basics(self):
        for training in (False, True):
            for layer in (
                layers.UnitSphereNormalization(),
                layers.RandomShuffle(seed=1),
                layers.RandomScale(seed=1),
                layers.RandomRotation(seed=1),
                layers.RandomTranslation(seed=1),
                layers.RandomJitter(seed=1),
                layers.RandomPointDropout(seed=1),
                layers.RandomElasticDeformation(seed=1),
                layers.PointCloudAugmentation(seed=1, elastic={}),
            ):
                self.run_layer_test(
                    layer,
                    self.points,
                    expected_output_shape=(4, 128, 3),
                    call_kwargs={"training": training},
                )

    def test_inference_is_identity_for_random_layers(self):
        for layer in (layers.RandomScale(), layers.RandomJitter(), layers.RandomShuffle()):
            self.assertAllClose(layer(self.points, training=False), self.points)

    def test_unit_sphere_normalization(self):
        x = numpy_(layers.UnitSphereNormalization()(10 * self.points + 3))
        self.assertAllClose(x.mean(axis=1), np.zeros((4, 3)), atol=1e-5)
        self.assertAllClose(np.linalg.norm(x, axis=-1).max(axis=1), np.ones(4), atol=1e-5)

    def test_shuffle_is_a_permutation_per_sample(self):
        x = numpy_(layers.RandomShuffle(seed=2)(self.points, training=True))
        for b in range(4):
            self.assertAllClose(np.sort(x[b], axis=0), np.sort(self.points[b], axis=0))
        self.assertFalse(np.allclose(x, self.points))

    def test_scale_is_isotropic_and_in_range(self):
        x = numpy_(layers.RandomScale(0.5, 2.0, seed=3)(self.points, training=True))
        factors = x / self.points
        self.assertAllClose(factors, factors[:, :1, :1] * np.ones_like(factors), atol=1e-4)
        self.assertTrue(np.all((factors >= 0.5) & (factors <= 2.0)))

    def test_rotation_is_about_y(self):
        x = numpy_(layers.RandomRotation(seed=4)(self.points, training=True))
        self.assertAllClose(x[..., 1], self.points[..., 1])
        self.assertAllClose(
            np.linalg.norm(x[..., [0, 2]], axis=-1),
            np.linalg.norm(self.points[..., [0, 2]], axis=-1),
            atol=1e-5,
        )
        # Rotation matrices with det 1 map x to x @ R^T: solve for R.
        for b in range(4):
            rotation, *_ = np.linalg.lstsq(self.points[b], x[b], rcond=None)
            self.assertAllClose(np.linalg.det(rotation), 1.0, atol=1e-4)

    def test_rotation_about_each_axis_against_numpy(self):
        # The same seed draws the same angles whatever the axis: recover
        # them from the rotation about y, then build each axis's matrix.
        about_y = numpy_(layers.RandomRotation(seed=4)(self.points, training=True))
        angles = []
        for b in range(4):
            # x' = cos x + sin z: the solved x @ M = x' has M[2] = (sin, 0, cos).
            m, *_ = np.linalg.lstsq(self.points[b], about_y[b], rcond=None)
            angles.append(np.arctan2(m[2, 0], m[2, 2]))
        for axis in range(3):
            x = numpy_(
                layers.RandomRotation(axis=axis, seed=4)(self.points, training=True)
            )
            for b, angle in enumerate(angles):
                c, s = np.cos(angle), np.sin(angle)
                i, j = (axis + 1) % 3, (axis + 2) % 3
                matrix = np.eye(3)
                matrix[[i, i, j, j], [i, j, i, j]] = [c, -s, s, c]
                self.assertAllClose(x[b], self.points[b] @ matrix.T, atol=1e-5)
        with self.assertRaisesRegex(ValueError, "axis"):
            layers.RandomRotation(axis=3)

    def test_translation_bounded_by_extent(self):
        x = numpy_(layers.RandomTranslation(0.5, seed=5)(self.points, training=True))
        shift = x - self.points
        self.assertAllClose(shift, shift[:, :1] * np.ones_like(shift), atol=1e-5)
        extent = self.points.max(axis=1) - self.points.min(axis=1)
        self.assertTrue(np.all(np.abs(shift[:, 0]) <= 0.5 * extent + 1e-6))

    def test_jitter_is_clipped(self):
        layer = layers.RandomJitter(stddev=1.0, clip=0.05, seed=6)
        noise = numpy_(layer(self.points, training=True)) - self.points
        self.assertLessEqual(np.abs(noise).max(), 0.05 + 1e-6)
        self.assertGreater(np.abs(noise).max(), 0.04)

    def test_point_dropout_replaces_by_first_point(self):
        x = numpy_(layers.RandomPointDropout(0.875, seed=7)(self.points, training=True))
        for b in range(4):
            changed = ~np.all(np.isclose(x[b], self.points[b]), axis=-1)
            self.assertAllClose(x[b][changed], np.tile(self.points[b, 0], (changed.sum(), 1)))
            self.assertLess(changed.mean(), 0.875 + 0.1)

    def test_elastic_deformation_is_smooth_and_small(self):
        layer = layers.RandomElasticDeformation(sigma=0.5, magnitude=0.05, seed=8)
        x = numpy_(layer(self.points, training=True))
        displacement = x - self.points
        self.assertGreater(np.abs(displacement).max(), 1e-4)
        # Nearby points move alike: smoothness of the displacement field.
        d = np.linalg.norm(self.points[0][:, None] - self.points[0][None], axis=-1)
        i, j = np.unravel_index(np.argmin(d + np.eye(128) * 9), d.shape)
        self.assertLess(
            np.linalg.norm(displacement[0, i] - displacement[0, j]),
            np.abs(displacement).max(),
        )

    def test_pipeline_defaults_and_seed(self):
        augmentation = layers.PointCloudAugmentation(seed=9)
        names = [step.name for step in augmentation.steps]
        self.assertEqual(
            names,
            ["shuffle", "normalize", "scale", "rotation", "translation", "jitter", "dropout"],
        )
        config = augmentation.get_config()
        self.assertEqual(config["scale"], (0.5, 2.0))
        self.assertAllClose(config["max_angle"], 2 * math.pi)
        self.assertEqual(config["jitter"], (0.01, 0.05))
        self.assertEqual(config["max_dropout_ratio"], 0.875)
        self.assertIsNone(config["elastic"])
        first = layers.PointCloudAugmentation(seed=9)(self.points, training=True)
        second = layers.PointCloudAugmentation(seed=9)(self.points, training=True)
        self.assertAllClose(first, second)
        third = augmentation(self.points, training=True)
        fourth = augmentation(self.points, training=True)
        self.assertFalse(np.allclose(numpy_(third), numpy_(fourth)))

    def test_steps_can_be_switched_off(self):
        augmentation = layers.PointCloudAugmentation(
            shuffle=False, scale=None, max_angle=None, translation=None,
            jitter=None, max_dropout_ratio=None,
        )
        self.assertEqual([s.name for s in augmentation.steps], ["normalize"])
        self.assertAllClose(
            augmentation(self.points, training=True),
            layers.UnitSphereNormalization()(self.points),
        )

    def test_translation_draws_one_shift_per_axis(self):
        # Shift / extent per sample and axis: independent U(-f, f) draws, so
        # the three axes differ in every sample and are uncorrelated. A
        # single shift shared by the three axes fails this for any seed.
        points = random_points(512, 16, seed=1) * np.array([1.0, 2.0, 3.0], "float32")
        extent = points.max(axis=1) - points.min(axis=1)
        for seed in (0, 1, 2):
            layer = layers.RandomTranslation(0.5, seed=seed)
            shift = numpy_(layer(points, training=True))[:, 0] - points[:, 0]
            ratio = shift / extent
            self.assertTrue(np.all(np.abs(ratio) <= 0.5 + 1e-5))
            for i, j in ((0, 1), (0, 2), (1, 2)):
                different = np.abs(ratio[:, i] - ratio[:, j]) > 1e-4
                self.assertGreater(different.mean(), 0.95)
                # 512 samples: |correlation| < 0.3 is over 6 standard errors.
                self.assertLess(abs(np.corrcoef(ratio[:, i], ratio[:, j])[0, 1]), 0.3)
