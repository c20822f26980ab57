import keras
import numpy as np

import keras_ttp
from keras_ttp.datasets import DataFormatError
from keras_ttp.datasets import PointCloudDataset
from keras_ttp.datasets import make_synthetic_shapes
from tests.test_case import TestCase


def indexed_points(num_shapes, num_points):
    """Clouds whose point `(s, i)` is `(s, i, 0)`: a batch tells which
    stored points it holds."""
    s, i = np.meshgrid(np.arange(num_shapes), np.arange(num_points), indexing="ij")
    return np.stack([s, i, np.zeros_like(s)], axis=-1).astype("float32")


def epoch_batches(dataset):
    batches = [dataset[i] for i in range(len(dataset))]
    dataset.on_epoch_end()
    return batches


class PointCloudDatasetTest(TestCase):
    def setUp(self):
        super().setUp()
        self.points = indexed_points(10, 50)

    def test_batches(self):
        dataset = PointCloudDataset(self.points, batch_size=4, num_points=20, seed=0)
        self.assertEqual(len(dataset), 3)
        batches = epoch_batches(dataset)
        self.assertEqual([b.shape for b in batches], [(4, 20, 3), (4, 20, 3), (2, 20, 3)])
        self.assertEqual(batches[0].dtype, np.float32)
        x = np.concatenate(batches)
        # Every shape once per epoch, each with 20 distinct stored points.
        self.assertEqual(sorted(x[:, 0, 0]), list(range(10)))
        self.assertTrue((x[..., 0] == x[:, :1, 0]).all())
        self.assertTrue(all(len(set(cloud[:, 1])) == 20 for cloud in x))
        with self.assertRaises(IndexError):
            dataset[3]

    def test_drop_last(self):
        dataset = PointCloudDataset(self.points, batch_size=4, drop_last=True, seed=0)
        self.assertEqual(len(dataset), 2)
        self.assertEqual(dataset[1].shape, (4, 50, 3))
        with self.assertRaisesRegex(
            ValueError, "10 shapes make no batch of 16 with `drop_last=True`"
        ):
            PointCloudDataset(self.points, batch_size=16, drop_last=True)

    def test_per_epoch_resampling_and_shuffling_are_seeded(self):
        def run(seed):
            dataset = PointCloudDataset(self.points, batch_size=5, num_points=10, seed=seed)
            return [np.concatenate(epoch_batches(dataset)) for _ in range(3)]

        first, again, other = run(7), run(7), run(8)
        for a, b in zip(first, again):
            self.assertAllClose(a, b, atol=0)
        self.assertFalse(np.array_equal(first[0], other[0]))
        # A new order of shapes and new subsets of points every epoch.
        self.assertFalse(np.array_equal(first[0][:, 0, 0], first[1][:, 0, 0]))
        by_shape = [e[np.argsort(e[:, 0, 0])] for e in first]
        self.assertFalse(np.array_equal(by_shape[0][..., 1], by_shape[1][..., 1]))

    def test_batches_do_not_depend_on_access_order(self):
        dataset = PointCloudDataset(self.points, batch_size=3, num_points=10, seed=1)
        forward = [dataset[i] for i in range(len(dataset))]
        backward = [dataset[i] for i in reversed(range(len(dataset)))][::-1]
        self.assertAllClose(forward, backward, atol=0)

    def test_deterministic_evaluation(self):
        dataset = PointCloudDataset(
            self.points, batch_size=4, num_points=8, shuffle=False, resample=False
        )
        for _ in range(2):
            x = np.concatenate(epoch_batches(dataset))
            self.assertAllClose(x, self.points[:, :8], atol=0)

    def test_labels(self):
        labels = np.arange(10) * 10
        x, y = PointCloudDataset(self.points, labels, batch_size=4, seed=0)[0]
        np.testing.assert_array_equal(y, x[:, 0, 0] * 10)
        point_labels = self.points[..., 1].astype("int32") + 1000
        x, y = PointCloudDataset(self.points, point_labels, batch_size=4, num_points=7, seed=0)[1]
        self.assertEqual(y.shape, (4, 7))
        np.testing.assert_array_equal(y, x[..., 1] + 1000)

    def test_bad_input(self):
        nan = self.points.copy()
        nan[3, 5, 0] = np.nan
        with self.assertRaisesRegex(
            DataFormatError, "PointCloudDataset points: 1 points have NaN .*shape 3, point 5"
        ):
            PointCloudDataset(nan)
        with self.assertRaisesRegex(DataFormatError, r"expected points of shape .*\(50, 3\)"):
            PointCloudDataset(self.points[0])
        with self.assertRaisesRegex(DataFormatError, "got dtype int64"):
            PointCloudDataset(self.points.astype("int64"))
        with self.assertRaisesRegex(DataFormatError, "9 labels for 10 shapes"):
            PointCloudDataset(self.points, np.zeros(9))
        with self.assertRaisesRegex(ValueError, r"`num_points` must be in 1..50 .*got 64"):
            PointCloudDataset(self.points, num_points=64)


class FitTest(TestCase):
    def test_pretraining_and_embedding_extraction(self):
        data = make_synthetic_shapes(num_per_class=3, num_points=128, seed=0)
        dataset = PointCloudDataset(
            data.points, batch_size=8, num_points=64, drop_last=True, seed=0
        )
        pretrainer = keras_ttp.models.ToThePoint(
            keras_ttp.models.PointNet(embedding_dim=64), projection_dims=(32, 16), seed=0
        )
        pretrainer.compile()
        history = pretrainer.fit(dataset, epochs=2, verbose=0)
        self.assertGreaterEqual(dataset.epoch, 2)  # fresh draws every epoch
        self.assertEqual(len(history.history["loss"]), 2)
        self.assertTrue(np.isfinite(history.history["loss"]).all())
        backbone = pretrainer.backbone
        evaluation = PointCloudDataset(
            data.points, batch_size=8, num_points=64, shuffle=False, resample=False
        )
        embeddings = backbone.predict(evaluation, verbose=0)["global_features"]
        self.assertEqual(embeddings.shape, (18, 64))
        expected = backbone(data.points[:, :64], training=False)["global_features"]
        self.assertAllClose(embeddings, keras.ops.convert_to_numpy(expected), atol=1e-4)
