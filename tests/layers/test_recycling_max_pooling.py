import keras
import numpy as np

from keras_ttp.layers import RecyclingMaxPooling
from keras_ttp.layers import PoolingStage
from keras_ttp.ops.xla import compiling_with_xla
from tests.test_case import TestCase
from tests.test_case import xla_compiled


def numpy_recycling(x, rank):
    """Reference: sort each channel over points, descending; take row `rank`."""
    ordered = -np.sort(-x, axis=1)
    rank = np.broadcast_to(rank, (x.shape[0],))
    return ordered[:, 0], ordered[np.arange(x.shape[0]), rank]


def numpy_utilization(x, rank):
    """Reference: distinct winning points of the max row, of row `rank`, of
    either, per sample."""
    order = np.argsort(-x, axis=1, kind="stable")
    rank = np.broadcast_to(rank, (x.shape[0],))
    counts = []
    for b in range(x.shape[0]):
        max_points = set(order[b, 0])
        recycled_points = set(order[b, rank[b]])
        counts.append(
            [len(max_points), len(recycled_points), len(max_points | recycled_points)]
        )
    return np.array(counts)


class RecyclingMaxPoolingTest(TestCase):
    def setUp(self):
        super().setUp()
        self.x = np.random.default_rng(0).normal(size=(3, 40, 16)).astype("float32")

    def test_layer_basics(self):
        self.run_layer_test(
            RecyclingMaxPooling(seed=1),
            self.x,
            expected_output_shape=((3, 16), (3, 16)),
        )

    def test_equals_numpy_sort_for_given_rank(self):
        layer = RecyclingMaxPooling()
        for rank in (1, 7, 39):
            maximum, recycled = layer(self.x, rank=np.int32(rank))
            expected_max, expected_recycled = numpy_recycling(self.x, rank)
            self.assertAllClose(maximum, np.max(self.x, axis=1))
            self.assertAllClose(maximum, expected_max)
            self.assertAllClose(recycled, expected_recycled)

    def test_exact_with_ties_signs_and_extreme_values(self):
        rng = np.random.default_rng(4)
        ties = rng.integers(-3, 4, size=(2, 30, 5)).astype("float32")
        extremes = rng.choice(
            np.array([-3e38, -1.0, -1e-38, -0.0, 0.0, 1e-38, 2.5, 3e38], "float32"),
            size=(2, 30, 5),
        )
        layer = RecyclingMaxPooling()
        for x in (ties, extremes, 1e6 * self.x[:, :30, :5]):
            for rank in (1, 2, 15, 29):
                _, recycled = layer(x, rank=np.int32(rank))
                self.assertAllClose(recycled, numpy_recycling(x, rank)[1], atol=0)

    def test_per_sample_rank(self):
        layer = RecyclingMaxPooling(per_sample=True)
        rank = np.array([1, 20, 39], dtype="int32")
        _, recycled = layer(self.x, rank=rank)
        self.assertAllClose(recycled, numpy_recycling(self.x, rank)[1])

    def test_under_xla_equals_numpy_sort_sample_by_sample(self):
        layer = RecyclingMaxPooling(per_sample=True)
        pool = xla_compiled(lambda x, rank: (layer(x, rank=rank), compiling_with_xla(x)))
        if pool is None:
            self.skipTest("XLA compiles tensorflow and jax functions only")
        rng = np.random.default_rng(5)
        ties = rng.integers(-3, 4, size=(3, 30, 5)).astype("float32")
        extremes = rng.choice(
            np.array([-3e38, -1.0, -0.0, 0.0, 1e-38, 3e38], "float32"), size=(3, 30, 5)
        )
        rank = np.array([1, 14, 29], dtype="int32")
        for x in (ties, extremes, self.x[:, :30]):
            (maximum, recycled), used_xla = pool(x, rank)
            self.assertTrue(used_xla)
            expected_max, expected_recycled = numpy_recycling(x, rank)
            self.assertAllClose(maximum, expected_max, atol=0)
            self.assertAllClose(recycled, expected_recycled, atol=0)

    def test_pooling_stage_equals_numpy_sort(self):
        # The pooling stage's path: the recycled row of LeakyReLU(BatchNorm(
        # x W + b)), selected from the products without computing the
        # features; eagerly and under XLA (sample by sample, channels first).
        rng = np.random.default_rng(6)
        x = rng.normal(size=(3, 30, 4)).astype("float32")
        x[:, 20:] = x[:, :1]  # duplicated points: tied features
        stage = PoolingStage(8, negative_slope=0.2)
        stage.build(x.shape)
        dense, bn, activation = stage.dense, stage.batch_norm, stage.activation
        dense.set_weights([rng.normal(size=(4, 8)), rng.normal(size=8)])
        gamma = rng.uniform(0.5, 2, 8) * np.where(np.arange(8) % 2, 1, -1)
        bn.set_weights(
            [gamma, rng.normal(size=8), rng.normal(size=8), rng.uniform(0.5, 2, 8)]
        )
        features = keras.ops.convert_to_numpy(activation(bn(dense(x))))
        rank = np.array([1, 14, 29], dtype="int32")

        def pool(x, rank):
            return stage(x, training=False, rank=rank)

        expected = numpy_recycling(features, rank)
        self.assertAllClose(pool(x, rank), expected, atol=1e-5)
        compiled = xla_compiled(lambda x, rank: (pool(x, rank), compiling_with_xla(x)))
        if compiled is not None:
            pooled, used_xla = compiled(x, rank)
            self.assertTrue(used_xla)
            self.assertAllClose(pooled, expected, atol=1e-5)

    def test_exact_order_statistic_of_bfloat16_features(self):
        # bfloat16 features (8 bits of mantissa: many ties) select their
        # exact order statistic, eagerly and under XLA.
        rng = np.random.default_rng(8)
        x = keras.ops.cast(rng.normal(size=(3, 64, 16)), "bfloat16")
        values = keras.ops.convert_to_numpy(keras.ops.cast(x, "float32"))
        self.assertLess(len(np.unique(values)), values.size // 2)
        rank = np.array([1, 20, 63], dtype="int32")
        layer = RecyclingMaxPooling(per_sample=True, dtype="mixed_bfloat16")
        expected_max, expected_recycled = numpy_recycling(values, rank)
        compiled = xla_compiled(lambda x, rank: layer(x, rank=rank))
        for pool in filter(None, (lambda x, rank: layer(x, rank=rank), compiled)):
            maximum, recycled = pool(x, rank)
            self.assertEqual(keras.backend.standardize_dtype(recycled.dtype), "bfloat16")
            for got, expected in ((maximum, expected_max), (recycled, expected_recycled)):
                got = keras.ops.convert_to_numpy(keras.ops.cast(got, "float32"))
                self.assertAllClose(got, expected, atol=0)

    def test_pooling_stage_in_bfloat16_recycles_a_feature_order_statistic(self):
        # The memory-saving stage under mixed_bfloat16: each channel's
        # recycled value is its feature at a point of rank `r` (up to
        # bfloat16 rounding of the value), not a value in between.
        rng = np.random.default_rng(9)
        x = rng.normal(size=(2, 40, 4)).astype("float32")
        stage = PoolingStage(8, negative_slope=0.2, dtype="mixed_bfloat16")
        stage.build(x.shape)
        stage.dense.set_weights([rng.normal(size=(4, 8)), rng.normal(size=8)])
        features = keras.ops.convert_to_numpy(
            keras.ops.cast(
                stage.activation(stage.batch_norm(stage.dense(x))), "float32"
            )
        )
        rank = np.array([3, 17], dtype="int32")
        maximum, recycled = stage(x, training=False, rank=rank)
        self.assertEqual(keras.backend.standardize_dtype(recycled.dtype), "bfloat16")
        recycled = keras.ops.convert_to_numpy(keras.ops.cast(recycled, "float32"))
        _, expected = numpy_recycling(features, rank)
        self.assertAllClose(recycled, expected, atol=0.02, rtol=0.02)

    def test_pooling_stage_with_a_batch_of_two(self):
        # Two clouds, two picks (the maximum and the recycled row): the
        # shape in which Keras's tensorflow `ops.add` put per-sample
        # offsets on the picks' axis.
        rng = np.random.default_rng(10)
        x = rng.normal(size=(2, 40, 4)).astype("float32")
        stage = PoolingStage(8, negative_slope=0.2)
        stage.build(x.shape)
        features = keras.ops.convert_to_numpy(stage.point_features(x))
        rank = np.array([3, 17], dtype="int32")
        self.assertAllClose(
            stage(x, training=False, rank=rank), numpy_recycling(features, rank), atol=1e-5
        )

    def test_drawn_rank_is_in_range_and_seeded(self):
        layer = RecyclingMaxPooling(seed=3)
        ordered = -np.sort(-self.x, axis=1)
        ranks = []
        for _ in range(20):
            _, recycled = layer(self.x)
            recycled = keras.ops.convert_to_numpy(recycled)
            # The rank is shared by the batch and all channels: find it.
            matches = [
                r for r in range(40) if np.allclose(ordered[:, r], recycled)
            ]
            self.assertEqual(len(matches), 1)
            ranks.append(matches[0])
        self.assertGreaterEqual(min(ranks), 1)
        self.assertLessEqual(max(ranks), 39)
        self.assertGreater(len(set(ranks)), 5)
        again = RecyclingMaxPooling(seed=3)
        self.assertAllClose(again(self.x)[1], RecyclingMaxPooling(seed=3)(self.x)[1])

    def test_utilization_equals_numpy_count(self):
        layer = RecyclingMaxPooling(return_utilization=True)
        for rank in (1, 13):
            maximum, recycled, utilization = layer(self.x, rank=np.int32(rank))
            self.assertEqual(keras.backend.standardize_dtype(utilization.dtype), "int32")
            np.testing.assert_array_equal(
                keras.ops.convert_to_numpy(utilization),
                numpy_utilization(self.x, rank),
            )
            self.assertAllClose(recycled, numpy_recycling(self.x, rank)[1])

    def test_stop_gradient(self):
        """One SGD step on `sum(max + recycled)`: with the stop-gradient it
        moves the weights exactly as `sum(max)` alone does; without, not."""

        def one_step(stop_gradient, use_recycled=True):
            keras.utils.set_random_seed(0)
            inputs = keras.Input((None, 4))
            features = keras.layers.Dense(6)(inputs)
            maximum, recycled = RecyclingMaxPooling(stop_gradient=stop_gradient, seed=0)(
                features
            )
            outputs = maximum + recycled if use_recycled else maximum
            model = keras.Model(inputs, outputs)
            model.compile(
                optimizer=keras.optimizers.SGD(0.1),
                loss=lambda y_true, y_pred: keras.ops.sum(y_pred, axis=-1),
            )
            model.train_on_batch(self.x[:, :, :4], np.zeros((3, 6), "float32"))
            return model.get_weights()

        max_only = one_step(False, use_recycled=False)
        self.assertAllClose(one_step(True), max_only, atol=1e-6)
        self.assertFalse(np.allclose(one_step(False)[0], max_only[0]))

    def test_rejects_bad_shapes(self):
        with self.assertRaisesRegex(ValueError, "num_points, channels"):
            RecyclingMaxPooling()(np.zeros((4, 8), "float32"))
        with self.assertRaisesRegex(ValueError, "at least 2 points"):
            RecyclingMaxPooling()(np.zeros((4, 1, 8), "float32"))

    def test_drawn_rank_is_never_the_max_row(self):
        # With 2 points the only valid rank is 1 (the minimum), with 3 points
        # 1 or 2: a drawn rank of 0 (the max row) fails. Drawn from [0, n - 1]
        # instead, rank 0 would come in half (a third) of the draws: 16 shared
        # draws and 1,024 per-sample ones miss it with probability < 2e-5.
        rng = np.random.default_rng(7)
        calls = [(2, False, 0)] * 16 + [(n, True, s) for n in (2, 3) for s in (0, 1)]
        layers = {}
        for num_points, per_sample, seed in calls:
            x = rng.normal(size=(256 if per_sample else 4, num_points, 8))
            x = x.astype("float32")
            key = (per_sample, seed)
            layer = layers.setdefault(key, RecyclingMaxPooling(per_sample, seed=seed))
            _, recycled = layer(x)
            recycled = keras.ops.convert_to_numpy(recycled)
            # Distinct values: each sample's recycled row is one whole rank.
            ordered = -np.sort(-x, axis=1)
            is_rank = [np.all(recycled == ordered[:, r], axis=-1) for r in range(num_points)]
            self.assertFalse(is_rank[0].any())
            self.assertTrue(np.logical_or.reduce(is_rank[1:]).all())
