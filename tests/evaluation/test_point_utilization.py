import numpy as np

from keras_ttp.evaluation import point_utilization
from keras_ttp.models import PointNet
from tests.evaluation.helpers import TWO_POINT_CLOUDS
from tests.evaluation.helpers import identity_backbone
from tests.test_case import TestCase
from tests.test_case import random_points


class PointUtilizationTest(TestCase):
    def test_hand_computed(self):
        # See TWO_POINT_CLOUDS: cloud 0 uses 2 points in the max row, 2 in
        # the recycled row, 2 in either; cloud 1 uses 1, 1 and 2.
        stats = point_utilization(identity_backbone(), TWO_POINT_CLOUDS, verbose=0)
        self.assertEqual(stats["counts"].tolist(), [[2, 2, 2], [1, 1, 2]])
        self.assertEqual(stats["mean"], {"max": 1.5, "recycled": 1.5, "either": 2.0})
        self.assertEqual(stats["std"], {"max": 0.5, "recycled": 0.5, "either": 0.0})

    def test_seeded_draws(self):
        backbone = PointNet(embedding_dim=32)
        # The same cloud 16 times, in two batches of 8: only `r` differs.
        points = np.repeat(random_points(1, 64), 16, axis=0)

        def counts(seed):
            return point_utilization(
                backbone, points, batch_size=8, seed=seed, verbose=0
            )["counts"]

        first = counts(0)
        self.assertEqual(first.tolist(), counts(0).tolist())
        self.assertEqual(len(set(first[:, 0].tolist())), 1)
        # `r` is drawn per cloud and afresh in every batch (not frozen into
        # the compiled function).
        self.assertGreater(len(set(first[:, 1].tolist())), 1)
        self.assertNotEqual(first[:8, 1].tolist(), first[8:, 1].tolist())
        self.assertTrue((first[:, 2] >= first[:, :2].max(axis=1)).all())
        self.assertTrue((first[:, 2] <= first[:, 0] + first[:, 1]).all())
