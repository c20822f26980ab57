import keras
import numpy as np

from keras_ttp.evaluation import extract_embeddings
from keras_ttp.models import PointNet
from tests.evaluation.helpers import TWO_POINT_CLOUDS
from tests.evaluation.helpers import identity_backbone
from tests.test_case import TestCase
from tests.test_case import random_points


class ExtractEmbeddingsTest(TestCase):
    def test_hand_computed_max_over_points(self):
        features = extract_embeddings(identity_backbone(), TWO_POINT_CLOUDS, verbose=0)
        self.assertEqual(features.dtype, np.float32)
        self.assertAllClose(features, np.array([[1, 2, 5], [1, 1, 1]]))

    def test_equals_calling_the_backbone(self):
        backbone = PointNet(embedding_dim=32)
        points = random_points(5, 64)
        # A batch size that does not divide the number of clouds.
        features = extract_embeddings(backbone, points, batch_size=2, verbose=0)
        self.assertEqual(features.shape, (5, 32))
        expected = backbone(points, training=False)["global_features"]
        self.assertAllClose(features, expected, atol=1e-5, rtol=1e-5)

    def test_bad_inputs(self):
        backbone = identity_backbone()
        points = random_points(3, 8)
        for bad, message in [
            (points[0], "shape"),
            (points[..., :2], "shape"),
            (points[:0], "no points"),
        ]:
            with self.assertRaisesRegex(ValueError, message):
                extract_embeddings(backbone, bad, verbose=0)
        for value in [np.nan, np.inf]:
            bad = points.copy()
            bad[1, 4, 0] = value
            with self.assertRaisesRegex(ValueError, "NaN or infinite.*index 1"):
                extract_embeddings(backbone, bad, verbose=0)

    def test_backbone_minimum_points(self):
        class FewPoints(keras.Model):
            def check_points_shape(self, shape):
                raise ValueError(f"needs more points than {shape[1]}")

        with self.assertRaisesRegex(ValueError, "needs more points than 8"):
            extract_embeddings(FewPoints(), random_points(3, 8), verbose=0)
