import json
import os

import keras
import numpy as np

from keras_ttp.layers import RecyclingMaxPooling
from keras_ttp.losses import NTXent
from keras_ttp.models import DGCNN
from keras_ttp.models import PointNet
from keras_ttp.models import ToThePoint
from tests.test_case import TestCase
from tests.test_case import perturb_weights
from tests.test_case import random_points
from tests.test_case import shared_data_dir
from tests.losses.test_nt_xent import numpy_nt_xent


def small_pointnet():
    return PointNet(embedding_dim=32)


def small_dgcnn():
    return DGCNN(k=8, edge_filters=(8, 16), embedding_dim=32)


class ToThePointTest(TestCase):
    def test_outputs_and_terms_of_each_variant(self):
        cases = {
            (True, 2): (
                {"max_1", "recycled_1", "max_2", "recycled_2"},
                ["intra_branch_1_loss", "intra_branch_2_loss", "cross_branch_loss"],
            ),
            (False, 2): ({"max_1", "max_2"}, ["cross_branch_loss"]),
            (True, 1): ({"max_1", "recycled_1"}, ["intra_branch_1_loss"]),
        }
        points = random_points(4, 32)
        for (recycling, branches), (keys, terms) in cases.items():
            model = ToThePoint(
                small_pointnet(), projection_dims=(16, 8), recycling=recycling,
                branches=branches, seed=0,
            )
            outputs = model(points)
            self.assertEqual(set(outputs), keys)
            for value in outputs.values():
                self.assertEqual(tuple(value.shape), (4, 8))
            self.assertEqual(model.term_names, terms)

    def test_invalid_variant(self):
        with self.assertRaisesRegex(ValueError, "no positive pair"):
            ToThePoint(small_pointnet(), recycling=False, branches=1)
        with self.assertRaisesRegex(ValueError, "branches"):
            ToThePoint(small_pointnet(), branches=3)

    def test_loss_is_the_sum_of_three_nt_xent_terms(self):
        model = ToThePoint(small_pointnet(), projection_dims=(16, 8), seed=1)
        rng = np.random.default_rng(0)
        y_pred = {
            key: rng.normal(size=(6, 8)).astype("float32")
            for key in ("max_1", "recycled_1", "max_2", "recycled_2")
        }
        model.compile()
        total = model.compute_loss(y_pred=y_pred)
        expected = (
            numpy_nt_xent(y_pred["max_1"], y_pred["recycled_1"], 0.1)
            + numpy_nt_xent(y_pred["max_2"], y_pred["recycled_2"], 0.1)
            + numpy_nt_xent(y_pred["max_1"], y_pred["max_2"], 0.1)
        )
        np.testing.assert_allclose(float(total), expected, rtol=1e-5)

    def test_stop_gradient_default_follows_backbone(self):
        self.assertTrue(ToThePoint(small_pointnet()).stop_gradient_recycled)
        self.assertFalse(ToThePoint(small_dgcnn()).stop_gradient_recycled)
        self.assertTrue(
            ToThePoint(small_dgcnn(), stop_gradient_recycled=True).stop_gradient_recycled
        )

    def test_fit_logs_terms_on_both_backbones(self):
        points = random_points(16, 32)
        for backbone in (small_pointnet(), small_dgcnn()):
            model = ToThePoint(backbone, projection_dims=(16, 8), seed=2)
            model.compile(jit_compile=False)  # fast to build; XLA is tested below
            history = model.fit(points, batch_size=8, epochs=2, verbose=0)
            self.assertEqual(
                set(history.history),
                {"loss", "intra_branch_1_loss", "intra_branch_2_loss", "cross_branch_loss"},
            )
            for values in history.history.values():
                self.assertTrue(np.all(np.isfinite(values)))
            logged = history.history
            np.testing.assert_allclose(
                logged["loss"][-1],
                logged["intra_branch_1_loss"][-1]
                + logged["intra_branch_2_loss"][-1]
                + logged["cross_branch_loss"][-1],
                rtol=1e-4,
            )

    def test_trains_in_mixed_precision(self):
        # mixed_bfloat16 and mixed_float16 (the latter with Keras's loss
        # scaling): bfloat16 or float16 compute, float32 variables and
        # loss, finite terms, the backbone's weights moved.
        points = random_points(8, 64, seed=7)
        cases = (
            ("mixed_bfloat16", "bfloat16", small_pointnet),
            ("mixed_float16", "float16", small_dgcnn),
        )
        for policy, compute, make in cases:
            backbone = make()
            backbone = type(backbone).from_config({**backbone.get_config(), "dtype": policy})
            model = ToThePoint(backbone, projection_dims=(16, 8), seed=5, dtype=policy)
            model.compile()
            if policy == "mixed_float16":
                self.assertIsInstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
            self.assertEqual(model.backbone.compute_dtype, compute)
            before = [np.array(w) for w in backbone.get_weights()]
            logs = model.train_on_batch(points, return_dict=True)
            self.assertEqual(sorted(logs), sorted(["loss", *model.term_names]))
            self.assertTrue(all(np.isfinite(v) for v in logs.values()), (policy, logs))
            self.assertTrue(all(v.dtype == "float32" for v in model.trainable_variables))
            moved = [not np.allclose(a, b) for a, b in zip(before, backbone.get_weights())]
            self.assertTrue(any(moved), policy)

    def test_every_layer_is_built(self):
        # An unbuilt layer makes Keras's jax and torch trainers build the
        # whole model again at every train_on_batch (and jax's
        # predict_on_batch run it eagerly).
        for backbone in (small_pointnet(), small_dgcnn()):
            model = ToThePoint(backbone, projection_dims=(16, 8), seed=4)
            model.compile(jit_compile=False)
            model.train_on_batch(random_points(4, 32))
            unbuilt = [layer.name for layer in model._flatten_layers() if not layer.built]
            self.assertEqual(unbuilt, [])

    def test_fit_changes_backbone_weights(self):
        backbone = small_dgcnn()
        before = [w.copy() for w in backbone.get_weights()]
        model = ToThePoint(backbone, projection_dims=(16, 8), seed=3)
        model.compile(jit_compile=False)  # fast to build; XLA is tested below
        model.fit(random_points(8, 32), batch_size=8, epochs=1, verbose=0)
        changed = [not np.allclose(a, b) for a, b in zip(before, backbone.get_weights())]
        self.assertTrue(all(changed[:1]) and np.mean(changed) > 0.5)

    def test_pooling_stage_gives_the_plain_step(self):
        # ToThePoint pools through the backbone's PoolingStage
        # (Backbone.pool); one SGD step must match the plain path, which
        # pools the full per-point features: loss, every updated weight (so
        # every gradient) and the BatchNorm statistics.
        points = random_points(4, 32)
        for make_backbone in (small_pointnet, small_dgcnn):
            for recycling in (True, False):
                models = []
                for plain in (False, True):
                    backbone = make_backbone()
                    if plain:
                        backbone.pool = plain_pool(backbone)
                    model = ToThePoint(
                        backbone, projection_dims=(16, 8), recycling=recycling,
                        seed=0,
                    )
                    model(points)  # builds; both draw the same numbers
                    # XLA's selection path is tested in the layer's tests.
                    model.compile(
                        optimizer=keras.optimizers.SGD(0.01), jit_compile=False
                    )
                    models.append(model)
                fast, plain = models
                perturb_weights(fast)
                bn = fast.backbone.get_layer(
                    "conv3_bn" if make_backbone is small_pointnet else "conv5_bn"
                )
                gamma = keras.ops.convert_to_numpy(bn.gamma)
                bn.gamma.assign(gamma * np.where(np.arange(len(gamma)) % 2, 1, -1))
                plain.set_weights(fast.get_weights())
                losses = [m.train_on_batch(points) for m in models]
                msg = f"{make_backbone.__name__}, recycling={recycling}"
                self.assertAllClose(losses[0], losses[1], atol=1e-5, msg=msg)
                self.assertAllClose(
                    fast.get_weights(), plain.get_weights(), atol=1e-5, rtol=1e-4,
                    msg=msg,
                )

    def test_saving(self):
        model = ToThePoint(small_dgcnn(), projection_dims=(16, 8), seed=4, branches=1)
        model.compile()
        points = random_points(8, 32)
        model.fit(points, batch_size=8, epochs=1, verbose=0)
        path = os.path.join(self.tmp_dir, "pretrainer.keras")
        model.save(path)
        restored = keras.saving.load_model(path)
        self.assertIsInstance(restored, ToThePoint)
        self.assertEqual(
            json.dumps(restored.get_config()), json.dumps(model.get_config())
        )
        self.assertEqual(
            [v.name for v in restored.optimizer.variables],
            [v.name for v in model.optimizer.variables],
        )
        self.assertAllClose(
            restored.optimizer.variables, model.optimizer.variables
        )
        self.assertAllClose(
            restored.backbone.predict(points, verbose=0),
            model.backbone.predict(points, verbose=0),
            atol=1e-5,
        )
        self.assertAllClose(
            restored.projection_head(np.ones((2, 32), "float32")),
            model.projection_head(np.ones((2, 32), "float32")),
            atol=1e-5,
        )


class ToThePointRealDataTest(TestCase):
    def test_fit_on_shapenet260_lowers_the_loss(self):
        from keras_ttp.datasets import PointCloudDataset
        from keras_ttp.datasets import load_shapenet_ply

        data = load_shapenet_ply(shared_data_dir("shapenet260"), num_points=512)
        subset = np.random.default_rng(0).permutation(len(data.points))[:64]
        for backbone in (PointNet(), DGCNN(k=10)):
            dataset = PointCloudDataset(
                data.points[subset], batch_size=32, num_points=128, drop_last=True, seed=0
            )
            model = ToThePoint(backbone, seed=0)
            model.compile()
            losses = model.fit(dataset, epochs=5, verbose=0).history["loss"]
            self.assertLess(
                np.mean(losses[-2:]), 0.9 * losses[0], f"{backbone.name}: {losses}"
            )


def plain_pool(backbone):
    """`backbone.pool` computed from the full per-point features."""
    recycling = RecyclingMaxPooling()

    def pool(points, training=False, rank=None):
        features = backbone(points, training=training)["point_features"]
        if rank is None:
            return keras.ops.max(features, axis=1), None
        return recycling(features, rank=rank)

    return pool
