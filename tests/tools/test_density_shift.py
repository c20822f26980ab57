"""tools/density_shift.py on a tiny PointNet and a tiny ModelNet-like h5
folder written by the test."""

import json
import os
from unittest import mock

import numpy as np

from keras_ttp.models import PointNet
from tests.test_case import TestCase
from tests.tools.test_learning_curve import write_fake_modelnet
from tools import density_shift


class DensityShiftTest(TestCase):
    def setUp(self):
        super().setUp()
        self.embed_without_xla()
        self.data_dir = os.path.join(self.tmp_dir, "data")
        write_fake_modelnet(self.data_dir)  # 64 points a shape
        self.preset = os.path.join(self.tmp_dir, "pointnet")
        PointNet(embedding_dim=16).save_to_preset(self.preset)

    def test_padded_with_first_point(self):
        points = np.arange(2 * 3 * 3, dtype="float32").reshape(2, 3, 3)
        padded = density_shift.padded_with_first_point(points, 5)
        self.assertAllClose(padded[:, :3], points)
        self.assertAllClose(padded[:, 3:], np.repeat(points[:, :1], 2, axis=1))

    def test_all_points_is_no_shift_and_each_model_is_stored_once(self):
        output = os.path.join(self.tmp_dir, "shift.json")
        args = ["--data-dir", self.data_dir, "--num-points", "64", "--output", output]
        density_shift.main([*args, "--models", self.preset])
        with mock.patch.object(density_shift, "density_shift") as evaluate:
            density_shift.main([*args, "--models", self.preset])
        evaluate.assert_not_called()
        record = json.load(open(output))
        self.assertIn("ModelNet10", record["data"])
        scores = record["models"][f"{self.preset} @ 64 points"]
        self.assertEqual(set(scores), {"clean", "subsampled", "dropout", "matched",
                                       "matched_scored_clean", "cosine"})  # fmt: skip
        # Keeping all 64 points only reorders them: a max-pooled PointNet
        # sees the same clouds, so every column equals the clean one.
        for name in ("subsampled", "dropout", "matched", "matched_scored_clean"):
            self.assertAlmostEqual(scores[name], scores["clean"], places=4, msg=name)
        self.assertAlmostEqual(scores["cosine"], 1.0, places=5)
