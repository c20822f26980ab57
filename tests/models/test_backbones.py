import keras
import numpy as np
import pytest

from keras_ttp.datasets import DataFormatError
from keras_ttp.models import DGCNN
from keras_ttp.models import PointNet
from tests.test_case import TestCase
from tests.test_case import random_points


class PointNetTest(TestCase):
    def test_backbone(self):
        self.run_backbone_test(PointNet(embedding_dim=64), num_points=(32, 1024, 2048))

    def test_default_width_and_config(self):
        backbone = PointNet()
        self.assertEqual(backbone(random_points(1, 32))["global_features"].shape, (1, 1024))
        config = backbone.get_config()
        self.assertEqual(config["feature_transform_regularization"], 0.0)
        self.assertEqual(PointNet.from_config(config).count_params(), backbone.count_params())

    def test_feature_transform_regularization(self):
        backbone = PointNet(embedding_dim=32, feature_transform_regularization=1e-3)
        backbone(random_points(2, 32))
        self.assertEqual(len(backbone.losses), 1)
        self.assertEqual(len(PointNet(embedding_dim=32).losses), 0)

    def test_bad_shapes(self):
        backbone = PointNet(embedding_dim=32)
        with self.assertRaisesRegex(ValueError, r"\(batch, num_points, 3\)"):
            backbone(np.zeros((32, 3), "float32"))
        with self.assertRaisesRegex(ValueError, r"\(batch, num_points, 3\)"):
            backbone(np.zeros((2, 32, 4), "float32"))


class DGCNNTest(TestCase):
    def test_backbone(self):
        self.run_backbone_test(
            DGCNN(k=20, edge_filters=(16, 16, 32, 32), embedding_dim=64),
            num_points=(32, 1024, 2048),
        )

    def test_default_architecture(self):
        backbone = DGCNN()
        outputs = backbone(random_points(2, 32))
        self.assertEqual(outputs["point_features"].shape, (2, 32, 1024))
        widths = [backbone.get_layer(f"edge_conv{i}").filters for i in range(1, 5)]
        self.assertEqual(widths, [64, 64, 128, 256])
        self.assertEqual(backbone.get_layer("edge_conv1").k, 20)
        # Parameter count of the authors' DGCNN encoder: EdgeConv kernels
        # 6*64 + 128*64 + 128*128 + 256*256, conv5 512*1024, plus BatchNorm.
        kernels = 6 * 64 + 128 * 64 + 128 * 128 + 256 * 256 + 512 * 1024
        batch_norm = 4 * (64 + 64 + 128 + 256 + 1024)
        self.assertEqual(backbone.count_params(), kernels + batch_norm)

    def test_bad_shapes(self):
        backbone = DGCNN(k=8, edge_filters=(8,), embedding_dim=16)
        with self.assertRaisesRegex(ValueError, "at least 8 points"):
            backbone(random_points(2, 5))
        with self.assertRaisesRegex(ValueError, r"\(batch, num_points, 3\)"):
            backbone(np.zeros((2, 32), "float32"))
        with self.assertRaisesRegex(ValueError, r"\(batch, num_points, 3\)"):
            backbone(np.zeros((2, 32, 6), "float32"))


class FrozenBackboneTest(TestCase):
    def test_frozen_backbone_runs_batch_norm_in_inference_mode(self):
        # Keras's BatchNormalization ignores `training=True` once frozen;
        # EdgeConv's and the T-Nets' own BatchNorm arithmetic must too
        # (linear probing calls a frozen backbone with training=True).
        points = random_points(4, 32)
        for backbone in (PointNet(embedding_dim=32), DGCNN(k=8, embedding_dim=32)):
            backbone(points)
            backbone.trainable = False
            before = backbone.get_weights()
            self.assertAllClose(
                backbone(points, training=True),
                backbone(points, training=False),
                atol=1e-5,
                msg=backbone.name,
            )
            self.assertAllClose(backbone.get_weights(), before, msg=backbone.name)


class BackboneInputTest(TestCase):
    def test_bad_values_and_empty_batches_get_a_clear_error(self):
        backbone = PointNet(embedding_dim=16)
        points = random_points(4, 32)
        points[2, 5, 1] = np.nan
        points[3, 0, 0] = np.inf
        for entry in (backbone, backbone.predict, backbone.predict_on_batch):
            with self.assertRaisesRegex(DataFormatError, r"2 points have NaN.*shape 2, point 5"):
                entry(points)
            with self.assertRaisesRegex(ValueError, r"an empty batch, shape \(0, 32, 3\)"):
                entry(np.zeros((0, 32, 3), "float32"))
            with self.assertRaisesRegex(ValueError, r"\(batch, num_points, 3\)"):
                entry(np.zeros((2, 32, 4), "float32"))
        with self.assertRaisesRegex(ValueError, "at least 20 points"):
            DGCNN(k=20, embedding_dim=16).predict(random_points(2, 8))

    def test_unknown_arguments_are_rejected(self):
        with self.assertRaisesRegex(TypeError, r"'kk'. It accepts: k, edge_filters"):
            DGCNN(kk=5)
        with self.assertRaisesRegex(TypeError, "'embeding_dim'. It accepts: embedding_dim"):
            PointNet.from_preset("ttp_shapenet", embeding_dim=256)

    def test_compiled_call_takes_any_point_count(self):
        # Traced with the number of points unknown (a second point count
        # after the first trace), then run at two counts.
        for backbone in (PointNet(embedding_dim=16), DGCNN(k=4, embedding_dim=16)):
            backend = keras.backend.backend()
            if backend == "tensorflow":
                import tensorflow as tf

                compiled = tf.function(
                    lambda x: backbone(x)["global_features"],
                    jit_compile=True,
                    input_signature=[tf.TensorSpec((None, None, 3), "float32")],
                )
            elif backend == "jax":
                import jax

                compiled = jax.jit(lambda x: backbone(x)["global_features"])
            else:
                pytest.skip("torch runs eagerly here")
            for n in (32, 48):
                points = random_points(2, n, seed=n)
                self.assertAllClose(
                    compiled(points), backbone(points)["global_features"], atol=1e-4
                )
